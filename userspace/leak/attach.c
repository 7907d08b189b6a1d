/*
 * attach.c - the library's half of memwatch-leak -p: loaded into a running
 * process by the front-end (inject.c calls the target's own dlopen, then
 * memwatch_leak_attach), it routes the allocation functions through our
 * hooks by rewriting the GOT entries (JUMP_SLOT and GLOB_DAT relocations)
 * of every loaded object, and of every object dlopen() loads later.
 *
 * Symbols bound before we came cannot be interposed by the dynamic linker:
 * a dlopen'd object comes last in the lookup order. Rewriting the GOT is
 * what the dynamic linker itself would have written had we been preloaded.
 *
 * Attached, blocks carry no header (the headers are in a side table,
 * table.c): a block of ours is a block of the real allocator's, which any
 * real free() or realloc() takes, including one the program saved before
 * we came. So detach puts every GOT entry we rewrote back to what it held
 * (when it still holds our hook), and the hooks also go inert (state
 * ST_DONE): a pointer to a hook the program took while attached (&malloc
 * read through the GOT) keeps working, straight to the real functions.
 * The library stays loaded for that reason.
 */
#include "lib.h"
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

int mwl_attached;
uint32_t mwl_attach_birth;

static uintptr_t self_base;
static void *self_handle;
static void *(*real_dlopen)(const char *, int);
static _Atomic unsigned long n_patched_malloc;

/* every GOT entry we rewrote and what it held, for detach (arena memory) */
struct got_save {
	uintptr_t *slot;
	uintptr_t old, hook;
};
#define GOT_SAVE_MAX 8192
static struct got_save *saves;
static size_t n_saves;
static unsigned long n_restored, n_unsaved;

/* What we route; the descriptor calls only with --fds. */
static const char *const alloc_names[] = {
	"malloc", "free", "calloc", "realloc", "reallocarray", "cfree", "free_sized",
	"free_aligned_sized", "posix_memalign", "aligned_alloc", "memalign", "valloc",
	"pvalloc", "malloc_usable_size",
	"_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
	"_ZnwmSt11align_val_t", "_ZnamSt11align_val_t",
	"_ZnwmSt11align_val_tRKSt9nothrow_t", "_ZnamSt11align_val_tRKSt9nothrow_t",
	"_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm", "_ZdlPvRKSt9nothrow_t", "_ZdaPvRKSt9nothrow_t",
	"_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t", "_ZdlPvmSt11align_val_t",
	"_ZdaPvmSt11align_val_t", "_ZdlPvSt11align_val_tRKSt9nothrow_t",
	"_ZdaPvSt11align_val_tRKSt9nothrow_t",
	"dlclose",
};

static const char *const fd_names[] = {
	"open", "open64", "openat", "openat64", "creat", "creat64", "close", "close_range",
	"fopen", "fopen64", "fdopen", "fclose", "dup", "dup2", "dup3", "pipe", "pipe2",
	"socket", "socketpair", "accept", "accept4", "eventfd", "epoll_create",
	"epoll_create1", "memfd_create", "__open_2", "__open64_2", "__openat_2",
	"__openat64_2", "fcntl", "fcntl64", "timerfd_create", "signalfd", "inotify_init",
	"inotify_init1", "fanotify_init", "pidfd_open", "pidfd_getfd", "open_by_handle_at",
	"tmpfile", "tmpfile64", "freopen", "freopen64", "opendir", "closedir", "popen",
	"pclose", "posix_openpt", "getpt", "openpty", "recvmsg", "recvmmsg",
};

static void *hook_dlopen(const char *file, int mode);

