/*
 * memwatch-read - reads, formats, sorts, watches and records what the
 * memwatch module exposes under /proc/memwatch; answers from /proc alone
 * where it can when the module is not loaded.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memwatch_abi.h"
#include "mwfile.h"
#include "options.h"
#include "output.h"
#include "replay.h"
#include "suspects_cmd.h"
#include "util.h"
#include "mwsnap.h"
#include "views.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: memwatch-read [VIEW] [OPTIONS]\n"
"Shows what the memwatch kernel module measures (" MW_PROC_ROOT "); without\n"
"the module, answers from /proc where it can and marks the rest unavailable.\n"
"\n"
"Views (default: a one-screen summary):\n"
"  -t, --tasks             per-process memory and memory events\n"
"      --threads [PID]     per-thread view (of PID, or -p PID)\n"
"  -f, --frag              buddy free blocks per zone and order, fragmentation indices\n"
"      --nodes             memory nodes\n"
"      --frag-events       external-fragmentation fallbacks per process\n"
"      --sys               system memory state (LRU lists, dirty, slab...)\n"
"      --reclaim           page reclaim and direct-reclaim stalls\n"
"      --allocfail, --paf  page allocation failures\n"
"      --status            module version, memory held, probe points\n"
"      --suspects          who is leaking: memory trends and allocation bursts\n"
"                          per process (options: --suspects --help)\n"
"      --cluster URL       every host a Prometheus server scrapes (with -c NAME,\n"
"                          -t top processes, --frag; Documentation/cluster.md)\n"
"\n"
"Options:\n"
"  -s, --sort KEY          sort by column KEY (e.g. rss, mmap_kb, pid); -KEY ascending\n"
"  -n, --top N             show the first N rows\n"
"  -p, --pid PID           only this process\n"
"  -c, --comm NAME         only processes whose command is NAME\n"
"  -b, --exact             exact numbers instead of human units\n"
"      --json              JSON (JSON Lines with --interval)\n"
"      --csv               CSV (header once; a time column with --interval)\n"
"  -i, --interval SECS     sample every SECS seconds\n"
"      --count N           stop after N samples (default: until interrupted)\n"
"  -w, --watch [SECS]      full-screen, top-like (tasks view; default 2s)\n"
"      --zone NAME         only zone NAME (frag)\n"
"      --order N           only order N (frag)\n"
"      --no-module         answer from /proc only, even if the module is loaded\n"
"      --color WHEN        auto, always or never (default auto: only on a tty)\n"
"\n"
"Replay of a memwatchd recording (Documentation/recording.md):\n"
"      --db FILE           read the recording instead of the live system; every view\n"
"      --at TIME           the views as of TIME (default: the latest sample)\n"
"      --events            the per-call log: time, pid, call, size, comm (-p, -c, --call)\n"
"      --call LIST         only these calls, e.g. mmap,munmap (--events)\n"
"      --history           a time series of --column for -p PID or -c NAME\n"
"      --column LIST       tasks columns for --history (default rss_kb)\n"
"      --from TIME, --to TIME  the time range of --events and --history\n"
"                          TIME: ISO 8601, epoch seconds, or relative (-10m, -2h)\n"
"  -V, --version           print version\n"
"  -h, --help              this help\n"
"\n"
"Examples:\n"
"  memwatch-read                      summary: top processes, pressure, fragmentation\n"
"  memwatch-read -t -s rss -n 20      the 20 processes with the largest RSS\n"
"  memwatch-read --threads 1234       threads of process 1234\n"
"  memwatch-read -w                   live view; keys change the sort column\n"
"  memwatch-read --frag --interval 5 --count 12 --csv > frag.csv\n"
"  memwatch-read --paf --json         allocation failures for a script\n"
"  memwatch-read --db rec.db -t --at -1h   tasks as recorded an hour ago\n"
"  memwatch-read --db rec.db --events -p 311 --call mmap,munmap --csv\n"
"  memwatch-read --cluster http://prom:9090 -c mysqld   mysqld on every host, summed\n");
}

/*
 * The options that select or order rows, and the views that honour each:
 * given to any other view, an option is an error naming the view rather
 * than silently ignored. Views not listed here are not checked.
 */
enum { VO_SORT = 1, VO_TOP = 2, VO_PID = 4, VO_COMM = 8, VO_ZONE = 16, VO_ORDER = 32 };

