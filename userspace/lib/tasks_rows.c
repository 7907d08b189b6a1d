/* tasks_rows.c - rows for the tasks and threads views (see tasks_rows.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "memwatch_abi.h"
#include "mwfile.h"
#include "mwsnap.h"
#include "tasks_rows.h"
#include "util.h"

/* The module's columns, in its order (module/tasks.c prints them). */
static const char *const tasks_cols[] = {
	"pid", "ppid", "uid", "threads", "fds", "vsz_kb", "rss_kb",
	"rss_anon_kb", "rss_file_kb", "rss_shmem_kb", "swap_kb", "data_kb",
	"stack_kb", "pte_kb", "hwm_kb", "minflt", "majflt", "mmap_calls",
	"mmap_kb", "munmap_calls", "munmap_kb", "mapped_net_kb",
	"mremap_calls", "mremap_kb", "brk_calls", "brk_kb", "page_allocs",
	"stall_count", "stall_ns", "allocfail", "share_pm", "comm",
};

static const char *const threads_cols[] = {
	"tid", "tgid", "minflt", "majflt", "mmap_calls", "mmap_kb",
	"munmap_calls", "munmap_kb", "mremap_calls", "mremap_kb", "brk_calls",
	"brk_kb", "page_allocs", "stall_count", "stall_ns", "allocfail", "comm",
};

/* What a person sees by default; the rest is in --json and --csv. */
static const char *const tasks_compact[] = {
	"pid", "ppid", "threads", "vsz_kb", "rss_kb", "rss_anon_kb",
	"rss_file_kb", "rss_shmem_kb", "swap_kb", "majflt", "mmap_calls",
	"mmap_kb", "munmap_calls", "munmap_kb", "mapped_net_kb", "page_allocs",
	"stall_count", "stall_ns", "allocfail", "share_pm", "comm",
};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

const char *const *tasks_tab_columns(bool threads, size_t *n)
{
	*n = threads ? NELEMS(threads_cols) : NELEMS(tasks_cols);
	return threads ? threads_cols : tasks_cols;
}

bool tasks_col_compact(const struct tasks_tab *t, const char *col)
{
	size_t i;

	if (t->threads)
		return true;
	for (i = 0; i < NELEMS(tasks_compact); i++)
		if (!strcmp(tasks_compact[i], col))
			return true;
	return false;
}

static void tab_set_cols(struct tasks_tab *t, const char *const *cols, size_t n)
{
	size_t i;

	t->cols = xcalloc(n, sizeof(char *));
	for (i = 0; i < n; i++)
		t->cols[i] = xstrdup(cols[i]);
	t->ncols = n;
}

/* Cells from the module's file point into t->buf; others were allocated. */
static void tab_cell_free(const struct tasks_tab *t, char *cell)
{
	uintptr_t p = (uintptr_t)cell, b = (uintptr_t)t->buf;

	if (!t->buf || p < b || p >= b + t->buflen)
		free(cell);
}

static char **tab_add_row(struct tasks_tab *t)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->rows = xreallocarray(t->rows, t->cap, sizeof(*t->rows));
	}
	t->rows[t->nrows] = xcalloc(t->ncols, sizeof(char *));
	return t->rows[t->nrows++];
}

static int tab_col(const struct tasks_tab *t, const char *col)
{
	size_t c;

	for (c = 0; c < t->ncols; c++)
		if (!strcmp(t->cols[c], col))
			return (int)c;
	return -1;
}

static void row_set(const struct tasks_tab *t, char **row, const char *col,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void row_set(const struct tasks_tab *t, char **row, const char *col,
		    const char *fmt, ...)
{
	int c = tab_col(t, col);
	va_list ap;

	if (c < 0)
		return;
	tab_cell_free(t, row[c]);
	va_start(ap, fmt);
	if (vasprintf(&row[c], fmt, ap) < 0)
		row[c] = NULL;
	va_end(ap);
	if (!row[c])
		row[c] = xstrdup("?");
}

/* --- from the module --- */

/* The table of a loaded file: the section whose first column is @key. */
static int tab_take(struct tasks_tab *t, struct mw_file *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->nsections; i++) {
		struct mw_section *s = &f->sections[i];

		if (s->ncols < 2 || strcmp(s->cols[0], key))
			continue;
		t->cols = s->cols;
		t->ncols = s->ncols;
		t->rows = s->rows;
		t->nrows = s->nrows;
		t->cap = s->cap;
		t->buf = f->buf;	/* the cells point into it */
		t->buflen = f->buflen;
		f->buf = NULL;
		s->cols = NULL;
		s->ncols = 0;
		s->rows = NULL;
		s->nrows = 0;
		return 0;
	}
	return -1;
}

