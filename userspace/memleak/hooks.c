/* hooks.c - dlsym(RTLD_NEXT) once, and a static arena for what dlsym allocates
 * before malloc is known (glibc's dlsym may calloc its error buffer). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>
#include "hooks.h"

__thread int mw_guard __attribute__((tls_model("initial-exec")));
struct mw_real mw_real;
volatile int mw_tracking;

/* 64 KiB is plenty: only dlsym's bookkeeping lands here. */
#define MW_BOOT_SIZE (64 * 1024)
static _Alignas(16) char mw_boot[MW_BOOT_SIZE];
static size_t mw_boot_used;

void *mw_boot_alloc(size_t size)
{
	/* a 16-byte header keeps the size for realloc and the alignment */
	size_t need = ((size + 15) & ~(size_t)15) + 16;
	size_t off = __atomic_fetch_add(&mw_boot_used, need, __ATOMIC_RELAXED);

	if (size > MW_BOOT_SIZE || off + need > MW_BOOT_SIZE)
		return NULL;
	*(size_t *)(mw_boot + off) = size;
	return memset(mw_boot + off + 16, 0, size);	/* calloc semantics */
}

int mw_is_boot(const void *p)
{
	return (const char *)p >= mw_boot && (const char *)p < mw_boot + MW_BOOT_SIZE;
}

size_t mw_boot_size(const void *p)
{
	return *(const size_t *)((const char *)p - 16);
}

void *mw_next(const char *name)
{
	void *f;

	mw_guard++;
	f = dlsym(RTLD_NEXT, name);
	mw_guard--;
	return f;
}

void mw_hooks_init(void)
{
	static int done;

	if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
		return;
	mw_guard++;
	/* racing threads resolve the same values: harmless */
	mw_real.calloc = dlsym(RTLD_NEXT, "calloc");
	mw_real.free = dlsym(RTLD_NEXT, "free");
	mw_real.realloc = dlsym(RTLD_NEXT, "realloc");
	mw_real.posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
	mw_real.aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
	mw_real.memalign = dlsym(RTLD_NEXT, "memalign");
	mw_real.valloc = dlsym(RTLD_NEXT, "valloc");
	mw_real.pvalloc = dlsym(RTLD_NEXT, "pvalloc");
	/* last: a non-NULL malloc tells the wrappers the rest is there */
	__atomic_store_n(&mw_real.malloc, (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc"),
			 __ATOMIC_RELEASE);
	mw_guard--;
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
}

const char *mw_kind_alloc_name(unsigned kind)
{
	static const char *const n[] = { "malloc", "new", "new[]" };

	return kind < 3 ? n[kind] : "?";
}

const char *mw_kind_free_name(unsigned kind)
{
	static const char *const n[] = { "free()", "delete", "delete []" };

	return kind < 3 ? n[kind] : "?";
}
