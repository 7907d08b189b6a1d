/* symbols.h - return addresses to function and file:line, with libdw. */
#ifndef MW_SYMBOLS_H
#define MW_SYMBOLS_H
#include <stdint.h>

struct mw_frame {
	uintptr_t addr;
	const char *func;	/* demangled; valid until the next lookup */
	const char *file;	/* full path as in DWARF, or NULL */
	int line;
	const char *module;	/* object file name, or NULL */
	uintptr_t offset;	/* addr - module base */
};

/* Reports the process's current mappings; 0 on success. */
int mw_sym_begin(void);
void mw_sym_lookup(void *addr, struct mw_frame *f);
void mw_sym_end(void);

#endif
