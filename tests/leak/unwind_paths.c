/* Stacks the fast unwinder must get right (tests/host/leak.sh runs this
 * with MEMWATCH_LEAK_UNWIND=check, which compares every stack with
 * libunwind's): an allocation in a signal handler (the signal frame is
 * libunwind's job), recursion through frames without a frame pointer and
 * with a variable-length array, and code unloaded by dlclose() between
 * allocations (the rules learnt for it must go). */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *kept[16];
static int nkept;

static void on_usr1(int sig)
{
	(void)sig;
	kept[nkept++] = malloc(48);	/* LEAK:sighandler */
}

__attribute__((noinline, optimize("O2", "omit-frame-pointer")))
static long no_fp(int depth)
{
	if (depth == 0)
		return (long)malloc(32);	/* LEAK:nofp */
	return no_fp(depth - 1) + 1;
}

__attribute__((noinline))
static long with_vla(int n)
{
	volatile char buf[n * 16 + 1];
	buf[0] = (char)n;
	if (n == 0)
		return (long)malloc(24);	/* LEAK:vla */
	return with_vla(n - 1) + buf[0];
}

int main(int argc, char **argv)
{
	(void)argc;
	char lib[4096];
	snprintf(lib, sizeof(lib), "%s", argv[0]);
	char *slash = strrchr(lib, '/');
	snprintf(slash ? slash + 1 : lib, sizeof(lib) - (size_t)(slash ? slash + 1 - lib : 0),
		 "libleakshlib.so");
	signal(SIGUSR1, on_usr1);
	for (int i = 0; i < 3; i++) {
		void *h = dlopen(lib, RTLD_NOW);
		if (!h) {
			fprintf(stderr, "%s\n", dlerror());
			return 1;
		}
		int (*leak)(int) = (int (*)(int))dlsym(h, "shlib_leak");
		leak(i);
		dlclose(h);
		raise(SIGUSR1);
		no_fp(5 + i);
		with_vla(3 + i);
	}
	memset(kept, 0, sizeof(kept));	/* the handler's blocks: lost */
	return 0;
}
