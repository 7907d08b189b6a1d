/*
 * fuzz_sys_util - userspace/read/sys_util.c's sys_proc_get(), the lookup of
 * "Key: value kB" and "key value" lines in /proc/meminfo and /proc/vmstat,
 * with the keys the views ask for and with every key the text itself has.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzlib.h"
#include "sys_util.h"

static volatile unsigned long long sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		"MemTotal", "MemFree", "MemAvailable", "Slab", "VmallocUsed",
		"SwapTotal", "nr_free_pages", "pgscan_kswapd", "pgsteal_direct",
		"compact_stall", "", ":",
	};
	char *text = fz_cstr(data, size), *line, *save = NULL, *copy;
	long long v;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (sys_proc_get(text, keys[i], &v))
			sink ^= (unsigned long long)v;
	copy = strdup(text);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, " :")] = '\0';
		if (sys_proc_get(text, line, &v))
			sink ^= (unsigned long long)v;
	}
	free(copy);
	free(text);
	return 0;
}
