/*
 * bench/run_frames.c - the picture of physical memory at peak: every page frame a pixel,
 * coloured by who holds it and how (kmb_frame_map, core/boot.c).
 *
 * When.  "At peak" is the moment live requested bytes peak, the moment Johnstone &
 * Wilson's measures are taken.  Two untimed replays of one pass on one thread: the first
 * reports the operation at which live requested bytes peaked (peak_at_op: allocations
 * that fail do not count, so under exhaustion it is the real peak, not the trace's); the
 * second, on a fresh boot, stops there through the replay's at_op hook, which calls
 * kmb_frame_map.  One thread makes both replays the same sequence of calls, so the second
 * reaches the state the first peaked in, and nothing else runs while the page descriptors
 * are read, as kmb_frame_map requires.  The measured repetitions are not involved.
 *
 * What is drawn.  frames/<backend>-<workload>.bin: one byte per frame (enum
 * kmb_frame_kind), rows of `width` frames, width a power of two near the square root, so
 * 65536 frames (256 MiB) are 256 x 256 pixels.  frames.csv counts the kinds, and the
 * external fragmentation at that moment: Linux's unusable free space index for an order-3
 * block, (free pages - free pages in wholly free aligned blocks of 8) / free pages, from
 * the picture itself, so it is defined alike for every page source.
 */
#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "results/results.h"

struct snap {
	uint8_t *map;
	size_t nframes;
	int rc;           /* kmb_frame_map's, or 1 until it ran */
	size_t accounted; /* pages the backend holds, by its accounting */
};

static void take_snapshot(void *arg)
{
	struct snap *s = arg;
	int n = kmb_frame_map(s->map, s->nframes);

	s->accounted = kmb_footprint_pages();
	s->rc = n < 0 ? n : 0;
}

/* Backends that account memory they take from elsewhere (the user-space baselines take it
 * from the process) hold no page frame: there is nothing to picture. */
#define NOT_FRAMES "holds no simulated page frame (its memory comes from elsewhere)"

static bool no_frames_held(const uint8_t *map, size_t n, size_t accounted)
{
	for (size_t i = 0; i < n; i++)
		if (map[i] == KMB_FRAME_DATA || map[i] == KMB_FRAME_META || map[i] > KMB_FRAME_META)
			return false;
	return accounted > 0;
}

/* One untimed pass on one thread; at_op > 0: the snapshot after that operation. */
static int one_pass(const struct run *r, unsigned b, unsigned w, uint64_t at_op, struct snap *s,
                    uint64_t *peak_at_op, char *err, size_t errlen)
{
	const struct run_workload *wl = &r->wl[w];
	struct kmb_replay_opts o = {.backend = r->specs[b],
	                            .mem_bytes = wl->mem_bytes,
	                            .invariants = r->invariants,
	                            .threads = 1,
	                            .topology = r->topology,
	                            .at_op = at_op,
	                            .at_op_fn = at_op ? take_snapshot : NULL,
	                            .at_op_arg = s};
	struct kmb_replay_result *res = malloc(sizeof(*res));
	int rc;

	if (res == NULL)
		return -ENOMEM;
	rc = kmb_replay(&wl->plan, &wl->facts, wl->source, &o, res, err, errlen);
	*peak_at_op = res->peak_at_op;
	kmb_replay_result_free(res);
	free(res);
	return rc;
}

/* ---- one picture ------------------------------------------------------------------------- */

static unsigned image_width(size_t n)
{
	unsigned w = 1;

	while ((size_t)w * w < n) /* 2^k x 2^k, or 2^k wide and 2^(k-1) high */
		w *= 2;
	return w;
}

static bool is_free(uint8_t k)
{
	return k == KMB_FRAME_FREE || (k >= KMB_FRAME_FREE_ORDER0 && k <= KMB_FRAME_FREE_ORDER_MAX);
}

