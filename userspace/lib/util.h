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

/* "12.3M"-style human units for a number of bytes. */
void human_bytes(unsigned long long bytes, char *buf, size_t len);

#endif
