/* A frame in no module: malloc called from code copied into an anonymous
 * executable mapping (as a JIT would). Its frame has no function or line;
 * the report must still give the mapping ("[anon]") and the offset. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
	/* push rbp; movabs rax, malloc; call rax; pop rbp; ret */
	unsigned char code[] = { 0x55, 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xd0, 0x5d, 0xc3 };
	void *(*m)(size_t) = malloc;
	memcpy(code + 3, &m, sizeof(m));
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	memcpy(p, code, sizeof(code));
	void *(*stub)(size_t);
	memcpy(&stub, &p, sizeof(p));
	volatile void *b = stub(77);	/* lost: the only pointer is overwritten */
	b = NULL;
	(void)b;
	return 0;
}
