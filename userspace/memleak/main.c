/* main.c - memwatch-leak: runs a program with libmemwatch-leak.so preloaded
 * and passes its exit status through (a signal death becomes 128 + signal). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "leak_opts.h"

struct options {
	const char *lib;	/* NULL: next to our executable */
	const char *output;	/* NULL: stderr */
	int json;
	int show_reachable;
	int fds;
	int exact;		/* no unwind cache */
	char **argv;		/* the program and its arguments */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: memwatch-leak [options] -- PROGRAM [ARGS...]\n"
		"Runs PROGRAM with " MW_LEAK_LIB " preloaded; at its exit, reports the heap\n"
		"blocks it leaked (grouped by allocation stack, largest first), mismatched\n"
		"free/delete/delete[], and file descriptors left open. The exit status of\n"
		"PROGRAM is passed through (killed by a signal: 128 + signal).\n"
		"\n"
		"Options:\n"
		"  -o, --output FILE     write the report to FILE (%%p: pid) instead of stderr\n"
		"  -j, --json            a JSON document instead of text\n"
		"  -r, --show-reachable  also list still reachable and possibly lost blocks\n"
		"      --no-fds          do not track file descriptors\n"
		"      --exact-stacks    unwind every frame of every allocation (slower;\n"
		"                        default: reuse the outer frames of the thread's last\n"
		"                        stack when their return addresses are unchanged)\n"
		"      --lib PATH        the preload library (default: next to memwatch-leak)\n"
		"  -h, --help            this text\n"
		"\n"
		"Examples:\n"
		"  memwatch-leak -- ./myprog arg           report on stderr\n"
		"  memwatch-leak -o leak.%%p.txt -- make    one report per process\n"
		"  memwatch-leak --json -o r.json -- ./t   machine-readable\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_LIB = 256, OPT_NO_FDS, OPT_EXACT };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "show-reachable", no_argument, NULL, 'r' },
		{ "no-fds", no_argument, NULL, OPT_NO_FDS },
		{ "lib", required_argument, NULL, OPT_LIB },
		{ "exact-stacks", no_argument, NULL, OPT_EXACT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->fds = 1;
	/* '+': stop at the program's name, its options are its own */
	while ((c = getopt_long(argc, argv, "+o:jrh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o->output = optarg; break;
		case 'j': o->json = 1; break;
		case 'r': o->show_reachable = 1; break;
		case OPT_NO_FDS: o->fds = 0; break;
		case OPT_LIB: o->lib = optarg; break;
		case OPT_EXACT: o->exact = 1; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "memwatch-leak: no program given\n");
		return -1;
	}
	o->argv = argv + optind;
	return 0;
}

/* The library: --lib, else libmemwatch-leak.so beside /proc/self/exe. */
static int find_lib(const struct options *o, char *out, size_t cap)
{
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (o->lib) {
		if (!realpath(o->lib, out)) {
			fprintf(stderr, "memwatch-leak: %s: %s\n", o->lib, strerror(errno));
			return -1;
		}
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		fprintf(stderr, "memwatch-leak: /proc/self/exe: %s\n", strerror(errno));
		return -1;
	}
	exe[n] = 0;
	slash = strrchr(exe, '/');
	*slash = 0;
	if ((size_t)snprintf(out, cap, "%s/%s", exe, MW_LEAK_LIB) >= cap || access(out, R_OK)) {
		fprintf(stderr, "memwatch-leak: %s not found next to the executable; use --lib PATH\n",
			MW_LEAK_LIB);
		return -1;
	}
	return 0;
}

/* Environment for the child: LD_PRELOAD first, then the options. */
static int setup_env(const struct options *o, const char *lib)
{
	char preload[PATH_MAX * 2], opts[PATH_MAX + 64], cwd[PATH_MAX] = "";
	const char *old = getenv("LD_PRELOAD");

	snprintf(preload, sizeof(preload), "%s%s%s", lib, old && *old ? ":" : "", old ? old : "");
	/* the program may chdir: make the output path absolute now */
	if (o->output && o->output[0] != '/' && !getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "memwatch-leak: getcwd: %s\n", strerror(errno));
		return -1;
	}
	snprintf(opts, sizeof(opts), "json=%d,reachable=%d,fds=%d,exact=%d%s%s%s%s", o->json,
		 o->show_reachable, o->fds, o->exact, o->output ? ",output=" : "", cwd,
		 cwd[0] ? "/" : "", o->output ? o->output : "");
	if (setenv("LD_PRELOAD", preload, 1) || setenv(MW_LEAK_ENV, opts, 1)) {
		fprintf(stderr, "memwatch-leak: setenv: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int run(char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "memwatch-leak: fork: %s\n", strerror(errno));
		return 127;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "memwatch-leak: %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	/* like time(1): ^C is for the program; we wait for its report */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 127;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	char lib[PATH_MAX];

	if (parse_args(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	if (find_lib(&o, lib, sizeof(lib)) || setup_env(&o, lib))
		return 2;
	return run(o.argv);
}