static const struct {
	enum mw_mode mode;
	const char *name;
	unsigned int honours;
} view_options[] = {
	{ MW_MODE_SUMMARY, "summary", 0 },
	{ MW_MODE_TASKS, "--tasks", VO_SORT | VO_TOP | VO_PID | VO_COMM },
	{ MW_MODE_THREADS, "--threads", VO_SORT | VO_TOP | VO_PID | VO_COMM },
	{ MW_MODE_FRAG, "--frag", VO_ZONE | VO_ORDER },
	{ MW_MODE_NODES, "--nodes", 0 },
	{ MW_MODE_FRAG_EVENTS, "--frag-events", VO_SORT | VO_TOP | VO_PID | VO_COMM },
	{ MW_MODE_SYS, "--sys", 0 },
	{ MW_MODE_RECLAIM, "--reclaim", VO_TOP },
	{ MW_MODE_ALLOCFAIL, "--allocfail", VO_TOP | VO_PID | VO_COMM | VO_ORDER },
	{ MW_MODE_STATUS, "--status", 0 },
};

/* Returns -1 when every option given applies to the view, else 2. */
static int check_view_options(const struct mw_opts *o)
{
	const struct { unsigned int bit; const char *name; bool given; } opt[] = {
		{ VO_SORT, "--sort", o->sort_key != NULL },
		{ VO_TOP, "--top", o->top != 0 },
		{ VO_PID, "--pid", o->pid != 0 },
		{ VO_COMM, "--comm", o->comm != NULL },
		{ VO_ZONE, "--zone", o->zone != NULL },
		{ VO_ORDER, "--order", o->order >= 0 },
	};
	char msg[160];
	size_t v, i;

	for (v = 0; v < sizeof(view_options) / sizeof(view_options[0]); v++)
		if (view_options[v].mode == o->mode)
			break;
	if (v == sizeof(view_options) / sizeof(view_options[0]))
		return -1;
	for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
		if (!opt[i].given || (view_options[v].honours & opt[i].bit))
			continue;
		snprintf(msg, sizeof(msg), "%s does not apply to the %s view%s",
			 opt[i].name, view_options[v].name,
			 o->mode == MW_MODE_SUMMARY ?
			 " (choose a view such as --tasks)" : "");
		return usage_error("%s", msg);
	}
	return -1;
}

enum {
	OPT_THREADS = 256,
	OPT_NODES,
	OPT_FRAG_EVENTS,
	OPT_SYS,
	OPT_RECLAIM,
	OPT_ALLOCFAIL,
	OPT_STATUS,
	OPT_JSON,
	OPT_CSV,
	OPT_COUNT,
	OPT_ZONE,
	OPT_ORDER,
	OPT_NO_MODULE,
	OPT_COLOR,
	OPT_CLUSTER,
	OPT_DB,
	OPT_AT,
	OPT_EVENTS,
	OPT_HISTORY,
	OPT_CALL,
	OPT_COLUMN,
	OPT_FROM,
	OPT_TO,
};

