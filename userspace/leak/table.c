/*
 * table.c - the live blocks. A tracked block carries a 16-byte header just
 * before the address the program sees (size, allocating function, stack
 * id, age), and a bitmap with one bit per 16 bytes of address space marks
 * where tracked blocks start. free() then touches the header, which shares
 * a cache line with the allocator's own chunk header, and one bit in a
 * bitmap 1/128 the size of the heap: a hash table keyed by address cost a
 * cache miss of its own on every free() of a block not used for a while.
 *
 * The bitmap has two levels: a directory of 16 MiB chunks (reserved, so
 * untouched parts cost nothing) and a leaf per chunk that holds a block,
 * from the arena. 128 stripe locks, by 1 KiB of address (one bitmap word),
 * make every change to a word exclusive; they are skipped while the process
 * has one thread, as glibc's __libc_single_threaded tells. A bit then
 * changes with one read-modify-write instruction, which a signal handler
 * cannot split; a locked (atomic) one would cost more than the rest of the
 * hook.
 *
 * Attached (memwatch-leak -p, mwl_side set before the first block), blocks
 * have no room in front: the program gets the real allocator's own block,
 * and the header sits in a side table, one slot per 16 bytes of address
 * next to the bitmap leaf (16 MiB reserved per chunk, touched only where
 * blocks start). A program may hold the real free() from before the
 * attach (a function pointer, a library's saved copy): a block of ours
 * given to it is a block glibc knows, never a pointer into one. What that
 * leaves behind is a stale bit; the report checks it (mwl_block_gone).
 */
#include "lib.h"
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>

#define NSTRIPES 128
#define CHUNK_SHIFT 24
#define CHUNK_GRANULES (1u << (CHUNK_SHIFT - 4))
#define CHUNK_WORDS (CHUNK_GRANULES / 64)
#define ADDR_BITS 47
#define DIR_ENTRIES (1ul << (ADDR_BITS - CHUNK_SHIFT))
#define CHUNKS_MAX 65536
#define SIZE_BITS 48

struct hdr {
	uint64_t word;	/* size | fn << 48 | log2(offset from the real block) << 56 */
	uint32_t stack;
	uint32_t birth;
};
_Static_assert(sizeof(struct hdr) == MWL_HDR, "header size");

struct stripe {
	atomic_flag lock;
} __attribute__((aligned(64)));

int mwl_side;
static struct stripe stripes[NSTRIPES];
static _Atomic(_Atomic uint64_t *) *dir;
static uint32_t *chunk_ids;
static _Atomic uint32_t nchunks;
static atomic_flag dir_lock = ATOMIC_FLAG_INIT;

static inline struct stripe *stripe_of(uintptr_t p)
{
	uint64_t h = (uint64_t)(p >> 10) * 0x9E3779B97F4A7C15ull;
	return &stripes[h >> 57];
}

static inline void stripe_lock(struct stripe *s)
{
	if (__libc_single_threaded)
		return;
	int spins = 0;
	while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire))
		if (++spins > 64)
			sched_yield();
}

static inline int stripe_trylock(struct stripe *s)
{
	return __libc_single_threaded ||
	       !atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire);
}

