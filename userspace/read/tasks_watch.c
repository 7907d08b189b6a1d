/*
 * tasks_watch.c - memwatch-read --watch: a full-screen, top-like view of
 * --tasks (or --threads) refreshed every --interval seconds.
 *
 * Keys, as in top where top has them:
 *   M  sort by rss          P  sort by pid (ascending)
 *   m  sort by mmap_kb      s  sort by stall_ns
 *   a  sort by page_allocs  f  sort by allocfail
 *   < > or left/right arrows: sort by the previous/next column
 *   r  reverse the order    space: refresh now    q: quit
 * main.c only calls this on a tty with text output; elsewhere --watch is
 * plain repeated output.
 */
#define _GNU_SOURCE
#include <curses.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mwfile.h"
#include "output.h"
#include "tasks_rows.h"
#include "util.h"
#include "views.h"

static volatile sig_atomic_t watch_stop;

static void watch_on_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

struct watch_state {
	bool threads;
	char key[64];
	bool ascending;
};

/* Indexes of the columns shown, in order. */
static size_t watch_columns(const struct tasks_tab *t, size_t *pick)
{
	size_t c, n = 0;

	for (c = 0; c < t->ncols; c++)
		if (tasks_col_compact(t, t->cols[c]))
			pick[n++] = c;
	return n;
}

static void watch_set_key(struct watch_state *w, const char *key, bool asc)
{
	snprintf(w->key, sizeof(w->key), "%s", key);
	w->ascending = asc;
}

/* Moves the sort key @dir shown columns left or right. */
static void watch_move_key(struct watch_state *w, const struct tasks_tab *t,
			   int dir)
{
	size_t *pick = xcalloc(t->ncols, sizeof(size_t));
	size_t n = watch_columns(t, pick), i;
	int key = tasks_tab_key(t, w->key);

	for (i = 0; i < n; i++)
		if ((int)pick[i] == key)
			break;
	if (i == n)
		i = 0;
	else
		i = dir > 0 ? (i + 1) % n : (i + n - 1) % n;
	if (n)
		watch_set_key(w, t->cols[pick[i]], w->ascending);
	free(pick);
}

static void watch_draw(const struct mw_opts *opts, const struct tasks_tab *t,
		       int key, const struct watch_state *w)
{
	size_t *pick = xcalloc(t->ncols, sizeof(size_t));
	size_t n = watch_columns(t, pick), c, r;
	size_t *width = xcalloc(n ? n : 1, sizeof(size_t));
	size_t maxrows = LINES > 3 ? (size_t)LINES - 3 : 0;
	char cell[128], stamp[32], line[512];
	time_t now = time(NULL);
	int x;

	if (maxrows > t->nrows)
		maxrows = t->nrows;
	for (c = 0; c < n; c++) {
		mw_col_label(t->cols[pick[c]], cell, sizeof(cell));
		width[c] = strlen(cell) + ((int)pick[c] == key);
		for (r = 0; r < maxrows; r++) {
			mw_format_cell(opts, t->cols[pick[c]],
				       t->rows[r][pick[c]], cell, sizeof(cell));
			if (strlen(cell) > width[c])
				width[c] = strlen(cell);
		}
	}
	erase();
	strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime(&now));
	mw_col_label(w->key, cell, sizeof(cell));
	snprintf(line, sizeof(line),
		 "memwatch %s - %s  %zu %s  from %s  sort %s %s",
		 w->threads ? "threads" : "tasks", stamp, t->nrows,
		 w->threads ? "threads" : "processes",
		 t->from_module ? "module" : "/proc (no event columns)", cell,
		 w->ascending ? "up" : "down");
	mvaddnstr(0, 0, line, COLS);
	mvaddnstr(1, 0, "keys: M rss  P pid  m mmap  s stall  a pages  f fails  "
		  "< > column  r reverse  q quit", COLS);
	attron(A_REVERSE);
	mvhline(2, 0, ' ', COLS);
	for (c = 0, x = 0; c < n && x < COLS; c++) {
		char label[140];

		mw_col_label(t->cols[pick[c]], cell, sizeof(cell));
		snprintf(label, sizeof(label), "%s%s", cell,
			 (int)pick[c] == key ? (w->ascending ? "^" : "v") : "");
		if ((int)pick[c] == key)
			attron(A_BOLD | A_UNDERLINE);
		if (c + 1 == n)
			mvprintw(2, x, "%s", label);
		else
			mvprintw(2, x, "%*s", (int)width[c], label);
		if ((int)pick[c] == key)
			attroff(A_BOLD | A_UNDERLINE);
		x += (int)width[c] + 1;
	}
	attroff(A_REVERSE);
	for (r = 0; r < maxrows; r++) {
		for (c = 0, x = 0; c < n && x < COLS; c++) {
			mw_format_cell(opts, t->cols[pick[c]],
				       t->rows[r][pick[c]], cell, sizeof(cell));
			if (c + 1 == n)
				mvaddnstr(3 + (int)r, x, cell, COLS - x);
			else
				mvprintw(3 + (int)r, x, "%*s", (int)width[c],
					 cell);
			x += (int)width[c] + 1;
		}
	}
	refresh();
	free(width);
	free(pick);
}

