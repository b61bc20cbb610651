/*
 * workloads/trace.h - kernel allocation traces in memory, their facts, and replay plans.
 *
 * A trace is read whole into an array of events (struct kmb_event).  Pointers are kept
 * only to pair frees with allocations; kmb_trace_plan() replaces them by slot numbers so
 * that replay does no hashing.  Call sites and cache names live in one string table.
 */
#ifndef KMB_WORKLOADS_TRACE_H
#define KMB_WORKLOADS_TRACE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum kmb_event_kind {
	KMB_EV_KMALLOC = 1, /* kmalloc, kmalloc_node */
	KMB_EV_KFREE,       /* kfree */
	KMB_EV_CACHE_ALLOC, /* kmem_cache_alloc, kmem_cache_alloc_node */
	KMB_EV_CACHE_FREE,  /* kmem_cache_free */
	KMB_EV_PAGE_ALLOC,  /* mm_page_alloc */
	KMB_EV_PAGE_FREE,   /* mm_page_free, mm_page_free_batched */
};

static inline bool kmb_event_is_alloc(unsigned kind)
{
	return kind == KMB_EV_KMALLOC || kind == KMB_EV_CACHE_ALLOC || kind == KMB_EV_PAGE_ALLOC;
}

struct kmb_event {
	uint8_t kind;  /* enum kmb_event_kind */
	uint8_t order; /* page events */
	uint16_t cpu;
	int16_t node; /* -1 when the trace has none */
	uint8_t ctx;  /* interrupt context, KMB_ECTX_* bits; 0 = process or not traced */
	uint8_t pad;
	uint32_t site;  /* string-table index of the call site ("c104de4f", "putname+0x47/0x50") */
	uint32_t cache; /* string-table index of the cache name, 0 = none */
	int flags;      /* kmbench M_* flags mapped from gfp_flags */
	uint32_t line;  /* line number in the source file (1-based) */
	uint64_t ts_ns; /* timestamp */
	uint64_t ptr;   /* object (or pfn for page events); 0 = NULL */
	uint64_t bytes_req;
	uint64_t bytes_alloc;
};

/*
 * The context an event ran in, from the irq-flags column of the ftrace latency format
 * (ftrace.c 2.): bits, as the column can say "a hard interrupt inside a soft one" ('H') or
 * "an NMI inside a hard interrupt" ('Z').  The values are kmbench/context.h's KMB_SOFTIRQ,
 * KMB_HARDIRQ and KMB_NMI, so replay enters them in this order.
 */
#define KMB_ECTX_SOFTIRQ 0x1u
#define KMB_ECTX_HARDIRQ 0x2u
#define KMB_ECTX_NMI     0x4u
#define KMB_ECTX_ALL     0x7u
/* The context an irq-flags column ("d.h1.", "..s.") says; 0 for process or none. */
uint8_t kmb_irqflags_ctx(const char *flags, size_t len);
/* "process", "softirq", "hardirq", "NMI" of the innermost context in ctx. */
const char *kmb_event_ctx_name(unsigned ctx);

/* Parse-problem reasons, counted per reason when lines are skipped. */
enum kmb_skip_reason {
	KMB_SKIP_SYNTAX,      /* not an event line of a known shape */
	KMB_SKIP_FIELD,       /* a known event with a missing or malformed field */
	KMB_SKIP_OTHER_EVENT, /* an event kmbench does not replay (counted, not an error) */
	KMB_SKIP_NREASONS
};

/* The text or binary format a trace was read from (kmb_trace_load sniffs it). */
enum kmb_trace_format {
	KMB_FMT_UNKNOWN = 0, /* nothing read yet, or an empty file */
	KMB_FMT_FTRACE,      /* /sys/kernel/tracing/trace or trace_pipe, any kernel era */
	KMB_FMT_TRACE_CMD,   /* `trace-cmd report` output (with or without -l) */
	KMB_FMT_PERF,        /* `perf script` output of `perf kmem record` (kmem:EVENT) */
	KMB_FMT_KMT,         /* kmbench's binary format (kmt.c) */
};
const char *kmb_trace_format_name(int format); /* "ftrace", "trace-cmd", "perf", "kmt" */

