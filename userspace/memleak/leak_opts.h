/* leak_opts.h - the contract between memwatch-leak (front-end) and
 * libmemwatch-leak.so: one environment variable carries every option, so the
 * library can parse it in its constructor without allocating.
 *
 *   MEMWATCH_LEAK_OPTS="json=1,reachable=1,fds=0,output=/abs/path.%p"
 *
 * output= must come last: the path runs to the end of the string (it may
 * contain commas).
 */
#ifndef MEMWATCH_LEAK_OPTS_H
#define MEMWATCH_LEAK_OPTS_H

#define MW_LEAK_ENV		"MEMWATCH_LEAK_OPTS"
#define MW_LEAK_LIB		"libmemwatch-leak.so"
#define MW_LEAK_FORMAT_VERSION	1

#endif
