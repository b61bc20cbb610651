/*
 * bench/run_rebuild.c - completing the results directory of a run that was killed.
 *
 * A run rewrites run.json after every job ("incomplete_reason": "running") and writes
 * each repetition's replay/<cell>-r<k>.json as it finishes, so whatever killed it
 * (SIGKILL, a third signal, a crash), the directory holds the setup and every replay done.
 * `kmbench plot DIR` finds "running" and rebuilds from them:
 *
 * 1. The cells from run.json's backends, workloads and threads, the same names as the run
 *    gave them (run_jobs.c), so each replay JSON lands in its cell and repetition.
 * 2. Each repetition present: its schema metrics (kmb_result_read); an aborted replay is
 *    a failed repetition.  A failure that wrote no JSON is known only by run.json's count:
 *    done and failed are the larger of run.json's figure and the files'.
 * 3. summary.csv, repetitions.csv and the figures built from them; footprint from each
 *    cell's <cell>.samples.csv where the run wrote it (at its end: a killed run has none);
 *    latency from each cell's .hgrm files and size classes from sizeclass.csv where the run
 *    wrote them (run_plots.c); the picture of memory is skipped (but see merge below).
 * 4. run.json as it was, but "complete": false, the true counts and the reason "killed
 *    after N of M jobs", and the tags of the scripts now present (results/script_tag.c).
 *
 * `kmbench merge` (merge_cmd.c) uses the same rebuild on the directory it assembled from
 * the shards of a run: there every cell is present, run.json keeps what merge wrote
 * ("complete" as the shards were), and the picture of memory is rebuilt too, from the
 * shards' frames.csv and frames/ (5.).
 * 5. frames.csv's rows become the pictures' records (kinds, external fragmentation, zoom),
 *    so that summary.csv's extfrag_unusable_pct, the frag plot and frames-<workload> are
 *    those of the run.
 */
#include "run.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool kmb_run_died(const struct kmb_jv *run)
{
	const char *why = kmb_jv_str(run, "incomplete_reason", NULL);

	return why != NULL && strcmp(why, "running") == 0;
}

static int bad(const char *dir, const char *what)
{
	fprintf(stderr, "kmbench plot: %s/run.json: %s: cannot rebuild the run\n", dir, what);
	return -EINVAL;
}

static int setup_workloads(struct run *r, const struct kmb_jv *wl)
{
	if (wl == NULL || wl->type != KMB_JV_ARR || wl->n == 0 || wl->n > RUN_MAX_WORKLOADS)
		return bad(r->dir, "no \"workloads\" (1 to 16)");
	for (size_t i = 0; i < wl->n; i++) {
		const char *name = kmb_jv_str(&wl->kid[i], "name", NULL);
		const char *scaling = kmb_jv_str(&wl->kid[i], "scaling", "");
		double cpus = kmb_jv_num(&wl->kid[i], "cpus", 1);

		if (name == NULL || name[0] == '\0' || strchr(name, '/'))
			return bad(r->dir, "a workload without a name");
		snprintf(r->wl[i].name, sizeof(r->wl[i].name), "%s", name);
		r->wl[i].replicate = strcmp(scaling, "replicate") == 0;
		r->wl[i].facts.cpus = cpus >= 1 && cpus <= KMB_MAX_CPUS ? (unsigned)cpus : 1;
	}
	r->nwl = (unsigned)wl->n;
	return 0;
}

static int setup(struct run *r, const struct kmb_jv *run)
{
	const struct kmb_jv *b = kmb_jv_get(run, "backends"), *t = kmb_jv_get(run, "threads");
	double reps = kmb_jv_num(run, "repetitions", 0);

	if (b == NULL || b->type != KMB_JV_ARR || b->n == 0 || b->n > RUN_MAX_BACKENDS)
		return bad(r->dir, "no \"backends\" (1 to 32)");
	for (size_t i = 0; i < b->n; i++)
		if ((r->backends[i] = b->kid[i].str) == NULL || b->kid[i].type != KMB_JV_STR)
			return bad(r->dir, "a backend that is not a string");
	r->nbackends = (unsigned)b->n;
	if (t == NULL || t->type != KMB_JV_ARR || t->n == 0 || t->n > RUN_MAX_THREADS)
		return bad(r->dir, "no \"threads\" (1 to 8 counts)");
	for (size_t i = 0; i < t->n; i++) {
		if (t->kid[i].type != KMB_JV_NUM || !(t->kid[i].num >= 1) ||
		    t->kid[i].num > KMB_MAX_CPUS)
			return bad(r->dir, "a thread count out of range");
		r->threads[i] = (unsigned)t->kid[i].num;
	}
	r->nthreads = (unsigned)t->n;
	if (!(reps >= 1 && reps <= 1000))
		return bad(r->dir, "\"repetitions\" not 1..1000");
	r->reps = (unsigned)reps;
	return setup_workloads(r, kmb_jv_get(run, "workloads"));
}

