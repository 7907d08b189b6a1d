/* frag_data.c - zones from the module or from /proc (see frag_data.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "frag_data.h"
#include "memwatch_abi.h"
#include "mwfile.h"
#include "util.h"

const char *const frag_mt_cols[FRAG_NR_MT] = {
	"unmovable", "movable", "reclaimable", "highatomic", "cma", "isolate",
};

void frag_contig_info(const unsigned long *nr_free, int nr_orders,
		      int suitable_order, struct frag_contig *info)
{
	int order;

	info->free_pages = 0;
	info->free_blocks_total = 0;
	info->free_blocks_suitable = 0;
	for (order = 0; order < nr_orders; order++) {
		unsigned long blocks = nr_free[order];

		info->free_blocks_total += blocks;
		info->free_pages += blocks << order;
		if (order >= suitable_order)
			info->free_blocks_suitable +=
				blocks << (order - suitable_order);
	}
}

/* mm/vmstat.c unusable_free_index(). */
int frag_unusable_index(int order, const struct frag_contig *info)
{
	if (!info->free_pages)
		return 1000;
	return (int)((info->free_pages -
		      (info->free_blocks_suitable << order)) * 1000ULL /
		     info->free_pages);
}

/* mm/vmstat.c __fragmentation_index(), unsigned arithmetic included. */
int frag_extfrag_index(int order, const struct frag_contig *info)
{
	unsigned long long requested = 1ULL << order;

	if (!info->free_blocks_total)
		return 0;
	if (info->free_blocks_suitable)
		return -1000;
	return 1000 - (int)((1000 + info->free_pages * 1000ULL / requested) /
			    info->free_blocks_total);
}

void frag_index_str(int index, char *buf, size_t len)
{
	snprintf(buf, len, "%d.%03d", index / 1000, index % 1000);
}

static struct frag_zone *frag_find_zone(struct frag_snap *s, int node,
					const char *name)
{
	size_t i;

	for (i = 0; i < s->nzones; i++)
		if (s->zones[i].node == node && !strcmp(s->zones[i].name, name))
			return &s->zones[i];
	return NULL;
}

static struct frag_zone *frag_add_zone(struct frag_snap *s, int node,
				       const char *name)
{
	struct frag_zone *z;
	int o, c;

	s->zones = xreallocarray(s->zones, s->nzones + 1, sizeof(*s->zones));
	z = &s->zones[s->nzones++];
	memset(z, 0, sizeof(*z));
	z->node = node;
	snprintf(z->name, sizeof(z->name), "%s", name);
	z->start_pfn = z->spanned = z->present = z->managed = z->free = -1;
	z->wmark_min = z->wmark_low = z->wmark_high = -1;
	for (o = 0; o < FRAG_MAX_ORDERS; o++)
		for (c = 0; c < FRAG_NR_MT; c++)
			z->mt_free[o][c] = -1;
	return z;
}

void frag_snap_free(struct frag_snap *s)
{
	size_t i;

	for (i = 0; i < s->nkv; i++) {
		free(s->keys[i]);
		free(s->values[i]);
	}
	free(s->keys);
	free(s->values);
	free(s->zones);
	memset(s, 0, sizeof(*s));
}

/* "Node 0, zone      DMA      0      1 ..." */
int frag_parse_buddyinfo(struct frag_snap *s, const char *text)
{
	const char *line = text;

	while (line && *line) {
		const char *next = strchr(line, '\n');
		char name[32];
		int node, n = 0;

		if (sscanf(line, "Node %d, zone %31s%n", &node, name, &n) == 2) {
			struct frag_zone *z = frag_add_zone(s, node, name);
			const char *p = line + n;
			int order = 0;
			char *end;

			for (;;) {
				unsigned long v;

				while (*p == ' ' || *p == '\t')
					p++;
				if (!*p || *p == '\n')
					break;
				errno = 0;
				v = strtoul(p, &end, 10);
				if (end == p || errno)
					return -1;
				if (order < FRAG_MAX_ORDERS)
					z->nr_free[order] = v;
				order++;
				p = end;
			}
			if (order > FRAG_MAX_ORDERS || order == 0)
				return -1;
			if (!s->nr_orders)
				s->nr_orders = order;
			else if (s->nr_orders != order)
				return -1;
		}
		line = next ? next + 1 : NULL;
	}
	return s->nzones ? 0 : -1;
}

