/*
 * memwatch-leak - run a program with libmemwatch-leak.so preloaded and
 * report the memory (and, with --fds, the file descriptors) it leaked.
 * The library dumps raw addresses into a private directory; this process
 * symbolises them after the program is gone, so the program never pays for
 * DWARF. The program's exit status is ours.
 */
#include "fe.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
"Usage: memwatch-leak [OPTIONS] [--] PROGRAM [ARGS...]\n"
"       memwatch-leak -p PID [--duration SECS] [-i SECS] [-a SECS] [--fds] [-j] [-o FILE]\n"
"Run PROGRAM and report the heap blocks it leaked, grouped by allocation stack,\n"
"largest first, classified as valgrind does (definitely/indirectly/possibly lost,\n"
"still reachable). The report goes to stderr; PROGRAM's exit status is passed on.\n"
"\n"
"Options:\n"
"  -o, --output FILE        write reports to FILE instead of stderr (%%p = pid)\n"
"  -j, --json               reports as JSON, one document per line\n"
"  -r, --show-reachable     also list possibly lost and still reachable blocks\n"
"  -d, --depth N            frames kept per stack, 1-%d (default %d)\n"
"      --fds                report file descriptors still open at exit\n"
"  -s, --suppressions FILE  valgrind-style suppression file (repeatable)\n"
"  -i, --interval SECS      every SECS, report blocks still outstanding\n"
"  -a, --min-age SECS       periodic reports: only blocks at least SECS old\n"
"      --signal SIG         periodic report when PROGRAM receives SIG (e.g. USR2)\n"
"  -f, --follow-fork        forked children report their own leaks (default: silent)\n"
"  -e, --follow-exec        programs PROGRAM executes are traced too (default: not)\n"
"      --error-exitcode N   exit N if leaks, mismatched frees or open fds were found\n"
"      --lib PATH           the preload library (default: next to this program)\n"
"  -p, --pid PID            attach to a running process; report its allocations made\n"
"                           since then and still outstanding, at -i and at detach\n"
"      --duration SECS      with -p: detach after SECS (default: Ctrl-C or its exit)\n"
"  -h, --help               this text\n"
"\n"
"Examples:\n"
"  memwatch-leak ./server --port 8080\n"
"  memwatch-leak --json -o leaks.%%p.json make test\n"
"  memwatch-leak --fds --error-exitcode 99 ./unit-tests\n"
"  memwatch-leak -i 10 -a 60 --signal USR2 ./daemon   # growth every 10 s\n"
"  memwatch-leak -p 4242 -i 60 -a 30 --duration 600   # a running server\n",
		MWL_MAX_DEPTH, MWL_DEFAULT_DEPTH);
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_signal(const char *s)
{
	unsigned n;
	if (!parse_uint(s, NSIG - 1, &n))
		return n ? (int)n : -1;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	static const struct { const char *name; int sig; } sigs[] = {
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "HUP", SIGHUP },
		{ "WINCH", SIGWINCH }, { "PROF", SIGPROF }, { "URG", SIGURG },
	};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcmp(s, sigs[i].name))
			return sigs[i].sig;
	return -1;
}

/* One line naming the problem and a pointer to --help, as coreutils do. */
__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("memwatch-leak: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'memwatch-leak --help' for more information.\n", stderr);
	return 2;
}

static int bad(const char *what, const char *val)
{
	return usage_error("bad value '%s' for %s", val, what);
}

