/*
 * kmbench/kmalloc.h - the kernel memory allocation interface every backend serves.
 *
 * The semantics are those of the BSD malloc(9) and Linux kmalloc():
 *
 *   kmalloc(size, type, flags)   size > 0; exactly one of M_WAITOK / M_NOWAIT.
 *   kfree(addr, type)            addr != NULL, type must be the allocating type.
 *   krealloc(addr, size, ...)    addr == NULL acts as kmalloc; on failure returns NULL
 *                                and leaves the old block valid and unchanged.
 *   kmalloc_usable_size(addr)    bytes the caller may use (>= the requested size).
 *   kmalloc_usable(size, type, flags, &usable)   kmalloc that also sets usable to
 *                                kmalloc_usable_size() of the block (0 on failure) from
 *                                what the backend reports, without a second lookup.
 *
 * Flags:
 *   M_WAITOK       may sleep until another thread frees memory; never returns NULL
 *                  (unless M_FAILOK and the request can never be met).
 *   M_NOWAIT       returns NULL at once when memory is short.
 *   M_ZERO         the memory is zeroed.
 *   M_FAILOK       (NetBSD's proposed M_CANFAIL) a M_WAITOK request that can never be
 *                  satisfied - larger than the backend can ever give, or larger than its
 *                  type's limit - returns NULL instead of panicking.
 *   M_NOFAIL       (Linux __GFP_NOFAIL) retry until it succeeds; each retry is counted.
 *   M_USE_RESERVE  may dig into the reserve below the page allocator's min watermark,
 *                  as GFP_ATOMIC and FreeBSD's M_USE_RESERVE do.
 *   M_INTWAIT      (DragonFly kmalloc(9): M_WAITOK | M_USE_RESERVE |
 *                  M_USE_INTERRUPT_RESERVE) the waiting kind for interrupts: it contains
 *                  M_WAITOK, so "exactly one of M_WAITOK / M_NOWAIT" holds with it as with
 *                  M_WAITOK (M_INTWAIT | M_NOWAIT is "both").  In process context it is
 *                  M_WAITOK with the reserve; in interrupt context (kmbench/context.h) it
 *                  may use the reserve, never sleeps and never returns NULL: when even the
 *                  reserve is exhausted it panics (KMB_PANIC_RESERVE), as the kernel would.
 *                  M_INTWAIT_BIT alone, without M_WAITOK and M_USE_RESERVE, is illegal.
 *   M_NORETRY      (Linux __GFP_NORETRY) a M_WAITOK request that finds memory short makes
 *                  one more attempt after draining the per-CPU caches (Linux's "very
 *                  lightweight" direct reclaim) and then fails instead of sleeping; no
 *                  reserve; a request that can never be met returns NULL.  Illegal with
 *                  M_NOFAIL or M_INTWAIT (they never fail).
 *
 * Illegal calls (kmalloc(0), kfree(NULL), bad flag combinations, an impossible M_WAITOK
 * request without M_FAILOK) "panic": they call the panic handler, which by default prints
 * the message and aborts, and which tests replace to catch the panic.
 *
 * Flag values follow FreeBSD's sys/malloc.h where FreeBSD has the flag.
 */
#ifndef KMBENCH_KMALLOC_H
#define KMBENCH_KMALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define M_NOWAIT      0x0001
#define M_WAITOK      0x0002
#define M_ZERO        0x0100
#define M_USE_RESERVE 0x0400
#define M_FAILOK      0x1000
#define M_NOFAIL      0x2000
#define M_INTWAIT_BIT 0x4000 /* DragonFly's M_USE_INTERRUPT_RESERVE: only inside M_INTWAIT */
#define M_INTWAIT     (M_WAITOK | M_USE_RESERVE | M_INTWAIT_BIT)
#define M_NORETRY     0x8000 /* Linux __GFP_NORETRY */
#define M_KMB_ALLFLAGS                                                                             \
	(M_NOWAIT | M_WAITOK | M_ZERO | M_USE_RESERVE | M_FAILOK | M_NOFAIL | M_INTWAIT_BIT |      \
	 M_NORETRY)

/* What is illegal about a set of M_* flags, whatever the context (the kmalloc family
 * panics with it, a .kmt loader refuses an event with it), or NULL. */
