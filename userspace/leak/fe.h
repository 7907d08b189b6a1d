/*
 * fe.h - the memwatch-leak front-end: runs the program under the preload
 * library, then reads the dumps the library wrote and reports them.
 */
#ifndef MWL_FE_H
#define MWL_FE_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "mwl.h"

#define MAX_SUPP_FILES 16

struct options {
	const char *lib;
	const char *output;	/* %p = pid; NULL = stderr */
	int json;
	int show_reachable;
	int show_possible;
	int depth;
	int fds;
	int follow_fork, follow_exec;
	unsigned interval, min_age;
	int signal;
	int error_exitcode;	/* 0 = pass the program's status through */
	const char *supp[MAX_SUPP_FILES];
	int n_supp;
	char **argv;	/* the program and its arguments */
	int pid;	/* -p: attach to this process instead */
	unsigned duration;	/* -p: detach after SECS (0: at Ctrl-C or exit) */
};

struct frame {
	uintptr_t ip;
	const char *func;	/* demangled, or NULL */
	const char *mangled;	/* symbol as in the ELF, or NULL */
	const char *file;	/* source file, or NULL */
	int line;
	const char *module;	/* path of the object, or NULL */
	uintptr_t offset;	/* ip relative to the object's load address */
	int inlined;	/* a call the compiler inlined into the next frame */
};

struct stack {
	uint32_t id;
	int n;
	int symbolized;
	struct frame *f;
};

struct site {
	char cls;
	int fn;
	uint32_t stack;
	uint64_t count, bytes;
	int suppressed;
	uint64_t growth;	/* periodic: bytes more than in the last report */
	uint64_t indirect;	/* definitely lost: bytes indirectly lost through it */
};

struct mismatch {
	int alloc_fn, free_fn;
	uint32_t alloc_stack, free_stack;
	uint64_t count, bytes;
};

struct fdrec {
	int fd;
	char what[32];
	uint32_t stack;
};

/* an object dlclose() unloaded before the dump (modules.c) */
struct dump_module {
	uintptr_t lo, hi, bias;
	char build_id[130];	/* hex; "" if it had none */
	char path[512];
};

struct dump {
	char kind[16];
	char origin[8];	/* "exec" or "fork" */
	int exit_status;	/* from the process itself; -1 if unknown */
	char *exe;
	struct dump_module *unloaded;
	size_t n_unloaded;
	pid_t pid, ppid;
	unsigned time;
	char *maps;
	size_t maps_len;
	struct site *sites;
	size_t n_sites;
	struct stack *stacks;
	size_t n_stacks;
	struct mismatch *mm;
	size_t n_mm;
	struct fdrec *fds;
	size_t n_fds;
	struct symbolizer *sym;	/* open while the dump is: stacks resolve lazily */
};

/* report.c */
int dump_read(const char *path, struct dump *d);
void dump_free(struct dump *d);
/* the stack, symbolised (on first use), or NULL */
struct stack *dump_stack(struct dump *d, uint32_t id);
/* the pid of the program memwatch-leak started */
extern pid_t fe_main_pid;
/* returns 1 if there were errors (leaks, mismatches, fds) to report */
int report_print(FILE *out, struct dump *d, const struct options *o, int status, const char *main_exe);

/* main.c: print and remove the dumps named prefix* in dir */
int report_files(const struct options *o, const char *dir, const char *prefix, pid_t main_pid, int status);
void report_dir_remove(const char *dir);

/* attach_fe.c: memwatch-leak -p */
int attach_main(const struct options *o, pid_t pid, unsigned duration, const char *lib);

/* symbolize.c */
struct symbolizer;
struct symbolizer *sym_open(const char *maps, size_t len, const struct dump_module *un, size_t n_un);
/*
 * The frames of one return address, innermost first (inlined calls are
 * frames of their own; the last is the function that holds the code), at
 * most max; returns how many. Strings are the caller's to free. A function
 * name_only() accepts gets its name only: no line table, no inlines (libc's
 * start-up frames: their debug info would cost most of the report's time).
 */
int sym_expand(struct symbolizer *s, uintptr_t ip, struct frame *out, int max,
	       int (*name_only)(const char *sym));
void sym_close(struct symbolizer *s);

/* suppress.c */
int supp_load(const char *path);
int supp_any(void);
int supp_match(const struct stack *st, int alloc_fn, char cls);
void supp_free(void);

#endif
