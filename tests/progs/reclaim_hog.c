/*
 * reclaim_hog - put the machine under memory pressure: touch MB mebibytes
 * of anonymous memory in 1 MiB steps, then create READY_FILE (if given) and
 * hold the memory until SIGTERM. Run it with oom_score_adj 1000 so that,
 * if the OOM killer has to act, it picks this and not the test.
 *
 *   reclaim_hog MB [READY_FILE [ROW_FILE]]
 *
 * With ROW_FILE, the hog stops allocating as soon as /proc/memwatch/tasks
 * shows a completed direct-reclaim stall for it, and saves that file's
 * legend and its own row there: a process that overruns memory is usually
 * OOM-killed (and its row freed) before a test could read the row.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define STEP (1UL << 20)

/* Column index of @name in a "# a b c" legend, or -1. */
static int legend_col(const char *legend, const char *name)
{
	char buf[4096], *save = NULL, *tok;
	int i = -1;

	snprintf(buf, sizeof(buf), "%s", legend);
	for (tok = strtok_r(buf, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save), i++)
		if (!strcmp(tok, name))
			return i;
	return -1;
}

/* Saves legend + own row to @out once stall_count > 0; returns 1 then. */
static int stalled(const char *out)
{
	char legend[4096] = "", line[4096];
	FILE *f = fopen("/proc/memwatch/tasks", "r");
	int col = -1, done = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char copy[4096], *save = NULL, *tok;
		int i = 0;
		long pid;

		if (line[0] == '#') {
			snprintf(legend, sizeof(legend), "%s", line);
			col = legend_col(line, "stall_count");
			continue;
		}
		snprintf(copy, sizeof(copy), "%s", line);
		tok = strtok_r(copy, " ", &save);
		pid = tok ? strtol(tok, NULL, 10) : 0;
		if (pid != getpid() || col < 0)
			continue;
		while (tok && i < col) {
			tok = strtok_r(NULL, " ", &save);
			i++;
		}
		if (tok && strtol(tok, NULL, 10) > 0) {
			FILE *o = fopen(out, "w");

			if (o) {
				fputs(legend, o);
				fputs(line, o);
				fclose(o);
			}
			done = 1;
		}
		break;
	}
	fclose(f);
	return done;
}

int main(int argc, char **argv)
{
	unsigned long mb, i;
	FILE *f;

	if (argc < 2 || (mb = strtoul(argv[1], NULL, 10)) == 0) {
		fprintf(stderr, "usage: reclaim_hog MB [READY_FILE]\n");
		return 2;
	}
	f = fopen("/proc/self/oom_score_adj", "w");
	if (f) {
		fputs("1000", f);
		fclose(f);
	}
	for (i = 0; i < mb; i++) {
		char *p = mmap(NULL, STEP, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("reclaim_hog: mmap");
			return 1;
		}
		memset(p, (int)i | 1, STEP);
		if (argc > 3 && i % 4 == 0 && stalled(argv[3]))
			break;
	}
	printf("reclaim_hog: %d touched %lu MiB\n", (int)getpid(), i < mb ? i + 1 : mb);
	fflush(stdout);
	if (argc > 2) {
		f = fopen(argv[2], "w");
		if (f)
			fclose(f);
	}
	for (;;)
		pause();
}
