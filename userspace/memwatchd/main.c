/*
 * memwatchd - records memwatch's state and events into an SQLite file
 * (Documentation/recording.md) and serves them over HTTP (serve.c).
 * Foreground, logs to stderr; SIGINT/SIGTERM commit what is queued, exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "events.h"
#include "memwatchd.h"
#include "mwfile.h"
#include "queue.h"
#include "sampler.h"
#include "serve.h"
#include "util.h"
#include "writer.h"


struct mwd_config mwd_cfg;
atomic_bool mwd_stopping;
atomic_llong mwd_lost_queue;
atomic_llong mwd_lost_samples;
atomic_bool mwd_force_full;
static atomic_bool producers_done;

bool writer_producers_done(void)
{
	return atomic_load(&producers_done);
}

void mwd_log(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "memwatchd: %s\n", buf);
}

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t mwd_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t mwd_unix_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: memwatchd --db FILE [OPTIONS]\n"
"Records memwatch's state every interval and every event of\n"
"/proc/memwatch/events into an SQLite file (Documentation/recording.md),\n"
"and serves them over HTTP. Runs in the foreground, logs to stderr;\n"
"SIGINT or SIGTERM commits what is queued and exits 0.\n"
"\n"
"Options:\n"
"      --db FILE            the recording (created, or appended to)\n"
"      --interval SECS      seconds between samples (default 5)\n"
"      --retain DURATION    prune data older than this: 30m, 12h, 7d; 0 keeps all (default 7d)\n"
"      --max-db-size SIZE   prune the oldest data beyond SIZE: 500M, 2G (default: no limit)\n"
"      --full-every N       every Nth sample stores every task row (default 60)\n"
"      --events FILE        read events from FILE (default /proc/memwatch/events)\n"
"      --prune-every SECS   seconds between retention passes (default 10)\n"
"      --queue-size N       items between the readers and the writer (default 65536)\n"
"      --queue-wait MS      how long the event reader waits for room in a full\n"
"                           queue before it drops and counts (default: as long\n"
"                           as it takes: the module's ring holds the events and\n"
"                           counts what it overwrites; 0: drop at once)\n"
"      --no-http            do not serve HTTP\n"
"      --listen ADDR:PORT   HTTP address (default: loopback)\n"
"      --metrics-top N      per-pid metric series (default 10)\n"
"      --prometheus URL     Prometheus server for the cluster page\n"
"      --suspects-interval SECS  sampling for /api/v1/suspects: 40 samples\n"
"                           this far apart are its window (default 15)\n"
"  -V, --version            print version\n"
"  -h, --help               this help\n"
"\n"
"Examples:\n"
"  memwatchd --db /var/lib/memwatch/rec.db\n"
"  memwatchd --db rec.db --interval 1 --retain 2h --max-db-size 200M --no-http\n");
}

enum {
	OPT_DB = 256, OPT_INTERVAL, OPT_RETAIN, OPT_MAX_SIZE, OPT_FULL_EVERY,
	OPT_EVENTS, OPT_PRUNE_EVERY, OPT_NO_HTTP, OPT_LISTEN, OPT_METRICS_TOP, OPT_PROMETHEUS,
	OPT_SUSPECTS_INTERVAL, OPT_QUEUE_SIZE, OPT_QUEUE_WAIT,
};

static const struct option long_options[] = {
	{ "db", required_argument, NULL, OPT_DB },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "retain", required_argument, NULL, OPT_RETAIN },
	{ "max-db-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "full-every", required_argument, NULL, OPT_FULL_EVERY },
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ "prune-every", required_argument, NULL, OPT_PRUNE_EVERY },
	{ "queue-size", required_argument, NULL, OPT_QUEUE_SIZE },
	{ "queue-wait", required_argument, NULL, OPT_QUEUE_WAIT },
	{ "no-http", no_argument, NULL, OPT_NO_HTTP },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "metrics-top", required_argument, NULL, OPT_METRICS_TOP },
	{ "prometheus", required_argument, NULL, OPT_PROMETHEUS },
	{ "suspects-interval", required_argument, NULL, OPT_SUSPECTS_INTERVAL },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct mwd_config *c)
{
	long v;
	double secs;
	int o;

	memset(c, 0, sizeof(*c));
	c->interval = 5;
	c->retain_ns = 7LL * 86400 * 1000000000LL;
	c->full_every = 60;
	c->prune_every = 10;
	c->metrics_top = 10;
	c->queue_items = 65536;
	c->queue_wait_ms = -1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":Vh", long_options, NULL)) != -1) {
		switch (o) {
		case OPT_DB:
			c->db_path = optarg;
			break;
		case OPT_INTERVAL:
			if (!parse_seconds(optarg, &c->interval) || c->interval < 0.01)
				return usage_error("bad --interval '%s': want seconds >= 0.01", optarg);
			break;
		case OPT_RETAIN:
			if (!parse_duration(optarg, &secs) || secs > 1e9)
				return usage_error("bad --retain '%s': want a duration like 30m, 12h, 7d, or 0", optarg);
			c->retain_ns = (long long)(secs * 1e9);
			break;
		case OPT_MAX_SIZE:
			if (!parse_size(optarg, &c->max_db_bytes))
				return usage_error("bad --max-db-size '%s': want a size like 500M or 2G", optarg);
			break;
		case OPT_FULL_EVERY:
			if (!parse_long(optarg, 1, 1L << 20, &v))
				return usage_error("bad --full-every '%s': want a positive number", optarg);
			c->full_every = (int)v;
			break;
		case OPT_PRUNE_EVERY:
			if (!parse_seconds(optarg, &c->prune_every))
				return usage_error("bad --prune-every '%s': want seconds > 0", optarg);
			break;
		case OPT_EVENTS:
			c->events_path = optarg;
			break;
		case OPT_QUEUE_SIZE:
			if (!parse_long(optarg, 1, 1L << 24, &v))
				return usage_error("bad --queue-size '%s': want 1..16777216 items", optarg);
			c->queue_items = (size_t)v;
			break;
		case OPT_QUEUE_WAIT:
			if (!parse_long(optarg, 0, 3600000, &v))
				return usage_error("bad --queue-wait '%s': want 0..3600000 ms", optarg);
			c->queue_wait_ms = (int)v;
			break;
		case OPT_NO_HTTP:
			c->no_http = true;
			break;
		case OPT_LISTEN:
			if (!strchr(optarg, ':'))
				return usage_error("bad --listen '%s': want ADDR:PORT", optarg);
			c->listen = optarg;
			break;
		case OPT_METRICS_TOP:
			if (!parse_long(optarg, 0, 100000, &v))
				return usage_error("bad --metrics-top '%s': want 0..100000", optarg);
			c->metrics_top = (int)v;
			break;
		case OPT_SUSPECTS_INTERVAL:
			if (!parse_seconds(optarg, &c->suspects_interval) ||
			    c->suspects_interval < 0.05 || c->suspects_interval > 86400)
				return usage_error("bad --suspects-interval '%s': want 0.05..86400 seconds", optarg);
			break;
		case OPT_PROMETHEUS:
			c->prometheus = optarg;
			break;
		case 'V':
			printf("memwatchd %s (schema %d)\n", MWD_VERSION, DB_SCHEMA_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:	/* ':' or '?' */
			return getopt_error(o, argv);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!c->db_path)
		return usage_error("%s--db FILE is required", "");
	return -1;
}

