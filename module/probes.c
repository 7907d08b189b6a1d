// SPDX-License-Identifier: GPL-2.0
/*
 * probes.c - attach and detach a feature's table of probe points.
 *
 * Tracepoints are looked up by name with for_each_kernel_tracepoint(),
 * because most mm tracepoints are not exported to modules. A probe point
 * that a kernel lacks is recorded with the reason and skipped: it disables
 * what it feeds, never the load.
 */
#include <linux/kernel.h>
#include <linux/string.h>

#include "memwatch.h"

struct mw_tp_lookup {
	const char *name;
	struct tracepoint *tp;
};

static void mw_tp_match(struct tracepoint *tp, void *priv)
{
	struct mw_tp_lookup *lookup = priv;

	if (!lookup->tp && !strcmp(tp->name, lookup->name))
		lookup->tp = tp;
}

static struct tracepoint *mw_tp_find(const char *name)
{
	struct mw_tp_lookup lookup = { .name = name };

	for_each_kernel_tracepoint(mw_tp_match, &lookup);
	return lookup.tp;
}

static int mw_attach_tracepoint(struct mw_probe *p, const char *name)
{
	struct tracepoint *tp = mw_tp_find(name);
	int err;

	if (!tp) {
		p->why = "no such tracepoint on this kernel";
		return -ENOENT;
	}
	err = tracepoint_probe_register(tp, p->tp_handler, p);
	if (err) {
		p->why = "tracepoint_probe_register failed";
		return err;
	}
	p->tp = tp;
	return 0;
}

static int mw_attach_kprobe(struct mw_probe *p, const char *name)
{
	int err;

	/* A failed register may leave fields set; start clean each try. */
	memset(&p->kp, 0, sizeof(p->kp));
	p->kp.symbol_name = name;
	p->kp.pre_handler = p->kp_pre;
	err = register_kprobe(&p->kp);
	if (err)
		p->why = err == -ENOENT ? "no such symbol on this kernel" :
					  "register_kprobe failed";
	return err;
}

static int mw_attach_kretprobe(struct mw_probe *p, const char *name)
{
	int err;

	memset(&p->krp, 0, sizeof(p->krp));
	p->krp.kp.symbol_name = name;
	p->krp.entry_handler = p->krp_entry;
	p->krp.handler = p->krp_ret;
	p->krp.data_size = p->krp_data_size;
	p->krp.maxactive = p->krp_maxactive;
	err = register_kretprobe(&p->krp);
	if (err)
		p->why = err == -ENOENT ? "no such symbol on this kernel" :
					  "register_kretprobe failed";
	return err;
}

static int mw_attach_one(struct mw_probe *p, const char *name)
{
	switch (p->kind) {
	case MW_TRACEPOINT:
		return mw_attach_tracepoint(p, name);
	case MW_KPROBE:
		return mw_attach_kprobe(p, name);
	case MW_KRETPROBE:
		return mw_attach_kretprobe(p, name);
	}
	p->why = "unknown probe kind";
	return -EINVAL;
}

/* Returns how many probes attached; failures are kept in each probe. */
int mw_probes_attach(struct mw_probe *probes, unsigned int n)
{
	unsigned int i;
	int attached = 0;

	for (i = 0; i < n; i++) {
		struct mw_probe *p = &probes[i];

		p->attached_name = NULL;
		p->tp = NULL;
		p->err = mw_attach_one(p, p->name);
		if (p->err && p->alt_name)
			p->err = mw_attach_one(p, p->alt_name);
		if (p->err) {
			pr_info("memwatch: %s %s not attached: %s (%d)\n",
				mw_probe_kind_name(p->kind), p->name, p->why,
				p->err);
			continue;
		}
		p->attached_name = p->kind == MW_TRACEPOINT ? p->tp->name :
				   p->kind == MW_KPROBE ? p->kp.symbol_name :
				   p->krp.kp.symbol_name;
		p->why = NULL;
		attached++;
	}
	return attached;
}

/*
 * The caller must wait for in-flight handlers (tracepoint_synchronize_
 * unregister) before freeing what the handlers touch; unregister_k*probe
 * already waits for their own handlers.
 */
void mw_probes_detach(struct mw_probe *probes, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct mw_probe *p = &probes[i];

		if (!mw_probe_attached(p))
			continue;
		switch (p->kind) {
		case MW_TRACEPOINT:
			tracepoint_probe_unregister(p->tp, p->tp_handler, p);
			break;
		case MW_KPROBE:
			unregister_kprobe(&p->kp);
			break;
		case MW_KRETPROBE:
			unregister_kretprobe(&p->krp);
			break;
		}
		p->attached_name = NULL;
		p->err = -ENODEV;
		p->why = "detached";
	}
}

bool mw_probe_attached(const struct mw_probe *p)
{
	return p->attached_name != NULL;
}

const char *mw_probe_kind_name(enum mw_probe_kind kind)
{
	switch (kind) {
	case MW_TRACEPOINT:
		return "tracepoint";
	case MW_KPROBE:
		return "kprobe";
	case MW_KRETPROBE:
		return "kretprobe";
	}
	return "unknown";
}

/*
 * kallsyms_lookup_name() is not exported since 5.7. A kprobe resolves a
 * symbol's address at registration, so registering one on
 * kallsyms_lookup_name itself gives us the function. Use it only for
 * non-exported data and helpers the kernel offers no other way to reach
 * (first_online_pgdat, next_zone...), and only at init.
 */
typedef unsigned long (*mw_kallsyms_fn)(const char *name);

unsigned long mw_lookup_symbol(const char *name)
{
	static mw_kallsyms_fn lookup;

	if (!lookup) {
		struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };

		if (register_kprobe(&kp))
			return 0;
		lookup = (mw_kallsyms_fn)kp.addr;
		unregister_kprobe(&kp);
	}
	return lookup ? lookup(name) : 0;
}
