/* serve.c - stand-in until the HTTP side (issue 12) replaces this file. */
#include <stdio.h>

#include "serve.h"

int serve_start(const struct serve_config *cfg, char *err, size_t errlen)
{
	(void)cfg;
	(void)err;
	(void)errlen;
	fprintf(stderr, "memwatchd: HTTP serving not built\n");
	return 0;
}

void serve_stop(void)
{
}
