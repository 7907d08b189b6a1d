/*
 * sampler.c - every interval: task and thread rows (only what changed since
 * the previous sample, everything at a full sample), the module's files and
 * the /proc files the views read, counters and frag rows; one queue item.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frag_data.h"
#include "memwatch_abi.h"
#include "memwatchd.h"
#include "mwfile.h"
#include "queue.h"
#include "sampler.h"
#include "tasks_rows.h"
#include "util.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const module_files[] = {
	MW_FILE_STATUS, MW_FILE_SYS, MW_FILE_FRAG, MW_FILE_EXTFRAG,
	MW_FILE_NODES, MW_FILE_RECLAIM, MW_FILE_ALLOCFAIL,
};
/* The counters of these module files go to the counter table. */
static const char *const counter_files[] = {
	MW_FILE_STATUS, MW_FILE_SYS, MW_FILE_FRAG, MW_FILE_RECLAIM,
	MW_FILE_ALLOCFAIL,
};
static const char *const proc_files[] = {
	"meminfo", "vmstat", "buddyinfo", "pagetypeinfo", "zoneinfo",
};

/* The previous sample's rows of one table, sorted by id, joined cells. */
struct prev_row {
	long long id;
	char *line;
};

struct prev_tab {
	struct prev_row *rows;
	size_t n;
};

static struct prev_tab prev[2];
static char *prev_text[NELEMS(module_files) + NELEMS(proc_files)];
static long nsamples;

static void add_file(struct sample_item *s, const char *name, char *text)
{
	if (s->nfiles == s->fcap) {
		s->fcap = s->fcap ? 2 * s->fcap : 16;
		s->fnames = xreallocarray(s->fnames, s->fcap, sizeof(char *));
		s->ftexts = xreallocarray(s->ftexts, s->fcap, sizeof(char *));
	}
	s->fnames[s->nfiles] = xstrdup(name);
	s->ftexts[s->nfiles++] = text;
}

/*
 * The previous sample's counters, "src\tname" -> value, in one sorted
 * array: a counter is stored when it changed (and at a full sample), so a
 * quiet host stores few.
 */
struct prev_counter {
	char *key;
	long long v;
};

static struct prev_counter *pcnt;
static size_t npcnt, pcnt_cap;
static bool sample_full;

static int cmp_pcnt(const void *a, const void *b)
{
	return strcmp(((const struct prev_counter *)a)->key,
		      ((const struct prev_counter *)b)->key);
}

/* Whether src/name changed since the last sample; remembers @v. */
static bool counter_changed(const char *src, const char *name, long long v)
{
	struct prev_counter k, *hit;
	char key[256];

	snprintf(key, sizeof(key), "%s\t%s", src, name);
	k.key = key;
	hit = npcnt ? bsearch(&k, pcnt, npcnt, sizeof(*pcnt), cmp_pcnt) : NULL;
	if (hit) {
		bool changed = hit->v != v;

		hit->v = v;
		return changed;
	}
	if (npcnt == pcnt_cap) {
		pcnt_cap = pcnt_cap ? 2 * pcnt_cap : 512;
		pcnt = xreallocarray(pcnt, pcnt_cap, sizeof(*pcnt));
	}
	pcnt[npcnt].key = xstrdup(key);
	pcnt[npcnt++].v = v;
	qsort(pcnt, npcnt, sizeof(*pcnt), cmp_pcnt);
	return true;
}

static void add_counter(struct sample_item *s, const char *src,
			const char *name, long long v)
{
	if (!counter_changed(src, name, v) && !sample_full)
		return;
	if (s->ncnt == s->ccap) {
		s->ccap = s->ccap ? 2 * s->ccap : 256;
		s->csrc = xreallocarray(s->csrc, s->ccap, sizeof(char *));
		s->cname = xreallocarray(s->cname, s->ccap, sizeof(char *));
		s->cval = xreallocarray(s->cval, s->ccap, sizeof(long long));
	}
	s->csrc[s->ncnt] = xstrdup(src);
	s->cname[s->ncnt] = xstrdup(name);
	s->cval[s->ncnt++] = v;
}

static bool whole_integer(const char *s, long long *v)
{
	char *end;

	if (!s || !*s)
		return false;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return !errno && *end == '\0';
}

static void module_counters(struct sample_item *s, const char *name,
			    const char *text)
{
	const struct mw_section *sec;
	struct mw_file f;
	char err[512], *copy = xstrdup(text);
	size_t r;

	if (mw_file_parse(&f, name, copy, err, sizeof(err))) {
		free(copy);
		return;
	}
	free(copy);
	sec = mw_file_section(&f, "");
	for (r = 0; sec && sec->ncols == 2 && r < sec->nrows; r++) {
		long long v;

		if (whole_integer(sec->rows[r][1], &v))
			add_counter(s, name, sec->rows[r][0], v);
	}
	mw_file_free(&f);
}

