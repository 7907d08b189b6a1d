/*
 * prom_client.h - a Prometheus server's HTTP API (/api/v1/query,
 * /api/v1/targets) over plain http://, answers as jansson objects.
 *
 * A minimal HTTP/1.0 client of its own rather than libcurl: memwatch-read is
 * linked statically and Debian ships no static libcurl (Documentation/
 * cluster.md weighs the options). It speaks to one Prometheus: GET only,
 * no TLS, no redirects, no proxies; a reply is read until the server closes
 * (HTTP/1.0: no chunked encoding) and bounded by PROM_MAX_REPLY.
 */
#ifndef MW_PROM_CLIENT_H
#define MW_PROM_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#define PROM_MAX_REPLY (64u << 20)
#define PROM_TIMEOUT_S 10

struct prom_url {
	char host[256];		/* name or numeric address, [] stripped */
	char port[8];
	char prefix[256];	/* path before /api/v1 ("" or "/prometheus") */
	char shown[600];	/* the URL as given, for messages */
};

/* "http://HOST[:PORT][/PREFIX]" into @u; -1 with a message in @err. */
int prom_url_parse(const char *url, struct prom_url *u, char *err, size_t errlen);
/*
 * GET PREFIX@path (path and query already encoded); returns the reply's
 * "data" member (a new reference) when the status is "success", else NULL
 * with the reason (connection, HTTP status, Prometheus's own error) in @err.
 */
json_t *prom_get(const struct prom_url *u, const char *path, char *err, size_t errlen);
/* /api/v1/query?query=PROMQL&time=AT: the "data" object ({resultType, result}). */
json_t *prom_query(const struct prom_url *u, const char *promql, double at,
		   char *err, size_t errlen);
/* Writes @s percent-encoded (RFC 3986 unreserved kept) into @out. */
void prom_urlencode(const char *s, char *out, size_t outlen);

#endif
