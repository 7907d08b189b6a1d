/* table.c - the hash tables of live blocks and interned stacks (see table.h
 * for the locking). Records come from mmap'd slabs: calling malloc here would
 * recurse, and records holding user pointers must stay out of scanned memory. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unwind.h>
#include "table.h"

#define MW_STRIPES	64
#define MW_BUCKETS	16384		/* per stripe; power of two */
#define MW_SLAB		(1 << 20)

struct mw_stripe {
	pthread_mutex_t lock;
	void **buckets;			/* mw_block * or mw_stack * chains */
	char *slab, *slab_end;
	void *free_list;		/* freed mw_blocks only */
} __attribute__((aligned(64)));

static struct mw_stripe mw_blocks[MW_STRIPES], mw_stacks[MW_STRIPES];
/* text ranges: ours (skipped in stacks), ld.so's (see mw_stack_is_rtld) */
struct mw_range {
	uintptr_t addr, lo, hi;
};
static struct mw_range mw_self, mw_rtld;

/*
 * Unwinding is most of the cost of an allocation (libgcc's DWARF unwinder,
 * ~150-200 ns a frame), and consecutive allocations of a thread mostly share
 * their outer frames. So each thread keeps its last stack with each frame's
 * CFA, and the walk stops at the first frame whose (ip, cfa) is in that
 * cache, if every outer frame's return address is still in its stack slot
 * (on x86-64 the return address into frame k+1 sits at CFA(k) - 8); the
 * outer frames are then copied. mw_config.exact turns this off.
 */
#define MW_RAW (MW_MAX_FRAMES + 6)

struct mw_walk {
	int n;
	uintptr_t ip[MW_RAW], cfa[MW_RAW];
};
int mw_unwind_exact;
static __thread struct mw_walk mw_last __attribute__((tls_model("initial-exec")));

static int mw_cache_valid(int k)
{
#if defined(__x86_64__)
	for (int j = k; j + 1 < mw_last.n; j++)
		if (*(const uintptr_t *)(mw_last.cfa[j] - 8) != mw_last.ip[j + 1])
			return 0;
	return 1;
#else
	(void)k;
	return 0;
#endif
}

static _Unwind_Reason_Code mw_walk_cb(struct _Unwind_Context *ctx, void *arg)
{
	struct mw_walk *w = arg;
	uintptr_t ip = _Unwind_GetIP(ctx), cfa = _Unwind_GetCFA(ctx);

	if (!ip)
		return _URC_END_OF_STACK;
	for (int k = 0; !mw_unwind_exact && k < mw_last.n && mw_last.cfa[k] <= cfa; k++) {
		if (mw_last.cfa[k] != cfa || mw_last.ip[k] != ip)
			continue;
		if (!mw_cache_valid(k))
			break;
		for (; k < mw_last.n && w->n < MW_RAW; k++, w->n++) {
			w->ip[w->n] = mw_last.ip[k];
			w->cfa[w->n] = mw_last.cfa[k];
		}
		return _URC_END_OF_STACK;
	}
	w->ip[w->n] = ip;
	w->cfa[w->n] = cfa;
	return ++w->n < MW_RAW ? _URC_NO_REASON : _URC_END_OF_STACK;
}


