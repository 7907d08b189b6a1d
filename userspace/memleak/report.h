/* report.h - the leak report at exit and mismatched deallocations. */
#ifndef MW_REPORT_H
#define MW_REPORT_H
#include "scan.h"
#include "table.h"

/* A block allocated with old->kind released by the free_kind family. */
void mw_report_mismatch(const struct mw_block *old, unsigned free_kind, struct mw_stack *freed_at);
/* Stops tracking, classifies, prints (text or JSON). */
void mw_report_final(const struct mw_roots *roots);

/* fd_wrap.c: descriptors still open, for the report */
struct mw_fd_leak {
	int fd;
	struct mw_stack *stack;
};
size_t mw_fd_leaks(struct mw_fd_leak *out, size_t cap);

#endif