static int frag_mt_index(const char *name)
{
	static const char *const names[FRAG_NR_MT] = {
		"Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA",
		"Isolate",
	};
	int i;

	for (i = 0; i < FRAG_NR_MT; i++)
		if (!strcasecmp(name, names[i]))
			return i;
	return -1;
}

/* "Node    0, zone      DMA, type    Unmovable      0 >100000 ..." */
void frag_parse_pagetypeinfo(struct frag_snap *s, const char *text)
{
	const char *line = text;

	while (line && *line) {
		const char *next = strchr(line, '\n');
		char zname[32], tname[32];
		int node, n = 0, bo;

		if (sscanf(line, "Page block order: %d", &bo) == 1)
			s->pageblock_order = bo;
		if (sscanf(line, "Node %d, zone %31[^,], type %31s%n", &node,
			   zname, tname, &n) == 3) {
			struct frag_zone *z = frag_find_zone(s, node, zname);
			int mt = frag_mt_index(tname);
			const char *p = line + n;
			int order = 0;

			if (z && mt >= 0) {
				z->mt_present[mt] = true;
				for (order = 0; order < s->nr_orders; order++) {
					bool capped = false;
					char *end;
					long v;

					while (*p == ' ')
						p++;
					if (*p == '>') {
						capped = true;
						p++;
					}
					v = strtol(p, &end, 10);
					if (end == p)
						break;
					z->mt_free[order][mt] = v;
					if (capped)
						z->mt_capped[order] = true;
					p = end;
				}
			}
		}
		line = next ? next + 1 : NULL;
	}
	/* A type this kernel lacks is 0, as the module prints it. */
	for (size_t i = 0; i < s->nzones; i++) {
		struct frag_zone *z = &s->zones[i];
		bool any = false;
		int mt, o;

		for (mt = 0; mt < FRAG_NR_MT; mt++)
			any |= z->mt_present[mt];
		for (mt = 0; any && mt < FRAG_NR_MT; mt++)
			if (!z->mt_present[mt])
				for (o = 0; o < s->nr_orders; o++)
					z->mt_free[o][mt] = 0;
	}
}

/* Fills zone facts of zones already known from buddyinfo. */
void frag_parse_zoneinfo(struct frag_snap *s, const char *text)
{
	struct frag_zone *z = NULL;
	const char *line = text;

	while (line && *line) {
		const char *next = strchr(line, '\n');
		char name[32], key[32];
		int node;
		long v;

		if (sscanf(line, "Node %d, zone %31s", &node, name) == 2) {
			z = frag_find_zone(s, node, name);
		} else if (z && sscanf(line, " pages free %ld", &v) == 1) {
			z->free = v;
		} else if (z && sscanf(line, " %31s %ld", key, &v) == 2) {
			if (!strcmp(key, "min"))
				z->wmark_min = v;
			else if (!strcmp(key, "low"))
				z->wmark_low = v;
			else if (!strcmp(key, "high"))
				z->wmark_high = v;
			else if (!strcmp(key, "spanned"))
				z->spanned = v;
			else if (!strcmp(key, "present"))
				z->present = v;
			else if (!strcmp(key, "managed"))
				z->managed = v;
			else if (!strcmp(key, "start_pfn:"))
				z->start_pfn = v;
		}
		line = next ? next + 1 : NULL;
	}
}

static char *frag_procfs_read(const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", mw_procfs(), name);
	return read_whole_file(path);
}

static int frag_load_procfs(struct frag_snap *s, bool no_module,
			    mw_note_fn *note)
{
	char path[4096], *text;

	if (note)
		note(no_module, "buddy data");
	s->pageblock_order = -1;
	text = frag_procfs_read("buddyinfo");
	if (!text) {
		snprintf(path, sizeof(path), "%s/buddyinfo", mw_procfs());
		fprintf(stderr, "%s: cannot read %s: %s\n", mw_prog, path,
			strerror(errno));
		return 1;
	}
	if (frag_parse_buddyinfo(s, text)) {
		fprintf(stderr, "%s: %s/buddyinfo: unexpected format\n",
			mw_prog, mw_procfs());
		free(text);
		return 1;
	}
	free(text);
	/* 0400 in /proc: per-type counts stay "-" for other users. */
	text = frag_procfs_read("pagetypeinfo");
	if (text) {
		frag_parse_pagetypeinfo(s, text);
		free(text);
	}
	text = frag_procfs_read("zoneinfo");
	if (text) {
		frag_parse_zoneinfo(s, text);
		free(text);
	}
	return 0;
}

