/* track.h - the step every allocation wrapper shares. */
#ifndef MW_TRACK_H
#define MW_TRACK_H
#include <stddef.h>

/* Records p (if non-NULL, tracking on, not inside the library); returns p. */
void *mw_track(void *p, size_t size, unsigned kind);
/* Forgets p; reports a mismatched deallocation of kind free_kind. */
void mw_untrack(void *p, unsigned free_kind);

static inline int mw_guard_enter(void)
{
	extern __thread int mw_guard __attribute__((tls_model("initial-exec")));

	return ++mw_guard;
}

/* for __attribute__((cleanup)): undone even when operator new throws */
static inline void mw_guard_leave(int *unused)
{
	extern __thread int mw_guard __attribute__((tls_model("initial-exec")));

	(void)unused;
	mw_guard--;
}

#define MW_GUARDED int mw_g_ __attribute__((cleanup(mw_guard_leave), unused)) = mw_guard_enter()

#endif