/* "Key:   123 kB" (meminfo) and "key 123" (vmstat) lines. */
static void proc_counters(struct sample_item *s, const char *src,
			  const char *text)
{
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		char key[128];
		long long v;
		int n = 0;

		if (sscanf(line, "%127[^: ]%*[: ]%lld%n", key, &v, &n) == 2)
			add_counter(s, src, key, v);
		line = nl ? nl + 1 : NULL;
	}
}

static void sample_files(struct sample_item *s, bool full)
{
	char path[4096];
	size_t i, slot = 0;

	for (i = 0; i < NELEMS(module_files); i++, slot++) {
		char *text;

		if (!s->module)
			continue;
		snprintf(path, sizeof(path), "%s/%s", mw_root(),
			 module_files[i]);
		text = read_whole_file(path);
		if (!text)
			continue;
		for (size_t c = 0; c < NELEMS(counter_files); c++)
			if (!strcmp(counter_files[c], module_files[i]))
				module_counters(s, module_files[i], text);
		if (!full && prev_text[slot] && !strcmp(prev_text[slot], text)) {
			free(text);
			continue;
		}
		free(prev_text[slot]);
		prev_text[slot] = xstrdup(text);
		add_file(s, module_files[i], text);
	}
	for (i = 0; i < NELEMS(proc_files); i++, slot++) {
		char name[64], *text;

		snprintf(path, sizeof(path), "%s/%s", mw_procfs(), proc_files[i]);
		text = read_whole_file(path);
		if (!text)
			continue;
		if (!s->module && (!strcmp(proc_files[i], "meminfo") ||
				   !strcmp(proc_files[i], "vmstat")))
			proc_counters(s, proc_files[i], text);
		if (!full && prev_text[slot] && !strcmp(prev_text[slot], text)) {
			free(text);
			continue;
		}
		free(prev_text[slot]);
		prev_text[slot] = xstrdup(text);
		snprintf(name, sizeof(name), "proc/%s", proc_files[i]);
		add_file(s, name, text);
	}
}

static void sample_frag(struct sample_item *s)
{
	struct frag_snap fs;
	size_t z, n = 0;
	int o;

	char path[4096];

	/* Checked first: the loader would log a missing file every sample. */
	if (s->module)
		snprintf(path, sizeof(path), "%s/%s", mw_root(), MW_FILE_FRAG);
	else
		snprintf(path, sizeof(path), "%s/buddyinfo", mw_procfs());
	if (access(path, R_OK) || frag_snap_load(&fs, !s->module, NULL))
		return;
	s->frag = xcalloc(fs.nzones * (size_t)(fs.nr_orders > 0 ? fs.nr_orders : 1),
			  sizeof(*s->frag));
	for (z = 0; z < fs.nzones; z++) {
		const struct frag_zone *fz = &fs.zones[z];

		for (o = 0; o < fs.nr_orders; o++) {
			struct frag_row *r = &s->frag[n++];
			struct frag_contig info;

			frag_contig_info(fz->nr_free, fs.nr_orders, o, &info);
			r->node = fz->node;
			r->order = o;
			snprintf(r->zone, sizeof(r->zone), "%s", fz->name);
			r->free_blocks = (long long)fz->nr_free[o];
			r->unusable_pm = frag_unusable_index(o, &info);
			r->extfrag_pm = frag_extfrag_index(o, &info);
		}
	}
	s->nfrag = n;
	frag_snap_free(&fs);
}

