/*
 * output.h - one writer for every view: aligned text with human units for
 * people, JSON and CSV with the module's exact column names for programs.
 *
 * Units come from column-name suffixes (memwatch_abi.h): _kb, _bytes,
 * _pages, _ns, _pm. Text shows them in human units unless --exact; JSON and
 * CSV always carry the raw values under the raw names, so nothing is lost.
 * With --interval, JSON is one document per line (JSON Lines) and CSV
 * prints its header once; both gain a leading "time" column.
 */
#ifndef MW_OUTPUT_H
#define MW_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "options.h"

struct mw_out {
	const struct mw_opts *opts;
	FILE *fp;
	const char *doc;	/* JSON document name ("tasks", "frag"...) */
	int ntables;		/* tables written in this document */
	bool csv_header_done;
	double time;		/* sample time, for the "time" column */
};

void mw_out_init(struct mw_out *o, const struct mw_opts *opts, FILE *fp,
		 const char *doc);
/* Starts one sample (one JSON document); records the sample time. */
void mw_out_begin(struct mw_out *o);
void mw_out_table(struct mw_out *o, const char *title, char *const *cols,
		  size_t ncols, char **const *rows, size_t nrows);
/* "name value" facts: a JSON object, text "name: value" lines, CSV pairs. */
void mw_out_kv(struct mw_out *o, const char *title, char *const *keys,
	       char *const *values, size_t n);
void mw_out_end(struct mw_out *o);

/* Formats @raw of column @col for people (respects --exact). */
void mw_format_cell(const struct mw_opts *opts, const char *col,
		    const char *raw, char *buf, size_t len);
/* "RSS" for "rss_kb": the column's name for people. */
void mw_col_label(const char *col, char *buf, size_t len);
/* Whether @col holds a number (sort numerically, no JSON quotes). */
bool mw_col_numeric(const char *col, const char *sample);

/* Prints @s as a JSON string literal. */
void mw_json_string(FILE *fp, const char *s);

#endif