/* 0 = run, 1 = --help given, 2 = usage error */
static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_FDS = 256, OPT_SIGNAL, OPT_LIB, OPT_ERROR_EXIT, OPT_DURATION };
	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "show-reachable", no_argument, NULL, 'r' },
		{ "depth", required_argument, NULL, 'd' },
		{ "fds", no_argument, NULL, OPT_FDS },
		{ "suppressions", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "min-age", required_argument, NULL, 'a' },
		{ "signal", required_argument, NULL, OPT_SIGNAL },
		{ "follow-fork", no_argument, NULL, 'f' },
		{ "follow-exec", no_argument, NULL, 'e' },
		{ "error-exitcode", required_argument, NULL, OPT_ERROR_EXIT },
		{ "lib", required_argument, NULL, OPT_LIB },
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned v;
	int c;
	memset(o, 0, sizeof(*o));
	o->depth = MWL_DEFAULT_DEPTH;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:o:jrd:s:i:a:fehp:", longs, NULL)) != -1) {
		switch (c) {
		case 'o': o->output = optarg; break;
		case 'j': o->json = 1; break;
		case 'r': o->show_reachable = 1; break;
		case 'd':
			if (parse_uint(optarg, MWL_MAX_DEPTH, &v) || !v)
				return bad("--depth", optarg);
			o->depth = (int)v;
			break;
		case OPT_FDS: o->fds = 1; break;
		case 's':
			if (o->n_supp == MAX_SUPP_FILES)
				return bad("--suppressions (too many files)", optarg);
			o->supp[o->n_supp++] = optarg;
			break;
		case 'i':
			if (parse_uint(optarg, 86400, &v) || !v)
				return bad("--interval", optarg);
			o->interval = v;
			break;
		case 'a':
			if (parse_uint(optarg, 86400 * 365, &v))
				return bad("--min-age", optarg);
			o->min_age = v;
			break;
		case OPT_SIGNAL:
			if ((o->signal = parse_signal(optarg)) < 0 || o->signal == SIGKILL || o->signal == SIGSTOP)
				return bad("--signal", optarg);
			break;
		case 'f': o->follow_fork = 1; break;
		case 'e': o->follow_exec = 1; break;
		case OPT_ERROR_EXIT:
			if (parse_uint(optarg, 255, &v) || !v)
				return bad("--error-exitcode", optarg);
			o->error_exitcode = (int)v;
			break;
		case OPT_LIB: o->lib = optarg; break;
		case 'p':
			if (parse_uint(optarg, 1u << 22, &v) || !v)
				return bad("--pid", optarg);
			o->pid = (int)v;
			break;
		case OPT_DURATION:
			if (parse_uint(optarg, 86400 * 365, &v) || !v)
				return bad("--duration", optarg);
			o->duration = v;
			break;
		case 'h': usage(stdout); return 1;
		case ':':
			if (strncmp(argv[optind - 1], "--", 2))
				return usage_error("option '-%c' needs an argument", optopt);
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (strncmp(argv[optind - 1], "--", 2))	/* "-jz" names -z */
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->pid) {
		if (optind < argc) {
			return usage_error("%s", "-p attaches to a running process; give no program");
		}
		if (o->signal || o->follow_fork || o->follow_exec || o->error_exitcode || o->show_reachable) {
			return usage_error("%s", "--signal, -f, -e, -r and --error-exitcode are not available with -p");
		}
		return 0;
	}
	if (o->duration) {
		return usage_error("%s", "--duration needs -p");
	}
	if (optind >= argc) {
		return usage_error("%s", "no program to run");
	}
	o->argv = argv + optind;
	return 0;
}

static char *find_lib(const char *given)
{
	char exe[PATH_MAX], cand[PATH_MAX + 64];
	if (given)
		return realpath(given, NULL);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	static const char *const rel[] = { "/libmemwatch-leak.so", "/../lib/libmemwatch-leak.so" };
	for (size_t i = 0; i < 2; i++) {
		snprintf(cand, sizeof(cand), "%s%s", exe, rel[i]);
		if (access(cand, R_OK) == 0)
			return realpath(cand, NULL);
	}
	return NULL;
}

