/* status_view.c - memwatch-read --status: the module's own report. */
#include <stdio.h>
#include <stdlib.h>

#include "memwatch_abi.h"
#include "mwfile.h"
#include "util.h"
#include "views.h"

int status_show(struct mw_out *o, const struct mw_opts *opts)
{
	struct mw_file f;
	char err[512];
	size_t i;

	(void)opts;
	if (mw_file_load(&f, MW_FILE_STATUS, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", mw_prog, err);
		return 1;
	}
	for (i = 0; i < f.nsections; i++) {
		const struct mw_section *s = &f.sections[i];

		if (!*s->title && s->ncols == 2) {
			char **keys = xcalloc(s->nrows + 1, sizeof(char *));
			char **values = xcalloc(s->nrows + 1, sizeof(char *));
			size_t r;

			for (r = 0; r < s->nrows; r++) {
				keys[r] = s->rows[r][0];
				values[r] = s->rows[r][1];
			}
			mw_out_kv(o, "module", keys, values, s->nrows);
			free(keys);
			free(values);
		} else {
			mw_out_table(o, *s->title ? s->title : "table", s->cols,
				     s->ncols, s->rows, s->nrows);
		}
	}
	mw_file_free(&f);
	return 0;
}
