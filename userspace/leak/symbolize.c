/*
 * symbolize.c - return addresses to function, file:line with libdw's
 * dwfl, offline: modules are reported from the /proc/PID/maps text the
 * library saved at exit, so PIE executables and shared libraries land at
 * the addresses they had, and the process may be long gone.
 */
#include "fe.h"
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

struct symbolizer {
	Dwfl *dwfl;
};

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

struct symbolizer *sym_open(const char *maps, size_t len)
{
	struct symbolizer *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->dwfl = dwfl_begin(&callbacks);
	if (!s->dwfl) {
		free(s);
		return NULL;
	}
	FILE *f = fmemopen((void *)maps, len ? len : 1, "r");
	dwfl_report_begin(s->dwfl);
	if (f && len)
		dwfl_linux_proc_maps_report(s->dwfl, f);
	dwfl_report_end(s->dwfl, NULL, NULL);
	if (f)
		fclose(f);
	return s;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* function and object only: the line table is read by sym_line() */
void sym_frame(struct symbolizer *s, uintptr_t ip, struct frame *out)
{
	memset(out, 0, sizeof(*out));
	out->ip = ip;
	if (!s)
		return;
	/* a return address: the call is the instruction before it */
	Dwarf_Addr pc = ip - 1;
	Dwfl_Module *m = dwfl_addrmodule(s->dwfl, pc);
	if (!m)
		return;
	Dwarf_Addr start;
	const char *mod = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	out->module = dup_or_null(mod);
	out->offset = ip - start;
	const char *sym = dwfl_module_addrname(m, pc);
	if (sym) {
		out->mangled = strdup(sym);
		int st = -1;
		char *dem = sym[0] == '_' && sym[1] == 'Z' ? __cxa_demangle(sym, NULL, NULL, &st) : NULL;
		out->func = st == 0 && dem ? dem : strdup(sym);
		if (out->func != dem)
			free(dem);
	}
}

void sym_line(struct symbolizer *s, struct frame *f)
{
	if (!s || !f->module)
		return;
	Dwarf_Addr pc = f->ip - 1;
	Dwfl_Module *m = dwfl_addrmodule(s->dwfl, pc);
	if (!m)
		return;
	Dwfl_Line *l = dwfl_module_getsrc(m, pc);
	if (l) {
		int line = 0;
		const char *src = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
		if (src && line > 0) {
			f->file = strdup(src);
			f->line = line;
		}
	}
}

void sym_close(struct symbolizer *s)
{
	if (!s)
		return;
	dwfl_end(s->dwfl);
	free(s);
}
