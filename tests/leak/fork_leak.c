/* Parent leaks 33 bytes, the forked child 77 bytes. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void leak(size_t n)
{
	char *p = malloc(n);	/* LEAK:fork */
	memset(p, 1, n);
}

int main(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		leak(77);
		exit(0);
	}
	leak(33);
	int st;
	waitpid(pid, &st, 0);
	return 0;
}
