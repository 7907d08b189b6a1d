/*
 * suspects_cmd.c - memwatch-read --suspects: samples every process's
 * memory across a window (or reads a memwatchd recording), then reports
 * the trend suspects and allocation-rate anomalies of lib/suspects.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "memwatch_abi.h"
#include "mwfile.h"
#include "options.h"
#include "output.h"
#include "suspects.h"
#include "suspects_cmd.h"
#include "sys_util.h"
#include "tasks_rows.h"
#include "timearg.h"
#include "util.h"
#include "views.h"

/* Points kept per process: the trend test is O(n^2) in them. */
#define SUS_MAX_POINTS		240
#define SUS_DEFAULT_WINDOW	60.0
#define SUS_DEFAULT_INTERVAL	2.0
#define SUS_APPLICATION_ID	0x4d574154	/* "MWAT", as memwatchd writes */

struct sus_opts {
	double window, interval;	/* seconds; window 0: not given */
	enum mw_format format;
	bool exact, no_module;
	const char *db, *from, *to;
	const char *save_samples;	/* live: write the samples analysed here */
	const char *samples;		/* analyse a file --save-samples wrote */
	pid_t pid;
	const char *comm;
	struct sus_params p;
};

/* What the report says about where the figures came from. */
struct sus_source {
	const char *kind;	/* "module", "procfs", "recording" */
	double window_s;
	size_t samples;
	double avail_kb;	/* < 0: unknown */
};

static volatile sig_atomic_t sus_stop;

static void sus_on_signal(int sig)
{
	(void)sig;
	sus_stop = 1;
}

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: memwatch-read --suspects [--window DURATION] [--interval SECS] [--json|--csv]\n"
"       memwatch-read --suspects --db FILE [--from TIME] [--to TIME] [--window DURATION]\n"
"Which processes look like they leak, from the trend of their memory, and which\n"
"allocate far more than usual; nothing is attached to them (Documentation/suspects.md).\n"
"Live, samples every process every --interval across --window, then reports;\n"
"with --db, reads a memwatchd recording (default: all of it; --window ends at\n"
"--to or the latest sample).\n"
"\n"
"Options:\n"
"      --window DURATION   span analysed: 90, 90s, 10m, 2h, 1d (live default 60s)\n"
"  -i, --interval SECS     live: seconds between samples (default 2)\n"
"      --db FILE           a memwatchd recording instead of live sampling\n"
"      --from TIME, --to TIME  span of the recording (ISO 8601, epoch, -10m)\n"
"  -p, --pid PID           report only this process\n"
"  -c, --comm NAME         report only processes whose command is NAME\n"
"      --json, --csv       for programs (CSV: one table, a kind column)\n"
"  -b, --exact             exact numbers instead of human units\n"
"      --no-module         live: from /proc only (rss_anon_kb alone)\n"
"      --save-samples FILE also write every sample analysed to FILE (text)\n"
"      --samples FILE      analyse a FILE --save-samples wrote, not live samples\n"
"\n"
"Trend thresholds (a suspect passes all):\n"
"      --alpha P           Mann-Kendall one-sided p below P (default 0.001)\n"
"      --min-growth KB     growth of the lower envelope, KiB (default 1024)\n"
"      --min-rel-growth F  ... and at least F of the level at onset (default 0.05)\n"
"      --min-held F        trend held over at least F of the window (default 0.5)\n"
"      --max-drawdown F    largest fall at most F of the growth (default 0.25)\n"
"      --min-samples N     points in the trend, at least (default 8)\n"
"Allocation-rate anomalies (an anomaly passes all):\n"
"      --anomaly-k K       K MADs above its own and the host's median (default 5)\n"
"      --anomaly-factor F  F times its own and the host's median (default 4)\n"
"      --recent F          the last F of the window is \"now\" (default 0.2)\n"
"      --min-call-rate N   mmap+brk calls per second, at least (default 100)\n"
"      --min-alloc-rate KB mapped+brk KiB per second, at least (default 10240)\n"
"      --min-page-rate N   pages allocated per second, at least (default 2560)\n"
"  -h, --help              this help\n"
"\n"
"Examples:\n"
"  memwatch-read --suspects                           a minute, every 2 s\n"
"  memwatch-read --suspects --window 30 --interval 0.5 --json\n"
"  memwatch-read --suspects --db rec.db --window 6h   the last six recorded hours\n"
"  memwatch-read --suspects --db rec.db --from -1d --to -12h --csv\n");
}

