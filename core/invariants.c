/*
 * core/invariants.c - the INVARIANTS mode: redzones, poison, and free checks.
 *
 * 1. What it catches, each as a panic with a precise message:
 *      write past the end of an allocation    the redzone after it is damaged (on free)
 *      double free                            the address was freed and not reallocated
 *      free of an address never allocated     unknown address (or an interior pointer)
 *      free with the wrong type               the type (or cache) differs from the allocation's
 *      free through the wrong interface       kfree of a kmem_alloc block, kmem_free of a
 *                                             kmalloc block (kmem_cache has its cache check)
 *      kmem_free with the wrong size          the size differs from kmem_alloc's
 *      modification after free                the poison fill is damaged (on reuse)
 *    and, at shutdown, unbalanced kmalloc/kfree (kmb_shutdown counts live blocks).
 * 2. Redzone: every request gets KMB_REDZONE (16) extra bytes from the backend; the bytes
 *    from the requested size to the backend's usable size are filled with
 *    KMB_REDZONE_BYTE (0xcc, Linux's SLUB_RED_ACTIVE) and checked on free.  As with KASAN,
 *    kmalloc_usable_size() then returns the requested size: the slack is redzone.
 * 3. Poison: free memory holds KMB_POISON_BYTE (0xde, the first byte of 4.4BSD's
 *    WEIRD_ADDR 0xdeadc0de).  Physical memory starts poisoned, the core poisons a block on
 *    free, backends restore poison where they move free-list links (backend.h 4.), and the
 *    core checks the whole block but the backend's leading freelist_bytes on allocation.
 * 4. The allocation table: an open-addressing hash of every address ever handed out, with
 *    its state (live or freed), requested and block size, owner (type or cache), interface
 *    and allocating site (the caller's return address, named with dladdr(3)).  Freed
 *    entries stay until the address is handed out again, which is how a double free is
 *    told from a free of an unknown address.  One mutex: INVARIANTS runs serialise here.
 * 5. Cost: a table lookup and two memory scans per operation.  It is a debugging mode: off
 *    by default in release builds, on in the debug preset, --invariants at run time.
 */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool kmb_invariants_on; /* kmb__invariants_on in the core */

enum { ENT_EMPTY = 0, ENT_LIVE, ENT_FREED };

struct entry {
	uintptr_t addr;
	size_t size;       /* requested */
	size_t bsize;      /* backend block */
	const void *owner; /* malloc type or kmem cache */
	const void *site;  /* the allocating call's return address (NULL: unknown) */
	uint8_t state;
	uint8_t is_cache;
	uint8_t api; /* enum kmb__api */
};

static pthread_mutex_t inv_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *tab;
static size_t tab_cap, tab_used, tab_live;

static size_t hash_addr(uintptr_t a)
{
	uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15ull; /* Fibonacci hashing: 2^64 / phi */

	return (size_t)(h >> 20);
}

static struct entry *lookup(uintptr_t a)
{
	size_t mask = tab_cap - 1;

	for (size_t i = hash_addr(a) & mask;; i = (i + 1) & mask)
		if (tab[i].state == ENT_EMPTY || tab[i].addr == a)
			return &tab[i];
}

static int grow(void)
{
	struct entry *old = tab;
	size_t oldcap = tab_cap;

	tab_cap = oldcap ? oldcap * 2 : 4096;
	tab = calloc(tab_cap, sizeof(*tab));
	if (tab == NULL) {
		tab = old;
		tab_cap = oldcap;
		return -ENOMEM;
	}
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].state != ENT_EMPTY)
			*lookup(old[i].addr) = old[i];
	free(old);
	return 0;
}

int kmb__inv_init(void)
{
	int rc;

	pthread_mutex_lock(&inv_lock);
	tab_used = tab_live = 0;
	rc = grow();
	pthread_mutex_unlock(&inv_lock);
	return rc;
}

void kmb__inv_fini(void)
{
	pthread_mutex_lock(&inv_lock);
	free(tab);
	tab = NULL;
	tab_cap = tab_used = tab_live = 0;
	pthread_mutex_unlock(&inv_lock);
}

