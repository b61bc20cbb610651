/*
 * core/context.c - interrupt contexts, lock annotations, and the allocation rules they set
 * (kmbench/context.h).
 *
 * 1. The context is one thread-local struct.  Its count has preempt_count's layout
 *    (Linux include/linux/preempt.h: PREEMPT bits 0-7, SOFTIRQ 8-15, HARDIRQ 16-19, NMI
 *    20-23): kmb_intr_enter adds the kind's unit, kmb_intr_exit subtracts the unit of the
 *    innermost level, which a 2-bit-per-level stack remembers (16 levels in 32 bits), and
 *    each annotated lock adds one to the low byte.  "count == 0 and no kmbench lock held"
 *    is the fast path's one extra test (internal.h kmb__ctx_clear); a request that cannot
 *    sleep (no M_WAITOK, no M_NOFAIL) breaks no rule and keeps the fast path in any
 *    context, so a replayed softirq's GFP_ATOMIC costs what it costs in process context;
 *    everything else is here, off the fast path.
 * 2. The rules (context.h) are checked by kmb__ctx_check, called from kmb__check_flags,
 *    which every full-path allocation runs: kmalloc, krealloc, kmem_cache_alloc and
 *    kmem_alloc.  kmem_free checks kmb__ctx_check_kmem_free itself.
 * 3. A violation is counted per (call site, kind) in a fixed open-addressed table of
 *    SITE_SLOTS entries, inserted with a compare-and-swap of the key (site and kind) so
 *    that threads never lock; a full table counts in the one overflow entry (site NULL).  256 sites
 * is more than the distinct offending sites of any trace kmbench ships or generates (a trace's
 * violating call sites are a handful); the overflow entry keeps the totals exact beyond.  The first
 * message of each site is written by the thread that inserted it, before it publishes the count
 * (release), so a reader that sees count > 0 (acquire) reads a complete message.
 * 4. The policy is a global (the replay sets it before starting threads).  Under the
 *    default, an interrupt violation panics and a lock violation prints one warning per
 *    site (WITNESS warns once per lock order, not per event); REPORT counts silently;
 *    STRICT panics on both.
 */
#include "internal.h"

#include <kmbench/context.h>
#include <kmbench/lock.h>

#include <stdio.h>
#include <string.h>

__thread struct kmb_context kmb_context_self;

#define SITE_SLOTS 256 /* a power of two (3.) */

struct site_slot {
	uintptr_t key; /* site << 2 | kind; 0 = free */
	const void *site;
	unsigned kind;
	uint64_t count;
	char first[160];
};

static struct site_slot sites[SITE_SLOTS + 1]; /* [SITE_SLOTS]: the overflow entry */
static uint64_t violations[KMB_CTXV_LOCK + 1];
static enum kmb_context_policy policy = KMB_CTX_DEFAULT;

static unsigned kind_code(unsigned kind)
{
	return kind == KMB_SOFTIRQ ? 1 : kind == KMB_HARDIRQ ? 2 : kind == KMB_NMI ? 3 : 0;
}

static uint32_t code_unit(unsigned code)
{
	static const uint32_t unit[4] = {0, 1u << KMB_CTX_SOFTIRQ_SHIFT,
	                                 1u << KMB_CTX_HARDIRQ_SHIFT, 1u << KMB_CTX_NMI_SHIFT};

	return unit[code & 3];
}

void kmb_intr_enter(unsigned kind)
{
	struct kmb_context *c = &kmb_context_self;
	unsigned code = kind_code(kind);

	if (code == 0)
		kmb_panic(KMB_PANIC_USAGE, NULL,
		          "kmb_intr_enter(%#x): not one of KMB_SOFTIRQ, "
		          "KMB_HARDIRQ, KMB_NMI",
		          kind);
	if (c->depth >= KMB_INTR_DEPTH_MAX)
		kmb_panic(KMB_PANIC_USAGE, NULL, "kmb_intr_enter(%s): nested deeper than %d levels",
		          kmb_context_name(kind), KMB_INTR_DEPTH_MAX);
	c->stack = (c->stack << 2) | code;
	c->depth++;
	c->count += code_unit(code);
}

