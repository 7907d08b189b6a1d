/* Class: stale stack words at exit. Helpers that returned long ago leave
 * pointers in stack slots that exit(), __run_exit_handlers and _dl_fini
 * reserve but never write; only live frames may keep a block reachable.
 * argv[1]: "exit" leaves by exit() from a helper, "return" returns from
 * main, "fork" does the work in a forked child that calls exit(),
 * "fork_exit" in one that calls _exit(). */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct node {
	struct node *next;
	char pad[40];
};

char *keep;	/* reachable: re-pointed, the last one stays */

__attribute__((noinline)) static char *grow(char *p, size_t n)
{
	char *q = realloc(p, n);	/* LEAK:grow */
	memset(q, 1, n);
	return q;
}

__attribute__((noinline)) static void realloc_chain(void)
{
	char *p = NULL;
	for (size_t n = 64; n <= 4096; n *= 4)
		p = grow(p, n);
	p[0] = 2;	/* dropped here: definitely lost */
}

__attribute__((noinline)) static struct node *push(struct node *head)
{
	struct node *n = malloc(sizeof(*n));	/* LEAK:list */
	n->next = head;
	return n;
}

__attribute__((noinline)) static void dropped_list(int len)
{
	struct node *head = NULL;
	for (int i = 0; i < len; i++)
		head = push(head);
	__asm__ volatile("" : : "r"(head) : "memory");
}

__attribute__((noinline)) static void dropped_cycle(void)
{
	struct node *a = push(NULL), *b = push(a);
	a->next = b;
	__asm__ volatile("" : : "r"(a), "r"(b) : "memory");
}

__attribute__((noinline)) static void repoint(void)
{
	for (int i = 0; i < 3; i++)
		keep = malloc(100);	/* LEAK:repoint */
}

__attribute__((noinline)) static void work(void)
{
	realloc_chain();
	dropped_list(5);
	dropped_cycle();
	repoint();
}

__attribute__((noinline)) static void leave(int status)
{
	exit(status);
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "return";
	if (!strncmp(how, "fork", 4)) {
		pid_t pid = fork();
		if (pid == 0) {
			work();
			if (how[4])
				_exit(3);
			leave(3);
		}
		int st;
		waitpid(pid, &st, 0);
		return WIFEXITED(st) && WEXITSTATUS(st) == 3 ? 0 : 1;
	}
	work();
	if (!strcmp(how, "exit"))
		leave(0);
	return 0;
}