static const char *owner_name(const void *owner, bool is_cache)
{
	return is_cache ? kmb__cache_name(owner) : kmb__type_name(owner);
}

static const void *rq_owner(const struct kmb__request *rq)
{
	return rq->cache ? (const void *)rq->cache : (const void *)rq->type;
}

static bool in_physmem(const void *p)
{
	return kmb__sys.pm.poison && kmb_physmem_contains(&kmb__sys.pm, p);
}

/* Poison check of a block being handed out (called without inv_lock). */
static void check_poison(void *p, size_t bsize, const struct kmb__request *rq)
{
	size_t skip = kmb__sys.be.ops->freelist_bytes;
	const unsigned char *bad;
	char buf[160];

	if (!in_physmem(p) || bsize <= skip)
		return;
	bad = kmb_poison_check((char *)p + skip, bsize - skip);
	if (bad == NULL)
		return;
	kmb__panic_full(KMB_PANIC_MODIFIED, bad, rq->size, rq->type,
	                "%s: %p modified after free at offset %zu (0x%02x, expected 0x%02x)",
	                kmb__request_str(rq, buf, sizeof(buf)), p,
	                (size_t)(bad - (unsigned char *)p), *bad, KMB_POISON_BYTE);
}

void kmb__inv_alloced(void *p, size_t bsize, const struct kmb__request *rq)
{
	struct entry *e;

	check_poison(p, bsize, rq);
	memset((char *)p + rq->size, KMB_REDZONE_BYTE, bsize - rq->size);
	pthread_mutex_lock(&inv_lock);
	if ((tab_used + 1) * 2 > tab_cap && grow() != 0)
		kmb_panic(KMB_PANIC_CORRUPT, p, "INVARIANTS: allocation table: out of memory");
	e = lookup((uintptr_t)p);
	if (e->state == ENT_EMPTY)
		tab_used++;
	if (e->state == ENT_LIVE) {
		pthread_mutex_unlock(&inv_lock);
		kmb_panic(KMB_PANIC_CORRUPT, p, "%s: backend returned %p, which is still live",
		          rq->func, p);
	}
	*e = (struct entry){(uintptr_t)p,      rq->size,        bsize,
	                    rq_owner(rq),      rq->site,        ENT_LIVE,
	                    rq->cache != NULL, (uint8_t)rq->api};
	tab_live++;
	pthread_mutex_unlock(&inv_lock);
}

static void check_redzone(void *p, const struct entry *e, const struct kmb__request *rq)
{
	const unsigned char *z = (const unsigned char *)p + e->size;

	for (size_t i = 0; i < e->bsize - e->size; i++) {
		if (z[i] == KMB_REDZONE_BYTE)
			continue;
		kmb__panic_full(
		        KMB_PANIC_REDZONE, p, e->size, rq->type,
		        "%s(%p, %s): redzone damaged at offset %zu (0x%02x, expected 0x%02x): "
		        "write past the end of a %zu-byte allocation",
		        rq->func, p, owner_name(rq_owner(rq), rq->cache != NULL), e->size + i, z[i],
		        KMB_REDZONE_BYTE, e->size);
	}
}

/* Validate first (a panic leaves the block live and the table unchanged), then mark the
 * block freed; a second free racing with this one finds it freed and panics. */
static struct entry inv_lookup_copy(void *p)
{
	struct entry copy;

	pthread_mutex_lock(&inv_lock);
	copy = *lookup((uintptr_t)p);
	pthread_mutex_unlock(&inv_lock);
	return copy;
}

/* "0x55d0c2a3b1c4 (caller+0x24)": the site, symbolised where the dynamic symbols allow. */
static const char *site_str(const void *site, char *buf, size_t len)
{
	Dl_info di;

	if (site == NULL)
		snprintf(buf, len, "an unknown site");
	else if (dladdr(site, &di) != 0 && di.dli_sname != NULL)
		snprintf(buf, len, "%p (%s+%#tx)", site, di.dli_sname,
		         (const char *)site - (const char *)di.dli_saddr);
	else
		snprintf(buf, len, "%p", site);
	return buf;
}