#define TASKS_PROC_SUPER_MAGIC	0x9fa0	/* linux/magic.h PROC_SUPER_MAGIC */

/* Reads fd to the end into a NUL-terminated buffer. */
static char *read_fd(int fd)
{
	size_t len = 0, cap = 65536;
	char *buf = xcalloc(cap + 1, 1);
	ssize_t n;

	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = xreallocarray(buf, cap + 1, 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

/*
 * threads of one process: write the pid to our own open file of threads
 * (a filter for this file only, see module/tasks.c), then read it. Without
 * write permission, read everything and filter here.
 * Returns 0, 1 after an error, or -1 to fall back to a plain read.
 */
static int load_threads_of(struct mw_file *f, int pid, char *err, size_t len)
{
	char path[4096], cmd[32];
	struct statfs sfs;
	char *text;
	int fd, n, ret;

	snprintf(path, sizeof(path), "%s/%s", mw_root(), MW_FILE_THREADS);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -1;
	/* Never write into a copy ($MEMWATCH_ROOT fixtures): procfs only. */
	if (fstatfs(fd, &sfs) || sfs.f_type != TASKS_PROC_SUPER_MAGIC) {
		close(fd);
		return -1;
	}
	n = snprintf(cmd, sizeof(cmd), "%d\n", pid);
	if (write(fd, cmd, (size_t)n) != n) {
		int e = errno;

		close(fd);
		if (e == ESRCH && pid > 0) {
			snprintf(err, len, "no process %d", pid);
			return 1;
		}
		return -1;
	}
	text = read_fd(fd);
	close(fd);
	if (!text) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return 1;
	}
	ret = mw_file_parse(f, MW_FILE_THREADS, text, err, len);
	free(text);
	return ret ? 1 : 0;
}

static int tab_load_module(struct tasks_tab *t, bool threads, int pid)
{
	const char *name = threads ? MW_FILE_THREADS : MW_FILE_TASKS;
	struct mw_file f;
	char err[4608];	/* room for a path */
	int ret = -1;

	/* Even for every thread: our own filter, not threads_pid's default. */
	if (threads)
		ret = load_threads_of(&f, pid, err, sizeof(err));
	if (ret < 0)
		ret = mw_file_load(&f, name, err, sizeof(err)) ? 1 : 0;
	if (ret) {
		fprintf(stderr, "%s: %s\n", mw_prog, err);
		return 1;
	}
	if (tab_take(t, &f, threads ? "tid" : "pid")) {
		fprintf(stderr, "%s: %s/%s: no table with a '%s' column\n",
			mw_prog, mw_root(), name, threads ? "tid" : "pid");
		mw_file_free(&f);
		return 1;
	}
	mw_file_free(&f);
	t->from_module = true;
	return 0;
}

/* --- from /proc --- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static long long meminfo_total_kb(void)
{
	char path[4096], *text, *p;
	long long kb = 0;

	snprintf(path, sizeof(path), "%s/meminfo", mw_procfs());
	text = read_whole_file(path);
	if (!text)
		return 0;
	p = strstr(text, "MemTotal:");
	if (p)
		kb = strtoll(p + 9, NULL, 10);
	free(text);
	return kb;
}

/*
 * /proc/PID/stat: "pid (comm) state ppid ... minflt cminflt majflt ...".
 * comm may hold spaces and parentheses: it ends at the last ')'.
 */
static int parse_stat(const char *path, char *comm, size_t commlen,
		      long *ppid, unsigned long long *minflt,
		      unsigned long long *majflt)
{
	char *text = read_whole_file(path), *open, *close, *f, *save = NULL;
	size_t n;
	int i;

	if (!text)
		return -1;
	open = strchr(text, '(');
	close = strrchr(text, ')');
	if (!open || !close || close < open) {
		free(text);
		return -1;
	}
	n = (size_t)(close - open - 1);
	if (n >= commlen)
		n = commlen - 1;
	memcpy(comm, open + 1, n);
	comm[n] = '\0';
	for (i = 0; comm[i]; i++)
		if ((unsigned char)comm[i] < ' ' || comm[i] == 0x7f)
			comm[i] = '?';
	/* Field 3 (state) is the first after ')'. */
	for (i = 3, f = strtok_r(close + 1, " ", &save); f;
	     i++, f = strtok_r(NULL, " ", &save)) {
		if (i == 4)
			*ppid = strtol(f, NULL, 10);
		else if (i == 10)
			*minflt = strtoull(f, NULL, 10);
		else if (i == 12)
			*majflt = strtoull(f, NULL, 10);
	}
	free(text);
	return i > 12 ? 0 : -1;
}

/* A "Key:\tvalue" field of /proc/PID/status, or -1. */
static long long status_field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while ((p = strstr(p, key))) {
		if ((p == text || p[-1] == '\n') && p[klen] == ':')
			return strtoll(p + klen + 1, NULL, 10);
		p += klen;
	}
	return -1;
}

