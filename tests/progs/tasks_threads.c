/*
 * tasks_threads DIR - two threads doing different numbers of mmaps.
 *
 * Thread A maps 30 x 64 KiB, thread B 70 x 64 KiB, each after DIR/go;
 * each writes its tid to DIR/tid_a or DIR/tid_b when done, then both wait
 * for DIR/exit. The threads neither malloc nor print, so the only calls
 * counted for them are these (their stacks are mapped by main).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "tasks_common.h"

struct job {
	const char *dir;
	const char *name;
	int count;
};

static void *worker(void *arg)
{
	const struct job *j = arg;
	int i;

	tasks_wait(j->dir, "go");
	for (i = 0; i < j->count; i++)
		if (mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			break;
	tasks_mark(j->dir, j->name, (long)syscall(SYS_gettid));
	tasks_wait(j->dir, "exit");
	return NULL;
}

int main(int argc, char **argv)
{
	struct job a = { .name = "tid_a", .count = 30 };
	struct job b = { .name = "tid_b", .count = 70 };
	pthread_t ta, tb;

	if (argc != 2) {
		fprintf(stderr, "usage: tasks_threads DIR\n");
		return 2;
	}
	a.dir = b.dir = argv[1];
	if (pthread_create(&ta, NULL, worker, &a) ||
	    pthread_create(&tb, NULL, worker, &b))
		return 1;
	tasks_mark(argv[1], "ready", (long)getpid());
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	return 0;
}
