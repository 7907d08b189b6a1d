/*
 * db.h - the recording file: open (refusing what is not ours, corrupt or
 * newer; upgrading older), the writer's prepared statements, retention.
 * Only the writer thread calls these after db_open.
 */
#ifndef MEMWATCHD_DB_H
#define MEMWATCHD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue.h"

#define DB_SCHEMA_VERSION	3
#define DB_APPLICATION_ID	0x4d574154	/* "MWAT" */
#define DB_MAGIC		"memwatch-recording"

/* 0, or -1 with the reason in err (nothing written to a refused file). */
int db_open(const char *path, char *err, size_t errlen);
/* A run row for this start; 0 or -1 (logged). */
int db_begin_run(bool module, bool events, int interval_ms);
void db_close(void);

/* Batch: begin, inserts, commit. Each returns 0 or -1; db_errmsg says why. */
int db_begin(void);
int db_commit(void);
void db_rollback(void);
int db_insert_event(const struct ev_item *ev);
/* Events in one statement when there are DB_EVENT_ROWS of them. */
#define DB_EVENT_ROWS	64
int db_insert_events(const struct ev_item *const *evs, size_t n);
int db_insert_loss(const char *source, long long first_seq, long long count);
int db_insert_sample(const struct sample_item *s);
/* Retention by age and size; 0 or -1. */
int db_prune(long long retain_ns, long long max_bytes);
/* Gives freed pages back to the filesystem. */
int db_vacuum(void);
const char *db_errmsg(void);
/* Whether the last failure was the disk (full, I/O) rather than a bug. */
bool db_error_is_disk(void);

#endif