static long count_fds(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	long n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void set_kb(const struct tasks_tab *t, char **row, const char *col,
		   long long kb)
{
	if (kb < 0)
		row_set(t, row, col, "-");
	else
		row_set(t, row, col, "%lld", kb);
}

/* Event columns are the module's alone. */
static void fill_unavailable(const struct tasks_tab *t, char **row)
{
	size_t c;

	for (c = 0; c < t->ncols; c++)
		if (!row[c])
			row[c] = xstrdup("-");
}

static void proc_add_task(struct tasks_tab *t, const char *pid,
			  long long mem_total_kb)
{
	char path[4096], comm[64], *status;
	unsigned long long minflt = 0, majflt = 0;
	long long rss, vsz;
	long ppid = 0, fds;
	char **row;

	snprintf(path, sizeof(path), "%s/%s/stat", mw_procfs(), pid);
	if (parse_stat(path, comm, sizeof(comm), &ppid, &minflt, &majflt))
		return;		/* gone since readdir */
	snprintf(path, sizeof(path), "%s/%s/status", mw_procfs(), pid);
	status = read_whole_file(path);
	if (!status)
		return;
	vsz = status_field(status, "VmSize");
	if (vsz < 0) {		/* kernel thread: no mm, as in the module */
		free(status);
		return;
	}
	rss = status_field(status, "VmRSS");
	row = tab_add_row(t);
	row_set(t, row, "pid", "%s", pid);
	row_set(t, row, "ppid", "%ld", ppid);
	row_set(t, row, "uid", "%lld", status_field(status, "Uid"));
	row_set(t, row, "threads", "%lld", status_field(status, "Threads"));
	snprintf(path, sizeof(path), "%s/%s/fd", mw_procfs(), pid);
	fds = count_fds(path);
	set_kb(t, row, "fds", fds);
	set_kb(t, row, "vsz_kb", vsz);
	set_kb(t, row, "rss_kb", rss);
	set_kb(t, row, "rss_anon_kb", status_field(status, "RssAnon"));
	set_kb(t, row, "rss_file_kb", status_field(status, "RssFile"));
	set_kb(t, row, "rss_shmem_kb", status_field(status, "RssShmem"));
	set_kb(t, row, "swap_kb", status_field(status, "VmSwap"));
	set_kb(t, row, "data_kb", status_field(status, "VmData"));
	set_kb(t, row, "stack_kb", status_field(status, "VmStk"));
	set_kb(t, row, "pte_kb", status_field(status, "VmPTE"));
	set_kb(t, row, "hwm_kb", status_field(status, "VmHWM"));
	row_set(t, row, "minflt", "%llu", minflt);
	row_set(t, row, "majflt", "%llu", majflt);
	if (mem_total_kb > 0 && rss >= 0)
		row_set(t, row, "share_pm", "%lld", rss * 1000 / mem_total_kb);
	row_set(t, row, "comm", "%s", comm);
	fill_unavailable(t, row);
	free(status);
}

static void proc_add_threads(struct tasks_tab *t, const char *pid)
{
	char path[4096], comm[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s/task", mw_procfs(), pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		unsigned long long minflt = 0, majflt = 0;
		long ppid = 0;
		char **row;

		if (!all_digits(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s/task/%s/stat", mw_procfs(),
			 pid, de->d_name);
		if (parse_stat(path, comm, sizeof(comm), &ppid, &minflt,
			       &majflt))
			continue;
		/* Kernel threads: no mm; their VmSize line is missing. */
		row = tab_add_row(t);
		row_set(t, row, "tid", "%s", de->d_name);
		row_set(t, row, "tgid", "%s", pid);
		row_set(t, row, "minflt", "%llu", minflt);
		row_set(t, row, "majflt", "%llu", majflt);
		row_set(t, row, "comm", "%s", comm);
		fill_unavailable(t, row);
	}
	closedir(d);
}

static bool proc_is_kthread(const char *pid)
{
	char path[4096], *status;
	bool kthread;

	snprintf(path, sizeof(path), "%s/%s/status", mw_procfs(), pid);
	status = read_whole_file(path);
	if (!status)
		return true;
	kthread = status_field(status, "VmSize") < 0;
	free(status);
	return kthread;
}

static int tab_load_proc(struct tasks_tab *t, bool threads, int pid)
{
	long long mem_total_kb = meminfo_total_kb();
	struct dirent *de;
	DIR *d;

	if (threads)
		tab_set_cols(t, threads_cols, NELEMS(threads_cols));
	else
		tab_set_cols(t, tasks_cols, NELEMS(tasks_cols));
	if (threads && pid > 0) {
		char name[32];

		snprintf(name, sizeof(name), "%d", pid);
		if (!proc_is_kthread(name))
			proc_add_threads(t, name);
		return 0;
	}
	d = opendir(mw_procfs());
	if (!d) {
		fprintf(stderr, "%s: %s: %s\n", mw_prog, mw_procfs(),
			strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		if (!all_digits(de->d_name))
			continue;
		if (!threads)
			proc_add_task(t, de->d_name, mem_total_kb);
		else if (!proc_is_kthread(de->d_name))
			proc_add_threads(t, de->d_name);
	}
	closedir(d);
	return 0;
}

/* A recorded moment: a copy of its rows, as the module or /proc gave them. */
static int tab_load_snap(struct tasks_tab *t, const struct mw_snap *s,
			 bool no_module, bool threads, int pid,
			 mw_note_fn *note)
{
	const struct tasks_tab *src = threads ? s->threads : s->tasks;
	size_t r, c;

	if (!s->module || no_module) {
		if (note)
			note(no_module, threads ? "threads" : "processes");
	}
	if (!src) {
		fprintf(stderr, "%s: the recording has no %s at this moment\n",
			mw_prog, threads ? "threads" : "processes");
		return 1;
	}
	t->from_module = src->from_module;
	t->cols = xcalloc(src->ncols, sizeof(char *));
	for (c = 0; c < src->ncols; c++)
		t->cols[c] = xstrdup(src->cols[c]);
	t->ncols = src->ncols;
	for (r = 0; r < src->nrows; r++) {
		char **row;

		if (threads && pid > 0 &&
		    strtol(src->rows[r][1], NULL, 10) != pid)
			continue;	/* tgid */
		row = tab_add_row(t);
		for (c = 0; c < src->ncols; c++)
			row[c] = xstrdup(src->rows[r][c]);
	}
	return 0;
}

int tasks_tab_load(struct tasks_tab *t, bool no_module, bool threads, int pid,
		   mw_note_fn *note)
{
	memset(t, 0, sizeof(*t));
	t->threads = threads;
	if (mw_snap_current())
		return tab_load_snap(t, mw_snap_current(), no_module, threads,
				     pid, note);
	if (!no_module && mw_module_present())
		return tab_load_module(t, threads, pid);
	if (note)
		note(no_module, threads ? "threads" : "processes");
	return tab_load_proc(t, threads, pid);
}

void tasks_tab_filter(struct tasks_tab *t, int pid, const char *comm)
{
	int cpid = tab_col(t, t->threads ? "tgid" : "pid");
	int ccomm = tab_col(t, "comm");
	size_t r, kept = 0;

	for (r = 0; r < t->nrows; r++) {
		char **row = t->rows[r];
		bool keep = true;
		size_t c;

		if (pid > 0 && cpid >= 0 && strtol(row[cpid], NULL, 10) != pid)
			keep = false;
		if (comm && ccomm >= 0 && strcmp(row[ccomm], comm))
			keep = false;
		if (keep) {
			t->rows[kept++] = row;
			continue;
		}
		for (c = 0; c < t->ncols; c++)
			tab_cell_free(t, row[c]);
		free(row);
	}
	t->nrows = kept;
}

int tasks_tab_key(const struct tasks_tab *t, const char *key)
{
	static const char *const suffixes[] = {
		"", "_kb", "_ns", "_calls", "_count", "_pm", "_pages",
	};
	static const char *const aliases[][2] = {
		{ "mem", "rss_kb" }, { "res", "rss_kb" }, { "virt", "vsz_kb" },
		{ "faults", "minflt" }, { "command", "comm" }, { "cmd", "comm" },
		{ "name", "comm" }, { "net", "mapped_net_kb" },
		{ "pages", "page_allocs" }, { "fail", "allocfail" },
	};
	char buf[128];
	size_t i;
	int c;

	for (i = 0; i < NELEMS(aliases); i++)
		if (!strcmp(key, aliases[i][0]))
			key = aliases[i][1];
	if (t->threads && !strcmp(key, "pid"))
		key = "tid";
	for (i = 0; i < NELEMS(suffixes); i++) {
		snprintf(buf, sizeof(buf), "%s%s", key, suffixes[i]);
		c = tab_col(t, buf);
		if (c >= 0)
			return c;
	}
	return -1;
}

const char *tasks_tab_default_key(const struct tasks_tab *t)
{
	return t->threads ? "minflt" : "rss_kb";
}

/* Sort keys parsed once per row, not once per comparison. */
struct sort_item {
	char **row;
	const char *text;
	long long num;
	long long tie;		/* first column (pid/tid), ascending */
	bool unavailable;	/* "-": always last */
};

static bool sort_ascending;
static bool sort_numeric;

static bool cell_number(const char *s, long long *v)
{
	char *end;

	if (!*s || !strcmp(s, "-"))
		return false;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return !errno && *end == '\0';
}

static int cmp_items(const void *pa, const void *pb)
{
	const struct sort_item *a = pa, *b = pb;
	int d;

	if (a->unavailable != b->unavailable)
		return a->unavailable ? 1 : -1;
	if (sort_numeric)
		d = a->num < b->num ? -1 : a->num > b->num;
	else
		d = strcmp(a->text, b->text);
	if (!sort_ascending)
		d = -d;
	if (!d)
		d = a->tie < b->tie ? -1 : a->tie > b->tie;
	return d;
}

void tasks_tab_sort(struct tasks_tab *t, int col, bool ascending)
{
	struct sort_item *items;
	size_t r;

	if (col < 0 || (size_t)col >= t->ncols || t->nrows < 2)
		return;
	items = xcalloc(t->nrows, sizeof(*items));
	sort_ascending = ascending;
	sort_numeric = true;
	for (r = 0; r < t->nrows; r++) {
		struct sort_item *it = &items[r];

		it->row = t->rows[r];
		it->text = it->row[col];
		it->unavailable = !strcmp(it->text, "-");
		if (!it->unavailable && !cell_number(it->text, &it->num))
			sort_numeric = false;
		if (!cell_number(it->row[0], &it->tie))
			it->tie = 0;
	}
	qsort(items, t->nrows, sizeof(*items), cmp_items);
	for (r = 0; r < t->nrows; r++)
		t->rows[r] = items[r].row;
	free(items);
}

void tasks_tab_free(struct tasks_tab *t)
{
	size_t r, c;

	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++)
			tab_cell_free(t, t->rows[r][c]);
		free(t->rows[r]);
	}
	for (c = 0; c < t->ncols; c++)
		tab_cell_free(t, t->cols[c]);
	free(t->buf);
	free(t->rows);
	free(t->cols);
	memset(t, 0, sizeof(*t));
}
