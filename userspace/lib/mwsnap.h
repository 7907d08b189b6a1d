/*
 * mwsnap.h - a recorded moment standing in for the live system.
 *
 * memwatch-read --db rebuilds a sample of a recording (the files' text, the
 * task and thread rows, the sample's clock) and installs it here; from then
 * on the loaders (mw_file_load, read_whole_file under mw_root() and
 * mw_procfs(), tasks_tab_load, sys_now_ns) answer from it, so every view
 * prints a past moment through the same code as a live one.
 */
#ifndef MW_MWSNAP_H
#define MW_MWSNAP_H

#include <stdbool.h>
#include <stddef.h>

struct tasks_tab;

struct mw_snap {
	bool module;			/* the module's files were recorded */
	unsigned long long now_ns;	/* CLOCK_MONOTONIC of the sample */
	long long unix_ns;		/* CLOCK_REALTIME of the sample */
	char **names, **texts;		/* "sys", "proc/meminfo", ... */
	size_t nfiles;
	struct tasks_tab *tasks, *threads;	/* the rows (cells owned) */
};

/* Installs @s (NULL: back to the live system); the caller keeps it alive. */
void mw_snap_install(const struct mw_snap *s);
const struct mw_snap *mw_snap_current(void);
/*
 * The recorded text for @path under mw_root() or mw_procfs() while a
 * snapshot is installed: a malloc'd copy, or NULL with errno ENOENT.
 */
char *mw_snap_read(const char *path);
/* What mw_root() and mw_procfs() return while a snapshot is installed. */
const char *mw_snap_root(void);
const char *mw_snap_procfs(void);

#endif
