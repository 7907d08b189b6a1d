// SPDX-License-Identifier: GPL-2.0
/*
 * memwatch - memory observability for Linux: per-task memory, buddy
 * fragmentation, reclaim and allocation failures, under /proc/memwatch.
 *
 * Notes on locking
 * ----------------
 * main.c takes no lock of its own. Load and unload are ordered so that no
 * lock is needed here:
 *   load:   proc directory and status -> each feature's init (its state and
 *           files) -> the feature's probes.
 *   unload: blocked readers of events are woken (mw_events_shutdown),
 *           the proc tree is removed (proc_remove() waits for readers
 *           in flight) -> every probe is detached -> tracepoint_synchronize_
 *           unregister() waits for handlers in flight -> each feature's exit
 *           frees its state.
 * So a handler never runs on freed state and a reader never sees a feature
 * half torn down. Each feature documents its own locks at the top of its
 * file.
 */
#include <linux/module.h>

#include "events.h"
#include "memwatch.h"

struct mw_feature *const mw_features[] = {
	&mw_events_feature,
	&mw_tasks_feature,
	&mw_frag_feature,
	&mw_sys_feature,
	&mw_reclaim_feature,
	&mw_allocfail_feature,
};
const unsigned int mw_nr_features = ARRAY_SIZE(mw_features);

static struct proc_dir_entry *mw_proc_dir;

static void mw_detach_all(void)
{
	unsigned int i;

	for (i = 0; i < mw_nr_features; i++) {
		struct mw_feature *f = mw_features[i];

		if (!f->init_err)
			mw_probes_detach(f->probes, f->nr_probes);
	}
	tracepoint_synchronize_unregister();
}

static void mw_exit_features(void)
{
	unsigned int i = mw_nr_features;

	while (i--) {
		struct mw_feature *f = mw_features[i];

		if (!f->init_err && f->exit)
			f->exit();
	}
}

static int __init memwatch_init(void)
{
	unsigned int i;
	int err;

	mw_proc_dir = proc_mkdir(MW_PROC_DIR, NULL);
	if (!mw_proc_dir)
		return -ENOMEM;
	err = mw_status_init(mw_proc_dir);
	if (err)
		goto err_status;

	for (i = 0; i < mw_nr_features; i++) {
		struct mw_feature *f = mw_features[i];

		f->init_err = f->init ? f->init(mw_proc_dir) : 0;
		if (f->init_err)
			pr_warn("memwatch: feature %s disabled: init failed (%d)\n",
				f->name, f->init_err);
	}
	for (i = 0; i < mw_nr_features; i++) {
		struct mw_feature *f = mw_features[i];

		if (!f->init_err)
			mw_probes_attach(f->probes, f->nr_probes);
	}
	pr_info("memwatch: loaded, version %s\n", MW_VERSION);
	return 0;

err_status:
	proc_remove(mw_proc_dir);
	return err;
}

static void __exit memwatch_exit(void)
{
	/* Readers blocked in events read() would hold proc_remove() up. */
	mw_events_shutdown();
	proc_remove(mw_proc_dir);
	mw_detach_all();
	mw_exit_features();
	pr_info("memwatch: unloaded\n");
}

module_init(memwatch_init);
module_exit(memwatch_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("memwatch developers");
MODULE_DESCRIPTION("Memory observability: tasks, fragmentation, reclaim, allocation failures");
MODULE_VERSION(MW_VERSION);
