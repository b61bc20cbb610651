/*
 * backends/baseline/baseline_impl.h - what the baseline files share: the byte budget with
 * per-CPU credit (baseline.c 3.), the footprint readings (baseline.c 4.), and the inline fast
 * paths each allocator's ops wrap around its own malloc and free.
 */
#ifndef KMB_BACKENDS_BASELINE_IMPL_H
#define KMB_BACKENDS_BASELINE_IMPL_H

#include "baseline.h"

#include <pthread.h>

/* ---- sanitizers: dlopen's RTLD_DEEPBIND is refused by their runtimes (baseline.c 2.) ---- */
#if defined(__SANITIZE_ADDRESS__)
#define KMB__BL_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define KMB__BL_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KMB__BL_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define KMB__BL_TSAN 1
#endif
#if __has_feature(memory_sanitizer)
#define KMB__BL_MSAN 1
#endif
#endif
#if defined(KMB__BL_ASAN) || defined(KMB__BL_TSAN) || defined(KMB__BL_MSAN)
#define KMB__BL_SANITIZED 1
#endif

#ifdef KMB__BL_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
/* Calls into an allocator TSan cannot see inside (baseline.c 5.) */
#define KMB__BL_TSAN_ENTER(bl)                                                                     \
	do {                                                                                       \
		if ((bl)->tsan_hb)                                                                 \
			__tsan_acquire(&(bl)->tsan_sync);                                          \
	} while (0)
#define KMB__BL_TSAN_EXIT(bl)                                                                      \
	do {                                                                                       \
		if ((bl)->tsan_hb)                                                                 \
			__tsan_release(&(bl)->tsan_sync);                                          \
	} while (0)
#else
#define KMB__BL_TSAN_ENTER(bl) ((void)0)
#define KMB__BL_TSAN_EXIT(bl)  ((void)0)
#endif
#ifdef KMB__BL_ASAN
void __lsan_ignore_object(void *p); /* const void * in lsan_interface.h: GCC would take
                                     * it for a read of the fresh block */
void __lsan_disable(void);
void __lsan_enable(void);
#endif

/* ---- the allocators (one file each) --------------------------------------------------- */

/*
 * TCMalloc calls abort() ("FATAL ERROR: Out of memory trying to allocate internal tcmalloc
 * data", page_heap_allocator.h) when it cannot map its metadata - from its constructor on,
 * as the heap grows (128 KiB chunks, the page map, central caches) - instead of returning
 * NULL.  Beyond the budget it needs that metadata (a few MiB for hundreds of MiB of heap)
 * and the first replay thread's stack beside it (8 MiB by default): 16 MiB of address
 * space, checked at boot (baseline.c check_headroom).  Measured under ulimit -v with --mem
 * 16M on the boot trace, before the check: 40 MB aborted at load, 50 MB could not create
 * the replay thread, 60 MB replayed.
 */
#define KMB__BL_TCMALLOC_RESERVE ((size_t)16 << 20)

/* Fill a (static storage) and load what it needs; 0 or -ELIBACC with the reason in err. */
int kmb__bl_libc_load(struct kmb_baseline_alloc *a, char *err, size_t errlen);
int kmb__bl_mimalloc_load(struct kmb_baseline_alloc *a, char *err, size_t errlen);
int kmb__bl_jemalloc_load(struct kmb_baseline_alloc *a, char *err, size_t errlen);
int kmb__bl_tcmalloc_load(struct kmb_baseline_alloc *a, char *err, size_t errlen);

/* dlopen flags: RTLD_NOW | RTLD_LOCAL, and RTLD_DEEPBIND unless sanitized (baseline.c 2.). */
void *kmb__bl_dlopen(const char *soname, const char *package, char *err, size_t errlen);
extern const char kmb__bl_dlopen_how[];

/* ---- the budget ------------------------------------------------------------------------- */

struct kmb__bl_cpu {
	int64_t credit; /* budget bytes this CPU holds; only its attached thread writes it */
} __attribute__((aligned(64)));

struct kmb__bl {
	/* read-mostly */
	const struct kmb_baseline_alloc *a;
	struct kmb_physmem *pm;
	int64_t mem;          /* simulated memory: the budget before the marks */
	int64_t min_mark;     /* bytes a normal request leaves free */
	int64_t reserve_mark; /* ... a M_USE_RESERVE request */
	int64_t batch;        /* credit a CPU takes at once and keeps (at most 2 batches) */
	int64_t step;         /* footprint reading every step bytes of new peak */
	int64_t calm;         /* free bytes above min_mark that end a shortage */
	int short_;           /* a request failed: frees go straight to the global pool */
	int tsan_sync;        /* TSan: the allocator's calls acquire and release it */
	bool tsan_hb;         /* TSan: the allocator is not instrumented (not libc) */
	/* the global pool, written on slow paths only */
	int64_t avail __attribute__((aligned(64))); /* bytes not charged to blocks or credit */
	int64_t sync_next;                          /* read the footprint when taken exceeds it */
	int64_t sync_taken;                         /* taken at the last reading */
	uint64_t refills, failures, reads;
	/* footprint readings (sync_lock) */
	pthread_mutex_t sync_lock;
	long acc_data, acc_meta;                  /* pages accounted in pm as data and metadata */
	uint64_t foot_data, foot_meta;            /* the last reading, less the boot's */
	uint64_t boot_data, boot_meta, boot_idle; /* the reading at boot, after the trim (4.) */
	struct kmb__bl_cpu cpu[KMB_MAX_CPUS];
};

