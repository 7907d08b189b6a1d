/*
 * api_cluster.c - /api/v1/cluster[?comm=NAME]: every host the Prometheus
 * server of --prometheus URL scrapes, with the largest commands and
 * processes across them and each host's free blocks per order: the
 * document of libmwcore's cluster.h, the same memwatch-read --cluster
 * prints. The dashboard's cluster page (web/cluster.html) reads it.
 *
 * 404 when no --prometheus was given; 502 when Prometheus cannot be asked
 * (the message says why), so the page shows the reason instead of zeros.
 */
#include <string.h>

#include "cluster.h"
#include "http.h"

#define API_CLUSTER_TOP 20
#define API_CLUSTER_COMMANDS 20

enum MHD_Result api_cluster(struct MHD_Connection *c)
{
	static const char *const allowed[] = { "comm", NULL };
	struct cluster_query q = {
		.top = API_CLUSTER_TOP, .commands = API_CLUSTER_COMMANDS, .frag = 1,
	};
	char err[1024];
	enum MHD_Result res;
	json_t *doc;

	if (!http_check_args(c, allowed, &res))
		return res;
	if (!serve_cfg.prometheus)
		return http_error(c, 404, "no cluster: memwatchd was started without "
				  "--prometheus URL (Documentation/cluster.md)");
	q.url = serve_cfg.prometheus;
	q.comm = http_arg(c, "comm");
	if (q.comm && (!*q.comm || strlen(q.comm) > 255))
		return http_error(c, 400, "comm: want a command name of 1..255 bytes");
	doc = cluster_collect(&q, err, sizeof(err));
	if (!doc)
		return http_error(c, 502, "cannot ask Prometheus: %s", err);
	return http_json(c, 200, doc);
}
