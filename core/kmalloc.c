/*
 * core/kmalloc.c - the kmalloc front end every backend is called through.
 *
 * 1. Checks first (always, they are cheap): the system is booted, size > 0, the type is
 *    a registered malloc type, exactly one of M_WAITOK/M_NOWAIT, no unknown flag, not
 *    M_FAILOK with M_NOFAIL, M_INTWAIT_BIT only inside M_INTWAIT.  Each violation panics
 *    naming the call and its arguments.  Then the context rules (context.c), when the
 *    thread is in interrupt context or holds a lock.
 * 2. Impossible requests: larger than the backend's max_size, or than the type's limit.
 *    M_WAITOK without M_FAILOK panics (4.4BSD: "malloc: allocation too large"); with
 *    M_FAILOK or M_NORETRY, or M_NOWAIT, the request fails and is counted.  M_NOFAIL panics too:
 *    retrying forever for what can never come is a hang.
 * 3. The fast path (kmb__alloc_fast in internal.h, shared with kmem.c): a request that
 *    passes kmb__fast_ok()'s few compares (booted without INVARIANTS, a registered type
 *    without a limit, legal size and flags) makes one backend
 *    call, which reports the usable size, and counts it in the thread's per-CPU type
 *    statistics: no lock, no atomic read-modify-write.  kfree likewise.  kmalloc_usable()
 *    hands the caller that usable size too (the full path looks it up after success).
 *    Anything else takes the full path (checks that panic with the reason, limits,
 *    INVARIANTS).  The slow path (wait.c explains the protocol):
 *      - over the type's limit (memuse + size > limit): M_NOWAIT fails; else sleep;
 *      - backend short: M_NOFAIL retries first with M_USE_RESERVE, as Linux lets
 *        __GFP_NOFAIL dip into the reserve; M_NOWAIT fails; else the backend drains its
 *        per-CPU caches, and the request (but M_NORETRY, which fails after that one
 *        drain and retry) sleeps until a free, then retries.  M_NOFAIL
 *        always may sleep (Linux loops on __GFP_NOFAIL even without direct reclaim).
 *        Sleeps and M_NOFAIL retries are counted per type and globally.
 *      - a deadlock (every thread that could free is asleep) panics with the report.
 * 4. After success: INVARIANTS bookkeeping, M_ZERO, and the type's statistics.
 * 5. krealloc follows FreeBSD realloc(9): in place if the new size fits the usable size
 *    and is more than half of it (so shrinking gives memory back), else allocate, copy the
 *    smaller size, free; on failure the old block is untouched.  krealloc(p, 0) is illegal
 *    like kmalloc(0).  With INVARIANTS it always moves (the redzone follows the size).
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define FLAGS_BUF 96

const char *kmb__request_str(const struct kmb__request *rq, char *buf, size_t len)
{
	char fl[FLAGS_BUF];
	const char *owner = rq->cache ? kmb__cache_name(rq->cache) : kmb__type_name(rq->type);

	kmb__flags_str(rq->flags, fl, sizeof(fl));
	if (rq->cache)
		snprintf(buf, len, "%s(%s, %s)", rq->func, owner, fl);
	else
		snprintf(buf, len, "%s(%zu, %s, %s)", rq->func, rq->size, owner, fl);
	return buf;
}

__attribute__((noreturn)) void kmb__usage_panic(const struct kmb__request *rq, const char *why)
{
	char buf[200];

	kmb__panic_full(KMB_PANIC_USAGE, NULL, rq->size, rq->type, "%s: %s",
	                kmb__request_str(rq, buf, sizeof(buf)), why);
}

void kmb__check_flags(const struct kmb__request *rq)
{
	int f = rq->flags;
	const char *why;

	if (!kmb__sys.booted)
		kmb__usage_panic(rq, "no backend booted (kmb_boot)");
	if (rq->cache == NULL && (rq->type == NULL || rq->type->ks_magic != KMB_MALLOC_MAGIC))
		kmb__usage_panic(rq, "bad malloc type");
	if ((why = kmb_flags_problem(f)) != NULL)
		kmb__usage_panic(rq, why);
	if (kmb__unlikely(!kmb__ctx_clear()))
		kmb__ctx_check(rq);
}

/* M_WAITOK, M_NOFAIL; M_INTWAIT only in process context (it never sleeps in an interrupt);
 * never M_NORETRY. */