/*
 * No kernel traced a request above 1 TiB (2^24 such events could not wrap the 64-bit sums
 * of trace stat and replay; no kmalloc or slab cache serves anything near it): the text
 * parser (ftrace.c) and the .kmt reader (kmt.c) refuse larger sizes.
 */
#define KMB_TRACE_MAX_BYTES (1ull << 40)

#define KMB_TRACE_MAX_ERRORS 5          /* skipped lines kept as "file:line: reason" */
#define KMB_TRACE_MAX_LINE   (4u << 20) /* longer lines are skipped unread (syntax) */

struct kmb_trace {
	char *path;
	struct kmb_event *ev;
	size_t nev, cap;
	char **str; /* string table; str[0] = "" */
	size_t nstr, strcap;
	void *strhash; /* private: string -> index */
	uint64_t skipped[KMB_SKIP_NREASONS];
	uint64_t lines;
	char first_error[256]; /* "file:line: reason" of the first skipped line */
	uint64_t lost_events;  /* sum of M over "CPU:N [LOST M EVENTS]" lines */
	/* additions (tracefmt.c, kmt.c) */
	int format;            /* enum kmb_trace_format of the file read */
	int source_format;     /* for a .kmt, the format it was converted from; else = format */
	uint64_t lost_reports; /* lines reporting lost events (trace-cmd's may give no count) */
	char errors[KMB_TRACE_MAX_ERRORS]
	           [256]; /* the first skipped lines; errors[0] = first_error */
	unsigned nerrors; /* entries used in errors[] */
};

struct kmb_trace_opts {
	bool strict; /* stop at the first unparsable line */
};

/*
 * Read a trace: ftrace text of any era, trace-cmd report, perf script, or .kmt (by its
 * magic).  Returns 0, or -errno with a one-line message naming the file in err: -EISDIR,
 * -ENOENT..., -EINVAL for a corrupt .kmt, for --strict at the first unparsable line, or
 * for a file where no line is an event but some are unparsable (not a trace at all).
 */
int kmb_trace_load(const char *path, const struct kmb_trace_opts *opts, struct kmb_trace *t,
                   char *err, size_t errlen);
/* Parse one line (no newline); 1 = event appended, 0 = comment/blank, <0 = skipped. */
/*
 * Details: a trailing \r is stripped; -EINVAL for KMB_SKIP_SYNTAX/KMB_SKIP_FIELD (the
 * reason alone in err, "file:line: reason" in t->first_error if it was empty), -ENOENT
 * for KMB_SKIP_OTHER_EVENT (not an error), -ENOMEM.  The line is counted in t->lines and
 * a skip in t->skipped[reason].  kmb_trace_load() initializes t itself; whatever it
 * returns, t must be released with kmb_trace_free().
 */
int kmb_trace_parse_line(struct kmb_trace *t, const char *line, size_t len, uint32_t lineno,
                         char *err, size_t errlen);
void kmb_trace_init(struct kmb_trace *t);
void kmb_trace_free(struct kmb_trace *t);
uint32_t kmb_trace_intern(struct kmb_trace *t, const char *s, size_t len);
#define KMB_STR_NOMEM UINT32_MAX /* kmb_trace_intern() out of memory */
/* Replace string i (> 0) by s, e.g. a raw call site by its symbol (syms.c); 0 or -errno. */
int kmb_trace_rename(struct kmb_trace *t, uint32_t i, const char *s);

/* ---- kernel symbols (syms.c) -------------------------------------------------------- */
/* A System.map or /proc/kallsyms: "ADDR TYPE NAME [MODULE]" lines, text symbols only
 * (types t T w W), sorted by address. */
struct kmb_syms {
	struct kmb_sym {
		uint64_t addr;
		char *name;
	} * sym;
	size_t n;
	char path[256];
};
/* 0 or -errno with "file:line: reason" in err (-EINVAL: no text symbol at all). */
int kmb_syms_load(const char *path, struct kmb_syms *y, char *err, size_t errlen);
void kmb_syms_free(struct kmb_syms *y);
/* "name+0xoff" of the nearest symbol at or below addr; false if none is. */
bool kmb_syms_name(const struct kmb_syms *y, uint64_t addr, char *buf, size_t len);
/* Every raw hex call site of t ("c1187838", "0xffffffff81234567") renamed name+0xoff;
 * the number renamed, or -ENOMEM. */
