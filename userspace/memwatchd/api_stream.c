/*
 * api_stream.c - /api/v1/events/stream: server-sent events, held open.
 *
 * Each client opens /proc/memwatch/events itself (the module gives every
 * reader every event). Its response is read by libmicrohttpd's pool thread
 * through stream_read(): events are read without blocking and sent as
 * "id: SEQ / event: KIND / data: JSON"; when there is none the connection
 * is suspended (it then costs no thread) and the stream thread, polling the
 * suspended clients' files, resumes it when its file is readable or a
 * keep-alive comment is due. STREAM_MAX_CLIENTS at once.
 *
 * Locking: stream_lock guards the client list and each client's state; no
 * MHD function is called while holding it (MHD takes its own locks around
 * our callbacks). A client is resumed only once its suspension is complete
 * (state SUSPENDED), and freed only by MHD's free callback, which MHD does
 * not call while the connection is suspended.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "mwfile.h"
#include "util.h"

#define STREAM_MAX_CLIENTS 8
#define STREAM_KEEPALIVE_S 15

enum stream_state { RUNNING, SUSPENDING, SUSPENDED };

struct stream_client {
	struct stream_client *next;
	struct MHD_Connection *conn;
	int fd;
	enum stream_state state;
	unsigned long long since;	/* send events after this seq */
	bool have_since;		/* else: skip what is in the ring now */
	bool primed;
	char in[65536];
	size_t in_len;
	struct strbuf out;
	size_t out_off;
	time_t last_sent;
};

static pthread_mutex_t stream_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stream_client *clients;
static int nclients;
static bool stream_stopping;
static pthread_t stream_thread;
static bool stream_thread_up;
static int wake_pipe[2] = { -1, -1 };

static void wake(void)
{
	if (wake_pipe[1] >= 0 && write(wake_pipe[1], "", 1) < 0) {
		/* full pipe: the thread is awake anyway */
	}
}

/* Complete lines of c->in into SSE records in c->out. */
static void stream_format(struct stream_client *c)
{
	char *p = c->in, *nl, *end = c->in + c->in_len;

	while ((nl = memchr(p, '\n', end - p))) {
		unsigned long long seq, t;
		char kind[16];
		long long pid;
		int off = 0;

		*nl = '\0';
		if (p[0] != '#' && strncmp(p, "memwatch-events", 15) &&
		    sscanf(p, "%llu %llu %15s %lld %*d %n", &seq, &t, kind, &pid, &off) >= 4 && off) {
			if (c->have_since ? seq > c->since : c->primed) {
				json_t *j = event_json_line(p);
				char *s = json_dumps(j, JSON_COMPACT);

				json_decref(j);
				if (s) {
					sb_printf(&c->out, "id: %llu\nevent: %s\ndata: %s\n\n", seq, kind, s);
					free(s);
				}
			}
			if (seq > c->since)
				c->since = seq;
		}
		p = nl + 1;
	}
	c->in_len = end - p;
	memmove(c->in, p, c->in_len);
	if (c->in_len == sizeof(c->in))
		c->in_len = 0;	/* a line longer than the buffer: dropped */
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_client *c = cls;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&stream_lock);
	for (;;) {
		if (stream_stopping) {
			pthread_mutex_unlock(&stream_lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (c->out_off < c->out.len) {
			n = c->out.len - c->out_off < max ? c->out.len - c->out_off : max;
			memcpy(buf, c->out.buf + c->out_off, n);
			c->out_off += n;
			if (c->out_off == c->out.len)
				c->out_off = c->out.len = 0;
			c->last_sent = time(NULL);
			pthread_mutex_unlock(&stream_lock);
			return n;
		}
		n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n > 0) {
			c->in_len += n;
			stream_format(c);
			continue;
		}
		if (n == 0 && !c->primed) {
			/* a file that ends (a fixture): the id still moves on */
			c->primed = true;
			sb_printf(&c->out, "id: %llu\n\n", c->since);
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			/* a fixture's end, or the module went away */
			pthread_mutex_unlock(&stream_lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (errno == EINTR)
			continue;
		if (!c->primed) {
			/* what was in the ring at connect time is sent only after an id */
			c->primed = true;
			sb_printf(&c->out, "id: %llu\n\n", c->since);
			continue;
		}
		if (time(NULL) - c->last_sent >= STREAM_KEEPALIVE_S) {
			sb_printf(&c->out, ": keep-alive\n\n");
			continue;
		}
		break;
	}
	c->state = SUSPENDING;
	pthread_mutex_unlock(&stream_lock);
	MHD_suspend_connection(c->conn);
	pthread_mutex_lock(&stream_lock);
	c->state = SUSPENDED;
	pthread_mutex_unlock(&stream_lock);
	wake();
	return 0;
}

static void stream_free(void *cls)
{
	struct stream_client *c = cls, **pp;

	pthread_mutex_lock(&stream_lock);
	for (pp = &clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	nclients--;
	pthread_mutex_unlock(&stream_lock);
	close(c->fd);
	sb_free(&c->out);
	free(c);
}

static bool clients_suspended_locked(void)
{
	for (struct stream_client *c = clients; c; c = c->next)
		if (c->state != RUNNING)
			return true;
	return false;
}

/* Resumes suspended clients whose file is readable or whose keep-alive is due. */
static void *stream_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pfd[STREAM_MAX_CLIENTS + 1];
		struct MHD_Connection *resume[STREAM_MAX_CLIENTS];
		struct stream_client *ready[STREAM_MAX_CLIENTS];
		size_t n = 1, nres = 0;
		bool stop;

		pfd[0] = (struct pollfd){ .fd = wake_pipe[0], .events = POLLIN };
		pthread_mutex_lock(&stream_lock);
		stop = stream_stopping;
		for (struct stream_client *c = clients; c && n <= STREAM_MAX_CLIENTS; c = c->next)
			if (c->state == SUSPENDED) {
				ready[n - 1] = c;
				pfd[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
			}
		pthread_mutex_unlock(&stream_lock);
		if (!stop)
			poll(pfd, n, 1000);
		if (pfd[0].revents & POLLIN) {
			char drain[64];

			while (read(wake_pipe[0], drain, sizeof(drain)) > 0)
				;
		}
		time_t now = time(NULL);

		pthread_mutex_lock(&stream_lock);
		stop = stream_stopping;
		for (size_t i = 1; i < n; i++) {
			struct stream_client *c = ready[i - 1];

			/* still ours: only SUSPENDED clients are in ready[], and MHD
			 * frees none while it is suspended */
			if (c->state == SUSPENDED &&
			    (stop || pfd[i].revents || now - c->last_sent >= STREAM_KEEPALIVE_S)) {
				c->state = RUNNING;
				resume[nres++] = c->conn;
			}
		}
		bool done = stop && !clients_suspended_locked();

		pthread_mutex_unlock(&stream_lock);
		for (size_t i = 0; i < nres; i++)
			MHD_resume_connection(resume[i]);
		if (done)
			return NULL;
	}
}

int stream_start(char *err, size_t errlen)
{
	stream_stopping = false;
	if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC)) {
		snprintf(err, errlen, "event stream: pipe: %s", strerror(errno));
		return -1;
	}
	if (pthread_create(&stream_thread, NULL, stream_main, NULL)) {
		snprintf(err, errlen, "event stream: cannot start its thread");
		close(wake_pipe[0]);
		close(wake_pipe[1]);
		wake_pipe[0] = wake_pipe[1] = -1;
		return -1;
	}
	stream_thread_up = true;
	return 0;
}

