// Each operator new/delete variant, paired correctly, plus one leaked
// aligned new (128 bytes) and one leaked nothrow new[] (40 bytes).
#include <new>

struct alignas(128) Big {
	char c[128];
};

int main()
{
	int *a = new int;
	delete a;
	int *b = new int[3];
	delete[] b;
	int *c = new (std::nothrow) int;
	delete c;
	Big *d = new Big;
	delete d;
	Big *e = new Big[2];
	delete[] e;
	::operator delete(::operator new(24), 24);
	::operator delete[](::operator new[](24), 24);
	Big *leak1 = new Big;	// LEAK:aligned
	int *leak2 = new (std::nothrow) int[10];	// LEAK:nothrow
	leak1->c[0] = 1;
	leak2[0] = 1;
	return 0;
}
