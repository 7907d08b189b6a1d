/* Indirect leaks: a lost list of 5 nodes (head definitely lost, 4 nodes
 * indirectly), a lost 2-cycle (one definitely, one indirectly), and a
 * list that stays reachable from a global. */
#include <stdlib.h>

struct node {
	struct node *next;
	char pad[40];
};

struct node *g_kept;

static struct node *list(int n)
{
	struct node *h = NULL;
	for (int i = 0; i < n; i++) {
		struct node *x = malloc(sizeof(*x));	/* LEAK:list */
		x->next = h;
		h = x;
	}
	return h;
}

int main(void)
{
	struct node *lost = list(5);
	lost->pad[0] = 1;
	lost = NULL;
	struct node *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));	/* LEAK:cycle */
	a->next = b;
	b->next = a;
	a = b = NULL;
	g_kept = list(3);
	return 0;
}
