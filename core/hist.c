/*
 * core/hist.c - reading the log-linear histogram (layout derived in hist.h).
 *
 * Slot i < 128 holds the value i.  Slot i >= 128 is in bucket b = i/64 - 1 and holds
 * [(64 + i%64) << b, ((65 + i%64) << b) - 1]: the inverse of idx = b*64 + (v >> b).
 *
 * Percentiles follow HdrHistogram's AbstractHistogram.getValueAtPercentile(): the rank
 * is ceil(p/100 * count) computed from p lowered by one ulp (so 99.9% of 1000 samples
 * is rank 999, not 1000 through rounding), and the answer is the top of its slot.  The
 * one change: the answer is capped at the recorded max, which we know exactly, so the
 * top slot does not report up to 1/64 more than was ever seen.
 *
 * The .hgrm text is AbstractHistogram.outputPercentileDistribution()'s, field for
 * field: "%12s %14s %10s %14s\n\n" header, "%12.Nf %2.12f %10d %14.2f" rows, the 100%
 * row without the last column, and the three "#[...]" footer lines.
 */
#include "core/hist.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void kmb_hist_init(struct kmb_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void kmb_hist_merge(struct kmb_hist *dst, const struct kmb_hist *src)
{
	for (unsigned i = 0; i < KMB_HIST_NBUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum += src->sum;
	dst->min = src->min < dst->min ? src->min : dst->min;
	dst->max = src->max > dst->max ? src->max : dst->max;
}

static unsigned slot_shift(unsigned i)
{
	return i < 2 * KMB_HIST_SUB ? 0 : (i >> KMB_HIST_SUB_BITS) - 1;
}

uint64_t kmb_hist_slot_lo(unsigned i)
{
	unsigned b = slot_shift(i);

	if (b == 0)
		return i;
	return (uint64_t)(KMB_HIST_SUB + (i & (KMB_HIST_SUB - 1))) << b;
}

uint64_t kmb_hist_slot_hi(unsigned i)
{
	return kmb_hist_slot_lo(i) + ((uint64_t)1 << slot_shift(i)) - 1;
}

/* What a percentile landing in slot i reports. */
static uint64_t slot_value(const struct kmb_hist *h, unsigned i)
{
	uint64_t hi = kmb_hist_slot_hi(i);

	return hi < h->max ? hi : h->max;
}

static uint64_t rank_at(const struct kmb_hist *h, double p)
{
	double q = nextafter(p, -INFINITY);
	uint64_t rank;

	q = q < 0 ? 0 : q;
	rank = (uint64_t)ceil(q / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	return rank < h->count ? rank : h->count;
}

uint64_t kmb_hist_percentile(const struct kmb_hist *h, double p)
{
	uint64_t rank, cum = 0;

	if (h->count == 0)
		return 0;
	if (p >= 100.0)
		return h->max;
	rank = rank_at(h, p);
	for (unsigned i = 0; i < KMB_HIST_NBUCKETS; i++) {
		cum += h->bucket[i];
		if (cum >= rank)
			return slot_value(h, i);
	}
	return h->max; /* unreachable while count == sum of slots */
}

double kmb_hist_mean(const struct kmb_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

double kmb_hist_stddev(const struct kmb_hist *h)
{
	double mean = kmb_hist_mean(h), acc = 0;

	if (h->count == 0)
		return 0.0;
	for (unsigned i = 0; i < KMB_HIST_NBUCKETS; i++) {
		double mid, d;

		if (h->bucket[i] == 0)
			continue;
		mid = (double)kmb_hist_slot_lo(i) + (double)(((uint64_t)1 << slot_shift(i)) >> 1);
		d = mid - mean;
		acc += d * d * (double)h->bucket[i];
	}
	return sqrt(acc / (double)h->count);
}

/* ---- percentile iteration (HdrHistogram's PercentileIterator) ----------------------- */

void kmb_hist_pct_begin(struct kmb_hist_pct_iter *it, const struct kmb_hist *h,
                        unsigned ticks_per_half)
{
	memset(it, 0, sizeof(*it));
	it->h = h;
	it->ticks_per_half = ticks_per_half ? ticks_per_half : 1;
	it->fresh = true;
}

/* Fixed-size ticks within each half of the remaining distance to 100%. */
static void pct_advance(struct kmb_hist_pct_iter *it)
{
	double halvings = floor(log(100.0 / (100.0 - it->level)) / log(2.0));
	uint64_t ticks;

	if (!(halvings < 60))
		halvings = 60; /* level rounded to 100: keep the shift defined */
	ticks = (uint64_t)it->ticks_per_half << ((unsigned)halvings + 1);
	it->level += 100.0 / (double)ticks;
}

static bool pct_emit(struct kmb_hist_pct_iter *it)
{
	it->value = it->level >= 100.0 ? it->h->max : slot_value(it->h, it->idx);
	it->percentile = it->level;
	it->total_count = it->cum;
	return true;
}

bool kmb_hist_pct_next(struct kmb_hist_pct_iter *it)
{
	const struct kmb_hist *h = it->h;

	if (it->cum >= h->count) {
		if (it->done_last || h->count == 0)
			return false;
		it->done_last = true;
		it->level = 100.0;
		return pct_emit(it);
	}
	for (; it->idx < KMB_HIST_NBUCKETS; it->idx++, it->fresh = true) {
		uint64_t n = h->bucket[it->idx];

		if (it->fresh)
			it->cum += n;
		it->fresh = false;
		if (n != 0 && 100.0 * (double)it->cum / (double)h->count >= it->level) {
			pct_emit(it);
			pct_advance(it);
			return true;
		}
	}
	return false; /* slots sum to less than count: a corrupt histogram */
}

/* ---- .hgrm output -------------------------------------------------------------------- */

/*
 * Java's Formatter rounds the shortest decimal that reads back as v half up; printf
 * rounds v's exact binary value half even.  The two differ only when that shortest
 * decimal is a tie, one digit past the last printed and ending in 5 (0.9997802734375 to
 * 12 decimals: Java ...438, printf ...437); then the next double up prints as Java's.
 */
static double java_rounding(double v, int decimals)
{
	char s[40];
	const char *dot;
	int prec = 1;

	while (prec < 17 && (snprintf(s, sizeof(s), "%.*g", prec, v), strtod(s, NULL) != v))
		prec++;
	snprintf(s, sizeof(s), "%.*g", prec, v);
	dot = strchr(s, '.');
	if (dot == NULL || strchr(s, 'e') != NULL || strlen(dot + 1) != (size_t)decimals + 1)
		return v;
	return s[strlen(s) - 1] == '5' ? nextafter(v, INFINITY) : v;
}

static void hgrm_row(FILE *out, const struct kmb_hist_pct_iter *it)
{
	const int d = KMB_HIST_HGRM_DIGITS;
	double p = it->percentile / 100.0;
	double v = java_rounding((double)it->value, d), pj = java_rounding(p, 12);

	if (it->percentile != 100.0)
		fprintf(out, "%12.*f %2.12f %10" PRIu64 " %14.2f\n", d, v, pj, it->total_count,
		        java_rounding(1.0 / (1.0 - p), 2));
	else
		fprintf(out, "%12.*f %2.12f %10" PRIu64 "\n", d, v, pj, it->total_count);
}

int kmb_hist_write_hgrm(const struct kmb_hist *h, FILE *out)
{
	const int d = KMB_HIST_HGRM_DIGITS;
	struct kmb_hist_pct_iter it;

	fprintf(out, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
	        "1/(1-Percentile)");
	kmb_hist_pct_begin(&it, h, KMB_HIST_HGRM_TICKS);
	while (kmb_hist_pct_next(&it))
		hgrm_row(out, &it);
	fprintf(out, "#[Mean    = %12.*f, StdDeviation   = %12.*f]\n", d,
	        java_rounding(kmb_hist_mean(h), d), d, java_rounding(kmb_hist_stddev(h), d));
	fprintf(out, "#[Max     = %12.*f, Total count    = %12" PRIu64 "]\n", d,
	        java_rounding((double)h->max, d), h->count);
	fprintf(out, "#[Buckets = %12d, SubBuckets     = %12d]\n",
	        KMB_HIST_MAX_BITS - KMB_HIST_SUB_BITS, (int)(2 * KMB_HIST_SUB));
	return ferror(out) ? -EIO : 0;
}
