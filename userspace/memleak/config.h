/* config.h - the library's options, parsed from MEMWATCH_LEAK_OPTS. */
#ifndef MW_CONFIG_H
#define MW_CONFIG_H

struct mw_config {
	int json;		/* JSON document instead of text */
	int reachable;		/* also still reachable and possibly lost */
	int fds;		/* track file descriptors */
	int exact;		/* no unwind cache (table.c) */
	char output[4096];	/* "" = stderr; %p = pid */
};
extern struct mw_config mw_config;

#endif
