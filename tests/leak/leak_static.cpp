// Leak kind 3: a static data member re-allocated for each instance without
// freeing the previous one. Five instances: 4 x 50 ints definitely lost,
// the last 200 bytes still reachable through the static member.
#include <cstdio>

class Widget {
public:
	Widget()
	{
		table_ = new int[50];	// LEAK:static
		table_[0] = ++count_;
	}
	static int *table_;
	static int count_;
};

int *Widget::table_;
int Widget::count_;

int main()
{
	for (int i = 0; i < 5; i++) {
		Widget w;
		(void)w;
	}
	return Widget::table_[0] == 5 ? 0 : 1;
}
