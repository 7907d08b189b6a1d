/*
 * inject.h - calls into a running process through ptrace (inject.c), for
 * memwatch-leak -p (attach_fe.c).
 */
#ifndef MWL_INJECT_H
#define MWL_INJECT_H
#include <stdint.h>
#include <sys/types.h>

struct inj;
/* seize and stop every thread, keep one stopped at a safe point; errno kept on EPERM */
int inject_begin(struct inj **j, pid_t pid);
/* fn(a1, a2) in that thread; str, if given, is copied into the target and becomes argument str_arg (1 or 2) */
long inject_call(struct inj *j, uintptr_t fn, uintptr_t a1, uintptr_t a2, const char *str, int str_arg,
		 long *result);
/*
 * How many of the threads inject_begin stopped (but the one that runs the
 * calls) were inside glibc's allocator then; the first one's tid and
 * function in *tid, fn.
 */
int inject_in_allocator(const struct inj *j, pid_t *tid, char *fn, size_t cap);
extern int inject_check_allocator;	/* look (unwinds: attach only) */
int inject_threads_in_allocator(pid_t pid, const pid_t *tids, int n, pid_t *tid, char *fn, size_t cap);
/* registers back, thread let go */
void inject_end(struct inj *j);
const char *inject_error(void);
/* address of a dynamic symbol of a loaded object (file name prefix, e.g. "libc.so.6"), or 0 */
uintptr_t inject_symbol(pid_t pid, const char *object, const char *sym);
#endif
