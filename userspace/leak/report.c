/*
 * report.c - reading a dump written by the library and printing it: text
 * for people (valgrind-like records, largest first, then a LEAK SUMMARY)
 * or one JSON document per line for tools.
 */
#include "fe.h"
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static int cmp_stack(const void *a, const void *b)
{
	uint32_t x = ((const struct stack *)a)->id, y = ((const struct stack *)b)->id;
	return x < y ? -1 : x > y;
}

static int below_main(const char *fn)
{
	return !strcmp(fn, "__libc_start_call_main") || !strncmp(fn, "__libc_start_main", 17) ||
	       !strcmp(fn, "_start");
}

/* frames of one return address, inlined calls included */
#define EXPAND_MAX 32

static void frame_free(struct frame *f)
{
	free((void *)f->func);
	free((void *)f->mangled);
	free((void *)f->file);
	free((void *)f->module);
}

/*
 * Symbolised on first use, and only down to main(), as valgrind shows them:
 * frames below main are libc start-up. Each return address may become
 * several frames (inlined calls).
 */
struct stack *dump_stack(struct dump *d, uint32_t id)
{
	struct stack key = { .id = id };
	struct stack *s = bsearch(&key, d->stacks, d->n_stacks, sizeof(key), cmp_stack);
	if (!s || s->symbolized)
		return s;
	s->symbolized = 1;
	struct frame *out = NULL, tmp[EXPAND_MAX];
	size_t n = 0, cap = 0;
	for (int k = 0; k < s->n; k++) {
		int got = sym_expand(d->sym, s->f[k].ip, tmp, EXPAND_MAX, below_main);
		if (got < 1)
			continue;
		const char *outer = tmp[got - 1].func;
		int stop = outer && !strcmp(outer, "main"), keep = got;
		if (outer && below_main(outer)) {
			stop = 1;
			if (n)	/* libc start-up; with none before (stripped program), keep it */
				keep = 0;
		}
		for (int i = keep; i < got; i++)
			frame_free(&tmp[i]);
		for (int i = 0; i < keep; i++) {
			if (n == cap) {
				cap = cap ? cap * 2 : 32;
				struct frame *g = reallocarray(out, cap, sizeof(*out));
				if (!g) {
					fprintf(stderr, "memwatch-leak: out of memory symbolising\n");
					exit(1);
				}
				out = g;
			}
			out[n++] = tmp[i];
		}
		if (stop)
			break;
	}
	free(s->f);
	s->f = out;
	s->n = (int)n;
	return s;
}

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	size_t nc = *cap ? *cap * 2 : 64;
	void *q = reallocarray(p, nc, size);
	if (!q) {
		fprintf(stderr, "memwatch-leak: out of memory reading a dump\n");
		exit(1);
	}
	*cap = nc;
	return q;
}

