/* writer.h - memwatchd's writer thread (the database's only user). */
#ifndef MEMWATCHD_WRITER_H
#define MEMWATCHD_WRITER_H

#include <stdbool.h>

void *writer_main(void *arg);
/* Events committed so far. */
long long writer_recorded_events(void);
/* Set by main once the sampler and event reader have exited. */
bool writer_producers_done(void);

#endif
