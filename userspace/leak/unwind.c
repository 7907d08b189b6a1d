/*
 * unwind.c - the fast unwinder for x86-64: call-frame rules read once per
 * return address with libdw, then kept in a lock-free table, so a known
 * call path costs one table probe and two loads per frame.
 *
 * Why not libunwind alone: its per-thread trace cache costs ~90 ns per
 * stack on a five-frame path (context copy, cursor set-up, a TLS call and a
 * cache probe per frame), as much as the malloc/free pair being traced.
 * libunwind stays the fallback for every frame this table cannot describe:
 * signal frames, CFA expressions, code without CFI (JIT), the vDSO, frames
 * that do not move the stack pointer up, and a full table. The test suite
 * runs with MEMWATCH_LEAK_UNWIND=check, which compares every stack with
 * libunwind's.
 *
 * The rules: CFA = rsp or rbp + offset; return address at CFA - 8; rbp
 * saved at CFA + offset or unchanged. That is what GCC and Clang emit for
 * every ordinary function on x86-64, and all glibc needs outside its
 * signal trampoline.
 */
#include "lib.h"
#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <gelf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <elfutils/libdw.h>
#include <dwarf.h>

#if defined(__x86_64__) && defined(DLFO_STRUCT_HAS_EH_DBASE)

enum rule_kind { RULE_SP = 1, RULE_BP, RULE_END, RULE_SLOW };

/* key: return address, 0 = empty; val: kind | bp offset << 8 | cfa offset << 32 */
struct rule {
	_Atomic uint64_t key;
	_Atomic uint64_t val;
};

#define RULE_CAP (1u << 15)
#define MOD_MAX 128
#define DWARF_RBP 6
#define DWARF_RSP 7
#define DWARF_RA 16

struct module {
	uintptr_t start, end, bias;
	Elf *elf;
	Dwarf_CFI *cfi;
	int bad;	/* no usable file: every rule in it is RULE_SLOW */
};

static struct rule *rules;
static _Atomic uint32_t rules_gen;	/* bumped when dlclose() empties the table */

/*
 * The thread's previous walk, frame by frame (mwl_tcache()->walk): a rule
 * depends on the address only, so a frame at the same depth with the same
 * address reuses it without a probe. Loops that allocate walk the same
 * path again and again.
 */
#define WALK_MAX MWL_WALK_MAX
static uint32_t rules_used;
static struct module mods[MOD_MAX];
static int nmods;
static atomic_flag unwind_lock_flag = ATOMIC_FLAG_INIT;

/* held while a file is read: waiters yield rather than spin */
static void unwind_lock(void)
{
	while (atomic_flag_test_and_set_explicit(&unwind_lock_flag, memory_order_acquire))
		sched_yield();
}

static void unwind_unlock(void)
{
	atomic_flag_clear_explicit(&unwind_lock_flag, memory_order_release);
}

void mwl_unwind_init(void)
{
	rules = mwl_arena_alloc(sizeof(*rules) * RULE_CAP);
	elf_version(EV_CURRENT);
}

void mwl_unwind_fork_prepare(void)
{
	unwind_lock();
}

void mwl_unwind_fork_done(void)
{
	unwind_unlock();
}

static inline uint32_t rule_slot(uintptr_t ip)
{
	return (uint32_t)((ip * 0x9E3779B97F4A7C15ull) >> 40) & (RULE_CAP - 1);
}

/*
 * A seqlock per slot: a slot is only rewritten after dlclose() empties the
 * table, so a reader that sees the same key before and after reading the
 * value has a value that belongs to it.
 */
static inline int rule_find(uintptr_t ip, uint64_t *val)
{
	for (uint32_t i = rule_slot(ip);; i = (i + 1) & (RULE_CAP - 1)) {
		uint64_t k = atomic_load_explicit(&rules[i].key, memory_order_acquire);
		if (!k)
			return 0;
		if (k != ip)
			continue;
		*val = atomic_load_explicit(&rules[i].val, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		return atomic_load_explicit(&rules[i].key, memory_order_relaxed) == ip;
	}
}

/* caller holds the lock; a full table keeps what it has (misses go slow) */
static void rule_put(uintptr_t ip, uint64_t val)
{
	if (rules_used >= RULE_CAP / 4 * 3)
		return;
	uint32_t i = rule_slot(ip);
	for (;; i = (i + 1) & (RULE_CAP - 1)) {
		uint64_t k = atomic_load_explicit(&rules[i].key, memory_order_relaxed);
		if (k == ip)
			return;
		if (!k)
			break;
	}
	atomic_store_explicit(&rules[i].val, val, memory_order_relaxed);
	atomic_store_explicit(&rules[i].key, ip, memory_order_release);
	rules_used++;
}

static int sys_open(const char *path)
{
	/* not through our own open() hook, nor anyone else's */
	return (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
}

/*
 * The file must be the one that is mapped: its eh_frame_hdr (the index of
 * the CFI) must equal the loaded one byte for byte, or a binary replaced on
 * disk since it was loaded would give rules for other code.
 */
static int eh_frame_matches(Elf *elf, uintptr_t bias, const void *loaded)
{
	size_t nph;
	if (elf_getphdrnum(elf, &nph) < 0)
		return 0;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_GNU_EH_FRAME)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_BYTE);
		return d && (const void *)(bias + ph.p_vaddr) == loaded &&
		       d->d_size == ph.p_filesz && !memcmp(d->d_buf, loaded, d->d_size);
	}
	return 0;
}