long kmb_syms_apply(const struct kmb_syms *y, struct kmb_trace *t);
/* The symbols of t's call sites (a raw one's nearest below, a "name+0x1f/0x40" one's by
 * name) written to out as System.map lines, sorted; the number written, or -errno. */
long kmb_syms_snapshot(const struct kmb_syms *y, const struct kmb_trace *t, FILE *out);

/* Map a gfp_flags value ("GFP_KERNEL|__GFP_ZERO", "0x2c0", ...) to M_* flags. */
int kmb_gfp_to_flags(const char *gfp, size_t len, int *flags);

/* The facts of a trace, defined exactly as in README "Trace facts". */
struct kmb_trace_facts {
	uint64_t events, allocs, failed_allocs, frees, null_frees, matched_frees, unmatched_frees,
	        implicit_frees, cpus;
	uint64_t total_bytes_req, total_bytes_alloc;
	uint64_t peak_live_bytes_req, peak_live_objects, final_live_objects;
	uint64_t kmalloc_events, kfree_events, cache_alloc_events, cache_free_events;
	uint64_t page_alloc_events, page_free_events;
	uint64_t zero_size_allocs; /* allocs with bytes_req 0 (kmalloc(0): not replayed) */
};
int kmb_trace_facts(const struct kmb_trace *t, struct kmb_trace_facts *f);

/*
 * A replay plan: the trace's allocation and free events with pointers replaced by slot
 * numbers.  An implicit free (an allocation returning a live pointer) becomes a free
 * op of the old slot just before the allocation; unmatched frees and kmem_cache_free of
 * NULL are dropped; a kfree(NULL) is a KMB_OP_KFREE_NULL op on its CPU's null slot.
 */
enum kmb_op_kind {
	KMB_OP_KMALLOC = 1,
	KMB_OP_KFREE,
	KMB_OP_CACHE_ALLOC,
	KMB_OP_CACHE_FREE,
	KMB_OP_PAGE_ALLOC,
	KMB_OP_PAGE_FREE,
	KMB_OP_KFREE_NULL /* a Linux kfree(NULL): a no-op call, timed and counted */
};

struct kmb_op {
	uint8_t kind;      /* enum kmb_op_kind */
	uint8_t order : 5; /* page ops: 0 .. KMB_MAX_ORDER (10; ftrace.c and kmt.c check it) */
	uint8_t ctx : 3;   /* the event's interrupt context (KMB_ECTX_*): replay runs it there */
	uint16_t cpu;
	int flags;
	uint32_t slot;        /* live-object slot */
	uint32_t type;        /* malloc type (per call site) or cache index */
	uint64_t size;        /* bytes_req (alloc ops) */
	uint32_t event;       /* index of the trace event (for messages) */
	uint32_t bytes_alloc; /* alloc ops: the traced slot, 0 unknown or >= 4 GiB (fidelity) */
};
/* 32 bytes, two ops per cache line: the replay streams them. */
#ifndef __cplusplus
_Static_assert(sizeof(struct kmb_op) == 32, "struct kmb_op grew");
_Static_assert(KMB_ECTX_ALL < 8, "KMB_ECTX_* fit struct kmb_op's 3 bits");
#endif

struct kmb_plan {
	struct kmb_op *op;
	size_t nop;
	uint32_t nslots;
	uint32_t ntypes;        /* type index = call-site index into names */
	const char **type_name; /* ntypes call sites */
	uint32_t ncaches;
	uint64_t *cache_size; /* ncaches object sizes */
	const char **cache_name;
	struct kmb_plan_geom {      /* the traced kernel's geometry of each cache, 0: unknown */
		uint64_t slot_size; /* bytes_alloc (s->size) */
		uint32_t order, objs_per_slab; /* from a geometry file (geometry.c) */
	} * cache_geom;
	uint64_t dropped_zero;       /* allocations with bytes_req == 0 (illegal kmalloc(0)) */
	uint64_t dropped_zero_frees; /* frees of those, dropped with them */
	uint64_t kind_mismatches;    /* kfree of a cache object, kmem_cache_free of a kmalloc one */
	uint64_t null_kfrees;        /* KMB_OP_KFREE_NULL ops */
};

