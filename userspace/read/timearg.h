/* timearg.h - TIME arguments of --at, --from, --to. */
#ifndef MW_TIMEARG_H
#define MW_TIMEARG_H

#include <stdbool.h>

/*
 * ISO 8601 ("2026-12-01T03:10:00", optional ".fff", "Z" or "+02:00"; no
 * zone: local time; a space instead of T; a date alone is midnight), epoch
 * seconds ("1764558600", "1764558600.5"), "now", or relative to now
 * ("-10m", "-2h", "-30s", "-1d", "-1w"). Nanoseconds since 1970 in *ns.
 */
bool parse_time_arg(const char *s, long long now_ns, long long *ns);
/* usage_error() format for a TIME that does not parse: option name, value */
#define TIME_ARG_WANT "bad %s '%s': want ISO 8601 (2026-12-01T03:10:00), " \
	"epoch seconds or relative (-10m, -2h)"
/* "2026-12-01T03:10:00.123Z" (UTC, milliseconds). */
void format_time_iso(long long ns, char *buf, unsigned len);

#endif
