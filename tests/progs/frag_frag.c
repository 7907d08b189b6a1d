/*
 * frag_frag - a fragmenting workload that forces migrate-type fallbacks.
 *
 * Usage: frag_frag ANON_MB PIPE_MB
 *
 *  1. maps ANON_MB of anonymous memory (movable pages), touches every page,
 *     then frees every other page (MADV_DONTNEED): the free memory left in
 *     movable pageblocks is scattered in order-0 holes;
 *  2. fills pipes with PIPE_MB of data: pipe buffers are unmovable pages,
 *     so once the unmovable free lists run dry the allocator falls back to
 *     movable blocks (kmem:mm_page_alloc_extfrag), with this process as
 *     current;
 *  3. prints "ready PID" and sleeps holding everything until killed, so the
 *     test reads the module and the kernel's files on a quiet system.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define PIPE_BYTES	(1 << 20)

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t anon, pipes, i, done = 0;
	static char buf[65536];
	struct rlimit rl;
	char *p;

	if (argc != 3) {
		fprintf(stderr, "usage: frag_frag ANON_MB PIPE_MB\n");
		return 2;
	}
	anon = strtoul(argv[1], NULL, 10) << 20;
	pipes = strtoul(argv[2], NULL, 10) << 20;

	if (anon) {
		p = mmap(NULL, anon, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("frag_frag: mmap");
			return 1;
		}
		/* No THP: we want order-0 holes, not 2M folios. */
		madvise(p, anon, MADV_NOHUGEPAGE);
		for (i = 0; i < anon; i += page)
			p[i] = 1;
		for (i = 0; i < anon; i += 2 * page)
			madvise(p + i, page, MADV_DONTNEED);
	}

	/* Enough descriptors for PIPE_MB one-megabyte pipes (two fds each). */
	rl.rlim_cur = rl.rlim_max = 2 * (pipes / PIPE_BYTES) + 64;
	setrlimit(RLIMIT_NOFILE, &rl);
	memset(buf, 'x', sizeof(buf));
	while (done < pipes) {
		int fd[2];
		long sz;
		size_t in = 0;

		if (pipe2(fd, O_NONBLOCK)) {
			perror("frag_frag: pipe");
			break;
		}
		sz = fcntl(fd[1], F_SETPIPE_SZ, PIPE_BYTES);
		if (sz < 0)
			sz = fcntl(fd[1], F_GETPIPE_SZ);
		while (in < (size_t)sz) {
			ssize_t n = write(fd[1], buf, sizeof(buf));

			if (n <= 0)
				break;
			in += n;
		}
		done += in;
		if (!in)
			break;
	}
	printf("ready %d anon_mb %zu pipe_mb %zu\n", (int)getpid(), anon >> 20,
	       done >> 20);
	fflush(stdout);
	for (;;)
		pause();
}
