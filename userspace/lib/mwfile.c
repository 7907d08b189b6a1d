/* mwfile.c - load and parse /proc/memwatch files (see mwfile.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memwatch_abi.h"
#include "mwfile.h"
#include "mwsnap.h"
#include "util.h"

const char *mw_root(void)
{
	const char *root = getenv("MEMWATCH_ROOT");

	if (mw_snap_current())
		return mw_snap_root();
	return root && *root ? root : MW_PROC_ROOT;
}

const char *mw_procfs(void)
{
	const char *root = getenv("MEMWATCH_PROCFS");

	if (mw_snap_current())
		return mw_snap_procfs();
	return root && *root ? root : "/proc";
}

int mw_module_present(void)
{
	char path[4096];

	if (mw_snap_current())
		return mw_snap_current()->module;
	snprintf(path, sizeof(path), "%s/%s", mw_root(), MW_FILE_STATUS);
	return access(path, R_OK) == 0;
}

/*
 * Cells, column names and titles all point into f->buf, the file's text
 * split in place: a 2,000-process tasks file is 60,000 cells, and copying
 * each was most of a read's cost.
 */
static char empty[] = "";

static struct mw_section *section_add(struct mw_file *f, char *title)
{
	struct mw_section *s;

	f->sections = xreallocarray(f->sections, f->nsections + 1,
				    sizeof(*f->sections));
	s = &f->sections[f->nsections++];
	memset(s, 0, sizeof(*s));
	s->title = title;
	return s;
}

static void section_set_cols(struct mw_section *s, char *legend)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(legend, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		s->cols = xreallocarray(s->cols, s->ncols + 1, sizeof(*s->cols));
		s->cols[s->ncols++] = tok;
	}
}

/*
 * Blank skipping and token ends by hand: strspn/strcspn build a character
 * set on every call, which cost more than the scan for short cells.
 */