static bool may_sleep(int flags)
{
	if (((flags & M_INTWAIT_BIT) && kmb__in_intr()) || (flags & M_NORETRY))
		return false;
	return (flags & (M_WAITOK | M_NOFAIL)) != 0;
}

/* Whether a short backend is worth a drain of the per-CPU caches and one more try. */
static bool may_reclaim(int flags)
{
	return may_sleep(flags) || (flags & (M_WAITOK | M_NORETRY)) == (M_WAITOK | M_NORETRY);
}

static size_t type_limit(const struct kmb__request *rq)
{
	return rq->type ? __atomic_load_n(&rq->type->ks_limit, __ATOMIC_RELAXED) : 0;
}

static bool over_limit(const struct kmb__request *rq)
{
	size_t limit = type_limit(rq);

	return limit != 0 && (size_t)kmb__type_memuse(rq->type) + rq->size > limit;
}

static bool impossible(const struct kmb__request *rq, size_t bsize)
{
	size_t limit = type_limit(rq);

	return bsize > kmb__sys.max_size || (limit != 0 && rq->size > limit);
}

static void count_fail(const struct kmb__request *rq)
{
	if (rq->type)
		kmb__type_count(&rq->type->ks_failed);
	else if (rq->cache)
		kmb__cache_failed(rq->cache);
}

static size_t backend_usable(void *p)
{
	struct kmb_backend *be = &kmb__sys.be;

	return be->ops->usable_size(be, p);
}

/* One backend call; *usable is set on success. */
static void *backend_alloc(const struct kmb__request *rq, size_t bsize, int flags, size_t *usable)
{
	struct kmb_backend *be = &kmb__sys.be;
	void *p;

	flags &= ~M_INTWAIT_BIT; /* the core's: a backend sees M_WAITOK|M_USE_RESERVE */
	if (rq->cache == NULL)
		return be->ops->alloc(be, bsize, flags, usable);
	p = kmb__cache_backend_alloc(rq->cache, flags);
	if (p != NULL)
		*usable = backend_usable(p);
	return p;
}

static void count_retry(const struct kmb__request *rq)
{
	__atomic_add_fetch(&kmb__sys.nofail_retries, 1, __ATOMIC_RELAXED);
	if (rq->type)
		kmb__type_count(&rq->type->ks_retries);
}

static void count_sleep(const struct kmb__request *rq, bool limit)
{
	__atomic_add_fetch(&kmb__sys.sleeps, 1, __ATOMIC_RELAXED);
	if (rq->type) {
		kmb__type_count(&rq->type->ks_sleeps);
		if (limit)
			kmb__type_count(&rq->type->ks_limblocks);
	}
}

static void drain(void)
{
	struct kmb_backend *be = &kmb__sys.be;

	if (be->ops->drain)
		be->ops->drain(be);
	if (be->pages && be->pages->drain)
		be->pages->drain(be->pages);
}

/* One attempt of the slow path; sets *limited when the type's limit stopped it. */
static void *slow_try(const struct kmb__request *rq, size_t bsize, bool *limited, size_t *usable)
{
	void *p;

	*limited = over_limit(rq);
	if (*limited)
		return NULL;
	p = backend_alloc(rq, bsize, rq->flags, usable);
	if (p == NULL && (rq->flags & M_NOFAIL)) {
		count_retry(rq);
		p = backend_alloc(rq, bsize, rq->flags | M_USE_RESERVE, usable);
	}
	if (p == NULL && may_reclaim(rq->flags)) {
		drain(); /* M_NORETRY: the one lightweight reclaim before it fails */
		p = backend_alloc(rq, bsize, rq->flags, usable);
	}
	return p;
}