int dump_read(const char *path, struct dump *d)
{
	memset(d, 0, sizeof(*d));
	d->exit_status = -1;
	strcpy(d->origin, "exec");
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[4096];
	int version = 0;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, MWL_DUMP_MAGIC " %d", &version) != 1 || version != MWL_DUMP_VERSION) {
		fprintf(stderr, "memwatch-leak: %s: not a version %d dump (library and front-end from different builds?)\n",
			path, MWL_DUMP_VERSION);
		fclose(f);
		return -1;
	}
	size_t cap_s = 0, cap_st = 0, cap_m = 0, cap_f = 0, cap_u = 0;
	int ended = 0;
	while (fgets(line, sizeof(line), f)) {
		char c;
		unsigned long long a, b, e, g;
		int x, y, k;
		if (!strncmp(line, "kind ", 5)) {
			sscanf(line + 5, "%15s", d->kind);
		} else if (!strncmp(line, "origin ", 7)) {
			sscanf(line + 7, "%7s", d->origin);
		} else if (!strncmp(line, "exit_status ", 12)) {
			d->exit_status = atoi(line + 12);
		} else if (!strncmp(line, "exe ", 4)) {
			free(d->exe);
			d->exe = strndup(line + 4, strcspn(line + 4, "\n"));
		} else if (!strncmp(line, "unloaded ", 9)) {
			d->unloaded = grow(d->unloaded, &cap_u, d->n_unloaded, sizeof(*d->unloaded));
			struct dump_module *u = &d->unloaded[d->n_unloaded];
			if (sscanf(line + 9, "%llx %llx %llx %129s %511[^\n]", &a, &b, &e, u->build_id, u->path) == 5) {
				u->lo = (uintptr_t)a;
				u->hi = (uintptr_t)b;
				u->bias = (uintptr_t)e;
				if (!strcmp(u->build_id, "-"))
					u->build_id[0] = 0;
				d->n_unloaded++;
			}
		} else if (!strncmp(line, "pid ", 4)) {
			d->pid = atoi(line + 4);
		} else if (!strncmp(line, "ppid ", 5)) {
			d->ppid = atoi(line + 5);
		} else if (!strncmp(line, "time ", 5)) {
			d->time = (unsigned)strtoul(line + 5, NULL, 10);
		} else if (!strncmp(line, "maps ", 5)) {
			d->maps_len = strtoul(line + 5, NULL, 10);
			d->maps = malloc(d->maps_len + 1);
			if (!d->maps || fread(d->maps, 1, d->maps_len, f) != d->maps_len)
				break;
			d->maps[d->maps_len] = 0;
		} else if ((k = sscanf(line, "site %c %d %llu %llu %llu %llu", &c, &x, &a, &b, &e, &g)) >= 5) {
			d->sites = grow(d->sites, &cap_s, d->n_sites, sizeof(*d->sites));
			d->sites[d->n_sites++] = (struct site){ c, x, (uint32_t)a, b, e, 0, 0, k == 6 ? g : 0 };
		} else if (sscanf(line, "mismatch %d %d %llu %llu %llu %llu", &x, &y, &a, &b, &e, &g) == 6) {
			d->mm = grow(d->mm, &cap_m, d->n_mm, sizeof(*d->mm));
			d->mm[d->n_mm++] = (struct mismatch){ x, y, (uint32_t)a, (uint32_t)b, e, g };
		} else if (!strncmp(line, "fd ", 3)) {
			d->fds = grow(d->fds, &cap_f, d->n_fds, sizeof(*d->fds));
			struct fdrec *r = &d->fds[d->n_fds];
			if (sscanf(line, "fd %d %31s %llu", &r->fd, r->what, &a) == 3) {
				r->stack = (uint32_t)a;
				d->n_fds++;
			}
		} else if (!strncmp(line, "stack ", 6)) {
			char *p = line + 6, *end;
			d->stacks = grow(d->stacks, &cap_st, d->n_stacks, sizeof(*d->stacks));
			struct stack *s = &d->stacks[d->n_stacks++];
			s->id = (uint32_t)strtoul(p, &end, 10);
			s->symbolized = 0;
			s->n = (int)strtol(end, &end, 10);
			if (s->n < 0 || s->n > MWL_MAX_DEPTH)
				s->n = 0;
			s->f = calloc((size_t)s->n + 1, sizeof(*s->f));
			for (int i = 0; i < s->n; i++)
				s->f[i].ip = strtoull(end, &end, 16);
		} else if (!strcmp(line, "end\n")) {
			ended = 1;
		}
	}
	fclose(f);
	if (!ended) {
		fprintf(stderr, "memwatch-leak: %s: truncated dump\n", path);
		dump_free(d);
		return -1;
	}
	qsort(d->stacks, d->n_stacks, sizeof(*d->stacks), cmp_stack);
	d->sym = sym_open(d->maps, d->maps_len, d->unloaded, d->n_unloaded);
	return 0;
}

void dump_free(struct dump *d)
{
	sym_close(d->sym);
	for (size_t i = 0; i < d->n_stacks; i++) {
		for (int k = 0; k < d->stacks[i].n; k++)
			frame_free(&d->stacks[i].f[k]);
		free(d->stacks[i].f);
	}
	free(d->stacks);
	free(d->sites);
	free(d->mm);
	free(d->fds);
	free(d->maps);
	free(d->exe);
	free(d->unloaded);
	memset(d, 0, sizeof(*d));
}

static const char *base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;
	return s ? s + 1 : p;
}

static const char *class_name(char c)
{
	switch (c) {
	case MWL_CLASS_DEFINITE: return "definitely lost";
	case MWL_CLASS_INDIRECT: return "indirectly lost";
	case MWL_CLASS_POSSIBLE: return "possibly lost";
	case MWL_CLASS_REACHABLE: return "still reachable";
	default: return "outstanding";
	}
}

static const char *class_key(char c)
{
	switch (c) {
	case MWL_CLASS_DEFINITE: return "definitely_lost";
	case MWL_CLASS_INDIRECT: return "indirectly_lost";
	case MWL_CLASS_POSSIBLE: return "possibly_lost";
	case MWL_CLASS_REACHABLE: return "still_reachable";
	default: return "outstanding";
	}
}

