/*
 * results/schema.h - the declared result schema (results/schema.def) as a table, and a
 * replay's scalar figures as a record indexed by it.
 *
 * The table is flat: a histogram of schema.def (KMB_HIST) is its eight scalar metrics,
 * each naming the JSON object (json) and the key inside it (sub) it is written under.
 * Numbers are doubles (a U64 figure is exact up to 2^53: 8 PiB, 9e15 operations).
 */
#ifndef KMB_RESULTS_SCHEMA_H
#define KMB_RESULTS_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/hist.h"
#include "results/results.h"

enum kmb_mtype { KMB_MT_STR, KMB_MT_U64, KMB_MT_DBL, KMB_MT_BOOL };
enum kmb_mdir { KMB_MD_NONE, KMB_MD_HIGHER, KMB_MD_LOWER };

struct kmb_metric {
	const char *name;  /* CSV column, compare metric, JSON key (scalars) */
	const char *alias; /* the name older files used, or "" */
	const char *unit;  /* "ns", "B", "ops/s", "%", ... ("" for text) */
	const char *desc;
	const char *json; /* JSON key: the name, or a histogram's object ("alloc_ns") */
	const char *sub;  /* key inside that object ("p99"), or NULL */
	int type;         /* enum kmb_mtype */
	int dir;          /* enum kmb_mdir: which way is better */
};

#define KMB__HIST_IDS(n)                                                                           \
	KMB_M_##n##_count, KMB_M_##n##_mean_ns, KMB_M_##n##_p50_ns, KMB_M_##n##_p90_ns,            \
	        KMB_M_##n##_p99_ns, KMB_M_##n##_p999_ns, KMB_M_##n##_max_ns, KMB_M_##n##_min_ns,
enum kmb_metric_id {
#define KMB_METRIC(n, al, t, u, d, desc, e) KMB_M_##n,
#define KMB_HIST(n, desc, e)                KMB__HIST_IDS(n)
#include "results/schema.def"
#undef KMB_METRIC
#undef KMB_HIST
	KMB_NMETRICS
};
#define KMB_HIST_METRICS 8 /* count, mean, p50, p90, p99, p999, max, min */

extern const struct kmb_metric kmb_metrics[KMB_NMETRICS];

/* Index of the metric called name (or whose alias is name), or -1. */
int kmb_metric_find(const char *name);
static inline bool kmb_metric_numeric(int m)
{
	return kmb_metrics[m].type != KMB_MT_STR;
}

/* A replay's scalar figures: v for numbers (BOOL as 0/1), s for text; NAN / NULL absent. */
struct kmb_result {
	double v[KMB_NMETRICS];
	const char *s[KMB_NMETRICS]; /* not owned: the replay result's or the parsed JSON's */
};

void kmb_result_clear(struct kmb_result *res);
/* The eight figures of the histogram whose first metric (name_count) is `first`. */
void kmb_result_hist(struct kmb_result *res, int first, const struct kmb_hist *h);
/* Every schema key, in schema.def's order, as members of the JSON object being written. */
void kmb_result_json(struct kmb_json *j, const struct kmb_result *res);
/* Reads the schema's keys (or their aliases) of a replay JSON object; returns how many
 * were found.  Strings point into obj. */
size_t kmb_result_read(const struct kmb_jv *obj, struct kmb_result *res);

#endif /* KMB_RESULTS_SCHEMA_H */