static void *alloc_slow(const struct kmb__request *rq, size_t bsize, size_t *usable)
{
	char report[2048];
	void *p = NULL;
	bool limited = false;

	kmb__slowpath_enter();
	if (may_sleep(rq->flags)) /* before the first retry, no free can be missed (wait.c 3.) */
		kmb__slowpath_fence();
	for (;;) {
		uint64_t gen = kmb__free_gen();

		kmb__self.injected = false;
		p = slow_try(rq, bsize, &limited, usable);
		if (p != NULL || !may_sleep(rq->flags))
			break;
		if (kmb__self.injected) /* transient (fault.c): retry, do not sleep */
			continue;
		count_sleep(rq, limited);
		if (kmb__wait_for_free(gen, rq, report, sizeof(report)) == -EDEADLK) {
			kmb__slowpath_exit();
			kmb__panic_full(KMB_PANIC_DEADLOCK, NULL, rq->size, rq->type, "%s", report);
		}
		if (rq->flags & M_NOFAIL)
			count_retry(rq);
	}
	kmb__slowpath_exit();
	if (p == NULL && limited && rq->type)
		kmb__type_count(&rq->type->ks_limblocks);
	return p;
}

/* After a successful backend call: INVARIANTS bookkeeping, M_ZERO, the type's statistics. */
static void *alloc_done(const struct kmb__request *rq, void *p, size_t usable)
{
	if (kmb__unlikely(kmb__invariants_on)) {
		kmb__inv_alloced(p, usable, rq);
		usable = rq->size;
	}
	if (rq->flags & M_ZERO)
		memset(p, 0, usable);
	if (rq->type)
		kmb__type_alloced(rq->type, usable);
	return p;
}

/* The backend said no: the slow path (section 3), then the rest of a success. */
void *kmb__alloc_missed(const struct kmb__request *rq, size_t bsize)
{
	size_t usable = 0;
	void *p = alloc_slow(rq, bsize, &usable);

	if (p == NULL && (rq->flags & M_INTWAIT_BIT) && kmb__in_intr())
		kmb__ctx_reserve_panic(rq);
	if (p == NULL) {
		count_fail(rq);
		return NULL;
	}
	return alloc_done(rq, p, usable);
}

void *kmb__alloc(const struct kmb__request *rq, size_t bsize)
{
	char buf[200];
	size_t usable = 0;
	void *p;

	if (kmb__unlikely(impossible(rq, bsize))) {
		if ((rq->flags & M_WAITOK) && !(rq->flags & (M_FAILOK | M_NORETRY)))
			kmb__panic_full(KMB_PANIC_IMPOSSIBLE, NULL, rq->size, rq->type,
			                "%s: request can never be satisfied (largest possible %zu "
			                "bytes, type limit %zu)",
			                kmb__request_str(rq, buf, sizeof(buf)), kmb__sys.max_size,
			                type_limit(rq));
		if (rq->flags & M_NOFAIL)
			kmb__panic_full(KMB_PANIC_IMPOSSIBLE, NULL, rq->size, rq->type,
			                "%s: M_NOFAIL request can never be satisfied",
			                kmb__request_str(rq, buf, sizeof(buf)));
		count_fail(rq);
		return NULL;
	}
	p = over_limit(rq) ? NULL : backend_alloc(rq, bsize, rq->flags, &usable);
	if (kmb__unlikely(p == NULL))
		return kmb__alloc_missed(rq, bsize);
	return alloc_done(rq, p, usable);
}

static size_t redzoned(const struct kmb__request *rq)
{
	size_t b = rq->size + (kmb__invariants_on ? KMB_REDZONE : 0);

	if (b < rq->size) /* overflow: larger than anything */
		return SIZE_MAX;
	return b;
}

void kmb__free(void *addr, const struct kmb__request *rq)
{
	struct kmb_backend *be = &kmb__sys.be;
	size_t usable = 0;

	if (kmb__unlikely(kmb__invariants_on))
		kmb__inv_freeing(addr, rq);
	if (rq->cache)
		kmb__cache_backend_free(rq->cache, addr);
	else if (rq->api == KMB__API_KMEM) /* the size the backend was asked for */
		usable = kmb__backend_free_sized(addr, redzoned(rq));
	else
		usable = be->ops->free(be, addr);
	if (kmb__unlikely(kmb__invariants_on))
		usable = rq->size;
	if (rq->type)
		kmb__type_freed(rq->type, usable);
	kmb__wake_waiters();
}

