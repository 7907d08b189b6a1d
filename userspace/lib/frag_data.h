/*
 * frag_data.h - the zones behind --frag and --nodes: loaded from
 * /proc/memwatch/frag, or built from /proc/buddyinfo, /proc/pagetypeinfo and
 * /proc/zoneinfo without the module. The two fragmentation indices are
 * computed here the way mm/vmstat.c computes them, so both sources print
 * the same strings as /sys/kernel/debug/extfrag/{unusable,extfrag}_index.
 */
#ifndef MW_FRAG_DATA_H
#define MW_FRAG_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "mwfile.h"

#define FRAG_MAX_ORDERS		16
#define FRAG_NR_MT		6	/* the frag file's migrate type columns */

/* Column names, in the frag file's order; also the JSON/CSV keys. */
extern const char *const frag_mt_cols[FRAG_NR_MT];

struct frag_zone {
	int node;
	char name[32];
	/* Zone facts; -1 when the source does not give them. */
	long start_pfn, spanned, present, managed, free, wmark_min, wmark_low,
	     wmark_high;
	unsigned long nr_free[FRAG_MAX_ORDERS];
	/* Free blocks per migrate type; -1: unknown (pagetypeinfo unreadable). */
	long mt_free[FRAG_MAX_ORDERS][FRAG_NR_MT];
	bool mt_capped[FRAG_MAX_ORDERS];
	bool mt_present[FRAG_NR_MT];	/* the kernel has this type */
};

struct frag_snap {
	bool from_module;
	int nr_orders;
	int pageblock_order;		/* -1: unknown */
	struct frag_zone *zones;
	size_t nzones;
	/* Module only: compaction and extfrag counters, "name value". */
	char **keys, **values;
	size_t nkv;
};

/* mm/vmstat.c's struct contig_page_info and its arithmetic. */
struct frag_contig {
	unsigned long free_pages;
	unsigned long free_blocks_total;
	unsigned long free_blocks_suitable;
};

void frag_contig_info(const unsigned long *nr_free, int nr_orders,
		      int suitable_order, struct frag_contig *info);
/* Thousandths, as the kernel returns them (-1000: the allocation succeeds). */
int frag_unusable_index(int order, const struct frag_contig *info);
int frag_extfrag_index(int order, const struct frag_contig *info);
/* "%d.%03d" of the kernel's debugfs files (the same odd "0.-500" too). */
void frag_index_str(int index, char *buf, size_t len);

/*
 * Loads every zone. Without the module (or with @no_module) reads /proc,
 * calling @note (when not NULL) first. Returns 0, or 1 after printing an
 * error on stderr.
 */
int frag_snap_load(struct frag_snap *s, bool no_module, mw_note_fn *note);
void frag_snap_free(struct frag_snap *s);

/* Parses /proc/buddyinfo, pagetypeinfo and zoneinfo text (for tests too). */
int frag_parse_buddyinfo(struct frag_snap *s, const char *text);
void frag_parse_pagetypeinfo(struct frag_snap *s, const char *text);
void frag_parse_zoneinfo(struct frag_snap *s, const char *text);

#endif
