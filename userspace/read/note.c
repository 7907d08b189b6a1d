/* note.c - the library loaders' "without the module" note, as memwatch-read prints it. */
#include <stdbool.h>

#include "views.h"

void read_note(bool no_module, const char *what)
{
	struct mw_opts o = { .no_module = no_module };

	mw_note_no_module(&o, what);
}
