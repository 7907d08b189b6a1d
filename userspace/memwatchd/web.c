/*
 * web.c - the dashboard: files of web/ and the chart library from npm,
 * embedded at build time (web_assets.c, made by web/embed.py), so the page
 * works offline and the daemon is one file.
 */
#include <string.h>

#include "http.h"
#include "web_assets.h"

enum MHD_Result web_reply(struct MHD_Connection *c, const char *url)
{
	enum MHD_Result res;

	if (!strcmp(url, "/"))
		url = "/index.html";
	for (size_t i = 0; i < web_assets_count; i++) {
		const struct web_asset *a = &web_assets[i];

		if (strcmp(url, a->path))
			continue;
		if (!http_check_args(c, NULL, &res))
			return res;
		return http_reply(c, 200, a->type, (const char *)a->data, a->len);
	}
	return http_error(c, 404, "no such page (the dashboard is at /, the API under /api/v1/)");
}
