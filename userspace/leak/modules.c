/*
 * modules.c - what the front-end needs to symbolise code that dlclose()
 * unloads before the report: its path, load bias, address range and
 * build-id, noted just before the real dlclose() runs (the object is still
 * mapped then). Nothing on the allocation path: a stack keeps raw return
 * addresses, and the front-end reads the file's debug information at report
 * time, checking that its build-id is still the one that was loaded
 * (valgrind's --keep-debuginfo=yes).
 */
#include "lib.h"
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>

#define MOD_MAX 256
#define BUILD_ID_MAX 64

struct mwl_module {
	uintptr_t lo, hi, bias;
	uint8_t build_id[BUILD_ID_MAX];
	int build_id_len;
	char path[512];
};

static struct mwl_module *mods;
static int n_mods;
static atomic_flag mods_lock = ATOMIC_FLAG_INIT;

struct find {
	uintptr_t bias;
	struct mwl_module m;
	int found;
};

static void build_id_of(struct dl_phdr_info *info, const ElfW(Phdr) *ph, struct mwl_module *m)
{
	const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
	while (p + sizeof(ElfW(Nhdr)) <= end) {
		const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
		const char *name = p + sizeof(*n);
		const char *desc = name + ((n->n_namesz + 3) & ~3u);
		if (desc + n->n_descsz > end)
			return;
		if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && !memcmp(name, "GNU", 4) &&
		    n->n_descsz <= BUILD_ID_MAX) {
			memcpy(m->build_id, desc, n->n_descsz);
			m->build_id_len = (int)n->n_descsz;
			return;
		}
		p = desc + ((n->n_descsz + 3) & ~3u);
	}
}

static int find_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct find *f = arg;
	if (info->dlpi_addr != f->bias || !info->dlpi_name || !*info->dlpi_name)
		return 0;
	struct mwl_module *m = &f->m;
	m->bias = f->bias;
	m->lo = UINTPTR_MAX;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD) {
			uintptr_t a = info->dlpi_addr + ph->p_vaddr;
			if (a < m->lo)
				m->lo = a;
			if (a + ph->p_memsz > m->hi)
				m->hi = a + ph->p_memsz;
		} else if (ph->p_type == PT_NOTE && !m->build_id_len) {
			build_id_of(info, ph, m);
		}
	}
	size_t n = strlen(info->dlpi_name);
	if (n >= sizeof(m->path) || memchr(info->dlpi_name, '\n', n))
		return 1;	/* cannot be written in the dump: left unknown */
	memcpy(m->path, info->dlpi_name, n + 1);
	f->found = m->lo < m->hi;
	return 1;
}

void mwl_module_closing(void *handle)
{
	struct link_map *lm = NULL;
	if (!handle || dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
		return;
	static struct find f;	/* under mods_lock */
	while (atomic_flag_test_and_set_explicit(&mods_lock, memory_order_acquire))
		;
	if (!mods)
		mods = mwl_arena_alloc(sizeof(*mods) * MOD_MAX);
	memset(&f, 0, sizeof(f));
	f.bias = lm->l_addr;
	dl_iterate_phdr(find_cb, &f);
	int dup = 0;
	for (int i = 0; f.found && i < n_mods && !dup; i++)
		dup = mods[i].bias == f.m.bias && mods[i].hi == f.m.hi && !strcmp(mods[i].path, f.m.path);
	if (mods && f.found && !dup && n_mods < MOD_MAX)
		mods[n_mods++] = f.m;
	atomic_flag_clear_explicit(&mods_lock, memory_order_release);
}

/* "unloaded LO HI BIAS BUILD-ID|- PATH" lines, oldest first */
void mwl_modules_write(struct mwl_out *o)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < n_mods; i++) {
		const struct mwl_module *m = &mods[i];
		mwl_out_str(o, "unloaded ");
		mwl_out_hex(o, m->lo);
		mwl_out_ch(o, ' ');
		mwl_out_hex(o, m->hi);
		mwl_out_ch(o, ' ');
		mwl_out_hex(o, m->bias);
		mwl_out_ch(o, ' ');
		for (int k = 0; k < m->build_id_len; k++) {
			mwl_out_ch(o, hex[m->build_id[k] >> 4]);
			mwl_out_ch(o, hex[m->build_id[k] & 15]);
		}
		if (!m->build_id_len)
			mwl_out_ch(o, '-');
		mwl_out_ch(o, ' ');
		mwl_out_str(o, m->path);
		mwl_out_ch(o, '\n');
	}
}
