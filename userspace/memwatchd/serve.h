/* serve.h - memwatchd's HTTP side: started by main after the recorder. */
#ifndef MEMWATCHD_SERVE_H
#define MEMWATCHD_SERVE_H
#include <stddef.h>
struct serve_config {
	const char *listen;	/* "ADDR:PORT"; NULL: the default, loopback */
	const char *db_path;	/* the recording, NULL when none (live only) */
	int metrics_top;	/* --metrics-top N, per-pid series */
	const char *prometheus;	/* --prometheus URL for the cluster page, or NULL */
	double suspects_interval;	/* --suspects-interval SECS; 0: 15 s */
};
/* Starts the server threads; 0, or -1 with a message in err. */
int serve_start(const struct serve_config *cfg, char *err, size_t errlen);
/* Stops them; blocks until no request is in flight. */
void serve_stop(void);
#endif
