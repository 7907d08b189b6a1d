/* Class: a library unloaded before the report keeps its frames. Loads
 * argv[1], calls plugin_work, dlclose()s it, three times; each time the
 * returned block is dropped. With argv[2], the file at argv[1] is then
 * replaced by argv[2] (another build): its build-id no longer matches, so
 * the frames must keep module and offset but no names. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static void load_and_call(const char *path, int n)
{
	void *h = dlopen(path, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		exit(1);
	}
	void *(*work)(int) = (void *(*)(int))dlsym(h, "plugin_work");
	void *p = work(n);	/* LEAK:call_plugin */
	(void)p;
	dlclose(h);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	for (int i = 1; i <= 3; i++)
		load_and_call(argv[1], i);	/* LEAK:main_call */
	if (argc > 2 && rename(argv[2], argv[1]) != 0)
		return 3;
	return 0;
}
