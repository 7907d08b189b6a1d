/* symbols.c - symbolisation inside the process with libdw's Dwfl. Runs under
 * the guard: libdw allocates freely and none of it is tracked. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "symbols.h"

static Dwfl *mw_dwfl;
static char *mw_debuginfo_path;
static const Dwfl_Callbacks mw_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &mw_debuginfo_path,
};
/* libstdc++'s demangler, when the program has it loaded (C++ programs) */
static char *(*mw_demangle)(const char *, char *, size_t *, int *);
static char mw_name[1024];

int mw_sym_begin(void)
{
	mw_dwfl = dwfl_begin(&mw_callbacks);
	if (!mw_dwfl)
		return -1;
	dwfl_report_begin(mw_dwfl);
	if (dwfl_linux_proc_report(mw_dwfl, getpid()) != 0 ||
	    dwfl_report_end(mw_dwfl, NULL, NULL) != 0) {
		mw_sym_end();
		return -1;
	}
	mw_demangle = (char *(*)(const char *, char *, size_t *, int *))
		dlsym(RTLD_DEFAULT, "__cxa_demangle");
	return 0;
}

void mw_sym_end(void)
{
	if (mw_dwfl)
		dwfl_end(mw_dwfl);
	mw_dwfl = NULL;
}

static const char *mw_pretty(const char *name)
{
	char *d;
	int status = -1;

	if (!name || !mw_demangle || strncmp(name, "_Z", 2))
		return name;
	d = mw_demangle(name, NULL, NULL, &status);
	if (status != 0 || !d)
		return name;
	strncpy(mw_name, d, sizeof(mw_name) - 1);
	mw_name[sizeof(mw_name) - 1] = 0;
	free(d);
	return mw_name;
}

void mw_sym_lookup(void *addr, struct mw_frame *f)
{
	/* a return address: the call is the byte before it */
	Dwarf_Addr pc = (uintptr_t)addr - 1, base = 0;
	Dwfl_Module *mod;
	Dwfl_Line *line;

	memset(f, 0, sizeof(*f));
	f->addr = (uintptr_t)addr;
	if (!mw_dwfl || !(mod = dwfl_addrmodule(mw_dwfl, pc)))
		return;
	f->module = dwfl_module_info(mod, NULL, &base, NULL, NULL, NULL, NULL, NULL);
	f->offset = f->addr - base;
	f->func = mw_pretty(dwfl_module_addrname(mod, pc));
	line = dwfl_module_getsrc(mod, pc);
	if (line)
		f->file = dwfl_lineinfo(line, NULL, &f->line, NULL, NULL, NULL);
}
