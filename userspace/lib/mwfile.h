/*
 * mwfile.h - load a /proc/memwatch file: version check, sections, rows.
 *
 * A file is "memwatch-NAME - version: M.m", then sections. A section starts
 * at a legend line "# col col ..." or "# title: col col ..."; lines before
 * the first legend are "name value" pairs (section with title "" and
 * columns name, value). A row of a titled section may start with the title
 * as a row key ("probe tasks ..." under "# probe: feature ..."), so that
 * grep finds it; that word is not a column. Rows split on blanks into at most ncols fields, the
 * last taking the rest of the line (comm may contain spaces).
 */
#ifndef MW_MWFILE_H
#define MW_MWFILE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Called once by a loader that answers from /proc without the module:
 * @no_module says whether it was asked to (--no-module), @what names what
 * it answers for ("processes", "buddy data"). Programs print their note.
 */
typedef void mw_note_fn(bool no_module, const char *what);

struct mw_section {
	char *title;		/* "" for the unnamed section */
	char **cols;
	size_t ncols;
	char ***rows;		/* rows[r][c] */
	size_t nrows;
	size_t cap;
};

struct mw_file {
	char *buf;		/* the text; every string below points into it */
	size_t buflen;
	char name[64];
	int major, minor;
	struct mw_section *sections;
	size_t nsections;
};

/* Directory the module's files are read from: $MEMWATCH_ROOT or /proc/memwatch. */
const char *mw_root(void);
/* Directory procfs is read from: $MEMWATCH_PROCFS or /proc. */
const char *mw_procfs(void);
/* Whether the module is loaded (its status file is readable). */
int mw_module_present(void);

/*
 * Loads mw_root()/NAME. Returns 0, or -1 with a message naming the file and
 * the reason in err (module missing, permission, unknown major version).
 */
int mw_file_load(struct mw_file *f, const char *name, char *err, size_t errlen);
/* Parses text already in memory (for tests and for files read elsewhere). */
int mw_file_parse(struct mw_file *f, const char *name, char *text, char *err,
		  size_t errlen);
void mw_file_free(struct mw_file *f);

/* The section titled @title ("" for the unnamed one), or NULL. */
const struct mw_section *mw_file_section(const struct mw_file *f,
					 const char *title);
/* Column index of @col in @s, or -1. */
int mw_section_col(const struct mw_section *s, const char *col);
/* Value of "name value" pair @key in the unnamed section, or NULL. */
const char *mw_file_value(const struct mw_file *f, const char *key);

#endif
