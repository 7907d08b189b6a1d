/*
 * api_live.c - /api/v1/{tasks,threads,frag,nodes,sys,reclaim,allocfail,
 * extfrag,status}: the module's file of that name as JSON, read at request
 * time through the shared loader (libmwcore's mwfile.c).
 *
 * Shape: {"source":"module","file":"tasks","version":"1.0",
 *         "values":{"mem_total_kb":466148},
 *         "rows":[{"pid":1,...,"comm":"init"}],
 *         "<title>":[...] for each titled table ("probe", "orders", ...)}
 * Column names are the module's; integers are JSON numbers, fixed-point
 * figures ("0.123") numbers with the same digits, "-" (not known) null,
 * anything else a string. Without the module, what /proc gives for the
 * same question, with "source":"procfs"; 503 where /proc has no answer.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "mwfile.h"
#include "util.h"

json_t *json_text(const char *s)
{
	json_t *j = json_string(s);

	if (j)
		return j;
	/* not UTF-8 (a command name can be any bytes): show those as '?' */
	char *copy = xstrdup(s);

	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

json_t *cell_json(const char *s)
{
	const char *p = s;
	bool dot = false;
	char *end;

	if (!strcmp(s, "-"))
		return json_null();
	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return json_text(s);
	for (; *p; p++) {
		if (*p == '.' && !dot && isdigit((unsigned char)p[1]))
			dot = true;
		else if (!isdigit((unsigned char)*p))
			return json_text(s);
	}
	errno = 0;
	if (!dot) {
		long long v = strtoll(s, &end, 10);

		if (!errno)
			return json_integer(v);
		/* beyond int64 (u64 counters past 2^63): keep the digits */
		return json_text(s);
	}
	return json_real(strtod(s, &end));
}

static json_t *section_rows(const struct mw_section *s)
{
	json_t *rows = json_array();

	for (size_t r = 0; r < s->nrows; r++) {
		json_t *row = json_object();

		for (size_t k = 0; k < s->ncols; k++)
			/* page frame numbers: the root-only file's, not the network's */
			if (strcmp(s->cols[k], "pfn"))
				json_object_set_new(row, s->cols[k],
						    cell_json(s->rows[r][k] ? s->rows[r][k] : ""));
		json_array_append_new(rows, row);
	}
	return rows;
}

static json_t *file_json(const struct mw_file *f)
{
	json_t *j = json_object();
	char ver[32];

	snprintf(ver, sizeof(ver), "%d.%d", f->major, f->minor);
	json_object_set_new(j, "source", json_string("module"));
	json_object_set_new(j, "file", json_string(f->name));
	json_object_set_new(j, "version", json_string(ver));
	for (size_t i = 0; i < f->nsections; i++) {
		const struct mw_section *s = &f->sections[i];

		if (i == 0 && !s->title[0] && s->ncols == 2 &&
		    !strcmp(s->cols[0], "name") && !strcmp(s->cols[1], "value")) {
			json_t *v = json_object();

			for (size_t r = 0; r < s->nrows; r++) {
				const char *val = s->rows[r][1] ? s->rows[r][1] : "";

				/* "1.3" is a version, not a number */
				json_object_set_new(v, s->rows[r][0],
						    strstr(s->rows[r][0], "version") ?
						    json_text(val) : cell_json(val));
			}
			json_object_set_new(j, "values", v);
			continue;
		}
		json_object_set_new(j, s->title[0] ? s->title : "rows", section_rows(s));
	}
	if (!json_object_get(j, "values"))
		json_object_set_new(j, "values", json_object());
	return j;
}

/* ------------------------------------------------ /proc answers, no module */

unsigned long long meminfo_total_kb(void)
{
	char path[4096], *text, *p;
	unsigned long long kb = 0;

	snprintf(path, sizeof(path), "%s/meminfo", mw_procfs());
	text = read_whole_file(path);
	if (!text)
		return 0;
	p = strstr(text, "MemTotal:");
	if (p)
		kb = strtoull(p + 9, NULL, 10);
	free(text);
	return kb;
}

/* "Key:   123 kB" lines of /proc/meminfo, /proc/PID/status as name value. */
static unsigned long long status_kb(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, n) && p[n] == ':')
			return strtoull(p + n + 1, NULL, 10);
	return 0;
}

static void status_str(const char *text, const char *key, char *out, size_t len)
{
	size_t n = strlen(key);

	out[0] = '\0';
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, n) && p[n] == ':') {
			p += n + 1;
			while (*p == '\t' || *p == ' ')
				p++;
			size_t k = strcspn(p, "\n");

			snprintf(out, len, "%.*s", (int)k, p);
			return;
		}
}

