/* web_assets.h - files embedded by web/embed.py into web_assets.c. */
#ifndef MEMWATCHD_WEB_ASSETS_H
#define MEMWATCHD_WEB_ASSETS_H
#include <stddef.h>
struct web_asset {
	const char *path;	/* URL path, "/index.html" */
	const char *type;	/* Content-Type */
	const unsigned char *data;
	size_t len;
};
extern const struct web_asset web_assets[];
extern const size_t web_assets_count;
#endif
