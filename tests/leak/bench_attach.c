/*
 * bench_attach [ROUNDS]: tests/bench/leak-attach-bench.sh's target. Prints
 * "ready PID", waits for SIGUSR1 (sent once memwatch-leak -p has
 * attached, or at once for the other tools), then runs bench_malloc's loop
 * (a window of 4096 blocks of 16-255 bytes, half freed and reallocated per
 * round) and prints the loop's own time in seconds, so the attach itself
 * is not in the figure. Then waits for SIGTERM (or SIGUSR1 again) to exit.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 4096

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go++;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 1500;
	static char *win[WINDOW];
	unsigned long sum = 0, x = 12345;
	sigset_t mask, old;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, &old);
	signal(SIGUSR1, on_usr1);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (!go)
		sigsuspend(&old);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < WINDOW; i++) {
			x = x * 6364136223846793005ul + 1442695040888963407ul;
			if (win[i] && (x >> 33) % 2) {
				free(win[i]);
				win[i] = NULL;
			}
			if (!win[i]) {
				size_t n = 16 + (x >> 40) % 240;
				win[i] = malloc(n);
				memset(win[i], (int)r, n);
				for (size_t k = 0; k < n; k += 8)
					sum += (unsigned char)win[i][k] * k;
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("loop %.3f %lu\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, sum);
	fflush(stdout);
	while (go < 2)
		sigsuspend(&old);
	for (int i = 0; i < WINDOW; i++)
		free(win[i]);
	return 0;
}
