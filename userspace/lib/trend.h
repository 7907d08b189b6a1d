/*
 * trend.h - robust trend statistics over a time series: Theil-Sen slope,
 * Mann-Kendall test with the tie-corrected variance, median and MAD.
 * Pure functions, no I/O: memwatch-read --suspects and memwatchd share them.
 */
#ifndef MW_TREND_H
#define MW_TREND_H

#include <stddef.h>

struct mk_result {
	double s;	/* Mann-Kendall S: concordant minus discordant pairs */
	double var;	/* Var(S) under H0, corrected for ties */
	double z;	/* continuity-corrected normal score */
	double p_up;	/* one-sided p-value of "no upward trend" */
};

/* Mann-Kendall over y[0..n); n < 3 or all ties gives p_up = 1. */
struct mk_result mann_kendall(const double *y, size_t n);
/*
 * Theil-Sen slope: the median of (y[j] - y[i]) / (t[j] - t[i]) over pairs
 * with t[j] > t[i]. 0 when no such pair. O(n^2) memory and time: callers
 * keep n in the hundreds.
 */
double theil_sen(const double *t, const double *y, size_t n);
/* Median of v[0..n) (v is reordered); 0 for n == 0. */
double median_inplace(double *v, size_t n);
/* Median and the median absolute deviation of v[0..n) (v is reordered). */
void median_mad(double *v, size_t n, double *median, double *mad);
/* P(Z > z) of the standard normal. */
double normal_sf(double z);

#endif
