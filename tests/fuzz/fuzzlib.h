/*
 * fuzzlib.h - what every memwatch fuzz target shares (fuzzlib.c; not a
 * target itself: targets are the fuzz_*.c files).
 *
 * Inputs of the targets that read several files are an "archive": a line
 * "@@ PATH" starts a file, its text runs to the next "@@ " line or the end.
 * PATH is m/NAME (a /proc/memwatch file) or p/NAME (a /proc file, p/1/stat
 * for a process); components are [A-Za-z0-9_.-] without "..". Text before
 * the first "@@ " line (the preamble) belongs to no file: a target may read
 * its options there. tests/fuzz/seed builds seeds in this form from
 * tests/host/fixtures.
 */
#ifndef MW_FUZZLIB_H
#define MW_FUZZLIB_H

#include <stddef.h>
#include <stdint.h>

#define FZ_MAX_FILES	64

struct fz_file {
	char path[128];
	const uint8_t *data;
	size_t len;
};

/* Splits an archive; returns the number of files (at most @max). */
int fz_split(const uint8_t *data, size_t size, struct fz_file *files, int max);
/* The preamble: the bytes before the first "@@ " line. */
size_t fz_preamble(const uint8_t *data, size_t size);
/* The first file named @path, or NULL. */
const struct fz_file *fz_find(const struct fz_file *files, int n,
			      const char *path);
/* A NUL-terminated copy (malloc); an embedded NUL ends the text early. */
char *fz_cstr(const uint8_t *data, size_t len);
/*
 * Writes the files under a fresh directory (returned, malloc'ed; NULL on
 * failure) and points MEMWATCH_ROOT at DIR/m and MEMWATCH_PROCFS at DIR/p.
 */
char *fz_tree_write(const struct fz_file *files, int n);
/* Removes what fz_tree_write made and frees @dir. */
void fz_tree_remove(char *dir);

#endif
