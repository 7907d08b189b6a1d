/*
 * scan.c - leak classification at exit, after valgrind memcheck:
 *
 *  1. roots: writable data of every loaded object, the stacks of running
 *     threads (the exiting thread's from its stack pointer up), and other
 *     anonymous read-write mappings that hold no heap block; never glibc's
 *     heaps, finished threads' cached stacks, or our own tables;
 *  2. mark: a start pointer from a root or a reachable block makes a block
 *     reachable; an interior pointer (or any pointer from a possibly lost
 *     block) makes it possibly lost;
 *  3. cliques: each still unreached block, in address order, is a leader
 *     (definitely lost); the unreached blocks it points to, directly or
 *     not, become indirectly lost, including earlier leaders. A leader
 *     counts the bytes it loses indirectly (an earlier leader's with it),
 *     as valgrind's "(48 direct, 96 indirect)".
 * Everything here runs with all table stripes locked and mwl_busy set; it
 * allocates only from the scratch region.
 */
#include "lib.h"
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { S_UNREACHED, S_POSSIBLE, S_REACHABLE, S_INDIRECT, S_LEADER };

struct ent {
	uintptr_t addr, end;
	struct mwl_blk *b;
};

struct scan {
	struct ent *e;
	size_t n;
	uintptr_t min, max;
	uint8_t *state;
	uint64_t *indirect;	/* a leader's bytes lost through it */
	uint32_t *stack;
	size_t sp;
	int clique;	/* -1 while marking from roots */
	int lenient;	/* interior pointers count as start pointers */
	uintptr_t self_lo[4], self_hi[4];	/* our writable segments */
	int n_self;
	uintptr_t sp_from;
};

static void collect(struct mwl_blk *b, void *arg)
{
	struct scan *s = arg;
	struct ent *e = &s->e[s->n++];
	e->addr = b->addr;
	e->end = b->addr + b->size;
	e->b = b;
}

/* LSD radix sort on 16-bit digits of the address (48-bit user space). */
static void sort_ents(struct ent *e, size_t n)
{
	struct ent *tmp = mwl_scratch_alloc(sizeof(*tmp) * n);
	size_t *count = mwl_scratch_alloc(sizeof(size_t) * 65536);
	if (!tmp || !count)
		return;
	for (int shift = 0; shift < 64; shift += 16) {
		memset(count, 0, sizeof(size_t) * 65536);
		for (size_t i = 0; i < n; i++)
			count[(e[i].addr >> shift) & 0xffff]++;
		size_t sum = 0;
		for (size_t d = 0; d < 65536; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[(e[i].addr >> shift) & 0xffff]++] = e[i];
		memcpy(e, tmp, sizeof(*e) * n);
	}
}

/*
 * glibc keeps pointers to chunk headers (arena top, bins). The header of
 * the chunk after a block starts 8 bytes before the block's usable end, so
 * it can fall inside the requested size: that is not a pointer to the block
 * (valgrind's allocator keeps its metadata out of sight; glibc's does not).
 */
static int is_next_chunk(uintptr_t addr, uintptr_t v)
{
	/* glibc's chunk holds our header too: it starts before it */
	uintptr_t raw = addr - mwl_table_offset((const void *)addr, NULL);
	size_t head = *(const size_t *)(raw - sizeof(size_t));
	if (head & 2)	/* IS_MMAPPED: no chunk follows */
		return 0;
	size_t chunk = head & ~(size_t)7;
	return v == raw - 2 * sizeof(size_t) + chunk;
}

/* index of the block containing v, or -1; *start says v is its start */
static long find(const struct scan *s, uintptr_t v, int *start)
{
	if (v < s->min || v >= s->max)
		return -1;
	size_t lo = 0, hi = s->n;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (s->e[mid].addr <= v)
			lo = mid;
		else
			hi = mid;
	}
	const struct ent *e = &s->e[lo];
	if (v == e->addr) {
		*start = 1;
		return (long)lo;
	}
	*start = 0;
	if (v <= e->addr || v >= e->end || is_next_chunk(e->addr, v))
		return -1;
	return (long)lo;
}

static void push(struct scan *s, size_t i)
{
	s->stack[s->sp++] = (uint32_t)i;	/* each block is pushed at most 3 times */
}

static void scan_words(struct scan *s, uintptr_t lo, uintptr_t hi, int definite)
{
	lo = (lo + 7) & ~(uintptr_t)7;
	for (uintptr_t p = lo; p + 8 <= hi; p += 8) {
		uintptr_t v = *(const uintptr_t *)p;
		int start;
		long j = find(s, v, &start);
		if (j < 0)
			continue;
		if (s->clique < 0) {
			int nst = (start || s->lenient) && definite ? S_REACHABLE : S_POSSIBLE;

			if (nst > s->state[j]) {
				s->state[j] = (uint8_t)nst;
				push(s, (size_t)j);
			}
		} else if (j != s->clique &&
			   (s->state[j] == S_UNREACHED || s->state[j] == S_LEADER)) {
			int was_leader = s->state[j] == S_LEADER;
			s->state[j] = S_INDIRECT;
			s->indirect[s->clique] += s->e[j].end - s->e[j].addr + s->indirect[j];
			s->indirect[j] = 0;
			if (!was_leader)	/* a leader's own cliques are marked already */
				push(s, (size_t)j);
		}
	}
}

