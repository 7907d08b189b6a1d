/* File descriptors: /dev/null opened and never closed, one end of a pipe
 * left open, everything else closed. Memory is clean. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	int fd = open("/dev/null", O_RDONLY);	/* LEAK:open */
	int p[2];
	if (fd < 0 || pipe(p))	/* LEAK:pipe */
		return 1;
	close(p[1]);
	FILE *f = fopen("/dev/null", "r");
	if (f)
		fclose(f);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s >= 0)
		close(s);
	int d = dup(fd);
	close(d);
	return 0;
}
