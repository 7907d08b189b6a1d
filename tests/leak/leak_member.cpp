// Leak kind 2: a data member the destructor does not free. Two Buffers
// are created and destroyed: 2 x 200 bytes definitely lost.
#include <cstring>

class Buffer {
public:
	Buffer() : data_(new char[200]) { std::memset(data_, 0, 200); }	// LEAK:member
	~Buffer() {}	// forgets delete[] data_
	char at(int i) const { return data_[i]; }

private:
	char *data_;
};

int main()
{
	Buffer *b = new Buffer;
	int r = b->at(3);
	delete b;
	{
		Buffer on_stack;
		r += on_stack.at(5);
	}
	return r;
}