/*
 * Large ranges: read only the pages that were ever touched. A page neither
 * present nor swapped (per /proc/self/pagemap) reads as zeros, and reading
 * it would fault in the zero page: a sort(1) buffer of 100 MB costs ~25,000
 * faults that way. Swapped pages are scanned (they may hold pointers).
 */
#define PAGEMAP_MIN (64u << 10)
#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)

static int pagemap_fd = -2;

static void scan_range(struct scan *s, uintptr_t lo, uintptr_t hi, int definite)
{
	if (hi - lo < PAGEMAP_MIN || pagemap_fd == -1) {
		scan_words(s, lo, hi, definite);
		return;
	}
	if (pagemap_fd == -2)
		pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0) {
		scan_words(s, lo, hi, definite);
		return;
	}
	static uint64_t pm[512];
	const uintptr_t page = 4096;
	for (uintptr_t pg = lo & ~(page - 1); pg < hi;) {
		size_t n = (size_t)((hi - pg + page - 1) / page);
		if (n > 512)
			n = 512;
		ssize_t r = pread(pagemap_fd, pm, n * 8, (off_t)(pg / page * 8));
		if (r < (ssize_t)(n * 8)) {	/* cannot tell: scan it all */
			scan_words(s, pg < lo ? lo : pg, hi, definite);
			return;
		}
		for (size_t k = 0; k < n; k++, pg += page) {
			if (!(pm[k] & (PM_PRESENT | PM_SWAPPED)))
				continue;
			uintptr_t a = pg < lo ? lo : pg, b = pg + page > hi ? hi : pg + page;
			scan_words(s, a, b, definite);
		}
	}
}

static void drain(struct scan *s)
{
	while (s->sp) {
		size_t i = s->stack[--s->sp];
		int definite = s->clique >= 0 || s->state[i] == S_REACHABLE;
		scan_range(s, s->e[i].addr, s->e[i].end, definite);
	}
}

/* Scan [lo, hi) as a root, minus our own writable segments. */
static void scan_root(struct scan *s, uintptr_t lo, uintptr_t hi)
{
	if (mwl_is_internal(lo, hi))
		return;
	for (int k = 0; k < s->n_self; k++) {
		if (lo < s->self_hi[k] && hi > s->self_lo[k]) {
			if (lo < s->self_lo[k])
				scan_root(s, lo, s->self_lo[k]);
			if (hi > s->self_hi[k])
				scan_root(s, s->self_hi[k], hi);
			return;
		}
	}
	scan_range(s, lo, hi, 1);
	drain(s);
}

static int self_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct scan *s = arg;
	int ours = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    a <= mwl_self_text_lo && mwl_self_text_lo < a + ph->p_memsz)
			ours = 1;
	}
	if (!ours)
		return 0;
	for (int i = 0; i < info->dlpi_phnum && s->n_self < 4; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
			uintptr_t a = info->dlpi_addr + ph->p_vaddr;
			s->self_lo[s->n_self] = a & ~(uintptr_t)4095;
			s->self_hi[s->n_self++] = (a + ph->p_memsz + 4095) & ~(uintptr_t)4095;
		}
	}
	return 1;
}

#define MAX_TCB 64
/* x86-64: a function may keep data up to 128 bytes below its stack pointer */
#define RED_ZONE 128

#define MAX_LIVE 64

struct stack_q {
	uintptr_t lo, hi;
	int live, dead, self;
	int n_live;	/* live threads' stacks here: range, where live frames start */
	uintptr_t live_lo[MAX_LIVE], live_hi[MAX_LIVE], live_from[MAX_LIVE];
	uint8_t live_self[MAX_LIVE];
	int n_tcb;	/* dead threads' descriptors in this mapping: still roots */
	uintptr_t tcb_lo[MAX_TCB], tcb_hi[MAX_TCB];
};

