/* queue.c - the bounded queue (see queue.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "queue.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nonempty, nonfull;
static struct item *head, *tail;
static size_t count, capacity;
static bool woken;

void queue_init(size_t cap)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&nonempty, &a);
	pthread_cond_init(&nonfull, &a);
	pthread_condattr_destroy(&a);
	capacity = cap;
}

bool queue_push(struct item *it)
{
	pthread_mutex_lock(&lock);
	if (count >= capacity) {
		pthread_mutex_unlock(&lock);
		return false;
	}
	it->next = NULL;
	if (tail)
		tail->next = it;
	else
		head = it;
	tail = it;
	count++;
	pthread_cond_signal(&nonempty);
	pthread_mutex_unlock(&lock);
	return true;
}

static struct timespec deadline(int timeout_ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	return until;
}

struct item *queue_push_list(struct item *list, size_t n, int wait_ms)
{
	struct timespec until = deadline(wait_ms < 0 ? 0 : wait_ms);
	bool was_empty;

	pthread_mutex_lock(&lock);
	while (list) {
		struct item *last = list, *rest;
		size_t take, i;

		while (count >= capacity) {
			if (wait_ms < 0)
				pthread_cond_wait(&nonfull, &lock);
			else if (wait_ms == 0 ||
				 pthread_cond_timedwait(&nonfull, &lock, &until) == ETIMEDOUT)
				goto out;
		}
		take = capacity - count < n ? capacity - count : n;
		for (i = 1; i < take; i++)
			last = last->next;
		rest = last->next;
		last->next = NULL;
		was_empty = !head;
		if (tail)
			tail->next = list;
		else
			head = list;
		tail = last;
		count += take;
		n -= take;
		list = rest;
		/* One wakeup per batch, not per item. */
		if (was_empty)
			pthread_cond_signal(&nonempty);
	}
out:
	pthread_mutex_unlock(&lock);
	return list;
}

struct item *queue_take(int timeout_ms)
{
	struct timespec until = deadline(timeout_ms);
	struct item *list;

	pthread_mutex_lock(&lock);
	while (!head && !woken &&
	       pthread_cond_timedwait(&nonempty, &lock, &until) != ETIMEDOUT)
		;
	woken = false;
	list = head;
	head = tail = NULL;
	count = 0;
	pthread_cond_broadcast(&nonfull);
	pthread_mutex_unlock(&lock);
	return list;
}

void queue_wake(void)
{
	pthread_mutex_lock(&lock);
	woken = true;
	pthread_cond_signal(&nonempty);
	pthread_mutex_unlock(&lock);
}

void sample_free(struct sample_item *s)
{
	size_t i, r;
	int k;

	if (!s)
		return;
	for (k = 0; k < 2; k++) {
		for (r = 0; r < s->nrows[k]; r++) {
			char **cells = s->rows[k][r].cells;

			for (i = 0; cells && cells[i] != (char *)-1; i++)
				free(cells[i]);
			free(cells);
		}
		free(s->rows[k]);
	}
	for (i = 0; i < s->nfiles; i++) {
		free(s->fnames[i]);
		free(s->ftexts[i]);
	}
	free(s->fnames);
	free(s->ftexts);
	free(s->fzlen);
	free(s->fbytes);
	for (i = 0; i < s->ncnt; i++) {
		free(s->csrc[i]);
		free(s->cname[i]);
	}
	free(s->csrc);
	free(s->cname);
	free(s->cval);
	free(s->frag);
	free(s);
}

void item_free(struct item *it)
{
	if (it->kind == ITEM_SAMPLE)
		sample_free(it->sample);
	free(it);
}
