/* hooks.h - real libc functions, the recursion guard and the bootstrap arena. */
#ifndef MW_HOOKS_H
#define MW_HOOKS_H
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/socket.h>

/*
 * Set while the library itself runs (table updates, backtrace(), libdw, the
 * report) and while a real operator new/delete runs, so the malloc/free those
 * make underneath is neither tracked nor tracked twice. initial-exec: a
 * preloaded library gets static TLS, and __tls_get_addr could call malloc.
 */
extern __thread int mw_guard __attribute__((tls_model("initial-exec")));

struct mw_real {
	void *(*malloc)(size_t);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void (*free)(void *);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
};
extern struct mw_real mw_real;

/* Resolves the allocator functions once (dlsym(RTLD_NEXT)). */
void mw_hooks_init(void);
/* Resolves one more symbol on first use (operator new, open, ...). */
void *mw_next(const char *name);

/* dlsym() may allocate before malloc itself is resolved. */
void *mw_boot_alloc(size_t size);
int mw_is_boot(const void *p);
size_t mw_boot_size(const void *p);

/* 1 once the constructor ran and until the report starts. */
extern volatile int mw_tracking;

/* Allocation kinds, also the deallocation kinds for the mismatch check. */
enum mw_kind { MW_MALLOC, MW_NEW, MW_NEW_ARRAY };
const char *mw_kind_alloc_name(unsigned kind);
const char *mw_kind_free_name(unsigned kind);

#endif
