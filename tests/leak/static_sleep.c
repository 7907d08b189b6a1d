/* A statically linked program (built with -static): memwatch-leak -p must
 * refuse it with a clear error. Sleeps ARGV[1] seconds (default 60). */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 60;
	for (int i = 0; i < secs * 10; i++) {
		free(malloc(100));
		usleep(100000);
	}
	return 0;
}
