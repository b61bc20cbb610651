/*
 * workloads/gen.h - synthetic kernel workloads: traces generated from a model of what a
 * kernel subsystem does, and the ftrace text writer they are written with.
 *
 * A generator fills a struct kmb_trace exactly as the ftrace parser would (kinds, cpu,
 * pointers, bytes_req/bytes_alloc as SLUB reports them, M_* flags mapped from the gfp
 * names it prints, the context its role's irq-flags column says, interned call sites and
 * cache names, timestamps, line 0), so facts,
 * plans and replay treat it like a captured trace.  The same options and seed give the
 * same trace, byte for byte.  Each workload lives in its own gen_<name>.c with the theory
 * of the kernel behaviour it models.
 */
#ifndef KMB_WORKLOADS_GEN_H
#define KMB_WORKLOADS_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "workloads/trace.h"

#define KMB_GEN_MAX_CPUS   64            /* KMB_MAX_CPUS: the replay's CPU indices */
#define KMB_GEN_MIN_EVENTS 100           /* --events bounds */
#define KMB_GEN_MAX_EVENTS 20000000      /* 1.1 GB of struct kmb_event */
#define KMB_GEN_MAX_MEM    (16ULL << 30) /* --mem */

struct kmb_gen_opts {
	uint64_t events;     /* approximate total events; 0 = the workload's default */
	unsigned cpus;       /* 1..KMB_GEN_MAX_CPUS; 0 = 2 */
	uint64_t seed;       /* any value; the same seed gives the same trace */
	const char *variant; /* NULL = the workload's first (default) variant */
	uint64_t mem_bytes;  /* memory the trace is designed for; 0 = default (see mem) */
};

struct kmb__gen;

struct kmb_workload {
	const char *name;
	const char *summary;         /* one line for `kmbench list` */
	uint64_t default_events;     /* --events when not given */
	const char *const *variants; /* NULL-terminated, [0] the default; NULL = none */
	uint64_t default_mem;        /* 0 = the workload takes no --mem */
	const char *replay_hint;     /* how to replay it to see its point */
	int (*generate)(struct kmb__gen *g);
	/* Options this workload cannot honour (NULL: none); -EINVAL with a reason. */
	int (*check)(const struct kmb_gen_opts *o, char *err, size_t errlen);
};

/* The registry, in `kmbench list` order. */
size_t kmb_workload_count(void);
const struct kmb_workload *kmb_workload_at(size_t i);
const struct kmb_workload *kmb_workload_find(const char *name); /* NULL if unknown */

/*
 * Fill in o's defaults for w and check them; 0, or -EINVAL with a one-line reason in err
 * ("unknown variant 'x' (failok, waitok, mixed)", "--mem does not apply to netrx", ...).
 */
int kmb_workload_resolve(const struct kmb_workload *w, struct kmb_gen_opts *o, char *err,
                         size_t errlen);
/* Generate into t (initialized here; release with kmb_trace_free whatever it returns). */
int kmb_workload_generate(const struct kmb_workload *w, const struct kmb_gen_opts *o,
                          struct kmb_trace *t, char *err, size_t errlen);
/*
 * Generate and write as Linux 6.x ftrace text: the `# tracer: nop` header, task names
 * and 5-column irq flags of the modelled contexts, microsecond timestamps, kmalloc and
 * kmem_cache_alloc (name=, bytes_req, bytes_alloc, the gfp_flags the modelled kernel code
 * passes, node=-1, accounted=), kfree, kmem_cache_free (name=).  kmb_trace_load() of the
 * output gives the events of kmb_workload_generate() (line numbers aside).  0 or -errno.
 * (Any trace, generated or not, can be written with kmb_trace_write_ftrace, trace.h.)
 */
int kmb_workload_write_ftrace(const struct kmb_workload *w, const struct kmb_gen_opts *o, FILE *out,
                              size_t *nevents, char *err, size_t errlen);

/* ---- private: the generator toolkit the gen_*.c files share (gen.c) ------------------ */

#define KMB__GEN_MAX_CLASSES 64 /* address regions: kmalloc classes, large orders, caches */

/* Who runs an event: the ftrace TASK-PID and irq-flags columns. */
struct kmb__role {
	const char *comm; /* may hold one %u: the CPU ("ksoftirqd/%u") */
	unsigned pid;     /* pid + cpu * pid_stride */
	unsigned pid_stride;
	const char *irqflags; /* 5 characters: "....." or "..s1." */
};

struct kmb__gen_class {
	uint64_t key;                  /* bytes_alloc (kmalloc), or cache index | CACHE_KEY */
	uint64_t stride, slab_bytes;   /* object spacing; bytes per slab */
	uint64_t per_slab, base, next; /* objects per slab; region start; objects carved */
	uint64_t *free;                /* LIFO of free object indices (SLUB reuses hot first) */
	size_t nfree, freecap;
	uint8_t *live; /* bitmap of live object indices */
	size_t livebytes;
};

struct kmb__gen_cache {
	uint32_t name;
	uint64_t obj_size, size; /* bytes_req, bytes_alloc */
	int cls;
};

struct kmb__gen_gfp {
	const char *name; /* as 6.x show_gfp_flags() prints it */
	int flags;        /* = kmb_gfp_to_flags(name), checked when registered */
};

