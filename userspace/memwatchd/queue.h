/*
 * queue.h - the bounded queue between the producers (sampler, event reader)
 * and the writer. A push never waits: when the queue holds its capacity it
 * fails and the producer counts the loss.
 */
#ifndef MEMWATCHD_QUEUE_H
#define MEMWATCHD_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum item_kind { ITEM_EVENT, ITEM_SAMPLE };

/* One line of the events file; the strings live in buf. */
struct ev_item {
	uint64_t seq, time_ns;
	long long pid, tid;
	long long size, result;
	bool has_size, has_result;
	char *kind, *args, *comm;
	char buf[];
};

/* A row of a sample: cells in tasks_tab_columns() order, NULL = "-". */
struct srow {
	long long id;
	bool gone;
	char **cells;
};

struct frag_row {
	int node, order;
	char zone[32];
	long long free_blocks;
	int unusable_pm, extfrag_pm;
};

struct sample_item {
	uint64_t time_ns, unix_ns;
	bool module, full;
	struct srow *rows[2];		/* [0] tasks, [1] threads */
	size_t nrows[2];
	bool have_rows[2];		/* the table was read */
	char **fnames, **ftexts;	/* ftexts: zlib-compressed */
	size_t *fzlen, *fbytes;		/* compressed, uncompressed sizes */
	size_t nfiles, fcap;
	char **csrc, **cname;
	long long *cval;
	size_t ncnt, ccap;
	struct frag_row *frag;
	size_t nfrag;
};

struct item {
	struct item *next;
	enum item_kind kind;
	union {
		struct ev_item *ev;
		struct sample_item *sample;
	};
};
/* An event's item and its ev_item are one allocation (events_parse). */

void queue_init(size_t cap);
/* false when full: the item is not taken. */
bool queue_push(struct item *it);
/*
 * Appends the @n items of @list (linked by next) as room allows, waiting
 * up to @wait_ms in total for the writer to make room (< 0: as long as it
 * takes; 0: not at all). Returns what was
 * not taken (NULL: all of it was), for the caller to count and free.
 */
struct item *queue_push_list(struct item *list, size_t n, int wait_ms);
/* Everything queued (oldest first), waiting up to @timeout_ms for the first. */
struct item *queue_take(int timeout_ms);
/* Wakes a waiting queue_take (at stop). */
void queue_wake(void);

void item_free(struct item *it);
void sample_free(struct sample_item *s);

#endif