void kmb_intr_exit(void)
{
	struct kmb_context *c = &kmb_context_self;

	if (c->depth == 0)
		kmb_panic(KMB_PANIC_USAGE, NULL, "kmb_intr_exit(): not in interrupt context");
	c->count -= code_unit(c->stack & 3);
	c->stack >>= 2;
	c->depth--;
}

unsigned kmb_intr_context(void)
{
	static const unsigned kinds[4] = {0, KMB_SOFTIRQ, KMB_HARDIRQ, KMB_NMI};
	const struct kmb_context *c = &kmb_context_self;

	return c->depth ? kinds[c->stack & 3] : 0;
}

const char *kmb_context_name(unsigned kind)
{
	switch (kind) {
	case 0:
		return "process";
	case KMB_SOFTIRQ:
		return "softirq";
	case KMB_HARDIRQ:
		return "hardirq";
	case KMB_NMI:
		return "NMI";
	}
	return "?";
}

void kmb_lock_acquire(const char *name)
{
	struct kmb_context *c = &kmb_context_self;

	if (name == NULL)
		kmb_panic(KMB_PANIC_USAGE, NULL, "kmb_lock_acquire(NULL): a lock needs a name");
	if (c->nlocks >= KMB_CTX_LOCKS_MAX)
		kmb_panic(KMB_PANIC_USAGE, NULL,
		          "kmb_lock_acquire(\"%s\"): more than %d locks held", name,
		          KMB_CTX_LOCKS_MAX);
	c->locks[c->nlocks++] = name;
	c->count += 1u << KMB_CTX_LOCK_SHIFT;
}

void kmb_lock_release(void)
{
	struct kmb_context *c = &kmb_context_self;

	if (c->nlocks == 0)
		kmb_panic(KMB_PANIC_USAGE, NULL, "kmb_lock_release(): no annotated lock held");
	c->nlocks--;
	c->count -= 1u << KMB_CTX_LOCK_SHIFT;
}

void kmb_context_set_policy(enum kmb_context_policy p)
{
	__atomic_store_n(&policy, p, __ATOMIC_RELAXED);
}

enum kmb_context_policy kmb_context_policy(void)
{
	return __atomic_load_n(&policy, __ATOMIC_RELAXED);
}

/* The slot of (site, kind), inserted if new; *fresh when this call inserted it.  The key
 * (site << 2 | kind) is claimed with one compare-and-swap. */
static struct site_slot *site_slot(const void *site, unsigned kind, bool *fresh)
{
	uintptr_t key = ((uintptr_t)site << 2) | kind;
	uintptr_t h = ((uintptr_t)site >> 2) * (uintptr_t)0x9e3779b97f4a7c15ull + kind;

	*fresh = false;
	for (unsigned probe = 0; probe < SITE_SLOTS; probe++) {
		struct site_slot *s = &sites[(h + probe) & (SITE_SLOTS - 1)];
		uintptr_t cur = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);

		if (cur == 0 && __atomic_compare_exchange_n(&s->key, &cur, key, false,
		                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			s->site = site;
			s->kind = kind;
			*fresh = true;
			return s;
		}
		if (cur == key)
			return s;
	}
	return &sites[SITE_SLOTS];
}

/* Count a violation at the request's site; returns whether it is the site's first. */
static bool count_site(const struct kmb__request *rq, unsigned kind, const char *msg)
{
	bool fresh;
	struct site_slot *s = site_slot(rq->site, kind, &fresh);

	__atomic_add_fetch(&violations[kind], 1, __ATOMIC_RELAXED);
	if (fresh)
		snprintf(s->first, sizeof(s->first), "%s", msg);
	return __atomic_add_fetch(&s->count, 1, __ATOMIC_RELEASE) == 1 && fresh;
}

static const char *innermost_lock(void)
{
	const struct kmb_context *c = &kmb_context_self;

	return c->nlocks ? c->locks[c->nlocks - 1] : "(a kmbench lock)";
}

