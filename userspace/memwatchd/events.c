/*
 * events.c - reads /proc/memwatch/events in large reads and queues one item
 * per line, each read's lines at once. A full queue is waited on
 * (--queue-wait), then what has no room is dropped and counted.
 * Works on a regular file or a FIFO too (tests): at end of file it waits
 * for more, like tail -f.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "memwatchd.h"
#include "mwfile.h"
#include "util.h"

#define EVENTS_READ_BYTES	(1 << 20)
/*
 * After a short read, wait this long before the next: at most 1000 /
 * EVENTS_GATHER_MS wakeups a second however the events trickle in. The
 * default ring (16,384 events) holds this long at 800,000 events/s.
 */
#define EVENTS_GATHER_MS	20

static int fd = -1;
static char path[4096];

bool events_open(void)
{
	if (mwd_cfg.events_path)
		snprintf(path, sizeof(path), "%s", mwd_cfg.events_path);
	else
		snprintf(path, sizeof(path), "%s/events", mw_root());
	/* O_NONBLOCK: a FIFO opens without a writer; reads return EAGAIN. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		mwd_log("%s: %s: events unavailable (%s); recording samples only",
			path, strerror(errno),
			errno == ENOENT ? "is the module loaded, with events?"
					: "memwatchd reads it as root");
		return false;
	}
	mwd_log("reading events from %s", path);
	return true;
}

/* A decimal field and the spaces before it; strtoll's generality is not needed. */
static bool parse_num(const char **p, const char *end, long long *v)
{
	const char *q = *p;
	unsigned long long n = 0;
	bool neg = false;
	int digits = 0;

	while (q < end && *q == ' ')
		q++;
	if (q < end && *q == '-') {
		neg = true;
		q++;
	}
	for (; q < end && *q >= '0' && *q <= '9'; q++, digits++) {
		if (n > (ULLONG_MAX - 9) / 10)
			return false;
		n = n * 10 + (unsigned)(*q - '0');
	}
	if (!digits || n > (unsigned long long)LLONG_MAX || (q < end && *q != ' '))
		return false;
	*v = neg ? -(long long)n : (long long)n;
	*p = q;
	return true;
}

static bool key_value(const char *args, size_t alen, const char *key,
		      long long *v)
{
	size_t klen = strlen(key);
	const char *p = args, *end = args + alen;

	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t tl = sp ? (size_t)(sp - p) : (size_t)(end - p);

		if (tl > klen && !memcmp(p, key, klen) && p[klen] == '=') {
			*v = strtoll(p + klen + 1, NULL, 0);
			return true;
		}
		p += tl + 1;
	}
	return false;
}

struct item *events_parse(const char *line, size_t len)
{
	const char *p = line, *end = line + len, *kind, *args, *comm;
	long long seq, t, pid, tid;
	size_t klen, alen, clen;
	struct ev_item *ev;
	struct item *it;

	if (!parse_num(&p, end, &seq) || !parse_num(&p, end, &t))
		return NULL;
	while (p < end && *p == ' ')
		p++;
	kind = p;
	while (p < end && *p != ' ')
		p++;
	klen = (size_t)(p - kind);
	if (!klen || !parse_num(&p, end, &pid) || !parse_num(&p, end, &tid))
		return NULL;
	while (p < end && *p == ' ')
		p++;
	/* comm= is the last field and may hold spaces. */
	comm = p;
	if (!(end - p >= 5 && !memcmp(p, "comm=", 5))) {
		comm = memmem(p, (size_t)(end - p), " comm=", 6);
		if (!comm)
			return NULL;
		comm++;
	}
	args = p;
	alen = comm > p ? (size_t)(comm - p - 1) : 0;
	comm += 5;
	clen = (size_t)(end - comm);
	/* One allocation per event: the item, then the ev_item (8-aligned). */
	it = malloc(sizeof(*it) + sizeof(*ev) + klen + alen + clen + 3);
	if (!it)
		return NULL;
	it->next = NULL;
	it->kind = ITEM_EVENT;
	ev = it->ev = (struct ev_item *)(it + 1);
	memset(ev, 0, sizeof(*ev));
	ev->seq = (uint64_t)seq;
	ev->time_ns = (uint64_t)t;
	ev->pid = pid;
	ev->tid = tid;
	ev->kind = ev->buf;
	memcpy(ev->kind, kind, klen);
	ev->kind[klen] = '\0';
	ev->args = ev->kind + klen + 1;
	memcpy(ev->args, args, alen);
	ev->args[alen] = '\0';
	ev->comm = ev->args + alen + 1;
	memcpy(ev->comm, comm, clen);
	ev->comm[clen] = '\0';
	if (!strcmp(ev->kind, "mmap") || !strcmp(ev->kind, "munmap"))
		ev->has_size = key_value(args, alen, "len", &ev->size);
	else if (!strcmp(ev->kind, "mremap"))
		ev->has_size = key_value(args, alen, "new_len", &ev->size);
	else if (!strcmp(ev->kind, "brk"))
		ev->has_size = key_value(args, alen, "delta", &ev->size);
	else if (!strcmp(ev->kind, "lost"))
		ev->has_size = key_value(args, alen, "count", &ev->size);
	ev->has_result = key_value(args, alen, "result", &ev->result);
	return it;
}

