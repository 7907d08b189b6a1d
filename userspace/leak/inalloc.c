/*
 * inalloc.c - was a stopped thread of the target inside the allocator?
 * memwatch-leak -p says so when it attaches (and the test of issue 14
 * checks that an attach happened while one was): the thread's stack is
 * unwound by libdw (the target's own .eh_frame, through ptrace; the thread
 * is ours and stopped), and a frame inside one of the allocation
 * functions glibc exports counts. glibc's internal functions (_int_malloc,
 * sysmalloc) are not in .dynsym, but they are called from these.
 */
#include "inject.h"
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <string.h>

#define MAX_UNWOUND 64

static const char *const alloc_fns[] = {
	"malloc", "free", "calloc", "realloc", "reallocarray", "cfree", "aligned_alloc",
	"memalign", "posix_memalign", "valloc", "pvalloc", "__libc_malloc", "__libc_free",
	"__libc_calloc", "__libc_realloc", "__libc_memalign", "__libc_valloc", "__libc_pvalloc",
	"__posix_memalign", "free_sized", "free_aligned_sized",
};

struct hit {
	const char *fn;
	int frames;
};

static int is_alloc_fn(const char *name)
{
	for (size_t i = 0; i < sizeof(alloc_fns) / sizeof(alloc_fns[0]); i++)
		if (!strcmp(name, alloc_fns[i]))
			return 1;
	return 0;
}

static int frame_cb(Dwfl_Frame *frame, void *arg)
{
	struct hit *h = arg;
	Dwarf_Addr pc;
	bool activation;
	if (!dwfl_frame_pc(frame, &pc, &activation))
		return DWARF_CB_ABORT;
	if (!activation)
		pc--;	/* a return address: the call is before it */
	Dwfl_Module *m = dwfl_addrmodule(dwfl_thread_dwfl(dwfl_frame_thread(frame)), pc);
	GElf_Off off;
	GElf_Sym sym;
	const char *name = m ? dwfl_module_addrinfo(m, pc, &off, &sym, NULL, NULL, NULL) : NULL;
	const char *mod = m ? dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL) : NULL;
	/* a sized symbol that holds pc, in libc: not the program's own malloc wrapper */
	if (name && sym.st_size && off < sym.st_size && mod && strstr(mod, "libc.so") && is_alloc_fn(name)) {
		h->fn = name;
		return DWARF_CB_ABORT;
	}
	return ++h->frames < 64 ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

int inject_threads_in_allocator(pid_t pid, const pid_t *tids, int n, pid_t *tid, char *fn, size_t cap)
{
	Dwfl *d = dwfl_begin(&callbacks);
	int found = 0;
	if (!d)
		return 0;
	if (dwfl_linux_proc_report(d, pid) || dwfl_report_end(d, NULL, NULL) ||
	    dwfl_linux_proc_attach(d, pid, true)) {
		dwfl_end(d);
		return 0;
	}
	/* every thread waits stopped meanwhile: the first ones tell enough */
	if (n > MAX_UNWOUND)
		n = MAX_UNWOUND;
	for (int i = 0; i < n; i++) {
		struct hit h = { NULL, 0 };
		dwfl_getthread_frames(d, tids[i], frame_cb, &h);
		if (h.fn) {
			if (!found++) {
				*tid = tids[i];
				snprintf(fn, cap, "%s", h.fn);
			}
		}
	}
	dwfl_end(d);
	return found;
}
