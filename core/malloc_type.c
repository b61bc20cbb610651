/*
 * core/malloc_type.c - malloc types and their `vmstat -m` statistics.
 *
 * 1. A malloc type (FreeBSD's struct malloc_type, 4.4BSD's kmemstats) names a class of
 *    allocations; MALLOC_DEFINE types register themselves at program start, replay
 *    creates one per call site at run time.
 * 2. Statistics are plain integers in the type, updated with relaxed atomic builtins on
 *    the allocation path: in use (objects), memory in use (usable bytes), its high-water
 *    mark, requests, failures, sleeps, limit blocks, M_NOFAIL retries, and the power-of-two
 *    size classes used (4.4BSD's ks_size bit mask).
 * 3. The registry is a singly linked list under one mutex; it is walked only to print.
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

void kmb_malloc_type_register(struct malloc_type *type)
{
	pthread_mutex_lock(&types_lock);
	type->ks_magic = KMB_MALLOC_MAGIC;
	type->ks_next = types_head;
	types_head = type;
	pthread_mutex_unlock(&types_lock);
}

void kmb_malloc_type_unregister(struct malloc_type *type)
{
	pthread_mutex_lock(&types_lock);
	for (struct malloc_type **pp = &types_head; *pp != NULL; pp = &(*pp)->ks_next) {
		if (*pp == type) {
			*pp = type->ks_next;
			break;
		}
	}
	type->ks_magic = 0;
	pthread_mutex_unlock(&types_lock);
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

#define LD(f) __atomic_load_n(&type->f, __ATOMIC_RELAXED)

void kmb_malloc_type_stats(const struct malloc_type *type, struct kmb_type_stats *out)
{
	out->inuse = LD(ks_inuse);
	out->memuse = LD(ks_memuse);
	out->maxused = LD(ks_maxused);
	out->calls = LD(ks_calls);
	out->failed = LD(ks_failed);
	out->sleeps = LD(ks_sleeps);
	out->limblocks = LD(ks_limblocks);
	out->retries = LD(ks_retries);
	out->sizes = LD(ks_size);
	out->limit = LD(ks_limit);
}

#undef LD

static unsigned size_class_bit(size_t usable)
{
	unsigned b = usable <= 1 ? 0 : 64 - (unsigned)__builtin_clzll((uint64_t)usable - 1);

	return b > 63 ? 63 : b;
}

void kmb__type_alloced(struct malloc_type *type, size_t usable)
{
	int64_t now;
	int64_t peak;

	__atomic_add_fetch(&type->ks_inuse, 1, __ATOMIC_RELAXED);
	now = __atomic_add_fetch(&type->ks_memuse, (int64_t)usable, __ATOMIC_RELAXED);
	__atomic_add_fetch(&type->ks_calls, 1, __ATOMIC_RELAXED);
	if (!(__atomic_load_n(&type->ks_size, __ATOMIC_RELAXED) & (1ull << size_class_bit(usable))))
		__atomic_or_fetch(&type->ks_size, 1ull << size_class_bit(usable), __ATOMIC_RELAXED);
	peak = __atomic_load_n(&type->ks_maxused, __ATOMIC_RELAXED);
	while (now > peak && !__atomic_compare_exchange_n(&type->ks_maxused, &peak, now, true,
	                                                  __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void kmb__type_freed(struct malloc_type *type, size_t usable)
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
