/*
 * A long-running C++ program for memwatch-leak -p (tests/host/leak-attach.sh).
 *
 *   attach_cxx LOG [SECS]
 *
 * libstdc++ is loaded, so the library's TLS must fit in what glibc keeps
 * for objects dlopen'd later. Two threads churn std::string, std::vector
 * and std::map, checking every value they read back; the main thread
 * leaks one 40-byte object every 10 ms at LEAK:cxx (operator new) and logs
 * one byte per object to LOG. SIGTERM or SECS ends it: "consistent" and
 * exit 0 if every check passed, else "inconsistent" and exit 1.
 */
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <map>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

static volatile std::sig_atomic_t done;
static std::atomic<long> bad;

struct Leaked {
	long v[5];
};

static void on_term(int) { done = 1; }

static void churn(unsigned seed)
{
	std::map<unsigned, std::string> m;
	std::vector<std::vector<unsigned>> vs;
	while (!done) {
		unsigned r = rand_r(&seed);
		unsigned k = r % 512;
		auto it = m.find(k);
		if (it != m.end()) {
			if (it->second != std::string(it->second.size(), char('a' + k % 26)))
				bad++;
			m.erase(it);
		} else {
			m[k] = std::string(1 + (r >> 10) % 300, char('a' + k % 26));
		}
		if (vs.size() < 64) {
			vs.emplace_back((r >> 8) % 200, k);
		} else {
			auto &v = vs[r % vs.size()];
			for (unsigned x : v)
				if (x != v[0])
					bad++;
			vs[r % vs.size()] = std::vector<unsigned>((r >> 8) % 200, k);
		}
	}
}

static Leaked *cxx_leak()
{
	Leaked *p = new Leaked();	/* LEAK:cxx */
	p->v[0] = 1;
	return p;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		std::fprintf(stderr, "usage: attach_cxx LOG [SECS]\n");
		return 2;
	}
	int log = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	long ticks = (argc > 2 ? std::atol(argv[2]) : 3600) * 100;
	std::signal(SIGTERM, on_term);
	std::thread a(churn, 1u), b(churn, 2u);
	std::printf("ready\n");
	std::fflush(stdout);
	for (long i = 0; i < ticks && !done; i++) {
		Leaked *volatile p = cxx_leak();
		(void)p;
		if (write(log, "x", 1) != 1)
			bad++;
		usleep(10000);
	}
	done = 1;
	a.join();
	b.join();
	std::printf(bad ? "inconsistent\n" : "consistent\n");
	return bad ? 1 : 0;
}