static bool parse_fraction(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

enum {
	OPT_SUSPECTS = 256, OPT_WINDOW, OPT_DB, OPT_FROM, OPT_TO, OPT_JSON,
	OPT_CSV, OPT_NO_MODULE, OPT_ALPHA, OPT_MIN_GROWTH, OPT_MIN_REL,
	OPT_MIN_HELD, OPT_MAX_DRAWDOWN, OPT_MIN_SAMPLES, OPT_K, OPT_FACTOR,
	OPT_RECENT, OPT_CALL_RATE, OPT_ALLOC_RATE, OPT_PAGE_RATE,
	OPT_SAVE_SAMPLES, OPT_SAMPLES,
};

static const struct option long_options[] = {
	{ "suspects", no_argument, NULL, OPT_SUSPECTS },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "interval", required_argument, NULL, 'i' },
	{ "db", required_argument, NULL, OPT_DB },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "pid", required_argument, NULL, 'p' },
	{ "comm", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "exact", no_argument, NULL, 'b' },
	{ "no-module", no_argument, NULL, OPT_NO_MODULE },
	{ "save-samples", required_argument, NULL, OPT_SAVE_SAMPLES },
	{ "samples", required_argument, NULL, OPT_SAMPLES },
	{ "alpha", required_argument, NULL, OPT_ALPHA },
	{ "min-growth", required_argument, NULL, OPT_MIN_GROWTH },
	{ "min-rel-growth", required_argument, NULL, OPT_MIN_REL },
	{ "min-held", required_argument, NULL, OPT_MIN_HELD },
	{ "max-drawdown", required_argument, NULL, OPT_MAX_DRAWDOWN },
	{ "min-samples", required_argument, NULL, OPT_MIN_SAMPLES },
	{ "anomaly-k", required_argument, NULL, OPT_K },
	{ "anomaly-factor", required_argument, NULL, OPT_FACTOR },
	{ "recent", required_argument, NULL, OPT_RECENT },
	{ "min-call-rate", required_argument, NULL, OPT_CALL_RATE },
	{ "min-alloc-rate", required_argument, NULL, OPT_ALLOC_RATE },
	{ "min-page-rate", required_argument, NULL, OPT_PAGE_RATE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* A threshold option: @name for the message, bounds inclusive. */
static int threshold(const char *name, const char *arg, double lo, double hi,
		     double *out)
{
	char fmt[160];

	if (parse_fraction(arg, lo, hi, out))
		return 0;
	snprintf(fmt, sizeof(fmt), "bad %s '%%s': want a number in %g..%g", name, lo, hi);
	return usage_error(fmt, arg);
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct sus_opts *o)
{
	double v;
	long l;
	int c, err = 0;
	char culprit[3];

	memset(o, 0, sizeof(*o));
	sus_params_default(&o->p);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":i:p:c:bh", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_SUSPECTS:
			break;
		case OPT_WINDOW:
			if (!parse_duration(optarg, &o->window) || o->window <= 0)
				return usage_error("bad --window '%s': want a duration "
						   "(90, 90s, 10m, 2h, 1d)", optarg);
			break;
		case 'i':
			if (!parse_seconds(optarg, &o->interval))
				return usage_error("bad --interval '%s': want seconds > 0", optarg);
			break;
		case OPT_DB:
			o->db = optarg;
			break;
		case OPT_FROM:
			o->from = optarg;
			break;
		case OPT_TO:
			o->to = optarg;
			break;
		case 'p':
			if (!parse_long(optarg, 1, 1L << 22, &l))
				return usage_error("bad --pid '%s': want a process id", optarg);
			o->pid = (pid_t)l;
			break;
		case 'c':
			o->comm = optarg;
			break;
		case OPT_JSON:
			o->format = MW_FMT_JSON;
			break;
		case OPT_CSV:
			o->format = MW_FMT_CSV;
			break;
		case 'b':
			o->exact = true;
			break;
		case OPT_NO_MODULE:
			o->no_module = true;
			break;
		case OPT_SAVE_SAMPLES:
			o->save_samples = optarg;
			break;
		case OPT_SAMPLES:
			o->samples = optarg;
			break;
		case OPT_ALPHA:
			err = threshold("--alpha", optarg, 1e-300, 0.5, &o->p.alpha);
			break;
		case OPT_MIN_GROWTH:
			err = threshold("--min-growth", optarg, 0, 1e12, &o->p.min_growth_kb);
			break;
		case OPT_MIN_REL:
			err = threshold("--min-rel-growth", optarg, 0, 100, &o->p.min_rel_growth);
			break;
		case OPT_MIN_HELD:
			err = threshold("--min-held", optarg, 0, 1, &o->p.min_held);
			break;
		case OPT_MAX_DRAWDOWN:
			err = threshold("--max-drawdown", optarg, 0, 1e6, &o->p.max_drawdown);
			break;
		case OPT_MIN_SAMPLES:
			if (!parse_long(optarg, 4, SUS_MAX_POINTS, &l))
				return usage_error("bad --min-samples '%s': want 4..240", optarg);
			o->p.min_samples = (size_t)l;
			break;
		case OPT_K:
			err = threshold("--anomaly-k", optarg, 0, 1e6, &o->p.anomaly_k);
			break;
		case OPT_FACTOR:
			err = threshold("--anomaly-factor", optarg, 1, 1e6, &o->p.anomaly_factor);
			break;
		case OPT_RECENT:
			err = threshold("--recent", optarg, 0.01, 0.5, &o->p.recent);
			break;
		case OPT_CALL_RATE:
			err = threshold("--min-call-rate", optarg, 0, 1e12, &v);
			o->p.min_rate[SUS_CALL_RATE] = v;
			break;
		case OPT_ALLOC_RATE:
			err = threshold("--min-alloc-rate", optarg, 0, 1e12, &v);
			o->p.min_rate[SUS_ALLOC_RATE] = v;
			break;
		case OPT_PAGE_RATE:
			err = threshold("--min-page-rate", optarg, 0, 1e12, &v);
			o->p.min_rate[SUS_PAGE_RATE] = v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return getopt_error(c, argv);
		default:
			return usage_error("'%s' does not go with --suspects", getopt_culprit(argv, culprit));
		}
		if (err)
			return err;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->db && (o->from || o->to))
		return usage_error("%s needs --db FILE", o->from ? "--from" : "--to");
	if (o->db && o->interval)
		return usage_error("%s: --interval is for live sampling (a recording "
				   "has its own)", "--db");
	if (o->db && o->no_module)
		return usage_error("%s: --no-module is for live sampling", "--db");
	if (o->save_samples && (o->db || o->samples))
		return usage_error("%s: --save-samples is for live sampling",
				   o->db ? "--db" : "--samples");
	if (o->samples && (o->db || o->interval || o->no_module || o->window ||
			   o->from || o->to))
		return usage_error("%s: a samples file has its own window and source "
				   "(give it alone, with thresholds)", "--samples");
	if (o->db && o->from && o->window)
		return usage_error("%s: give --window or --from, not both", "--db");
	if (!o->db && !o->samples) {
		if (!o->window)
			o->window = SUS_DEFAULT_WINDOW;
		if (!o->interval)
			o->interval = SUS_DEFAULT_INTERVAL;
		if (o->window / o->interval + 1 < o->p.min_samples) {
			char msg[200];

			snprintf(msg, sizeof(msg), "--window %gs at --interval %gs gives "
				 "%.0f samples; the trend test needs %zu: lengthen --window "
				 "or shorten --interval", o->window, o->interval,
				 floor(o->window / o->interval) + 1, o->p.min_samples);
			return usage_error("%s", msg);
		}
	}
	return -1;
}

