/* mwsnap.c - the installed replay snapshot (see mwsnap.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mwsnap.h"
#include "util.h"

static const struct mw_snap *snap;

/* Paths that cannot exist on a live system, so nothing real is read by mistake. */
#define SNAP_ROOT	"/memwatch-replay/memwatch"
#define SNAP_PROCFS	"/memwatch-replay/proc"

void mw_snap_install(const struct mw_snap *s)
{
	snap = s;
}

const struct mw_snap *mw_snap_current(void)
{
	return snap;
}

const char *mw_snap_root(void)
{
	return SNAP_ROOT;
}

const char *mw_snap_procfs(void)
{
	return SNAP_PROCFS;
}

char *mw_snap_read(const char *path)
{
	char name[4096];
	size_t i;

	if (!strncmp(path, SNAP_ROOT "/", strlen(SNAP_ROOT) + 1))
		snprintf(name, sizeof(name), "%s", path + strlen(SNAP_ROOT) + 1);
	else if (!strncmp(path, SNAP_PROCFS "/", strlen(SNAP_PROCFS) + 1))
		snprintf(name, sizeof(name), "proc/%s",
			 path + strlen(SNAP_PROCFS) + 1);
	else
		name[0] = '\0';
	for (i = 0; snap && name[0] && i < snap->nfiles; i++)
		if (!strcmp(snap->names[i], name))
			return xstrdup(snap->texts[i]);
	errno = ENOENT;
	return NULL;
}
