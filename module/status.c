// SPDX-License-Identifier: GPL-2.0
/*
 * status.c - /proc/memwatch/status: versions, memory held, and for every
 * probe point whether it attached, or why not.
 */
#include <linux/utsname.h>

#include "memwatch.h"

static size_t status_mem_bytes(void)
{
	size_t total = 0;
	unsigned int i;

	for (i = 0; i < mw_nr_features; i++) {
		const struct mw_feature *f = mw_features[i];

		if (!f->init_err && f->mem_bytes)
			total += f->mem_bytes();
	}
	return total;
}

static void status_show_probes(struct seq_file *m, const struct mw_feature *f)
{
	unsigned int i;

	for (i = 0; i < f->nr_probes; i++) {
		const struct mw_probe *p = &f->probes[i];
		const char *name = p->attached_name ? p->attached_name : p->name;

		if (f->init_err) {
			seq_printf(m, "probe %s %s %s disabled feature init failed (%d)\n",
				   f->name, mw_probe_kind_name(p->kind), name,
				   f->init_err);
		} else if (mw_probe_attached(p)) {
			seq_printf(m, "probe %s %s %s attached -\n", f->name,
				   mw_probe_kind_name(p->kind), name);
		} else {
			seq_printf(m, "probe %s %s %s unavailable %s%s%s\n",
				   f->name, mw_probe_kind_name(p->kind), name,
				   p->why ? p->why : "not attached",
				   p->alt_name ? "; also tried " : "",
				   p->alt_name ? p->alt_name : "");
		}
	}
}

static int status_show(struct seq_file *m, void *v)
{
	unsigned int i;

	mw_print_header(m, MW_FILE_STATUS);
	seq_printf(m, "module_version %s\n", MW_VERSION);
	seq_printf(m, "format_version %d.%d\n", MW_FORMAT_MAJOR, MW_FORMAT_MINOR);
	seq_printf(m, "kernel_release %s\n", init_utsname()->release);
	seq_printf(m, "memory_held_bytes %zu\n", status_mem_bytes());
	for (i = 0; i < mw_nr_features; i++) {
		const struct mw_feature *f = mw_features[i];

		seq_printf(m, "%s.enabled %d\n", f->name, !f->init_err);
		if (f->init_err)
			continue;
		if (f->mem_bytes)
			seq_printf(m, "%s.memory_held_bytes %zu\n", f->name,
				   f->mem_bytes());
		if (f->status_show)
			f->status_show(m);
	}
	seq_puts(m, "# probe: feature kind name state detail\n");
	for (i = 0; i < mw_nr_features; i++)
		status_show_probes(m, mw_features[i]);
	return 0;
}

int mw_status_init(struct proc_dir_entry *dir)
{
	if (!proc_create_single(MW_FILE_STATUS, 0444, dir, status_show))
		return -ENOMEM;
	return 0;
}