/* our function for a symbol name, or NULL */
static void *hook_for(const char *name)
{
	if (!strcmp(name, "dlopen"))
		return (void *)hook_dlopen;
	size_t n = sizeof(alloc_names) / sizeof(alloc_names[0]);
	int found = 0;
	for (size_t i = 0; i < n && !found; i++)
		found = !strcmp(name, alloc_names[i]);
	if (!found && mwl_cfg.fds) {
		n = sizeof(fd_names) / sizeof(fd_names[0]);
		for (size_t i = 0; i < n && !found; i++)
			found = !strcmp(name, fd_names[i]);
	}
	if (!found)
		return NULL;
	void *p = dlsym(self_handle, name);
	Dl_info di;
	if (!p || !dladdr(p, &di) || (uintptr_t)di.dli_fbase != self_base)
		return NULL;	/* found in a library of ours, not in us */
	return p;
}

struct dyn_info {
	uintptr_t base;
	const ElfW(Sym) *symtab;
	const char *strtab;
	const ElfW(Rela) *rela[2];
	size_t relasz[2];
	uintptr_t relro_lo, relro_hi;
};

static uintptr_t dyn_ptr(uintptr_t base, ElfW(Addr) v)
{
	/* glibc relocates these in place where .dynamic is writable; not always */
	return v < base ? base + v : v;
}

static void set_word(const struct dyn_info *d, uintptr_t *slot, uintptr_t val)
{
	uintptr_t a = (uintptr_t)slot;
	int relro = a >= d->relro_lo && a < d->relro_hi;
	uintptr_t page = a & ~(uintptr_t)(getpagesize() - 1);
	if (relro && mprotect((void *)page, (size_t)getpagesize(), PROT_READ | PROT_WRITE))
		return;
	/* one aligned store: a thread calling through it sees old or new */
	__atomic_store_n(slot, val, __ATOMIC_RELEASE);
	if (relro)
		mprotect((void *)page, (size_t)getpagesize(), PROT_READ);
}

/*
 * Functions that take a block back: routed in a first pass over every
 * object, so that no block a hook hands out can reach a real free() through
 * an entry not yet rewritten. (Before the second pass they only see blocks
 * without headers, which they pass through.)
 */
static int takes_back(const char *name)
{
	return !strncmp(name, "_Zd", 3) || strstr(name, "free") || strstr(name, "realloc") ||
	       strstr(name, "close") || !strcmp(name, "malloc_usable_size");
}

static void patch_object(const struct dl_phdr_info *info, int pass)
{
	struct dyn_info d;
	memset(&d, 0, sizeof(d));
	d.base = info->dlpi_addr;
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(d.base + ph->p_vaddr);
		else if (ph->p_type == PT_GNU_RELRO) {
			d.relro_lo = d.base + ph->p_vaddr;
			d.relro_hi = d.relro_lo + ph->p_memsz;
		}
	}
	if (!dyn)
		return;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB: d.symtab = (const void *)dyn_ptr(d.base, dyn->d_un.d_ptr); break;
		case DT_STRTAB: d.strtab = (const void *)dyn_ptr(d.base, dyn->d_un.d_ptr); break;
		case DT_JMPREL: d.rela[0] = (const void *)dyn_ptr(d.base, dyn->d_un.d_ptr); break;
		case DT_PLTRELSZ: d.relasz[0] = dyn->d_un.d_val; break;
		case DT_RELA: d.rela[1] = (const void *)dyn_ptr(d.base, dyn->d_un.d_ptr); break;
		case DT_RELASZ: d.relasz[1] = dyn->d_un.d_val; break;
		}
	}
	if (!d.symtab || !d.strtab)
		return;
	for (int t = 0; t < 2; t++) {
		if (!d.rela[t])
			continue;
		size_t n = d.relasz[t] / sizeof(ElfW(Rela));
		for (size_t i = 0; i < n; i++) {
			const ElfW(Rela) *r = &d.rela[t][i];
			unsigned type = ELF64_R_TYPE(r->r_info);
			if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
				continue;
			const ElfW(Sym) *s = &d.symtab[ELF64_R_SYM(r->r_info)];
			if (!s->st_name)
				continue;
			const char *name = d.strtab + s->st_name;
			if (takes_back(name) != (pass == 0))
				continue;
			void *hook = hook_for(name);
			if (!hook)
				continue;
			uintptr_t *slot = (uintptr_t *)(d.base + r->r_offset);
			if (*slot != (uintptr_t)hook) {
				if (saves && n_saves < GOT_SAVE_MAX)
					saves[n_saves++] = (struct got_save){ slot, *slot, (uintptr_t)hook };
				else
					n_unsaved++;
				set_word(&d, slot, (uintptr_t)hook);
			}
			if (!strcmp(name, "malloc"))
				atomic_fetch_add(&n_patched_malloc, 1);
		}
	}
}

