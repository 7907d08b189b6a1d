// SPDX-License-Identifier: GPL-2.0
/*
 * memwatch_test - test-only helper: provokes page allocation failures on
 * purpose so tests/vm/allocfail.sh can check what memwatch reports.
 *
 * At load it allocates blocks of 2^order pages with
 *   GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN (| GFP_DMA if zone=dma)
 * until one fails or `tries` blocks are held, frees them all, and prints
 *   memwatch_test: allocfail order=O gfp=0x.. (NAMES) allocated=A failed=F
 * Asking the 16 MiB DMA zone for order-10 (4 MiB) blocks fails within a
 * few tries without putting the rest of the machine under pressure.
 * The load then fails with -EAGAIN unless keep=1, so no rmmod is needed.
 *
 *   insmod memwatch_test.ko order=10 tries=64 zone=dma
 */
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

static unsigned int order = 10;
module_param(order, uint, 0444);
MODULE_PARM_DESC(order, "order of the blocks to allocate (default 10)");
static unsigned int tries = 64;
module_param(tries, uint, 0444);
MODULE_PARM_DESC(tries, "stop after this many blocks (default 64)");
static char *zone = "dma";
module_param(zone, charp, 0444);
MODULE_PARM_DESC(zone, "dma (default) or normal");
static bool keep;
module_param(keep, bool, 0444);
MODULE_PARM_DESC(keep, "stay loaded after the run (default: fail the load)");

static int __init memwatch_test_init(void)
{
	gfp_t gfp = GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN;
	struct page **pages;
	unsigned int i, n = 0, failed = 0;

	if (order >= 11 || !tries || tries > 4096)
		return -EINVAL;
	if (!strcmp(zone, "dma"))
		gfp |= GFP_DMA;
	else if (strcmp(zone, "normal"))
		return -EINVAL;
	pages = kcalloc(tries, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < tries; i++) {
		pages[i] = alloc_pages(gfp, order);
		if (!pages[i]) {
			failed = 1;
			break;
		}
		n++;
	}
	pr_info("memwatch_test: allocfail order=%u gfp=%#x (%pGg) allocated=%u failed=%u\n",
		order, (__force unsigned int)gfp, &gfp, n, failed);
	for (i = 0; i < n; i++)
		__free_pages(pages[i], order);
	kfree(pages);
	return keep ? 0 : -EAGAIN;
}

static void __exit memwatch_test_exit(void)
{
}

module_init(memwatch_test_init);
module_exit(memwatch_test_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memwatch test helper: provokes allocation failures");