static long frag_cell_long(char **row, int col)
{
	long v;

	if (col < 0 || !parse_long(row[col], -1, __LONG_MAX__, &v))
		return -1;
	return v;
}

static int frag_load_module(struct frag_snap *s)
{
	const struct mw_section *kv, *zs, *os;
	struct mw_file f;
	char err[512];
	size_t r;
	int c;

	if (mw_file_load(&f, MW_FILE_FRAG, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", mw_prog, err);
		return 1;
	}
	kv = mw_file_section(&f, "");
	zs = mw_file_section(&f, "zones");
	os = mw_file_section(&f, "orders");
	if (!zs || !os || !mw_file_value(&f, "nr_orders")) {
		fprintf(stderr, "%s: %s/%s: missing zones or orders section\n",
			mw_prog, mw_root(), MW_FILE_FRAG);
		mw_file_free(&f);
		return 1;
	}
	s->from_module = true;
	s->nr_orders = atoi(mw_file_value(&f, "nr_orders"));
	s->pageblock_order = mw_file_value(&f, "pageblock_order") ?
			     atoi(mw_file_value(&f, "pageblock_order")) : -1;
	if (s->nr_orders <= 0 || s->nr_orders > FRAG_MAX_ORDERS) {
		fprintf(stderr, "%s: %s/%s: bad nr_orders %d\n", mw_prog,
			mw_root(), MW_FILE_FRAG, s->nr_orders);
		mw_file_free(&f);
		return 1;
	}
	for (r = 0; kv && r < kv->nrows; r++) {
		s->keys = xreallocarray(s->keys, s->nkv + 1, sizeof(char *));
		s->values = xreallocarray(s->values, s->nkv + 1, sizeof(char *));
		s->keys[s->nkv] = xstrdup(kv->rows[r][0]);
		s->values[s->nkv] = xstrdup(kv->rows[r][1]);
		s->nkv++;
	}
	for (r = 0; r < zs->nrows; r++) {
		char **row = zs->rows[r];
		int ncol = mw_section_col(zs, "node"), zcol = mw_section_col(zs, "zone");
		struct frag_zone *z;

		if (ncol < 0 || zcol < 0)
			break;
		z = frag_add_zone(s, atoi(row[ncol]), row[zcol]);
		z->start_pfn = frag_cell_long(row, mw_section_col(zs, "start_pfn"));
		z->spanned = frag_cell_long(row, mw_section_col(zs, "spanned_pages"));
		z->present = frag_cell_long(row, mw_section_col(zs, "present_pages"));
		z->managed = frag_cell_long(row, mw_section_col(zs, "managed_pages"));
		z->free = frag_cell_long(row, mw_section_col(zs, "free_pages"));
		z->wmark_min = frag_cell_long(row, mw_section_col(zs, "min_pages"));
		z->wmark_low = frag_cell_long(row, mw_section_col(zs, "low_pages"));
		z->wmark_high = frag_cell_long(row, mw_section_col(zs, "high_pages"));
		for (c = 0; c < FRAG_NR_MT; c++)
			z->mt_present[c] = true;
	}
	for (r = 0; r < os->nrows; r++) {
		char **row = os->rows[r];
		int ncol = mw_section_col(os, "node"), zcol = mw_section_col(os, "zone");
		long order = frag_cell_long(row, mw_section_col(os, "order"));
		struct frag_zone *z;

		if (ncol < 0 || zcol < 0 || order < 0 || order >= s->nr_orders)
			continue;
		z = frag_find_zone(s, atoi(row[ncol]), row[zcol]);
		if (!z)
			continue;
		z->nr_free[order] = (unsigned long)frag_cell_long(row,
				mw_section_col(os, "free_blocks"));
		for (c = 0; c < FRAG_NR_MT; c++)
			z->mt_free[order][c] = frag_cell_long(row,
				mw_section_col(os, frag_mt_cols[c]));
		z->mt_capped[order] = frag_cell_long(row,
				mw_section_col(os, "mt_capped")) > 0;
	}
	mw_file_free(&f);
	return 0;
}

int frag_snap_load(struct frag_snap *s, bool no_module, mw_note_fn *note)
{
	memset(s, 0, sizeof(*s));
	if (!no_module && mw_module_present())
		return frag_load_module(s);
	return frag_load_procfs(s, no_module, note);
}