static const char *fn_name(int fn)
{
	return fn >= 0 && fn < FN_COUNT ? mwl_fn_names[fn] : "?";
}

static void text_stack(FILE *out, struct dump *d, uint32_t id)
{
	struct stack *s = dump_stack(d, id);
	if (!s || !s->n) {
		fprintf(out, "    (stack unknown)\n");
		return;
	}
	for (int i = 0; i < s->n; i++) {
		struct frame *f = &s->f[i];
		fprintf(out, "    %s ", i ? "by" : "at");
		if (f->func)
			fprintf(out, "%s", f->func);
		else
			fprintf(out, "0x%llx", (unsigned long long)f->ip);
		if (f->file)
			fprintf(out, " (%s:%d)\n", f->file, f->line);
		else if (f->module)
			fprintf(out, " (%s+0x%llx)\n", base_name(f->module), (unsigned long long)f->offset);
		else
			fprintf(out, " (unknown object)\n");
	}
}

static void json_str(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_stack(FILE *out, struct dump *d, uint32_t id)
{
	struct stack *s = dump_stack(d, id);
	fputc('[', out);
	for (int i = 0; s && i < s->n; i++) {
		struct frame *f = &s->f[i];
		fprintf(out, "%s{\"ip\":\"0x%llx\",\"function\":", i ? "," : "", (unsigned long long)f->ip);
		json_str(out, f->func);
		fputs(",\"file\":", out);
		json_str(out, f->file);
		fprintf(out, ",\"line\":%d,\"module\":", f->line);
		json_str(out, f->module);
		fprintf(out, ",\"offset\":\"0x%llx\"", (unsigned long long)f->offset);
		if (f->inlined)
			fputs(",\"inlined\":true", out);
		fputc('}', out);
	}
	fputc(']', out);
}

/* largest first, a lost block with what is lost through it (valgrind's order) */
static int cmp_site(const void *a, const void *b)
{
	const struct site *x = a, *y = b;
	uint64_t xt = x->bytes + x->indirect, yt = y->bytes + y->indirect;
	if (xt != yt)
		return xt < yt ? 1 : -1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static int shown(const struct options *o, char cls)
{
	return cls == MWL_CLASS_DEFINITE || cls == MWL_CLASS_INDIRECT ||
	       cls == MWL_CLASS_OUTSTANDING || o->show_reachable;
}

/* growth of periodic reports: bytes per (pid, stack) last time */
struct last {
	pid_t pid;
	uint32_t stack;
	uint64_t bytes;
};
static struct last *lasts;
static size_t n_lasts, cap_lasts;

static uint64_t last_bytes(pid_t pid, uint32_t stack)
{
	for (size_t i = 0; i < n_lasts; i++)
		if (lasts[i].pid == pid && lasts[i].stack == stack)
			return lasts[i].bytes;
	return 0;
}

static void remember(pid_t pid, struct site *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n_lasts; i++)
		if (lasts[i].pid != pid)
			lasts[w++] = lasts[i];
	n_lasts = w;
	for (size_t i = 0; i < n; i++) {
		lasts = grow(lasts, &cap_lasts, n_lasts, sizeof(*lasts));
		lasts[n_lasts++] = (struct last){ pid, s[i].stack, s[i].bytes };
	}
}

static void status_text(char *buf, size_t n, int status)
{
	if (status < 0)
		snprintf(buf, n, "exited");
	else if (WIFEXITED(status))
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, n, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, n, "stopped");
}

/*
 * main: the program memwatch-leak started (its pid, still its executable);
 * fork: a forked child; exec: a program exec'd by a traced one (in a child,
 * or in place of the program, keeping its pid).
 */
pid_t fe_main_pid;

static const char *process_kind(const struct dump *d, const char *main_exe)
{
	if (!strcmp(d->origin, "fork"))
		return "fork";
	if (d->pid != fe_main_pid)
		return "exec";
	return !main_exe || !d->exe || !strcmp(main_exe, d->exe) ? "main" : "exec";
}

