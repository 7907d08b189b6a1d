/*
 * writer.c - the one thread writing the database: takes what the queue
 * holds, one transaction per batch (committed at least every
 * WRITER_COMMIT_MS, or at WRITER_BATCH_ROWS rows), losses as loss rows,
 * retention every --prune-every seconds and at exit. A failed write (disk full) rolls
 * the batch back, counts it and goes on: the file stays as last committed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "memwatchd.h"
#include "queue.h"
#include "sampler.h"
#include "writer.h"

#define WRITER_COMMIT_MS	250
#define WRITER_BATCH_ROWS	20000

/* What the open transaction holds, counted as lost if it fails. */
static long long batch_events, batch_samples, batch_rows;
static long long lost_disk_events, lost_disk_samples;
static bool in_tx, failing;
static uint64_t tx_start;
/* Events waiting for one multi-row INSERT (items freed once written). */
static struct item *pending[DB_EVENT_ROWS];
static size_t npending;
static atomic_llong recorded_events;

long long writer_recorded_events(void)
{
	return atomic_load(&recorded_events);
}

static void fail(const char *what)
{
	if (!failing)
		mwd_log("%s: %s failed: %s; %s", mwd_cfg.db_path, what,
			db_errmsg(),
			db_error_is_disk() ? "dropping data (counted) until "
					     "writes succeed again" :
					     "dropping this batch (counted)");
	failing = true;
	db_rollback();
	in_tx = false;
	lost_disk_events += batch_events;
	lost_disk_samples += batch_samples;
	if (batch_samples)
		sampler_forget();
	batch_events = batch_samples = batch_rows = 0;
}

static bool begin(void)
{
	if (in_tx)
		return true;
	tx_start = mwd_mono_ns();
	if (db_begin()) {
		fail("BEGIN");
		return false;
	}
	in_tx = true;
	return true;
}

static void flush_events(void)
{
	const struct ev_item *evs[DB_EVENT_ROWS];
	size_t i, n = npending;

	if (!n)
		return;
	npending = 0;
	for (i = 0; i < n; i++)
		evs[i] = pending[i]->ev;
	if (!begin()) {
		lost_disk_events += (long long)n;
	} else {
		batch_events += (long long)n;
		batch_rows += (long long)n;
		if (db_insert_events(evs, n))
			fail("INSERT");
	}
	for (i = 0; i < n; i++)
		item_free(pending[i]);
}

/* The loss counters of every source, written in the open transaction. */
static int write_losses(void)
{
	long long q = atomic_exchange(&mwd_lost_queue, 0);
	long long s = atomic_exchange(&mwd_lost_samples, 0);
	int ret = 0;

	if (q && db_insert_loss("queue", -1, q))
		ret = -1;
	if (s && db_insert_loss("samples", -1, s))
		ret = -1;
	if (ret) {	/* give them back for the next try */
		atomic_fetch_add(&mwd_lost_queue, q);
		atomic_fetch_add(&mwd_lost_samples, s);
	}
	return ret;
}

static void commit(void)
{
	long long de, ds;

	flush_events();
	de = lost_disk_events;
	ds = lost_disk_samples;
	if (!in_tx)
		return;
	if (write_losses())
		goto failed;
	if ((de && db_insert_loss("disk", -1, de)) ||
	    (ds && db_insert_loss("samples", -1, ds)))
		goto failed;
	if (db_commit())
		goto failed;
	in_tx = false;
	atomic_fetch_add(&recorded_events, batch_events);
	if (failing)
		mwd_log("%s: writing again (%lld events, %lld samples were "
			"lost meanwhile, recorded in table loss)",
			mwd_cfg.db_path, de, ds);
	failing = false;
	lost_disk_events -= de;
	lost_disk_samples -= ds;
	batch_events = batch_samples = batch_rows = 0;
	return;
failed:
	fail("COMMIT");
}

static void write_item(struct item *it)
{
	int ret;

	if (!begin()) {
		if (it->kind == ITEM_EVENT)
			lost_disk_events++;
		else
			lost_disk_samples++;
		return;
	}
	if (it->kind == ITEM_EVENT) {
		const struct ev_item *ev = it->ev;

		if (!strcmp(ev->kind, "lost"))
			ret = db_insert_loss("ring", (long long)ev->seq, ev->size);
		else
			ret = db_insert_event(ev);
		batch_events += strcmp(ev->kind, "lost") != 0;
		batch_rows++;
	} else {
		const struct sample_item *s = it->sample;

		ret = db_insert_sample(s);
		batch_samples++;
		batch_rows += (long long)(s->nrows[0] + s->nrows[1] + s->nfiles +
					  s->ncnt + s->nfrag + 1);
	}
	if (ret)
		fail("INSERT");
}

static void prune(void)
{
	if (in_tx || (!mwd_cfg.retain_ns && !mwd_cfg.max_db_bytes))
		return;
	if (db_prune(mwd_cfg.retain_ns, mwd_cfg.max_db_bytes) || db_vacuum()) {
		if (!failing)
			mwd_log("%s: pruning failed: %s", mwd_cfg.db_path,
				db_errmsg());
	}
}

void *writer_main(void *arg)
{
	uint64_t last_prune = mwd_mono_ns();

	(void)arg;
	for (;;) {
		bool stopping = atomic_load(&mwd_stopping);
		/* Decided before the take: nothing is queued after it. */
		bool last = stopping && writer_producers_done();
		int wait_ms = WRITER_COMMIT_MS;
		struct item *list, *next;

		if (in_tx) {
			uint64_t age = (mwd_mono_ns() - tx_start) / 1000000ULL;

			wait_ms = age >= WRITER_COMMIT_MS ? 0 :
				  WRITER_COMMIT_MS - (int)age;
		}
		list = queue_take(stopping ? 0 : wait_ms);
		for (; list; list = next) {
			next = list->next;
			if (list->kind == ITEM_EVENT && strcmp(list->ev->kind, "lost")) {
				pending[npending++] = list;
				if (npending == DB_EVENT_ROWS)
					flush_events();
			} else {
				flush_events();	/* rows stay in seq order */
				write_item(list);
				item_free(list);
			}
			if (batch_rows >= WRITER_BATCH_ROWS)
				commit();
		}
		flush_events();
		if (in_tx && (mwd_mono_ns() - tx_start) / 1000000ULL >= WRITER_COMMIT_MS)
			commit();
		if (!in_tx && (atomic_load(&mwd_lost_queue) ||
			       atomic_load(&mwd_lost_samples) ||
			       lost_disk_events || lost_disk_samples)) {
			if (begin())
				commit();
		}
		if (last || mwd_mono_ns() - last_prune >=
			    (uint64_t)(mwd_cfg.prune_every * 1e9)) {
			commit();
			last_prune = mwd_mono_ns();
			prune();
		}
		if (last)
			break;
	}
	commit();
	return NULL;
}