static inline void stripe_unlock(struct stripe *s)
{
	atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

void mwl_table_init(void)
{
	dir = mwl_arena_alloc(sizeof(*dir) * DIR_ENTRIES);
	chunk_ids = mwl_arena_alloc(sizeof(*chunk_ids) * CHUNKS_MAX);
	if (!chunk_ids)
		dir = NULL;
}

static inline _Atomic uint64_t *leaf_of(uintptr_t p)
{
	if (!dir || p >> ADDR_BITS)
		return NULL;
	return atomic_load_explicit(&dir[p >> CHUNK_SHIFT], memory_order_acquire);
}

static _Atomic uint64_t *leaf_make(uintptr_t p)
{
	_Atomic uint64_t *leaf = leaf_of(p);
	if (leaf || !dir || p >> ADDR_BITS)
		return leaf;
	while (atomic_flag_test_and_set_explicit(&dir_lock, memory_order_acquire))
		sched_yield();
	leaf = atomic_load_explicit(&dir[p >> CHUNK_SHIFT], memory_order_relaxed);
	uint32_t n = atomic_load_explicit(&nchunks, memory_order_relaxed);
	if (!leaf && n < CHUNKS_MAX) {
		/* attached: one more word, the chunk's side table of headers */
		leaf = mwl_arena_alloc(sizeof(*leaf) * (CHUNK_WORDS + !!mwl_side));
		if (leaf && mwl_side) {
			void *side = mmap(NULL, sizeof(struct hdr) * CHUNK_GRANULES, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			if (side == MAP_FAILED)
				leaf = NULL;	/* the arena part is lost: CHUNKS_MAX bounds it */
			else
				atomic_store_explicit(&leaf[CHUNK_WORDS], (uintptr_t)side, memory_order_relaxed);
		}
		if (leaf) {
			chunk_ids[n] = (uint32_t)(p >> CHUNK_SHIFT);
			atomic_store_explicit(&dir[p >> CHUNK_SHIFT], leaf, memory_order_release);
			atomic_store_explicit(&nchunks, n + 1, memory_order_release);
		}
	}
	atomic_flag_clear_explicit(&dir_lock, memory_order_release);
	return leaf;
}

static inline uint64_t bit_of(uintptr_t p)
{
	return 1ull << ((p >> 4) & 63);
}

static inline _Atomic uint64_t *word_of(_Atomic uint64_t *leaf, uintptr_t p)
{
	return &leaf[((p >> 4) & (CHUNK_GRANULES - 1)) / 64];
}

/* the caller holds the word's stripe, or the process has one thread */
static inline void bit_set(_Atomic uint64_t *w, uint64_t bit)
{
#ifdef __x86_64__
	__asm__ volatile("orq %1, %0" : "+m"(*(uint64_t *)w) : "r"(bit) : "memory");
#else
	atomic_fetch_or_explicit(w, bit, memory_order_relaxed);
#endif
}

static inline void bit_clear(_Atomic uint64_t *w, uint64_t bit)
{
#ifdef __x86_64__
	__asm__ volatile("andq %1, %0" : "+m"(*(uint64_t *)w) : "r"(~bit) : "memory");
#else
	atomic_fetch_and_explicit(w, ~bit, memory_order_relaxed);
#endif
}

static inline int is_tracked(uintptr_t p)
{
	_Atomic uint64_t *leaf = (p & (MWL_HDR - 1)) ? NULL : leaf_of(p);
	return leaf && (atomic_load_explicit(word_of(leaf, p), memory_order_relaxed) & bit_of(p));
}

/* attached: p's slot in its chunk's side table (p's leaf exists) */
static struct hdr *side_hdr(uintptr_t p)
{
	_Atomic uint64_t *leaf = leaf_of(p);
	struct hdr *side = (struct hdr *)(uintptr_t)atomic_load_explicit(&leaf[CHUNK_WORDS],
									  memory_order_relaxed);
	return &side[(p >> 4) & (CHUNK_GRANULES - 1)];
}

static inline struct hdr *hdr_of(uintptr_t p)
{
	if (unlikely(mwl_side))
		return side_hdr(p);
	return (struct hdr *)(p - MWL_HDR);
}

/* the real block's offset: log2 in the top byte, 0 for none (attached) */
static inline size_t off_of(const struct hdr *h)
{
	unsigned l = (unsigned)(h->word >> 56);
	return l ? (size_t)1 << l : 0;
}

static void fill_blk(uintptr_t p, struct mwl_blk *b)
{
	const struct hdr *h = hdr_of(p);
	*b = (struct mwl_blk){
		.addr = p,
		.size = h->word & ((1ull << SIZE_BITS) - 1),
		.stack = h->stack,
		.fn = (uint8_t)(h->word >> SIZE_BITS),
		.birth = h->birth,
	};
}

void *mwl_table_add(void *raw, size_t off, size_t size, uint32_t stack, int fn)
{
	uintptr_t p = (uintptr_t)raw + off;
	_Atomic uint64_t *leaf = leaf_make(p);
	if (!leaf || size >> SIZE_BITS)
		return raw;	/* untracked: the program gets the real block */
	struct hdr *h = hdr_of(p);
	h->word = size | (uint64_t)fn << SIZE_BITS | (uint64_t)(off ? __builtin_ctzl(off) : 0) << 56;
	h->stack = stack;
	h->birth = atomic_load_explicit(&mwl_now, memory_order_relaxed);
	struct stripe *s = stripe_of(p);
	stripe_lock(s);
	bit_set(word_of(leaf, p), bit_of(p));
	stripe_unlock(s);
	return (void *)p;
}

size_t mwl_table_offset(const void *ptr, size_t *size)
{
	uintptr_t p = (uintptr_t)ptr;
	if (!is_tracked(p))
		return 0;
	if (size)
		*size = hdr_of(p)->word & ((1ull << SIZE_BITS) - 1);
	return off_of(hdr_of(p));
}

int mwl_table_has(const void *ptr)
{
	return is_tracked((uintptr_t)ptr);
}

void *mwl_table_take(void *ptr, struct mwl_blk *out, int quiet)
{
	uintptr_t p = (uintptr_t)ptr;
	out->addr = 0;
	_Atomic uint64_t *leaf = (p & (MWL_HDR - 1)) ? NULL : leaf_of(p);
	if (!leaf || !(atomic_load_explicit(word_of(leaf, p), memory_order_relaxed) & bit_of(p)))
		return ptr;
	struct stripe *s = stripe_of(p);
	/*
	 * quiet: called from inside a hook (a signal handler) or after the
	 * report. The stripe may be held by this very thread or by the report;
	 * then the block is left allocated rather than wait for ever.
	 */
	if (quiet ? !stripe_trylock(s) : (stripe_lock(s), 0))
		return NULL;
	_Atomic uint64_t *w = word_of(leaf, p);
	int was = !!(atomic_load_explicit(w, memory_order_relaxed) & bit_of(p));
	if (was)
		bit_clear(w, bit_of(p));
	stripe_unlock(s);
	if (!was)
		return NULL;	/* another thread freed it at the same time */
	fill_blk(p, out);
	return (void *)(p - off_of(hdr_of(p)));
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

static size_t count_bits(void)
{
	size_t n = 0;
	uint32_t nc = atomic_load_explicit(&nchunks, memory_order_acquire);
	for (uint32_t c = 0; c < nc; c++) {
		_Atomic uint64_t *leaf = atomic_load_explicit(&dir[chunk_ids[c]], memory_order_acquire);
		for (uint32_t w = 0; w < CHUNK_WORDS; w++)
			n += (size_t)__builtin_popcountll(atomic_load_explicit(&leaf[w], memory_order_relaxed));
	}
	return n;
}

size_t mwl_table_count(void)
{
	return dir ? count_bits() : 0;
}

/*
 * Copies the live blocks into scratch memory (under all the locks unless
 * the caller holds them) and calls fn on the copies, which stay valid
 * until the scratch region is reset.
 */
void mwl_table_walk(int locked, void (*fn)(struct mwl_blk *, void *), void *arg)
{
	if (!dir)
		return;
	if (!locked)
		mwl_table_lock_all();
	size_t cap = count_bits(), n = 0;
	struct mwl_blk *blks = mwl_scratch_alloc(sizeof(*blks) * (cap + 1));
	uint32_t nc = atomic_load_explicit(&nchunks, memory_order_acquire);
	for (uint32_t c = 0; blks && c < nc; c++) {
		uintptr_t base = (uintptr_t)chunk_ids[c] << CHUNK_SHIFT;
		_Atomic uint64_t *leaf = atomic_load_explicit(&dir[chunk_ids[c]], memory_order_acquire);
		for (uint32_t w = 0; w < CHUNK_WORDS; w++) {
			uint64_t bits = atomic_load_explicit(&leaf[w], memory_order_relaxed);
			while (bits && n < cap) {
				uint32_t b = (uint32_t)__builtin_ctzll(bits);
				bits &= bits - 1;
				fill_blk(base + (((uintptr_t)w * 64 + b) << 4), &blks[n++]);
			}
		}
	}
	if (!locked)
		mwl_table_unlock_all();
	for (size_t i = 0; i < n; i++)
		fn(&blks[i], arg);
}
