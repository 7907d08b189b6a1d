/*
 * api_history.c - /api/v1/history?pid=|comm=&column=&from=&to=&step=: a
 * column of tasks over time, from the recording (read-only connection).
 */
#define _GNU_SOURCE
#include <string.h>

#include "http.h"

enum MHD_Result api_history(struct MHD_Connection *c)
{
	static const char *const allowed[] = {
		"pid", "comm", "column", "from", "to", "step", NULL
	};
	enum MHD_Result res;

	if (!http_check_args(c, allowed, &res))
		return res;
	if (!serve_cfg.db_path)
		return http_error(c, 404, "no recording: memwatchd runs live only (start it with a database)");
	return http_error(c, 501, "history from the recording is not served yet");
}
