/* events.h - memwatchd's event reader thread. */
#ifndef MEMWATCHD_EVENTS_H
#define MEMWATCHD_EVENTS_H

#include <stdbool.h>

#include "queue.h"

/* Opens the events file; false (logged) when there is none. */
bool events_open(void);
void *events_main(void *arg);
/* Events dropped because the queue was full (also in mwd_lost_queue). */
long long events_dropped(void);
/*
 * Parses one event line (no newline) into a queue item, the item and its
 * ev_item one allocation (item_free frees both); NULL if it is not one.
 */
struct item *events_parse(const char *line, size_t len);

#endif