static void module_open(struct module *m, const struct dl_find_object *fo)
{
	const char *name = fo->dlfo_link_map->l_name;
	int fd = sys_open(name && *name ? name : "/proc/self/exe");
	m->bad = 1;
	if (fd < 0)
		return;
	/*
	 * Read, not mapped: a second mapping of the file would be taken for the
	 * loaded module by whoever reads /proc/PID/maps (our front-end too).
	 * Only the headers and the CFI sections are read; once the CFI is set
	 * up the descriptor is no longer needed.
	 */
	m->elf = elf_begin(fd, ELF_C_READ, NULL);
	if (m->elf) {
		if (eh_frame_matches(m->elf, m->bias, fo->dlfo_eh_frame))
			m->cfi = dwarf_getcfi_elf(m->elf);
		elf_cntl(m->elf, ELF_C_FDDONE);
		m->bad = !m->cfi;
	}
	syscall(SYS_close, fd);
}

static struct module *module_of(uintptr_t ip)
{
	struct dl_find_object fo;
	if (_dl_find_object((void *)ip, &fo) < 0 || !fo.dlfo_eh_frame)
		return NULL;
	for (int i = 0; i < nmods; i++)
		if (mods[i].start == (uintptr_t)fo.dlfo_map_start &&
		    mods[i].end == (uintptr_t)fo.dlfo_map_end)
			return mods[i].bad ? NULL : &mods[i];
	if (nmods == MOD_MAX)
		return NULL;
	struct module *m = &mods[nmods++];
	*m = (struct module){
		.start = (uintptr_t)fo.dlfo_map_start,
		.end = (uintptr_t)fo.dlfo_map_end,
		.bias = fo.dlfo_link_map->l_addr,
	};
	module_open(m, &fo);
	return m->bad ? NULL : m;
}

/* "saved at CFA + off": [DW_OP_call_frame_cfa, DW_OP_plus_uconst off] */
static int cfa_relative(const Dwarf_Op *ops, size_t n, int64_t *off)
{
	if (n == 1 && ops[0].atom == DW_OP_call_frame_cfa) {
		*off = 0;
		return 1;
	}
	if (n == 2 && ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom == DW_OP_plus_uconst) {
		*off = (int64_t)ops[1].number;
		return 1;
	}
	return 0;
}

static uint64_t rule_val(int kind, int64_t cfa_off, int64_t bp_off)
{
	return (uint64_t)kind | (uint64_t)(uint16_t)bp_off << 8 |
	       (uint64_t)(uint32_t)cfa_off << 32;
}

static uint64_t rule_compute(struct module *m, uintptr_t ip)
{
	uint64_t slow = rule_val(RULE_SLOW, 0, 0);
	Dwarf_Frame *fr;
	/* a return address: the call is the byte before it */
	if (!m || dwarf_cfi_addrframe(m->cfi, ip - 1 - m->bias, &fr) != 0)
		return slow;
	uint64_t val = slow;
	bool signal;
	Dwarf_Op mem[3], *ops;
	size_t n;
	int64_t cfa_off, bp_off = 0, ra_off;
	int kind;
	if (dwarf_frame_info(fr, NULL, NULL, &signal) != DWARF_RA || signal)
		goto out;
	if (dwarf_frame_cfa(fr, &ops, &n) != 0 || n != 1 || ops[0].atom != DW_OP_bregx)
		goto out;
	if (ops[0].number == DWARF_RSP)
		kind = RULE_SP;
	else if (ops[0].number == DWARF_RBP)
		kind = RULE_BP;
	else
		goto out;
	cfa_off = (int64_t)ops[0].number2;
	if (cfa_off <= 0 || cfa_off > INT32_MAX)
		goto out;
	if (dwarf_frame_register(fr, DWARF_RA, mem, &ops, &n) != 0)
		goto out;
	if (n == 0 && ops == mem) {
		val = rule_val(RULE_END, 0, 0);	/* RA undefined: outermost frame */
		goto out;
	}
	if (!cfa_relative(ops, n, &ra_off) || ra_off != -8)
		goto out;
	if (dwarf_frame_register(fr, DWARF_RBP, mem, &ops, &n) != 0)
		goto out;
	/* n == 0: unchanged (same value, or undefined as libunwind reads it) */
	if (n && (!cfa_relative(ops, n, &bp_off) || bp_off >= 0 || bp_off < INT16_MIN))
		goto out;
	val = rule_val(kind, cfa_off, bp_off);
out:
	free(fr);
	return val;
}

