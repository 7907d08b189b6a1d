/*
 * table.c - the live blocks: address -> size, stack, allocating function.
 * 128 lock stripes, each an open-addressing hash (linear probing, backward
 * shift on delete) that doubles past half full and starts small, so its
 * size follows the live blocks. Probes read a key array (address | function,
 * 8 bytes a slot) and touch the block records only on a hit that needs
 * them: free() reads one key line, a quarter of what whole records would
 * take. The arrays come from the arena, so the table never calls malloc.
 */
#include "lib.h"
#include <sched.h>
#include <string.h>
#include <sys/single_threaded.h>

#define NSTRIPES 128
#define STRIPE_SLOTS0 32

/* malloc results are 16-byte aligned: the low bits carry the function */
#define KEY_FN_MASK 15u
_Static_assert(FN_NEW_ARRAY_ALIGNED <= KEY_FN_MASK, "function fits a key");

struct stripe {
	atomic_flag lock;
	uint32_t mask;
	size_t count;
	uintptr_t *keys;	/* addr | fn; 0 = empty */
	struct mwl_blk *slots;
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

static inline uintptr_t key_addr(uintptr_t key)
{
	return key & ~(uintptr_t)KEY_FN_MASK;
}

static int stripe_alloc(struct stripe *s, uint32_t n)
{
	uintptr_t *keys = mwl_arena_alloc(sizeof(*keys) * n);
	struct mwl_blk *slots = mwl_arena_alloc(sizeof(*slots) * n);
	if (!keys || !slots)
		return -1;
	s->keys = keys;
	s->slots = slots;
	s->mask = n - 1;
	return 0;
}

void mwl_table_init(void)
{
	for (int i = 0; i < NSTRIPES; i++)
		stripe_alloc(&stripes[i], STRIPE_SLOTS0);
}

static void put(struct stripe *s, const struct mwl_blk *b)
{
	uint32_t i = (uint32_t)ptr_hash(b->addr) & s->mask;
	while (s->keys[i])
		i = (i + 1) & s->mask;
	s->keys[i] = b->addr | b->fn;
	s->slots[i] = *b;
}

static int stripe_grow(struct stripe *s)
{
	struct stripe old = *s;
	if (stripe_alloc(s, (old.mask + 1) * 2) < 0)
		return -1;
	for (uint32_t i = 0; i <= old.mask; i++)
		if (old.keys[i])
			put(s, &old.slots[i]);
	/* the old arrays stay in the arena: bounded by the new ones' size */
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
	if (addr & KEY_FN_MASK)
		return -1;	/* not from malloc */
	stripe_lock(s);
	if (2 * (s->count + 1) > (size_t)s->mask + 1 && stripe_grow(s) < 0 &&
	    s->count + 1 > s->mask) {
		stripe_unlock(s);
		return -1;	/* arena exhausted and stripe full: untracked */
	}
	put(s, &b);
	s->count++;
	stripe_unlock(s);
	return 0;
}

/*
 * Removes addr. Returns 0 if it is not a live block, 1 if it is, 2 if it
 * is and free_fn is of another family (or -1): only then is *out filled.
 */
int mwl_table_remove(uintptr_t addr, int free_fn, struct mwl_blk *out)
{
	uint64_t h = ptr_hash(addr);
	struct stripe *s = stripe_of(h);
	stripe_lock(s);
	uint32_t mask = s->mask, i = (uint32_t)h & mask;
	uintptr_t *k = s->keys;
	for (; k[i]; i = (i + 1) & mask) {
		if (key_addr(k[i]) != addr)
			continue;
		int ret = 1;
		if (free_fn < 0 ||
		    mwl_family_of((int)(k[i] & KEY_FN_MASK)) != mwl_family_of(free_fn)) {
			*out = s->slots[i];
			ret = 2;
		}
		/* backward shift: pull later members of the run into the hole */
		uint32_t hole = i, j = i;
		for (;;) {
			j = (j + 1) & mask;
			if (!k[j])
				break;
			uint32_t home = (uint32_t)ptr_hash(key_addr(k[j])) & mask;
			if (((j - home) & mask) >= ((j - hole) & mask)) {
				k[hole] = k[j];
				s->slots[hole] = s->slots[j];
				hole = j;
			}
		}
		k[hole] = 0;
		s->count--;
		stripe_unlock(s);
		return ret;
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
			if (s->keys[j])
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