/* The full path's checks (they panic with the reason), then the allocation. */
void *kmb__alloc_checked(const struct kmb__request *rq)
{
	kmb__check_flags(rq);
	if (kmb__unlikely(rq->size == 0))
		kmb__usage_panic(rq, "zero size");
	return kmb__alloc(rq, redzoned(rq));
}

void *kmalloc(size_t size, struct malloc_type *type, int flags)
{
	const void *site = KMB__RETURN_ADDRESS;
	struct kmb__request rq = {"kmalloc", size, type, NULL, flags, site, KMB__API_MALLOC};
	size_t usable;

	return kmb__alloc_fast(rq, &usable);
}

void *kmalloc_usable(size_t size, struct malloc_type *type, int flags, size_t *usable)
{
	const void *site = KMB__RETURN_ADDRESS;
	struct kmb__request rq = {"kmalloc", size, type, NULL, flags, site, KMB__API_MALLOC};
	void *p = kmb__alloc_fast(rq, usable);

	if (kmb__unlikely(*usable == 0) && p != NULL)
		*usable = kmalloc_usable_size(p); /* the full path: INVARIANTS, limits, sleeps */
	return p;
}

static void check_free(const char *func, const void *addr, struct malloc_type *type)
{
	if (!kmb__sys.booted)
		kmb__panic_full(KMB_PANIC_USAGE, addr, 0, type, "%s(%p, %s): no backend booted",
		                func, addr, kmb__type_name(type));
	if (addr == NULL)
		kmb__panic_full(KMB_PANIC_USAGE, addr, 0, type, "%s(NULL, %s): free of NULL", func,
		                kmb__type_name(type));
	if (type == NULL || type->ks_magic != KMB_MALLOC_MAGIC)
		kmb__panic_full(KMB_PANIC_USAGE, addr, 0, type, "%s(%p, %s): bad malloc type", func,
		                addr, kmb__type_name(type));
}

void kfree(void *addr, struct malloc_type *type)
{
	struct kmb__request rq = {"kfree", 0, type, NULL, 0, NULL, KMB__API_MALLOC};
	struct kmb_backend *be = &kmb__sys.be;

	if (kmb__likely(kmb__sys.fast && addr != NULL && type != NULL &&
	                type->ks_magic == KMB_MALLOC_MAGIC)) {
		kmb__type_freed(type, be->ops->free(be, addr));
		kmb__wake_waiters();
		return;
	}
	check_free("kfree", addr, type);
	if (kmb__unlikely(kmb__invariants_on))
		rq.size = kmb__inv_size(addr);
	kmb__free(addr, &rq);
}

void kfree_nullok(void *addr, struct malloc_type *type)
{
	if (addr != NULL)
		kfree(addr, type);
}

size_t kmalloc_usable_size(const void *addr)
{
	if (addr == NULL || !kmb__sys.booted)
		return 0;
	if (kmb__unlikely(kmb__invariants_on))
		return kmb__inv_size(addr);
	return kmb__sys.be.ops->usable_size(&kmb__sys.be, addr);
}

void *krealloc(void *addr, size_t size, struct malloc_type *type, int flags)
{
	const void *site = KMB__RETURN_ADDRESS;
	struct kmb__request rq = {"krealloc", size, type, NULL, flags, site, KMB__API_MALLOC};
	size_t old;
	void *p;

	if (addr == NULL)
		return kmalloc(size, type, flags);
	kmb__check_flags(&rq);
	check_free("krealloc", addr, type);
	if (size == 0)
		kmb__usage_panic(&rq, "zero size (use kfree)");
	old = kmalloc_usable_size(addr);
	if (!kmb__invariants_on && size <= old && size > old / 2)
		return addr;
	p = kmb__alloc(&rq, redzoned(&rq));
	if (p == NULL)
		return NULL;
	memcpy(p, addr, size < old ? size : old); /* with M_ZERO the tail is already zero */
	kfree(addr, type);
	return p;
}
