/*
 * symbolize.c - return addresses to frames with libdw's dwfl, offline:
 * modules are reported from the /proc/PID/maps text the library saved at
 * exit, so PIE executables and shared libraries land at the addresses they
 * had, and the process may be long gone. Objects dlclose() unloaded before
 * that come from the library's "unloaded" records, each in a dwfl of its
 * own, used only if the file on disk still has the build-id that was
 * loaded.
 *
 * One address becomes several frames where the compiler inlined calls
 * (DW_TAG_inlined_subroutine scopes, as addr2line -i and valgrind show
 * them): the innermost is the inlined callee at the address's line, each
 * outer one the caller at the call site (DW_AT_call_file/DW_AT_call_line).
 * Source paths are absolute: relative ones are joined to DW_AT_comp_dir.
 */
#include "fe.h"
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

struct unloaded {
	uintptr_t lo, hi, bias;
	char *build_id;	/* hex, or NULL */
	char *path;
	Dwfl *dwfl;	/* opened on first use */
	int state;	/* 0 not tried, 1 usable, -1 missing or another build */
};

struct symbolizer {
	Dwfl *dwfl;
	const char *maps;	/* the dump's, for addresses no module holds */
	size_t maps_len;
	struct unloaded *un;
	size_t n_un;
};

static char *debuginfo_path;
static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};
static const Dwfl_Callbacks file_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

struct symbolizer *sym_open(const char *maps, size_t len, const struct dump_module *un, size_t n_un)
{
	struct symbolizer *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->dwfl = dwfl_begin(&proc_callbacks);
	if (!s->dwfl) {
		free(s);
		return NULL;
	}
	s->maps = maps;
	s->maps_len = len;
	FILE *f = fmemopen((void *)maps, len ? len : 1, "r");
	dwfl_report_begin(s->dwfl);
	if (f && len)
		dwfl_linux_proc_maps_report(s->dwfl, f);
	dwfl_report_end(s->dwfl, NULL, NULL);
	if (f)
		fclose(f);
	s->un = calloc(n_un + 1, sizeof(*s->un));
	for (size_t i = 0; s->un && i < n_un; i++) {
		struct unloaded *u = &s->un[s->n_un++];
		u->lo = un[i].lo;
		u->hi = un[i].hi;
		u->bias = un[i].bias;
		u->build_id = un[i].build_id[0] ? strdup(un[i].build_id) : NULL;
		u->path = strdup(un[i].path);
	}
	return s;
}

static int build_id_is(Dwfl_Module *m, const char *want)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(m, &bits, &vaddr);
	if (n <= 0 || (size_t)n * 2 != strlen(want))
		return 0;
	for (int i = 0; i < n; i++) {
		char two[3];
		snprintf(two, sizeof(two), "%02x", bits[i]);
		if (memcmp(two, want + 2 * i, 2))
			return 0;
	}
	return 1;
}

static Dwfl_Module *unloaded_module(struct unloaded *u)
{
	if (!u->state) {
		u->state = -1;
		u->dwfl = dwfl_begin(&file_callbacks);
		if (!u->dwfl || !u->path)
			return NULL;
		dwfl_report_begin(u->dwfl);
		Dwfl_Module *m = dwfl_report_elf(u->dwfl, u->path, u->path, -1, u->bias, false);
		dwfl_report_end(u->dwfl, NULL, NULL);
		if (m && (!u->build_id || build_id_is(m, u->build_id)))
			u->state = 1;
		else
			fprintf(stderr, "memwatch-leak: %s: %s; its frames keep module and offset only\n",
				u->path, m ? "not the build that was loaded (build-id differs)" : "cannot read it");
	}
	return u->state > 0 ? dwfl_addrmodule(u->dwfl, u->lo) : NULL;
}

/* the module holding pc: loaded at exit, else unloaded (the latest first) */
static Dwfl_Module *module_at(struct symbolizer *s, Dwarf_Addr pc, const char **path)
{
	Dwfl_Module *m = dwfl_addrmodule(s->dwfl, pc);
	*path = NULL;
	if (m)
		return m;
	for (size_t i = s->n_un; i-- > 0;) {
		struct unloaded *u = &s->un[i];
		if (pc >= u->lo && pc < u->hi) {
			*path = u->path;
			return unloaded_module(u);
		}
	}
	return NULL;
}

/*
 * An address outside every module (JIT code, a deleted file, anonymous
 * memory): the mapping that held it at exit, as its name ("[anon]" when it
 * has none) and the offset from the mapping's start.
 */
static void mapping_of(const struct symbolizer *s, uintptr_t ip, struct frame *f)
{
	const char *p = s->maps, *end = s->maps + s->maps_len;
	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		unsigned long long lo, hi, off;
		int name_at = 0;
		if (sscanf(p, "%llx-%llx %*s %llx %*s %*s %n", &lo, &hi, &off, &name_at) == 3 &&
		    ip >= lo && ip < hi) {
			const char *name = name_at && p + name_at < eol ? p + name_at : NULL;
			f->module = name ? strndup(name, (size_t)(eol - name)) : strdup("[anon]");
			f->offset = ip - (uintptr_t)lo + (uintptr_t)off;
			return;
		}
		p = eol + 1;
	}
}

