/*
 * suppress.c - valgrind-style suppression files (--suppressions FILE):
 *
 *   {
 *      name
 *      Memcheck:Leak              (any "<tool>:Leak")
 *      match-leak-kinds: definite,indirect,possible,reachable | all
 *      fun:malloc                 glob on the mangled or demangled name
 *      obj:*libfoo.so*            glob on the object's path
 *      ...                        any number of frames
 *   }
 *
 * Frame 0 is the allocating function (fun:malloc, fun:_Znwm ...) as in
 * valgrind, so its generated suppressions apply unchanged. Entries for
 * other error kinds are read and ignored.
 */
#include "fe.h"
#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

struct supp {
	unsigned kinds;	/* bit per class letter index below */
	int n;
	char **pat;
};

static struct supp *supps;
static size_t n_supps, cap_supps;

static const char *const alloc_mangled[FN_COUNT] = {
	"malloc", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign",
	"aligned_alloc", "valloc", "pvalloc", "_Znwm", "_ZnwmSt11align_val_t",
	"_Znam", "_ZnamSt11align_val_t", "free", "_ZdlPv", "_ZdaPv",
};

static unsigned kind_bit(char cls)
{
	switch (cls) {
	case MWL_CLASS_DEFINITE: return 1;
	case MWL_CLASS_INDIRECT: return 2;
	case MWL_CLASS_POSSIBLE: return 4;
	case MWL_CLASS_REACHABLE: return 8;
	default: return 16;
	}
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int supp_load(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char buf[1024];
	int state = 0;	/* 0 outside, 1 name, 2 kind, 3 frames */
	int is_leak = 0;
	struct supp cur = { 0, 0, NULL };
	while (fgets(buf, sizeof(buf), f)) {
		char *l = trim(buf);
		if (!*l || *l == '#')
			continue;
		if (state == 0) {
			if (!strcmp(l, "{")) {
				state = 1;
				cur = (struct supp){ 0x1f, 0, NULL };
			}
		} else if (state == 1) {
			state = 2;
		} else if (state == 2) {
			char *c = strchr(l, ':');
			is_leak = c && !strcmp(c + 1, "Leak");
			state = 3;
		} else if (!strcmp(l, "}")) {
			if (is_leak && cur.n) {
				if (n_supps == cap_supps) {
					cap_supps = cap_supps ? cap_supps * 2 : 16;
					supps = reallocarray(supps, cap_supps, sizeof(*supps));
					if (!supps)
						exit(1);
				}
				supps[n_supps++] = cur;
			} else {
				for (int i = 0; i < cur.n; i++)
					free(cur.pat[i]);
				free(cur.pat);
			}
			state = 0;
		} else if (!strncmp(l, "match-leak-kinds:", 17)) {
			cur.kinds = 0;
			const char *k = l + 17;
			if (strstr(k, "definite")) cur.kinds |= 1;
			if (strstr(k, "indirect")) cur.kinds |= 2;
			if (strstr(k, "possible")) cur.kinds |= 4;
			if (strstr(k, "reachable")) cur.kinds |= 8;
			if (strstr(k, "all")) cur.kinds = 0x1f;
		} else {
			char **np = reallocarray(cur.pat, (size_t)cur.n + 1, sizeof(char *));
			if (!np || !(np[cur.n] = strdup(l)))
				exit(1);
			cur.pat = np;
			cur.n++;
		}
	}
	fclose(f);
	return state == 0 ? 0 : -1;
}

static int frame_match(const char *pat, const struct frame *f, int alloc_fn, int pseudo)
{
	if (!strncmp(pat, "fun:", 4)) {
		pat += 4;
		if (pseudo)
			return !fnmatch(pat, alloc_mangled[alloc_fn], 0) ||
			       !fnmatch(pat, mwl_fn_names[alloc_fn], 0);
		return (f->mangled && !fnmatch(pat, f->mangled, 0)) ||
		       (f->func && !fnmatch(pat, f->func, 0));
	}
	if (!strncmp(pat, "obj:", 4)) {
		pat += 4;
		if (pseudo)
			return !fnmatch(pat, "libmemwatch-leak.so", 0) ||
			       !fnmatch(pat, "/vgpreload_memcheck-amd64-linux.so", 0);
		return f->module && !fnmatch(pat, f->module, 0);
	}
	return 0;
}

/* pattern k.. against frames i.. (frame -1 is the allocator) */
static int match_from(const struct supp *s, int k, const struct stack *st, int i, int alloc_fn)
{
	if (k == s->n)
		return 1;	/* shorter patterns match a prefix */
	if (!strcmp(s->pat[k], "...")) {
		for (int j = i; j <= st->n; j++)
			if (match_from(s, k + 1, st, j, alloc_fn))
				return 1;
		return 0;
	}
	if (i >= st->n)
		return 0;
	int pseudo = i < 0;
	if (!frame_match(s->pat[k], pseudo ? NULL : &st->f[i], alloc_fn, pseudo))
		return 0;
	return match_from(s, k + 1, st, i + 1, alloc_fn);
}

int supp_any(void)
{
	return n_supps > 0;
}

int supp_match(const struct stack *st, int alloc_fn, char cls)
{
	for (size_t i = 0; i < n_supps; i++)
		if ((supps[i].kinds & kind_bit(cls)) && match_from(&supps[i], 0, st, -1, alloc_fn))
			return 1;
	return 0;
}

void supp_free(void)
{
	for (size_t i = 0; i < n_supps; i++) {
		for (int k = 0; k < supps[i].n; k++)
			free(supps[i].pat[k]);
		free(supps[i].pat);
	}
	free(supps);
	supps = NULL;
	n_supps = 0;
}