struct kmb__gen {
	struct kmb_trace *t;
	struct kmb_gen_opts o; /* resolved */
	unsigned variant;      /* index into the workload's variants */
	const struct kmb_workload *w;
	uint64_t rng[4];
	uint64_t now;  /* ns */
	uint64_t live; /* objects allocated and not yet freed */
	int rc;        /* first error (sticky): 0 or -errno */
	char *err;
	size_t errlen;
	/* per event: who ran it and how its gfp flags are spelled (for the writer) */
	struct kmb__evx {
		uint8_t role, gfp;
	} * evx;
	size_t evxcap;
	const struct kmb__role *roles;
	size_t nroles;
	struct kmb__gen_gfp gfp[32];
	size_t ngfp;
	struct kmb__gen_class cls[KMB__GEN_MAX_CLASSES];
	size_t ncls;
	struct kmb__gen_cache cache[16];
	size_t ncache;
};

/* Record the first error with a message; returns rc. */
int kmb__gen_fail(struct kmb__gen *g, int rc, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* No error, and events + live objects + reserve < the --events target. */
bool kmb__gen_more(const struct kmb__gen *g, uint64_t reserve);

/* Random numbers (xoshiro256**, seeded from --seed and the workload name). */
uint64_t kmb__gen_rand(struct kmb__gen *g);
uint64_t kmb__gen_below(struct kmb__gen *g, uint64_t n);               /* [0, n) */
uint64_t kmb__gen_range(struct kmb__gen *g, uint64_t lo, uint64_t hi); /* [lo, hi] */
bool kmb__gen_chance(struct kmb__gen *g, unsigned percent);

/* Names: a call site, a cache, a gfp spelling that must map to `want`. */
uint32_t kmb__gen_site(struct kmb__gen *g, const char *site);
int kmb__gen_cache(struct kmb__gen *g, const char *name, uint64_t obj_size, uint64_t size);
unsigned kmb__gen_gfp(struct kmb__gen *g, const char *name, int want);

/* SLUB's bytes_alloc for a kmalloc of size: 8..8192 classes, then PAGE_SIZE << order. */
uint64_t kmb__slub_size(uint64_t size);

/* Time passes (an idle gap); every event also advances the clock by 0.1-1.5 us. */
void kmb__gen_idle(struct kmb__gen *g, uint64_t ns);

/* Events.  Allocations return the synthesized pointer (0 after an error). */
uint64_t kmb__gen_kmalloc(struct kmb__gen *g, unsigned cpu, unsigned role, uint32_t site,
                          uint64_t size, unsigned gfp);
void kmb__gen_kfree(struct kmb__gen *g, unsigned cpu, unsigned role, uint32_t site, uint64_t ptr);
uint64_t kmb__gen_cache_alloc(struct kmb__gen *g, unsigned cpu, unsigned role, uint32_t site,
                              int cache, unsigned gfp);
void kmb__gen_cache_free(struct kmb__gen *g, unsigned cpu, unsigned role, uint32_t site, int cache,
                         uint64_t ptr);

/* The receive side of a network stack (gen_skb.c), shared by netrx and irq. */
struct kmb__skb {
	uint64_t head, data;
};
struct kmb__skbq { /* a socket receive queue: FIFO ring */
	struct kmb__skb *q;
	size_t head, n, cap;
};
struct kmb__net {
	struct kmb__gen *g;
	unsigned rx, ncons; /* receive CPUs 0..rx-1, consumers rx..rx+ncons-1 */
	int skb_cache;
	uint32_t site_head, site_data, site_free_data, site_free_head, site_drop;
	unsigned gfp;
	struct kmb__skbq *cq;
	size_t queued;
};
int kmb__net_setup(struct kmb__net *n, struct kmb__gen *g, const char *site_head,
                   const char *site_data);
/* One packet received on cpu; drop_pct % are freed there at once. */
void kmb__net_rx(struct kmb__net *n, unsigned cpu, unsigned role, unsigned drop_pct);
void kmb__net_consume(struct kmb__net *n, unsigned c, unsigned max, unsigned role);
void kmb__net_wake(struct kmb__net *n, unsigned role);   /* a consumer with packets: 1-32 */
void kmb__net_finish(struct kmb__net *n, unsigned role); /* drain every queue, release */

/* The workloads (gen_<name>.c). */
int kmb__gen_fdtable(struct kmb__gen *g);
int kmb__gen_netrx(struct kmb__gen *g);
int kmb__gen_vfs_cache(struct kmb__gen *g);
int kmb__gen_larson(struct kmb__gen *g);
int kmb__gen_xmalloc(struct kmb__gen *g);
int kmb__gen_exhaust(struct kmb__gen *g);
int kmb__gen_speculative(struct kmb__gen *g);
int kmb__gen_irq(struct kmb__gen *g);
int kmb__exhaust_check(const struct kmb_gen_opts *o, char *err, size_t errlen);

/* Parameters the tests check against (each workload's theory comment explains them). */
uint64_t kmb__vfs_cache_cap(uint64_t events); /* dentries kept before LRU eviction */
void kmb__exhaust_wmarks(uint64_t mem_bytes, uint64_t *min_pages, uint64_t *floor_pages);

#endif /* KMB_WORKLOADS_GEN_H */