static char *demangled(const char *sym)
{
	if (!sym)
		return NULL;
	int st = -1;
	char *dem = sym[0] == '_' && sym[1] == 'Z' ? __cxa_demangle(sym, NULL, NULL, &st) : NULL;
	if (st == 0 && dem)
		return dem;
	free(dem);
	return strdup(sym);
}

static char *full_path(const char *file, const char *comp_dir)
{
	if (!file)
		return NULL;
	/* a relative comp_dir (glibc's "./nptl", from -fdebug-prefix-map) cannot help */
	if (file[0] == '/' || !comp_dir || comp_dir[0] != '/')
		return strdup(file);
	while (file[0] == '.' && file[1] == '/')
		file += 2;
	char *p;
	if (asprintf(&p, "%s/%s", comp_dir, file) < 0)
		return NULL;
	return p;
}

/* an inlined subroutine's name: linkage name demangled, else DW_AT_name */
static char *inline_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	if (!n)
		n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	if (n)
		return demangled(n);
	n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	return n ? strdup(n) : NULL;
}

static void set_common(struct frame *f, uintptr_t ip, const char *mod, uintptr_t offset)
{
	memset(f, 0, sizeof(*f));
	f->ip = ip;
	f->module = mod ? strdup(mod) : NULL;
	f->offset = offset;
}

int sym_expand(struct symbolizer *s, uintptr_t ip, struct frame *out, int max,
	       int (*name_only)(const char *sym))
{
	/* a return address: the call is the instruction before it */
	Dwarf_Addr pc = ip - 1;
	const char *unloaded_path;
	Dwfl_Module *m = s && max > 0 ? module_at(s, pc, &unloaded_path) : NULL;
	if (!m) {
		if (max < 1)
			return 0;
		/* no module: an unloaded one we cannot read, or code outside any */
		set_common(out, ip, NULL, 0);
		for (size_t i = 0; s && i < s->n_un; i++)
			if (pc >= s->un[i].lo && pc < s->un[i].hi) {
				set_common(out, ip, s->un[i].path, ip - s->un[i].bias);
				return 1;
			}
		if (s)
			mapping_of(s, (uintptr_t)pc, out);
		if (out->module)
			out->offset++;	/* of the return address, as for the others */
		return 1;
	}
	Dwarf_Addr start;
	const char *mod = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	if (unloaded_path)
		mod = unloaded_path;
	uintptr_t offset = ip - start;
	const char *sym = dwfl_module_addrname(m, pc);
	if (sym && name_only && name_only(sym)) {
		set_common(out, ip, mod, offset);
		out->mangled = strdup(sym);
		out->func = demangled(sym);
		return 1;
	}

	/* the address's own line: the innermost frame's */
	char *file = NULL;
	int line = 0;
	Dwfl_Line *l = dwfl_module_getsrc(m, pc);
	if (l) {
		const char *src = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
		if (src && line > 0)
			file = full_path(src, dwfl_line_comp_dir(l));
		else
			line = 0;
	}

	int n = 0;
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(m, pc, &bias);
	Dwarf_Die *scopes = NULL, cur;
	int ns = cu ? dwarf_getscopes(cu, pc - bias, &scopes) : 0, have = 0;
	for (int i = 0; i < ns && !have; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram) {
			cur = scopes[i];
			have = 1;
		}
	}
	free(scopes);
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	Dwarf_Attribute a;
	const char *comp_dir = cu ? dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a)) : NULL;
	/*
	 * dwarf_getscopes continues from an inlined instance into its abstract
	 * definition; the concrete caller is found from the instance itself
	 * (dwarf_getscopes_die), as eu-addr2line -i does.
	 */
	while (have && dwarf_tag(&cur) == DW_TAG_inlined_subroutine && n < max - 1) {
		struct frame *f = &out[n++];
		set_common(f, ip, mod, offset);
		f->func = inline_name(&cur);
		f->inlined = 1;
		f->file = file;
		f->line = line;
		/* the caller's frame is at this inlined call's site */
		Dwarf_Word cf = 0, cl = 0;
		file = NULL;
		line = 0;
		if (dwarf_formudata(dwarf_attr(&cur, DW_AT_call_line, &a), &cl) == 0 &&
		    dwarf_formudata(dwarf_attr(&cur, DW_AT_call_file, &a), &cf) == 0 &&
		    (files || dwarf_getsrcfiles(cu, &files, &nfiles) == 0) && cf < nfiles) {
			file = full_path(dwarf_filesrc(files, cf, NULL, NULL), comp_dir);
			line = (int)cl;
		}
		Dwarf_Die *outer = NULL;
		int no = dwarf_getscopes_die(&cur, &outer);
		have = 0;
		for (int i = 1; i < no && !have; i++) {
			int tag = dwarf_tag(&outer[i]);
			if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram) {
				cur = outer[i];
				have = 1;
			}
		}
		free(outer);
	}
	struct frame *f = &out[n++];
	set_common(f, ip, mod, offset);
	f->mangled = sym ? strdup(sym) : NULL;
	f->func = demangled(sym);
	f->file = file;
	f->line = file ? line : 0;
	return n;
}

void sym_close(struct symbolizer *s)
{
	if (!s)
		return;
	dwfl_end(s->dwfl);
	for (size_t i = 0; i < s->n_un; i++) {
		if (s->un[i].dwfl)
			dwfl_end(s->un[i].dwfl);
		free(s->un[i].build_id);
		free(s->un[i].path);
	}
	free(s->un);
	free(s);
}
