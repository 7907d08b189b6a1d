/* A lost node (24 bytes) holding the only pointers to two children (2 x 40
 * bytes): definitely lost 24, indirectly lost 80. Plus a lost cycle of two
 * 32-byte nodes: one definitely, one indirectly lost. */
#include <stdlib.h>

struct node {
	struct node *left, *right;
	long value;
};

static void build(void)
{
	struct node *root = calloc(1, sizeof(*root));	/* LEAK-ROOT */

	root->left = malloc(40);	/* LEAK-CHILD */
	root->right = malloc(40);
	root->value = 1;
}

static void cycle(void)
{
	void **a = malloc(32), **b = malloc(32);	/* LEAK-CYCLE */

	a[0] = b;
	b[0] = a;
	a[1] = b[1] = NULL;
}

int main(void)
{
	build();
	cycle();
	return 0;
}
