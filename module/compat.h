/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - every difference between supported kernels, in one place.
 *
 * Supported: Debian 6.1 (bookworm) and 6.12 (bookworm-backports). Feature
 * code calls the mw_* helpers below and stays free of version checks. Each
 * entry says which kernels differ and how the difference was checked.
 */
#ifndef MEMWATCH_COMPAT_H
#define MEMWATCH_COMPAT_H

#include <linux/version.h>

/* --- tasks --- */

/* --- frag --- */

/* --- sys --- */

/* --- reclaim --- */

/* --- allocfail --- */

#endif /* MEMWATCH_COMPAT_H */