static const struct option long_options[] = {
	{ "tasks", no_argument, NULL, 't' },
	{ "threads", no_argument, NULL, OPT_THREADS },
	{ "frag", no_argument, NULL, 'f' },
	{ "nodes", no_argument, NULL, OPT_NODES },
	{ "frag-events", no_argument, NULL, OPT_FRAG_EVENTS },
	{ "sys", no_argument, NULL, OPT_SYS },
	{ "reclaim", no_argument, NULL, OPT_RECLAIM },
	{ "allocfail", no_argument, NULL, OPT_ALLOCFAIL },
	{ "paf", no_argument, NULL, OPT_ALLOCFAIL },
	{ "status", no_argument, NULL, OPT_STATUS },
	{ "sort", required_argument, NULL, 's' },
	{ "top", required_argument, NULL, 'n' },
	{ "pid", required_argument, NULL, 'p' },
	{ "comm", required_argument, NULL, 'c' },
	{ "exact", no_argument, NULL, 'b' },
	{ "bytes", no_argument, NULL, 'b' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "interval", required_argument, NULL, 'i' },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "watch", no_argument, NULL, 'w' },
	{ "zone", required_argument, NULL, OPT_ZONE },
	{ "order", required_argument, NULL, OPT_ORDER },
	{ "no-module", no_argument, NULL, OPT_NO_MODULE },
	{ "color", required_argument, NULL, OPT_COLOR },
	{ "cluster", required_argument, NULL, OPT_CLUSTER },
	{ "db", required_argument, NULL, OPT_DB },
	{ "at", required_argument, NULL, OPT_AT },
	{ "events", no_argument, NULL, OPT_EVENTS },
	{ "history", no_argument, NULL, OPT_HISTORY },
	{ "call", required_argument, NULL, OPT_CALL },
	{ "column", required_argument, NULL, OPT_COLUMN },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int set_mode(struct mw_opts *o, enum mw_mode mode, int *nmodes)
{
	if (*nmodes && o->mode != mode)
		return usage_error("%s", "choose one view");
	o->mode = mode;
	(*nmodes)++;
	return 0;
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct mw_opts *o)
{
	const char *color = "auto";
	int nmodes = 0, c, err = 0;
	long v;

	memset(o, 0, sizeof(*o));
	o->order = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":tfs:n:p:c:bi:wVh", long_options,
				NULL)) != -1) {
		switch (c) {
		case 't':
			err = set_mode(o, MW_MODE_TASKS, &nmodes);
			break;
		case OPT_THREADS:
			err = set_mode(o, MW_MODE_THREADS, &nmodes);
			/* "--threads 1234": an optional PID after the flag. */
			if (!err && optind < argc &&
			    parse_long(argv[optind], 1, 1L << 22, &v)) {
				o->pid = (pid_t)v;
				optind++;
			}
			break;
		case 'f':
			err = set_mode(o, MW_MODE_FRAG, &nmodes);
			break;
		case OPT_NODES:
			err = set_mode(o, MW_MODE_NODES, &nmodes);
			break;
		case OPT_FRAG_EVENTS:
			err = set_mode(o, MW_MODE_FRAG_EVENTS, &nmodes);
			break;
		case OPT_SYS:
			err = set_mode(o, MW_MODE_SYS, &nmodes);
			break;
		case OPT_RECLAIM:
			err = set_mode(o, MW_MODE_RECLAIM, &nmodes);
			break;
		case OPT_ALLOCFAIL:
			err = set_mode(o, MW_MODE_ALLOCFAIL, &nmodes);
			break;
		case OPT_STATUS:
			err = set_mode(o, MW_MODE_STATUS, &nmodes);
			break;
		case 's':
			o->sort_key = optarg;
			if (*o->sort_key == '-') {
				o->sort_ascending = true;
				o->sort_key++;
			}
			if (!*o->sort_key)
				return usage_error("empty sort key '%s'", optarg);
			break;
		case 'n':
			if (!parse_long(optarg, 1, 1L << 30, &o->top))
				return usage_error("bad --top '%s': want a positive number", optarg);
			break;
		case 'p':
			if (!parse_long(optarg, 1, 1L << 22, &v))
				return usage_error("bad --pid '%s': want a process id", optarg);
			o->pid = (pid_t)v;
			break;
		case 'c':
			o->comm = optarg;
			break;
		case 'b':
			o->exact = true;
			break;
		case OPT_JSON:
			o->format = MW_FMT_JSON;
			break;
		case OPT_CSV:
			o->format = MW_FMT_CSV;
			break;
		case 'i':
			if (!parse_seconds(optarg, &o->interval))
				return usage_error("bad --interval '%s': want seconds > 0", optarg);
			break;
		case OPT_COUNT:
			if (!parse_long(optarg, 1, 1L << 30, &o->count))
				return usage_error("bad --count '%s': want a positive number", optarg);
			break;
		case 'w':
			o->watch = true;
			/* "-w 5": an optional refresh period after the flag. */
			if (optind < argc &&
			    parse_seconds(argv[optind], &o->interval))
				optind++;
			break;
		case OPT_ZONE:
			o->zone = optarg;
			break;
		case OPT_ORDER:
			if (!parse_long(optarg, 0, 63, &v))
				return usage_error("bad --order '%s': want 0..63", optarg);
			o->order = (int)v;
			break;
		case OPT_NO_MODULE:
			o->no_module = true;
			break;
		case OPT_COLOR:
			color = optarg;
			if (strcmp(color, "auto") && strcmp(color, "always") &&
			    strcmp(color, "never"))
				return usage_error("bad --color '%s': want auto, always or never", optarg);
			break;
		case OPT_CLUSTER:
			o->cluster = optarg;
			break;
		case OPT_DB:
			o->db = optarg;
			break;
		case OPT_AT:
			o->at = optarg;
			break;
		case OPT_EVENTS:
			err = set_mode(o, MW_MODE_EVENTS, &nmodes);
			break;
		case OPT_HISTORY:
			err = set_mode(o, MW_MODE_HISTORY, &nmodes);
			break;
		case OPT_CALL:
			o->calls = optarg;
			break;
		case OPT_COLUMN:
			o->columns = optarg;
			break;
		case OPT_FROM:
			o->from = optarg;
			break;
		case OPT_TO:
			o->to = optarg;
			break;
		case 'V':
			printf("memwatch-read %s (format %d.%d)\n", MW_VERSION,
			       MW_FORMAT_MAJOR, MW_FORMAT_MINOR);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:	/* ':' or '?' */
			return getopt_error(c, argv);
		}
		if (err)
			return err;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (o->cluster && (o->watch || o->db || o->no_module || o->pid || (o->mode != MW_MODE_SUMMARY &&
			   o->mode != MW_MODE_TASKS && o->mode != MW_MODE_FRAG)))
		return usage_error("%s takes -c, -t, --frag, -n, the output formats and --interval",
				   "--cluster");
	if ((err = replay_check_args(o)))
		return usage_error("%s", replay_arg_error);
	if (o->watch && o->mode == MW_MODE_SUMMARY)
		o->mode = MW_MODE_TASKS;
	if (o->watch && !o->interval)
		o->interval = 2;
	if (o->count && !o->interval)
		return usage_error("%s", "--count needs --interval or --watch");
	/* --cluster checked its own options above: -c and -t mean other things there. */
	err = o->cluster ? -1 : check_view_options(o);
	if (err >= 0)
		return err;
	o->color = !strcmp(color, "always") ||
		   (!strcmp(color, "auto") && isatty(STDOUT_FILENO) &&
		    o->format == MW_FMT_TEXT);
	return -1;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void sleep_seconds(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (!stop_requested && nanosleep(&ts, &ts) == -1)
		;
}

static int run_samples(const struct mw_opts *opts)
{
	const struct mw_view *view = opts->cluster ? &mw_cluster_view : &mw_views[opts->mode];
	struct mw_out out;
	long n;
	int ret = 0;

	mw_out_init(&out, opts, stdout, view->doc);
	for (n = 0; !stop_requested; n++) {
		if (n && opts->format == MW_FMT_TEXT) {
			char stamp[32];
			time_t now = time(NULL);

			strftime(stamp, sizeof(stamp), "%H:%M:%S",
				 localtime(&now));
			printf("\n--- %s ---\n", stamp);
		}
		mw_out_begin(&out);
		ret = view->show(&out, opts);
		mw_out_end(&out);
		if (ret || !opts->interval || (opts->count && n + 1 >= opts->count))
			break;
		sleep_seconds(opts->interval);
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct mw_opts opts;
	int ret, i;

	/* --suspects takes options of its own (suspects_cmd.c). */
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--suspects"))
			return suspects_main(argc, argv);
	ret = parse_args(argc, argv, &opts);
	if (ret >= 0)
		return ret;
	if (opts.db && (ret = replay_open(&opts)) >= 0)
		return ret;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_DFL);
	if (opts.watch && isatty(STDOUT_FILENO) && opts.format == MW_FMT_TEXT &&
	    (opts.mode == MW_MODE_TASKS || opts.mode == MW_MODE_THREADS))
		return tasks_watch(&opts);
	return run_samples(&opts);
}

void mw_note_no_module(const struct mw_opts *opts, const char *what)
{
	/* On stderr, so --json and --csv output stays parseable. */
	if (opts->no_module)
		fprintf(stderr, "%s: --no-module: %s from /proc only\n", mw_prog, what);
	else if (mw_snap_current())
		fprintf(stderr, "%s: recorded without the module: %s from /proc only; "
			"event columns unavailable\n", mw_prog, what);
	else
		fprintf(stderr,
			"%s: memwatch module not loaded (%s missing): %s from /proc only; "
			"event columns unavailable\n", mw_prog, mw_root(), what);
}
