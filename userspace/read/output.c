/* output.c - text, JSON and CSV writers (see output.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mwsnap.h"
#include "output.h"
#include "util.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "12", "-3", "1.5": what prints as a number (right-aligned, bare in JSON). */
static bool is_integer(const char *s)
{
	if (*s == '-')
		s++;
	if (!is_digit(*s))
		return false;
	while (is_digit(*s))
		s++;
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return false;
		while (is_digit(*s))
			s++;
	}
	return *s == '\0';
}

/*
 * The unsigned value of a number is_integer() accepts, its integer part for
 * "1.5"; false for negative numbers and anything else (printed as it is).
 */
static bool unit_value(const char *s, unsigned long long *v)
{
	unsigned long long n = 0;
	const char *p = s;

	if (!is_digit(*p))
		return false;
	for (; is_digit(*p); p++) {
		if (n > (ULLONG_MAX - 9) / 10)
			return false;
		n = n * 10 + (unsigned long long)(*p - '0');
	}
	if (*p == '.') {
		if (!is_digit(*++p))
			return false;
		while (is_digit(*p))
			p++;
	}
	if (*p)
		return false;
	*v = n;
	return true;
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

static void copy_text(const char *raw, char *buf, size_t len)
{
	size_t n = strlen(raw);

	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(buf, raw, n);
	buf[n] = '\0';
}

/* @v tenths as "I.F", the per-mille columns shown as percent. */
static void tenths(unsigned long long v, char *buf, size_t len)
{
	char text[24], *p = text + sizeof(text);

	*--p = '\0';
	*--p = (char)('0' + v % 10);
	*--p = '.';
	v /= 10;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	copy_text(p, buf, len);
}

enum cell_unit { UNIT_NONE, UNIT_KB, UNIT_BYTES, UNIT_NS, UNIT_PM };

static enum cell_unit col_unit(const char *col)
{
	if (ends_with(col, "_kb"))
		return UNIT_KB;
	if (ends_with(col, "_bytes"))
		return UNIT_BYTES;
	if (ends_with(col, "_ns"))
		return UNIT_NS;
	if (ends_with(col, "_pm"))
		return UNIT_PM;
	return UNIT_NONE;
}

static void format_unit(bool exact, enum cell_unit unit, const char *raw,
			char *buf, size_t len)
{
	unsigned long long v;

	if (exact || unit == UNIT_NONE || !unit_value(raw, &v)) {
		copy_text(raw, buf, len);
		return;
	}
	switch (unit) {
	case UNIT_KB:
		human_bytes(v * 1024, buf, len);
		break;
	case UNIT_BYTES:
		human_bytes(v, buf, len);
		break;
	case UNIT_NS:
		human_ns(v, buf, len);
		break;
	case UNIT_PM:
		tenths(v, buf, len);
		break;
	case UNIT_NONE:
		break;
	}
}

void mw_format_cell(const struct mw_opts *opts, const char *col,
		    const char *raw, char *buf, size_t len)
{
	format_unit(opts->exact, col_unit(col), raw, buf, len);
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
	const char *e = s;

	/* A hand loop, not strpbrk(): this runs per cell (see text_table). */
	while (*e && *e != ',' && *e != '"' && *e != '\n' && *e != '\r')
		e++;
	if (!*e) {
		fwrite(s, 1, e - s, fp);
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
	if (mw_snap_current())		/* a replay: the recorded moment */
		o->time = mw_snap_current()->unix_ns / 1e9;
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

/*
 * Cells that print as they are point at the raw text; formatted ones (human
 * units) live in one arena. Each line is assembled in a buffer and written
 * once. A 2,000-row table is tens of thousands of cells, and a copy, a
 * printf or a stdio call per cell was most of a read's cost.
 */
#define TEXT_CELL_MAX	24

struct text_cells {
	const char **text;
	unsigned short *len;
};

/*
 * Appends @v (@len bytes) padded to @w, then the separator or nothing.
 * Byte loops: cells are a few bytes, less than a memcpy() call costs.
 */
static char *put_cell(char *p, const char *v, size_t len, size_t w,
		      bool right, bool last)
{
	size_t pad = w > len ? w - len : 0, i;

	if (right && !last)
		for (i = 0; i < pad; i++)
			*p++ = ' ';
	for (i = 0; i < len; i++)
		*p++ = v[i];
	if (last)
		return p;
	if (!right)
		for (i = 0; i < pad; i++)
			*p++ = ' ';
	*p++ = ' ';
	return p;
}

static void text_table(struct mw_out *o, const char *title, char *const *cols,
		       size_t ncols, char **const *rows, size_t nrows)
{
	size_t *width = xcalloc(ncols ? ncols : 1, sizeof(*width));
	bool *numeric = xcalloc(ncols ? ncols : 1, sizeof(*numeric));
	size_t ncells = nrows * ncols, linecap = 2, r, c;
	struct text_cells cells = {
		.text = xcalloc(ncells ? ncells : 1, sizeof(char *)),
		.len = xcalloc(ncells ? ncells : 1, sizeof(unsigned short)),
	};
	char *arena = NULL, *line, *p;
	size_t arena_used = 0;
	char cell[128];

	for (c = 0; c < ncols; c++) {
		enum cell_unit unit = o->opts->exact ? UNIT_NONE : col_unit(cols[c]);

		if (unit != UNIT_NONE && !arena)
			arena = xreallocarray(NULL, ncells, TEXT_CELL_MAX);
		mw_col_label(cols[c], cell, sizeof(cell));
		width[c] = strlen(cell);
		numeric[c] = nrows > 0;
		for (r = 0; r < nrows; r++) {
			const char *raw = rows[r][c];
			size_t i = r * ncols + c, len = strlen(raw);

			if (numeric[c] && !mw_col_numeric(cols[c], raw))
				numeric[c] = false;
			cells.text[i] = raw;
			if (unit != UNIT_NONE) {
				char *slot = arena + arena_used;

				format_unit(false, unit, raw, cell, sizeof(cell));
				if (strlen(cell) < TEXT_CELL_MAX) {
					len = strlen(cell);
					memcpy(slot, cell, len);
					arena_used += TEXT_CELL_MAX;
					cells.text[i] = slot;
				}
			}
			if (len > USHRT_MAX)
				len = USHRT_MAX;
			cells.len[i] = (unsigned short)len;
			if (len > width[c])
				width[c] = len;
		}
		linecap += width[c] + 1;
	}
	line = xcalloc(linecap, 1);
	if (title && *title)
		fprintf(o->fp, "%s%s\n", o->ntables ? "\n" : "", title);
	p = line;
	for (c = 0; c < ncols; c++) {
		mw_col_label(cols[c], cell, sizeof(cell));
		p = put_cell(p, cell, strlen(cell), width[c], numeric[c],
			     c + 1 == ncols);
	}
	*p++ = '\n';
	fwrite(line, 1, p - line, o->fp);
	for (r = 0; r < nrows; r++) {
		p = line;
		for (c = 0; c < ncols; c++) {
			size_t i = r * ncols + c;

			p = put_cell(p, cells.text[i], cells.len[i], width[c],
				     numeric[c], c + 1 == ncols);
		}
		*p++ = '\n';
		fwrite(line, 1, p - line, o->fp);
	}
	free(line);
	free(arena);
	free(cells.text);
	free(cells.len);
	free(width);
	free(numeric);
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
