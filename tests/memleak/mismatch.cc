// 5: incorrect array delete (new[] released with delete), and two more
// mismatches: malloc released by delete, new released by free.
#include <cstdlib>

struct Pod { int v[4]; };

int main()
{
	int *a = new int[10];	// ALLOC-5
	delete a;		// FREE-5
	Pod *m = (Pod *)std::malloc(sizeof(Pod));	// ALLOC-MALLOC
	delete m;		// FREE-DELETE
	Pod *n = new Pod;	// ALLOC-NEW
	std::free(n);		// FREE-FREE
	return 0;
}