/* held and zoom: the prefix of memory the picture shows (see plot_workload). */
static void find_zoom(struct run_frames *fr, const uint8_t *map)
{
	size_t seen = 0;

	fr->held = 0;
	for (size_t i = 0; i < fr->nframes; i++)
		fr->held += map[i] != KMB_FRAME_UNKNOWN && !is_free(map[i]);
	fr->zoom = 0;
	while (fr->zoom < fr->nframes && seen * 100 < fr->held * RUN_ZOOM_PCT) {
		uint8_t k = map[fr->zoom++];

		seen += k != KMB_FRAME_UNKNOWN && !is_free(k);
	}
}

static void count_kinds(struct run_frames *fr, const uint8_t *map)
{
	uint64_t free_pages = 0, usable = 0;
	const size_t blk = (size_t)1 << RUN_EXTFRAG_ORDER;

	memset(fr->count, 0, sizeof(fr->count));
	for (size_t i = 0; i < fr->nframes; i++)
		fr->count[map[i] < KMB_FRAME_NKINDS ? map[i] : 0]++;
	for (size_t i = 0; i + blk <= fr->nframes; i += blk) {
		size_t k = 0;

		while (k < blk && is_free(map[i + k]))
			k++;
		usable += k == blk ? blk : 0;
	}
	free_pages = fr->count[KMB_FRAME_FREE];
	for (unsigned k = KMB_FRAME_FREE_ORDER0; k <= KMB_FRAME_FREE_ORDER_MAX; k++)
		free_pages += fr->count[k];
	fr->unusable_pct =
	        free_pages ? 100.0 * (double)(free_pages - usable) / (double)free_pages : 0;
	find_zoom(fr, map);
}

static int write_bin(const struct run *r, unsigned b, unsigned w, const uint8_t *map, size_t len)
{
	char path[4800], spec[300];
	struct kmb_file kf;
	FILE *f;

	snprintf(spec, sizeof(spec), "%s", r->backends[b]);
	kmb_run_sanitize(spec);
	snprintf(path, sizeof(path), "%s/frames/%s-%s.bin", r->dir, spec, r->wl[w].name);
	if ((f = kmb_file_create(path, &kf)) == NULL)
		return -errno;
	fwrite(map, 1, len, f);
	return kmb_file_commit(&kf);
}

static int take_one(struct run *r, unsigned b, unsigned w)
{
	struct run_frames *fr = &r->frames[(size_t)b * r->nwl + w];
	const struct run_workload *wl = &r->wl[w];
	size_t npages = (wl->mem_bytes ? wl->mem_bytes : KMB_DEFAULT_MEM_BYTES) / KMB_PAGE_SIZE;
	struct snap s = {NULL, npages, 1, 0};
	char err[2600] = "";
	uint64_t again;
	int rc;

	fr->done = true;
	fr->nframes = npages;
	fr->width = image_width(npages);
	fr->height = (unsigned)((npages + fr->width - 1) / fr->width);
	s.map = calloc((size_t)fr->width * fr->height, 1); /* padding: KMB_FRAME_UNKNOWN */
	if (s.map == NULL)
		return fr->rc = -ENOMEM;
	rc = one_pass(r, b, w, 0, NULL, &fr->peak_op, err, sizeof(err));
	if (rc == 0 && fr->peak_op == 0) {
		rc = -ENODATA;
		snprintf(err, sizeof(err), "nothing was allocated");
	}
	if (rc == 0)
		rc = one_pass(r, b, w, fr->peak_op, &s, &again, err, sizeof(err));
	if (rc == 0 && s.rc != 0) {
		rc = s.rc < 0 ? s.rc : -ENODATA;
		snprintf(err, sizeof(err), "no picture at operation %" PRIu64, fr->peak_op);
	}
	if (rc == 0 && no_frames_held(s.map, npages, s.accounted)) {
		snprintf(fr->error, sizeof(fr->error), "%s", NOT_FRAMES);
		free(s.map);
		return fr->rc = -ENOTSUP; /* said in frames.csv and the report, not on stderr */
	}
	if (rc == 0) {
		count_kinds(fr, s.map);
		if ((rc = write_bin(r, b, w, s.map, (size_t)fr->width * fr->height)) != 0)
			snprintf(err, sizeof(err), "writing frames: %s", strerror(-rc));
	}
	if (rc != 0) {
		snprintf(fr->error, sizeof(fr->error), "%.399s", err);
		fprintf(stderr, "%skmbench run: picture of memory, %s on %s: %s\n",
		        kmb_progress_enabled() ? "\n" : "", r->backends[b], wl->name, fr->error);
	}
	free(s.map);
	return fr->rc = rc;
}