int main(int argc, char **argv)
{
	pthread_t sampler, reader, writer;
	struct serve_config sc;
	bool module, events, serving = false;
	sigset_t stop_signals;
	char err[4608];
	int sig, ret;

	mw_prog = "memwatchd";
	ret = parse_args(argc, argv, &mwd_cfg);
	if (ret >= 0)
		return ret;
	/* Every thread inherits the block; main alone takes them, with sigwait. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (db_open(mwd_cfg.db_path, err, sizeof(err))) {
		fprintf(stderr, "memwatchd: %s\n", err);
		return 1;
	}
	module = mw_module_present();
	if (!module)
		mwd_log("memwatch module not loaded (%s missing): recording what "
			"/proc gives (as memwatch-read --no-module); events unavailable",
			mw_root());
	events = (module || mwd_cfg.events_path) && events_open();
	if (db_begin_run(module, events, (int)(mwd_cfg.interval * 1000))) {
		db_close();
		return 1;
	}
	mwd_log("recording to %s every %gs (retain %llds, max size %lld bytes)",
		mwd_cfg.db_path, mwd_cfg.interval, mwd_cfg.retain_ns / 1000000000LL,
		mwd_cfg.max_db_bytes);
	queue_init(mwd_cfg.queue_items);
	pthread_create(&writer, NULL, writer_main, NULL);
	pthread_create(&sampler, NULL, sampler_main, NULL);
	if (events)
		pthread_create(&reader, NULL, events_main, NULL);
	if (!mwd_cfg.no_http) {
		sc.listen = mwd_cfg.listen;
		sc.db_path = mwd_cfg.db_path;
		sc.metrics_top = mwd_cfg.metrics_top;
		sc.prometheus = mwd_cfg.prometheus;
		sc.suspects_interval = mwd_cfg.suspects_interval;
		if (serve_start(&sc, err, sizeof(err))) {
			mwd_log("HTTP: %s", err);
			atomic_store(&mwd_stopping, true);
			ret = 1;
		} else {
			serving = true;
		}
	}
	if (!atomic_load(&mwd_stopping))
		sigwait(&stop_signals, &sig);
	atomic_store(&mwd_stopping, true);
	mwd_log("stopping: committing what is queued");
	if (serving)
		serve_stop();
	pthread_join(sampler, NULL);
	if (events)
		pthread_join(reader, NULL);
	atomic_store(&producers_done, true);
	queue_wake();
	pthread_join(writer, NULL);
	mwd_log("%lld events recorded, %lld dropped (queue full)",
		writer_recorded_events(), events_dropped());
	db_close();
	return ret > 0 ? ret : 0;
}
