/* scan.c - reachability at exit, as valgrind memcheck does it, simplified.
 *
 * Roots: writable mappings of loaded objects (their data and the anonymous
 * bss right after them) except the library's own, the exiting thread's stack
 * from the current stack pointer up, and the callee-saved registers (setjmp
 * spills them into a buffer on that stack). A root word equal to a block's
 * start makes the block reachable, one pointing inside it only possibly
 * lost; reachable blocks' contents are then scanned the same way. Of the
 * rest, blocks pointed to by another unreached block are indirectly lost,
 * the others (clique leaders) definitely lost.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "scan.h"

struct mw_scan_ctx {
	struct mw_block *b;
	size_t n;
	size_t *work;		/* block indices to scan */
	size_t nwork;
};

static int mw_cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = ((const struct mw_block *)a)->ptr, y = ((const struct mw_block *)b)->ptr;

	return x < y ? -1 : x > y;
}

/* Index of the block containing p, or -1; *start says p is its first byte. */
static long mw_find(const struct mw_scan_ctx *c, uintptr_t p, int *start)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {		/* first block with ptr > p */
		size_t mid = (lo + hi) / 2;

		if (c->b[mid].ptr <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	lo--;
	*start = c->b[lo].ptr == p;
	if (*start || p < c->b[lo].ptr + c->b[lo].size)
		return (long)lo;
	return -1;
}

/*
 * glibc's own pointers to the next chunk's header (main_arena.top, bins)
 * land in the last 8 bytes of the block before it, whose user data overlaps
 * that header's prev_size field. They are not the program's pointers.
 */
static inline int mw_chunk_header(const struct mw_block *b, uintptr_t v, int start)
{
	return !start && !(v & 15) && v + 8 >= b->ptr + b->size;
}

/* Marks what [lo, hi) points to; from = the state of the memory scanned. */
static void mw_scan_range(struct mw_scan_ctx *c, uintptr_t lo, uintptr_t hi, unsigned from)
{
	lo = (lo + sizeof(void *) - 1) & ~(uintptr_t)(sizeof(void *) - 1);
	for (; lo + sizeof(void *) <= hi; lo += sizeof(void *)) {
		uintptr_t v = *(const uintptr_t *)lo;
		int start;
		long i;
		unsigned to;

		if (v < c->b[0].ptr)
			continue;
		i = mw_find(c, v, &start);
		if (i < 0 || mw_chunk_header(&c->b[i], v, start))
			continue;
		/* a possibly-lost block passes on no more than "possibly" */
		to = (start && from == MW_REACHABLE) ? MW_REACHABLE : MW_POSSIBLE;
		if (c->b[i].state >= to)
			continue;
		c->b[i].state = to;
		c->work[c->nwork++] = (size_t)i;
	}
}

static void mw_propagate(struct mw_scan_ctx *c)
{
	while (c->nwork) {
		struct mw_block *blk = &c->b[c->work[--c->nwork]];

		mw_scan_range(c, blk->ptr, blk->ptr + blk->size, blk->state);
	}
}

/* Reads /proc/self/maps into a mapping; returns its length. */
static size_t mw_read_maps(char **out)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = NULL;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return 0;
	buf = mw_map(cap);
	while (buf && (r = read(fd, buf + len, cap - len - 1)) > 0) {
		len += r;
		if (len + 1 == cap) {	/* grow: copy into a bigger mapping */
			char *nb = mw_map(cap * 2);

			if (nb)
				memcpy(nb, buf, len);
			mw_unmap(buf, cap);
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (!buf)
		return 0;
	buf[len] = 0;
	*out = buf;
	return len;
}

/* No root below r->sp: those frames are the library's own report code,
 * whose scratch (qsort buffers, copies of the table) holds user pointers. */
static void mw_scan_roots(struct mw_scan_ctx *c, const char *self_path, uintptr_t sp)
{
	char *maps = NULL, *line, *next;
	char prev_path[512] = "";
	uintptr_t prev_end = 0;

	if (!mw_read_maps(&maps))
		return;
	for (line = maps; *line; line = next) {
		unsigned long lo, hi;
		char perms[8] = "", path[512] = "", one[700];
		int is_bss = 0;
		size_t len;

		/* one line at a time: a blank pathname must not reach the next */
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		len = (size_t)(next - line) < sizeof(one) ? (size_t)(next - line) : sizeof(one) - 1;
		memcpy(one, line, len);
		one[len] = 0;
		if (sscanf(one, "%lx-%lx %7s %*s %*s %*s %511[^\n]", &lo, &hi, perms, path) < 3)
			continue;
		if (sp >= lo && sp < hi) {
			/* the exiting thread's stack: from sp to the top */
			mw_scan_range(c, sp, hi, MW_REACHABLE);
		} else if (perms[0] == 'r' && perms[1] == 'w') {
			is_bss = !path[0] && lo == prev_end && prev_path[0] == '/';
			if (is_bss && strcmp(prev_path, self_path))
				mw_scan_range(c, lo, hi, MW_REACHABLE);
			else if (path[0] == '/' && strcmp(path, self_path))
				mw_scan_range(c, lo, hi, MW_REACHABLE);
		}
		if (!is_bss)
			strcpy(prev_path, path);
		prev_end = hi;
	}
}

/* Depth-first from an unreached leader: all it reaches is indirectly lost. */
static void mw_mark_indirect(struct mw_scan_ctx *c, size_t leader)
{
	c->nwork = 0;
	c->work[c->nwork++] = leader;
	while (c->nwork) {
		struct mw_block *blk = &c->b[c->work[--c->nwork]];
		uintptr_t p = (blk->ptr + 7) & ~(uintptr_t)7;

		for (; p + sizeof(void *) <= blk->ptr + blk->size; p += sizeof(void *)) {
			int start;
			long i = mw_find(c, *(const uintptr_t *)p, &start);

			if (i < 0 || (size_t)i == leader)
				continue;
			if (c->b[i].state != MW_UNREACHED && c->b[i].state != MW_DEFINITE)
				continue;
			/* an earlier leader reached from here joins this clique */
			c->b[i].state = MW_INDIRECT;
			c->work[c->nwork++] = (size_t)i;
		}
	}
}

static void mw_scan_all(struct mw_scan_ctx *c, const char *self_path, const struct mw_roots *r)
{
	mw_scan_range(c, (uintptr_t)r->regs, (uintptr_t)(r->regs + 1), MW_REACHABLE);
	mw_scan_roots(c, self_path, r->sp & ~(uintptr_t)7);
	mw_propagate(c);
}

void mw_scan(struct mw_block *blocks, size_t n, const void *self, const struct mw_roots *r)
{
	struct mw_scan_ctx c = { .b = blocks, .n = n };
	Dl_info info;
	static char self_path[4096];

	if (!n)
		return;
	/* /proc/self/maps names objects by their canonical path */
	if (!dladdr(self, &info) || !info.dli_fname || !realpath(info.dli_fname, self_path))
		self_path[0] = 0;
	qsort(blocks, n, sizeof(*blocks), mw_cmp_ptr);
	/* each block enters the work list at most twice (possible, reachable) */
	c.work = mw_map((2 * n + 1) * sizeof(size_t));
	if (!c.work)
		return;
	for (size_t i = 0; i < n; i++)
		blocks[i].state = MW_UNREACHED;
	mw_scan_all(&c, self_path, r);
	for (size_t i = 0; i < n; i++) {
		if (blocks[i].state != MW_UNREACHED)
			continue;
		mw_mark_indirect(&c, i);
		/* a cycle may lead back to i: still its clique's leader */
		blocks[i].state = MW_DEFINITE;
	}
	mw_unmap(c.work, (2 * n + 1) * sizeof(size_t));
}
