/*
 * proc.c - process lifecycle hooks.
 *  - exit(), and the return from main() (main runs inside main_wrap, which
 *    calls exit() itself): record the stack pointer and the callee-saved
 *    registers of the program's own call into exit. Below that stack
 *    pointer lie exit's, __run_exit_handlers' and _dl_fini's frames, which
 *    reserve stack they never write: stale locals of functions that
 *    returned long ago. The exit scan starts at the recorded stack pointer
 *    and takes the registers as roots, as valgrind sees them at exit.
 *  - _exit()/_Exit() skip destructors, so they write the exit report
 *    themselves (dash, and many forked children, leave that way), from the
 *    caller's stack pointer and registers, saved the same way.
 *  - vfork() becomes fork(), as under valgrind, because a vfork child
 *    shares our tables and must not report into them.
 */
#include "lib.h"
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

struct mwl_exit_regs mwl_exit_regs;
_Atomic int mwl_exit_status = -1;
int mwl_forked;

/*
 * The program's call into exit, as the caller left it: the stack pointer
 * just above the return address, and rbx, rbp, r12-r15 (a caller at -O2
 * may keep its only pointer to a block there). Assembly, so no register is
 * touched before it is saved. x86-64 only, like unwind.c.
 */
void mwl_exit_c(int status, const uintptr_t *regs) __attribute__((noreturn, used));
void mwl__exit_c(int status, const uintptr_t *regs) __attribute__((noreturn, used));
#define MWL_EXIT_STUB(name, target) \
	__asm__(".text\n" \
		".globl " #name "\n" \
		".type " #name ", @function\n" \
		".p2align 4\n" \
		#name ":\n" \
		"	.cfi_startproc\n" \
		"	lea 8(%rsp), %rax\n" \
		"	sub $56, %rsp\n" \
		"	.cfi_adjust_cfa_offset 56\n" \
		"	mov %rax, 0(%rsp)\n" \
		"	mov %rbx, 8(%rsp)\n" \
		"	mov %rbp, 16(%rsp)\n" \
		"	mov %r12, 24(%rsp)\n" \
		"	mov %r13, 32(%rsp)\n" \
		"	mov %r14, 40(%rsp)\n" \
		"	mov %r15, 48(%rsp)\n" \
		"	mov %rsp, %rsi\n" \
		"	call " #target "\n" \
		"	ud2\n" \
		"	.cfi_endproc\n" \
		".size " #name ", .-" #name "\n")
MWL_EXIT_STUB(exit, mwl_exit_c);
MWL_EXIT_STUB(_exit, mwl__exit_c);

/* the first call into exit() or _exit() is the one that counts */
static void note_exit(int status, const uintptr_t *regs)
{
	static _Atomic int taken;
	if (atomic_exchange(&taken, 1))
		return;
	mwl_exit_regs.sp = regs[0];
	for (int i = 0; i < MWL_EXIT_REGS; i++)
		mwl_exit_regs.reg[i] = regs[1 + i];
	mwl_exit_regs.tid = gettid();
	int unknown = -1;
	atomic_compare_exchange_strong(&mwl_exit_status, &unknown, status & 0xff);
}

void mwl_exit_c(int status, const uintptr_t *regs)
{
	static void (*real)(int) __attribute__((noreturn));
	note_exit(status, regs);
	if (!real) {
		mwl_busy++;
		*(void **)&real = dlsym(RTLD_NEXT, "exit");
		mwl_busy--;
	}
	real(status);
}

typedef int (*mwl_main_fn)(int, char **, char **);
static mwl_main_fn real_main;

/* main returns here; exit() is then the program's call, from this frame */
static int main_wrap(int argc, char **argv, char **envp)
{
	exit(real_main(argc, argv, envp));
}

MWL_EXPORT int __libc_start_main(mwl_main_fn main, int argc, char **argv, void (*init)(void),
				 void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
	int (*real)(mwl_main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void), void *);
	mwl_busy++;
	*(void **)&real = dlvsym(RTLD_NEXT, "__libc_start_main", "GLIBC_2.34");
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "__libc_start_main");
	mwl_busy--;
	real_main = main;
	return real(main_wrap, argc, argv, init, fini, rtld_fini, stack_end);
}

/* _exit() skips destructors: the report is written here, from the caller's stack */
void mwl__exit_c(int status, const uintptr_t *regs)
{
	static void (*real)(int) __attribute__((noreturn));
	if (atomic_load(&mwl_state) == ST_READY && !mwl_busy) {
		note_exit(status, regs);
		if (mwl_exit_regs.tid == gettid())
			mwl_report_exit(mwl_exit_regs.sp, &mwl_exit_regs);
		else	/* exit() is running in another thread: not its stack */
			mwl_report_exit((uintptr_t)__builtin_frame_address(0), NULL);
	}
	if (!real) {
		mwl_busy++;
		*(void **)&real = dlsym(RTLD_NEXT, "_exit");
		mwl_busy--;
	}
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
