/* util.c - small helpers shared by every view. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mwsnap.h"
#include "util.h"

/* Set by each program before its first message. */
const char *mw_prog = "memwatch-read";

static void out_of_memory(void)
{
	fprintf(stderr, "%s: out of memory\n", mw_prog);
	exit(1);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		out_of_memory();
	return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	p = reallocarray(p, n, size);
	if (!p)
		out_of_memory();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		out_of_memory();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		out_of_memory();
	return p;
}

/* /proc files report size 0, so read until EOF rather than trusting stat. */
char *read_whole_file(const char *path)
{
	size_t cap = 16384, len = 0;
	char *buf;
	int fd;

	if (mw_snap_current())
		return mw_snap_read(path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	if (!buf)
		goto fail;
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nbuf = realloc(buf, cap * 2);

			if (!nbuf)
				goto fail;
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
fail:
	{
		int e = errno;

		free(buf);
		close(fd);
		errno = e;
	}
	return NULL;
}

bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* A finite number >= 0 at the start of @s; *end after it. */
static bool leading_number(const char *s, double *v, char **end)
{
	if (!s || !*s)
		return false;
	errno = 0;
	*v = strtod(s, end);
	return !errno && *end != s && isfinite(*v) && *v >= 0;
}

bool parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!leading_number(s, &v, &end) || *end || v <= 0 || v > 86400)
		return false;
	*out = v;
	return true;
}

bool parse_duration(const char *s, double *seconds)
{
	char *end;
	double v;

	if (!leading_number(s, &v, &end) || (*end && end[1]))
		return false;
	switch (*end) {
	case '\0': case 's': break;
	case 'm': v *= 60; break;
	case 'h': v *= 3600; break;
	case 'd': v *= 86400; break;
	case 'w': v *= 7 * 86400; break;
	default: return false;
	}
	*seconds = v;
	return true;
}

bool parse_size(const char *s, long long *bytes)
{
	char *end;
	double v;
	double mult = 1;

	if (!leading_number(s, &v, &end))
		return false;
	if (*end && end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))
		return false;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1024; break;
	case 'm': case 'M': mult = 1024 * 1024; break;
	case 'g': case 'G': mult = 1024.0 * 1024 * 1024; break;
	case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; break;
	default: return false;
	}
	if (v * mult > 9.2e18)
		return false;
	*bytes = (long long)(v * mult);
	return true;
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", mw_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", mw_prog);
	return 2;
}

const char *getopt_culprit(char *const argv[], char *buf)
{
	const char *arg = argv[optind - 1];

	if (!strncmp(arg, "--", 2) || !optopt)
		return arg;
	buf[0] = '-';
	buf[1] = (char)optopt;
	buf[2] = '\0';
	return buf;
}

int getopt_error(int c, char *const argv[])
{
	char buf[3];

	if (c == ':')
		return usage_error("option '%s' needs an argument", getopt_culprit(argv, buf));
	return usage_error("unknown option '%s'", getopt_culprit(argv, buf));
}

/* Decimal digits of @v at @p; returns the end. */
static char *put_decimal(char *p, unsigned long long v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

void human_bytes(unsigned long long bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGTPE";
	unsigned long long d, q, r;
	char text[32], *p = text;
	int u = 0, shift = 0;

	/*
	 * Integer arithmetic giving the text printf("%.1f" / "%.0f") gives
	 * for bytes / 1024^u (round half to even; identical below 2^53):
	 * floating-point formatting, and then printf itself, were most of a
	 * 2,000-row table's cost under emulation (Documentation/performance.md).
	 */
	while (u < 6 && bytes >> shift >= 1024) {
		shift += 10;
		u++;
	}
	if (u == 0) {
		p = put_decimal(p, bytes);
	} else {
		/* d = 1024^u: shifts and masks, not divisions */
		d = 1ULL << shift;
		q = bytes >> shift;
		r = bytes & (d - 1);
		if (q < 10) {		/* one decimal: count tenths */
			q = q * 10 + ((r * 10) >> shift);
			r = (r * 10) & (d - 1);
		}
		if (2 * r > d || (2 * r == d && (q & 1)))
			q++;
		if (bytes >> shift < 10) {
			p = put_decimal(p, q / 10);
			*p++ = '.';
			*p++ = (char)('0' + q % 10);
		} else {
			p = put_decimal(p, q);
		}
	}
	*p++ = units[u];
	if (!len)
		return;
	if ((size_t)(p - text) >= len)
		p = text + len - 1;
	memcpy(buf, text, p - text);
	buf[p - text] = '\0';
}