int kmb_run_take_frames(struct run *r)
{
	char sub[4200];
	size_t total = 0, done = 0;

	for (unsigned w = 0; w < r->nwl; w++)
		for (unsigned b = 0; b < r->nbackends; b++)
			total += kmb_run_in_shard(r, kmb_run_cell_at(r, b, w, 0));

	snprintf(sub, sizeof(sub), "%s/frames", r->dir);
	if (kmb_mkdir_p(sub) != 0)
		return -EIO;
	for (unsigned w = 0; w < r->nwl && !kmb_run_interrupted(); w++)
		for (unsigned b = 0; b < r->nbackends && !kmb_run_interrupted(); b++) {
			if (!kmb_run_in_shard(r, kmb_run_cell_at(r, b, w, 0)))
				continue; /* the shard of the cell at the base thread count */
			take_one(r, b, w);
			if (kmb_progress_enabled())
				fprintf(stderr, "\rpicture of memory at peak: %zu/%zu \033[K",
				        ++done, total);
			else
				fprintf(stderr,
				        "kmbench run: picture of memory at peak %zu/%zu %s %s\n",
				        ++done, total, r->backends[b], r->wl[w].name);
		}
	if (kmb_progress_enabled())
		fputc('\n', stderr);
	return kmb_run_interrupted() ? -EINTR : 0;
}

/* ---- frames.csv and the figures ------------------------------------------------------------ */

static int write_csv(const struct run *r)
{
	char path[4200];
	struct kmb_file kf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/frames.csv", r->dir);
	if ((f = kmb_file_create(path, &kf)) == NULL)
		return -errno;
	fputs("backend,workload,frames,width,height,peak_op,unusable_order3_pct,held_frames,"
	      "zoom_frames",
	      f);
	for (unsigned k = 0; k < KMB_FRAME_NKINDS; k++)
		fprintf(f, ",%s", kmb_frame_kind_key(k));
	fputs(",error\n", f);
	for (unsigned b = 0; b < r->nbackends; b++)
		for (unsigned w = 0; w < r->nwl; w++) {
			const struct run_frames *fr = &r->frames[(size_t)b * r->nwl + w];

			if (!fr->done)
				continue;
			kmb_csv_field(f, r->backends[b]);
			fprintf(f, ",%s,%zu,%u,%u,%" PRIu64 ",%.2f,%zu,%zu", r->wl[w].name,
			        fr->nframes, fr->width, fr->height, fr->peak_op, fr->unusable_pct,
			        fr->held, fr->zoom);
			for (unsigned k = 0; k < KMB_FRAME_NKINDS; k++)
				fprintf(f, ",%" PRIu64, fr->count[k]);
			fputc(',', f);
			kmb_csv_field(f, fr->rc ? fr->error : "");
			fputc('\n', f);
		}
	return kmb_file_commit(&kf);
}

/*
 * The zoom: a workload of 1 MiB in 256 MiB would be a dot in a blank square, so the
 * picture shows only the first frames of memory, as many as hold RUN_ZOOM_PCT % of the
 * held frames of every pictured backend (vmem's page source, for one, keeps a few pages
 * of metadata at the top of memory: those are left out), at least 64.  They are laid out
 * afresh, width a power of two near the square root (image_width), from the start of the
 * same .bin files; when that is more than half of memory, all of memory is shown.  The
 * title says how much is shown.
 */