int kmb_trace_plan(const struct kmb_trace *t, struct kmb_plan *p);
void kmb_plan_free(struct kmb_plan *p);

/* ---- formats (tracefmt.c) ---------------------------------------------------------- */

/* The format of a file from its first bytes (KMB_FMT_UNKNOWN if nothing tells). */
int kmb_trace_sniff(const char *buf, size_t len);
/*
 * Write t as ftrace text (the 6.x trace_pipe shape, timestamps in ns, pointers as read,
 * gfp_flags rebuilt from the M_* flags), so that reading it back gives the same facts and
 * plan.  0 or -EIO.
 */
int kmb_trace_write_ftrace(const struct kmb_trace *t, FILE *out);

/* ---- .kmt, kmbench's binary trace format (kmt.c; the layout is described there) -------- */

#define KMB_KMT_MAGIC     "\x89KMT\r\n\x1a\n" /* 8 bytes */
#define KMB_KMT_MAGIC_LEN 8
#define KMB_KMT_VERSION   2 /* 2: per-event interrupt context; 1 still read */
/* Write t as .kmt to out (a stream positioned at 0 is not needed).  0 or -errno. */
int kmb_kmt_write(const struct kmb_trace *t, FILE *out, char *err, size_t errlen);
/*
 * Read a .kmt image (a file read into a buffer) into t, which kmb_trace_init() made and
 * whose path names the file in messages.  Every offset and length is checked against n
 * and the CRC-32C checksums before use: a corrupt image is -EINVAL with what is wrong.
 */
int kmb_kmt_read(const void *buf, size_t n, struct kmb_trace *t, char *err, size_t errlen);

/* ---- the traced kernel's cache geometry (geometry.c; README "Cache geometry") --------- */

#define KMB_GEOMETRY_SUFFIX ".slabinfo" /* TRACE.slabinfo beside TRACE */

struct kmb_geometry {
	struct kmb_geometry_cache {
		char *name;
		uint64_t slot_size;            /* <objsize>: s->size */
		uint32_t order, objs_per_slab; /* log2 <pagesperslab>, <objperslab> */
	} * cache;
	size_t ncaches;
};
/* Read a copy of /proc/slabinfo (version 2.1; the columns after <pagesperslab> may be
 * left out).  0, -ENOENT (no such file: errno as is), -EINVAL with "file:line: reason". */
int kmb_geometry_load(const char *path, struct kmb_geometry *g, char *err, size_t errlen);
void kmb_geometry_free(struct kmb_geometry *g);
/* Give each named cache of p the order and objects per slab of the cache of that name
 * (and its slot size where the trace had none).  Returns the number of caches matched. */
size_t kmb_geometry_apply(const struct kmb_geometry *g, struct kmb_plan *p);
/* Save the running kernel's /proc/slabinfo as TRACE.slabinfo (trace record).  0 or
 * -errno with the file in err. */
int kmb_geometry_save(const char *trace_path, char *err, size_t errlen);
/* ---- allocations by interrupt context (stat_ctx.c) ------------------------------------ */

/* A call site that allocated with a sleeping GFP mask in interrupt context. */
struct kmb_ctx_site {
	const char *site;    /* the trace's string */
	uint8_t ctx;         /* KMB_ECTX_* of its first such allocation */
	uint64_t count;      /* such allocations */
	uint32_t first_line; /* the first one's line */
};
struct kmb_trace_ctx_stat {
	uint64_t allocs[4]; /* allocations by innermost context: process, softirq, hardirq, NMI */
	struct kmb_ctx_site *bad; /* by count, descending (malloc'd) */
	size_t nbad;
};
int kmb_trace_ctx_stat(const struct kmb_trace *t, struct kmb_trace_ctx_stat *s); /* 0, -ENOMEM */
void kmb_trace_ctx_stat_free(struct kmb_trace_ctx_stat *s);
/* Nothing without an allocation in interrupt context; at most `lines` sites. */
void kmb_trace_ctx_stat_print(FILE *out, const struct kmb_trace_ctx_stat *s, unsigned lines);
struct kmb_json;
void kmb_trace_ctx_stat_json(struct kmb_json *j, const struct kmb_trace_ctx_stat *s);

