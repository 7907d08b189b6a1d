/*
 * fuzz_mwfile - userspace/lib/mwfile.c: mw_file_parse() on any text, then
 * every accessor over what it built (the sections, columns, rows and
 * "name value" pairs every reader of /proc/memwatch walks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzlib.h"
#include "mwfile.h"

static volatile size_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_cstr(data, size), err[512];
	struct mw_file f;
	size_t i, r, c;

	if (mw_file_parse(&f, "fuzz", text, err, sizeof(err)) == 0) {
		for (i = 0; i < f.nsections; i++) {
			const struct mw_section *s = &f.sections[i];

			/* lookups by the names the file itself uses */
			sink += mw_file_section(&f, s->title) != NULL;
			for (c = 0; c < s->ncols; c++)
				sink += (size_t)mw_section_col(s, s->cols[c]);
			for (r = 0; r < s->nrows; r++)
				for (c = 0; c < s->ncols; c++)
					sink += strlen(s->rows[r][c]);
			if (s->nrows && s->ncols)
				sink += mw_file_value(&f, s->rows[0][0]) != NULL;
		}
		sink += mw_file_value(&f, "version") != NULL;
		sink += mw_file_section(&f, "") != NULL;
	} else {
		sink += strlen(err);
	}
	mw_file_free(&f);
	free(text);
	return 0;
}