static void zoom_layout(const struct run *r, unsigned w, unsigned *width, unsigned *height,
                        size_t *shown)
{
	size_t z = 64, full = 0;

	for (unsigned b = 0; b < r->nbackends; b++) {
		const struct run_frames *fr = &r->frames[(size_t)b * r->nwl + w];

		if (!fr->done || fr->rc != 0)
			continue;
		z = fr->zoom > z ? fr->zoom : z;
		full = (size_t)fr->width * fr->height;
		*width = fr->width;
		*height = fr->height;
		*shown = fr->nframes;
	}
	if (z * 2 > *shown) /* a zoom to more than half of memory shows little more: none */
		return;
	if ((size_t)image_width(z) * ((z + image_width(z) - 1) / image_width(z)) > full)
		return;
	*width = image_width(z);
	*height = (unsigned)((z + *width - 1) / *width);
	*shown = (size_t)*width * *height;
}

static int plot_workload(struct run *r, unsigned w, bool *said)
{
	struct kmb_frames_panel p[RUN_MAX_BACKENDS];
	char title[RUN_MAX_BACKENDS][320], file[RUN_MAX_BACKENDS][400], base[128], head[400],
	        err[1024];
	bool present[KMB_FRAME_NKINDS] = {false};
	unsigned width = 0, height = 0;
	size_t n = 0, shown = 0, total = 0;
	int rc;

	zoom_layout(r, w, &width, &height, &shown);
	for (unsigned b = 0; b < r->nbackends; b++) {
		const struct run_frames *fr = &r->frames[(size_t)b * r->nwl + w];
		char spec[300];

		if (!fr->done || fr->rc != 0)
			continue;
		snprintf(spec, sizeof(spec), "%s", r->backends[b]);
		kmb_run_sanitize(spec);
		snprintf(file[n], sizeof(file[n]), "frames/%s-%s.bin", spec, r->wl[w].name);
		snprintf(title[n], sizeof(title[n]), "%s (%.0f%% unusable for order 3)",
		         r->backends[b], fr->unusable_pct);
		p[n] = (struct kmb_frames_panel){title[n], file[n], width, height};
		for (unsigned k = 0; k < KMB_FRAME_NKINDS; k++)
			present[k] |= fr->count[k] > 0;
		total = fr->nframes;
		n++;
	}
	if (n == 0)
		return 0;
	snprintf(base, sizeof(base), "frames-%s", r->wl[w].name);
	if (shown < total)
		snprintf(
		        head, sizeof(head),
		        "Physical memory at peak live bytes, %s: one pixel per 4 KiB frame; zoomed "
		        "to frames 0-%zu of %zu (%.1f%% of memory, where %d%% of each backend's "
		        "held frames are)",
		        r->wl[w].name, shown - 1, total, 100.0 * (double)shown / (double)total,
		        RUN_ZOOM_PCT);
	else
		snprintf(head, sizeof(head),
		         "Physical memory at peak live bytes, %s: one pixel per 4 KiB frame, all "
		         "%zu frames",
		         r->wl[w].name, total);
	rc = kmb_plot_frames(r->dir, base, head, p, n, present, err, sizeof(err));
	if (rc != 0 && !*said) {
		fprintf(stderr, "kmbench run: plot %s: %s (data and scripts kept in %s)\n", base,
		        err, r->dir);
		*said = true;
	}
	return rc != 0;
}

int kmb_run_write_frames(struct run *r)
{
	bool any = false, said = false;
	int rc = 0;

	for (size_t i = 0; i < (size_t)r->nbackends * r->nwl; i++)
		any |= r->frames[i].done;
	if (!any)
		return 0;
	if ((rc = write_csv(r)) != 0) {
		fprintf(stderr, "kmbench run: cannot write %s/frames.csv: %s\n", r->dir,
		        strerror(-rc));
		rc = 1;
	}
	for (unsigned w = 0; w < r->nwl; w++)
		rc |= plot_workload(r, w, &said);
	return rc;
}
