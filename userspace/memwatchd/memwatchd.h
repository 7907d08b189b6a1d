/*
 * memwatchd.h - what memwatchd's threads share: the configuration, the log,
 * the stop flag and the loss counters.
 *
 * Threads: the sampler (sampler.c) and the event reader (events.c) produce
 * items into one bounded queue (queue.c); the writer (writer.c) is the only
 * thread touching the database (db.c). The HTTP side (serve.c) opens its own
 * read-only connections.
 */
#ifndef MEMWATCHD_H
#define MEMWATCHD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define MWD_VERSION	"1.0"

struct mwd_config {
	const char *db_path;
	double interval;		/* seconds between samples */
	long long retain_ns;		/* 0: keep everything */
	long long max_db_bytes;		/* 0: no limit */
	int full_every;			/* every Nth sample stores every row */
	double prune_every;		/* seconds between retention passes */
	const char *events_path;	/* NULL: mw_root()/events */
	size_t queue_items;		/* the writer's queue holds this many */
	int queue_wait_ms;		/* the event reader waits for room */
	bool no_http;
	const char *listen;
	int metrics_top;
	double suspects_interval;	/* 0: serve.c's default */
	const char *prometheus;
};

extern struct mwd_config mwd_cfg;
extern atomic_bool mwd_stopping;	/* SIGINT/SIGTERM seen */

/* Counted losses the writer turns into loss rows (exchanged to 0 as written). */
extern atomic_llong mwd_lost_queue;	/* events dropped: queue full */
extern atomic_llong mwd_lost_samples;	/* samples dropped: queue full */
extern atomic_bool mwd_force_full;	/* the next sample stores every row */

void mwd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t mwd_mono_ns(void);
uint64_t mwd_unix_ns(void);

#endif