static void lock_violation(const struct kmb__request *rq)
{
	char call[200], msg[300];
	unsigned held = kmb_context_self.nlocks + kmb_lock_self.nheld;

	kmb__request_str(rq, call, sizeof(call));
	snprintf(msg, sizeof(msg), "%s: sleeping allocation with lock \"%s\" held (%u lock%s)",
	         call, innermost_lock(), held, held == 1 ? "" : "s");
	if (kmb_context_policy() == KMB_CTX_STRICT)
		kmb__panic_full(KMB_PANIC_CONTEXT, NULL, rq->size, rq->type, "%s", msg);
	if (count_site(rq, KMB_CTXV_LOCK, msg) && kmb_context_policy() == KMB_CTX_DEFAULT)
		fprintf(stderr, "kmbench: warning: %s (site %p; reported once per site)\n", msg,
		        rq->site);
}

static void intr_violation(const struct kmb__request *rq, const char *why)
{
	char call[200], msg[300];

	kmb__request_str(rq, call, sizeof(call));
	snprintf(msg, sizeof(msg), "%s in %s context: %s", call,
	         kmb_context_name(kmb_intr_context()), why);
	if (kmb_context_policy() != KMB_CTX_REPORT)
		kmb__panic_full(KMB_PANIC_CONTEXT, NULL, rq->size, rq->type, "%s", msg);
	count_site(rq, KMB_CTXV_INTR, msg);
}

void kmb__ctx_check(const struct kmb__request *rq)
{
	bool in_intr = (kmb_context_self.count & KMB_CTX_IRQ_MASK) != 0;

	if (in_intr && rq->api == KMB__API_KMEM)
		intr_violation(rq, "kmem(9) cannot be used from interrupt context (NetBSD: use "
		                   "pool_cache(9))");
	else if (in_intr && kmb_flags_may_sleep(rq->flags))
		intr_violation(rq, "sleeping function called from invalid context");
	else if (!in_intr && (rq->flags & (M_WAITOK | M_NOFAIL)) && !kmb__ctx_clear())
		lock_violation(rq); /* M_INTWAIT sleeps too in process context */
}

void kmb__ctx_check_kmem_free(const void *p, size_t size)
{
	struct kmb__request rq = {"kmem_free", size, M_KMEM, NULL, 0, NULL, KMB__API_KMEM};
	char msg[200];

	if ((kmb_context_self.count & KMB_CTX_IRQ_MASK) == 0)
		return;
	snprintf(msg, sizeof(msg),
	         "kmem_free(%p, %zu) in %s context: kmem(9) cannot be used "
	         "from interrupt context",
	         p, size, kmb_context_name(kmb_intr_context()));
	if (kmb_context_policy() != KMB_CTX_REPORT)
		kmb__panic_full(KMB_PANIC_CONTEXT, p, size, M_KMEM, "%s", msg);
	count_site(&rq, KMB_CTXV_INTR, msg);
}

/* M_INTWAIT in interrupt context found nothing, not even in the reserve. */
void kmb__ctx_reserve_panic(const struct kmb__request *rq)
{
	char call[200];

	kmb__panic_full(KMB_PANIC_RESERVE, NULL, rq->size, rq->type,
	                "%s in %s context: the reserve is exhausted (M_INTWAIT may not sleep "
	                "there and never returns NULL)",
	                kmb__request_str(rq, call, sizeof(call)),
	                kmb_context_name(kmb_intr_context()));
}

size_t kmb_context_sites(struct kmb_context_site *out, size_t max)
{
	size_t n = 0;

	for (unsigned i = 0; i <= SITE_SLOTS; i++) {
		const struct site_slot *s = &sites[i];
		uint64_t count = __atomic_load_n(&s->count, __ATOMIC_ACQUIRE);

		if (count == 0)
			continue;
		if (n < max) { /* site, kind and first were written before count (3.) */
			out[n].site = s->site;
			out[n].kind = s->kind;
			out[n].count = count;
			snprintf(out[n].first, sizeof(out[n].first), "%s",
			         i == SITE_SLOTS ? "(more sites than the table holds)" : s->first);
		}
		n++;
	}
	return n;
}

uint64_t kmb_context_violations(unsigned kind)
{
	if (kind != KMB_CTXV_INTR && kind != KMB_CTXV_LOCK)
		return 0;
	return __atomic_load_n(&violations[kind], __ATOMIC_RELAXED);
}

void kmb_context_reset(void)
{
	memset(sites, 0, sizeof(sites));
	memset(violations, 0, sizeof(violations));
}