/* Before MHD_stop_daemon: every stream ends, none stays suspended. */
void stream_stop(void)
{
	if (!stream_thread_up)
		return;
	pthread_mutex_lock(&stream_lock);
	stream_stopping = true;
	pthread_mutex_unlock(&stream_lock);
	wake();
	pthread_join(stream_thread, NULL);
	stream_thread_up = false;
}

/* After MHD_stop_daemon (which freed every client). */
void stream_cleanup(void)
{
	if (wake_pipe[0] >= 0) {
		close(wake_pipe[0]);
		close(wake_pipe[1]);
		wake_pipe[0] = wake_pipe[1] = -1;
	}
}

enum MHD_Result api_stream(struct MHD_Connection *c)
{
	static const char *const allowed[] = { "since", NULL };
	const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
	struct stream_client *sc;
	struct MHD_Response *r;
	char path[4096];
	long long since;
	enum MHD_Result res;
	int fd, busy;

	if (!http_check_args(c, allowed, &res) ||
	    !http_arg_long(c, "since", 0, INT64_MAX, -1, &since, &res))
		return res;
	if (last) {
		char *end;

		errno = 0;
		since = strtoll(last, &end, 10);
		if (!*last || *end || errno || since < 0)
			return http_error(c, 400, "Last-Event-ID wants an event sequence number");
	}
	snprintf(path, sizeof(path), "%s/events", mw_root());
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return http_error(c, 503, "%.300s: %s%s", path, strerror(errno),
				  errno == ENOENT ? " (is the memwatch module loaded, with events?)" : "");
	pthread_mutex_lock(&stream_lock);
	busy = nclients >= STREAM_MAX_CLIENTS || stream_stopping || !stream_thread_up;
	if (!busy)
		nclients++;
	pthread_mutex_unlock(&stream_lock);
	if (busy) {
		close(fd);
		return http_error(c, 503, "too many event-stream clients (at most %d)",
				  STREAM_MAX_CLIENTS);
	}
	sc = xcalloc(1, sizeof(*sc));
	sc->conn = c;
	sc->fd = fd;
	sc->have_since = since >= 0;
	sc->since = since >= 0 ? (unsigned long long)since : 0;
	sc->primed = sc->have_since;
	sc->last_sent = time(NULL);
	sb_printf(&sc->out, "retry: 1000\n\n");
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, sc, stream_free);
	if (!r) {
		stream_free(sc);
		return MHD_NO;
	}
	pthread_mutex_lock(&stream_lock);
	sc->next = clients;
	clients = sc;
	pthread_mutex_unlock(&stream_lock);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	res = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return res;
}