/* What /proc/PID/status gives, under the module's column names. */
static json_t *tasks_procfs(void)
{
	static const struct { const char *col, *key; } kb[] = {
		{ "vsz_kb", "VmSize" }, { "rss_kb", "VmRSS" },
		{ "rss_anon_kb", "RssAnon" }, { "rss_file_kb", "RssFile" },
		{ "rss_shmem_kb", "RssShmem" }, { "swap_kb", "VmSwap" },
		{ "data_kb", "VmData" }, { "stack_kb", "VmStk" },
		{ "pte_kb", "VmPTE" }, { "hwm_kb", "VmHWM" },
	};
	unsigned long long total = meminfo_total_kb();
	json_t *j = json_object(), *rows = json_array();
	char path[4096], buf[64];
	struct dirent *de;
	DIR *d = opendir(mw_procfs());

	json_object_set_new(j, "source", json_string("procfs"));
	json_object_set_new(j, "file", json_string("tasks"));
	json_object_set_new(j, "values", json_pack("{s:I}", "mem_total_kb",
						   (json_int_t)total));
	while (d && (de = readdir(d))) {
		char *text;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", mw_procfs(), de->d_name);
		text = read_whole_file(path);
		if (!text)
			continue;	/* exited meanwhile */
		status_str(text, "VmSize", buf, sizeof(buf));
		if (!buf[0]) {		/* kernel thread: no mm, as the module skips */
			free(text);
			continue;
		}
		json_t *row = json_object();
		unsigned long long rss = status_kb(text, "VmRSS");

		json_object_set_new(row, "pid", json_integer(atoll(de->d_name)));
		json_object_set_new(row, "ppid", json_integer(status_kb(text, "PPid")));
		json_object_set_new(row, "uid", json_integer(status_kb(text, "Uid")));
		json_object_set_new(row, "threads", json_integer(status_kb(text, "Threads")));
		for (size_t k = 0; k < sizeof(kb) / sizeof(kb[0]); k++)
			json_object_set_new(row, kb[k].col,
					    json_integer(status_kb(text, kb[k].key)));
		json_object_set_new(row, "share_pm",
				    json_integer(total ? rss * 1000 / total : 0));
		status_str(text, "Name", buf, sizeof(buf));
		json_object_set_new(row, "comm", json_text(buf));
		json_array_append_new(rows, row);
		free(text);
	}
	if (d)
		closedir(d);
	json_object_set_new(j, "rows", rows);
	return j;
}

/* A /proc file of "name value" lines (vmstat) or "Name: value kB" (meminfo). */
static json_t *pairs_procfs(const char *file, const char *as)
{
	char path[4096], *text, *line, *save = NULL;
	json_t *j, *v;

	snprintf(path, sizeof(path), "%s/%s", mw_procfs(), file);
	text = read_whole_file(path);
	if (!text)
		return NULL;
	j = json_object();
	v = json_object();
	json_object_set_new(j, "source", json_string("procfs"));
	json_object_set_new(j, "file", json_string(as));
	json_object_set_new(j, "procfs_file", json_string(file));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];
		unsigned long long val;

		if (sscanf(line, "%127[^: ]%*[: ]%llu", name, &val) == 2)
			json_object_set_new(v, name, json_integer((json_int_t)val));
	}
	json_object_set_new(j, "values", v);
	free(text);
	return j;
}

/* /proc/buddyinfo: free blocks per node, zone and order. */
static json_t *frag_procfs(void)
{
	char path[4096], *text, *line, *save = NULL;
	json_t *j, *rows;

	snprintf(path, sizeof(path), "%s/buddyinfo", mw_procfs());
	text = read_whole_file(path);
	if (!text)
		return NULL;
	j = json_object();
	rows = json_array();
	json_object_set_new(j, "source", json_string("procfs"));
	json_object_set_new(j, "file", json_string("frag"));
	json_object_set_new(j, "procfs_file", json_string("buddyinfo"));
	json_object_set_new(j, "values", json_object());
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int node, off;
		char zone[32];

		if (sscanf(line, "Node %d, zone %31s%n", &node, zone, &off) != 2)
			continue;
		char *p = line + off, *end;

		for (int order = 0;; order++) {
			unsigned long long n = strtoull(p, &end, 10);

			if (end == p)
				break;
			p = end;
			json_array_append_new(rows, json_pack("{s:i, s:s, s:i, s:I}",
				"node", node, "zone", zone, "order", order,
				"free_blocks", (json_int_t)n));
		}
	}
	json_object_set_new(j, "orders", rows);
	free(text);
	return j;
}

static json_t *live_procfs(const char *name)
{
	if (!strcmp(name, "tasks"))
		return tasks_procfs();
	if (!strcmp(name, "sys"))
		return pairs_procfs("meminfo", "sys");
	if (!strcmp(name, "reclaim"))
		return pairs_procfs("vmstat", "reclaim");
	if (!strcmp(name, "frag"))
		return frag_procfs();
	if (!strcmp(name, "status")) {
		json_t *j = json_pack("{s:s, s:s, s:b, s:o}", "source", "procfs",
				      "file", "status", "module_loaded", 0,
				      "values", json_object());
		return j;
	}
	return NULL;
}

json_t *live_json(const char *name, char *err, size_t errlen)
{
	struct mw_file f;
	json_t *j;

	if (mw_module_present()) {
		if (mw_file_load(&f, name, err, errlen) == 0) {
			j = file_json(&f);
			mw_file_free(&f);
			return j;
		}
		/* frag is root-only (as pagetypeinfo): /proc's buddyinfo is not */
		j = live_procfs(name);
		if (j && strcmp(name, "status"))
			json_object_set_new(j, "module_error", json_string(err));
		else if (j)
			json_decref(j);
		return strcmp(name, "status") ? j : NULL;
	}
	j = live_procfs(name);
	if (!j)
		snprintf(err, errlen, "%s/%s: the memwatch module is not loaded, and "
			 "/proc has no equivalent", mw_root(), name);
	return j;
}

enum MHD_Result api_live(struct MHD_Connection *c, const char *name)
{
	char err[512];
	enum MHD_Result res;
	json_t *j;

	if (!http_check_args(c, NULL, &res))
		return res;
	j = live_json(name, err, sizeof(err));
	if (!j)
		return http_error(c, 503, "%s", err);
	return http_json(c, 200, j);
}

enum MHD_Result api_config(struct MHD_Connection *c)
{
	enum MHD_Result res;

	if (!http_check_args(c, NULL, &res))
		return res;
	return http_json(c, 200, json_pack("{s:b, s:b, s:i, s:s?}",
		"module_loaded", mw_module_present(),
		"recording", serve_cfg.db_path != NULL,
		"metrics_top", serve_cfg.metrics_top,
		"prometheus", serve_cfg.prometheus));
}
