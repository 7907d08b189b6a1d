/*
 * attach_cxx LOG: a C++ target for memwatch-leak -p (tests/host/leak-attach.sh).
 * One thread churns a std::map of std::string (new/delete through
 * libstdc++); the main thread keeps one new std::string per tick at
 * LEAK:cxx (one byte to LOG each) until SIGTERM, then deletes them all,
 * those from before, while and after the attach alike, and prints "ok".
 */
#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>
#include <fcntl.h>
#include <unistd.h>

static std::atomic<bool> stop{false};

static void on_term(int) { stop = true; }

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int log = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (log < 0)
		return 2;
	std::signal(SIGTERM, on_term);
	std::vector<std::string *> kept;
	std::thread t([] {
		std::map<unsigned, std::string> m;
		unsigned x = 1;
		while (!stop) {
			x = x * 1103515245 + 12345;
			m[x % 1000] = std::string(20 + x % 300, 'a');
			if (m.size() > 500)
				m.erase(m.begin());
		}
	});
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (!stop) {
		kept.push_back(new std::string(100, 'b'));	/* LEAK:cxx */
		if (write(log, "x", 1) != 1)
			return 1;
		usleep(10000);
	}
	t.join();
	for (std::string *p : kept) {
		if (p->size() != 100 || (*p)[99] != 'b')
			return 1;
		delete p;
	}
	printf("ok\n");
	return 0;
}