static int cmp_prev(const void *a, const void *b)
{
	const struct prev_row *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The cells of @t mapped onto the schema's columns, "-" as NULL. */
static char **map_cells(const struct tasks_tab *t, char **row,
			const int *map, size_t ncols)
{
	char **cells = xcalloc(ncols + 1, sizeof(char *));
	size_t c;

	for (c = 0; c < ncols; c++)
		if (map[c] >= 0 && strcmp(row[map[c]], "-"))
			cells[c] = xstrdup(row[map[c]]);
	cells[ncols] = (char *)-1;
	(void)t;
	return cells;
}

static char *join_row(char **row, size_t n)
{
	size_t len = 1, c;
	char *s, *p;

	for (c = 0; c < n; c++)
		len += strlen(row[c]) + 1;
	s = p = malloc(len);
	if (!s)
		return xstrdup("");
	for (c = 0; c < n; c++) {
		size_t l = strlen(row[c]);

		memcpy(p, row[c], l);
		p += l;
		*p++ = '\x1f';
	}
	*p = '\0';
	return s;
}

/* Rows of one table: all of them at a full sample, else what changed. */
static void sample_rows(struct sample_item *s, int k, bool full)
{
	size_t nschema, r, i, j, nout = 0;
	const char *const *schema = tasks_tab_columns(k == 1, &nschema);
	struct prev_row *cur;
	struct tasks_tab t;
	int *map;

	if (tasks_tab_load(&t, !s->module, k == 1, 0, NULL))
		return;
	map = xcalloc(nschema, sizeof(int));
	for (i = 0; i < nschema; i++) {
		map[i] = -1;
		for (j = 0; j < t.ncols; j++)
			if (!strcmp(t.cols[j], schema[i]))
				map[i] = (int)j;
	}
	cur = xcalloc(t.nrows + 1, sizeof(*cur));
	for (r = 0; r < t.nrows; r++) {
		cur[r].id = strtoll(t.rows[r][0], NULL, 10);
		cur[r].line = join_row(t.rows[r], t.ncols);
	}
	/* Keep each row's index: sort an index array by id. */
	size_t *order = xcalloc(t.nrows + 1, sizeof(size_t));
	for (r = 0; r < t.nrows; r++)
		order[r] = r;
	for (r = 1; r < t.nrows; r++) {	/* insertion sort on mostly sorted ids */
		size_t v = order[r], q = r;

		while (q > 0 && cur[order[q - 1]].id > cur[v].id) {
			order[q] = order[q - 1];
			q--;
		}
		order[q] = v;
	}
	s->rows[k] = xcalloc(t.nrows + prev[k].n + 1, sizeof(struct srow));
	s->have_rows[k] = true;
	i = 0;
	j = 0;
	while (i < t.nrows || j < prev[k].n) {
		struct prev_row *c = i < t.nrows ? &cur[order[i]] : NULL;
		struct prev_row *p = j < prev[k].n ? &prev[k].rows[j] : NULL;

		if (c && (!p || c->id < p->id)) {		/* new */
			s->rows[k][nout].id = c->id;
			s->rows[k][nout++].cells =
				map_cells(&t, t.rows[order[i]], map, nschema);
			i++;
		} else if (!c || p->id < c->id) {		/* gone */
			if (!full) {
				s->rows[k][nout].id = p->id;
				s->rows[k][nout++].gone = true;
			}
			j++;
		} else {					/* same id */
			if (full || strcmp(c->line, p->line)) {
				s->rows[k][nout].id = c->id;
				s->rows[k][nout++].cells =
					map_cells(&t, t.rows[order[i]], map, nschema);
			}
			i++;
			j++;
		}
	}
	s->nrows[k] = nout;
	for (j = 0; j < prev[k].n; j++)
		free(prev[k].rows[j].line);
	free(prev[k].rows);
	/* The new previous: sorted by id. */
	prev[k].rows = xcalloc(t.nrows + 1, sizeof(struct prev_row));
	for (r = 0; r < t.nrows; r++)
		prev[k].rows[r] = cur[order[r]];
	prev[k].n = t.nrows;
	qsort(prev[k].rows, prev[k].n, sizeof(struct prev_row), cmp_prev);
	free(order);
	free(cur);
	free(map);
	tasks_tab_free(&t);
}

struct sample_item *sampler_take(void)
{
	struct sample_item *s = xcalloc(1, sizeof(*s));
	bool full = nsamples % mwd_cfg.full_every == 0 ||
		    atomic_exchange(&mwd_force_full, false);

	s->time_ns = mwd_mono_ns();
	s->unix_ns = mwd_unix_ns();
	s->module = mw_module_present();
	s->full = full;
	sample_full = full;
	sample_rows(s, 0, full);
	sample_rows(s, 1, full);
	sample_files(s, full);
	sample_frag(s);
	nsamples++;
	return s;
}

void sampler_forget(void)
{
	/* The next sample must stand on its own: a delta was lost. */
	atomic_store(&mwd_force_full, true);
}

static void sleep_until(uint64_t mono_ns)
{
	while (!atomic_load(&mwd_stopping)) {
		uint64_t now = mwd_mono_ns();
		struct timespec ts;
		uint64_t d;

		if (now >= mono_ns)
			return;
		d = mono_ns - now;
		if (d > 100000000ULL)
			d = 100000000ULL;	/* look at the stop flag often */
		ts.tv_sec = (time_t)(d / 1000000000ULL);
		ts.tv_nsec = (long)(d % 1000000000ULL);
		nanosleep(&ts, NULL);
	}
}

void *sampler_main(void *arg)
{
	uint64_t next = mwd_mono_ns();
	uint64_t step = (uint64_t)(mwd_cfg.interval * 1e9);

	(void)arg;
	while (!atomic_load(&mwd_stopping)) {
		struct item *it = xcalloc(1, sizeof(*it));

		it->kind = ITEM_SAMPLE;
		it->sample = sampler_take();
		if (!queue_push(it)) {
			atomic_fetch_add(&mwd_lost_samples, 1);
			sampler_forget();
			item_free(it);
		}
		next += step;
		if (next < mwd_mono_ns())
			next = mwd_mono_ns();	/* fell behind: no burst */
		sleep_until(next);
	}
	return NULL;
}
