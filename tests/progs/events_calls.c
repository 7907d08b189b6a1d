/*
 * events_calls DIR - a known sequence of address-space calls, failed ones
 * included, for the events test (tests/vm/events.sh).
 *
 * DIR/ready (our pid) -> waits for DIR/go ->
 *   10 mmaps of 1 MiB, anonymous private, read/write, each touched
 *      (10 MiB of RSS: the process's peak);
 *   1 mmap of 4096 bytes of DIR/file, shared, read-only (file-backed);
 *   1 mmap of length 0 (EINVAL);
 *   6 munmaps of 1 MiB; 1 munmap of an unaligned address (EINVAL);
 *   2 mremaps from 1 MiB to 2 MiB (MREMAP_MAYMOVE);
 *   brk(0) (a query: no event), brk +1 MiB, brk back -1 MiB
 * -> DIR/done -> waits for DIR/exit -> exits.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "tasks_common.h"

#define MIB		(1024UL * 1024UL)
#define NR_ANON		10
#define NR_MUNMAP	6
#define NR_MREMAP	2

int main(int argc, char **argv)
{
	static char *maps[NR_ANON];
	char path[512];
	unsigned long brk0;
	void *file_map;
	int i, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: events_calls DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/file", argv[1]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4096))
		return 1;
	tasks_mark(argv[1], "ready", (long)getpid());
	tasks_wait(argv[1], "go");
	for (i = 0; i < NR_ANON; i++) {
		maps[i] = mmap(NULL, MIB, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (maps[i] == MAP_FAILED)
			return 1;
		memset(maps[i], 1, MIB);
	}
	file_map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (file_map == MAP_FAILED)
		return 1;
	if (mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) !=
	    MAP_FAILED)
		return 1;
	for (i = 0; i < NR_MUNMAP; i++)
		if (munmap(maps[NR_ANON - 1 - i], MIB))
			return 1;
	if (munmap((void *)1, 4096) == 0)
		return 1;
	for (i = 0; i < NR_MREMAP; i++)
		if (mremap(maps[i], MIB, 2 * MIB, MREMAP_MAYMOVE) == MAP_FAILED)
			return 1;
	brk0 = (unsigned long)syscall(SYS_brk, 0);
	syscall(SYS_brk, brk0 + MIB);
	syscall(SYS_brk, brk0);
	tasks_mark(argv[1], "done", (long)getpid());
	tasks_wait(argv[1], "exit");
	return 0;
}
