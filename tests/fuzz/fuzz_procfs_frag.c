/*
 * fuzz_procfs_frag - userspace/read/frag_data.c's parsers of /proc/buddyinfo,
 * /proc/pagetypeinfo and /proc/zoneinfo (what --frag and --nodes read
 * without the module), then the fragmentation indices of every zone and
 * order, as frag_view computes them.
 * Input: an archive (fuzzlib.h) with p/buddyinfo, p/pagetypeinfo,
 * p/zoneinfo.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frag_data.h"
#include "fuzzlib.h"

static volatile unsigned long sink;

static char *part(const struct fz_file *files, int n, const char *path)
{
	const struct fz_file *f = fz_find(files, n, path);

	return f ? fz_cstr(f->data, f->len) : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_file files[FZ_MAX_FILES];
	int n = fz_split(data, size, files, FZ_MAX_FILES);
	char *buddy = part(files, n, "p/buddyinfo");
	char *ptype = part(files, n, "p/pagetypeinfo");
	char *zinfo = part(files, n, "p/zoneinfo");
	struct frag_snap s;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.pageblock_order = -1;
	if (buddy && frag_parse_buddyinfo(&s, buddy) == 0) {
		if (ptype)
			frag_parse_pagetypeinfo(&s, ptype);
		if (zinfo)
			frag_parse_zoneinfo(&s, zinfo);
		for (i = 0; i < s.nzones; i++) {
			int order, nr = s.nr_orders;

			for (order = 0; order < nr; order++) {
				struct frag_contig info;
				char buf[32];

				frag_contig_info(s.zones[i].nr_free, nr, order,
						 &info);
				frag_index_str(frag_unusable_index(order, &info),
					       buf, sizeof(buf));
				sink ^= (unsigned char)buf[0];
				frag_index_str(frag_extfrag_index(order, &info),
					       buf, sizeof(buf));
				sink ^= (unsigned char)buf[0];
			}
		}
	}
	frag_snap_free(&s);
	free(buddy);
	free(ptype);
	free(zinfo);
	return 0;
}
