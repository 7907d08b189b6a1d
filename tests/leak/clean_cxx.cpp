// A clean C++ program: iostreams, strings, containers, std::thread,
// exceptions, aligned and nothrow new. Nothing leaks.
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

struct alignas(64) Wide {
	char c[100];
};

static void work(int id, std::vector<std::string> *out)
{
	std::ostringstream s;
	for (int i = 0; i < 50; i++)
		s << "thread " << id << " line " << i << '\n';
	out->push_back(s.str());
}

int main()
{
	std::vector<std::string> out[4];
	std::vector<std::thread> ts;
	for (int i = 0; i < 4; i++)
		ts.emplace_back(work, i, &out[i]);
	for (auto &t : ts)
		t.join();
	std::map<std::string, std::unique_ptr<int[]>> m;
	for (int i = 0; i < 100; i++)
		m["key" + std::to_string(i)] = std::make_unique<int[]>(i + 1);
	try {
		throw std::runtime_error(std::string(100, 'x'));
	} catch (const std::exception &e) {
		std::cout << "caught " << std::string(e.what()).size() << '\n';
	}
	Wide *w = new Wide;
	delete w;
	int *n = new (std::nothrow) int[20];
	delete[] n;
	std::cout << out[3][0].size() << " " << m.size() << std::endl;
	return 0;
}
