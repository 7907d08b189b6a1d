/* output.c - text, JSON and CSV writers (see output.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "util.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

static bool is_integer(const char *s)
{
	if (*s == '-')
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s))
		s++;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return *s == '\0';
}

bool mw_col_numeric(const char *col, const char *sample)
{
	(void)col;
	return sample && is_integer(sample);
}

void mw_col_label(const char *col, char *buf, size_t len)
{
	static const char *const suffixes[] = { "_kb", "_bytes", "_ns", "_pm" };
	size_t n = strlen(col), i;
	const char *extra = "";

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (ends_with(col, suffixes[i])) {
			n -= strlen(suffixes[i]);
			if (!strcmp(suffixes[i], "_pm"))
				extra = "%";
			break;
		}
	}
	if (n >= len)
		n = len - 1;
	for (i = 0; i < n; i++)
		buf[i] = (char)toupper((unsigned char)col[i]);
	buf[n] = '\0';
	strncat(buf, extra, len - n - 1);
}

static void human_ns(unsigned long long ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%lluns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
}

void mw_format_cell(const struct mw_opts *opts, const char *col,
		    const char *raw, char *buf, size_t len)
{
	unsigned long long v;

	if (opts->exact || !is_integer(raw) || raw[0] == '-') {
		snprintf(buf, len, "%s", raw);
		return;
	}
	v = strtoull(raw, NULL, 10);
	if (ends_with(col, "_kb"))
		human_bytes(v * 1024, buf, len);
	else if (ends_with(col, "_bytes"))
		human_bytes(v, buf, len);
	else if (ends_with(col, "_ns"))
		human_ns(v, buf, len);
	else if (ends_with(col, "_pm"))
		snprintf(buf, len, "%llu.%llu", v / 10, v % 10);
	else
		snprintf(buf, len, "%s", raw);
}

void mw_json_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static void json_value(FILE *fp, const char *col, const char *raw)
{
	if (mw_col_numeric(col, raw))
		fputs(raw, fp);
	else
		mw_json_string(fp, raw);
}

static void csv_field(FILE *fp, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

void mw_out_init(struct mw_out *o, const struct mw_opts *opts, FILE *fp,
		 const char *doc)
{
	memset(o, 0, sizeof(*o));
	o->opts = opts;
	o->fp = fp;
	o->doc = doc;
}

void mw_out_begin(struct mw_out *o)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	o->time = ts.tv_sec + ts.tv_nsec / 1e9;
	o->ntables = 0;
	if (o->opts->format == MW_FMT_JSON) {
		fputs("{\"memwatch\":", o->fp);
		mw_json_string(o->fp, o->doc);
		fprintf(o->fp, ",\"time\":%.3f", o->time);
	}
}

static bool with_time(const struct mw_out *o)
{
	return o->opts->interval > 0;
}

/* Pads @v to @w columns with fputs, not printf: this runs per cell. */
static void put_padded(FILE *fp, const char *v, size_t w, bool right)
{
	static const char spaces[] = "                                ";
	size_t len = strlen(v), pad = w > len ? w - len : 0;

	if (!right)
		fputs(v, fp);
	while (pad) {
		size_t n = pad < sizeof(spaces) - 1 ? pad : sizeof(spaces) - 1;

		fwrite(spaces, 1, n, fp);
		pad -= n;
	}
	if (right)
		fputs(v, fp);
	fputc(' ', fp);
}

/*
 * Cells that print as they are point at the raw text; formatted ones (human
 * units) live in one arena. A 2,000-row table is tens of thousands of cells,
 * and a copy or a printf per cell was most of a read's cost.
 */
#define TEXT_CELL_MAX	24

static void text_table(struct mw_out *o, const char *title, char *const *cols,
		       size_t ncols, char **const *rows, size_t nrows)
{
	size_t *width = xcalloc(ncols, sizeof(*width));
	bool *numeric = xcalloc(ncols, sizeof(*numeric));
	bool *plain = xcalloc(ncols, sizeof(*plain));
	size_t ncells = nrows * ncols;
	const char **cells = xcalloc(ncells ? ncells : 1, sizeof(char *));
	char *arena = xcalloc(ncells ? ncells : 1, TEXT_CELL_MAX);
	char cell[128];
	size_t r, c;

	for (c = 0; c < ncols; c++) {
		/* A column without a unit suffix prints its raw text. */
		mw_format_cell(o->opts, cols[c], "1", cell, sizeof(cell));
		plain[c] = !strcmp(cell, "1");
		mw_col_label(cols[c], cell, sizeof(cell));
		width[c] = strlen(cell);
		numeric[c] = nrows > 0;
		for (r = 0; r < nrows; r++) {
			const char *raw = rows[r][c];
			char *slot = arena + (r * ncols + c) * TEXT_CELL_MAX;
			size_t len;

			if (numeric[c] && !mw_col_numeric(cols[c], raw))
				numeric[c] = false;
			if (plain[c]) {
				cells[r * ncols + c] = raw;
			} else {
				mw_format_cell(o->opts, cols[c], raw, cell,
					       sizeof(cell));
				if (strlen(cell) < TEXT_CELL_MAX) {
					memcpy(slot, cell, strlen(cell) + 1);
					cells[r * ncols + c] = slot;
				} else {
					cells[r * ncols + c] = raw;
				}
			}
			len = strlen(cells[r * ncols + c]);
			if (len > width[c])
				width[c] = len;
		}
	}
	if (title && *title)
		fprintf(o->fp, "%s%s\n", o->ntables ? "\n" : "", title);
	for (c = 0; c < ncols; c++) {
		mw_col_label(cols[c], cell, sizeof(cell));
		if (c + 1 == ncols)
			fputs(cell, o->fp);
		else
			put_padded(o->fp, cell, width[c], numeric[c]);
	}
	fputc('\n', o->fp);
	for (r = 0; r < nrows; r++) {
		for (c = 0; c < ncols; c++) {
			const char *v = cells[r * ncols + c];

			if (c + 1 == ncols)
				fputs(v, o->fp);
			else
				put_padded(o->fp, v, width[c], numeric[c]);
		}
		fputc('\n', o->fp);
	}
	free(arena);
	free(cells);
	free(width);
	free(numeric);
	free(plain);
}

