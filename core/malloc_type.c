/*
 * core/malloc_type.c - malloc types and their `vmstat -m` statistics.
 *
 * 1. A malloc type (FreeBSD's struct malloc_type, 4.4BSD's kmemstats) names a class of
 *    allocations; MALLOC_DEFINE types register themselves at program start, replay
 *    creates one per call site at run time.
 * 2. Statistics: in use (objects), memory in use (usable bytes), its high-water mark,
 *    requests, failures, sleeps, limit blocks, M_NOFAIL retries, and the power-of-two size
 *    classes used (4.4BSD's ks_size bit mask).
 * 3. Per-CPU counters (FreeBSD's malloc_type_stats per CPU, Linux's percpu_counter): a
 *    shared counter updated by every allocation is a cache line bouncing between CPUs,
 *    and its atomic read-modify-writes were two thirds of a kmalloc/kfree pair.  So an
 *    attached thread - the only writer of its CPU's slot - counts in its own 64-byte slot
 *    with plain (relaxed load + store, no lock prefix) updates; readers sum the slots.
 *    Memory in use is folded into the shared ks_memuse whenever a slot's share passes
 *    KMB_TYPE_BATCH bytes either way.  The high-water mark is taken at each fold and, on
 *    an allocation, against the folded total plus the slot's share (two loads; a store
 *    only on a new peak): exact for one CPU, within ncpus * KMB_TYPE_BATCH of the true
 *    peak for several.  Unattached
 *    threads, and types with a limit (whose check needs the exact sum), update the shared
 *    counters with atomic read-modify-writes.  The slow-path counters (failures, sleeps,
 *    retries) are always shared.
 * 4. The registry is a linked list under one mutex, walked only to print and to reset at
 *    boot.  A replay creates a type per call site (100k for some traces), so creating and
 *    destroying one are O(1): a type is pushed at the head, and the 64 bytes before its
 *    per-CPU slots hold the link that points to it (FreeBSD's LIST_ENTRY le_prev), so it
 *    is unlinked without a walk (a type whose slots could not be allocated is found by one).
 * 5. A type registered while a system is booted has slots for that system's CPUs only (64
 *    bytes each, not KMB_MAX_CPUS' 4 KiB); a thread on a CPU beyond them (a later boot
 *    with more CPUs) counts in the shared counters, like an unattached one.
 */
#include "internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

MALLOC_DEFINE(M_TEMP, "temp", "misc temporary data buffers");
MALLOC_DEFINE(M_DEVBUF, "devbuf", "device driver memory");
MALLOC_DEFINE(M_KCACHE, "kmem_cache", "objects of the generic kmem_cache fallback");

static pthread_mutex_t types_lock = PTHREAD_MUTEX_INITIALIZER;
static struct malloc_type *types_head;

/* Per-CPU slots for the booted system's CPUs (all KMB_MAX_CPUS before a boot), after a
 * header; NULL on ENOMEM: the shared counters serve. */
static struct kmb__type_pcpu *pcpu_alloc(void)
{
	unsigned n = kmb__sys.booted && kmb__sys.be.ncpus ? kmb__sys.be.ncpus : KMB_MAX_CPUS;
	struct kmb__type_hdr *h = aligned_alloc(64, sizeof(*h) + n * sizeof(struct kmb__type_pcpu));

	if (h == NULL)
		return NULL;
	memset(h, 0, sizeof(*h) + n * sizeof(struct kmb__type_pcpu));
	h->nslots = n;
	return (struct kmb__type_pcpu *)(h + 1);
}

/* t's back link (if it has a header: else the unregister walk finds its link). */
static void set_pprev(struct malloc_type *t, struct malloc_type **pp)
{
	struct kmb__type_hdr *h = t ? kmb__type_hdr(t) : NULL;

	if (h != NULL)
		h->pprev = pp;
}

void kmb_malloc_type_register(struct malloc_type *type)
{
	if (type->ks_pcpu == NULL)
		type->ks_pcpu = pcpu_alloc();
	else
		memset(type->ks_pcpu, 0,
		       kmb__type_hdr(type)->nslots * sizeof(struct kmb__type_pcpu));
	pthread_mutex_lock(&types_lock);
	type->ks_magic = KMB_MALLOC_MAGIC;
	type->ks_next = types_head;
	set_pprev(types_head, &type->ks_next);
	set_pprev(type, &types_head);
	types_head = type;
	pthread_mutex_unlock(&types_lock);
}

/* The link pointing to type: its header's back link, else found by a walk. */
static struct malloc_type **link_of(struct malloc_type *type)
{
	struct kmb__type_hdr *h = kmb__type_hdr(type);

	if (h != NULL)
		return h->pprev;
	for (struct malloc_type **pp = &types_head; *pp != NULL; pp = &(*pp)->ks_next)
		if (*pp == type)
			return pp;
	return NULL;
}

void kmb_malloc_type_unregister(struct malloc_type *type)
{
	struct malloc_type **pp;

	pthread_mutex_lock(&types_lock);
	if (type->ks_magic == KMB_MALLOC_MAGIC && (pp = link_of(type)) != NULL) {
		*pp = type->ks_next;
		set_pprev(type->ks_next, pp);
	}
	type->ks_magic = 0;
	pthread_mutex_unlock(&types_lock);
	if (type->ks_pcpu)
		free(kmb__type_hdr(type));
	type->ks_pcpu = NULL;
}

struct malloc_type *kmb_malloc_type_create(const char *shortdesc)
{
	struct malloc_type *t = calloc(1, sizeof(*t));
	char *name = strdup(shortdesc);

	if (t == NULL || name == NULL) {
		free(t);
		free(name);
		return NULL;
	}
	t->ks_shortdesc = name;
	t->ks_longdesc = name;
	kmb_malloc_type_register(t);
	return t;
}

