/*
 * serve.c - memwatchd's HTTP server: libmicrohttpd with a thread pool,
 * read-only (GET and HEAD), bounded in connections, request size and time.
 *
 * Routes: / and /static/... (the dashboard, embedded), /metrics, /api/v1/...
 * Each request is answered from what the module's files (or /proc, or the
 * recording) say at that moment; the server keeps no state between requests.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http.h"
#include "prom_client.h"
#include "serve.h"
#include "util.h"

/*
 * Limits. A thread pool of SERVE_THREADS answers everything; requests carry
 * no body, so the per-connection memory limit bounds the request line plus
 * headers (larger: 431/414 from libmicrohttpd, connection closed). Clients
 * that stall are dropped after SERVE_TIMEOUT_S of silence.
 */
#define SERVE_THREADS 4
#define SERVE_MAX_CONNECTIONS 256
#define SERVE_MAX_PER_IP 64
#define SERVE_TIMEOUT_S 10
#define SERVE_CONN_MEMORY (32 * 1024)

struct serve_settings serve_cfg;
static struct MHD_Daemon *serve_daemon;

static enum MHD_Result api_route(struct MHD_Connection *c, const char *name)
{
	static const char *const live[] = {
		"tasks", "threads", "frag", "nodes", "sys", "reclaim",
		"allocfail", "extfrag", "status", NULL
	};

	for (size_t i = 0; live[i]; i++)
		if (!strcmp(name, live[i]))
			return api_live(c, live[i]);
	if (!strcmp(name, "events"))
		return api_events(c);
	if (!strcmp(name, "events/stream"))
		return api_stream(c);
	if (!strcmp(name, "memorylogs"))
		return api_memorylogs(c);
	if (!strcmp(name, "history"))
		return api_history(c);
	if (!strcmp(name, "suspects"))
		return api_suspects(c);
	if (!strcmp(name, "cluster"))
		return api_cluster(c);
	if (!strcmp(name, "config"))
		return api_config(c);
	return http_error(c, 404, "no such API endpoint (see Documentation/api.md)");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	static int first_call;
	const char *cl;

	(void)cls;
	(void)version;
	(void)upload_data;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return http_error(c, 405, "read-only server: GET and HEAD only");
	/* A GET with a body: refuse rather than read it. */
	if (*upload_data_size ||
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
	    ((cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					       MHD_HTTP_HEADER_CONTENT_LENGTH)) && strcmp(cl, "0")))
		return http_error(c, 413, "requests carry no body here");
	if (!*req_cls) {
		*req_cls = &first_call;	/* headers seen; answer on the next call */
		return MHD_YES;
	}
	if (!strcmp(url, "/metrics")) {
		enum MHD_Result res;

		if (!http_check_args(c, NULL, &res))
			return res;
		return metrics_reply(c);
	}
	if (!strncmp(url, "/api/v1/", 8))
		return api_route(c, url + 8);
	return web_reply(c, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	*req_cls = NULL;
}

/* "ADDR:PORT" or "[ADDR6]:PORT" into a socket address. */
static int parse_listen(const char *spec, struct sockaddr_storage *ss,
			socklen_t *len, char *err, size_t errlen)
{
	char host[128];
	const char *colon, *h, *p;
	size_t hlen;
	long port;

	if (!spec)
		spec = SERVE_DEFAULT_LISTEN;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || close[1] != ':')
			goto bad;
		h = spec + 1;
		hlen = close - h;
		p = close + 2;
	} else {
		colon = strrchr(spec, ':');
		if (!colon)
			goto bad;
		h = spec;
		hlen = colon - spec;
		p = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host) || !parse_long(p, 1, 65535, &port))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
bad:
	snprintf(err, errlen, "--listen '%s': want ADDR:PORT with a numeric address "
		 "(e.g. 127.0.0.1:%d or [::1]:%d)", spec, SERVE_DEFAULT_PORT,
		 SERVE_DEFAULT_PORT);
	return -1;
}

int serve_start(const struct serve_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	/* No MHD_USE_ERROR_LOG: a client's garbage must not fill the log. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_ALLOW_SUSPEND_RESUME;

	if (serve_daemon) {
		snprintf(err, errlen, "server already started");
		return -1;
	}
	if (parse_listen(cfg->listen, &ss, &sslen, err, errlen))
		return -1;
	if (cfg->prometheus) {
		struct prom_url pu;
		char why[700];

		if (prom_url_parse(cfg->prometheus, &pu, why, sizeof(why))) {
			snprintf(err, errlen, "--prometheus %s", why);
			return -1;
		}
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (stream_start(err, errlen))
		return -1;
	if (suspects_start(cfg->suspects_interval, err, errlen)) {
		stream_stop();
		stream_cleanup();
		return -1;
	}
	serve_cfg.db_path = cfg->db_path ? xstrdup(cfg->db_path) : NULL;
	serve_cfg.metrics_top = cfg->metrics_top > 0 ? cfg->metrics_top : 0;
	serve_cfg.prometheus = cfg->prometheus ? xstrdup(cfg->prometheus) : NULL;
	serve_daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)SERVE_THREADS,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVE_MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)SERVE_MAX_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVE_CONN_MEMORY,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)128,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_END);
	if (!serve_daemon) {
		char shown[160];

		snprintf(shown, sizeof(shown), "%s", cfg->listen ? cfg->listen :
			 SERVE_DEFAULT_LISTEN);
		snprintf(err, errlen, "cannot listen on %s: %s", shown,
			 errno ? strerror(errno) : "libmicrohttpd refused to start");
		stream_stop();
		stream_cleanup();
		suspects_stop();
		return -1;
	}
	return 0;
}

void serve_stop(void)
{
	if (!serve_daemon)
		return;
	/* Streams end first: libmicrohttpd stops with no connection suspended. */
	stream_stop();
	/* Joins the pool threads: no request is in flight afterwards. */
	MHD_stop_daemon(serve_daemon);
	stream_cleanup();
	suspects_stop();
	serve_daemon = NULL;
	free(serve_cfg.db_path);
	free(serve_cfg.prometheus);
	memset(&serve_cfg, 0, sizeof(serve_cfg));
}
