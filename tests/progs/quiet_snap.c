/*
 * quiet_snap - read kernel files, then the module's files, then the kernel
 * files again, until both kernel reads agree: the module's read then saw the
 * same state as the kernel's. Used to compare /proc/memwatch/frag with
 * /proc/buddyinfo and friends on a machine whose free lists keep moving.
 *
 *   quiet_snap TRIES OUTDIR KFILE... -- MFILE...
 *
 * Writes each file's bytes (from the agreeing round, or the last round) to
 * OUTDIR/<basename>, prints "quiet after N tries" or "not quiet after N
 * tries", exits 0 or 1.
 *
 * Why a program and not a shell loop: every fork and exec between the reads
 * allocates and frees pages, and on kernels that decay per-cpu list sizes
 * each second those pages reach the buddy lists being compared. Here the
 * three reads run back to back from buffers touched and locked beforehand.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 8
#define BUF_SIZE (256 * 1024)

struct snap {
	const char *path;
	char *before, *after;
	ssize_t nbefore, nafter;
};

static char pool[MAX_FILES * 2][BUF_SIZE];

static ssize_t read_whole(const char *path, char *buf)
{
	ssize_t len = 0, n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while (len < BUF_SIZE && (n = read(fd, buf + len, BUF_SIZE - len)) > 0)
		len += n;
	close(fd);
	return n < 0 ? -1 : len;
}

static int write_out(const char *dir, const char *path, const char *buf,
		     ssize_t len)
{
	const char *base = strrchr(path, '/');
	char out[4096];
	FILE *f;

	snprintf(out, sizeof(out), "%s/%s", dir, base ? base + 1 : path);
	f = fopen(out, "w");
	if (!f || (len > 0 && fwrite(buf, 1, len, f) != (size_t)len) ||
	    fclose(f) != 0) {
		fprintf(stderr, "quiet_snap: %s: %s\n", out, strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes each file's first read; -1 if one could not be read or written. */
static int save_all(const char *dir, const struct snap *s, int n)
{
	for (int i = 0; i < n; i++) {
		if (s[i].nbefore < 0) {
			fprintf(stderr, "quiet_snap: cannot read %s\n", s[i].path);
			return -1;
		}
		if (write_out(dir, s[i].path, s[i].before, s[i].nbefore))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct snap kern[MAX_FILES], mod[MAX_FILES];
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	int nkern = 0, nmod = 0, tries, try, i, quiet = 0, in_mod = 0;
	const char *dir;

	if (argc < 5) {
		fprintf(stderr, "usage: quiet_snap TRIES OUTDIR KFILE... -- MFILE...\n");
		return 2;
	}
	tries = atoi(argv[1]);
	dir = argv[2];
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			in_mod = 1;
			continue;
		}
		if (nkern + nmod == MAX_FILES) {
			fprintf(stderr, "quiet_snap: at most %d files\n", MAX_FILES);
			return 2;
		}
		if (in_mod)
			mod[nmod++].path = argv[i];
		else
			kern[nkern++].path = argv[i];
	}
	for (i = 0; i < nkern; i++) {
		kern[i].before = pool[2 * i];
		kern[i].after = pool[2 * i + 1];
	}
	for (i = 0; i < nmod; i++)
		mod[i].before = pool[2 * (nkern + i)];
	/* Fault every buffer page in now, not between the reads. */
	memset(pool, 0, sizeof(pool));
	mlockall(MCL_CURRENT);

	for (try = 1; try <= tries && !quiet; try++) {
		if (try > 1)
			nanosleep(&pause, NULL);
		for (i = 0; i < nkern; i++)
			kern[i].nbefore = read_whole(kern[i].path, kern[i].before);
		for (i = 0; i < nmod; i++)
			mod[i].nbefore = read_whole(mod[i].path, mod[i].before);
		for (i = 0; i < nkern; i++)
			kern[i].nafter = read_whole(kern[i].path, kern[i].after);
		quiet = 1;
		for (i = 0; i < nkern; i++)
			if (kern[i].nbefore != kern[i].nafter ||
			    memcmp(kern[i].before, kern[i].after, kern[i].nbefore))
				quiet = 0;
	}
	try--;
	if (save_all(dir, kern, nkern) || save_all(dir, mod, nmod))
		return 2;
	printf("%squiet after %d tries\n", quiet ? "" : "not ", try);
	return quiet ? 0 : 1;
}
