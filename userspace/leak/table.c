/*
 * table.c - the live blocks: address -> size, stack, allocating function.
 * 128 lock stripes, each an open-addressing hash (linear probing, backward
 * shift on delete) that doubles past half full. A lookup touches one run of
 * adjacent slots, so a free() costs about one cache miss; the arrays come
 * from the arena, so the table never calls malloc.
 */
#include "lib.h"
#include <sched.h>
#include <string.h>
#include <sys/single_threaded.h>

#define NSTRIPES 128
#define STRIPE_SLOTS0 256

struct stripe {
	atomic_flag lock;
	uint32_t mask;
	size_t count;
	struct mwl_blk *slots;	/* addr 0 = empty */
} __attribute__((aligned(64)));

static struct stripe stripes[NSTRIPES];

static inline uint64_t ptr_hash(uintptr_t p)
{
	uint64_t h = (uint64_t)(p >> 4) * 0x9E3779B97F4A7C15ull;
	return h ^ (h >> 32);
}

static inline struct stripe *stripe_of(uint64_t h)
{
	return &stripes[(h >> 57) & (NSTRIPES - 1)];
}

/*
 * glibc clears __libc_single_threaded before the second thread of the
 * process exists (its own helper threads included), so while it is set no
 * one else can be in the table and the locked xchg, a third of a hook's
 * cost, is skipped. Unlocking stays unconditional: a fork child may see the
 * flag set again with the stripes locked by the atfork handler.
 */
static inline void stripe_lock(struct stripe *s)
{
	if (__libc_single_threaded)
		return;
	int spins = 0;
	while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire))
		if (++spins > 64)
			sched_yield();
}

static inline void stripe_unlock(struct stripe *s)
{
	atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

void mwl_table_init(void)
{
	for (int i = 0; i < NSTRIPES; i++) {
		stripes[i].slots = mwl_arena_alloc(sizeof(struct mwl_blk) * STRIPE_SLOTS0);
		stripes[i].mask = STRIPE_SLOTS0 - 1;
	}
}

static void put(struct mwl_blk *slots, uint32_t mask, const struct mwl_blk *b)
{
	uint32_t i = (uint32_t)ptr_hash(b->addr) & mask;
	while (slots[i].addr)
		i = (i + 1) & mask;
	slots[i] = *b;
}

static int stripe_grow(struct stripe *s)
{
	uint32_t n = (s->mask + 1) * 2;
	struct mwl_blk *ns = mwl_arena_alloc(sizeof(*ns) * n);
	if (!ns)
		return -1;
	for (uint32_t i = 0; i <= s->mask; i++)
		if (s->slots[i].addr)
			put(ns, n - 1, &s->slots[i]);
	/* the old array stays in the arena: bounded by the new one's size */
	s->slots = ns;
	s->mask = n - 1;
	return 0;
}

int mwl_table_insert(uintptr_t addr, size_t size, uint32_t stack, int fn)
{
	uint64_t h = ptr_hash(addr);
	struct stripe *s = stripe_of(h);
	struct mwl_blk b = {
		.addr = addr, .size = size, .stack = stack, .fn = (uint8_t)fn,
		.birth = atomic_load_explicit(&mwl_now, memory_order_relaxed),
	};
	stripe_lock(s);
	if (2 * (s->count + 1) > (size_t)s->mask + 1 && stripe_grow(s) < 0 &&
	    s->count + 1 > s->mask) {
		stripe_unlock(s);
		return -1;	/* arena exhausted and stripe full: untracked */
	}
	put(s->slots, s->mask, &b);
	s->count++;
	stripe_unlock(s);
	return 0;
}

int mwl_table_remove(uintptr_t addr, struct mwl_blk *out)
{
	uint64_t h = ptr_hash(addr);
	struct stripe *s = stripe_of(h);
	stripe_lock(s);
	uint32_t mask = s->mask, i = (uint32_t)h & mask;
	struct mwl_blk *t = s->slots;
	for (; t[i].addr; i = (i + 1) & mask) {
		if (t[i].addr != addr)
			continue;
		*out = t[i];
		/* backward shift: pull later members of the run into the hole */
		uint32_t hole = i, j = i;
		for (;;) {
			j = (j + 1) & mask;
			if (!t[j].addr)
				break;
			uint32_t home = (uint32_t)ptr_hash(t[j].addr) & mask;
			if (((j - home) & mask) >= ((j - hole) & mask)) {
				t[hole] = t[j];
				hole = j;
			}
		}
		t[hole].addr = 0;
		s->count--;
		stripe_unlock(s);
		return 1;
	}
	stripe_unlock(s);
	return 0;
}

void mwl_table_lock_all(void)
{
	for (int i = 0; i < NSTRIPES; i++)
		stripe_lock(&stripes[i]);
}

void mwl_table_unlock_all(void)
{
	for (int i = NSTRIPES - 1; i >= 0; i--)
		stripe_unlock(&stripes[i]);
}

void mwl_table_walk(int locked, void (*fn)(struct mwl_blk *, void *), void *arg)
{
	for (int i = 0; i < NSTRIPES; i++) {
		struct stripe *s = &stripes[i];
		if (!locked)
			stripe_lock(s);
		for (uint32_t j = 0; j <= s->mask; j++)
			if (s->slots[j].addr)
				fn(&s->slots[j], arg);
		if (!locked)
			stripe_unlock(s);
	}
}

size_t mwl_table_count(void)
{
	size_t n = 0;
	for (int i = 0; i < NSTRIPES; i++)
		n += stripes[i].count;
	return n;
}