/* ------------------------------------------------------------ live */

static double mono_s(void)
{
	return sys_now_ns() / 1e9;
}

static double meminfo_available_kb(const char *text)
{
	long long v;

	return text && sys_proc_get(text, "MemAvailable", &v) ? (double)v : -1;
}

static void sleep_until(double t)
{
	double d;
	struct timespec ts;

	while (!sus_stop && (d = t - mono_s()) > 0) {
		ts.tv_sec = (time_t)d;
		ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

static int sample_live(const struct sus_opts *o, struct sus_set *set,
		       struct sus_source *src)
{
	size_t n = (size_t)floor(o->window / o->interval + 1e-9) + 1, i;
	double t0 = mono_s();
	char *meminfo;

	sus_set_init(set, 0, o->window * (1 + 1e-6), SUS_MAX_POINTS);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "%s: sampling every process %zu times over %gs "
			"(Ctrl-C reports early)\n", mw_prog, n, o->window);
	src->kind = "module";
	for (i = 0; i < n && !sus_stop; i++) {
		struct tasks_tab tab;
		double t;

		sleep_until(t0 + i * o->interval);
		if (sus_stop)
			break;
		/*
		 * The sample's time is when it was read, not when it was due: on
		 * a loaded host a sample comes late, and reading every process
		 * takes a while, so stamp the middle of the read.
		 */
		t = mono_s();
		memset(&tab, 0, sizeof(tab));
		if (tasks_tab_load(&tab, o->no_module, false, 0,
				   i ? NULL : read_note)) {
			fprintf(stderr, "%s: --suspects: no process data (neither %s/tasks "
				"nor %s/PID/status could be read)\n", mw_prog, mw_root(),
				mw_procfs());
			return 1;
		}
		if (!tab.nrows) {
			fprintf(stderr, "%s: no process data: neither %s/tasks nor "
				"%s/PID/status gave a row\n", mw_prog, mw_root(), mw_procfs());
			tasks_tab_free(&tab);
			return 1;
		}
		t = (t + mono_s()) / 2 - t0;
		if (!tab.from_module)
			src->kind = "procfs";
		sus_set_add_tab(set, t, &tab);
		tasks_tab_free(&tab);
		src->samples = i + 1;
		src->window_s = t;
	}
	meminfo = sys_proc_read("meminfo");
	src->avail_kb = meminfo_available_kb(meminfo);
	free(meminfo);
	return 0;
}

/* ------------------------------------------------------------ recording */

static sqlite3 *db;
static const char *db_path;

static int db_fail(const char *what)
{
	fprintf(stderr, "%s: %s: %s: %s\n", mw_prog, db_path, what, sqlite3_errmsg(db));
	return 1;
}

static long long db_int(const char *sql, long long a, long long b, long long dflt)
{
	sqlite3_stmt *q;
	long long v = dflt;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_bind_parameter_count(q) >= 1)
		sqlite3_bind_int64(q, 1, a);
	if (sqlite3_bind_parameter_count(q) >= 2)
		sqlite3_bind_int64(q, 2, b);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static int db_open(const char *path)
{
	char head[16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	db_path = path;
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", mw_prog, path, strerror(errno));
		return 1;
	}
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n != sizeof(head) || memcmp(head, "SQLite format 3", 16)) {
		fprintf(stderr, "%s: %s: not a memwatch recording (not an SQLite "
			"database)\n", mw_prog, path);
		return 1;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return db_fail("open");
	sqlite3_busy_timeout(db, 5000);
	if (db_int("PRAGMA application_id", 0, 0, -1) != SUS_APPLICATION_ID) {
		fprintf(stderr, "%s: %s: not a memwatch recording (application_id)\n",
			mw_prog, path);
		return 1;
	}
	return 0;
}

static long long wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int time_arg(const char *name, const char *arg, long long *ns)
{
	if (parse_time_arg(arg, wall_ns(), ns))
		return 0;
	return usage_error(TIME_ARG_WANT, name, arg);
}

/* A process's latest recorded figures while rebuilding samples. */
struct rec_proc {
	int pid;
	bool live;
	char comm[32];
	double v[SUS_NFIELDS];
};

struct rec_state {
	struct rec_proc *p;
	size_t n, cap;
};

static struct rec_proc *rec_find(struct rec_state *st, int pid)
{
	size_t lo = 0, hi = st->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (st->p[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < st->n && st->p[lo].pid == pid)
		return &st->p[lo];
	if (st->n == st->cap) {
		st->cap = st->cap ? 2 * st->cap : 256;
		st->p = xreallocarray(st->p, st->cap, sizeof(*st->p));
	}
	memmove(&st->p[lo + 1], &st->p[lo], (st->n - lo) * sizeof(*st->p));
	st->n++;
	memset(&st->p[lo], 0, sizeof(*st->p));
	st->p[lo].pid = pid;
	return &st->p[lo];
}

static void rec_emit(struct rec_state *st, struct sus_set *set, double t)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (st->p[i].live)
			sus_set_add(set, t, st->p[i].pid, st->p[i].comm, st->p[i].v);
}

/* The task columns of the query, in enum sus_field order. */
static const char rec_sql[] =
	"SELECT s.id, s.time_unix_ns, s.full, t.pid, t.gone, t.rss_anon_kb, "
	"t.mapped_net_kb, t.brk_kb, t.page_allocs, t.mmap_calls, t.mmap_kb, "
	"t.brk_calls, t.comm FROM sample s LEFT JOIN task t ON t.sample_id = s.id "
	"WHERE s.id BETWEEN ? AND ? ORDER BY s.id, t.pid";

/*
 * Rebuilds every sample between @first and @last (ids) from the full
 * sample at or before @first: a task row holds until the next row of that
 * pid, a full sample lists every process (Documentation/recording.md).
 */
static int rec_series(long long first, long long last, long long start_ns,
		      struct sus_set *set)
{
	long long base = db_int("SELECT max(id) FROM sample WHERE full = 1 AND id <= ?",
				first, 0, first);
	long long cur = -1, cur_ns = 0;
	struct rec_state st = { 0 };
	sqlite3_stmt *q;
	int rc, f;

	if (sqlite3_prepare_v2(db, rec_sql, -1, &q, NULL) != SQLITE_OK)
		return db_fail("task rows");
	sqlite3_bind_int64(q, 1, base);
	sqlite3_bind_int64(q, 2, last);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(q, 0);
		struct rec_proc *pr;
		const char *comm;

		if (id != cur) {
			if (cur >= first)
				rec_emit(&st, set, (cur_ns - start_ns) / 1e9);
			cur = id;
			cur_ns = sqlite3_column_int64(q, 1);
			if (sqlite3_column_int(q, 2))	/* a full sample: every process */
				for (size_t i = 0; i < st.n; i++)
					st.p[i].live = false;
		}
		if (sqlite3_column_type(q, 3) == SQLITE_NULL)
			continue;	/* a sample where no task changed */
		pr = rec_find(&st, sqlite3_column_int(q, 3));
		pr->live = !sqlite3_column_int(q, 4);
		if (!pr->live)
			continue;
		for (f = 0; f < SUS_NFIELDS; f++)
			pr->v[f] = sqlite3_column_type(q, 5 + f) == SQLITE_NULL ? NAN :
				   sqlite3_column_double(q, 5 + f);
		comm = (const char *)sqlite3_column_text(q, 5 + SUS_NFIELDS);
		snprintf(pr->comm, sizeof(pr->comm), "%s", comm ? comm : "?");
	}
	if (cur >= first)
		rec_emit(&st, set, (cur_ns - start_ns) / 1e9);
	sqlite3_finalize(q);
	free(st.p);
	if (rc != SQLITE_DONE)
		return db_fail("task rows");
	return 0;
}

