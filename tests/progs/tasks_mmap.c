/*
 * tasks_mmap DIR - a known sequence of address-space calls.
 *
 * DIR/ready (our pid) -> waits for DIR/go -> 100 mmaps of 1 MiB (anonymous,
 * private), touches the first 16 of them (16 MiB of anonymous RSS),
 * 40 munmaps of 1 MiB, 3 mremaps from 1 MiB to 2 MiB (may move), 2 brk
 * calls growing the break by 1 MiB each -> DIR/done -> waits for DIR/exit.
 * Expected deltas: mmap 100 calls / 102400 KiB, munmap 40 / 40960 KiB,
 * mremap 3 / 3072 KiB of growth, brk 2 / 2048 KiB, page_allocs >= 4096.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "tasks_common.h"

#define MIB		(1024UL * 1024UL)
#define NR_MMAP		100
#define NR_MUNMAP	40
#define NR_MREMAP	3
#define NR_TOUCH	16

int main(int argc, char **argv)
{
	static char *maps[NR_MMAP];
	unsigned long brk0;
	int i;

	if (argc != 2) {
		fprintf(stderr, "usage: tasks_mmap DIR\n");
		return 2;
	}
	tasks_mark(argv[1], "ready", (long)getpid());
	tasks_wait(argv[1], "go");
	for (i = 0; i < NR_MMAP; i++) {
		maps[i] = mmap(NULL, MIB, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (maps[i] == MAP_FAILED)
			return 1;
	}
	for (i = 0; i < NR_TOUCH; i++)
		memset(maps[i], 1, MIB);
	for (i = 0; i < NR_MUNMAP; i++)
		if (munmap(maps[NR_MMAP - 1 - i], MIB))
			return 1;
	for (i = 0; i < NR_MREMAP; i++)
		if (mremap(maps[NR_TOUCH + i], MIB, 2 * MIB,
			   MREMAP_MAYMOVE) == MAP_FAILED)
			return 1;
	brk0 = (unsigned long)syscall(SYS_brk, 0);
	syscall(SYS_brk, brk0 + MIB);
	syscall(SYS_brk, brk0 + 2 * MIB);
	tasks_mark(argv[1], "done", (long)getpid());
	tasks_wait(argv[1], "exit");
	return 0;
}
