/* options.h - memwatch-read's one options struct. */
#ifndef MW_OPTIONS_H
#define MW_OPTIONS_H

#include <stdbool.h>
#include <sys/types.h>

enum mw_mode {
	MW_MODE_SUMMARY,
	MW_MODE_TASKS,
	MW_MODE_THREADS,
	MW_MODE_FRAG,
	MW_MODE_NODES,
	MW_MODE_FRAG_EVENTS,
	MW_MODE_SYS,
	MW_MODE_RECLAIM,
	MW_MODE_ALLOCFAIL,
	MW_MODE_STATUS,
	MW_MODE_EVENTS,		/* --db only */
	MW_MODE_HISTORY,	/* --db only */
	MW_MODE_COUNT
};

enum mw_format {
	MW_FMT_TEXT,
	MW_FMT_JSON,
	MW_FMT_CSV,
};

struct mw_opts {
	enum mw_mode mode;
	enum mw_format format;
	const char *sort_key;	/* column name, NULL: the view's default */
	bool sort_ascending;
	long top;		/* rows to show, 0: all */
	pid_t pid;		/* 0: every process */
	const char *comm;	/* NULL: every command */
	bool exact;		/* exact numbers instead of human units */
	double interval;	/* seconds between samples, 0: one sample */
	long count;		/* samples, 0: until interrupted */
	bool watch;		/* full-screen view on a tty */
	const char *zone;	/* --zone NAME */
	int order;		/* --order N, -1: every order */
	bool no_module;		/* answer from /proc only */
	bool color;		/* decided from isatty and --color */
	/* Replay (--db): replay.c */
	const char *db;		/* --db FILE, NULL: live */
	const char *at;		/* --at TIME */
	const char *from, *to;	/* --from, --to TIME */
	long long from_ns, to_ns;	/* parsed by replay_open */
	const char *calls;	/* --call mmap,munmap */
	const char *columns;	/* --column rss_kb,... */
	const char *cluster;	/* --cluster URL: Prometheus, NULL: this host */
};

#endif