/* Repetition k of cell c from its replay JSON, if there is one. */
static void load_rep(struct run *r, struct run_cell *c, unsigned k)
{
	char path[4800], err[600];
	struct kmb_result res;
	struct kmb_jv jv;

	snprintf(path, sizeof(path), "%s/replay/%s-r%u.json", r->dir, c->name, k + 1);
	if (access(path, F_OK) != 0)
		return;
	if (kmb_jv_load(path, &jv, err, sizeof(err)) != 0) {
		fprintf(stderr, "kmbench plot: %s (left out)\n", err);
		return;
	}
	kmb_result_clear(&res);
	kmb_result_read(&jv, &res);
	c->rep[k].ran = true;
	r->done++;
	if (res.v[KMB_M_aborted] == 0) {
		memcpy(c->rep[k].v, res.v, sizeof(c->rep[k].v));
		c->rep[k].ok = true;
		c->nok++;
	} else {
		if (c->nfailed++ == 0)
			snprintf(c->error, sizeof(c->error), "%.399s",
			         res.s[KMB_M_abort_reason] ? res.s[KMB_M_abort_reason] : "aborted");
		r->failed++;
	}
	kmb_jv_free(&jv);
}

static struct kmb_jv *member(struct kmb_jv *obj, const char *key)
{
	return (struct kmb_jv *)kmb_jv_get(obj, key);
}

static void set_num(struct kmb_jv *obj, const char *key, double v)
{
	struct kmb_jv *m = member(obj, key);

	if (m != NULL && m->type == KMB_JV_NUM)
		m->num = v;
}

/* A whole number of a CSV cell; 0 when it is missing or not one (no NaN to cast). */
static uint64_t csv_u64(const struct kmb_csv *c, size_t i, const char *name)
{
	double v = kmb_csv_num(c, i, name);

	return v >= 0 && v < 1.8e19 ? (uint64_t)v : 0;
}

/* Cell c's footprint samples from its samples.csv (as kmb_replay_write_samples wrote it)
 * into c->last, which only the footprint plot reads; none if the file is missing. */
static void load_samples(struct run *r, struct run_cell *c)
{
	char path[4800];
	struct kmb_csv csv;
	struct kmb_replay_result *res;

	snprintf(path, sizeof(path), "%s/%s.samples.csv", r->dir, c->name);
	if (c->nok == 0 || kmb_csv_load(path, &csv) != 0)
		return;
	res = calloc(1, sizeof(*res));
	if (res && csv.nrows > 1 && (res->samples = calloc(csv.nrows, sizeof(*res->samples)))) {
		for (size_t i = 1; i < csv.nrows; i++) {
			struct kmb_sample *s = &res->samples[res->nsamples_cap++];

			s->ops = csv_u64(&csv, i, "ops");
			s->live_bytes_req = csv_u64(&csv, i, "live_bytes_req");
			s->footprint_bytes = csv_u64(&csv, i, "footprint_bytes");
			s->valid = 1;
		}
		c->last = res;
		res = NULL;
	}
	free(res);
	kmb_csv_free(&csv);
}

/* The record of backend b's picture on workload w from frames.csv row i. */
static void frame_row(struct run *r, const struct kmb_csv *c, size_t i, unsigned b, unsigned w)
{
	struct run_frames *fr = &r->frames[(size_t)b * r->nwl + w];
	const char *err = kmb_csv_get(c, i, "error");

	fr->done = true;
	fr->rc = err && err[0] ? -ENOTSUP : 0;
	snprintf(fr->error, sizeof(fr->error), "%s", err ? err : "");
	fr->nframes = (size_t)csv_u64(c, i, "frames");
	fr->width = (unsigned)csv_u64(c, i, "width");
	fr->height = (unsigned)csv_u64(c, i, "height");
	fr->peak_op = csv_u64(c, i, "peak_op");
	fr->unusable_pct = kmb_csv_num(c, i, "unusable_order3_pct");
	fr->held = (size_t)csv_u64(c, i, "held_frames");
	fr->zoom = (size_t)csv_u64(c, i, "zoom_frames");
	for (unsigned k = 0; k < KMB_FRAME_NKINDS; k++)
		fr->count[k] = csv_u64(c, i, kmb_frame_kind_key(k));
	if (fr->rc == 0 &&
	    (fr->width == 0 || fr->height == 0 || fr->nframes == 0 || fr->width > 65536 ||
	     fr->height > 65536 || fr->zoom > fr->nframes || !isfinite(fr->unusable_pct)))
		fr->done = false; /* a row this kmbench did not write: no picture */
}

