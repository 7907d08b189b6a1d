/* A plugin that tests/leak/dlclose_leak.c loads, calls and unloads again
 * before the report: its frames must still be named. plugin_work's
 * helper is inlined at -O2. */
#include <stdlib.h>
#include <string.h>

static inline __attribute__((always_inline)) char *plugin_dup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);	/* LEAK:plugin_dup */
	memcpy(p, s, n);
	return p;
}

char *plugin_kept;

__attribute__((noinline)) void *plugin_work(int n)
{
	plugin_kept = NULL;
	for (int i = 0; i < n; i++)
		plugin_dup("leaked by a plugin");	/* LEAK:plugin_call */
	return malloc(64);	/* LEAK:plugin_ret */
}