int report_print(FILE *out, struct dump *d, const struct options *o, int status, const char *main_exe)
{
	int periodic = strcmp(d->kind, "exit") != 0;
	uint64_t sum_b[128] = { 0 }, sum_n[128] = { 0 }, supp_b = 0, supp_n = 0;
	const char *process = process_kind(d, main_exe);
	/* our wait status for the program we started; the process's own word otherwise */
	int exit_status = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) :
			  status >= 0 ? -1 : d->exit_status;
	for (size_t i = 0; i < d->n_sites; i++) {
		struct site *s = &d->sites[i];
		struct stack *st = supp_any() ? dump_stack(d, s->stack) : NULL;
		s->suppressed = st && supp_match(st, s->fn, s->cls);
		if (s->suppressed) {
			supp_b += s->bytes;
			supp_n += s->count;
			continue;
		}
		sum_b[(unsigned char)s->cls & 127] += s->bytes;
		sum_n[(unsigned char)s->cls & 127] += s->count;
	}
	if (periodic) {
		/* growth is per stack, over all functions at it */
		for (size_t i = 0; i < d->n_sites; i++) {
			uint64_t was = last_bytes(d->pid, d->sites[i].stack);
			d->sites[i].growth = d->sites[i].bytes > was ? d->sites[i].bytes - was : 0;
		}
		remember(d->pid, d->sites, d->n_sites);
	}
	qsort(d->sites, d->n_sites, sizeof(*d->sites), cmp_site);
	char st[64];
	status_text(st, sizeof(st), status);
	int errors = 0;

	if (o->json) {
		fprintf(out, "{\"memwatch\":\"leak\",\"version\":%d,\"pid\":%d,\"ppid\":%d,\"kind\":",
			MWL_DUMP_VERSION, (int)d->pid, (int)d->ppid);
		json_str(out, d->kind);
		fprintf(out, ",\"time\":%u,\"process\":\"%s\",\"forked\":%s,\"exe\":", d->time, process,
			strcmp(process, "fork") ? "false" : "true");
		json_str(out, d->exe);
		if (!periodic && exit_status >= 0)
			fprintf(out, ",\"exit_status\":%d", exit_status);
		if (!periodic && status >= 0 && WIFSIGNALED(status))
			fprintf(out, ",\"signal\":%d", WTERMSIG(status));
		fputs(",\"summary\":{", out);
		const char cls[] = { MWL_CLASS_DEFINITE, MWL_CLASS_INDIRECT, MWL_CLASS_POSSIBLE,
				     MWL_CLASS_REACHABLE, MWL_CLASS_OUTSTANDING };
		for (size_t k = 0; k < sizeof(cls); k++)
			fprintf(out, "\"%s\":{\"bytes\":%llu,\"blocks\":%llu},", class_key(cls[k]),
				(unsigned long long)sum_b[(int)cls[k]], (unsigned long long)sum_n[(int)cls[k]]);
		fprintf(out, "\"suppressed\":{\"bytes\":%llu,\"blocks\":%llu},\"mismatches\":%zu,\"open_fds\":%zu}",
			(unsigned long long)supp_b, (unsigned long long)supp_n, d->n_mm, d->n_fds);
		fputs(",\"leaks\":[", out);
		int comma = 0;
		for (size_t i = 0; i < d->n_sites; i++) {
			struct site *s = &d->sites[i];
			if (s->suppressed || !shown(o, s->cls))
				continue;
			fprintf(out, "%s{\"kind\":\"%s\",\"bytes\":%llu,\"blocks\":%llu,", comma++ ? "," : "",
				class_key(s->cls), (unsigned long long)s->bytes, (unsigned long long)s->count);
			if (s->cls == MWL_CLASS_DEFINITE)
				fprintf(out, "\"indirect_bytes\":%llu,", (unsigned long long)s->indirect);
			if (periodic)
				fprintf(out, "\"growth\":%llu,", (unsigned long long)s->growth);
			fputs("\"allocator\":", out);
			json_str(out, fn_name(s->fn));
			fputs(",\"stack\":", out);
			json_stack(out, d, s->stack);
			fputc('}', out);
		}
		fputs("],\"mismatches\":[", out);
		for (size_t i = 0; i < d->n_mm; i++) {
			struct mismatch *m = &d->mm[i];
			fprintf(out, "%s{\"allocated_by\":", i ? "," : "");
			json_str(out, fn_name(m->alloc_fn));
			fputs(",\"freed_by\":", out);
			json_str(out, fn_name(m->free_fn));
			fprintf(out, ",\"bytes\":%llu,\"blocks\":%llu,\"alloc_stack\":",
				(unsigned long long)m->bytes, (unsigned long long)m->count);
			json_stack(out, d, m->alloc_stack);
			fputs(",\"free_stack\":", out);
			json_stack(out, d, m->free_stack);
			fputc('}', out);
		}
		fputs("],\"fds\":[", out);
		for (size_t i = 0; i < d->n_fds; i++) {
			fprintf(out, "%s{\"fd\":%d,\"opened_by\":", i ? "," : "", d->fds[i].fd);
			json_str(out, d->fds[i].what);
			fputs(",\"stack\":", out);
			json_stack(out, d, d->fds[i].stack);
			fputc('}', out);
		}
		fputs("]}\n", out);
	} else if (periodic) {
		fprintf(out, "memwatch-leak[%d]: %s report at %us: allocations older than %us still outstanding\n",
			(int)d->pid, d->kind, d->time, o->min_age);
		for (size_t i = 0; i < d->n_sites; i++) {
			struct site *s = &d->sites[i];
			if (s->suppressed)
				continue;
			fprintf(out, "\n%llu bytes in %llu blocks (+%llu since last report), allocated by %s\n",
				(unsigned long long)s->bytes, (unsigned long long)s->count,
				(unsigned long long)s->growth, fn_name(s->fn));
			text_stack(out, d, s->stack);
		}
		for (size_t i = 0; i < d->n_fds; i++) {	/* -p --fds */
			fprintf(out, "\nfile descriptor %d open, opened by %s\n", d->fds[i].fd, d->fds[i].what);
			text_stack(out, d, d->fds[i].stack);
		}
		fprintf(out, "\nmemwatch-leak[%d]: %llu bytes in %llu blocks outstanding\n\n", (int)d->pid,
			(unsigned long long)sum_b[MWL_CLASS_OUTSTANDING], (unsigned long long)sum_n[MWL_CLASS_OUTSTANDING]);
	} else {
		if (status < 0 && exit_status >= 0)
			snprintf(st, sizeof(st), "exited with status %d", exit_status);
		fprintf(out, "memwatch-leak[%d]: %s%s%s %s\n", (int)d->pid,
			!strcmp(process, "main") ? "process" : !strcmp(process, "fork") ? "forked child" : "exec'd program",
			d->exe && strcmp(process, "main") ? " " : "", d->exe && strcmp(process, "main") ? d->exe : "", st);
		for (size_t i = 0; i < d->n_sites; i++) {
			struct site *s = &d->sites[i];
			if (s->suppressed || !shown(o, s->cls))
				continue;
			if (s->indirect)	/* valgrind's "144 (48 direct, 96 indirect) bytes" */
				fprintf(out, "\n%llu (%llu direct, %llu indirect) bytes",
					(unsigned long long)(s->bytes + s->indirect),
					(unsigned long long)s->bytes, (unsigned long long)s->indirect);
			else
				fprintf(out, "\n%llu bytes", (unsigned long long)s->bytes);
			fprintf(out, " in %llu block%s %s, allocated by %s\n", (unsigned long long)s->count,
				s->count == 1 ? "" : "s", class_name(s->cls), fn_name(s->fn));
			text_stack(out, d, s->stack);
		}
		for (size_t i = 0; i < d->n_mm; i++) {
			struct mismatch *m = &d->mm[i];
			fprintf(out, "\nmismatched deallocation: %llu bytes in %llu block%s allocated by %s, freed by %s\n",
				(unsigned long long)m->bytes, (unsigned long long)m->count,
				m->count == 1 ? "" : "s", fn_name(m->alloc_fn), fn_name(m->free_fn));
			fprintf(out, "  freed:\n");
			text_stack(out, d, m->free_stack);
			fprintf(out, "  allocated:\n");
			text_stack(out, d, m->alloc_stack);
		}
		for (size_t i = 0; i < d->n_fds; i++) {
			fprintf(out, "\nfile descriptor %d still open, opened by %s\n", d->fds[i].fd, d->fds[i].what);
			text_stack(out, d, d->fds[i].stack);
		}
		fprintf(out, "\nmemwatch-leak[%d]: LEAK SUMMARY:\n", (int)d->pid);
		const char cls[] = { MWL_CLASS_DEFINITE, MWL_CLASS_INDIRECT, MWL_CLASS_POSSIBLE, MWL_CLASS_REACHABLE };
		for (size_t k = 0; k < sizeof(cls); k++)
			fprintf(out, "   %15s: %llu bytes in %llu blocks\n", class_name(cls[k]),
				(unsigned long long)sum_b[(int)cls[k]], (unsigned long long)sum_n[(int)cls[k]]);
		fprintf(out, "   %15s: %llu bytes in %llu blocks\n", "suppressed",
			(unsigned long long)supp_b, (unsigned long long)supp_n);
		fprintf(out, "   %15s: %zu\n   %15s: %zu\n", "mismatched free", d->n_mm, "open fds", d->n_fds);
	}
	if (!periodic)
		errors = sum_n[MWL_CLASS_DEFINITE] || sum_n[MWL_CLASS_INDIRECT] || d->n_mm || d->n_fds;
	return errors;
}
