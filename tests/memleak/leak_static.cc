// Leak 3: a static data member re-allocated by every instance. Three
// instances: the first two arrays (2 x 128 bytes) are lost, the last is
// still reachable through the static member.
class Counter {
public:
	Counter() { table_ = new int[32]; table_[0] = 1; }	// LEAK-3
	static int *table_;
};
int *Counter::table_;

int main()
{
	for (int i = 0; i < 3; i++) {
		Counter c;
		(void)c;
	}
	return 0;
}