static int setup_env(const struct options *o, const char *lib, const char *dir)
{
	char buf[PATH_MAX * 2], num[32];
	const char *old = getenv("LD_PRELOAD");
	snprintf(buf, sizeof(buf), "%s%s%s", lib, old && *old ? ":" : "", old ? old : "");
	snprintf(num, sizeof(num), "%d", o->depth);
	char flags[8], *f = flags;
	if (o->follow_fork) *f++ = 'f';
	if (o->follow_exec) *f++ = 'e';
	if (o->fds) *f++ = 'd';
	*f = 0;
	if (setenv("LD_PRELOAD", buf, 1) || setenv(MWL_ENV_DUMP, dir, 1) ||
	    setenv(MWL_ENV_DEPTH, num, 1) || setenv(MWL_ENV_FLAGS, flags, 1))
		return -1;
	snprintf(num, sizeof(num), "%u", o->interval);
	setenv(MWL_ENV_INTERVAL, num, 1);
	snprintf(num, sizeof(num), "%u", o->min_age);
	setenv(MWL_ENV_MIN_AGE, num, 1);
	snprintf(num, sizeof(num), "%d", o->signal);
	setenv(MWL_ENV_SIGNAL, num, 1);
	return 0;
}

static pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static FILE *open_output(const struct options *o, pid_t pid)
{
	if (!o->output)
		return stderr;
	char path[PATH_MAX];
	size_t n = 0;
	for (const char *p = o->output; *p && n < sizeof(path) - 24; p++) {
		if (p[0] == '%' && p[1] == 'p') {
			n += (size_t)snprintf(path + n, sizeof(path) - n, "%d", (int)pid);
			p++;
		} else {
			path[n++] = *p;
		}
	}
	path[n] = 0;
	FILE *f = fopen(path, "a");
	if (!f) {
		fprintf(stderr, "memwatch-leak: cannot write %s: %s; reporting to stderr\n", path, strerror(errno));
		return stderr;
	}
	return f;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* files in dir starting with prefix, sorted; caller frees */
static char **list_dir(const char *dir, const char *prefix, size_t *n)
{
	DIR *d = opendir(dir);
	char **v = NULL;
	size_t cap = 0;
	*n = 0;
	if (!d)
		return NULL;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = reallocarray(v, cap, sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		if (asprintf(&v[*n], "%s/%s", dir, e->d_name) < 0)
			break;
		(*n)++;
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), name_cmp);
	return v;
}

/* the program's executable, as /proc/PID/exe will name it */
static char *main_exe;

static void find_main_exe(const char *prog)
{
	char buf[PATH_MAX];
	if (strchr(prog, '/')) {
		main_exe = realpath(prog, NULL);
		return;
	}
	const char *path = getenv("PATH");
	for (const char *p = path ? path : "/usr/bin:/bin"; p && *p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? p : ".", prog);
		if (access(buf, X_OK) == 0) {
			main_exe = realpath(buf, NULL);
			return;
		}
		p += n;
		if (*p)
			p++;
	}
}

static int report_one(const struct options *o, const char *path, pid_t main_pid, int status)
{
	struct dump d;
	int errors = 0;
	if (dump_read(path, &d) == 0) {
		FILE *out = open_output(o, d.pid);
		errors = report_print(out, &d, o, d.pid == main_pid ? status : -1, main_exe);
		fflush(out);
		if (out != stderr)
			fclose(out);
		dump_free(&d);
	}
	unlink(path);
	return errors;
}

int report_files(const struct options *o, const char *dir, const char *prefix,
			pid_t main_pid, int status)
{
	size_t n;
	char **files = list_dir(dir, prefix, &n);
	int errors = 0;
	for (size_t i = 0; i < n; i++) {
		errors |= report_one(o, files[i], main_pid, status);
		free(files[i]);
	}
	free(files);
	return errors;
}

void report_dir_remove(const char *dir)
{
	size_t n;
	char **files = list_dir(dir, "", &n);
	for (size_t i = 0; i < n; i++) {
		unlink(files[i]);
		free(files[i]);
	}
	free(files);
	rmdir(dir);
}