void kmb_malloc_type_destroy(struct malloc_type *type)
{
	kmb_malloc_type_unregister(type);
	free((char *)type->ks_shortdesc);
	free(type);
}

void kmb_malloc_type_setlimit(struct malloc_type *type, size_t limit)
{
	__atomic_store_n(&type->ks_limit, limit, __ATOMIC_RELAXED);
}

struct malloc_type *kmb_malloc_type_first(void)
{
	return __atomic_load_n(&types_head, __ATOMIC_ACQUIRE);
}

struct malloc_type *kmb_malloc_type_next(const struct malloc_type *type)
{
	return type->ks_next;
}

#define LD(p) KMB__LD(p)

void kmb_malloc_type_stats(const struct malloc_type *type, struct kmb_type_stats *out)
{
	const struct kmb__type_pcpu *pc = type->ks_pcpu;

	out->inuse = LD(&type->ks_inuse);
	out->memuse = LD(&type->ks_memuse);
	out->calls = LD(&type->ks_calls);
	out->sizes = LD(&type->ks_size);
	for (unsigned c = 0; pc && c < kmb__type_hdr(type)->nslots; c++) {
		out->inuse += LD(&pc[c].inuse);
		out->memuse += LD(&pc[c].memuse);
		out->calls += LD(&pc[c].calls);
		out->sizes |= LD(&pc[c].sizes);
	}
	out->maxused = LD(&type->ks_maxused);
	if (out->memuse > out->maxused)
		out->maxused = out->memuse;
	out->failed = LD(&type->ks_failed);
	out->sleeps = LD(&type->ks_sleeps);
	out->limblocks = LD(&type->ks_limblocks);
	out->retries = LD(&type->ks_retries);
	out->limit = LD(&type->ks_limit);
}

int64_t kmb__type_memuse(const struct malloc_type *type)
{
	struct kmb_type_stats s;

	kmb_malloc_type_stats(type, &s);
	return s.memuse;
}

void kmb__type_peak(struct malloc_type *type, int64_t now)
{
	kmb__atomic_max_i64(&type->ks_maxused, now);
}

void kmb__type_fold(struct malloc_type *type, int64_t delta)
{
	kmb__type_peak(type, __atomic_add_fetch(&type->ks_memuse, delta, __ATOMIC_RELAXED));
}

/* Unattached threads and types with a limit: the shared counters. */
void kmb__type_alloced_shared(struct malloc_type *type, size_t usable)
{
	uint64_t bit = kmb__type_size_bit(usable);

	__atomic_add_fetch(&type->ks_inuse, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&type->ks_calls, 1, __ATOMIC_RELAXED);
	if (!(LD(&type->ks_size) & bit))
		__atomic_or_fetch(&type->ks_size, bit, __ATOMIC_RELAXED);
	kmb__type_fold(type, (int64_t)usable);
}

void kmb__type_freed_shared(struct malloc_type *type, size_t usable)
{
	__atomic_sub_fetch(&type->ks_inuse, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&type->ks_memuse, (int64_t)usable, __ATOMIC_RELAXED);
}

void kmb__type_count(uint64_t *ctr)
{
	__atomic_add_fetch(ctr, 1, __ATOMIC_RELAXED);
}

void kmb__type_reset(struct malloc_type *type)
{
	type->ks_inuse = type->ks_memuse = type->ks_maxused = 0;
	type->ks_calls = type->ks_failed = type->ks_sleeps = 0;
	type->ks_limblocks = type->ks_retries = type->ks_size = 0;
	if (type->ks_pcpu)
		memset(type->ks_pcpu, 0,
		       kmb__type_hdr(type)->nslots * sizeof(struct kmb__type_pcpu));
}

/* "16,32,64": the size classes of a ks_size mask. */
static void sizes_str(uint64_t mask, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned b = 0; b < 64 && off < len; b++)
		if (mask & (1ull << b))
			off += (size_t)snprintf(buf + off, len - off, "%s%" PRIu64, off ? "," : "",
			                        (uint64_t)1 << b);
}

static void print_kbytes(char *buf, size_t len, int64_t bytes)
{
	snprintf(buf, len, "%" PRId64 "K", (bytes + 1023) / 1024);
}

void kmb_vmstat_m(FILE *out)
{
	fprintf(out, "%24s %7s %8s %8s %8s %9s %7s %7s %7s  %s\n", "Type", "InUse", "MemUse",
	        "HighUse", "Limit", "Requests", "Failed", "Sleeps", "Retries", "Size(s)");
	pthread_mutex_lock(&types_lock);
	for (struct malloc_type *t = types_head; t != NULL; t = t->ks_next) {
		struct kmb_type_stats s;
		char mu[24], hu[24], lim[24], sz[512];

		kmb_malloc_type_stats(t, &s);
		if (s.calls == 0 && s.failed == 0 && s.inuse == 0)
			continue;
		print_kbytes(mu, sizeof(mu), s.memuse);
		print_kbytes(hu, sizeof(hu), s.maxused);
		if (s.limit)
			print_kbytes(lim, sizeof(lim), (int64_t)s.limit);
		else
			snprintf(lim, sizeof(lim), "-");
		sizes_str(s.sizes, sz, sizeof(sz));
		fprintf(out,
		        "%24s %7" PRId64 " %8s %8s %8s %9" PRIu64 " %7" PRIu64 " %7" PRIu64
		        " %7" PRIu64 "  %s\n",
		        t->ks_shortdesc, s.inuse, mu, hu, lim, s.calls, s.failed, s.sleeps,
		        s.retries, sz);
	}
	pthread_mutex_unlock(&types_lock);
}
