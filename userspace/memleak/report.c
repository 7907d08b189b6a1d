/* report.c - text and JSON reports. Text is valgrind-like:
 *
 *   N bytes in M blocks definitely lost at:
 *     #0 func (file.c:LINE)
 *   ...
 *   LEAK SUMMARY:
 *      definitely lost: N bytes in M blocks
 *
 * Everything runs under mw_out_lock() (which also sets the guard).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "hooks.h"
#include "leak_opts.h"
#include "out.h"
#include "report.h"
#include "scan.h"
#include "symbols.h"

static const char *const mw_state_name[MW_NSTATES] = {
	"unreached", "definitely lost", "indirectly lost", "possibly lost", "still reachable",
};
static const char *const mw_state_key[MW_NSTATES] = {
	"unreached", "definitely_lost", "indirectly_lost", "possibly_lost", "still_reachable",
};

/* Mismatches wait for the end of the JSON document; text prints them at once. */
#define MW_MAX_MISMATCH 64
static struct mw_mismatch {
	struct mw_block old;
	unsigned free_kind;
	struct mw_stack *freed_at;
} mw_mismatches[MW_MAX_MISMATCH];
static size_t mw_nmismatch, mw_mismatch_total;

static const char *mw_base(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path;
}

static void mw_text_stack(const struct mw_stack *st, const char *indent)
{
	struct mw_frame f;

	if (!st) {
		mw_out_fmt("%s#0 (stack not recorded)\n", indent);
		return;
	}
	for (int i = 0; i < st->depth; i++) {
		mw_sym_lookup(st->frames[i], &f);
		mw_out_fmt("%s#%d ", indent, i);
		if (f.func)
			mw_out_str(f.func);
		else
			mw_out_fmt("0x%lx", (unsigned long)f.addr);
		if (f.file)
			mw_out_fmt(" (%s:%d)", mw_base(f.file), f.line);
		else if (f.module)
			mw_out_fmt(" (%s+0x%lx)", mw_base(f.module), (unsigned long)f.offset);
		mw_out_str("\n");
	}
}

static void mw_json_stack(const struct mw_stack *st)
{
	struct mw_frame f;

	mw_out_str("[");
	for (int i = 0; st && i < st->depth; i++) {
		mw_sym_lookup(st->frames[i], &f);
		mw_out_fmt("%s{\"addr\": \"0x%lx\", \"function\": ", i ? ", " : "", (unsigned long)f.addr);
		mw_out_json_str(f.func);
		mw_out_str(", \"file\": ");
		mw_out_json_str(f.file);
		mw_out_fmt(", \"line\": %d, \"module\": ", f.line);
		mw_out_json_str(f.module);
		mw_out_str("}");
	}
	mw_out_str("]");
}

void mw_report_mismatch(const struct mw_block *old, unsigned free_kind, struct mw_stack *freed_at)
{
	mw_out_lock();
	mw_mismatch_total++;
	if (mw_config.json) {
		if (mw_nmismatch < MW_MAX_MISMATCH)
			mw_mismatches[mw_nmismatch++] = (struct mw_mismatch){ *old, free_kind, freed_at };
		mw_out_unlock();
		return;
	}
	/* symbolising now, in the running program: mismatches are rare */
	mw_sym_begin();
	mw_out_fmt("Mismatched free() / delete / delete []\n"
		   "   %s of 0x%lx (%zu bytes, allocated with %s) at:\n",
		   mw_kind_free_name(free_kind), (unsigned long)old->ptr, old->size,
		   mw_kind_alloc_name(old->kind));
	mw_text_stack(freed_at, "     ");
	mw_out_fmt("   allocated with %s at:\n", mw_kind_alloc_name(old->kind));
	mw_text_stack(old->stack, "     ");
	mw_out_str("\n");
	mw_out_flush();
	mw_sym_end();
	mw_out_unlock();
}

struct mw_group {
	unsigned state, kind;
	struct mw_stack *stack;
	size_t bytes, blocks;
};

static int mw_cmp_block(const void *a, const void *b)
{
	const struct mw_block *x = a, *y = b;

	if (x->state != y->state)
		return x->state < y->state ? -1 : 1;
	if (x->stack != y->stack)
		return (uintptr_t)x->stack < (uintptr_t)y->stack ? -1 : 1;
	return (x->kind > y->kind) - (x->kind < y->kind);
}

static int mw_cmp_group(const void *a, const void *b)
{
	const struct mw_group *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->state != y->state)
		return x->state < y->state ? -1 : 1;
	return (x->blocks < y->blocks) - (x->blocks > y->blocks);
}

static int mw_shown(unsigned state)
{
	return state == MW_DEFINITE || state == MW_INDIRECT || mw_config.reachable;
}

/* Groups blocks by (state, stack, kind) into a fresh mapping, largest first. */
static size_t mw_group(struct mw_block *b, size_t n, struct mw_group **out, size_t tot[][2])
{
	struct mw_group *g = mw_map((n + 1) * sizeof(*g));
	size_t ng = 0;

	*out = g;
	if (!g)
		return 0;
	qsort(b, n, sizeof(*b), mw_cmp_block);
	for (size_t i = 0; i < n; i++) {
		tot[b[i].state][0] += b[i].size;
		tot[b[i].state][1]++;
		if (!ng || g[ng - 1].state != b[i].state || g[ng - 1].stack != b[i].stack ||
		    g[ng - 1].kind != b[i].kind)
			g[ng++] = (struct mw_group){ b[i].state, b[i].kind, b[i].stack, 0, 0 };
		g[ng - 1].bytes += b[i].size;
		g[ng - 1].blocks++;
	}
	qsort(g, ng, sizeof(*g), mw_cmp_group);
	return ng;
}

