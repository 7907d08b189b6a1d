/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memwatch_abi.h - the contract between memwatch.ko and its readers.
 *
 * Included by the module and by userspace, so it uses no kernel or libc
 * types. Every file under /proc/memwatch starts with
 *   "memwatch-<name> - version: <major>.<minor>"
 * then a "# col col ..." legend naming the columns. A reader refuses a major
 * version it does not know; minor bumps only ever append columns or lines.
 * Columns are never removed or renamed once shipped: a kernel that lacks a
 * figure prints 0 for it. A field that may contain spaces (comm) is always
 * the last column, so "split at most ncols-1 times" parses every line.
 *
 * Units are in the column name: *_kb are KiB, *_pages are pages, *_ns are
 * nanoseconds, *_pm are per mille; anything else is a plain count.
 */
#ifndef MEMWATCH_ABI_H
#define MEMWATCH_ABI_H

#define MW_VERSION		"0.1.0"
#define MW_FORMAT_MAJOR		1
#define MW_FORMAT_MINOR		0

#define MW_PROC_DIR		"memwatch"
#define MW_PROC_ROOT		"/proc/" MW_PROC_DIR

#define MW_FILE_STATUS		"status"
#define MW_FILE_TASKS		"tasks"
#define MW_FILE_THREADS		"threads"
#define MW_FILE_THREADS_PID	"threads_pid"
#define MW_FILE_NODES		"nodes"
#define MW_FILE_FRAG		"frag"
#define MW_FILE_EXTFRAG		"extfrag"
#define MW_FILE_SYS		"sys"
#define MW_FILE_RECLAIM		"reclaim"
#define MW_FILE_ALLOCFAIL	"allocfail"
#define MW_FILE_EVENTS		"events"

/* First line of every file: printf(MW_HEADER_FMT, name, major, minor). */
#define MW_HEADER_FMT		"memwatch-%s - version: %d.%d\n"

#endif /* MEMWATCH_ABI_H */