/* ---- perf kmem-style statistics (stat.c) ------------------------------------------- */

/* One row of the per call site or per cache table. */
struct kmb_stat_row {
	const char *name; /* call site, cache name or "cache-REQ-ALLOC", "kmalloc-ALLOC" */
	uint64_t hits;    /* non-NULL allocations */
	uint64_t failed;  /* NULL allocations */
	uint64_t bytes_req, bytes_alloc;
	uint64_t frees;    /* matched or implicit frees of this row's objects */
	uint64_t pingpong; /* matched frees on another CPU than the allocation's */
};

#define KMB_STAT_SIZE_BUCKETS 24 /* requested size <= 8, 16, ... 32M, larger */
#define KMB_STAT_LIFE_BUCKETS 65 /* 0, [1,2), [2,4) ... [2^63, 2^64) */
#define KMB_STAT_TIMELINE     32 /* samples of live bytes over the trace */
#define KMB_STAT_ORDERS       11 /* page orders 0..10 */

struct kmb_stat_lifetime {
	uint64_t count; /* objects freed (matched or implicit) */
	uint64_t min, p50, p90, p99, max;
	double mean;
	uint64_t hist[KMB_STAT_LIFE_BUCKETS]; /* log2 buckets */
};

struct kmb_trace_stat {
	struct kmb_stat_row *sites, *caches;
	size_t nsites, ncaches;
	char sort[64]; /* the sort keys the tables are in */
	uint64_t allocs, failed, frees, bytes_req, bytes_alloc, bytes_freed_req, bytes_freed_alloc;
	uint64_t pingpong;              /* cross-CPU frees */
	uint64_t peak_live_bytes_alloc; /* allocated bytes live, maximum after each event */
	struct kmb_stat_size {          /* by requested size */
		uint64_t limit;         /* upper bound (inclusive); UINT64_MAX for the last */
		uint64_t count, bytes_req, bytes_alloc;
	} size[KMB_STAT_SIZE_BUCKETS];
	struct kmb_stat_lifetime life_events; /* lifetime in allocation and free events */
	struct kmb_stat_lifetime life_ns;     /* lifetime in trace time */
	uint64_t never_freed;                 /* live at the end */
	struct kmb_stat_sample {
		uint64_t event; /* allocation and free events so far (facts' events) */
		uint64_t ts_ns, live_objects, live_bytes_req, live_bytes_alloc;
	} timeline[KMB_STAT_TIMELINE];
	unsigned ntimeline;
	struct kmb_stat_pages {
		uint64_t allocs[KMB_STAT_ORDERS], frees[KMB_STAT_ORDERS];
		uint64_t failed, unmatched_frees;
		uint64_t repeated_frees; /* a free reported twice, counted once (facts.c) */
		uint64_t live_pages, peak_live_pages; /* in pages of the base size */
	} pages;
};

/* Compute the statistics (tables sorted by "frag,hit,bytes").  0 or -ENOMEM. */
int kmb_trace_stat(const struct kmb_trace *t, struct kmb_trace_stat *s);
/* Sort both tables by a comma list of keys: frag, hit, bytes, req, pingpong, free,
 * name; -EINVAL (reason in err) for an unknown key. */
int kmb_trace_stat_sort(struct kmb_trace_stat *s, const char *keys, char *err, size_t errlen);
void kmb_trace_stat_free(struct kmb_trace_stat *s);
/* perf kmem stat-like text; at most lines rows per table (0: all). */
void kmb_trace_stat_print(FILE *out, const struct kmb_trace_stat *s, unsigned lines);
struct kmb_json;
/* The sections as members of the JSON object being written (all rows). */
void kmb_trace_stat_json(struct kmb_json *j, const struct kmb_trace_stat *s);

/* ---- capturing from tracefs (record.c) --------------------------------------------- */

