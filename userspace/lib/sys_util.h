/*
 * sys_util.h - helpers shared by the sys, reclaim, allocfail and summary
 * views: owned string tables for the writer and /proc "key value" files.
 */
#ifndef MW_SYS_UTIL_H
#define MW_SYS_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* "name value" pairs whose strings the list owns. */
struct sys_kv {
	char **keys, **vals;
	size_t n, cap;
};

void sys_kv_add(struct sys_kv *kv, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sys_kv_free(struct sys_kv *kv);

/* Rows of ncols strings the table owns. */
struct sys_rows {
	char ***rows;
	size_t n, cap, ncols;
};

void sys_rows_init(struct sys_rows *t, size_t ncols);
/* Appends a row; @cells holds ncols strings, copied. */
void sys_rows_add(struct sys_rows *t, char *const *cells);
void sys_rows_free(struct sys_rows *t);

/*
 * A procfs file of "key value" or "Key:   value kB" lines (vmstat, meminfo),
 * read from mw_procfs(). NULL on failure, errno set.
 */
char *sys_proc_read(const char *name);
/* Value of @key in @text, or false when absent. */
bool sys_proc_get(const char *text, const char *key, long long *val);

/* Monotonic clock now, in ns: the module's time base for time_ns columns. */
unsigned long long sys_now_ns(void);
/* "12s", "5m", "3h", "2d": how long ago, for people. */
void sys_ago(unsigned long long ns, char *buf, size_t len);

#endif
