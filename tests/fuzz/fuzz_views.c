/*
 * fuzz_views - every memwatch-read view (userspace/read/NAME_view.c) over a
 * file tree built from the input: the loaders of /proc/memwatch files
 * (frag_data.c, tasks_rows.c, the views' own) and of /proc files
 * (buddyinfo, pagetypeinfo, zoneinfo, meminfo, vmstat, PID/stat, PID/status,
 * PID/task/TID/stat), then the writer (output.c) in text, JSON and CSV.
 * Every view runs once per input, with the options the preamble names
 * (fuzzlib.h): 'j' JSON, 'c' CSV (else text), 'n' --no-module, 'f' filters
 * (-p 1 -c init --top 2 --exact -s rss --asc --zone Normal --order 3).
 * Input: an archive (fuzzlib.h); m/status marks the module as loaded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzlib.h"
#include "options.h"
#include "output.h"
#include "views.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
	return 0;
}

static void run_all(const struct mw_opts *base)
{
	size_t v;

	for (v = 0; v < MW_MODE_COUNT; v++) {
		struct mw_opts opts = *base;
		struct mw_out out;

		/* events and history answer from a recording only (fuzz_replay) */
		if (v == MW_MODE_EVENTS || v == MW_MODE_HISTORY)
			continue;
		opts.mode = v;
		mw_out_init(&out, &opts, devnull, mw_views[v].doc);
		mw_out_begin(&out);
		mw_views[v].show(&out, &opts);
		mw_out_end(&out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_file files[FZ_MAX_FILES];
	size_t pre = fz_preamble(data, size);
	int n = fz_split(data, size, files, FZ_MAX_FILES);
	char *dir = fz_tree_write(files, n);
	struct mw_opts opts;

	if (!dir)
		return 0;
	memset(&opts, 0, sizeof(opts));
	opts.order = -1;
	if (memchr(data, 'j', pre))
		opts.format = MW_FMT_JSON;
	else if (memchr(data, 'c', pre))
		opts.format = MW_FMT_CSV;
	opts.no_module = memchr(data, 'n', pre) != NULL;
	if (memchr(data, 'f', pre)) {
		opts.pid = 1;
		opts.comm = "init";
		opts.top = 2;
		opts.exact = true;
		opts.sort_key = "rss";
		opts.sort_ascending = true;
		opts.zone = "Normal";
		opts.order = 3;
	}
	run_all(&opts);
	fz_tree_remove(dir);
	return 0;
}
