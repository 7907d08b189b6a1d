// SPDX-License-Identifier: GPL-2.0
/*
 * params.c - range-checked module parameters (params.h).
 *
 * The parameters are read-only once loaded (0444), so set only runs while
 * insmod parses the command line, before any feature exists.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/sysfs.h>

#include "params.h"

static int mw_param_range_set(const char *val, const struct kernel_param *kp)
{
	const struct mw_param_range *r = kp->arg;
	unsigned int v;

	if (kstrtouint(val, 0, &v) || v < r->min || v > r->max) {
		pr_err("memwatch: %s=%s refused: expected an integer from %u to %u\n",
		       kp->name, val, r->min, r->max);
		return -EINVAL;
	}
	*r->val = v;
	return 0;
}

static int mw_param_range_get(char *buf, const struct kernel_param *kp)
{
	const struct mw_param_range *r = kp->arg;

	return sysfs_emit(buf, "%u\n", *r->val);
}

const struct kernel_param_ops mw_param_range_ops = {
	.set = mw_param_range_set,
	.get = mw_param_range_get,
};
