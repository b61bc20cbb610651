/*
 * results/stats.c - medians and the two-sided Mann-Whitney U test, for `kmbench compare`.
 *
 * Theory.  Two sets of repetitions (old x, new y) come from two distributions; the test
 * asks whether one tends to give larger values than the other, without assuming normal
 * distributions (benchmark times are skewed and have outliers).  U counts the pairs
 * (x_i, y_j) with x_i > y_j, a tie counting 1/2; computed from ranks as
 *
 *     U = R1 - n1 (n1 + 1) / 2,      R1 = sum of the (mid)ranks of x in x and y pooled.
 *
 * Under the null hypothesis every assignment of the pooled ranks to the samples is equally
 * likely, so U has mean n1 n2 / 2 and the distribution of counts c(n1, n2, u) of the
 * assignments with U = u, which obey (the largest value is either an x, beating all n2
 * y's, or a y):
 *
 *     c(n1, n2, u) = c(n1 - 1, n2, u - n2) + c(n1, n2 - 1, u),  c(0, n2, 0) = c(n1, 0, 0) = 1.
 *
 * Exact p-value (no ties, n1 and n2 <= KMB_MWU_EXACT_MAX): p = min(1, 2 P(U <= min(U, U'))),
 * U' = n1 n2 - U, by symmetry.  Otherwise the normal approximation with the tie correction
 * and a continuity correction of 1/2 (as scipy.stats.mannwhitneyu's "asymptotic" method):
 *
 *     sigma^2 = n1 n2 / 12 * ((n + 1) - sum(t^3 - t) / (n (n - 1))),  t = sizes of tie groups
 *     z = (|U - n1 n2 / 2| - 1/2) / sigma,  p = erfc(z / sqrt 2)  (= 2 (1 - Phi(z))).
 *
 * pmin, the smallest p-value the sample sizes allow (2 / C(n1 + n2, n1) exactly), says
 * when there are too few repetitions for any difference to be significant: with 3 against
 * 3 it is 0.1, above alpha = 0.05.
 */
#include "results/results.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double kmb_median(const double *v, size_t n)
{
	double *s, m;

	if (n == 0 || (s = malloc(n * sizeof(*s))) == NULL)
		return NAN;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_dbl);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

void kmb_spread(const double *v, size_t n, struct kmb_spread *out)
{
	double *f = malloc((n ? n : 1) * sizeof(*f)), sum = 0, sq = 0;

	memset(out, 0, sizeof(*out));
	out->median = out->min = out->max = out->mean = out->cv_pct = NAN;
	for (size_t i = 0; f && i < n; i++)
		if (isfinite(v[i])) {
			f[out->n++] = v[i];
			sum += v[i];
		}
	if (f == NULL || out->n == 0) {
		free(f);
		return;
	}
	out->mean = sum / (double)out->n;
	out->min = out->max = f[0];
	for (size_t i = 0; i < out->n; i++) {
		sq += (f[i] - out->mean) * (f[i] - out->mean);
		out->min = fmin(out->min, f[i]);
		out->max = fmax(out->max, f[i]);
	}
	out->median = kmb_median(f, out->n);
	if (out->mean != 0)
		out->cv_pct =
		        out->n < 2 ? 0 : 100 * sqrt(sq / (double)(out->n - 1)) / fabs(out->mean);
	free(f);
}

struct ranked {
	double v;
	int sample; /* 0: x, 1: y */
};

static int cmp_ranked(const void *a, const void *b)
{
	return cmp_dbl(&((const struct ranked *)a)->v, &((const struct ranked *)b)->v);
}

/* Rank sum of x (midranks for ties) and the tie term sum(t^3 - t). */
static void rank_sum(struct ranked *r, size_t n, double *r1, double *ties)
{
	*r1 = 0;
	*ties = 0;
	qsort(r, n, sizeof(*r), cmp_ranked);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		double mid, t;

		while (j + 1 < n && r[j + 1].v == r[i].v)
			j++;
		mid = (double)(i + j) / 2 + 1; /* ranks i+1 .. j+1 */
		t = (double)(j - i + 1);
		*ties += t * t * t - t;
		for (size_t k = i; k <= j; k++)
			if (r[k].sample == 0)
				*r1 += mid;
		i = j + 1;
	}
}

/* P(U <= u) under the null, from the counts c(n1, n2, .): the recurrence over a = 0..n1,
 * keeping the layers a - 1 and a (each n2 + 1 rows of n1 n2 + 1 counts, as doubles). */
static double exact_cdf(size_t n1, size_t n2, double u)
{
	size_t w = n1 * n2 + 1, layer = (n2 + 1) * w;
	double *prev = calloc(2 * layer, sizeof(*prev)), *cur, total = 0, below = 0;

	if (prev == NULL)
		return NAN;
	cur = prev + layer;
	for (size_t b = 0; b <= n2; b++)
		prev[b * w] = 1; /* a = 0: only U = 0 */
	for (size_t a = 1; a <= n1; a++) {
		memset(cur, 0, layer * sizeof(*cur));
		cur[0] = 1; /* b = 0 */
		for (size_t b = 1; b <= n2; b++)
			for (size_t k = 0; k <= a * b; k++)
				cur[b * w + k] =
				        cur[(b - 1) * w + k] + (k >= b ? prev[b * w + k - b] : 0);
		memcpy(prev, cur, layer * sizeof(*cur));
	}
	for (size_t k = 0; k < w; k++) {
		total += prev[n2 * w + k];
		if ((double)k <= u + 1e-9)
			below += prev[n2 * w + k];
	}
	free(prev);
	return below / total;
}

/* 2 / C(n1 + n2, n1): both extremes of the exact distribution. */
static double smallest_p(size_t n1, size_t n2)
{
	double lc = lgamma((double)(n1 + n2) + 1) - lgamma((double)n1 + 1) - lgamma((double)n2 + 1);

	return fmin(1, 2 * exp(-lc));
}

int kmb_mann_whitney(const double *x, size_t n1, const double *y, size_t n2, struct kmb_mwu *out)
{
	size_t n = n1 + n2;
	struct ranked *r;
	double r1, ties, mu, var, umin;

	memset(out, 0, sizeof(*out));
	if (n1 == 0 || n2 == 0 || (r = malloc(n * sizeof(*r))) == NULL)
		return n1 && n2 ? -ENOMEM : -EINVAL;
	for (size_t i = 0; i < n1; i++)
		r[i] = (struct ranked){x[i], 0};
	for (size_t i = 0; i < n2; i++)
		r[n1 + i] = (struct ranked){y[i], 1};
	rank_sum(r, n, &r1, &ties);
	free(r);
	out->u = r1 - (double)n1 * (double)(n1 + 1) / 2;
	out->pmin = smallest_p(n1, n2);
	mu = (double)n1 * (double)n2 / 2;
	umin = fmin(out->u, (double)n1 * (double)n2 - out->u);
	if (ties == 0 && n1 <= KMB_MWU_EXACT_MAX && n2 <= KMB_MWU_EXACT_MAX) {
		out->exact = true;
		out->p = fmin(1, 2 * exact_cdf(n1, n2, umin));
		return 0;
	}
	var = (double)n1 * (double)n2 / 12 *
	      ((double)(n + 1) - ties / ((double)n * (double)(n - 1)));
	if (var <= 0) { /* every value the same */
		out->p = 1;
		return 0;
	}
	out->z = (fabs(out->u - mu) - 0.5) / sqrt(var);
	out->p = out->z <= 0 ? 1 : fmin(1, erfc(out->z / sqrt(2)));
	return 0;
}