struct kmb_record_opts {
	const char *tracefs;  /* NULL: /sys/kernel/tracing, else /sys/kernel/debug/tracing */
	const char *out_path; /* written atomically */
	const char *events;   /* comma list (kmem:NAME or NAME); NULL: every kmem event below */
	double duration_s;    /* <= 0: until *stop */
	unsigned buffer_kb;   /* per-CPU ring buffer size to set (restored after); 0: grown to
	                       * a default (record.c "Ring buffer") */
	volatile sig_atomic_t *stop; /* set (by a signal handler) to end the capture */
	FILE *progress;              /* progress lines (\r-updated), or NULL */
};

struct kmb_record_result {
	unsigned ncpus, nevents; /* CPUs read, events enabled */
	unsigned buffer_kb;      /* per-CPU ring buffer while capturing (0: unknown) */
	uint64_t lines, bytes, lost_events;
	double seconds;
	char tracefs[256];
};

/*
 * Capture: find tracefs, save tracing_on, the enable files it touches and the buffer
 * size, enable the events, read per_cpu/cpuN/trace_pipe with one thread per CPU into
 * spool files, stop after duration_s or when *stop, restore the state, and merge the
 * spools by timestamp into out_path.  0 or -errno with one line in err.
 */
int kmb_trace_record(const struct kmb_record_opts *o, struct kmb_record_result *r, char *err,
                     size_t errlen);
/* The kmem events recorded by default, NULL-terminated. */
extern const char *const kmb_record_default_events[];

/* ---- private: one error message into err (errlen 0 or NULL: none); -EINVAL (tracefmt.c) */
__attribute__((format(printf, 3, 4))) int kmb__seterr(char *err, size_t errlen, const char *fmt,
                                                      ...);

/* ---- private (ftrace.c) ------------------------------------------------------------ */
/* Count a skipped line (as kmb_trace_parse_line does); returns -EINVAL or -ENOENT. */
int kmb__trace_skip(struct kmb_trace *t, int reason, uint32_t lineno, const char *why, char *err,
                    size_t errlen);
int kmb__line_shape(const char *line, size_t len); /* the format its shape tells, or 0 */
bool kmb__line_ts(const char *line, size_t len, uint64_t *ts); /* an event line's time */
uint32_t kmb__crc32c(uint32_t crc, const void *buf, size_t n); /* kmt.c; crc 0 to start */
/* Read bytes [0, n) of a regular file into buf (pread, EINTR retried): *got of them, fewer
 * at its end; 0 or -errno (tracefmt.c). */
int kmb__pread_upto(int fd, void *buf, size_t n, size_t *got);

/* a + b, or UINT64_MAX where it would wrap (a sum of counts a trace states, as LOST M) */
static inline uint64_t kmb__sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/*
 * The index of the first control byte (below 0x20, or 0x7f: NUL, newline, ESC...) of
 * s[0..len), or len if none (strtab.c).  Call sites and cache names holding one are
 * refused where they are read (ftrace.c, kmt.c): written back as text, a newline would
 * forge event lines, and printed to a terminal, ESC sequences would drive it.
 */
size_t kmb__ctrl_byte(const char *s, size_t len);

/* ---- private: an open-addressing map uint64 key (!= 0) -> uint64 value (facts.c) ---- */
struct kmb__ptrmap {
	struct kmb__ptrmap_ent {
		uint64_t key, val;
	} * ent;
	size_t cap, n; /* cap: 0 or a power of two */
};
void kmb__ptrmap_init(struct kmb__ptrmap *m);
void kmb__ptrmap_free(struct kmb__ptrmap *m);
uint64_t *kmb__ptrmap_find(const struct kmb__ptrmap *m, uint64_t key);  /* NULL if absent */
int kmb__ptrmap_put(struct kmb__ptrmap *m, uint64_t key, uint64_t val); /* 0, -ENOMEM */
bool kmb__ptrmap_remove(struct kmb__ptrmap *m, uint64_t key, uint64_t *val);
/* Whether page event e repeats the last free of its pfn with no allocation between - one
 * free reported twice (facts.c, page_free_events); m holds each pfn's state.  0 or -ENOMEM
 * in *rc. */
bool kmb__page_free_repeat(struct kmb__ptrmap *m, const struct kmb_event *e, int *rc);

#endif /* KMB_WORKLOADS_TRACE_H */
