/* sampler.h - memwatchd's sampler thread. */
#ifndef MEMWATCHD_SAMPLER_H
#define MEMWATCHD_SAMPLER_H

#include "queue.h"

/* One sample of the state now (the first and every full_every-th full). */
struct sample_item *sampler_take(void);
/* After a lost sample: the next one stores every row. */
void sampler_forget(void);
void *sampler_main(void *arg);

#endif