static void json_table(struct mw_out *o, const char *title, char *const *cols,
		       size_t ncols, char **const *rows, size_t nrows)
{
	size_t r, c;

	fputc(',', o->fp);
	mw_json_string(o->fp, title && *title ? title : "rows");
	fputs(":[", o->fp);
	for (r = 0; r < nrows; r++) {
		fputs(r ? ",{" : "{", o->fp);
		for (c = 0; c < ncols; c++) {
			if (c)
				fputc(',', o->fp);
			mw_json_string(o->fp, cols[c]);
			fputc(':', o->fp);
			json_value(o->fp, cols[c], rows[r][c]);
		}
		fputc('}', o->fp);
	}
	fputc(']', o->fp);
}

static void csv_table(struct mw_out *o, char *const *cols, size_t ncols,
		      char **const *rows, size_t nrows)
{
	size_t r, c;

	if (!o->csv_header_done) {
		if (with_time(o))
			fputs("time,", o->fp);
		for (c = 0; c < ncols; c++) {
			csv_field(o->fp, cols[c]);
			fputc(c + 1 == ncols ? '\n' : ',', o->fp);
		}
		o->csv_header_done = true;
	}
	for (r = 0; r < nrows; r++) {
		if (with_time(o))
			fprintf(o->fp, "%.3f,", o->time);
		for (c = 0; c < ncols; c++) {
			csv_field(o->fp, rows[r][c]);
			fputc(c + 1 == ncols ? '\n' : ',', o->fp);
		}
	}
}

void mw_out_table(struct mw_out *o, const char *title, char *const *cols,
		  size_t ncols, char **const *rows, size_t nrows)
{
	switch (o->opts->format) {
	case MW_FMT_TEXT:
		text_table(o, title, cols, ncols, rows, nrows);
		break;
	case MW_FMT_JSON:
		json_table(o, title, cols, ncols, rows, nrows);
		break;
	case MW_FMT_CSV:
		csv_table(o, cols, ncols, rows, nrows);
		break;
	}
	o->ntables++;
}

void mw_out_kv(struct mw_out *o, const char *title, char *const *keys,
	       char *const *values, size_t n)
{
	char cell[128];
	size_t i, w = 0;

	switch (o->opts->format) {
	case MW_FMT_TEXT:
		if (title && *title)
			fprintf(o->fp, "%s%s\n", o->ntables ? "\n" : "", title);
		for (i = 0; i < n; i++)
			if (strlen(keys[i]) > w)
				w = strlen(keys[i]);
		for (i = 0; i < n; i++) {
			mw_format_cell(o->opts, keys[i], values[i], cell,
				       sizeof(cell));
			fprintf(o->fp, "%-*s %s\n", (int)w + 1, keys[i], cell);
		}
		break;
	case MW_FMT_JSON:
		fputc(',', o->fp);
		mw_json_string(o->fp, title && *title ? title : "values");
		fputs(":{", o->fp);
		for (i = 0; i < n; i++) {
			if (i)
				fputc(',', o->fp);
			mw_json_string(o->fp, keys[i]);
			fputc(':', o->fp);
			json_value(o->fp, keys[i], values[i]);
		}
		fputc('}', o->fp);
		break;
	case MW_FMT_CSV: {
		char *cols[] = { "name", "value" };
		char ***rows = xcalloc(n ? n : 1, sizeof(*rows));

		for (i = 0; i < n; i++) {
			rows[i] = xcalloc(2, sizeof(char *));
			rows[i][0] = keys[i];
			rows[i][1] = values[i];
		}
		csv_table(o, cols, 2, rows, n);
		for (i = 0; i < n; i++)
			free(rows[i]);
		free(rows);
		break;
	}
	}
	o->ntables++;
}

void mw_out_end(struct mw_out *o)
{
	if (o->opts->format == MW_FMT_JSON)
		fputs("}\n", o->fp);
	fflush(o->fp);
}
