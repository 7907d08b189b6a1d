/* fuzzlib.c - archive inputs and their file trees (see fuzzlib.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzzlib.h"
#include "views.h"

/* main.c's, which is not linked (it has main()); a real one elsewhere wins. */
__attribute__((weak)) void mw_note_no_module(const struct mw_opts *opts,
					     const char *what)
{
	(void)opts;
	(void)what;
}

static int path_ok(const char *p)
{
	const char *c;

	if ((p[0] != 'm' && p[0] != 'p') || p[1] != '/' || !p[2])
		return 0;
	if (strstr(p, "..") || strstr(p, "//") || p[strlen(p) - 1] == '/')
		return 0;
	for (c = p; *c; c++)
		if (!(*c == '/' || *c == '_' || *c == '-' || *c == '.' ||
		      (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9')))
			return 0;
	return 1;
}

int fz_split(const uint8_t *data, size_t size, struct fz_file *files, int max)
{
	const uint8_t *p = data, *end = data + size;
	int n = 0;

	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		const uint8_t *next = nl ? nl + 1 : end;

		if (end - p >= 3 && !memcmp(p, "@@ ", 3)) {
			size_t len = (size_t)((nl ? nl : end) - (p + 3));

			if (n < max && len < sizeof(files[n].path)) {
				memcpy(files[n].path, p + 3, len);
				files[n].path[len] = '\0';
				if (path_ok(files[n].path)) {
					files[n].data = next;
					files[n].len = 0;
					n++;
				}
			}
		} else if (n > 0 && files[n - 1].data) {
			files[n - 1].len = (size_t)(next - files[n - 1].data);
		}
		p = next;
	}
	return n;
}

size_t fz_preamble(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;

	while (p < end) {
		const uint8_t *nl;

		if (end - p >= 3 && !memcmp(p, "@@ ", 3))
			break;
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	return (size_t)(p - data);
}

const struct fz_file *fz_find(const struct fz_file *files, int n,
			      const char *path)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(files[i].path, path))
			return &files[i];
	return NULL;
}

char *fz_cstr(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

static int mkdirs(char *path)
{
	char *s;

	for (s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			*s = '/';
			return -1;
		}
		*s = '/';
	}
	return 0;
}

char *fz_tree_write(const struct fz_file *files, int n)
{
	char tmpl[] = "/dev/shm/mwfuzz.XXXXXX", path[512];
	char *dir;
	int i;

	if (access("/dev/shm", W_OK))
		memcpy(tmpl, "/tmp/mwfuzz.XXXXXX", sizeof("/tmp/mwfuzz.XXXXXX"));
	if (!mkdtemp(tmpl))
		return NULL;
	dir = strdup(tmpl);
	snprintf(path, sizeof(path), "%s/m", dir);
	mkdir(path, 0755);
	setenv("MEMWATCH_ROOT", path, 1);
	snprintf(path, sizeof(path), "%s/p", dir);
	mkdir(path, 0755);
	setenv("MEMWATCH_PROCFS", path, 1);
	for (i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i].path);
		if (mkdirs(path))
			continue;
		/* A path that is also a directory of another file: skip it. */
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			continue;
		if (files[i].len &&
		    write(fd, files[i].data, files[i].len) != (ssize_t)files[i].len) {
			close(fd);
			continue;
		}
		close(fd);
	}
	return dir;
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fz_tree_remove(char *dir)
{
	if (!dir)
		return;
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}