static void stack_overlap(uintptr_t lo, uintptr_t hi, int live, int self, uintptr_t tcb,
			  uintptr_t sp, void *arg)
{
	struct stack_q *q = arg;
	if (lo >= q->hi || hi <= q->lo)
		return;
	if (live) {
		q->live++;
		if (self)
			q->self = 1;
		if (q->n_live < MAX_LIVE) {
			int k = q->n_live++;
			q->live_lo[k] = lo;
			q->live_hi[k] = hi;
			q->live_self[k] = (uint8_t)self;
			/* parked: its live frames, and the red zone below them */
			q->live_from[k] = sp >= lo + RED_ZONE && sp < hi ? sp - RED_ZONE : lo;
		}
	} else {
		q->dead = 1;
		if (tcb >= lo && tcb < hi && q->n_tcb < MAX_TCB) {
			q->tcb_lo[q->n_tcb] = tcb;
			q->tcb_hi[q->n_tcb++] = hi;
		}
	}
}

static int has_block(const struct scan *s, uintptr_t lo, uintptr_t hi)
{
	if (!s->n || hi <= s->min || lo >= s->max)
		return 0;
	size_t a = 0, b = s->n;	/* first block with addr >= lo */
	while (a < b) {
		size_t m = (a + b) / 2;
		if (s->e[m].addr < lo)
			a = m + 1;
		else
			b = m;
	}
	return a < s->n && s->e[a].addr < hi;
}

static uintptr_t parse_hex(const char **pp)
{
	uintptr_t v = 0;
	const char *p = *pp;
	for (;; p++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0' :
			*p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
		if (d < 0)
			break;
		v = v * 16 + (uintptr_t)d;
	}
	*pp = p;
	return v;
}

/*
 * A mapping holding running threads' stacks: each from where its live
 * frames start (us: the exit's stack pointer; a parked thread: its own).
 * The kernel merges neighbouring anonymous mappings, so a glibc heap may
 * share the mapping: the rest is a root only if it holds no heap block.
 */
static void scan_live_stacks(struct scan *s, struct stack_q *q, uintptr_t lo, uintptr_t hi)
{
	for (int k = 0; k < q->n_live; k++) {
		uintptr_t a = q->live_lo[k] > lo ? q->live_lo[k] : lo;
		uintptr_t b = q->live_hi[k] < hi ? q->live_hi[k] : hi;
		uintptr_t from = q->live_self[k] && s->sp_from >= a && s->sp_from < b ? s->sp_from :
				 q->live_from[k];
		if (from > a && from < b)
			a = from;
		if (a < b)
			scan_root(s, a, b);
	}
	if (q->n_live == MAX_LIVE || has_block(s, lo, hi) ||
	    ((lo & ((64u << 20) - 1)) == 0 && hi - lo <= (64u << 20)))
		return;
	for (uintptr_t p = lo; p < hi;) {	/* the gaps between the stacks */
		uintptr_t next = hi, skip_to = p;
		for (int k = 0; k < q->n_live; k++) {
			if (q->live_lo[k] <= p && q->live_hi[k] > p && q->live_hi[k] > skip_to)
				skip_to = q->live_hi[k];
			else if (q->live_lo[k] > p && q->live_lo[k] < next)
				next = q->live_lo[k];
		}
		if (skip_to > p) {
			p = skip_to;
			continue;
		}
		scan_root(s, p, next);
		p = next;
	}
}

/* One line of /proc/self/maps: is it a root, and which part? */
static void map_line(struct scan *s, const char *line, const char *eol)
{
	const char *p = line;
	uintptr_t lo = parse_hex(&p);
	if (*p++ != '-')
		return;
	uintptr_t hi = parse_hex(&p);
	if (*p++ != ' ' || eol - p < 4)
		return;
	const char *perms = p;
	if (perms[0] != 'r' || perms[1] != 'w')
		return;
	for (int field = 0; field < 4 && p < eol; field++) {	/* perms offset dev inode */
		while (p < eol && *p != ' ')
			p++;
		while (p < eol && *p == ' ')
			p++;
	}
	const char *path = p;
	size_t plen = (size_t)(eol - p);
	if (plen) {
		if (*path == '[') {
			if (plen == 7 && !memcmp(path, "[stack]", 7)) {
				/* the main thread is never registered: if it is not
				 * us, its stack pointer is unknown: scan it all */
				uintptr_t msp = mwl_thread_main_sp();
				if (s->sp_from >= lo && s->sp_from < hi)
					scan_root(s, s->sp_from, hi);
				else if (msp >= lo + RED_ZONE && msp < hi)
					scan_root(s, msp - RED_ZONE, hi);	/* parked */
				else
					scan_root(s, lo, hi);
			} else if (!memcmp(path, "[anon", 5)) {
				goto anon;
			}
			return;	/* [heap], [vvar], [vdso], [vsyscall] */
		}
		if (perms[3] == 's' && !(plen >= 9 && !memcmp(path, "/dev/zero", 9)))
			return;	/* shared files: may SIGBUS past EOF; not roots */
		if (plen >= 5 && !memcmp(path, "/dev/", 5) && memcmp(path, "/dev/zero", 9))
			return;
		if (*path == '/') {
			scan_root(s, lo, hi);	/* data segment of a loaded object */
			return;
		}
	}
anon:;
	static struct stack_q q;
	memset(&q, 0, sizeof(q));
	q.lo = lo;
	q.hi = hi;
	mwl_threads_walk(stack_overlap, &q);
	if (q.live) {
		scan_live_stacks(s, &q, lo, hi);
		return;
	}
	if (has_block(s, lo, hi))
		return;	/* a malloc heap or a large block's own mapping */
	if ((lo & ((64u << 20) - 1)) == 0 && hi - lo <= (64u << 20))
		return;	/* glibc arena heap (HEAP_MAX_SIZE-aligned), maybe all free */
	if (!q.dead)
		scan_root(s, lo, hi);
	else if (q.n_tcb) {
		/* glibc stores dtv + 1 there; the dtv is glibc's, kept for reuse */
		s->lenient = 1;
		for (int k = 0; k < q.n_tcb; k++)
			scan_root(s, q.tcb_lo[k], q.tcb_hi[k] < hi ? q.tcb_hi[k] : hi);
		s->lenient = 0;
	}
}

