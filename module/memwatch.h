/* SPDX-License-Identifier: GPL-2.0 */
/*
 * memwatch.h - what the module's files share: features and probe points.
 *
 * A feature (tasks, frag, sys, reclaim, allocfail) owns its /proc files,
 * its state and a table of probe points. main.c wires the features; probes.c
 * attaches their tables; status.c reports what attached and what did not.
 */
#ifndef MEMWATCH_H
#define MEMWATCH_H

#include <linux/kprobes.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "memwatch_abi.h"

enum mw_probe_kind {
	MW_TRACEPOINT,
	MW_KPROBE,
	MW_KRETPROBE,
};

struct mw_probe {
	/* Filled in by the feature. */
	const char *name;		/* tracepoint or kernel symbol */
	const char *alt_name;		/* its name on other kernels, or NULL */
	enum mw_probe_kind kind;
	void *tp_handler;		/* void fn(void *data, TP_PROTO...) */
	kprobe_pre_handler_t kp_pre;
	kretprobe_handler_t krp_entry;
	kretprobe_handler_t krp_ret;
	size_t krp_data_size;
	int krp_maxactive;		/* 0: kernel default */

	/* Filled in by mw_probes_attach(). */
	const char *attached_name;
	struct tracepoint *tp;
	struct kprobe kp;
	struct kretprobe krp;
	int err;			/* 0 when attached */
	const char *why;		/* why not attached, for status */
};

struct mw_feature {
	const char *name;
	/*
	 * Allocate state and create the feature's files under @dir. On failure
	 * it must undo its own work (remove its files) and return -errno; the
	 * feature is then reported as disabled and its probes are not attached.
	 */
	int (*init)(struct proc_dir_entry *dir);
	/* Called after all probes are detached and in-flight handlers done. */
	void (*exit)(void);
	/* Extra "name value" lines for status, prefixed "<feature>.". */
	void (*status_show)(struct seq_file *m);
	/* Bytes of memory the feature holds now. */
	size_t (*mem_bytes)(void);
	struct mw_probe *probes;
	unsigned int nr_probes;

	int init_err;			/* set by main.c */
};

int mw_probes_attach(struct mw_probe *probes, unsigned int n);
void mw_probes_detach(struct mw_probe *probes, unsigned int n);
bool mw_probe_attached(const struct mw_probe *p);
const char *mw_probe_kind_name(enum mw_probe_kind kind);
/* Address of a kernel symbol, or 0; for init-time lookups only. */
unsigned long mw_lookup_symbol(const char *name);

/* Every feature, in init order; defined in main.c. */
extern struct mw_feature *const mw_features[];
extern const unsigned int mw_nr_features;

int mw_status_init(struct proc_dir_entry *dir);

/* prctl(PR_SET_NAME) takes any bytes: keep one row per line in our files. */
static inline void mw_comm_sanitize(char *comm)
{
	for (; *comm; comm++)
		if ((unsigned char)*comm < ' ' || *comm == 0x7f)
			*comm = '?';
}

/*
 * current->comm without task_lock(): a probe handler may run in an interrupt
 * that arrived while current held its own task_lock, where get_task_comm()
 * (which takes it on 6.1) would deadlock. A concurrent rename can tear the
 * copy; the kernel's tracepoints accept the same and memcpy comm too.
 */
static inline void mw_current_comm(char *buf)
{
	memcpy(buf, current->comm, TASK_COMM_LEN);
	buf[TASK_COMM_LEN - 1] = '\0';
	mw_comm_sanitize(buf);
}

/* Prints the "memwatch-<name> - version: M.m" line every file starts with. */
static inline void mw_print_header(struct seq_file *m, const char *name)
{
	seq_printf(m, MW_HEADER_FMT, name, MW_FORMAT_MAJOR, MW_FORMAT_MINOR);
}

extern struct mw_feature mw_tasks_feature;
extern struct mw_feature mw_frag_feature;
extern struct mw_feature mw_sys_feature;
extern struct mw_feature mw_reclaim_feature;
extern struct mw_feature mw_allocfail_feature;
extern struct mw_feature mw_events_feature;

#endif /* MEMWATCH_H */
