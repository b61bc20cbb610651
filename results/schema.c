/*
 * results/schema.c - the table of results/schema.def, and writing and reading a replay's
 * scalar figures by it (the JSON writer and reader; the CSV writers in bench/run_out.c
 * and compare's metric list iterate over the same table).
 */
#include "results/schema.h"

#include <math.h>
#include <string.h>

#define MT(t) KMB_MT_##t
#define MD(d) KMB_MD_##d
/* clang-format off */
#define HROW(n, what, sub, unit, dir, desc) \
	{#n "_" what, "", unit, desc, #n "_ns", sub, KMB_MT_DBL, KMB_MD_##dir}
/* clang-format on */

const struct kmb_metric kmb_metrics[KMB_NMETRICS] = {
#define KMB_METRIC(n, al, t, u, d, desc, e) {#n, al, u, desc, #n, NULL, MT(t), MD(d)},
#define KMB_HIST(n, desc, e)                                                                       \
	HROW(n, "count", "count", "ops", NONE, desc ": operations timed"),                         \
	        HROW(n, "mean_ns", "mean", "ns", LOWER, desc ": mean"),                            \
	        HROW(n, "p50_ns", "p50", "ns", LOWER, desc ": median"),                            \
	        HROW(n, "p90_ns", "p90", "ns", LOWER, desc ": 90th percentile"),                   \
	        HROW(n, "p99_ns", "p99", "ns", LOWER, desc ": 99th percentile"),                   \
	        HROW(n, "p999_ns", "p999", "ns", LOWER, desc ": 99.9th percentile"),               \
	        HROW(n, "max_ns", "max", "ns", LOWER, desc ": maximum"),                           \
	        HROW(n, "min_ns", "min", "ns", LOWER, desc ": minimum"),
#include "results/schema.def"
#undef KMB_METRIC
#undef KMB_HIST
};

int kmb_metric_find(const char *name)
{
	for (int m = 0; m < KMB_NMETRICS; m++)
		if (strcmp(kmb_metrics[m].name, name) == 0 ||
		    (kmb_metrics[m].alias[0] && strcmp(kmb_metrics[m].alias, name) == 0))
			return m;
	return -1;
}

void kmb_result_clear(struct kmb_result *res)
{
	for (int m = 0; m < KMB_NMETRICS; m++) {
		res->v[m] = NAN;
		res->s[m] = NULL;
	}
}

void kmb_result_hist(struct kmb_result *res, int first, const struct kmb_hist *h)
{
	double *v = &res->v[first];

	/* the order of KMB__HIST_IDS, the values of kmb_json_hist() */
	v[0] = (double)h->count;
	v[1] = kmb_hist_mean(h);
	v[2] = (double)kmb_hist_percentile(h, 50.0);
	v[3] = (double)kmb_hist_percentile(h, 90.0);
	v[4] = (double)kmb_hist_percentile(h, 99.0);
	v[5] = (double)kmb_hist_percentile(h, 99.9);
	v[6] = (double)h->max;
	v[7] = h->count ? (double)h->min : 0;
}

static void put(struct kmb_json *j, const char *key, int m, const struct kmb_result *res)
{
	double v = res->v[m];

	switch (kmb_metrics[m].type) {
	case KMB_MT_STR:
		kmb_json_str(j, key, res->s[m]);
		break;
	case KMB_MT_BOOL:
		if (isnan(v))
			kmb_json_null(j, key);
		else
			kmb_json_bool(j, key, v != 0);
		break;
	case KMB_MT_U64:
		if (v >= 0 && v < 0x1p64)
			kmb_json_u64(j, key, (uint64_t)v);
		else
			kmb_json_null(j, key);
		break;
	default:
		kmb_json_dbl(j, key, v);
	}
}

/* Histogram figures: the mean is a double, the rest whole nanoseconds or counts. */
static void put_sub(struct kmb_json *j, int m, const struct kmb_result *res)
{
	double v = res->v[m];

	if (strcmp(kmb_metrics[m].sub, "mean") == 0 || !(v >= 0 && v < 0x1p64))
		kmb_json_dbl(j, kmb_metrics[m].sub, v);
	else
		kmb_json_u64(j, kmb_metrics[m].sub, (uint64_t)v);
}

void kmb_result_json(struct kmb_json *j, const struct kmb_result *res)
{
	for (int m = 0; m < KMB_NMETRICS; m++) {
		const struct kmb_metric *k = &kmb_metrics[m];

		if (k->sub == NULL) {
			put(j, k->name, m, res);
			continue;
		}
		if (m == 0 || strcmp(kmb_metrics[m - 1].json, k->json) != 0)
			kmb_json_obj_begin(j, k->json);
		put_sub(j, m, res);
		if (m + 1 == KMB_NMETRICS || strcmp(kmb_metrics[m + 1].json, k->json) != 0)
			kmb_json_obj_end(j);
	}
}

static const struct kmb_jv *lookup(const struct kmb_jv *obj, const struct kmb_metric *k)
{
	const struct kmb_jv *v = kmb_jv_get(obj, k->json);

	if (v == NULL && k->alias[0])
		v = kmb_jv_get(obj, k->alias);
	return v && k->sub ? kmb_jv_get(v, k->sub) : v;
}

size_t kmb_result_read(const struct kmb_jv *obj, struct kmb_result *res)
{
	size_t found = 0;

	kmb_result_clear(res);
	for (int m = 0; m < KMB_NMETRICS; m++) {
		const struct kmb_jv *v = lookup(obj, &kmb_metrics[m]);

		if (v == NULL)
			continue;
		if (v->type == KMB_JV_STR && kmb_metrics[m].type == KMB_MT_STR)
			res->s[m] = v->str;
		else if (v->type == KMB_JV_NUM && kmb_metric_numeric(m))
			res->v[m] = v->num;
		else if (v->type == KMB_JV_BOOL && kmb_metrics[m].type == KMB_MT_BOOL)
			res->v[m] = v->b;
		else if (v->type != KMB_JV_NULL)
			continue; /* a key of the wrong type: absent */
		found++;
	}
	return found;
}
