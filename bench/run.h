/*
 * bench/run.h - the parts of `kmbench run`, the main job:
 *
 *   run.c         options, the results directory, run.json, the whole sequence
 *   run_jobs.c    workloads (bundled trace, trace files, generated), cells and jobs, the
 *                 shuffled order, progress, SIGINT/SIGTERM
 *   run_out.c     summary.csv, repetitions.csv, .hgrm, samples and size-class CSVs, the
 *                 table on stdout
 *   run_plots.c   the figures (latency, size classes, footprint, fragmentation, scaling)
 *   run_frames.c  the picture of physical memory at peak (a one-off replay per backend
 *                 and workload), frames/<b>-<w>.bin, frames.csv and the figures
 *
 * A cell is one backend on one workload at one thread count; a job is one repetition of
 * a cell (a fresh boot and a replay).
 */
#ifndef KMB_BENCH_RUN_H
#define KMB_BENCH_RUN_H

#include <signal.h>
#include <time.h>

#include <kmbench/backend.h>

#include "bench.h"
#include "results/schema.h"
#include "workloads/gen.h"

#define RUN_MAX_BACKENDS  32
#define RUN_MAX_WORKLOADS 16
#define RUN_MAX_THREADS   8
#define RUN_EXTFRAG_ORDER 3 /* PAGE_ALLOC_COSTLY_ORDER: the order Linux calls costly */

struct run_workload {
	char name[64];
	char source[640];               /* the trace file, or the `kmbench trace gen` command */
	const struct kmb_workload *gen; /* generator, or NULL for a trace file */
	struct kmb_gen_opts gopt;       /* its resolved options */
	size_t mem_bytes;               /* simulated physical memory for this workload */
	char mem_rule[200];             /* how it was sized from the trace, or "" (memsize.c) */
	bool replicate;                 /* at T threads, T copies of the trace (else its streams) */
	unsigned repeat;                /* passes over the trace per repetition */
	struct kmb_trace trace;
	struct kmb_trace_facts facts;
	struct kmb_plan plan;
	bool loaded;
};

/* One repetition's figures, every numeric metric of the declared schema (results/schema.def):
 * repetitions.csv, the medians of summary.csv, compare. */
struct run_rep {
	bool ran, ok;
	double v[KMB_NMETRICS]; /* NAN where the schema's figure is text */
};

struct run_cell {
	unsigned b, w, t; /* indices of backend, workload, thread count */
	unsigned threads, replicate;
	char name[400];      /* file prefix: backend-workload[-tN] */
	struct run_rep *rep; /* [reps] */
	unsigned nok, nfailed;
	char error[400];                         /* the first failure */
	struct kmb_hist alloc, free;             /* merged over repetitions */
	struct kmb_hist *size_alloc, *size_free; /* KMB_SIZE_CLASSES each, merged */
	/* the last successful repetition (no size classes): its samples, vmstat and the
	 * picture's inputs; every per-cell figure is a median over c->rep instead */
	struct kmb_replay_result *last;
};

/* The picture of memory at peak of one backend on one workload. */
struct run_frames {
	bool done;
	int rc;
	char error[400];
	size_t nframes;
	unsigned width, height;
	uint64_t peak_op; /* plan operations replayed when the snapshot was taken */
	uint64_t count[KMB_FRAME_NKINDS];
	double unusable_pct; /* Linux's unusable free space index at RUN_EXTFRAG_ORDER, % */
	size_t held;         /* frames not free (and not unknown) */
	size_t zoom;         /* the first frames that hold >= RUN_ZOOM_PCT % of them */
};
#define RUN_ZOOM_PCT 95

