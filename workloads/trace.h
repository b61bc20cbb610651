/*
 * workloads/trace.h - kernel allocation traces in memory, their facts, and replay plans.
 *
 * A trace is read whole into an array of events (struct kmb_event).  Pointers are kept
 * only to pair frees with allocations; kmb_trace_plan() replaces them by slot numbers so
 * that replay does no hashing.  Call sites and cache names live in one string table.
 */
#ifndef KMB_WORKLOADS_TRACE_H
#define KMB_WORKLOADS_TRACE_H

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
	uint16_t pad;
	uint32_t site;  /* string-table index of the call site ("c104de4f", "putname+0x47/0x50") */
	uint32_t cache; /* string-table index of the cache name, 0 = none */
	int flags;      /* kmbench M_* flags mapped from gfp_flags */
	uint32_t line;  /* line number in the source file (1-based) */
	uint64_t ts_ns; /* timestamp */
	uint64_t ptr;   /* object (or pfn for page events); 0 = NULL */
	uint64_t bytes_req;
	uint64_t bytes_alloc;
};

/* Parse-problem reasons, counted per reason when lines are skipped. */
enum kmb_skip_reason {
	KMB_SKIP_SYNTAX,      /* not an event line of a known shape */
	KMB_SKIP_FIELD,       /* a known event with a missing or malformed field */
	KMB_SKIP_OTHER_EVENT, /* an event kmbench does not replay (counted, not an error) */
	KMB_SKIP_NREASONS
};

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
};

struct kmb_trace_opts {
	bool strict; /* stop at the first unparsable line */
};

/* Read an ftrace text file.  Returns 0, or -errno with a one-line message in err. */
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
};
int kmb_trace_facts(const struct kmb_trace *t, struct kmb_trace_facts *f);

/*
 * A replay plan: the trace's allocation and free events with pointers replaced by slot
 * numbers.  An implicit free (an allocation returning a live pointer) becomes a free
 * op of the old slot just before the allocation; unmatched and NULL frees are dropped.
 */
enum kmb_op_kind {
	KMB_OP_KMALLOC = 1,
	KMB_OP_KFREE,
	KMB_OP_CACHE_ALLOC,
	KMB_OP_CACHE_FREE,
	KMB_OP_PAGE_ALLOC,
	KMB_OP_PAGE_FREE
};

struct kmb_op {
	uint8_t kind; /* enum kmb_op_kind */
	uint8_t order;
	uint16_t cpu;
	int flags;
	uint32_t slot;  /* live-object slot */
	uint32_t type;  /* malloc type (per call site) or cache index */
	uint64_t size;  /* bytes_req (alloc ops) */
	uint32_t event; /* index of the trace event (for messages) */
};

struct kmb_plan {
	struct kmb_op *op;
	size_t nop;
	uint32_t nslots;
	uint32_t ntypes;        /* type index = call-site index into names */
	const char **type_name; /* ntypes call sites */
	uint32_t ncaches;
	uint64_t *cache_size; /* ncaches object sizes */
	const char **cache_name;
	uint64_t dropped_zero;    /* allocations with bytes_req == 0 (illegal kmalloc(0)) */
	uint64_t kind_mismatches; /* kfree of a cache object, kmem_cache_free of a kmalloc one */
};

int kmb_trace_plan(const struct kmb_trace *t, struct kmb_plan *p);
void kmb_plan_free(struct kmb_plan *p);

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

#endif /* KMB_WORKLOADS_TRACE_H */