static inline const char *kmb_flags_problem(int f)
{
	if (f & ~M_KMB_ALLFLAGS)
		return "unknown flag bits";
	if ((f & (M_WAITOK | M_NOWAIT)) == 0)
		return "neither M_WAITOK nor M_NOWAIT";
	if ((f & (M_WAITOK | M_NOWAIT)) == (M_WAITOK | M_NOWAIT))
		return "both M_WAITOK and M_NOWAIT";
	if ((f & (M_FAILOK | M_NOFAIL)) == (M_FAILOK | M_NOFAIL))
		return "both M_FAILOK and M_NOFAIL";
	if ((f & M_INTWAIT_BIT) && (f & M_INTWAIT) != M_INTWAIT)
		return "M_INTWAIT_BIT without M_WAITOK|M_USE_RESERVE (use M_INTWAIT)";
	if ((f & M_NORETRY) && (f & (M_NOFAIL | M_INTWAIT_BIT)))
		return "M_NORETRY with a kind that never fails (M_NOFAIL, M_INTWAIT)";
	return NULL;
}

#define KMB_MALLOC_MAGIC 0x19880601UL /* McKusick & Karels, USENIX Summer 1988 */

/*
 * A malloc type, with the statistics `vmstat -m` prints.  The counters are updated with
 * atomic builtins by the core; read them with kmb_malloc_type_stats().
 */
struct malloc_type {
	struct malloc_type *ks_next; /* registry link (core) */
	unsigned long ks_magic;      /* KMB_MALLOC_MAGIC when registered */
	const char *ks_shortdesc;    /* printed by vmstat -m */
	const char *ks_longdesc;
	size_t ks_limit; /* bytes; 0 = no limit */
	/* statistics (core-owned) */
	int64_t ks_inuse;      /* objects in use */
	int64_t ks_memuse;     /* bytes in use (usable sizes) */
	int64_t ks_maxused;    /* high-water of ks_memuse */
	uint64_t ks_calls;     /* successful allocations */
	uint64_t ks_failed;    /* allocations that returned NULL */
	uint64_t ks_sleeps;    /* times an M_WAITOK request slept */
	uint64_t ks_limblocks; /* sleeps or failures caused by ks_limit */
	uint64_t ks_retries;   /* M_NOFAIL retries */
	uint64_t ks_size;      /* bit i set: a block of 2^i bytes (size class) was used */
	void *ks_pcpu;         /* per-CPU statistics of attached threads (core) */
};

/* Declare a type defined elsewhere. */
#define MALLOC_DECLARE(type) extern struct malloc_type type[1]

/* Define a type and register it at program start (FreeBSD's SYSINIT). */
#define MALLOC_DEFINE(type, shortdesc, longdesc)                                                   \
	struct malloc_type type[1] = {{NULL, KMB_MALLOC_MAGIC, shortdesc, longdesc, 0, 0, 0, 0, 0, \
	                               0, 0, 0, 0, 0, NULL}};                                      \
	__attribute__((constructor)) static void kmb__type_ctor_##type(void)                       \
	{                                                                                          \
		kmb_malloc_type_register(type);                                                    \
	}

MALLOC_DECLARE(M_TEMP);   /* "temp": misc temporary data buffers */
MALLOC_DECLARE(M_DEVBUF); /* "devbuf": device driver memory */
MALLOC_DECLARE(M_KCACHE); /* "kmem_cache": objects of the generic kmem_cache fallback */

void *kmalloc(size_t size, struct malloc_type *type, int flags);
void kfree(void *addr, struct malloc_type *type);
/* Linux's kfree: NULL is a no-op (a real call through the front end; kfree(NULL) panics). */
void kfree_nullok(void *addr, struct malloc_type *type);
void *krealloc(void *addr, size_t size, struct malloc_type *type, int flags);
size_t kmalloc_usable_size(const void *addr);
void *kmalloc_usable(size_t size, struct malloc_type *type, int flags, size_t *usable);

/* Object caches for fixed-size objects (Bonwick's kmem_cache interface). */
struct kmem_cache;
struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align, int flags);
/* The geometry a traced kernel gave the cache of this name (0: unknown): its slot size
 * (s->size, a kmem_cache event's bytes_alloc; at least size, else ignored), slab order
 * and objects per slab (/proc/slabinfo).  A backend that models that kernel serves these
 * (struct kmb_cache_desc, kmbench/backend.h); the others may ignore them. */
struct kmem_cache_geom {
	size_t slot_size;
	unsigned order, objs_per_slab;
};
/* kmem_cache_create with the traced geometry (geom NULL: as kmem_cache_create). */
struct kmem_cache *kmem_cache_create_geom(const char *name, size_t size, size_t align, int flags,
                                          const struct kmem_cache_geom *geom);