static uint64_t rule_learn(uintptr_t ip)
{
	uint64_t val;
	unwind_lock();
	if (!rule_find(ip, &val)) {
		val = rule_compute(module_of(ip), ip);
		rule_put(ip, val);
	}
	unwind_unlock();
	return val;
}

/* dlclose() may unmap code whose addresses the table knows */
MWL_EXPORT int dlclose(void *handle)
{
	static int (*real_dlclose)(void *);
	if (!real_dlclose) {
		mwl_busy++;
		*(void **)&real_dlclose = dlsym(RTLD_NEXT, "dlclose");
		mwl_busy--;
	}
	if (mwl_cfg.enabled) {
		mwl_busy++;
		mwl_module_closing(handle);
		mwl_busy--;
	}
	int ret = real_dlclose(handle);
	if (!rules)
		return ret;
	mwl_busy++;
	unwind_lock();
	for (uint32_t i = 0; i < RULE_CAP; i++)
		atomic_store_explicit(&rules[i].key, 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	rules_used = 0;
	atomic_fetch_add_explicit(&rules_gen, 1, memory_order_release);
	for (int i = 0; i < nmods; i++) {
		if (mods[i].cfi)
			dwarf_cfi_end(mods[i].cfi);
		if (mods[i].elf)
			elf_end(mods[i].elf);
	}
	nmods = 0;
	unwind_unlock();
	mwl_busy--;
	return ret;
}

/*
 * Walks from the state right after a call returned to (ip, sp, bp) and
 * stores up to max return addresses that are not our own. Returns how many,
 * or -1 when a frame needs libunwind.
 */
int mwl_unwind(uintptr_t ip, uintptr_t sp, uintptr_t bp, uintptr_t *ips, int max)
{
	int n = 0, depth = 0;
	if (!rules)
		return -1;
	struct mwl_tcache *tc = mwl_tcache(), spare;
	if (!tc) {	/* no cache (an exiting thread): the same walk, remembered nowhere */
		tc = &spare;
		tc->walk.n = 0;
	}
	uint32_t gen = atomic_load_explicit(&rules_gen, memory_order_acquire);
	if (tc->walk.gen != gen) {
		tc->walk.gen = gen;
		tc->walk.n = 0;
	}
	while (n < max && depth < WALK_MAX) {
		uint64_t val;
		if (depth < tc->walk.n && tc->walk.ip[depth] == ip) {
			val = tc->walk.val[depth];
		} else {
			if (!rule_find(ip, &val))
				val = rule_learn(ip);
			tc->walk.ip[depth] = ip;
			tc->walk.val[depth] = val;
			tc->walk.n = depth + 1;
		}
		depth++;
		int kind = (int)(val & 0xff);
		if (kind == RULE_SLOW)
			return -1;
		if (ip < mwl_self_text_lo || ip >= mwl_self_text_hi)
			ips[n++] = ip;
		if (kind == RULE_END)
			break;
		uintptr_t cfa = (kind == RULE_SP ? sp : bp) + (uint32_t)(val >> 32);
		int16_t bp_off = (int16_t)(val >> 8);
		/* a frame must move up the stack, and not by a gigabyte */
		if (cfa <= sp || cfa - sp > (1u << 30) || (cfa & 7))
			return -1;
		if (bp_off)
			bp = *(const uintptr_t *)(cfa + bp_off);
		ip = *(const uintptr_t *)(cfa - 8);
		sp = cfa;
		if (!ip)
			break;
	}
	return n;
}

#else

void mwl_unwind_init(void)
{
}

void mwl_unwind_fork_prepare(void)
{
}

void mwl_unwind_fork_done(void)
{
}

int mwl_unwind(uintptr_t ip, uintptr_t sp, uintptr_t bp, uintptr_t *ips, int max)
{
	(void)ip, (void)sp, (void)bp, (void)ips, (void)max;
	return -1;
}

#endif
