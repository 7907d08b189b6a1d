// Leak kind 5 and its cousins: new[] freed with delete, malloc freed with
// delete, new freed with free. No bytes are lost; three mismatches.
#include <cstdlib>
#include <new>

struct Pod {
	int v[4];
};

static void array_delete()
{
	int *a = new int[10];	// LEAK:newarray
	a[0] = 1;
	delete a;	// LEAK:delete1
}

static void malloc_delete()
{
	Pod *p = static_cast<Pod *>(std::malloc(sizeof(Pod)));	// LEAK:malloc
	delete p;	// LEAK:delete2
}

static void new_free()
{
	Pod *p = new Pod();	// LEAK:new
	std::free(p);	// LEAK:free
}

int main()
{
	array_delete();
	malloc_delete();
	new_free();
	return 0;
}
