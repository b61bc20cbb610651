/*
 * core/hist.h - a log-linear latency histogram (HdrHistogram's bucket layout).
 *
 * Values are ns.  Below 2*S (S = 64 sub-buckets) every value has its own slot; above,
 * each power of two [2^k, 2^(k+1)) is cut into S equal slots of width 2^(k-6), so a
 * slot's width is at most 1/64 of the values in it (relative error <= 1/64, "exact
 * below 64" and in fact below 128).  Index of v, with b the "bucket" (HdrHistogram's
 * term: 0 for v < 128, else floor(log2 v) - 6):
 *
 *     b   = 64 - clz(v | 127) - 7            (no branch: the OR keeps clz's input != 0)
 *     idx = b * 64 + (v >> b)                (v >> b is in [64, 128) when b > 0)
 *
 * Bucket 0 fills slots [0, 128); bucket b > 0 fills [64(b+1), 64(b+2)).  To cover
 * values below 2^40 ns (18 minutes), the top bucket is b = 40 - 7 = 33, so
 *
 *     N = 64 * (33 + 2) = 2240 slots (17.5 KiB of counts).
 *
 * Values >= 2^40 are counted in the top slot; sum, min and max keep the true value.
 * This is HdrHistogram with subBucketCount = 128 and bucketCount = 34, which is what
 * the .hgrm footer reports.
 */
#ifndef KMB_CORE_HIST_H
#define KMB_CORE_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define KMB_HIST_SUB_BITS 6
#define KMB_HIST_SUB      (1u << KMB_HIST_SUB_BITS) /* 64 */
#define KMB_HIST_MAX_BITS 40
#define KMB_HIST_LIMIT    ((uint64_t)1 << KMB_HIST_MAX_BITS)
#define KMB_HIST_NBUCKETS ((KMB_HIST_MAX_BITS - KMB_HIST_SUB_BITS + 1) << KMB_HIST_SUB_BITS)

struct kmb_hist {
	uint64_t count, min, max, sum; /* min is UINT64_MAX while empty */
	uint64_t bucket[KMB_HIST_NBUCKETS];
};

static inline unsigned kmb_hist_index(uint64_t v)
{
	const uint64_t low = 2 * KMB_HIST_SUB - 1; /* 127 */
	unsigned b;

	v = v < KMB_HIST_LIMIT ? v : KMB_HIST_LIMIT - 1;
	b = 64 - (unsigned)__builtin_clzll(v | low) - (KMB_HIST_SUB_BITS + 1);
	return (b << KMB_HIST_SUB_BITS) + (unsigned)(v >> b);
}

static inline void kmb_hist_record(struct kmb_hist *h, uint64_t v)
{
	h->bucket[kmb_hist_index(v)]++;
	h->count++;
	h->sum += v;
	h->min = v < h->min ? v : h->min;
	h->max = v > h->max ? v : h->max;
}

void kmb_hist_init(struct kmb_hist *h);
void kmb_hist_merge(struct kmb_hist *dst, const struct kmb_hist *src);

/* Smallest and largest value counted in slot i. */
uint64_t kmb_hist_slot_lo(unsigned i);
uint64_t kmb_hist_slot_hi(unsigned i);

/*
 * The value at percentile p in [0, 100]: the highest value equivalent to the slot
 * holding rank ceil(p/100 * count) (at least 1), as HdrHistogram's valueAtPercentile,
 * but never above the recorded max; p >= 100 gives max exactly.  0 when empty.
 */
uint64_t kmb_hist_percentile(const struct kmb_hist *h, double p);
double kmb_hist_mean(const struct kmb_hist *h);   /* exact (sum / count); 0 when empty */
double kmb_hist_stddev(const struct kmb_hist *h); /* from slot midpoints */

/*
 * HdrHistogram's PercentileIterator: steps of 100/(2 * ticks) % in the first half,
 * halving the step each time half the remaining distance to 100% is crossed, then a
 * last step at 100%.  Each step gives the value (as kmb_hist_percentile), the level
 * iterated to, and the count at or below the value.
 */
struct kmb_hist_pct_iter {
	const struct kmb_hist *h;
	unsigned idx, ticks_per_half;
	bool fresh, done_last;
	uint64_t cum;
	double level;
	/* output of the last kmb_hist_pct_next() */
	uint64_t value, total_count;
	double percentile; /* 0..100 */
};
void kmb_hist_pct_begin(struct kmb_hist_pct_iter *it, const struct kmb_hist *h,
                        unsigned ticks_per_half);
bool kmb_hist_pct_next(struct kmb_hist_pct_iter *it);

/*
 * HdrHistogram's outputPercentileDistribution(out, 5, 1.0) text (.hgrm), values in ns
 * with 2 decimals.  Returns 0 or -EIO.
 */
#define KMB_HIST_HGRM_TICKS  5
#define KMB_HIST_HGRM_DIGITS 2
int kmb_hist_write_hgrm(const struct kmb_hist *h, FILE *out);

#endif /* KMB_CORE_HIST_H */
