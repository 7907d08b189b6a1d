/* http_reply.c - replies and query-string checks shared by every route. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "util.h"

void sb_append(struct strbuf *sb, const char *s, size_t n)
{
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 4096;

		while (cap < sb->len + n + 1)
			cap *= 2;
		sb->buf = xreallocarray(sb->buf, cap, 1);
		sb->cap = cap;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		sb_append(sb, small, n);
		return;
	}
	char *big = xcalloc(n + 1, 1);

	va_start(ap, fmt);
	vsnprintf(big, n + 1, fmt, ap);
	va_end(ap);
	sb_append(sb, big, n);
	free(big);
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status,
			   const char *type, const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* The page loads nothing from elsewhere, and nothing may frame it. */
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; frame-ancestors 'none'");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result http_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	/* Fixed-point figures ("0.123") print back as written. */
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
	enum MHD_Result ret;

	json_decref(j);
	if (!s)
		return http_reply(c, 500, "application/json",
				  "{\"error\":\"out of memory\",\"status\":500}", 38);
	ret = http_reply(c, status, "application/json", s, strlen(s));
	free(s);
	return ret;
}

enum MHD_Result http_error(struct MHD_Connection *c, unsigned status,
			   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return http_json(c, status, json_pack("{s:s, s:i}", "error", msg,
					      "status", (int)status));
}

struct args_check {
	const char *const *allowed;
	const char *bad;	/* first unknown or repeated name */
	const char *seen[16];
	size_t nseen;
};

static enum MHD_Result args_visit(void *cls, enum MHD_ValueKind kind,
				  const char *key, const char *value)
{
	struct args_check *a = cls;
	size_t i;

	(void)kind;
	(void)value;
	for (i = 0; a->allowed[i]; i++)
		if (!strcmp(a->allowed[i], key))
			break;
	if (!a->allowed[i]) {
		a->bad = key;
		return MHD_NO;
	}
	for (size_t k = 0; k < a->nseen; k++)
		if (a->seen[k] == a->allowed[i]) {
			a->bad = key;
			return MHD_NO;
		}
	if (a->nseen < sizeof(a->seen) / sizeof(a->seen[0]))
		a->seen[a->nseen++] = a->allowed[i];
	return MHD_YES;
}

bool http_check_args(struct MHD_Connection *c, const char *const *allowed,
		     enum MHD_Result *res)
{
	static const char *const none[] = { NULL };
	struct args_check a = { .allowed = allowed ? allowed : none };
	char shown[64];

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, args_visit, &a);
	if (!a.bad)
		return true;
	/* Names are the client's bytes: show a safe, short prefix. */
	size_t i;

	for (i = 0; a.bad[i] && i < sizeof(shown) - 1; i++)
		shown[i] = (a.bad[i] >= 0x20 && a.bad[i] < 0x7f) ? a.bad[i] : '?';
	shown[i] = '\0';
	*res = http_error(c, 400, "unknown or repeated query parameter '%s'", shown);
	return false;
}

const char *http_arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

bool http_arg_long(struct MHD_Connection *c, const char *name, long long min,
		   long long max, long long dflt, long long *out,
		   enum MHD_Result *res)
{
	const char *s = http_arg(c, name);
	char *end;
	long long v;

	if (!s) {
		*out = dflt;
		return true;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max ||
	    !((*s >= '0' && *s <= '9') || *s == '-')) {
		*res = http_error(c, 400, "parameter '%s' wants an integer from %lld to %lld",
				  name, min, max);
		return false;
	}
	*out = v;
	return true;
}
