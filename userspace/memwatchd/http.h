/*
 * http.h - what serve.c's routes share: a growing text buffer, replies
 * (JSON, text, errors as JSON), query-string checks.
 *
 * Every handler answers one GET/HEAD request and returns the MHD result of
 * queuing its reply; nothing here writes anywhere but the socket.
 */
#ifndef MEMWATCHD_HTTP_H
#define MEMWATCHD_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#define SERVE_DEFAULT_ADDR "127.0.0.1"
#define SERVE_DEFAULT_PORT 7391
#define SERVE_DEFAULT_LISTEN "127.0.0.1:7391"

struct strbuf {
	char *buf;
	size_t len, cap;
};
void sb_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_append(struct strbuf *sb, const char *s, size_t n);
void sb_free(struct strbuf *sb);

/* The settings serve_start() was given, for handlers. */
struct serve_settings {
	char *db_path;		/* NULL: live only */
	int metrics_top;
	char *prometheus;
};
extern struct serve_settings serve_cfg;

/* Replies. The body is copied; status 200..599. */
enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status,
			   const char *type, const char *body, size_t len);
/* Takes ownership of @j (decref'd). */
enum MHD_Result http_json(struct MHD_Connection *c, unsigned status, json_t *j);
/* {"error": MSG, "status": N} */
enum MHD_Result http_error(struct MHD_Connection *c, unsigned status,
			   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Query-string checks. http_check_args() fails (with the 400 already
 * queued in *res) when an argument is not in the NULL-terminated @allowed
 * list or appears twice.
 */
bool http_check_args(struct MHD_Connection *c, const char *const *allowed,
		     enum MHD_Result *res);
/* Argument @name as an integer in [min, max]; absent: *out = dflt.
 * false (400 queued in *res) when present but not such a number. */
bool http_arg_long(struct MHD_Connection *c, const char *name, long long min,
		   long long max, long long dflt, long long *out,
		   enum MHD_Result *res);
const char *http_arg(struct MHD_Connection *c, const char *name);

/* Routes (api_live.c, api_events.c, api_history.c, metrics.c, web.c). */
enum MHD_Result api_live(struct MHD_Connection *c, const char *name);
enum MHD_Result api_events(struct MHD_Connection *c);
enum MHD_Result api_stream(struct MHD_Connection *c);
enum MHD_Result api_memorylogs(struct MHD_Connection *c);
enum MHD_Result api_history(struct MHD_Connection *c);
enum MHD_Result api_config(struct MHD_Connection *c);
/* api_suspects.c: the suspects thread, its API and its /metrics gauges. */
enum MHD_Result api_suspects(struct MHD_Connection *c);
int suspects_start(double interval, char *err, size_t errlen);
void suspects_stop(void);
void suspects_metrics(struct strbuf *sb);
enum MHD_Result api_cluster(struct MHD_Connection *c);	/* api_cluster.c */
enum MHD_Result metrics_reply(struct MHD_Connection *c);
enum MHD_Result web_reply(struct MHD_Connection *c, const char *url);

/* api_live.c helpers shared with metrics.c */
struct mw_file;
/* One /proc/memwatch/events line as JSON (api_events.c). */
json_t *event_json_line(const char *line);
/* The event-stream thread (api_stream.c): start before, stop before
 * MHD_stop_daemon, clean up after. */
int stream_start(char *err, size_t errlen);
void stream_stop(void);
void stream_cleanup(void);
/* api_recorded.c: events and memorylogs from the recording (parsed query). */
enum MHD_Result recorded_events(struct MHD_Connection *c, long long since,
				long long pid, const char *call, long long limit);
enum MHD_Result recorded_memorylogs(struct MHD_Connection *c, long long limit);
/* One seed 002 MemoryLog row (api_events.c); @total MemTotal in bytes, 0 unknown. */
json_t *memorylog_json(long long seq, long long pid, const char *comm, const char *kind,
		       long long len, long long wall_ns, long long result, double total,
		       const char *source);
/* A JSON string of any bytes: not UTF-8 ones as '?'. */
json_t *json_text(const char *s);
/* A cell as JSON: integer, fixed-point number, null for "-", else string. */
json_t *cell_json(const char *s);
/* /api/v1/NAME's JSON (module file, else /proc), or NULL with err. */
json_t *live_json(const char *name, char *err, size_t errlen);
/* MemTotal from meminfo in KiB, 0 when unknown. */
unsigned long long meminfo_total_kb(void);

#endif
