/* suspects_cmd.h - memwatch-read --suspects (Documentation/suspects.md). */
#ifndef MW_SUSPECTS_CMD_H
#define MW_SUSPECTS_CMD_H

/* The whole command: its own options, sampling or a recording, the report. */
int suspects_main(int argc, char **argv);

#endif
