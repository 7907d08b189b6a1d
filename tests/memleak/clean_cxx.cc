// Frees everything: containers, strings, aligned and nothrow new.
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

struct alignas(64) Wide { char c[64]; };

int main()
{
	std::vector<std::string> v;
	std::map<int, std::string> m;
	for (int i = 0; i < 100; i++) {
		v.push_back(std::string(40, 'a' + i % 26));
		m[i] = v.back();
	}
	auto u = std::make_unique<int[]>(100);
	Wide *w = new Wide;
	delete w;
	int *n = new (std::nothrow) int[5];
	delete[] n;
	std::cout << v.size() + m.size() << std::endl;
	return 0;
}
