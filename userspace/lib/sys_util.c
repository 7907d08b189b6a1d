/* sys_util.c - see sys_util.h. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mwfile.h"
#include "mwsnap.h"
#include "sys_util.h"
#include "util.h"

void sys_kv_add(struct sys_kv *kv, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *val;

	va_start(ap, fmt);
	if (vasprintf(&val, fmt, ap) < 0)
		val = NULL;
	va_end(ap);
	if (!val) {
		fprintf(stderr, "%s: out of memory\n", mw_prog);
		exit(1);
	}
	if (kv->n == kv->cap) {
		kv->cap = kv->cap ? 2 * kv->cap : 32;
		kv->keys = xreallocarray(kv->keys, kv->cap, sizeof(char *));
		kv->vals = xreallocarray(kv->vals, kv->cap, sizeof(char *));
	}
	kv->keys[kv->n] = xstrdup(key);
	kv->vals[kv->n++] = val;
}

void sys_kv_free(struct sys_kv *kv)
{
	size_t i;

	for (i = 0; i < kv->n; i++) {
		free(kv->keys[i]);
		free(kv->vals[i]);
	}
	free(kv->keys);
	free(kv->vals);
	memset(kv, 0, sizeof(*kv));
}

void sys_rows_init(struct sys_rows *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

void sys_rows_add(struct sys_rows *t, char *const *cells)
{
	char **row = xcalloc(t->ncols, sizeof(char *));
	size_t c;

	for (c = 0; c < t->ncols; c++)
		row[c] = xstrdup(cells[c] ? cells[c] : "");
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 32;
		t->rows = xreallocarray(t->rows, t->cap, sizeof(char **));
	}
	t->rows[t->n++] = row;
}

void sys_rows_free(struct sys_rows *t)
{
	size_t r, c;

	for (r = 0; r < t->n; r++) {
		for (c = 0; c < t->ncols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

char *sys_proc_read(const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", mw_procfs(), name);
	return read_whole_file(path);
}

bool sys_proc_get(const char *text, const char *key, long long *val)
{
	size_t kl = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, kl) && (p[kl] == ':' || p[kl] == ' ')) {
			p += kl + (p[kl] == ':');
			return sscanf(p, "%lld", val) == 1;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

unsigned long long sys_now_ns(void)
{
	struct timespec ts;

	if (mw_snap_current())
		return mw_snap_current()->now_ns;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void sys_ago(unsigned long long ns, char *buf, size_t len)
{
	unsigned long long s = ns / 1000000000ULL;

	if (s < 120)
		snprintf(buf, len, "%llus", s);
	else if (s < 7200)
		snprintf(buf, len, "%llum", s / 60);
	else if (s < 172800)
		snprintf(buf, len, "%lluh", s / 3600);
	else
		snprintf(buf, len, "%llud", s / 86400);
}
