/*
 * bench/engine/engine.h - the replay engine, one library (kmb_engine) linked by the kmbench
 * command, the micro suite, the fuzzers and the tests: loading a workload into a plan,
 * replaying a plan on a backend with threads placed on a topology, and writing a replay's
 * result.  Grouped by defining file.
 */
#ifndef KMB_BENCH_ENGINE_H
#define KMB_BENCH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kmbench/kmbench.h>

#include "core/hist.h"
#include "workloads/gen.h"
#include "workloads/trace.h"

#define KMB_MAX_STATS       256 /* declared counters of a backend and its page source */
#define KMB_CTX_EVENTS_KEPT 5   /* sleeping allocations in interrupt context listed by line */

/* ---- paths.c: kmbench's files at run time (no build path compiled in) ---------------------- */
/* The source tree of the build tree this executable runs from, or NULL when installed. */
const char *kmb_source_dir(void);
/* Path of data file rel ("workloads/traces/...") in the source tree, or installed under
 * PREFIX/share/kmbench/: 0 or -errno. */
int kmb_data_path(const char *rel, char *buf, size_t len);

/* ---- workload.c ------------------------------------------------------------------------ */
#define KMB_BUNDLED_TRACE "linux-3.6-boot" /* the bundled trace's workload name */
const char *kmb_default_trace(void);       /* its path */

/* The symbols (System.map or /proc/kallsyms) that name raw call sites of the trace files
 * loaded from now on (workload.c 4.); NULL: TRACE.syms beside each, if there. */
void kmb_workload_set_symbols(const char *path);
/* Load a trace file, its facts and (plan != NULL) its replay plan; prints errors; 0 or
 * -errno. */
int kmb_workload_load(const char *path, bool strict, struct kmb_trace *t,
                      struct kmb_trace_facts *facts, struct kmb_plan *plan);
/* Apply the geometry file (file, or NULL: TRACE.slabinfo if it exists) to plan's caches;
 * prints errors; 0 or -errno. */
int kmb_workload_geometry(const char *trace, const char *file, struct kmb_plan *plan);

/* Where a workload argument's trace comes from (kmb_workload_open). */
struct kmb_workload_src {
	const struct kmb_workload *gen; /* generator, or NULL for a trace file */
	struct kmb_gen_opts gopt;       /* in: a generator's options (0s: its defaults);
	                                 * out: resolved */
	char source[640];               /* the trace file, or the `kmbench trace gen` command */
	const char *geometry;           /* in: a trace file's geometry file (workload.c 4.;
	                                 * NULL: TRACE.slabinfo if it exists) */
};
/* The one function from a workload argument - KMB_BUNDLED_TRACE, a generator's name, or a
 * trace file - to its trace, facts and (plan != NULL) plan (workload.c 1.); prints errors;
 * 0 or -errno, the trace freed on failure. */
int kmb_workload_open(const char *arg, bool strict, struct kmb_workload_src *src,
                      struct kmb_trace *t, struct kmb_trace_facts *facts, struct kmb_plan *plan);

/* ---- memsize.c (its 1.-4.) -------------------------------------------------------------- */
#define KMB_MEM_HEADROOM 3                    /* memory per peak live requested byte */
#define KMB_MEM_BASE     ((uint64_t)16 << 20) /* plus what does not grow with the trace */
/* Simulated memory for copies of a trace of peak live requested bytes peak_live: at least
 * floor (UINT64_MAX if it overflows). */
uint64_t kmb_mem_auto(uint64_t peak_live, unsigned copies, uint64_t floor);
/* The rule that gave mem, one line for setup output and run.json. */
void kmb_mem_auto_rule(char *buf, size_t len, uint64_t peak_live, unsigned copies, uint64_t floor,
                       uint64_t mem);
/* 0 when mem holds one copy's peak of allocations that may not fail (plan p), else -ENOMEM
 * and why in err (with the numbers). */
int kmb_mem_check(uint64_t mem, const struct kmb_plan *p, uint64_t peak_live, char *err,
                  size_t errlen);

