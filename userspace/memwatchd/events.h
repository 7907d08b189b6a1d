/* events.h - memwatchd's event reader thread. */
#ifndef MEMWATCHD_EVENTS_H
#define MEMWATCHD_EVENTS_H

#include <stdbool.h>

#include "queue.h"

/* Opens the events file; false (logged) when there is none. */
bool events_open(void);
void *events_main(void *arg);
/* Parses one event line (no newline); NULL if it is not one. */
struct ev_item *events_parse(const char *line, size_t len);

#endif
