/*
 * core/kcache.c - the kmem_cache interface, and its generic fallback.
 *
 * 1. A kmem_cache serves objects of one size and alignment (Bonwick 1994's interface;
 *    constructors are left out, as Linux dropped destructors).  Three quarters of the
 *    events of a real kernel trace are kmem_cache_alloc/free, so every backend must serve
 *    them: natively (cache_* ops: the slab backend) or through this fallback.
 * 2. The fallback rounds the object up to its alignment and asks the backend's alloc for
 *    it.  For an alignment above KMB_MIN_ALIGN it asks for the next power of two at least
 *    the alignment when the backend aligns power-of-two blocks to their size
 *    (ops->natural_pow2), else for a whole page multiple, which every backend page-aligns.
 * 3. The flags, sleeping, M_NOFAIL and INVARIANTS rules are those of kmalloc (kmalloc.c);
 *    a cache's objects are counted in the cache (in use, requests), not in a malloc type.
 * 4. kmem_cache_alloc_usable() also reports the object's usable size without a lookup on
 *    the fast path: the generic fallback's backend call reports it; a native cache serves
 *    one object size, so its objects' usable size (the backend's usable_size, e.g. slab's
 *    chunk) is read once, at its first allocation, and kept in the cache.
 * 5. Destroying a cache with live objects panics, as Linux's kmem_cache_destroy() does.
 *    Caches still alive at shutdown are freed by kmb_shutdown() (and reported by it).
 * 6. kmem_cache_create_geom() also hands a native cache the geometry a traced kernel gave
 *    the cache of that name (slot size, order, objects per slab: struct kmb_cache_desc);
 *    the replay passes what the trace and its TRACE.slabinfo say (workloads/geometry.c).
 * 7. kmem_cache_stats() is a cache's vmstat -m line (kmb_type_stats' counterpart):
 *    objects in use, successful and failed allocations, and the high-water mark of
 *    objects in use.  Attached threads count per CPU without atomics (3.), so each CPU
 *    keeps its own high-water mark and the cache's is their sum with that of the shared
 *    count: exact when one thread allocates, an upper bound when several do (the CPUs'
 *    peaks need not coincide).  One compare per allocation, on the CPU's own line.
 *    kmem_cache_info() is its slabtop line, from a native cache's backend (cache_info).
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Per-CPU counts of attached threads (the owner writes, readers sum), as malloc types. */
struct cache_pcpu {
	int64_t inuse, maxinuse;
	uint64_t calls;
} __attribute__((aligned(64)));

struct kmem_cache {
	struct cache_pcpu pcpu[KMB_MAX_CPUS];
	struct kmem_cache *next; /* all caches, for shutdown */
	char name[48];
	size_t objsize;           /* as created */
	struct kmb_cache_desc cd; /* as the backend serves it */
	bool native;
	size_t usable; /* its objects' usable size; 0 until the first one */
	int64_t inuse, maxinuse;
	uint64_t calls, failed;
};

static pthread_mutex_t caches_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kmem_cache *caches;

static void cache_link(struct kmem_cache *c)
{
	pthread_mutex_lock(&caches_lock);
	c->next = caches;
	caches = c;
	pthread_mutex_unlock(&caches_lock);
}

static void cache_unlink(struct kmem_cache *c)
{
	pthread_mutex_lock(&caches_lock);
	for (struct kmem_cache **pp = &caches; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&caches_lock);
}

size_t kmb__cache_reap_all(void)
{
	size_t n = 0;

	pthread_mutex_lock(&caches_lock);
	while (caches) {
		struct kmem_cache *c = caches;

		caches = c->next;
		free(c);
		n++;
	}
	pthread_mutex_unlock(&caches_lock);
	return n;
}

const char *kmb__cache_name(const struct kmem_cache *c)
{
	return c ? c->name : "NULL";
}

static size_t round_up(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static size_t pow2_at_least(size_t x)
{
	return x <= 1 ? 1 : (size_t)1 << (64 - __builtin_clzll((uint64_t)x - 1));
}

static size_t generic_size(size_t size, size_t align, bool natural_pow2)
{
	if (align <= KMB_MIN_ALIGN)
		return round_up(size, align);
	if (natural_pow2)
		return pow2_at_least(size > align ? size : align);
	return round_up(size, KMB_PAGE_SIZE);
}

struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align, int flags)
{
	return kmem_cache_create_geom(name, size, align, flags, NULL);
}

/* The traced geometry into the descriptor: a slot smaller than the object is no slot for
 * it (ignored); with INVARIANTS the slot grows by the redzone the object grew by. */
