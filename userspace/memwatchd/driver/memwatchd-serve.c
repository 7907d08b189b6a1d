/*
 * serve_driver.c - memwatchd-serve: the HTTP side alone, for tests and for
 * machines without a recording. memwatchd (main.c) starts the same server
 * next to its recorder.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: memwatchd-serve [--listen ADDR:PORT] [--db FILE] [--metrics-top N]\n"
"                       [--suspects-interval SECS]\n"
"                       [--prometheus URL]  (the cluster page's Prometheus)\n"
"Serves memwatch's JSON API, dashboard and /metrics (default 127.0.0.1:7391)\n"
"until SIGINT or SIGTERM.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "metrics-top", required_argument, NULL, 't' },
		{ "suspects-interval", required_argument, NULL, 's' },
		{ "prometheus", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct serve_config cfg = { .metrics_top = 10 };
	char err[512];
	sigset_t set;
	long top;
	int c, sig;

	mw_prog = "memwatchd-serve";
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'l': cfg.listen = optarg; break;
		case 'd': cfg.db_path = optarg; break;
		case 'P': cfg.prometheus = optarg; break;
		case 't':
			if (!parse_long(optarg, 0, 100000, &top))
				return usage_error("bad --metrics-top '%s': want 0..100000", optarg);
			cfg.metrics_top = top;
			break;
		case 's':
			if (!parse_seconds(optarg, &cfg.suspects_interval) ||
			    cfg.suspects_interval < 0.05 || cfg.suspects_interval > 86400)
				return usage_error("bad --suspects-interval '%s': want 0.05..86400 seconds",
						   optarg);
			break;
		case 'h': usage(stdout); return 0;
		default:	/* ':' or '?' */
			return getopt_error(c, argv);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* server threads inherit it */
	signal(SIGPIPE, SIG_IGN);
	if (serve_start(&cfg, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", mw_prog, err);
		return 1;
	}
	fprintf(stderr, "%s: listening on %s\n", mw_prog, cfg.listen ? cfg.listen : "127.0.0.1:7391");
	sigwait(&set, &sig);
	serve_stop();
	return 0;
}
