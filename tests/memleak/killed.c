/* Dies of SIGTERM: memwatch-leak must exit 128 + 15. */
#include <signal.h>
#include <unistd.h>

int main(void)
{
	kill(getpid(), SIGTERM);
	pause();
	return 0;
}