static void set_geom(struct kmb_cache_desc *cd, size_t objsize, const struct kmem_cache_geom *g)
{
	if (g == NULL || g->slot_size < objsize)
		return;
	cd->slot_size = g->slot_size ? g->slot_size + (cd->size - objsize) : 0;
	cd->order = g->order;
	cd->objs_per_slab = g->objs_per_slab;
}

struct kmem_cache *kmem_cache_create_geom(const char *name, size_t size, size_t align, int flags,
                                          const struct kmem_cache_geom *geom)
{
	struct kmb_backend *be = &kmb__sys.be;
	struct kmem_cache *c;

	if (!kmb__sys.booted || name == NULL || size == 0 || (align & (align - 1)) != 0 ||
	    align > KMB_PAGE_SIZE)
		return NULL;
	c = aligned_alloc(64, sizeof(*c));
	if (c == NULL)
		return NULL;
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->objsize = size;
	c->cd.name = c->name;
	c->cd.align = align ? align : 1;
	c->cd.flags = flags;
	c->cd.size = size + (kmb__invariants_on ? KMB_REDZONE : 0);
	set_geom(&c->cd, size, geom);
	c->native = be->ops->cache_create != NULL;
	if (!c->native)
		c->cd.size = generic_size(c->cd.size, c->cd.align, be->ops->natural_pow2);
	if (c->native && be->ops->cache_create(be, &c->cd) != 0) {
		free(c);
		return NULL;
	}
	cache_link(c);
	return c;
}

void kmem_cache_destroy(struct kmem_cache *c)
{
	struct kmb_backend *be = &kmb__sys.be;
	int64_t live;

	if (c == NULL)
		return;
	live = __atomic_load_n(&c->inuse, __ATOMIC_RELAXED);
	for (unsigned cpu = 0; cpu < KMB_MAX_CPUS; cpu++)
		live += __atomic_load_n(&c->pcpu[cpu].inuse, __ATOMIC_RELAXED);
	if (live != 0)
		kmb_panic(KMB_PANIC_USAGE, c,
		          "kmem_cache_destroy(%s): %lld objects still allocated", c->name,
		          (long long)live);
	if (c->native)
		be->ops->cache_destroy(be, &c->cd);
	cache_unlink(c);
	free(c);
}

size_t kmem_cache_size(const struct kmem_cache *c)
{
	return c->objsize;
}

const char *kmem_cache_name(const struct kmem_cache *c)
{
	return c->name;
}

/* One backend call; *usable is the object's usable size (4.). */
static void *cache_backend_alloc(struct kmem_cache *c, int flags, size_t *usable)
{
	struct kmb_backend *be = &kmb__sys.be;
	void *p;

	if (!c->native) { /* the first object's usable size is kept for kmem_cache_stats */
		p = be->ops->alloc(be, c->cd.size, flags, usable);
		if (kmb__unlikely(__atomic_load_n(&c->usable, __ATOMIC_RELAXED) == 0) &&
		    p != NULL && *usable != 0)
			__atomic_store_n(&c->usable, *usable, __ATOMIC_RELAXED);
		return p;
	}
	p = be->ops->cache_alloc(be, &c->cd, flags);
	*usable = __atomic_load_n(&c->usable, __ATOMIC_RELAXED);
	if (kmb__unlikely(*usable == 0) && p != NULL) {
		*usable = be->ops->usable_size(be, p);
		__atomic_store_n(&c->usable, *usable, __ATOMIC_RELAXED);
	}
	return p;
}

void *kmb__cache_backend_alloc(struct kmem_cache *c, int flags)
{
	size_t usable;

	return cache_backend_alloc(c, flags, &usable);
}

void kmb__cache_backend_free(struct kmem_cache *c, void *obj)
{
	struct kmb_backend *be = &kmb__sys.be;

	if (c->native)
		be->ops->cache_free(be, &c->cd, obj);
	else
		(void)be->ops->free(be, obj);
}

void kmb__cache_account(struct kmem_cache *c, long delta)
{
	if (kmb_curthread.attached) {
		struct cache_pcpu *pc = &c->pcpu[kmb_curthread.cpu];
		int64_t now = __atomic_load_n(&pc->inuse, __ATOMIC_RELAXED) + delta;

		__atomic_store_n(&pc->inuse, now, __ATOMIC_RELAXED);
		if (delta > 0) {
			__atomic_store_n(&pc->calls,
			                 __atomic_load_n(&pc->calls, __ATOMIC_RELAXED) + 1,
			                 __ATOMIC_RELAXED);
			if (now > __atomic_load_n(&pc->maxinuse, __ATOMIC_RELAXED))
				__atomic_store_n(&pc->maxinuse, now, __ATOMIC_RELAXED);
		}
		return;
	}
	kmb__atomic_max_i64(&c->maxinuse, __atomic_add_fetch(&c->inuse, delta, __ATOMIC_RELAXED));
	if (delta > 0)
		__atomic_add_fetch(&c->calls, 1, __ATOMIC_RELAXED);
}