static double rec_available_kb(long long last)
{
	sqlite3_stmt *q;
	double v = -1;

	/* schema 3 stores the text zlib-compressed (zlib, bytes); 1 and 2 in text */
	if (sqlite3_prepare_v2(db, "SELECT text, zlib, bytes FROM file WHERE name = 'proc/meminfo' "
			       "AND sample_id <= ? ORDER BY sample_id DESC LIMIT 1",
			       -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(q, 1, last);
	if (sqlite3_step(q) == SQLITE_ROW) {
		if (sqlite3_column_type(q, 1) == SQLITE_BLOB) {
			uLongf n = (uLongf)sqlite3_column_int64(q, 2);
			char *text = xcalloc(1, (size_t)n + 1);

			if (uncompress((Bytef *)text, &n, sqlite3_column_blob(q, 1),
				       (uLong)sqlite3_column_bytes(q, 1)) == Z_OK)
				v = meminfo_available_kb(text);
			free(text);
		} else {
			v = meminfo_available_kb((const char *)sqlite3_column_text(q, 0));
		}
	}
	sqlite3_finalize(q);
	if (v < 0)
		v = (double)db_int("SELECT value FROM counter WHERE source = 'meminfo' AND "
				   "name = 'MemAvailable' AND sample_id <= ? "
				   "ORDER BY sample_id DESC LIMIT 1", last, 0, -1);
	return v;
}

static int sample_recording(const struct sus_opts *o, struct sus_set *set,
			    struct sus_source *src)
{
	long long from_ns = 0, to_ns = 0, first, last, end_ns, start_ns, n;
	char a[64], b[64];
	int ret;

	if (db_open(o->db))
		return 1;
	if ((o->from && (ret = time_arg("--from", o->from, &from_ns))) ||
	    (o->to && (ret = time_arg("--to", o->to, &to_ns))))
		return ret;
	last = o->to ? db_int("SELECT max(id) FROM sample WHERE time_unix_ns <= ?", to_ns, 0, -1)
		     : db_int("SELECT max(id) FROM sample", 0, 0, -1);
	if (last < 0) {
		fprintf(stderr, "%s: %s: no sample%s in the recording; --suspects needs "
			"at least %zu\n", mw_prog, o->db, o->to ? " at or before --to" : "",
			o->p.min_samples);
		return 1;
	}
	end_ns = db_int("SELECT time_unix_ns FROM sample WHERE id = ?", last, 0, 0);
	if (o->from)
		start_ns = from_ns;
	else if (o->window)
		start_ns = end_ns - (long long)(o->window * 1e9);
	else
		start_ns = db_int("SELECT min(time_unix_ns) FROM sample", 0, 0, end_ns);
	first = db_int("SELECT min(id) FROM sample WHERE time_unix_ns >= ? AND id <= ?",
		       start_ns, last, -1);
	n = first < 0 ? 0 : db_int("SELECT count(*) FROM sample WHERE id BETWEEN ? AND ?",
				   first, last, 0);
	if (n < (long long)o->p.min_samples) {
		format_time_iso(start_ns, a, sizeof(a));
		format_time_iso(end_ns, b, sizeof(b));
		fprintf(stderr, "%s: %s: %lld sample%s between %s and %s; --suspects "
			"needs at least %zu (a longer span, or record longer)\n", mw_prog,
			o->db, n, n == 1 ? "" : "s", a, b, o->p.min_samples);
		return 1;
	}
	sus_set_init(set, 0, (end_ns - start_ns) / 1e9 * (1 + 1e-9), SUS_MAX_POINTS);
	if (rec_series(first, last, start_ns, set))
		return 1;
	src->kind = "recording";
	src->samples = (size_t)n;
	src->window_s = (end_ns - db_int("SELECT time_unix_ns FROM sample WHERE id = ?",
					 first, 0, end_ns)) / 1e9;
	src->avail_kb = rec_available_kb(last);
	return 0;
}

/* ------------------------------------------------------------ samples file */

/*
 * --save-samples writes the points analysed, so a verdict seen once (a
 * loaded CI host, an emulated CPU) can be replayed with --samples and kept
 * as a test fixture (tests/host/fixtures/suspects/). Text: a version line,
 * "key value" lines, a "columns" line, then one tab-separated row per
 * process and point ("-": not available); lines starting with '#' are
 * comments.
 */
#define SUS_SAMPLES_MAGIC "memwatch-suspects-samples - version: 1"

static int samples_save(const char *path, const struct sus_set *set,
			const struct sus_source *src)
{
	FILE *fp = fopen(path, "w");
	size_t i, j;
	int f;

	if (!fp) {
		fprintf(stderr, "%s: --save-samples %s: %s\n", mw_prog, path, strerror(errno));
		return 1;
	}
	fprintf(fp, "%s\nsource %s\nwindow_s %.6f\nsamples %zu\nmem_available_kb %.0f\n"
		"columns t_s pid comm", SUS_SAMPLES_MAGIC, src->kind, src->window_s,
		src->samples, src->avail_kb);
	for (f = 0; f < SUS_NFIELDS; f++)
		fprintf(fp, " %s", sus_field_name(f));
	fputc('\n', fp);
	for (i = 0; i < set->n; i++) {
		const struct sus_proc *pr = &set->procs[i];
		char comm[sizeof(pr->comm)];

		snprintf(comm, sizeof(comm), "%s", pr->comm);
		for (char *c = comm; *c; c++)
			if (*c == '\t' || *c == '\n' || *c == ' ')
				*c = '_';
		for (j = 0; j < pr->n; j++) {
			fprintf(fp, "%.17g\t%d\t%s", pr->t[j], pr->pid, comm);
			for (f = 0; f < SUS_NFIELDS; f++) {
				if (isnan(pr->v[f][j]))
					fputs("\t-", fp);
				else
					fprintf(fp, "\t%.17g", pr->v[f][j]);
			}
			fputc('\n', fp);
		}
	}
	if (fclose(fp)) {
		fprintf(stderr, "%s: --save-samples %s: %s\n", mw_prog, path, strerror(errno));
		return 1;
	}
	return 0;
}

static int samples_bad(const char *path, size_t line, const char *why)
{
	fprintf(stderr, "%s: --samples %s: line %zu: %s\n", mw_prog, path, line, why);
	return 1;
}

static int samples_load(const char *path, struct sus_set *set, struct sus_source *src)
{
	static char kind[16];
	FILE *fp = fopen(path, "r");
	char *line = NULL, *tok, *save, *end;
	size_t cap = 0, lineno = 0;
	bool columns = false;
	double v[SUS_NFIELDS], t;
	int f, ret = 0;
	long pid;

	if (!fp) {
		fprintf(stderr, "%s: --samples %s: %s\n", mw_prog, path, strerror(errno));
		return 1;
	}
	sus_set_init(set, 0, 0, SUS_MAX_POINTS);
	while (!ret && getline(&line, &cap, fp) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (++lineno == 1) {
			if (strcmp(line, SUS_SAMPLES_MAGIC))
				ret = samples_bad(path, lineno, "not a --save-samples file "
						  "(want \"" SUS_SAMPLES_MAGIC "\")");
			continue;
		}
		if (line[0] == '#')
			continue;	/* a comment: what a fixture is, what it should give */
		if (!columns) {
			if (!strncmp(line, "source ", 7)) {
				snprintf(kind, sizeof(kind), "%s", line + 7);
				src->kind = kind;
			} else if (!strncmp(line, "window_s ", 9)) {
				src->window_s = strtod(line + 9, NULL);
			} else if (!strncmp(line, "samples ", 8)) {
				src->samples = strtoul(line + 8, NULL, 10);
			} else if (!strncmp(line, "mem_available_kb ", 17)) {
				src->avail_kb = strtod(line + 17, NULL);
			} else if (!strncmp(line, "columns ", 8)) {
				columns = true;
			}
			continue;
		}
		tok = strtok_r(line, "\t", &save);
		t = tok ? strtod(tok, &end) : NAN;
		if (!tok || *end || !isfinite(t)) {
			ret = samples_bad(path, lineno, "bad time");
			break;
		}
		tok = strtok_r(NULL, "\t", &save);
		pid = tok ? strtol(tok, &end, 10) : -1;
		if (!tok || *end || pid < 0) {
			ret = samples_bad(path, lineno, "bad pid");
			break;
		}
		tok = strtok_r(NULL, "\t", &save);
		if (!tok) {
			ret = samples_bad(path, lineno, "no comm");
			break;
		}
		const char *comm = tok;

		for (f = 0; f < SUS_NFIELDS; f++) {
			tok = strtok_r(NULL, "\t", &save);
			if (!tok) {
				ret = samples_bad(path, lineno, "too few columns");
				break;
			}
			v[f] = strcmp(tok, "-") ? strtod(tok, &end) : NAN;
			if (!isnan(v[f]) && *end) {
				ret = samples_bad(path, lineno, "bad value");
				break;
			}
		}
		if (!ret)
			sus_set_add(set, t, (int)pid, comm, v);
	}
	if (!ret && !columns)
		ret = samples_bad(path, lineno, "no \"columns\" line");
	free(line);
	fclose(fp);
	return ret;
}

/* ------------------------------------------------------------ report */

static bool wanted(const struct sus_opts *o, int pid, const char *comm)
{
	return (!o->pid || o->pid == pid) && (!o->comm || !strcmp(o->comm, comm));
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s) {
		fprintf(stderr, "%s: out of memory\n", mw_prog);
		exit(1);
	}
	return s;
}

/* A rate for people: "12.3M/h" for KiB, "2.5k/s" otherwise. */
static char *human_rate(double v, bool kb, const char *per)
{
	char buf[32];

	if (kb) {
		human_bytes((unsigned long long)llround(fabs(v) * 1024), buf, sizeof(buf));
		return fmt("%s%s/%s", v < 0 ? "-" : "", buf, per);
	}
	if (fabs(v) >= 1e6)
		return fmt("%.1fM/%s", v / 1e6, per);
	if (fabs(v) >= 1e4)
		return fmt("%.1fk/%s", v / 1e3, per);
	return fmt("%.1f/%s", v, per);
}

static char *ns_cell(double s)
{
	return s < 0 ? xstrdup("-") : fmt("%.0f", s * 1e9);
}

/* A duration for people: "9.5s", "12m", "7.3h", "4.1d". */
static char *human_secs(double s)
{
	if (s < 0)
		return xstrdup("-");
	if (s < 120)
		return fmt("%.1fs", s);
	if (s < 7200)
		return fmt("%.1fm", s / 60);
	if (s < 172800)
		return fmt("%.1fh", s / 3600);
	return fmt("%.1fd", s / 86400);
}

static char *secs_cell(bool text, double s)
{
	return text ? human_secs(s) : ns_cell(s);
}

static void free_rows(char ***rows, size_t n, size_t ncols)
{
	for (size_t r = 0; r < n; r++) {
		for (size_t c = 0; c < ncols; c++)
			free(rows[r][c]);
		free(rows[r]);
	}
	free(rows);
}

static const char *const trend_cols[] = {
	"pid", "comm", "column", "growth_per_h", "held_ns", "p_value",
	"exhaust_ns", "samples", "trend_in",
};
static const char *const anomaly_cols[] = {
	"pid", "comm", "metric", "rate", "own_median", "host_median", "recent_ns",
};
/* Text: durations come formatted (h, d), so no _ns for the writer to convert. */
static const char *const trend_text_cols[] = {
	"pid", "comm", "column", "growth_per_h", "held", "p_value",
	"exhaust", "samples", "trend_in",
};
static const char *const anomaly_text_cols[] = {
	"pid", "comm", "metric", "rate", "own_median", "host_median", "recent",
};
/* CSV: one table, so one header. */
static const char *const csv_cols[] = {
	"kind", "pid", "comm", "column", "rate", "held_ns", "p_value",
	"exhaust_ns", "samples", "own_median", "host_median", "trend_in",
};

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static void report(const struct sus_opts *o, const struct sus_source *src,
		   const struct sus_set *set, struct sus_trend *tr, size_t ntr,
		   struct sus_anomaly *an, size_t nan_)
{
	struct mw_opts mo = { .format = o->format, .exact = o->exact };
	bool text = o->format == MW_FMT_TEXT;
	char ***rows = xcalloc(ntr + nan_ + 1, sizeof(char **));
	size_t i, n = 0, nt = 0, na = 0;
	struct mw_out out;

	mw_out_init(&out, &mo, stdout, "suspects");
	mw_out_begin(&out);
	for (i = 0; i < ntr; i++) {
		const struct sus_trend *r = &tr[i];
		bool kb = sus_field_is_kb(r->field);
		double per_h = r->slope * 3600;
		char **c;

		if (!wanted(o, r->pid, r->comm))
			continue;
		nt++;
		c = rows[n++] = xcalloc(NCOLS(csv_cols), sizeof(char *));
		if (o->format == MW_FMT_CSV) {
			c[0] = xstrdup("leak");
			c[1] = fmt("%d", r->pid);
			c[2] = xstrdup(r->comm);
			c[3] = xstrdup(sus_field_name(r->field));
			c[4] = fmt("%.1f", per_h);
			c[5] = ns_cell(r->held_s);
			c[6] = fmt("%.3g", r->p);
			c[7] = ns_cell(r->exhaust_s);
			c[8] = fmt("%zu", r->samples);
			c[9] = xstrdup("");
			c[10] = xstrdup("");
			c[11] = xstrdup(r->floor ? "troughs" : "level");
			continue;
		}
		c[0] = fmt("%d", r->pid);
		c[1] = xstrdup(r->comm);
		c[2] = xstrdup(r->field == SUS_PAGE_ALLOCS ? "page_rate" : sus_field_name(r->field));
		c[3] = text ? human_rate(per_h, kb, "h") : fmt("%.1f", per_h);
		c[4] = secs_cell(text, r->held_s);
		c[5] = fmt("%.3g", r->p);
		c[6] = secs_cell(text, r->exhaust_s);
		c[7] = fmt("%zu", r->samples);
		c[8] = xstrdup(r->floor ? "troughs" : "level");
	}
	if (o->format != MW_FMT_CSV) {
		mw_out_table(&out, text ? "Suspects (memory growing steadily):" : "suspects",
			     (char *const *)(text ? trend_text_cols : trend_cols),
			     NCOLS(trend_cols), rows, n);
		free_rows(rows, n, NCOLS(csv_cols));
		rows = xcalloc(nan_ + 1, sizeof(char **));
		n = 0;
	}
	for (i = 0; i < nan_; i++) {
		const struct sus_anomaly *a = &an[i];
		bool kb = a->metric == SUS_ALLOC_RATE;
		char **c;

		if (!wanted(o, a->pid, a->comm))
			continue;
		na++;
		c = rows[n++] = xcalloc(NCOLS(csv_cols), sizeof(char *));
		if (o->format == MW_FMT_CSV) {
			c[0] = xstrdup("alloc");
			c[1] = fmt("%d", a->pid);
			c[2] = xstrdup(a->comm);
			c[3] = xstrdup(sus_metric_name(a->metric));
			c[4] = fmt("%.1f", a->rate);
			for (int k = 5; k < 9; k++)
				c[k] = xstrdup("");
			c[9] = fmt("%.1f", a->own_median);
			c[10] = fmt("%.1f", a->host_median);
			c[11] = xstrdup("");
			continue;
		}
		c[0] = fmt("%d", a->pid);
		c[1] = xstrdup(a->comm);
		c[2] = xstrdup(sus_metric_name(a->metric));
		c[3] = text ? human_rate(a->rate, kb, "s") : fmt("%.1f", a->rate);
		c[4] = text ? human_rate(a->own_median, kb, "s") : fmt("%.1f", a->own_median);
		c[5] = text ? human_rate(a->host_median, kb, "s") : fmt("%.1f", a->host_median);
		c[6] = secs_cell(text, a->recent_s);
	}
	if (o->format == MW_FMT_CSV) {
		mw_out_table(&out, "", (char *const *)csv_cols, NCOLS(csv_cols), rows, n);
	} else {
		mw_out_table(&out, text ? "Allocation-rate anomalies (far above own history "
			     "and the host):" : "anomalies",
			     (char *const *)(text ? anomaly_text_cols : anomaly_cols),
			     NCOLS(anomaly_cols), rows, n);
		char *keys[] = { "source", "window_ns", "samples", "processes",
				 "mem_available_kb", "suspects", "anomalies" };
		char *vals[NCOLS(keys)];

		vals[0] = xstrdup(src->kind);
		vals[1] = ns_cell(src->window_s);
		vals[2] = fmt("%zu", src->samples);
		vals[3] = fmt("%zu", set->n);
		vals[4] = src->avail_kb < 0 ? xstrdup("-") : fmt("%.0f", src->avail_kb);
		vals[5] = fmt("%zu", nt);
		vals[6] = fmt("%zu", na);
		if (text)
			fputc('\n', stdout);
		mw_out_kv(&out, text ? "" : "analysis", keys, vals, NCOLS(keys));
		for (i = 0; i < NCOLS(keys); i++)
			free(vals[i]);
	}
	free_rows(rows, n, NCOLS(csv_cols));
	mw_out_end(&out);
}

int suspects_main(int argc, char **argv)
{
	struct sus_source src = { "module", 0, 0, -1 };
	struct sus_anomaly *an = NULL;
	struct sus_trend *tr = NULL;
	struct sus_opts o;
	struct sus_set set;
	size_t ntr, nan_;
	int ret = parse_args(argc, argv, &o);

	if (ret >= 0)
		return ret;
	memset(&set, 0, sizeof(set));
	signal(SIGINT, sus_on_signal);
	signal(SIGTERM, sus_on_signal);
	if (o.samples)
		ret = samples_load(o.samples, &set, &src);
	else if (o.db)
		ret = sample_recording(&o, &set, &src);
	else
		ret = sample_live(&o, &set, &src);
	if (!ret && o.save_samples)
		ret = samples_save(o.save_samples, &set, &src);
	if (db)
		sqlite3_close(db);
	if (ret)
		goto out;
	if (src.samples < o.p.min_samples) {
		fprintf(stderr, "%s: only %zu samples (interrupted?); --suspects needs at "
			"least %zu\n", mw_prog, src.samples, o.p.min_samples);
		ret = 1;
		goto out;
	}
	ntr = sus_find_trends(&set, &o.p, src.avail_kb, &tr);
	nan_ = sus_find_anomalies(&set, &o.p, &an);
	report(&o, &src, &set, tr, ntr, an, nan_);
out:
	free(tr);
	free(an);
	sus_set_free(&set);
	return ret;
}