static void load_frames(struct run *r)
{
	char path[4200];
	struct kmb_csv c;

	snprintf(path, sizeof(path), "%s/frames.csv", r->dir);
	if (kmb_csv_load(path, &c) != 0)
		return;
	for (size_t i = 1; i < c.nrows; i++)
		for (unsigned b = 0; b < r->nbackends; b++)
			for (unsigned w = 0; w < r->nwl; w++)
				if (strcmp(kmb_csv_get(&c, i, "backend"), r->backends[b]) == 0 &&
				    strcmp(kmb_csv_get(&c, i, "workload"), r->wl[w].name) == 0)
					frame_row(r, &c, i, b, w);
	kmb_csv_free(&c);
}

/* run.json as loaded, with the true counts, the reason and the scripts' tags; reason
 * NULL (a merge): "complete" and the reason as they are. */
static int write_json(const struct run *r, struct kmb_jv *run, const char *reason)
{
	char path[4200], err[PATH_MAX + 100];
	struct kmb_file kf;
	struct kmb_json j;
	uint8_t key[16];
	bool keyed = kmb_script_key(key, true, err, sizeof(err)) == 0;
	FILE *f;

	set_num(member(run, "jobs"), "done", (double)r->done);
	set_num(member(run, "jobs"), "failed", (double)r->failed);
	snprintf(path, sizeof(path), "%s/run.json", r->dir);
	if ((f = kmb_file_create(path, &kf)) == NULL)
		return -errno;
	kmb_json_begin(&j, f);
	kmb_json_obj_begin(&j, NULL);
	for (size_t i = 0; i < run->n; i++) {
		const char *k = run->kid[i].key;

		if (strcmp(k, "scripts") == 0 ||
		    (reason != NULL && (strcmp(k, "complete") == 0 || strcmp(k, "failed") == 0 ||
		                        strcmp(k, "incomplete_reason") == 0)))
			continue;
		kmb_json_jv(&j, k, &run->kid[i]);
	}
	if (reason != NULL) {
		kmb_json_bool(&j, "complete", false);
		kmb_json_u64(&j, "failed", r->failed);
		kmb_json_str(&j, "incomplete_reason", reason);
	}
	kmb_json_script_tags(&j, r->dir, keyed ? key : NULL);
	kmb_json_obj_end(&j);
	return kmb_file_finish(&kf, kmb_json_end(&j));
}

/* The cells of run.json with the repetitions and samples present. */
static int load_cells(struct run *r, struct kmb_jv *run)
{
	if (setup(r, run) != 0 || kmb_run_make_cells(r) != 0)
		return -EINVAL;
	r->rebuilt = true;
	for (size_t i = 0; i < r->ncells; i++) {
		for (unsigned k = 0; k < r->reps; k++)
			load_rep(r, &r->cells[i], k);
		load_samples(r, &r->cells[i]);
	}
	return 0;
}

/* A merged run: every cell's repetitions, the pictures, and what the shards said. */
static int rebuild_merged(struct run *r, struct kmb_jv *run)
{
	int rc, status = 0;

	if (load_cells(r, run) != 0)
		return 1;
	load_frames(r);
	if (kmb_run_write_summaries(r) != 0 || kmb_run_write_plots(r) != 0 ||
	    kmb_run_write_frames(r) != 0)
		status = 1;
	if ((rc = write_json(r, run, NULL)) != 0) {
		fprintf(stderr, "kmbench merge: cannot write %s/run.json: %s\n", r->dir,
		        strerror(-rc));
		status = 1;
	}
	return status;
}

static int rebuild(struct run *r, struct kmb_jv *run)
{
	const struct kmb_jv *jobs = kmb_jv_get(run, "jobs");
	double done = kmb_jv_num(jobs, "done", 0), failed = kmb_jv_num(jobs, "failed", 0);
	char reason[200];
	int rc, status = 0;
	size_t ok;

	if (load_cells(r, run) != 0)
		return 1;
	ok = r->done - r->failed;
	if (done > (double)r->done && done <= (double)r->njobs) /* failures without JSON */
		r->done = (size_t)done;
	if (failed > (double)r->failed && failed <= (double)r->done)
		r->failed = (size_t)failed;
	if (r->failed < r->done - ok)
		r->failed = r->done - ok;
	if (kmb_run_write_summaries(r) != 0 || kmb_run_write_plots(r) != 0)
		status = 1;
	snprintf(reason, sizeof(reason),
	         "killed after %zu of %zu jobs (completed by kmbench plot from replay/*.json)",
	         r->done, r->njobs);
	if ((rc = write_json(r, run, reason)) != 0) {
		fprintf(stderr, "kmbench plot: cannot write %s/run.json: %s\n", r->dir,
		        strerror(-rc));
		status = 1;
	}
	printf("rebuilt %s: %s\n", r->dir, reason);
	return status;
}

int kmb_run_rebuild(const char *dir, struct kmb_jv *run, bool merged)
{
	struct run *r = calloc(1, sizeof(*r));
	int status;

	if (r == NULL)
		return 1;
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	status = merged ? rebuild_merged(r, run) : rebuild(r, run);
	kmb_run_free_cells(r);
	free(r);
	return status;
}