static long long bad_lines, dropped;

/* The lines of one read, queued with one lock and one wakeup. */
struct ev_batch {
	struct item *head, *tail;
	size_t n;
};

static void handle_line(struct ev_batch *b, const char *line, size_t len)
{
	struct item *it;

	if (!len || line[0] == '#')
		return;
	if (len > 16 && !memcmp(line, "memwatch-events ", 16)) {
		int major = 0, minor = 0;

		if (sscanf(line, "memwatch-events - version: %d.%d", &major,
			   &minor) != 2 || major != 1)
			mwd_log("%s: format '%.*s', this memwatchd knows 1.x: "
				"lines it cannot parse are counted and skipped",
				path, (int)len, line);
		return;
	}
	it = events_parse(line, len);
	if (!it) {
		if (bad_lines++ < 5)
			mwd_log("%s: unparsable line skipped: %.*s", path,
				(int)(len > 200 ? 200 : len), line);
		return;
	}
	if (b->tail)
		b->tail->next = it;
	else
		b->head = it;
	b->tail = it;
	b->n++;
}

/*
 * Queues the batch. A full queue is waited on for --queue-wait ms, by
 * default as long as it takes: the module's ring holds what we have not
 * read meanwhile and counts what it overwrites, so waiting loses no more
 * than dropping would, and usually nothing. What finds no room is
 * dropped and counted.
 */
static void flush_batch(struct ev_batch *b)
{
	struct item *rest, *next;
	long long n = 0;

	if (!b->n)
		return;
	rest = queue_push_list(b->head, b->n, mwd_cfg.queue_wait_ms);
	for (; rest; rest = next) {
		const struct ev_item *ev = rest->ev;

		next = rest->next;
		/* A dropped lost line still carries its count: keep the books. */
		n += strcmp(ev->kind, "lost") ? 1 : ev->size;
		item_free(rest);
	}
	if (n) {
		atomic_fetch_add(&mwd_lost_queue, n);
		if (!dropped)
			mwd_log("queue full (%zu items, writer behind for %d ms, "
				"--queue-wait): dropping events, counted in table "
				"loss (source 'queue')", mwd_cfg.queue_items,
				mwd_cfg.queue_wait_ms);
		dropped += n;
	}
	b->head = b->tail = NULL;
	b->n = 0;
}

long long events_dropped(void)
{
	return dropped;
}

void *events_main(void *arg)
{
	char *buf = malloc(EVENTS_READ_BYTES + 1);
	struct ev_batch batch = { NULL, NULL, 0 };
	size_t len = 0;

	(void)arg;
	if (!buf) {
		mwd_log("events: out of memory");
		return NULL;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, EVENTS_READ_BYTES - len);
		char *p, *nl;

		if (n > 0) {
			len += (size_t)n;
			p = buf;
			while ((nl = memchr(p, '\n', len - (size_t)(p - buf)))) {
				handle_line(&batch, p, (size_t)(nl - p));
				p = nl + 1;
			}
			flush_batch(&batch);
			len -= (size_t)(p - buf);
			memmove(buf, p, len);
			if (len == EVENTS_READ_BYTES) {
				mwd_log("%s: line longer than %d bytes dropped",
					path, EVENTS_READ_BYTES);
				len = 0;
			}
			/*
			 * A short read: few events are coming. Let them gather
			 * rather than wake (us and the writer) for each one; a
			 * full read goes on at once.
			 */
			if ((size_t)n < EVENTS_READ_BYTES / 2 &&
			    !atomic_load(&mwd_stopping)) {
				struct timespec ts = { 0, EVENTS_GATHER_MS * 1000000L };

				nanosleep(&ts, NULL);
			}
			continue;
		}
		if (atomic_load(&mwd_stopping))
			break;		/* drained what was there */
		if (n == 0) {
			/* End of a regular file or a FIFO without writer. */
			struct timespec ts = { 0, 50 * 1000000L };

			nanosleep(&ts, NULL);
		} else if (errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			poll(&pfd, 1, 200);
		} else if (errno != EINTR) {
			mwd_log("%s: read: %s; events stop", path,
				strerror(errno));
			break;
		}
	}
	free(buf);
	close(fd);
	return NULL;
}
