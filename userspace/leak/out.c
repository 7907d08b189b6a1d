/*
 * out.c - formatting through a caller-provided static buffer and write(2):
 * the report runs inside the traced process, where malloc is ours and
 * stdio may be in any state.
 */
#include "lib.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

void mwl_out_flush(struct mwl_out *o)
{
	size_t done = 0;
	while (done < o->len) {
		ssize_t w = write(o->fd, o->buf + done, o->len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	o->len = 0;
}

void mwl_out_mem(struct mwl_out *o, const char *s, size_t n)
{
	while (n) {
		if (o->len == sizeof(o->buf))
			mwl_out_flush(o);
		size_t k = sizeof(o->buf) - o->len;
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

void mwl_out_str(struct mwl_out *o, const char *s)
{
	mwl_out_mem(o, s, strlen(s));
}

void mwl_out_ch(struct mwl_out *o, char c)
{
	mwl_out_mem(o, &c, 1);
}

void mwl_out_u64(struct mwl_out *o, uint64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	mwl_out_mem(o, p, (size_t)(tmp + sizeof(tmp) - p));
}

void mwl_out_hex(struct mwl_out *o, uint64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	do
		*--p = "0123456789abcdef"[v & 15];
	while (v >>= 4);
	mwl_out_mem(o, "0x", 2);
	mwl_out_mem(o, p, (size_t)(tmp + sizeof(tmp) - p));
}

void mwl_log(const char *msg1, const char *msg2)
{
	static struct mwl_out o;	/* callers are rare and serialised enough */
	o.fd = 2;
	o.len = 0;
	mwl_out_str(&o, msg1);
	mwl_out_str(&o, msg2);
	mwl_out_ch(&o, '\n');
	mwl_out_flush(&o);
}