/*
 * Detach: entries of objects still loaded (a dlclose()d object's GOT is
 * gone) that still hold our hook get their old value back.
 */
static int restore_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size, (void)arg;
	struct dyn_info d;
	memset(&d, 0, sizeof(d));
	d.base = info->dlpi_addr;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t a = d.base + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
			if (a < lo)
				lo = a;
			if (a + ph->p_memsz > hi)
				hi = a + ph->p_memsz;
		} else if (ph->p_type == PT_GNU_RELRO) {
			d.relro_lo = a;
			d.relro_hi = a + ph->p_memsz;
			if (a < lo)
				lo = a;
		}
	}
	for (size_t i = 0; i < n_saves; i++) {
		struct got_save *g = &saves[i];
		if ((uintptr_t)g->slot < lo || (uintptr_t)g->slot >= hi || !g->slot)
			continue;
		if (__atomic_load_n(g->slot, __ATOMIC_RELAXED) == g->hook) {
			set_word(&d, g->slot, g->old);
			n_restored++;
		}
		g->slot = NULL;
	}
	return 0;
}

static void restore_all(void)
{
	mwl_busy++;
	n_restored = 0;
	dl_iterate_phdr(restore_cb, NULL);
	n_saves = 0;
	mwl_busy--;
}

static int patch_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	if (info->dlpi_addr == self_base)
		return 0;	/* our own calls must reach the real functions */
	const char *name = info->dlpi_name ? info->dlpi_name : "";
	if (strstr(name, "linux-vdso") || strstr(name, "/ld-linux"))
		return 0;	/* ld.so allocates through its own pointers to libc */
	patch_object(info, *(int *)arg);
	return 0;
}

static void patch_all(void)
{
	mwl_busy++;
	for (int pass = 0; pass < 2; pass++)
		dl_iterate_phdr(patch_cb, &pass);
	mwl_busy--;
}

/*
 * Objects loaded later get our entries too. Not exported: reached only
 * through the GOT entries we wrote, so a preloaded library leaves dlopen
 * alone. (dlopen looks up a bare name with its caller's RUNPATH, which is
 * now ours: Documentation/leak.md, limits.)
 */
static void *hook_dlopen(const char *file, int mode)
{
	void *h = real_dlopen(file, mode);
	/* detached, only a pointer taken while attached leads here: leave the GOT alone */
	if (h && mwl_attached && atomic_load(&mwl_state) == ST_READY)
		patch_all();
	return h;
}

static void resolve_real(void)
{
	/* we are not in the global scope (RTLD_LOCAL): this is the program's allocator */
#define R(field, name) (*(void **)&mwl_real.field = dlsym(RTLD_DEFAULT, name))
	R(malloc, "malloc");
	R(free, "free");
	R(calloc, "calloc");
	R(realloc, "realloc");
	R(posix_memalign, "posix_memalign");
	R(aligned_alloc, "aligned_alloc");
	R(memalign, "memalign");
	R(valloc, "valloc");
	R(pvalloc, "pvalloc");
	R(malloc_usable_size, "malloc_usable_size");
	R(op_new, "_Znwm");
	R(op_new_array, "_Znam");
	R(op_new_al, "_ZnwmSt11align_val_t");
	R(op_new_array_al, "_ZnamSt11align_val_t");
#undef R
}