static int pass_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		struct rlimit none = { 0, 0 };
		setrlimit(RLIMIT_CORE, &none);	/* the program's core, not ours */
		signal(sig, SIG_DFL);
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, sig);
		sigprocmask(SIG_UNBLOCK, &s, NULL);
		raise(sig);
		return 128 + sig;
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct options o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : 2;
	for (int i = 0; i < o.n_supp; i++) {
		if (supp_load(o.supp[i]) < 0) {
			fprintf(stderr, "memwatch-leak: cannot read suppressions from %s: %s\n", o.supp[i],
				errno ? strerror(errno) : "unbalanced braces");
			return 2;
		}
	}
	char *lib = find_lib(o.lib);
	if (!lib) {
		fprintf(stderr, "memwatch-leak: preload library %s not found (build it, or give --lib PATH)\n",
			o.lib ? o.lib : "libmemwatch-leak.so");
		return 1;
	}
	if (o.pid) {
		rc = attach_main(&o, o.pid, o.duration, lib);
		supp_free();
		free(lib);
		return rc;
	}
	const char *tmpdir = getenv("TMPDIR");
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/memwatch-leak.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "memwatch-leak: cannot create a directory for dumps in %s: %s\n",
			tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(errno));
		return 1;
	}
	if (setup_env(&o, lib, dir) < 0) {
		fprintf(stderr, "memwatch-leak: cannot set up the environment: %s\n", strerror(errno));
		return 1;
	}
	find_main_exe(o.argv[0]);
	/* a close-on-exec pipe tells us whether exec succeeded */
	int execpipe[2];
	if (pipe2(execpipe, O_CLOEXEC) < 0) {
		fprintf(stderr, "memwatch-leak: pipe: %s\n", strerror(errno));
		return 1;
	}
	fflush(NULL);
	child = fork();
	if (child < 0) {
		fprintf(stderr, "memwatch-leak: fork: %s\n", strerror(errno));
		return 1;
	}
	if (child == 0) {
		close(execpipe[0]);
		execvp(o.argv[0], o.argv);
		int err = errno;
		fprintf(stderr, "memwatch-leak: cannot run '%s': %s\n", o.argv[0], strerror(err));
		if (write(execpipe[1], &err, sizeof(err)) < 0)
			_exit(126);
		_exit(err == ENOENT ? 127 : 126);
	}
	close(execpipe[1]);
	fe_main_pid = child;
	int exec_err = 0;
	ssize_t got;
	while ((got = read(execpipe[0], &exec_err, sizeof(exec_err))) < 0 && errno == EINTR)
		;
	close(execpipe[0]);
	if (got > 0) {	/* nothing ran: nothing to report */
		waitpid(child, NULL, 0);
		report_dir_remove(dir);
		free(lib);
		return exec_err == ENOENT ? 127 : 126;
	}
	/* like time(1): the terminal's ^C is for the program; we stay to report */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTERM, forward);
	signal(SIGHUP, forward);

	int status = 0, errors = 0;
	int periodic = o.interval || o.signal;
	for (;;) {
		pid_t w = waitpid(child, &status, periodic ? WNOHANG : 0);
		if (w == child)
			break;
		if (w < 0 && errno != EINTR) {
			fprintf(stderr, "memwatch-leak: waitpid: %s\n", strerror(errno));
			return 1;
		}
		if (periodic) {
			report_files(&o, dir, "periodic.", child, -1);
			struct timespec t = { 0, 100 * 1000 * 1000 };
			nanosleep(&t, NULL);
		}
	}
	if (periodic)
		report_files(&o, dir, "periodic.", child, -1);

	char main_dump[PATH_MAX + 32];
	snprintf(main_dump, sizeof(main_dump), "%s/dump.%d", dir, (int)child);
	if (access(main_dump, R_OK) != 0) {
		FILE *out = open_output(&o, child);
		if (WIFSIGNALED(status))
			fprintf(out, "memwatch-leak[%d]: no report: killed by signal %d\n", (int)child, WTERMSIG(status));
		else
			fprintf(out, "memwatch-leak[%d]: no report: the process left by _exit(), or exec'd an untraced program (exit status %d)\n",
				(int)child, WEXITSTATUS(status));
		if (out != stderr)
			fclose(out);
	} else {
		errors |= report_one(&o, main_dump, child, status);
	}
	/* other processes: forked children (--follow-fork), exec'd programs */
	errors |= report_files(&o, dir, "dump.", child, -1);
	report_dir_remove(dir);
	supp_free();
	free(lib);
	free(main_exe);
	if (o.error_exitcode && errors)
		return o.error_exitcode;
	return pass_status(status);
}