/* Applies key @ch; returns false to quit. */
static bool watch_key(struct watch_state *w, const struct tasks_tab *t, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		return false;
	case 'M':
		watch_set_key(w, w->threads ? "minflt" : "rss_kb", false);
		break;
	case 'P':
		watch_set_key(w, w->threads ? "tid" : "pid", true);
		break;
	case 'm':
		watch_set_key(w, "mmap_kb", false);
		break;
	case 's':
		watch_set_key(w, "stall_ns", false);
		break;
	case 'a':
		watch_set_key(w, "page_allocs", false);
		break;
	case 'f':
		watch_set_key(w, "allocfail", false);
		break;
	case 'r':
	case 'R':
		w->ascending = !w->ascending;
		break;
	case '<':
	case ',':
	case KEY_LEFT:
		watch_move_key(w, t, -1);
		break;
	case '>':
	case '.':
	case KEY_RIGHT:
		watch_move_key(w, t, 1);
		break;
	}
	return true;
}

int tasks_watch(const struct mw_opts *opts)
{
	struct watch_state w = { .threads = opts->mode == MW_MODE_THREADS };
	struct sigaction sa;
	struct tasks_tab t;
	long samples = 0;
	bool noted = false, screen = false, go = true;
	int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	watch_set_key(&w, opts->sort_key ? opts->sort_key :
		      w.threads ? "minflt" : "rss_kb", opts->sort_ascending);
	while (go && !watch_stop) {
		int key, ch;

		/* The first load runs before the screen, so notes stay readable. */
		if (tasks_tab_load(&t, opts->no_module, w.threads,
				   w.threads ? opts->pid : 0,
				   noted ? NULL : read_note)) {
			ret = 1;
			break;
		}
		noted = true;
		tasks_tab_filter(&t, opts->pid, opts->comm);
		key = tasks_tab_key(&t, w.key);
		if (key < 0) {
			if (screen)
				endwin();
			screen = false;
			fprintf(stderr, "%s: unknown sort key '%s'\n", mw_prog,
				w.key);
			tasks_tab_free(&t);
			ret = 1;
			break;
		}
		tasks_tab_sort(&t, key, w.ascending);
		if (!screen) {
			initscr();
			cbreak();
			noecho();
			keypad(stdscr, TRUE);
			curs_set(0);
			screen = true;
		}
		watch_draw(opts, &t, key, &w);
		samples++;
		if (opts->count && samples >= opts->count) {
			tasks_tab_free(&t);
			break;
		}
		timeout((int)(opts->interval * 1000));
		ch = getch();
		if (ch != ERR)
			go = watch_key(&w, &t, ch);
		tasks_tab_free(&t);
	}
	if (screen)
		endwin();
	return ret;
}
