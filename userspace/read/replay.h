/*
 * replay.h - memwatch-read --db FILE: views as of a recorded moment, the
 * per-call event log (--events) and time series (--history).
 */
#ifndef MW_REPLAY_H
#define MW_REPLAY_H

#include "options.h"
#include "output.h"

/*
 * Opens the recording and, for the state views, installs the moment of
 * --at (default: the latest sample) as the system the views read.
 * Returns -1 to go on, or an exit status after printing an error.
 */
int replay_open(struct mw_opts *opts);
/* Uninstalls the moment, frees it and closes the recording (fuzzing: many in one process). */
void replay_close(void);
/* Options that need --db, or clash with it: 0, or 2 with replay_arg_error set. */
int replay_check_args(const struct mw_opts *opts);
extern const char *replay_arg_error;
int events_show(struct mw_out *o, const struct mw_opts *opts);
int history_show(struct mw_out *o, const struct mw_opts *opts);

#endif
