/*
 * core/internal.h - the core's internal interface, grouped by defining file.
 * Internal names are kmb__*; public ones (include/kmbench/) are kmb_* or kernel names.
 */
#ifndef KMB_CORE_INTERNAL_H
#define KMB_CORE_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kmbench/backend.h>
#include <kmbench/context.h>
#include <kmbench/kmalloc.h>
#include <kmbench/kmbench.h>
#include <kmbench/kmem.h>
#include <kmbench/lock.h>

#define kmb__likely(x)   kmb_likely(x)
#define kmb__unlikely(x) kmb_unlikely(x)

/* Raise *p to v (relaxed; for high-water marks several threads may push at once). */
static inline void kmb__atomic_max_i64(int64_t *p, int64_t v)
{
	int64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (v > cur &&
	       !__atomic_compare_exchange_n(p, &cur, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* The tiered assertions are the contract's (kmbench/backend.h): the core uses the same. */
#define kmb__assert(c)           kmb_assert(c)
#define kmb__assert_internal(c)  kmb_assert_internal(c)
#define kmb__assert_expensive(c) kmb_assert_expensive(c)

/* ---- os.c: the only file that calls the OS (mmap, threads ids, CPU count) ------------- */
void *kmb__os_map(size_t bytes);          /* zeroed, NULL on failure */
void *kmb__os_map_resident(size_t bytes); /* zeroed and faulted in: no first-touch faults */
void kmb__os_unmap(void *addr, size_t bytes);
uint64_t kmb__os_now_ns(void); /* CLOCK_MONOTONIC */
long kmb__os_tid(void);
unsigned kmb__os_ncpus(void);
void kmb__os_barrier_all(void); /* a full barrier on every running thread (wait.c 3.) */
void kmb__os_futex_wait(uint32_t *word, uint32_t val); /* Linux futex(2), private */
void kmb__os_futex_wake(uint32_t *word, int nwake);

/* ---- lock.c: a thread that blocks tells spinners on the locks it holds (lock.c 2.) ---- */
void kmb__lock_sleep_begin(void);
void kmb__lock_sleep_end(void);

/* ---- panic.c --------------------------------------------------------------------------- */
__attribute__((noreturn)) void kmb__panicv(enum kmb_panic_kind kind, const void *addr, size_t size,
                                           const struct malloc_type *type, const char *fmt,
                                           va_list ap);
__attribute__((noreturn, format(printf, 5, 6))) void kmb__panic_full(enum kmb_panic_kind kind,
                                                                     const void *addr, size_t size,
                                                                     const struct malloc_type *type,
                                                                     const char *fmt, ...);
const char *kmb__flags_str(int flags, char *buf, size_t len); /* "M_WAITOK|M_ZERO" */
const char *kmb__type_name(const struct malloc_type *type);   /* "M_TEMP" style or "?" */

/* ---- physmem.c ------------------------------------------------------------------------- */
int kmb__physmem_init(struct kmb_physmem *pm, size_t bytes, unsigned nnodes, bool poison);
void kmb__physmem_fini(struct kmb_physmem *pm);

/* ---- boot.c: the one booted system --------------------------------------------------- */
struct kmb__system {
	bool booted;
	bool invariants;
	bool fast; /* booted with INVARIANTS off: kmalloc and kfree may take their fast paths */
	struct kmb_physmem pm;
	struct kmb_backend be;
	size_t max_size;                 /* be->ops->max_size(): larger requests are impossible */
	unsigned cpu_node[KMB_MAX_CPUS]; /* NUMA node of each CPU index */
	uint64_t sleeps, nofail_retries, deadlocks;
};
extern struct kmb__system kmb__sys;
/* The core's own part of kmb_memstat (physical memory and event counts), which takes no
 * backend lock: safe after a panic that may have left one held. */
void kmb__memstat_core(struct kmb_memstat *ms);
/* A resolved spec (core/registry.c): the backend, its page source (NULL for a page
 * allocator) and the values of both one's tunables, in their tables' order. */
struct kmb__spec {
	const struct kmb_backend_ops *ops;
	const struct kmb_pagesrc_ops *pages;
	long tun[KMB_MAX_TUNABLES], pages_tun[KMB_MAX_TUNABLES];
};
/* Start a backend (called by kmb_boot in core/registry.c). */
int kmb__boot(const struct kmb__spec *spec, const struct kmb_config *cfg, int invariants);

/* The grammar of a spec (core/spec.c): NAME[(KEY=VALUE,...)][@PAGES[(KEY=VALUE,...)]]. */
struct kmb__spec_part {
	const char *name, *args; /* args: inside the parentheses, NULL without them */
	size_t len, alen;
};
/* Split at the last '@' outside parentheses (ps->name NULL: no page source). */
int kmb__spec_split(const char *spec, struct kmb__spec_part *be, struct kmb__spec_part *ps,
                    char *err, size_t errlen);
/* The values of owner's n tunables t[] as p sets them, defaults elsewhere; -EINVAL or
 * -ERANGE with one line naming the spec and key. */
int kmb__tunables_parse(const char *spec, const char *owner, const struct kmb_tunable *t, size_t n,
                        const struct kmb__spec_part *p, long *vals, char *err, size_t errlen);

/* The calling thread, as the core knows it; its CPU is the contract's kmb_curthread. */
struct kmb__thread {
	bool injected; /* the last page-source failure was injected (fault.c) */
	long tid;
	char name[32];
};
extern _Thread_local struct kmb__thread kmb__self;

/* The interface a block was allocated through: it must be freed through the same. */
enum kmb__api {
	KMB__API_MALLOC = 0, /* kmalloc, krealloc (kfree); kmem_cache_* when cache is set */
	KMB__API_KMEM,       /* kmem_alloc, kmem_zalloc (kmem_free with the size) */
};

/* One allocation request, as panics and deadlock reports print it. */
struct kmb__request {
	const char *func;         /* "kmalloc", "krealloc", "kmem_cache_alloc", "kmem_alloc" */
	size_t size;              /* requested size (kmem_free: the size the caller passed) */
	struct malloc_type *type; /* NULL for caches */
	struct kmem_cache *cache; /* NULL for kmalloc */
	int flags;
	const void *site; /* the caller's return address, or NULL (INVARIANTS records it) */
	enum kmb__api api;
};
/* "kmalloc(64, temp, M_WAITOK)" */
const char *kmb__request_str(const struct kmb__request *rq, char *buf, size_t len);

/* ---- kmalloc.c ------------------------------------------------------------------------- */
void *kmb__alloc(const struct kmb__request *rq, size_t bsize);
/* kmalloc's full path: the checks that panic with the reason, then kmb__alloc. */
void *kmb__alloc_checked(const struct kmb__request *rq);
/* After a fast path's backend call failed: the slow path, and the rest of a success. */
void *kmb__alloc_missed(const struct kmb__request *rq, size_t bsize);
/* Flags the fast path takes (kmb__check_flags panics on the illegal others): exactly one
 * of M_WAITOK and M_NOWAIT, no unknown bit, not M_FAILOK or M_NORETRY with M_NOFAIL, not
 * M_INTWAIT. */
static inline bool kmb__flags_ok(int flags)
{
	unsigned wait = (unsigned)flags & (M_WAITOK | M_NOWAIT);

	/* M_INTWAIT takes the full path, which checks its bits (kmalloc.c 1.) */
	return (flags & ~(M_KMB_ALLFLAGS & ~M_INTWAIT_BIT)) == 0 && wait - 1 < 2 &&
	       !((flags & M_NOFAIL) && (flags & (M_FAILOK | M_NORETRY)));
}
void kmb__free(void *addr, const struct kmb__request *rq);
void kmb__check_flags(const struct kmb__request *rq);
__attribute__((noreturn)) void kmb__usage_panic(const struct kmb__request *rq, const char *why);

/* The backend's sized free (backend.h 3.), or its free when it has none. */
static inline size_t kmb__backend_free_sized(void *addr, size_t size)
{
	struct kmb_backend *be = &kmb__sys.be;

	if (be->ops->free_sized != NULL)
		return be->ops->free_sized(be, addr, size);
	return be->ops->free(be, addr);
}

/* ---- kcache.c -------------------------------------------------------------------------- */
const char *kmb__cache_name(const struct kmem_cache *c);
void *kmb__cache_backend_alloc(struct kmem_cache *c, int flags);
void kmb__cache_backend_free(struct kmem_cache *c, void *obj);
void kmb__cache_account(struct kmem_cache *c, long delta);
void kmb__cache_failed(struct kmem_cache *c); /* an allocation from c failed */
size_t kmb__cache_reap_all(void);             /* frees caches left at shutdown; returns how many */

/* ---- malloc_type.c --------------------------------------------------------------------- */
/* A CPU's share of a type's statistics (its owner thread's alone; theory in malloc_type.c). */
struct kmb__type_pcpu {
	int64_t memuse; /* not yet folded into ks_memuse */
	int64_t inuse;
	uint64_t calls;
	uint64_t sizes;
} __attribute__((aligned(64)));
/* 32 KiB: folding costs one atomic add per 32 KiB of net allocation on a CPU. */
#define KMB_TYPE_BATCH ((int64_t)32 << 10)
void kmb__type_fold(struct malloc_type *type, int64_t delta); /* into ks_memuse, peak */
void kmb__type_peak(struct malloc_type *type, int64_t now);   /* raise ks_maxused to now */
void kmb__type_alloced_shared(struct malloc_type *type, size_t usable);
void kmb__type_freed_shared(struct malloc_type *type, size_t usable);

/* The power-of-two size class of a block, as a ks_size bit (4.4BSD's ks_size mask). */
static inline uint64_t kmb__type_size_bit(size_t usable)
{
	unsigned b = usable <= 1 ? 0 : 64 - (unsigned)__builtin_clzll((uint64_t)usable - 1);

	return 1ull << (b > 63 ? 63 : b);
}

/* The 64 bytes before a type's slots: its registry back link and how many slots it has
 * (the booted system's CPUs when it was registered; KMB_MAX_CPUS before any boot). */
struct kmb__type_hdr {
	struct malloc_type **pprev; /* the link pointing to the type: O(1) unregister */
	unsigned nslots;
} __attribute__((aligned(64)));
static inline struct kmb__type_hdr *kmb__type_hdr(const struct malloc_type *type)
{
	return type->ks_pcpu ? (struct kmb__type_hdr *)type->ks_pcpu - 1 : NULL;
}

/* The calling thread's own slot, or NULL: the shared counters. */
static inline struct kmb__type_pcpu *kmb__type_slot(const struct malloc_type *type)
{
	struct kmb__type_pcpu *pc = type->ks_pcpu;

	if (kmb__unlikely(pc == NULL || !kmb_curthread.attached ||
	                  __atomic_load_n(&type->ks_limit, __ATOMIC_RELAXED) != 0 ||
	                  kmb_curthread.cpu >= ((const struct kmb__type_hdr *)pc)[-1].nslots))
		return NULL;
	return &pc[kmb_curthread.cpu];
}

#define KMB__LD(p)    __atomic_load_n(p, __ATOMIC_RELAXED)
#define KMB__ST(p, v) __atomic_store_n(p, v, __ATOMIC_RELAXED)

/* Owner-only update of a slot's memuse share (plain load + store), folding past the batch. */
static inline void kmb__type_slot_memuse(struct malloc_type *type, struct kmb__type_pcpu *pc,
                                         int64_t delta)
{
	int64_t m = KMB__LD(&pc->memuse) + delta;

	if (kmb__unlikely(m > KMB_TYPE_BATCH || m < -KMB_TYPE_BATCH)) {
		kmb__type_fold(type, m);
		m = 0;
	} else if (delta > 0 && m > 0) {
		/* the folded total plus this share: the exact total with one CPU, so the peak is
		 * exact there; two loads of a line written only by folds */
		int64_t now = KMB__LD(&type->ks_memuse) + m;

		if (kmb__unlikely(now > KMB__LD(&type->ks_maxused)))
			kmb__type_peak(type, now);
	}
	KMB__ST(&pc->memuse, m);
}

static inline void kmb__type_alloced(struct malloc_type *type, size_t usable)
{
	struct kmb__type_pcpu *pc = kmb__type_slot(type);
	uint64_t bit = kmb__type_size_bit(usable);

	if (kmb__unlikely(pc == NULL)) {
		kmb__type_alloced_shared(type, usable);
		return;
	}
	KMB__ST(&pc->inuse, KMB__LD(&pc->inuse) + 1);
	KMB__ST(&pc->calls, KMB__LD(&pc->calls) + 1);
	if (kmb__unlikely(!(KMB__LD(&pc->sizes) & bit)))
		KMB__ST(&pc->sizes, KMB__LD(&pc->sizes) | bit);
	kmb__type_slot_memuse(type, pc, (int64_t)usable);
}

static inline void kmb__type_freed(struct malloc_type *type, size_t usable)
{
	struct kmb__type_pcpu *pc = kmb__type_slot(type);

	if (kmb__unlikely(pc == NULL)) {
		kmb__type_freed_shared(type, usable);
		return;
	}
	KMB__ST(&pc->inuse, KMB__LD(&pc->inuse) - 1);
	kmb__type_slot_memuse(type, pc, -(int64_t)usable);
}
void kmb__type_count(uint64_t *ctr); /* relaxed atomic ++ */
void kmb__type_reset(struct malloc_type *type);
int64_t kmb__type_memuse(const struct malloc_type *type); /* exact sum (for limits) */

/* ---- wait.c: M_WAITOK sleeps, wakeups, deadlock detection ------------------------------- */
void kmb__slowpath_enter(void);
void kmb__slowpath_fence(void); /* once, before a slow path's first sleep (wait.c 3.) */
void kmb__slowpath_exit(void);
uint64_t kmb__free_gen(void);
extern int kmb__slowpath;
void kmb__wake_waiters_slow(void);
/* After every free: one load when nobody waits (the protocol is in wait.c 3.: the
 * compiler barrier is the light side of its asymmetric fence). */
static inline void kmb__wake_waiters(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (kmb__unlikely(__atomic_load_n(&kmb__slowpath, __ATOMIC_SEQ_CST) != 0))
		kmb__wake_waiters_slow();
}
/* Sleep until a free happens after `seen`; 0 = woken, -EDEADLK = deadlock (report set). */
int kmb__wait_for_free(uint64_t seen, const struct kmb__request *rq, char *report, size_t len);
void kmb__wait_attach(void);
void kmb__wait_detach(void);

/* ---- fault.c --------------------------------------------------------------------------- */
void kmb__fault_init(uint64_t mtbf, uint64_t seed);
uint64_t kmb__fault_count(void);

/* ---- invariants.c ---------------------------------------------------------------------- */
#define KMB_REDZONE        16    /* bytes added after every allocation with INVARIANTS */
#define KMB_REDZONE_BYTE   0xccu /* Linux SLUB_RED_ACTIVE */
#define kmb__invariants_on kmb_invariants_on /* the contract's (kmbench/backend.h) */
int kmb__inv_init(void);
void kmb__inv_fini(void);
void kmb__inv_alloced(void *p, size_t bsize, const struct kmb__request *rq);
/* Checks a free (kmem_free: its size too) and poisons the block; returns the block size. */
size_t kmb__inv_freeing(void *p, const struct kmb__request *rq);
size_t kmb__inv_size(const void *p); /* requested size of a live block, 0 if none */
size_t kmb__inv_live(void);

/* ---- context.c: interrupt contexts and held locks (kmbench/context.h) ------------------- */
/* Process context without an annotated or kmbench lock held: the fast paths' one test. */
static inline bool kmb__ctx_clear(void)
{
	return (kmb_context_self.count | kmb_lock_self.nheld) == 0;
}
/* The context rules for a full-path allocation (kmb__check_flags calls it when the context
 * is not clear): panics, or counts and warns, per the policy. */
void kmb__ctx_check(const struct kmb__request *rq);
void kmb__ctx_check_kmem_free(const void *p, size_t size);
__attribute__((noreturn)) void kmb__ctx_reserve_panic(const struct kmb__request *rq);
/* The fast paths' context test: nothing to check (process context, no lock held), or a
 * request that cannot sleep, which the rules allow anywhere.  Else the full path checks. */
static inline bool kmb__ctx_fast_ok(int flags)
{
	return kmb__ctx_clear() || (flags & (M_WAITOK | M_NOFAIL)) == 0;
}
/* Whether the calling thread is in interrupt context. */
static inline bool kmb__in_intr(void)
{
	return (kmb_context_self.count & KMB_CTX_IRQ_MASK) != 0;
}

/* ---- kmalloc.c's fast path, shared by kmalloc and kmem_alloc (kmem.c) ------------------ */
/* The caller's return address: the allocating site INVARIANTS records. */
#define KMB__RETURN_ADDRESS __builtin_return_address(0)

/*
 * The fast path's precondition, in a few compares: booted with INVARIANTS off, process
 * context without a lock held or a request that cannot sleep (context.c: nothing to check;
 * kmem_alloc checks the context before), a
 * registered type without a limit, 0 < size <= max_size, exactly one of M_WAITOK and
 * M_NOWAIT, no unknown flag, not M_FAILOK with M_NOFAIL.  Anything else takes the full
 * path, which checks again and panics with the reason.
 */
static inline bool kmb__fast_ok(size_t size, const struct malloc_type *type, int flags)
{
	return kmb__sys.fast && kmb__ctx_fast_ok(flags) && size - 1 < kmb__sys.max_size &&
	       type != NULL && type->ks_magic == KMB_MALLOC_MAGIC &&
	       __atomic_load_n(&type->ks_limit, __ATOMIC_RELAXED) == 0 && kmb__flags_ok(flags);
}

/* An allocation of the request rq0 (its fields; the struct is built only off the fast
 * path); *usable is the block's usable size from the fast path's backend call, or 0 when
 * it was not taken (the caller asks kmalloc_usable_size then). */
static inline void *kmb__alloc_fast(struct kmb__request rq0, size_t *usable)
{
	struct kmb_backend *be = &kmb__sys.be;

	*usable = 0;
	if (kmb__likely(kmb__fast_ok(rq0.size, rq0.type, rq0.flags))) {
		void *p = be->ops->alloc(be, rq0.size, rq0.flags, usable);

		if (kmb__unlikely(p == NULL)) {
			struct kmb__request rq = rq0;

			*usable = 0;
			return kmb__alloc_missed(&rq, rq.size);
		}
		if (rq0.flags & M_ZERO)
			memset(p, 0, *usable);
		kmb__type_alloced(rq0.type, *usable);
		return p;
	}
	struct kmb__request rq = rq0;

	return kmb__alloc_checked(&rq);
}

#endif /* KMB_CORE_INTERNAL_H */