static int in_main_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	uintptr_t *a = arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && *a >= lo && *a < lo + ph->p_memsz)
			*a = 1;
	}
	return 1;	/* the first object is the executable */
}

/*
 * An allocator linked into the executable itself is called directly by
 * the executable's code, with no GOT entry between: it cannot be hooked.
 */
static int malloc_in_executable(void)
{
	uintptr_t a = (uintptr_t)dlsym(RTLD_DEFAULT, "malloc");
	if (!a)
		return 0;
	dl_iterate_phdr(in_main_cb, &a);
	return a == 1;
}

/*
 * A block freed behind our back (the program's own pointer to the real
 * free(), saved before the attach) leaves a stale entry in the table. The
 * report asks glibc's chunk headers whether the block is still allocated,
 * reading through process_vm_readv (a freed large block is unmapped: an
 * EFAULT, not a SIGSEGV). Gone: its page is unmapped; it holds tcache's
 * key (in a tcache bin); the size field in front of it is not one glibc
 * gives a block of its size (the address is inside another chunk now, or
 * in a mapping of another shape); the next chunk says it is free (in a
 * bin). What this cannot see: a block in a fastbin (chunks of up to 128
 * bytes once the thread's tcache bin is full), merged into the top chunk,
 * or allocated again at the same address by the program's own saved
 * malloc(); those are listed until the address is ours again
 * (Documentation/leak.md).
 */
static uintptr_t tcache_key;	/* glibc's (2.34+) mark in freed tcache chunks */
static int can_read_self;	/* process_vm_readv works here (seccomp may forbid it) */

static int read_self(uintptr_t addr, void *buf, size_t n)
{
	struct iovec local = { buf, n }, remote = { (void *)addr, n };
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n;
}

static void learn_tcache_key(void)
{
	uintptr_t probe = 1, got = 0;
	can_read_self = read_self((uintptr_t)&probe, &got, sizeof(got)) && got == 1;
	volatile uintptr_t *p = mwl_real.malloc(3 * sizeof(uintptr_t));
	if (!p)
		return;
	p[1] = 0;
	mwl_real.free((void *)p);
	uintptr_t k;
	if (read_self((uintptr_t)(p + 1), &k, sizeof(k)))
		tcache_key = k;
}

int mwl_block_gone(uintptr_t p, size_t n)
{
	/* the chunk's prev_size and size fields, the block's first two words */
	uintptr_t w[4];
	const size_t page = 4096;
	if (!can_read_self)
		return 0;	/* cannot tell: listed, as before the check */
	if (!read_self(p - 2 * sizeof(uintptr_t), w, sizeof(w)))
		return 1;
	if (tcache_key && w[3] == tcache_key)
		return 1;
	size_t head = w[1], csize = head & ~(size_t)7;
	if (csize < n + sizeof(uintptr_t) || (csize & 15))
		return 1;	/* not a chunk that holds it */
	if (head & 2) {	/* IS_MMAPPED: its own mapping, whole pages from its start */
		uintptr_t start = p - 2 * sizeof(uintptr_t) - w[0];
		return ((start | (w[0] + csize)) & (page - 1)) || (head & 4);
	}
	/* what glibc gives for max(n, 16) bytes, or a little more (a split's rest) */
	size_t want = ((n < 16 ? 16 : n) + sizeof(uintptr_t) + 15) & ~(size_t)15;
	if (want < 32)
		want = 32;
	if (csize > want + 32 && csize > 64)
		return 1;
	uintptr_t next;
	if (!read_self(p - 2 * sizeof(uintptr_t) + csize + sizeof(uintptr_t), &next, sizeof(next)))
		return 1;
	return !(next & 1);	/* the next chunk's PREV_INUSE */
}

