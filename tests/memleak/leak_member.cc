// Leak 2: the destructor does not free a data member (2 instances x 256 bytes).
#include <cstring>

class Buffer {
public:
	Buffer() { data_ = new char[256]; std::memset(data_, 0, 256); }	// LEAK-2
	~Buffer() { /* forgot: delete[] data_; */ }
	char *data() { return data_; }
private:
	char *data_;
};

static int use(int i)
{
	Buffer b;
	b.data()[0] = (char)i;
	return b.data()[0];
}

int main()
{
	Buffer *heap = new Buffer;
	int r = use(1);
	delete heap;
	return r == 1 ? 0 : 1;
}
