/* timearg.c - TIME arguments (see timearg.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timearg.h"

#define NS 1000000000LL

static bool parse_relative(const char *s, long long now_ns, long long *ns)
{
	char *end;
	double v;
	double unit;

	errno = 0;
	v = strtod(s + 1, &end);
	if (errno || end == s + 1 || v < 0 || !isdigit((unsigned char)s[1]))
		return false;
	switch (*end) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return false;
	}
	if (end[1])
		return false;
	*ns = now_ns - (long long)(v * unit * 1e9);
	return true;
}

/* Fraction digits after '.', as nanoseconds; advances *p. */
static long long parse_fraction(const char **p)
{
	long long frac = 0, scale = 100000000LL;

	if (**p != '.' && **p != ',')
		return 0;
	for ((*p)++; isdigit((unsigned char)**p); (*p)++) {
		frac += (**p - '0') * scale;
		scale /= 10;
	}
	return frac;
}

static bool parse_iso(const char *s, long long *ns)
{
	struct tm tm;
	const char *p;
	long long frac = 0, off = 0;
	bool utc = false;
	time_t t;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 ||
	    n != 10)
		return false;
	p = s + n;
	if (*p == 'T' || *p == ' ') {
		int m = 0;

		if (sscanf(p + 1, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &m) != 2 || m != 5)
			return false;
		p += 1 + m;
		if (*p == ':') {
			if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
				return false;
			tm.tm_sec = (p[1] - '0') * 10 + (p[2] - '0');
			p += 3;
			frac = parse_fraction(&p);
		}
	}
	if (*p == 'Z') {
		utc = true;
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm = 0, k = 0;

		if (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &k) == 2 && k == 5)
			;
		else if (sscanf(p + 1, "%2d%2d%n", &hh, &mm, &k) == 2 && k == 4)
			;
		else if (sscanf(p + 1, "%2d%n", &hh, &k) == 1 && k == 2)
			mm = 0;
		else
			return false;
		off = (hh * 3600LL + mm * 60LL) * (*p == '-' ? -1 : 1);
		utc = true;
		p += 1 + k;
	}
	if (*p)
		return false;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return false;
	*ns = ((long long)t - off) * NS + frac;
	return true;
}

bool parse_time_arg(const char *s, long long now_ns, long long *ns)
{
	const char *p;

	if (!s || !*s)
		return false;
	if (!strcmp(s, "now")) {
		*ns = now_ns;
		return true;
	}
	if (s[0] == '-')
		return parse_relative(s, now_ns, ns);
	for (p = s; isdigit((unsigned char)*p); p++)
		;
	if (p > s && (*p == '\0' || *p == '.')) {	/* epoch seconds */
		long long sec;
		long long frac;

		errno = 0;
		sec = strtoll(s, NULL, 10);
		if (errno || sec > 100000000000LL)
			return false;
		frac = parse_fraction(&p);
		if (*p)
			return false;
		*ns = sec * NS + frac;
		return true;
	}
	return parse_iso(s, ns);
}

void format_time_iso(long long ns, char *buf, unsigned len)
{
	time_t t = (time_t)(ns / NS);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (ns % NS) / 1000000LL);
}
