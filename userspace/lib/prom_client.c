/*
 * prom_client.c - a minimal http:// client for Prometheus's HTTP API.
 * See prom_client.h for what it does and does not speak.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "prom_client.h"

int prom_url_parse(const char *url, struct prom_url *u, char *err, size_t errlen)
{
	const char *p, *host, *hend, *path;
	size_t hlen;

	memset(u, 0, sizeof(*u));
	snprintf(u->shown, sizeof(u->shown), "%s", url);
	if (!strncasecmp(url, "https://", 8)) {
		snprintf(err, errlen, "'%s': https is not supported; give Prometheus's plain "
			 "http:// address (Documentation/cluster.md)", url);
		return -1;
	}
	if (strncasecmp(url, "http://", 7)) {
		snprintf(err, errlen, "'%s': want http://HOST[:PORT][/PATH]", url);
		return -1;
	}
	host = url + 7;
	if (*host == '[') {
		hend = strchr(host, ']');
		if (!hend)
			goto bad;
		host++;
		hlen = hend - host;
		p = hend + 1;
	} else {
		hlen = strcspn(host, ":/?#");
		p = host + hlen;
	}
	if (!hlen || hlen >= sizeof(u->host) || *p == '?' || *p == '#')
		goto bad;
	memcpy(u->host, host, hlen);
	if (strchr(u->host, '@'))
		goto bad;
	if (*p == ':') {
		size_t plen = strspn(p + 1, "0123456789");
		long port;

		if (!plen || plen >= sizeof(u->port))
			goto bad;
		memcpy(u->port, p + 1, plen);
		port = strtol(u->port, NULL, 10);
		if (port < 1 || port > 65535)
			goto bad;
		p += 1 + plen;
	} else {
		strcpy(u->port, "80");
	}
	path = p;
	if (*path && *path != '/')
		goto bad;
	if (strpbrk(path, "?#") || strlen(path) >= sizeof(u->prefix))
		goto bad;
	snprintf(u->prefix, sizeof(u->prefix), "%s", path);
	/* "/" and "/prom/" name the same API root as "" and "/prom" */
	while (*u->prefix && u->prefix[strlen(u->prefix) - 1] == '/')
		u->prefix[strlen(u->prefix) - 1] = '\0';
	return 0;
bad:
	snprintf(err, errlen, "'%s': want http://HOST[:PORT][/PATH]", url);
	return -1;
}

static int dial(const struct prom_url *u, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct timeval tv = { .tv_sec = PROM_TIMEOUT_S };
	int fd = -1, rc, saved = 0;

	rc = getaddrinfo(u->host, u->port, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "%s: cannot resolve '%s': %s", u->shown, u->host,
			 gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		/* on Linux the send timeout also bounds connect() */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "%s: cannot connect: %s", u->shown,
			 saved == EINPROGRESS || saved == EAGAIN ? "timed out" : strerror(saved));
	return fd;
}

/* The whole reply into a NUL-terminated buffer; NULL with err. */
static char *exchange(int fd, const struct prom_url *u, const char *path,
		      size_t *lenp, char *err, size_t errlen)
{
	char *req = NULL, *buf = NULL;
	size_t len = 0, cap = 0, off = 0;
	int n = asprintf(&req, "GET %s%s HTTP/1.0\r\nHost: %s:%s\r\nAccept: application/json\r\n"
			 "User-Agent: memwatch\r\n\r\n", u->prefix, path, u->host, u->port);

	if (n < 0) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	while (off < (size_t)n) {
		ssize_t w = send(fd, req + off, n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "%s: sending the request: %s", u->shown,
				 w < 0 ? strerror(errno) : "connection closed");
			free(req);
			return NULL;
		}
		off += w;
	}
	free(req);
	for (;;) {
		ssize_t r;

		if (cap - len < 65536) {
			if (cap >= PROM_MAX_REPLY) {
				snprintf(err, errlen, "%s: reply larger than %u MiB", u->shown,
					 PROM_MAX_REPLY >> 20);
				free(buf);
				return NULL;
			}
			cap = cap ? cap * 2 : 131072;
			char *nb = realloc(buf, cap + 1);

			if (!nb) {
				snprintf(err, errlen, "out of memory");
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		r = recv(fd, buf + len, cap - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: reading the reply: %s", u->shown,
				 errno == EAGAIN ? "timed out" : strerror(errno));
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		len += r;
	}
	if (!buf) {
		snprintf(err, errlen, "%s: empty reply: not an HTTP server?", u->shown);
		return NULL;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

json_t *prom_get(const struct prom_url *u, const char *path, char *err, size_t errlen)
{
	char *reply, *body;
	size_t len;
	int fd, status;
	json_t *j, *data;
	json_error_t je;
	const char *st;

	fd = dial(u, err, errlen);
	if (fd < 0)
		return NULL;
	reply = exchange(fd, u, path, &len, err, errlen);
	close(fd);
	if (!reply)
		return NULL;
	if (sscanf(reply, "HTTP/%*d.%*d %d", &status) != 1 ||
	    !(body = strstr(reply, "\r\n\r\n"))) {
		snprintf(err, errlen, "%s: not an HTTP reply: is this a Prometheus server?", u->shown);
		free(reply);
		return NULL;
	}
	body += 4;
	j = json_loadb(body, len - (body - reply), 0, &je);
	if (!j || !json_is_object(j)) {
		snprintf(err, errlen, "%s%s: HTTP %d without a Prometheus API reply: "
			 "is this a Prometheus server (and the right path)?", u->shown, path, status);
		json_decref(j);
		free(reply);
		return NULL;
	}
	free(reply);
	st = json_string_value(json_object_get(j, "status"));
	data = json_object_get(j, "data");
	if (!st || strcmp(st, "success") || !data) {
		const char *e = json_string_value(json_object_get(j, "error"));
		const char *t = json_string_value(json_object_get(j, "errorType"));

		snprintf(err, errlen, "%s: HTTP %d, Prometheus says: %s%s%s", u->shown, status,
			 t ? t : "", t ? ": " : "", e ? e : "no reason given");
		json_decref(j);
		return NULL;
	}
	json_incref(data);
	json_decref(j);
	return data;
}

void prom_urlencode(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s && o + 4 < outlen; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out[o++] = c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

json_t *prom_query(const struct prom_url *u, const char *promql, double at,
		   char *err, size_t errlen)
{
	size_t qlen = strlen(promql) * 3 + 64;
	char *q = malloc(qlen), *path;
	json_t *j;

	if (!q) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	prom_urlencode(promql, q, qlen);
	if (asprintf(&path, "/api/v1/query?query=%s&time=%.3f", q, at) < 0) {
		free(q);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	free(q);
	j = prom_get(u, path, err, errlen);
	free(path);
	return j;
}