/* "key=value" fields separated by spaces */
static unsigned field(const char *cfg, const char *key, unsigned dflt)
{
	size_t k = strlen(key);
	for (const char *p = cfg; p && *p; p = strchr(p, ' '), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, k) && p[k] == '=')
			return (unsigned)strtoul(p + k + 1, NULL, 10);
	return dflt;
}

/*
 * Called by the front-end through ptrace, on a thread it stopped at a safe
 * point. cfg: "dir=PATH depth=N interval=N min_age=N fds=0|1" (dir last:
 * the rest of the string). Returns the number of GOT entries for malloc
 * now routed through us (0: nothing to hook), -2 if malloc is the
 * executable's own, or -1 on error.
 */
MWL_EXPORT long memwatch_leak_attach(const char *cfg)
{
	static int started;
	const char *dir = strstr(cfg, "dir=");
	if (!dir || strlen(dir + 4) >= sizeof(mwl_cfg.dump_dir))
		return -1;
	if (malloc_in_executable())
		return -2;
	mwl_busy++;
	Dl_info di;
	if (!self_base && dladdr((void *)memwatch_leak_attach, &di)) {
		self_base = (uintptr_t)di.dli_fbase;
		self_handle = dlopen(di.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_LOCAL);
	}
	if (!self_handle) {
		mwl_busy--;
		return -1;
	}
	strcpy(mwl_cfg.dump_dir, dir + 4);
	unsigned depth = field(cfg, "depth", MWL_DEFAULT_DEPTH);
	mwl_cfg.depth = depth < 1 ? 1 : depth > MWL_MAX_DEPTH ? MWL_MAX_DEPTH : (int)depth;
	mwl_cfg.interval = field(cfg, "interval", 0);
	mwl_cfg.min_age = field(cfg, "min_age", 0);
	mwl_cfg.fds = (int)field(cfg, "fds", 0);
	mwl_cfg.signal = 0;
	mwl_cfg.follow_fork = mwl_cfg.follow_exec = 0;
	mwl_cfg.enabled = 1;
	mwl_attached = 1;
	/* a fresh second: blocks of an earlier attach are not this one's */
	mwl_attach_birth = atomic_load(&mwl_now) + 2;
	atomic_store(&mwl_now, mwl_attach_birth);
	if (!started) {
		mwl_side = 1;	/* before the first block: no headers in front */
		resolve_real();
		*(void **)&real_dlopen = dlsym(RTLD_DEFAULT, "dlopen");
		started = 1;
		mwl_busy++;	/* mwl_start_tracking drops one */
		mwl_start_tracking();
	} else {
		if (mwl_cfg.fds)	/* what is open now is not this attach's */
			mwl_fd_init();
		atomic_store(&mwl_state, ST_READY);
	}
	if (atomic_load(&mwl_state) != ST_READY) {
		mwl_busy--;
		return -1;
	}
	/* the reporter also keeps mwl_now, which --min-age needs */
	if (!mwl_cfg.interval && !mwl_cfg.signal)
		mwl_reporter_start();
	atomic_store(&n_patched_malloc, 0);
	if (!saves)
		saves = mwl_arena_alloc(sizeof(*saves) * GOT_SAVE_MAX);
	n_saves = 0;
	n_unsaved = 0;
	learn_tcache_key();
	mwl_busy--;
	patch_all();
	return (long)atomic_load(&n_patched_malloc);
}

/*
 * The final report (kind "detach"), then the hooks go inert. Returns 0.
 * The reporter thread sees the state change and ends within 100 ms.
 */
MWL_EXPORT long memwatch_leak_detach(void)
{
	if (atomic_load(&mwl_state) != ST_READY)
		return -1;
	mwl_report_periodic("detach");
	atomic_store(&mwl_state, ST_DONE);
	restore_all();
	return 0;
}

/* the program exits while we are attached */
void mwl_attach_exit(void)
{
	mwl_report_periodic("detach");
	atomic_store(&mwl_state, ST_DONE);
}
