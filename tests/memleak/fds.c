/* One descriptor left open (a pipe's read end); the others closed. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/socket.h>

int main(void)
{
	int p[2];
	int fd = open("/dev/null", O_RDONLY);
	FILE *f = fopen("/dev/null", "r");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	if (pipe(p))	/* FD-LEAK */
		return 1;
	close(p[1]);
	close(fd);
	fclose(f);
	close(s);
	return 0;
}
