/* lib.c - libmemwatch-leak.so's constructor and destructor. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "hooks.h"
#include "leak_opts.h"
#include "out.h"
#include "report.h"
#include "table.h"

struct mw_config mw_config = { .fds = 1 };

/* "key=value,..." without allocating; output= takes the rest of the string. */
static void mw_parse_opts(const char *s)
{
	while (s && *s) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);

		if (!strncmp(s, "output=", 7)) {
			strncpy(mw_config.output, s + 7, sizeof(mw_config.output) - 1);
			return;
		}
		if (!strncmp(s, "json=", 5))
			mw_config.json = s[5] == '1';
		else if (!strncmp(s, "reachable=", 10))
			mw_config.reachable = s[10] == '1';
		else if (!strncmp(s, "fds=", 4))
			mw_config.fds = s[4] == '1';
		else if (!strncmp(s, "exact=", 6))
			mw_config.exact = s[6] == '1';
		s += len + (end != NULL);
	}
}

__attribute__((constructor)) static void mw_init(void)
{
	mw_guard++;
	mw_hooks_init();
	mw_parse_opts(getenv(MW_LEAK_ENV));
	mw_unwind_exact = mw_config.exact;
	mw_table_init();
	mw_out_init();
	pthread_atfork(mw_table_fork_prepare, mw_table_fork_done, mw_table_fork_done);
	mw_guard--;
	/* blocks allocated before this point (other libraries' constructors)
	 * are not ours to judge: valgrind would call them still reachable */
	mw_tracking = 1;
}

/* A destructor of a preloaded object runs in _dl_fini, after the program's
 * atexit handlers and C++ static destructors. */
__attribute__((destructor)) static void mw_fini(void)
{
	static struct mw_roots roots;

	if (!mw_tracking)
		return;
	setjmp(roots.regs);
	roots.sp = (uintptr_t)__builtin_frame_address(0);
	mw_report_final(&roots);
}