struct run {
	/* options */
	const char *backends[RUN_MAX_BACKENDS]; /* names: tables, file names (kmb_spec_name) */
	const char *specs[RUN_MAX_BACKENDS];    /* what each replays ("plugin:PATH.so") */
	char plugin_names[RUN_MAX_BACKENDS][64];
	unsigned nbackends;
	const char *wl_names[RUN_MAX_WORKLOADS]; /* --workloads */
	unsigned nwl_names;
	const char *traces[RUN_MAX_WORKLOADS]; /* --trace */
	unsigned ntraces;
	unsigned threads[RUN_MAX_THREADS], nthreads;
	unsigned reps;
	unsigned warmup; /* untimed passes first (workloads made for one memory size: none) */
	const char *out_root, *topology;
	size_t mem_bytes; /* --mem, or 0: each workload's from its trace (engine/memsize.c) */
	size_t mem_floor; /* the default memory, the least a trace is given */
	uint64_t seed, target_ops;
	bool quick, no_frames, seed_given;
	unsigned shard_k, shard_n; /* --shard K/N: the cells i with i % N == K - 1; 0/0 all */
	bool strict_context;       /* --strict-context: replay.c 6b. */
	int invariants;
	int argc;
	char **argv; /* a copy of the whole command line before parsing, argv[0] = "kmbench" */
	/* state */
	struct run_workload wl[RUN_MAX_WORKLOADS];
	unsigned nwl;
	char dir[4096];
	struct run_cell *cells; /* nbackends * nwl * nthreads */
	size_t ncells;
	struct run_frames *frames; /* nbackends * nwl */
	size_t njobs, done, failed;
	time_t started;
	double idle_cpus;       /* idle CPUs when the run started (/proc/stat), NAN if unknown */
	uint8_t script_key[16]; /* the user's key of the .gp tags (results/script_tag.c) */
	bool have_script_key;
	bool rebuilt; /* by kmbench plot from the replay JSON: no histograms, samples, frames */
	uint64_t t0_ns;
};

/* run.c */
/* run.json; reason: NULL when every job ran, else why not ("running" while it runs). */
int kmb_run_write_json(const struct run *r, const char *reason);

/* run_rebuild.c */
/* Whether run.json (loaded) is that of a run that died before writing its records. */
bool kmb_run_died(const struct kmb_jv *run);
/* Rebuilds summaries, plots and run.json of dir from run.json and the replay JSON
 * present (merged: a directory kmbench merge assembled, pictures included); 0, or 1
 * after printing why. */
int kmb_run_rebuild(const char *dir, struct kmb_jv *run, bool merged);

/* run_jobs.c */
int kmb_run_load_workloads(struct run *r);
void kmb_run_free_workloads(struct run *r);
int kmb_run_make_cells(struct run *r);
void kmb_run_free_cells(struct run *r);
struct run_cell *kmb_run_cell_at(struct run *r, unsigned b, unsigned w, unsigned t);
bool kmb_run_in_shard(const struct run *r, const struct run_cell *c);
int kmb_run_jobs(struct run *r); /* 0, or -EINTR when a signal stopped it */
void kmb_run_signals_install(void);
int kmb_run_interrupted(void);               /* the signal that asked to stop, or 0 */
double kmb_run_elapsed(const struct run *r); /* seconds since the start */
uint64_t kmb_run_now_ns(void);               /* CLOCK_MONOTONIC */
void kmb_run_sanitize(char *s);              /* a file-name-safe spec: / : space , ' " ( ) = -> _ */

/* run_out.c */
int kmb_run_write_summaries(struct run *r);
void kmb_run_print_table(FILE *out, struct run *r);
/* Median over the cell's successful repetitions of schema metric m (NAN if none). */
double kmb_run_cell_median(const struct run *r, const struct run_cell *c, int m);

/* run_plots.c */
int kmb_run_write_plots(struct run *r); /* 0, or 1 after printing why a plot did not render */

/* run_frames.c */
int kmb_run_take_frames(struct run *r);  /* 0, or -EINTR */
int kmb_run_write_frames(struct run *r); /* frames.csv and the figures; 0 or 1 as plots */

#endif /* KMB_BENCH_RUN_H */