static void scan_maps(struct scan *s, const char *maps, size_t len)
{
	const char *p = maps, *end = maps + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		map_line(s, p, eol);
		p = eol + 1;
	}
}

/* Reads /proc/self/maps into the scratch region; the dump reuses it. */
char *mwl_read_maps(size_t *len)
{
	size_t cap = 16u << 20;
	char *buf = mwl_scratch_alloc(cap);
	*len = 0;
	if (!buf)
		return NULL;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t r;
	while (*len < cap && (r = read(fd, buf + *len, cap - *len)) > 0)
		*len += (size_t)r;
	close(fd);
	return buf;
}

/* a parked thread's registers: roots (copied, our own data is not scanned) */
static void scan_regs(const uintptr_t *regs, int n, void *arg)
{
	struct scan *s = arg;
	static uintptr_t copy[MWL_PARK_REGS];
	if (n > MWL_PARK_REGS)
		n = MWL_PARK_REGS;
	memcpy(copy, regs, sizeof(*regs) * (size_t)n);
	scan_range(s, (uintptr_t)copy, (uintptr_t)(copy + n), 1);
	drain(s);
}

struct mwl_class_blk *mwl_scan(uintptr_t sp_from, const struct mwl_exit_regs *regs, size_t *n_out)
{
	static struct scan s;
	memset(&s, 0, sizeof(s));
	s.sp_from = sp_from;
	s.clique = -1;
	size_t cap = mwl_table_count();
	s.e = mwl_scratch_alloc(sizeof(*s.e) * (cap + 1));
	s.state = mwl_scratch_alloc(cap + 1);
	s.indirect = mwl_scratch_alloc(sizeof(*s.indirect) * (cap + 1));
	s.stack = mwl_scratch_alloc(sizeof(*s.stack) * (3 * cap + 1));
	struct mwl_class_blk *out = mwl_scratch_alloc(sizeof(*out) * (cap + 1));
	if (!s.e || !s.state || !s.indirect || !s.stack || !out) {
		*n_out = 0;
		return NULL;
	}
	mwl_table_walk(1, collect, &s);
	sort_ents(s.e, s.n);
	if (s.n) {
		s.min = s.e[0].addr;
		for (size_t i = 0; i < s.n; i++)
			if (s.e[i].end > s.max)
				s.max = s.e[i].end;
		s.max++;	/* zero-size blocks still match their start */
	}
	dl_iterate_phdr(self_phdr, &s);

	if (regs) {	/* copied: our own data is never scanned as a root */
		static uintptr_t reg[MWL_EXIT_REGS];
		memcpy(reg, regs->reg, sizeof(reg));
		scan_range(&s, (uintptr_t)reg, (uintptr_t)(reg + MWL_EXIT_REGS), 1);
		drain(&s);
	}
	mwl_threads_regs(scan_regs, &s);
	size_t maps_len;
	char *maps = mwl_read_maps(&maps_len);
	if (maps)
		scan_maps(&s, maps, maps_len);

	for (size_t i = 0; i < s.n; i++) {
		if (s.state[i] != S_UNREACHED)
			continue;
		s.state[i] = S_LEADER;
		s.clique = (int)i;
		push(&s, i);
		drain(&s);
	}

	static const uint8_t cls[] = {
		[S_POSSIBLE] = MWL_CLASS_POSSIBLE, [S_REACHABLE] = MWL_CLASS_REACHABLE,
		[S_INDIRECT] = MWL_CLASS_INDIRECT, [S_LEADER] = MWL_CLASS_DEFINITE,
	};
	for (size_t i = 0; i < s.n; i++) {
		out[i].b = s.e[i].b;
		out[i].cls = cls[s.state[i]];
		out[i].indirect = s.indirect[i];
	}
	*n_out = s.n;
	return out;
}