bool kmb__bl_charge_slow(struct kmb__bl *bl, int64_t u, int flags);
/* The allocator returned NULL: the process is out of memory; panics (baseline.c 5.). */
__attribute__((noreturn, cold)) void kmb__bl_host_oom(struct kmb_backend *be, size_t size);
void kmb__bl_uncharge_slow(struct kmb__bl *bl, int64_t u);

/* Allocations until the allocator's next (modelled) page-source call (baseline.c 3.). */
#define KMB__BL_PROBE 64
extern _Thread_local unsigned kmb__bl_probe;

/* Charge u usable bytes: from this CPU's credit without an atomic read-modify-write. */
static inline bool kmb__bl_charge(struct kmb__bl *bl, int64_t u, int flags)
{
	struct kmb__bl_cpu *c = KMB_THIS_CPU(bl->cpu);

	if (kmb_unlikely(++kmb__bl_probe >= KMB__BL_PROBE)) {
		kmb__bl_probe = 0;
		if (kmb_fault_inject())
			return false;
	}
	if (kmb_likely(c != NULL)) {
		int64_t credit = __atomic_load_n(&c->credit, __ATOMIC_RELAXED);

		if (kmb_likely(credit >= u)) {
			__atomic_store_n(&c->credit, credit - u, __ATOMIC_RELAXED);
			return true;
		}
	}
	return kmb__bl_charge_slow(bl, u, flags);
}

static inline void kmb__bl_uncharge(struct kmb__bl *bl, int64_t u)
{
	struct kmb__bl_cpu *c = KMB_THIS_CPU(bl->cpu);

	if (kmb_likely(c != NULL)) {
		int64_t credit = __atomic_load_n(&c->credit, __ATOMIC_RELAXED) + u;

		if (kmb_likely(credit <= 2 * bl->batch &&
		               !__atomic_load_n(&bl->short_, __ATOMIC_RELAXED))) {
			__atomic_store_n(&c->credit, credit, __ATOMIC_RELAXED);
			return;
		}
	}
	kmb__bl_uncharge_slow(bl, u);
}

/*
 * The ops' fast paths, inlined around each allocator's own functions (passed as constants,
 * so the calls are direct where the allocator is linked, one indirect call where it was
 * dlopened).  Page multiples come page aligned from the allocator's aligned allocation.
 */
static inline void *kmb__bl_alloc(struct kmb_backend *be, size_t size, int flags, size_t *u,
                                  void *(*mal)(size_t), void *(*aal)(size_t, size_t),
                                  void (*fre)(void *), size_t (*usable)(void *))
{
	struct kmb__bl *bl = be->priv;
	void *p;

	KMB__BL_TSAN_ENTER(bl);
	p = kmb_likely(size % KMB_PAGE_SIZE != 0) ? mal(size) : aal(KMB_PAGE_SIZE, size);
	KMB__BL_TSAN_EXIT(bl);
	if (kmb_unlikely(p == NULL))
		kmb__bl_host_oom(be, size);
	*u = usable(p);
	if (kmb_unlikely(!kmb__bl_charge(bl, (int64_t)*u, flags))) {
		KMB__BL_TSAN_ENTER(bl);
		fre(p);
		KMB__BL_TSAN_EXIT(bl);
		return NULL;
	}
	return p;
}

static inline size_t kmb__bl_free(struct kmb_backend *be, void *p, void (*fre)(void *),
                                  size_t (*usable)(void *))
{
	struct kmb__bl *bl = be->priv;
	size_t u = usable(p);

	kmb__bl_uncharge(bl, (int64_t)u);
	KMB__BL_TSAN_ENTER(bl);
	fre(p);
	KMB__BL_TSAN_EXIT(bl);
	return u;
}

/* The ops every baseline shares (baseline.c); init loads the allocator named by the ops. */
int kmb__bl_init(struct kmb_backend *be);
void kmb__bl_fini(struct kmb_backend *be);
size_t kmb__bl_max_size(struct kmb_backend *be);
void kmb__bl_memstat(struct kmb_backend *be, struct kmb_memstat *ms);
size_t kmb__bl_stats(struct kmb_backend *be, struct kmb_stat *out, size_t max);
void kmb__bl_drain(struct kmb_backend *be);
void kmb__bl_thread_attach(struct kmb_backend *be, unsigned cpu);
void kmb__bl_thread_detach(struct kmb_backend *be, unsigned cpu);

#define KMB__BL_OPS(NAME, SUMMARY, ALLOC, FREE, USABLE)                                            \
	{                                                                                          \
		.name = NAME, .summary = SUMMARY, .freelist_bytes = 0, .natural_pow2 = false,      \
		.default_pages = NULL, .init = kmb__bl_init, .fini = kmb__bl_fini, .alloc = ALLOC, \
		.free = FREE, .usable_size = USABLE, .max_size = kmb__bl_max_size,                 \
		.memstat = kmb__bl_memstat, .stats = kmb__bl_stats, .drain = kmb__bl_drain,        \
		.thread_attach = kmb__bl_thread_attach, .thread_detach = kmb__bl_thread_detach,    \
	}

/* A declared statistic with its value. */
#define KMB__BL_STAT(n, u, d, v)                                                                   \
	(struct kmb_stat)                                                                          \
	{                                                                                          \
		n, u, d, (uint64_t)(v)                                                             \
	}

#endif /* KMB_BACKENDS_BASELINE_IMPL_H */