void kmb__cache_failed(struct kmem_cache *c)
{
	__atomic_add_fetch(&c->failed, 1, __ATOMIC_RELAXED);
}

void kmem_cache_stats(const struct kmem_cache *c, struct kmb_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return;
	out->inuse = __atomic_load_n(&c->inuse, __ATOMIC_RELAXED);
	out->maxinuse = __atomic_load_n(&c->maxinuse, __ATOMIC_RELAXED);
	out->calls = __atomic_load_n(&c->calls, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < KMB_MAX_CPUS; i++) {
		out->inuse += __atomic_load_n(&c->pcpu[i].inuse, __ATOMIC_RELAXED);
		out->maxinuse += __atomic_load_n(&c->pcpu[i].maxinuse, __ATOMIC_RELAXED);
		out->calls += __atomic_load_n(&c->pcpu[i].calls, __ATOMIC_RELAXED);
	}
	if (out->maxinuse < out->inuse)
		out->maxinuse = out->inuse;
	out->failed = __atomic_load_n(&c->failed, __ATOMIC_RELAXED);
	out->objsize = c->objsize;
	out->usable = __atomic_load_n(&c->usable, __ATOMIC_RELAXED);
	if (out->usable == 0)
		out->usable = c->cd.size;
}

int kmem_cache_info(const struct kmem_cache *c, struct kmb_cache_info *out)
{
	struct kmb_backend *be = &kmb__sys.be;

	memset(out, 0, sizeof(*out));
	if (c == NULL || !kmb__sys.booted)
		return -EINVAL;
	if (!c->native || be->ops->cache_info == NULL)
		return -ENOTSUP;
	return be->ops->cache_info(be, (struct kmb_cache_desc *)&c->cd, out);
}

/* kmem_cache_alloc; *usable as kmb__alloc_fast's (internal.h): 0 off the fast path. */
static inline void *cache_alloc_fast(struct kmem_cache *c, int flags, size_t *usable)
{
	struct kmb__request rq = {"kmem_cache_alloc", 0, NULL, c, flags, NULL, KMB__API_MALLOC};
	void *p;

	*usable = 0;
	/* the fast path (kmalloc.c 3.): booted without INVARIANTS, legal flags */
	if (kmb__likely(c != NULL && kmb__sys.fast && kmb__ctx_fast_ok(flags) &&
	                c->cd.size <= kmb__sys.max_size && kmb__flags_ok(flags))) {
		rq.size = c->objsize;
		p = cache_backend_alloc(c, flags, usable);
		if (kmb__unlikely(p == NULL)) {
			*usable = 0;
			p = kmb__alloc_missed(&rq, c->cd.size); /* zeroes too */
		} else if (flags & M_ZERO) {
			memset(p, 0, c->cd.size);
		}
		if (p != NULL)
			kmb__cache_account(c, 1);
		return p;
	}
	if (c == NULL)
		kmb_panic(KMB_PANIC_USAGE, NULL, "kmem_cache_alloc(NULL): no cache");
	rq.size = c->objsize;
	kmb__check_flags(&rq);
	p = kmb__alloc(&rq, c->cd.size);
	if (p != NULL)
		kmb__cache_account(c, 1);
	return p;
}

void *kmem_cache_alloc(struct kmem_cache *c, int flags)
{
	size_t usable;

	return cache_alloc_fast(c, flags, &usable);
}

void *kmem_cache_alloc_usable(struct kmem_cache *c, int flags, size_t *usable)
{
	void *p = cache_alloc_fast(c, flags, usable);

	if (kmb__unlikely(*usable == 0) && p != NULL)
		*usable = kmalloc_usable_size(p); /* the full path */
	return p;
}

void kmem_cache_free(struct kmem_cache *c, void *obj)
{
	struct kmb__request rq = {"kmem_cache_free", 0, NULL, c, 0, NULL, KMB__API_MALLOC};

	if (kmb__likely(c != NULL && obj != NULL && kmb__sys.fast)) {
		kmb__cache_backend_free(c, obj);
		kmb__wake_waiters();
		kmb__cache_account(c, -1);
		return;
	}
	if (c == NULL || obj == NULL)
		kmb_panic(KMB_PANIC_USAGE, obj, "kmem_cache_free(%s, %p): NULL %s",
		          kmb__cache_name(c), obj, c == NULL ? "cache" : "object");
	rq.size = c->objsize;
	kmb__free(obj, &rq);
	kmb__cache_account(c, -1);
}
