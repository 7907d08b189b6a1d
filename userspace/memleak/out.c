/* out.c - see out.h. The output file is opened on the first write, so a
 * program that leaks nothing and mismatches nothing still gets its report
 * file, but only when the report runs. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "hooks.h"
#include "out.h"

static pthread_mutex_t mw_out_mutex = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static char mw_buf[16384];
static size_t mw_len;
static int mw_fd = -1;

void mw_out_lock(void)
{
	pthread_mutex_lock(&mw_out_mutex);
	mw_guard++;
}

void mw_out_unlock(void)
{
	mw_guard--;
	pthread_mutex_unlock(&mw_out_mutex);
}

/* %p -> pid, the rest copied; truncated to the buffer. */
static void mw_expand(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	for (; *src && n + 24 < cap; src++) {
		if (src[0] == '%' && src[1] == 'p') {
			n += snprintf(dst + n, cap - n, "%d", (int)getpid());
			src++;
		} else {
			dst[n++] = *src;
		}
	}
	dst[n] = 0;
}

static int mw_out_fd(void)
{
	char path[4096 + 32];
	int fd;

	if (mw_fd >= 0)
		return mw_fd;
	mw_fd = 2;
	if (!mw_config.output[0])
		return mw_fd;
	mw_expand(path, sizeof(path), mw_config.output);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		static const char msg[] = "memwatch-leak: cannot open the output file; writing to stderr\n";

		if (write(2, msg, sizeof(msg) - 1) < 0)
			return mw_fd;
		return mw_fd;
	}
	/* keep low descriptor numbers for the program */
	mw_fd = fcntl(fd, F_DUPFD_CLOEXEC, 512);
	if (mw_fd < 0)
		mw_fd = fd;
	else
		close(fd);
	return mw_fd;
}

void mw_out_init(void)
{
	/* programs may close stderr at exit (coreutils' close_stdout does):
	 * keep our own copy, out of the way of low descriptor numbers */
	if (!mw_config.output[0])
		mw_fd = fcntl(2, F_DUPFD_CLOEXEC, 512);
}

void mw_out_flush(void)
{
	size_t off = 0;
	int fd = mw_out_fd();

	while (off < mw_len) {
		ssize_t w = write(fd, mw_buf + off, mw_len - off);

		if (w < 0 && fd != 2) {	/* our copy was closed under us */
			fd = mw_fd = 2;
			continue;
		}
		if (w <= 0)
			break;
		off += w;
	}
	mw_len = 0;
}

static void mw_out_raw(const char *s, size_t n)
{
	while (n) {
		size_t room = sizeof(mw_buf) - mw_len, k = n < room ? n : room;

		memcpy(mw_buf + mw_len, s, k);
		mw_len += k;
		s += k;
		n -= k;
		if (mw_len == sizeof(mw_buf))
			mw_out_flush();
	}
}

void mw_out_str(const char *s)
{
	mw_out_raw(s, strlen(s));
}

void mw_out_fmt(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	mw_out_raw(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void mw_out_json_str(const char *s)
{
	if (!s) {
		mw_out_str("null");
		return;
	}
	mw_out_raw("\"", 1);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', c };

			mw_out_raw(e, 2);
		} else if (c < 0x20) {
			mw_out_fmt("\\u%04x", c);
		} else {
			mw_out_raw((const char *)&c, 1);
		}
	}
	mw_out_raw("\"", 1);
}