static char *skip_blanks(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static size_t token_len(const char *p)
{
	const char *q = p;

	while (*q && *q != ' ' && *q != '\t')
		q++;
	return q - p;
}

static void section_add_row(struct mw_section *s, char *line)
{
	char **row = xcalloc(s->ncols ? s->ncols : 1, sizeof(*row));
	size_t c, tlen = strlen(s->title);

	/* "probe tasks ..." under "# probe: feature ...": the title is a row key. */
	line = skip_blanks(line);
	if (tlen && !strncmp(line, s->title, tlen) &&
	    (line[tlen] == ' ' || line[tlen] == '\t'))
		line += tlen;
	for (c = 0; c < s->ncols; c++) {
		size_t len;

		line = skip_blanks(line);
		if (c + 1 == s->ncols) {
			len = strlen(line);
			while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
				line[--len] = '\0';
			row[c] = line;
			break;
		}
		len = token_len(line);
		row[c] = line;
		if (line[len]) {
			line[len] = '\0';
			line += len + 1;
		} else {
			line += len;
		}
	}
	for (; c < s->ncols; c++)
		if (!row[c])
			row[c] = empty;
	if (s->nrows == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->rows = xreallocarray(s->rows, s->cap, sizeof(*s->rows));
	}
	s->rows[s->nrows++] = row;
}

/* "# title: a b c" or "# a b c" */
static void start_section(struct mw_file *f, char *legend)
{
	char *colon;
	struct mw_section *s;

	legend += strspn(legend, "# \t");
	colon = strchr(legend, ':');
	if (colon) {
		*colon = '\0';
		s = section_add(f, legend);
		section_set_cols(s, colon + 1);
	} else {
		s = section_add(f, empty);
		section_set_cols(s, legend);
	}
}

/* The next non-empty line at @p, NUL-terminated in place; NULL at the end. */
static char *next_line(char *p, char **next)
{
	char *nl;

	while (*p == '\n')
		p++;
	if (!*p)
		return NULL;
	nl = strchr(p, '\n');
	if (nl) {
		*nl = '\0';
		*next = nl + 1;
	} else {
		*next = p + strlen(p);
	}
	return p;
}

/* Parses f->buf in place. */
static int parse_buf(struct mw_file *f, const char *name, char *err,
		     size_t errlen)
{
	static char name_value[] = "name value";
	char *line, *next;
	char fname[64];
	int major, minor;

	snprintf(f->name, sizeof(f->name), "%s", name);
	line = next_line(f->buf, &next);
	if (!line || sscanf(line, "memwatch-%63s - version: %d.%d", fname,
			    &major, &minor) != 3) {
		snprintf(err, errlen, "%s/%s: not a memwatch file (no version line)",
			 mw_root(), name);
		return -1;
	}
	if (major != MW_FORMAT_MAJOR) {
		snprintf(err, errlen,
			 "%s/%s: format version %d.%d, this reader knows %d.x: "
			 "use the memwatch-read that came with the module",
			 mw_root(), name, major, minor, MW_FORMAT_MAJOR);
		return -1;
	}
	f->major = major;
	f->minor = minor;
	while ((line = next_line(next, &next))) {
		if (line[0] == '#') {
			start_section(f, line);
			continue;
		}
		if (!f->nsections) {
			struct mw_section *s = section_add(f, empty);

			/* The shared legend "name value", split in place (idempotent). */
			s->cols = xcalloc(2, sizeof(*s->cols));
			s->cols[0] = name_value;
			s->cols[1] = name_value + 5;
			name_value[4] = '\0';
			s->ncols = 2;
		}
		section_add_row(&f->sections[f->nsections - 1], line);
	}
	return 0;
}

int mw_file_parse(struct mw_file *f, const char *name, char *text, char *err,
		  size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->buf = xstrdup(text);
	f->buflen = strlen(text) + 1;
	if (parse_buf(f, name, err, errlen)) {
		mw_file_free(f);	/* callers free only what loaded */
		return -1;
	}
	return 0;
}

int mw_file_load(struct mw_file *f, const char *name, char *err, size_t errlen)
{
	char path[4096];
	char *text;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", mw_root(), name);
	text = read_whole_file(path);
	if (!text) {
		int e = errno;

		memset(f, 0, sizeof(*f));
		if (e == ENOENT && mw_snap_current() && !mw_module_present())
			snprintf(err, errlen,
				 "recorded without the module: no %s (it needs the memwatch module)",
				 name);
		else if (e == ENOENT && mw_snap_current())
			snprintf(err, errlen,
				 "not recorded: no %s in the recording (the module did not "
				 "provide it then: feature disabled?)", name);
		else if (e == ENOENT && !mw_module_present())
			snprintf(err, errlen,
				 "%s not found: is the module loaded? (sudo insmod memwatch.ko)",
				 mw_root());
		else if (e == ENOENT)
			snprintf(err, errlen,
				 "%s: not provided by this module (feature disabled? see %s/status)",
				 path, mw_root());
		else
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -1;
	}
	memset(f, 0, sizeof(*f));
	f->buf = text;
	f->buflen = strlen(text) + 1;
	ret = parse_buf(f, name, err, errlen);
	if (ret)
		mw_file_free(f);	/* callers free only what loaded */
	return ret;
}

void mw_file_free(struct mw_file *f)
{
	size_t i, r;

	for (i = 0; i < f->nsections; i++) {
		struct mw_section *s = &f->sections[i];

		for (r = 0; r < s->nrows; r++)
			free(s->rows[r]);
		free(s->rows);
		free(s->cols);
	}
	free(f->sections);
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

const struct mw_section *mw_file_section(const struct mw_file *f,
					 const char *title)
{
	size_t i;

	for (i = 0; i < f->nsections; i++)
		if (!strcmp(f->sections[i].title, title))
			return &f->sections[i];
	return NULL;
}

int mw_section_col(const struct mw_section *s, const char *col)
{
	size_t c;

	for (c = 0; c < s->ncols; c++)
		if (!strcmp(s->cols[c], col))
			return (int)c;
	return -1;
}

const char *mw_file_value(const struct mw_file *f, const char *key)
{
	const struct mw_section *s = mw_file_section(f, "");
	size_t r;

	if (!s || s->ncols < 2 || strcmp(s->cols[0], "name"))
		return NULL;
	for (r = 0; r < s->nrows; r++)
		if (!strcmp(s->rows[r][0], key))
			return s->rows[r][1];
	return NULL;
}
