/* SPDX-License-Identifier: GPL-2.0 */
/*
 * params.h - module parameters that refuse what they cannot honour.
 *
 * A plain module_param(uint) takes any 32-bit value and leaves the feature
 * to clamp it; a value the code never expected (a one-entry hash table, a
 * zero-sized ring) then fails at run time, inside a probe. These parameters
 * check their range when insmod parses them: a value outside it fails the
 * load with -EINVAL and a dmesg line naming the parameter and the range.
 */
#ifndef MEMWATCH_PARAMS_H
#define MEMWATCH_PARAMS_H

#include <linux/moduleparam.h>

struct mw_param_range {
	unsigned int *val;
	unsigned int min;
	unsigned int max;
};

extern const struct kernel_param_ops mw_param_range_ops;

/* module_param(NAME, uint, 0444), refusing values outside [MIN, MAX]. */
#define mw_param_uint_range(name, min_val, max_val)			\
	static struct mw_param_range name##_range = {			\
		.val = &(name), .min = (min_val), .max = (max_val),	\
	};								\
	module_param_cb(name, &mw_param_range_ops, &name##_range, 0444); \
	__MODULE_PARM_TYPE(name, "uint")

#endif /* MEMWATCH_PARAMS_H */
