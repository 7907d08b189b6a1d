/*
 * tracer PROG [ARGS...]: runs PROG traced by this process (PTRACE_SEIZE),
 * passing every signal on, so memwatch-leak -p finds it already traced.
 * Prints PROG's pid on stdout.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	pid_t c = fork();
	if (c == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	if (c < 0 || ptrace(PTRACE_SEIZE, c, 0, 0) < 0) {
		perror("tracer");
		return 1;
	}
	printf("%d\n", (int)c);
	fflush(stdout);
	for (;;) {
		int st;
		pid_t w = waitpid(c, &st, __WALL);
		if (w < 0 || WIFEXITED(st) || WIFSIGNALED(st))
			return 0;
		int sig = WSTOPSIG(st);
		ptrace(PTRACE_CONT, c, 0, (void *)(long)((st >> 16) || sig == SIGTRAP ? 0 : sig));
	}
}
