/* trend.c - Theil-Sen, Mann-Kendall, median and MAD (see trend.h). */
#include <math.h>
#include <stdlib.h>

#include "trend.h"
#include "util.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double normal_sf(double z)
{
	return 0.5 * erfc(z / sqrt(2.0));
}

struct mk_result mann_kendall(const double *y, size_t n)
{
	struct mk_result r = { 0, 0, 0, 1 };
	double *sorted, ties = 0;
	size_t i, j;

	if (n < 3)
		return r;
	for (i = 0; i + 1 < n; i++)
		for (j = i + 1; j < n; j++)
			r.s += (y[j] > y[i]) - (y[j] < y[i]);
	/* Ties shrink the variance: each group of t equal values removes
	 * t(t-1)(2t+5) from n(n-1)(2n+5) (Kendall 1975). */
	sorted = xcalloc(n, sizeof(double));
	for (i = 0; i < n; i++)
		sorted[i] = y[i];
	qsort(sorted, n, sizeof(double), cmp_double);
	for (i = 0; i < n; i = j) {
		double t;

		for (j = i + 1; j < n && sorted[j] == sorted[i]; j++)
			;
		t = (double)(j - i);
		ties += t * (t - 1) * (2 * t + 5);
	}
	free(sorted);
	r.var = ((double)n * (n - 1) * (2.0 * n + 5) - ties) / 18.0;
	if (r.var <= 0)
		return r;
	if (r.s > 0)
		r.z = (r.s - 1) / sqrt(r.var);
	else if (r.s < 0)
		r.z = (r.s + 1) / sqrt(r.var);
	r.p_up = normal_sf(r.z);
	return r;
}

double theil_sen(const double *t, const double *y, size_t n)
{
	size_t i, j, m = 0;
	double *slopes, med;

	if (n < 2)
		return 0;
	slopes = xcalloc(n * (n - 1) / 2, sizeof(double));
	for (i = 0; i + 1 < n; i++)
		for (j = i + 1; j < n; j++)
			if (t[j] > t[i])
				slopes[m++] = (y[j] - y[i]) / (t[j] - t[i]);
	med = median_inplace(slopes, m);
	free(slopes);
	return med;
}

double median_inplace(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void median_mad(double *v, size_t n, double *median, double *mad)
{
	size_t i;

	*median = median_inplace(v, n);
	for (i = 0; i < n; i++)
		v[i] = fabs(v[i] - *median);
	*mad = median_inplace(v, n);
}
