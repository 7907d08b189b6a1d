/*
 * mwl.h - what libmemwatch-leak.so and the memwatch-leak front-end share:
 * environment variable names (front-end -> library) and the dump format
 * (library -> front-end). The library writes raw addresses only; the
 * front-end symbolises, so nothing on the traced program's hot path touches
 * DWARF. See Documentation/leak.md for the dump grammar.
 */
#ifndef MWL_H
#define MWL_H

#define MWL_DUMP_MAGIC "memwatch-leak-dump"
#define MWL_DUMP_VERSION 1

#define MWL_ENV_DUMP "MEMWATCH_LEAK_DUMP"	/* directory for dumps */
#define MWL_ENV_DEPTH "MEMWATCH_LEAK_DEPTH"	/* frames kept per stack */
#define MWL_ENV_FLAGS "MEMWATCH_LEAK_FLAGS"	/* f=follow-fork e=follow-exec d=fds */
#define MWL_ENV_INTERVAL "MEMWATCH_LEAK_INTERVAL"	/* seconds, 0 = off */
#define MWL_ENV_MIN_AGE "MEMWATCH_LEAK_MIN_AGE"	/* seconds */
#define MWL_ENV_SIGNAL "MEMWATCH_LEAK_SIGNAL"	/* signal number, 0 = off */
#define MWL_ENV_UNWIND "MEMWATCH_LEAK_UNWIND"	/* fast (default), libunwind, check */

#define MWL_MAX_DEPTH 64
#define MWL_DEFAULT_DEPTH 16

/* The function a block came from. Families decide what may free it. */
enum mwl_fn {
	FN_MALLOC,
	FN_CALLOC,
	FN_REALLOC,
	FN_REALLOCARRAY,
	FN_MEMALIGN,
	FN_POSIX_MEMALIGN,
	FN_ALIGNED_ALLOC,
	FN_VALLOC,
	FN_PVALLOC,
	FN_NEW,
	FN_NEW_ALIGNED,
	FN_NEW_ARRAY,
	FN_NEW_ARRAY_ALIGNED,
	FN_FREE,
	FN_DELETE,
	FN_DELETE_ARRAY,
	FN_COUNT
};

enum mwl_family { FAM_MALLOC, FAM_NEW, FAM_NEW_ARRAY };

static inline enum mwl_family mwl_family_of(int fn)
{
	switch (fn) {
	case FN_NEW: case FN_NEW_ALIGNED: case FN_DELETE:
		return FAM_NEW;
	case FN_NEW_ARRAY: case FN_NEW_ARRAY_ALIGNED: case FN_DELETE_ARRAY:
		return FAM_NEW_ARRAY;
	default:
		return FAM_MALLOC;
	}
}

/* Names as valgrind prints them, so its suppression files match. */
static const char *const mwl_fn_names[FN_COUNT] = {
	"malloc", "calloc", "realloc", "reallocarray", "memalign",
	"posix_memalign", "aligned_alloc", "valloc", "pvalloc",
	"operator new", "operator new(align_val_t)", "operator new[]",
	"operator new[](align_val_t)", "free", "operator delete",
	"operator delete[]",
};

/* Leak classes, valgrind's names. O = outstanding (periodic reports: no scan). */
#define MWL_CLASS_DEFINITE 'D'
#define MWL_CLASS_INDIRECT 'I'
#define MWL_CLASS_POSSIBLE 'P'
#define MWL_CLASS_REACHABLE 'R'
#define MWL_CLASS_OUTSTANDING 'O'

#endif
