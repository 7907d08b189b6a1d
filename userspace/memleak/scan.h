/* scan.h - memcheck-style classification of the blocks live at exit. */
#ifndef MW_SCAN_H
#define MW_SCAN_H
#include <stddef.h>
#include "table.h"

enum mw_state {
	MW_UNREACHED,	/* transient */
	MW_DEFINITE,	/* nothing points to it */
	MW_INDIRECT,	/* only other lost blocks point to it */
	MW_POSSIBLE,	/* only interior pointers reach it */
	MW_REACHABLE,	/* a pointer to its start is reachable from a root */
	MW_NSTATES
};

#include <setjmp.h>
#include <stdint.h>

/* Taken on entry to the library's destructor, before it touches the stack:
 * the registers of the program's last frame, and where its stack ends. */
struct mw_roots {
	jmp_buf regs;
	uintptr_t sp;
};

/* Sorts blocks by address and sets each block's state. self: an address in
 * the library, whose own mappings are not roots. */
void mw_scan(struct mw_block *blocks, size_t n, const void *self, const struct mw_roots *r);

#endif