/* ---- replay.c -------------------------------------------------------------------------- */
struct kmb_replay_opts {
	const char *backend;
	size_t mem_bytes;
	int invariants;         /* KMB_INVARIANTS_* */
	bool timing;            /* per-operation latency (default on) */
	unsigned latency_every; /* time one operation in N at random (0, 1: every one) */
	unsigned threads;       /* replay threads (0 = 1) */
	unsigned replicate;     /* disjoint copies of the trace replayed at once (0 = 1) */
	unsigned repeat;        /* passes over the trace (0 = 1) */
	unsigned warmup;        /* untimed passes first, not counted (same boot) */
	enum kmb_map {
		KMB_MAP_AUTO,    /* copies when replicate >= threads, else streams */
		KMB_MAP_COPIES,  /* copy r runs whole on thread r % threads */
		KMB_MAP_STREAMS, /* stream c of copy r on thread (r * ncpus + c) % threads */
	} map;
	bool strict;          /* keep the trace's global order */
	bool compact;         /* placement: compact (else spread) */
	const char *topology; /* NULL: this machine; hwloc synthetic or .xml */
	double pace;          /* > 0: honour the trace's timestamps, gaps scaled by this */
	uint64_t fault_mtbf;  /* > 0: page sources fail once in this many calls (fault.c) */
	const struct kmb_trace *trace; /* for pacing: the events' timestamps */
	/* Call at_op(at_op_arg) right after operation number at_op (1-based, counted over
	 * all threads) - e.g. the peak_at_op of an earlier single-threaded replay, to look at
	 * memory at its peak (a single-threaded replay is deterministic). */
	uint64_t at_op;
	void (*at_op_fn)(void *arg);
	void *at_op_arg;
	bool strict_context; /* a sleeping allocation in interrupt context panics (replay.c 6b.) */
};

/* Latency by requested size: class k holds sizes in (2^(k+3), 2^(k+4)], class 0 <= 16,
 * the last one everything above 64 KiB. */
#define KMB_SIZE_CLASSES 14
static inline unsigned kmb_size_class(uint64_t size)
{
	unsigned b = size <= 16 ? 4 : 64 - (unsigned)__builtin_clzll(size - 1);

	return b - 4 < KMB_SIZE_CLASSES - 1 ? b - 4 : KMB_SIZE_CLASSES - 1;
}

/* One sample of the system during a replay (about 1000 per replay). */
struct kmb_sample {
	uint64_t ops, live_objects, live_bytes_req, live_bytes_alloc;
	uint64_t footprint_bytes, meta_bytes, free_bytes, largest_free;
	int valid;
};