void *kmem_cache_alloc(struct kmem_cache *cache, int flags);
/* kmem_cache_alloc that also sets *usable to kmalloc_usable_size() of the object (0 on
 * failure) without a lookup on the fast path. */
void *kmem_cache_alloc_usable(struct kmem_cache *cache, int flags, size_t *usable);
void kmem_cache_free(struct kmem_cache *cache, void *obj);
void kmem_cache_destroy(struct kmem_cache *cache);
size_t kmem_cache_size(const struct kmem_cache *cache);
const char *kmem_cache_name(const struct kmem_cache *cache);
/* A cache's vmstat -m figures: objects in use and their high-water mark (exact with one
 * allocating thread; with several an upper bound, the sum of each CPU's), successful and
 * failed allocations, the object size asked for and the usable size each object takes
 * (known from the first allocation; before it, the size asked of the backend). */
struct kmb_cache_stats {
	int64_t inuse, maxinuse;
	uint64_t calls, failed;
	size_t objsize, usable;
};
void kmem_cache_stats(const struct kmem_cache *cache, struct kmb_cache_stats *out);

/* Types: registration (MALLOC_DEFINE does it), runtime creation, limits. */
void kmb_malloc_type_register(struct malloc_type *type);
void kmb_malloc_type_unregister(struct malloc_type *type);
struct malloc_type *kmb_malloc_type_create(const char *shortdesc); /* NULL on ENOMEM */
void kmb_malloc_type_destroy(struct malloc_type *type);
void kmb_malloc_type_setlimit(struct malloc_type *type, size_t limit);

/* A consistent copy of one type's statistics. */
struct kmb_type_stats {
	int64_t inuse, memuse, maxused;
	uint64_t calls, failed, sleeps, limblocks, retries, sizes;
	size_t limit;
};
void kmb_malloc_type_stats(const struct malloc_type *type, struct kmb_type_stats *out);

/* Iterate registered types (stable while no type is (un)registered). */
struct malloc_type *kmb_malloc_type_first(void);
struct malloc_type *kmb_malloc_type_next(const struct malloc_type *type);

/*
 * Panics.  The handler must not return (longjmp, exit or abort); if it does, the core
 * aborts.  The message names the call, its arguments and the reason, e.g.
 * "kfree(0x7f3a0c001040, M_TEMP): double free".
 */
enum kmb_panic_kind {
	KMB_PANIC_USAGE,      /* illegal call: size 0, NULL free, bad flags */
	KMB_PANIC_IMPOSSIBLE, /* M_WAITOK request that can never be met, without M_FAILOK */
	KMB_PANIC_DEADLOCK,   /* every thread that could free memory is waiting */
	KMB_PANIC_REDZONE,    /* INVARIANTS: write past the end of an allocation */
	KMB_PANIC_DOUBLE_FREE,
	KMB_PANIC_BAD_FREE,   /* INVARIANTS: free of an address never allocated */
	KMB_PANIC_WRONG_TYPE, /* INVARIANTS: free with another malloc type, or through the
	                       * other interface (kfree of a kmem_alloc block and the reverse) */
	KMB_PANIC_MODIFIED,   /* INVARIANTS: modified after free (poison damaged) */
	KMB_PANIC_CORRUPT,    /* backend invariant broken */
	KMB_PANIC_WRONG_SIZE, /* INVARIANTS: kmem_free with a size other than the allocation's */
	KMB_PANIC_HOST_NOMEM, /* the process itself is out of memory (a baseline's allocator
	                       * returned NULL within its budget): not the simulated memory */
	KMB_PANIC_CONTEXT,    /* sleeping allocation in interrupt context, or kmem(9) there;
	                       * under KMB_CTX_STRICT also with a lock held (kmbench/context.h) */
	KMB_PANIC_RESERVE,    /* M_INTWAIT in interrupt context found even the reserve empty */
	KMB_PANIC_NKINDS
};

struct kmb_panic_info {
	enum kmb_panic_kind kind;
	const char *message; /* the full one-line message */
	const void *addr;
	size_t size;
	const struct malloc_type *type;
};

typedef void (*kmb_panic_handler_t)(const struct kmb_panic_info *info);

/* Install a handler; returns the previous one.  NULL restores the default. */
kmb_panic_handler_t kmb_set_panic_handler(kmb_panic_handler_t handler);
const char *kmb_panic_kind_name(enum kmb_panic_kind kind);

#ifdef __cplusplus
}
#endif
#endif /* KMBENCH_KMALLOC_H */