static void mw_text(struct mw_group *g, size_t ng, size_t tot[][2], struct mw_fd_leak *fds, size_t nfd)
{
	static const unsigned order[] = { MW_DEFINITE, MW_INDIRECT, MW_POSSIBLE, MW_REACHABLE };

	mw_out_fmt("==%d== memwatch-leak report\n", (int)getpid());
	for (size_t i = 0; i < ng; i++) {
		if (!mw_shown(g[i].state))
			continue;
		mw_out_fmt("%zu bytes in %zu blocks %s at:\n", g[i].bytes, g[i].blocks,
			   mw_state_name[g[i].state]);
		mw_text_stack(g[i].stack, "  ");
		mw_out_str("\n");
	}
	for (size_t i = 0; i < nfd; i++) {
		mw_out_fmt("file descriptor %d still open, opened at:\n", fds[i].fd);
		mw_text_stack(fds[i].stack, "  ");
		mw_out_str("\n");
	}
	mw_out_str("LEAK SUMMARY:\n");
	for (size_t i = 0; i < 4; i++)
		mw_out_fmt("   %15s: %zu bytes in %zu blocks\n", mw_state_name[order[i]],
			   tot[order[i]][0], tot[order[i]][1]);
	mw_out_fmt("   %15s: %zu\n", "mismatched free", mw_mismatch_total);
	if (mw_config.fds)
		mw_out_fmt("   %15s: %zu\n", "open fds", nfd);
}

static void mw_json(struct mw_group *g, size_t ng, size_t tot[][2], struct mw_fd_leak *fds, size_t nfd)
{
	size_t k = 0;

	mw_out_fmt("{\"memwatch\": \"leak\", \"version\": %d, \"pid\": %d,\n \"summary\": {",
		   MW_LEAK_FORMAT_VERSION, (int)getpid());
	for (unsigned s = MW_DEFINITE; s < MW_NSTATES; s++)
		mw_out_fmt("%s\"%s\": {\"bytes\": %zu, \"blocks\": %zu}", s == MW_DEFINITE ? "" : ", ",
			   mw_state_key[s], tot[s][0], tot[s][1]);
	mw_out_fmt(", \"mismatched\": %zu, \"open_fds\": %zu},\n \"leaks\": [", mw_mismatch_total, nfd);
	for (size_t i = 0; i < ng; i++) {
		if (!mw_shown(g[i].state))
			continue;
		mw_out_fmt("%s\n  {\"class\": \"%s\", \"kind\": \"%s\", \"bytes\": %zu, \"blocks\": %zu, \"stack\": ",
			   k++ ? "," : "", mw_state_key[g[i].state], mw_kind_alloc_name(g[i].kind),
			   g[i].bytes, g[i].blocks);
		mw_json_stack(g[i].stack);
		mw_out_str("}");
	}
	mw_out_str("],\n \"mismatches\": [");
	for (size_t i = 0; i < mw_nmismatch; i++) {
		struct mw_mismatch *m = &mw_mismatches[i];

		mw_out_fmt("%s\n  {\"allocated_with\": \"%s\", \"freed_with\": \"%s\", \"bytes\": %zu, \"alloc_stack\": ",
			   i ? "," : "", mw_kind_alloc_name(m->old.kind), mw_kind_free_name(m->free_kind),
			   m->old.size);
		mw_json_stack(m->old.stack);
		mw_out_str(", \"free_stack\": ");
		mw_json_stack(m->freed_at);
		mw_out_str("}");
	}
	mw_out_str("],\n \"fds\": [");
	for (size_t i = 0; i < nfd; i++) {
		mw_out_fmt("%s\n  {\"fd\": %d, \"stack\": ", i ? "," : "", fds[i].fd);
		mw_json_stack(fds[i].stack);
		mw_out_str("}");
	}
	mw_out_str("]}\n");
}

void mw_report_final(const struct mw_roots *roots)
{
	static struct mw_fd_leak fds[1024];
	size_t tot[MW_NSTATES][2] = { { 0 } }, n, ng, nfd = 0;
	struct mw_block *blocks;
	struct mw_group *groups;

	mw_out_lock();
	mw_tracking = 0;
	mw_table_freeze();
	n = mw_table_snapshot(&blocks);
	mw_scan(blocks, n, (const void *)mw_report_final, roots);
	mw_table_thaw();
	ng = mw_group(blocks, n, &groups, tot);
	if (mw_config.fds)
		nfd = mw_fd_leaks(fds, sizeof(fds) / sizeof(fds[0]));
	mw_sym_begin();
	if (mw_config.json)
		mw_json(groups, ng, tot, fds, nfd);
	else
		mw_text(groups, ng, tot, fds, nfd);
	mw_out_flush();
	mw_sym_end();
	mw_out_unlock();
}