struct kmb_replay_result {
	char backend[300];
	char trace[512];
	char topology[160];
	unsigned threads, replicate, repeat, threads_bound;
	bool strict;
	uint64_t events; /* trace events read (facts.events) */
	uint64_t ops;    /* operations replayed (allocs + frees) */
	uint64_t allocs, frees, failed_allocs, skipped_frees, unmatched_frees, page_ops_skipped;
	/* fidelity (replay.c 9.): [0] kmalloc, [1] kmem_cache allocations that carry the
	 * trace's bytes_alloc, those whose usable size equals it, and the share (NAN: none) */
	uint64_t fidelity_events[2], fidelity_equal[2];
	double fidelity_pct[2];
	uint64_t zero_size_allocs;    /* of the trace's events: kmalloc(0), not replayed */
	uint64_t events_not_replayed; /* of the trace's events: no operation (trace_counts) */
	uint64_t cross_cpu_frees, cross_node_frees;
	/* the trace's interrupt contexts (replay.c 6b.): allocations replayed in one, those
	 * with a sleeping GFP mask, and the first of these (trace event indices, ascending) */
	uint64_t intr_allocs, intr_sleeping_allocs;
	uint64_t kfree_null; /* Linux kfree(NULL) calls replayed (replay.c 6c.), in ops */
	uint32_t intr_sleep_ev[KMB_CTX_EVENTS_KEPT];
	unsigned n_intr_sleep_ev;
	uint64_t node_local_allocs[KMB_MAX_NODES], node_remote_allocs[KMB_MAX_NODES];
	double seconds, ops_per_sec;
	double timed_ops_per_sec; /* kmbench run: ops_per_sec is from an untimed replay, this
	                           * from the timed one (0 elsewhere) */
	double timer_overhead_ns;
	/* issue 11: the replay loop alone (threads created, bound, attached and warmed before
	 * the clock starts, detached after it stops) */
	double cpu_seconds;     /* sum over replay threads of CLOCK_THREAD_CPUTIME_ID in the loop */
	double ops_per_cpu_sec; /* ops / cpu_seconds */
	double dep_wait_seconds;    /* sum over threads of time spent waiting for another thread's
	                             * operation on the same slot (cross-thread dependencies) */
	double timer_resolution_ns; /* the cycle counter's smallest step between two reads, in
	                             * ns: latencies are multiples of it */
	char mapping[16];           /* "copies" (copy r runs whole on thread r % T) or "streams" */
	char mem_rule[200];         /* set by the caller: how --mem was chosen (memsize.c), or "" */
	/* How exact the global figures are with several threads: 0 = exact; otherwise the
	 * largest possible error of peak_live_bytes_req/_alloc and of the footprint peak */
	uint64_t peak_live_error_bytes, peak_footprint_error_bytes;
	unsigned latency_every; /* 0: no timing; 1: every operation timed; N: one in N */
	struct kmb_hist alloc_ns, free_ns;
	struct kmb_hist *size_alloc_ns, *size_free_ns; /* KMB_SIZE_CLASSES each (malloc'd) */
	uint64_t peak_live_bytes_req, peak_live_bytes_alloc, peak_footprint_bytes;
	uint64_t live_bytes_alloc_at_peak; /* usable bytes live when requested bytes peaked */
	uint64_t footprint_at_peak_bytes;  /* footprint when requested bytes peaked */
	uint64_t peak_at_op;               /* operation number (1-based) of that peak */
	double internal_frag_pct;
	double jw_footprint_at_peak_ratio; /* Johnstone & Wilson: footprint at peak live / peak live
	                                    */
	double jw_peak_footprint_ratio;    /* peak footprint / peak live */
	uint64_t mem_bytes, meta_bytes_at_end;
	struct kmb_memstat mem;
	bool has_extfrag; /* the backend has a page allocator: Linux extfrag figures */
	int extfrag_unusable[KMB_EXTFRAG_ORDERS], extfrag_index[KMB_EXTFRAG_ORDERS];
	struct kmb_stat stats[KMB_MAX_STATS];
	size_t nstats;
	char *vmstat; /* `vmstat -m` table at the end of the replay (malloc'd) */
	struct kmb_replay_type {
		char name[64];
		struct kmb_type_stats s;
	} * types; /* types with activity (malloc'd) */
	size_t ntypes;
	struct kmb_replay_cache {
		char name[64];
		struct kmb_cache_stats s;
		struct kmb_cache_info info; /* slabinfo's figures, if has_info */
		bool has_info;
	} * caches; /* the trace's kmem_caches with activity (malloc'd) */
	size_t ncaches;
	struct kmb_sample *samples; /* malloc'd, nsamples_cap entries, valid ones flagged */
	size_t nsamples_cap;
	bool invariants;
	bool aborted; /* a panic (deadlock, INVARIANTS) stopped the replay */
	char abort_msg[2300];
	uint32_t abort_event; /* trace event index of the operation that panicked, or
	                       * KMB_NO_EVENT: stopped outside any operation (set-up) */
};
#define KMB_NO_EVENT UINT32_MAX

int kmb_replay(const struct kmb_plan *plan, const struct kmb_trace_facts *facts,
               const char *trace_path, const struct kmb_replay_opts *opts,
               struct kmb_replay_result *res, char *err, size_t errlen);
void kmb_replay_result_free(struct kmb_replay_result *res);
void kmb_replay_print(FILE *out, const struct kmb_replay_result *res);
int kmb_replay_write_samples(FILE *out, const struct kmb_replay_result *res); /* CSV */
int kmb_replay_write_json(FILE *out, const struct kmb_replay_result *res);
struct kmb_result; /* results/schema.h: the figures of the declared result schema */
void kmb_replay_result_values(const struct kmb_replay_result *res, struct kmb_result *out);

/* ---- topology.c: hwloc, isolated --------------------------------------------------------- */
struct kmb_topo {
	void *h;   /* hwloc_topology_t */
	bool real; /* the machine's own: threads can be bound */
	unsigned npus, nnodes;
	unsigned pu_node[KMB_MAX_CPUS]; /* NUMA node (logical) of each PU (logical) */
	char desc[160];
};
/* spec: NULL = this machine, "node:2 core:2 pu:1" = hwloc synthetic, "*.xml" = hwloc XML */
int kmb_topo_load(struct kmb_topo *tp, const char *spec, char *err, size_t errlen);
void kmb_topo_free(struct kmb_topo *tp);
void kmb_topo_place(const struct kmb_topo *tp, unsigned n, bool compact, unsigned *pu);
int kmb_topo_bind_self(const struct kmb_topo *tp, unsigned pu); /* -ENOTSUP if not real */
int kmb_topology_summary(char *buf, size_t len);                /* "package:1 numa:1 core:2 pu:2" */

#endif /* KMB_BENCH_ENGINE_H */
