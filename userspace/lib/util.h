/* util.h - allocation that exits on failure, whole-file reads, numbers. */
#ifndef MW_UTIL_H
#define MW_UTIL_H

#include <stdbool.h>
#include <stddef.h>

extern const char *mw_prog;	/* "memwatch-read", for messages */

void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Whole file as a NUL-terminated string; NULL with errno set on failure. */
char *read_whole_file(const char *path);

/* Strict parsers: the whole string must be a number in range. */
bool parse_long(const char *s, long min, long max, long *out);
bool parse_seconds(const char *s, double *out);
/* "90", "90s", "1.5m", "2h", "1d", "1w" (a bare number is seconds); >= 0 */
bool parse_duration(const char *s, double *seconds);
/* "4096", "64K", "500M", "2G", "1T" (also "MB", "MiB"): binary units */
bool parse_size(const char *s, long long *bytes);

/*
 * A usage error as coreutils report one: "PROG: <message>" and a
 * line pointing to --help, on stderr. Returns 2, the exit status.
 */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The option getopt_long() (with ':' first in its optstring) just refused,
 * as the user wrote it: "--sort" or "-Z" (of "-tZ"). @buf holds 3 bytes.
 */
const char *getopt_culprit(char *const argv[], char *buf);
/* usage_error() for getopt_long()'s ':' (argument missing) and '?' */
int getopt_error(int c, char *const argv[]);

/* "12.3M"-style human units for a number of bytes. */
void human_bytes(unsigned long long bytes, char *buf, size_t len);

#endif
