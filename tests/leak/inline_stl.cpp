// Class: inlined frames in C++. The allocation happens in libstdc++'s
// inlined templates (std::vector growth, std::string, make_unique); the
// report must reach the line in this file that called them, through
// frames of the inlined STL functions.
#include <memory>
#include <string>
#include <vector>

struct Holder {
	std::vector<int> *v;
	std::string *s;
};

__attribute__((noinline)) static Holder *build(int n)
{
	Holder *h = new Holder;	// LEAK:holder
	h->v = new std::vector<int>;	// LEAK:vector
	for (int i = 0; i < n; i++)
		h->v->push_back(i);	// LEAK:push_back
	h->s = new std::string(100, 'x');	// LEAK:string
	return h;
}

int main(int argc, char **)
{
	Holder *h = build(argc * 100);
	auto u = std::make_unique<int[]>(64);	// freed: not a leak
	int r = (*h->v)[0] + u[1];
	h = nullptr;
	return r;
}