void *mw_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void mw_unmap(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

static int mw_find_text(struct dl_phdr_info *info, size_t size, void *data)
{
	struct mw_range *r = data;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (r->addr >= lo && r->addr < lo + ph->p_memsz) {
			r->lo = lo;
			r->hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

static void mw_stripes_init(struct mw_stripe *s)
{
	for (int i = 0; i < MW_STRIPES; i++) {
		pthread_mutex_init(&s[i].lock, NULL);
		s[i].buckets = mw_map(MW_BUCKETS * sizeof(void *));
	}
}

void mw_table_init(void)
{
	struct mw_walk w = { 0 };

	mw_stripes_init(mw_blocks);
	mw_stripes_init(mw_stacks);
	mw_self.addr = (uintptr_t)mw_table_init;
	dl_iterate_phdr(mw_find_text, &mw_self);
	mw_rtld.addr = (uintptr_t)dlsym(RTLD_DEFAULT, "_dl_allocate_tls");
	if (mw_rtld.addr)
		dl_iterate_phdr(mw_find_text, &mw_rtld);
	/* the unwinder's first call sets up its caches (and may allocate):
	 * do it now, under the caller's guard, not in the first tracked malloc */
	_Unwind_Backtrace(mw_walk_cb, &w);
}

static void *mw_slab_get(struct mw_stripe *s, size_t size)
{
	void *p;

	if (s->slab + size > s->slab_end) {
		s->slab = mw_map(MW_SLAB);
		if (!s->slab) {
			s->slab_end = NULL;
			return NULL;
		}
		s->slab_end = s->slab + MW_SLAB;
	}
	p = s->slab;
	s->slab += size;
	return p;
}

static inline uint64_t mw_hash_ptr(uintptr_t p)
{
	return (uint64_t)(p >> 4) * 0x9e3779b97f4a7c15ull;
}

static inline struct mw_stripe *mw_stripe_of(struct mw_stripe *t, uint64_t h, size_t *bucket)
{
	*bucket = (h >> 40) & (MW_BUCKETS - 1);
	return &t[(h >> 58) & (MW_STRIPES - 1)];
}

struct mw_stack *mw_stack_capture(void)
{
	struct mw_walk w;
	void **raw = (void **)w.ip;
	int n, first = 0;
	uint64_t h = 1469598103934665603ull;
	struct mw_stripe *s;
	struct mw_stack *st;
	size_t b;

	w.n = 0;
	_Unwind_Backtrace(mw_walk_cb, &w);
	mw_last = w;
	n = w.n;
	/* drop our own frames (capture, the wrapper) whatever got inlined */
	while (first < n && (uintptr_t)raw[first] >= mw_self.lo && (uintptr_t)raw[first] < mw_self.hi)
		first++;
	n -= first;
	if (n > MW_MAX_FRAMES)
		n = MW_MAX_FRAMES;
	for (int i = 0; i < n; i++)
		h = (h ^ (uintptr_t)raw[first + i]) * 1099511628211ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	s = mw_stripe_of(mw_stacks, h, &b);
	pthread_mutex_lock(&s->lock);
	if (!s->buckets)
		goto out_null;
	for (st = s->buckets[b]; st; st = st->next)
		if (st->hash == h && st->depth == n &&
		    !memcmp(st->frames, raw + first, n * sizeof(void *)))
			goto out;
	st = mw_slab_get(s, sizeof(*st));
	if (!st)
		goto out;
	st->hash = h;
	st->depth = n;
	memcpy(st->frames, raw + first, n * sizeof(void *));
	st->next = s->buckets[b];
	s->buckets[b] = st;
out:
	pthread_mutex_unlock(&s->lock);
	return st;
out_null:
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

void mw_table_insert(void *ptr, size_t size, unsigned kind, struct mw_stack *st)
{
	size_t b;
	struct mw_stripe *s = mw_stripe_of(mw_blocks, mw_hash_ptr((uintptr_t)ptr), &b);
	struct mw_block *blk;

	pthread_mutex_lock(&s->lock);
	blk = s->free_list;
	if (blk)
		s->free_list = blk->next;
	else
		blk = mw_slab_get(s, sizeof(*blk));
	if (blk && s->buckets) {
		blk->ptr = (uintptr_t)ptr;
		blk->size = size;
		blk->kind = kind;
		blk->stack = st;
		blk->next = s->buckets[b];
		s->buckets[b] = blk;
	}
	pthread_mutex_unlock(&s->lock);
}

int mw_table_remove(void *ptr, struct mw_block *out)
{
	size_t b;
	struct mw_stripe *s = mw_stripe_of(mw_blocks, mw_hash_ptr((uintptr_t)ptr), &b);
	struct mw_block **pp, *blk;
	int found = 0;

	pthread_mutex_lock(&s->lock);
	if (!s->buckets)
		goto out;
	for (pp = (struct mw_block **)&s->buckets[b]; (blk = *pp); pp = &blk->next) {
		if (blk->ptr != (uintptr_t)ptr)
			continue;
		*pp = blk->next;
		*out = *blk;
		blk->next = s->free_list;
		s->free_list = blk;
		found = 1;
		break;
	}
out:
	pthread_mutex_unlock(&s->lock);
	return found;
}

static void mw_lock_all(struct mw_stripe *t)
{
	for (int i = 0; i < MW_STRIPES; i++)
		pthread_mutex_lock(&t[i].lock);
}

static void mw_unlock_all(struct mw_stripe *t)
{
	for (int i = 0; i < MW_STRIPES; i++)
		pthread_mutex_unlock(&t[i].lock);
}

void mw_table_freeze(void)
{
	mw_lock_all(mw_blocks);
}

void mw_table_thaw(void)
{
	mw_unlock_all(mw_blocks);
}

/* fork: no stripe may stay locked in the child by a thread it lacks */
void mw_table_fork_prepare(void)
{
	mw_lock_all(mw_stacks);
	mw_lock_all(mw_blocks);
}

void mw_table_fork_done(void)
{
	mw_unlock_all(mw_blocks);
	mw_unlock_all(mw_stacks);
}

size_t mw_table_snapshot(struct mw_block **out)
{
	size_t n = 0, count = 0;
	struct mw_block *arr;

	for (int i = 0; i < MW_STRIPES; i++)
		for (size_t b = 0; mw_blocks[i].buckets && b < MW_BUCKETS; b++)
			for (struct mw_block *blk = mw_blocks[i].buckets[b]; blk; blk = blk->next)
				count++;
	arr = mw_map((count + 1) * sizeof(*arr));
	*out = arr;
	if (!arr)
		return 0;
	for (int i = 0; i < MW_STRIPES; i++)
		for (size_t b = 0; mw_blocks[i].buckets && b < MW_BUCKETS; b++)
			for (struct mw_block *blk = mw_blocks[i].buckets[b]; blk; blk = blk->next)
				arr[n++] = *blk;
	return n;
}

int mw_stack_is_rtld(const struct mw_stack *st)
{
	return st && st->depth && (uintptr_t)st->frames[0] >= mw_rtld.lo &&
	       (uintptr_t)st->frames[0] < mw_rtld.hi;
}