static const char *const api_alloc[] = {
        [KMB__API_MALLOC] = "kmalloc", [KMB__API_KMEM] = "kmem_alloc"};
static const char *const api_free[] = {[KMB__API_MALLOC] = "kfree", [KMB__API_KMEM] = "kmem_free"};

/* kfree of a kmem block, kmem_free of a kmalloc block, or a kmem_free of the wrong size. */
static void check_interface(void *p, const struct entry *e, const struct kmb__request *rq)
{
	char call[160], site[160];

	if (rq->cache != NULL || e->is_cache)
		return; /* the owner check tells caches apart */
	if (rq->api == KMB__API_KMEM)
		snprintf(call, sizeof(call), "kmem_free(%p, %zu)", p, rq->size);
	else
		snprintf(call, sizeof(call), "%s(%p, %s)", rq->func, p, kmb__type_name(rq->type));
	if (e->api != rq->api)
		kmb__panic_full(KMB_PANIC_WRONG_TYPE, p, e->size, rq->type,
		                "%s: interface mismatch: a %zu-byte %s block (allocated at %s) "
		                "must be freed with %s",
		                call, e->size, api_alloc[e->api],
		                site_str(e->site, site, sizeof(site)), api_free[e->api]);
	if (rq->api == KMB__API_KMEM && rq->size != e->size)
		kmb__panic_full(KMB_PANIC_WRONG_SIZE, p, e->size, rq->type,
		                "%s: wrong size: freeing %zu bytes of a %zu-byte block (allocated "
		                "at %s)",
		                call, rq->size, e->size, site_str(e->site, site, sizeof(site)));
}

static void check_free(void *p, const struct entry *e, const struct kmb__request *rq)
{
	const char *name = owner_name(rq_owner(rq), rq->cache != NULL);

	if (e->state == ENT_EMPTY)
		kmb__panic_full(KMB_PANIC_BAD_FREE, p, 0, rq->type,
		                "%s(%p, %s): free of an address never allocated", rq->func, p,
		                name);
	if (e->state == ENT_FREED)
		kmb__panic_full(KMB_PANIC_DOUBLE_FREE, p, e->size, rq->type,
		                "%s(%p, %s): double free (a %zu-byte block of %s)", rq->func, p,
		                name, e->size, owner_name(e->owner, e->is_cache));
	check_interface(p, e, rq);
	if (e->owner != rq_owner(rq))
		kmb__panic_full(KMB_PANIC_WRONG_TYPE, p, e->size, rq->type,
		                "%s(%p, %s): wrong type: allocated as %s", rq->func, p, name,
		                owner_name(e->owner, e->is_cache));
}

size_t kmb__inv_freeing(void *p, const struct kmb__request *rq)
{
	struct entry copy = inv_lookup_copy(p), *e;

	check_free(p, &copy, rq);
	check_redzone(p, &copy, rq);
	pthread_mutex_lock(&inv_lock);
	e = lookup((uintptr_t)p);
	copy = *e;
	if (e->state == ENT_LIVE) {
		e->state = ENT_FREED;
		tab_live--;
	}
	pthread_mutex_unlock(&inv_lock);
	if (copy.state != ENT_LIVE)
		check_free(p, &copy, rq);
	if (in_physmem(p))
		memset(p, KMB_POISON_BYTE, copy.bsize);
	return copy.bsize;
}

size_t kmb__inv_size(const void *p)
{
	struct entry *e;
	size_t size = 0;

	pthread_mutex_lock(&inv_lock);
	e = lookup((uintptr_t)p);
	if (e->state == ENT_LIVE)
		size = e->size;
	pthread_mutex_unlock(&inv_lock);
	return size;
}

size_t kmb__inv_live(void)
{
	size_t n;

	pthread_mutex_lock(&inv_lock);
	n = tab_live;
	pthread_mutex_unlock(&inv_lock);
	return n;
}
