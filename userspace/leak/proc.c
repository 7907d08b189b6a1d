/*
 * proc.c - process lifecycle hooks: _exit()/_Exit() skip destructors, so
 * they write the exit report themselves (dash, and many forked children,
 * leave that way); vfork() becomes fork(), as under valgrind, because a
 * vfork child shares our tables and must not report into them.
 */
#include "lib.h"
#include <dlfcn.h>
#include <unistd.h>

static void report_before_exit(void)
{
	if (atomic_load(&mwl_state) == ST_READY && !mwl_busy)
		mwl_report_exit((uintptr_t)__builtin_frame_address(0));
}

MWL_EXPORT void _exit(int status)
{
	static void (*real)(int) __attribute__((noreturn));
	report_before_exit();
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "_exit");
	real(status);
}

MWL_EXPORT void _Exit(int status)
{
	_exit(status);
}

MWL_EXPORT pid_t vfork(void)
{
	return fork();
}
