/*
 * tests/test_context.c - the calling thread's context (include/kmbench/context.h,
 * core/context.c): interrupt nesting as preempt_count counts it, lock annotations, the
 * per-site count of sleeping allocations under a lock, and the three policies.
 */
#include "kmb_test.h"

#include <kmbench/context.h>
#include <kmbench/kmbench.h>
#include <kmbench/lock.h>

MALLOC_DEFINE(M_CTXT, "ctx_test", "context test type");

static void boot(void)
{
	struct kmb_config cfg = {
	        .backend = "buddy", .mem_bytes = (size_t)4 << 20, .nodes = 1, .ncpus = 1};

	ASSERT_EQ_I(kmb_boot(&cfg), 0);
}

KMB_TEST(interrupts_nest_like_preempt_count)
{
	ASSERT_EQ_U(kmb_intr_context(), 0);
	ASSERT_EQ_STR(kmb_context_name(kmb_intr_context()), "process");
	kmb_intr_enter(KMB_SOFTIRQ);
	kmb_intr_enter(KMB_HARDIRQ);
	kmb_intr_enter(KMB_HARDIRQ);
	kmb_intr_enter(KMB_NMI);
	ASSERT_EQ_U(kmb_context_self.count, (1u << KMB_CTX_SOFTIRQ_SHIFT) +
	                                            (2u << KMB_CTX_HARDIRQ_SHIFT) +
	                                            (1u << KMB_CTX_NMI_SHIFT));
	ASSERT_EQ_STR(kmb_context_name(kmb_intr_context()), "NMI");
	kmb_intr_exit();
	ASSERT_EQ_U(kmb_intr_context(), KMB_HARDIRQ);
	kmb_intr_exit();
	kmb_intr_exit();
	ASSERT_EQ_U(kmb_intr_context(), KMB_SOFTIRQ);
	kmb_intr_exit();
	ASSERT_EQ_U(kmb_context_self.count, 0);
	EXPECT_PANIC(KMB_PANIC_USAGE, kmb_intr_exit());
	ASSERT_CONTAINS(kmb_test_panic_msg, "not in interrupt context");
	EXPECT_PANIC(KMB_PANIC_USAGE, kmb_intr_enter(KMB_SOFTIRQ | KMB_HARDIRQ));
	for (int i = 0; i < KMB_INTR_DEPTH_MAX; i++)
		kmb_intr_enter(KMB_HARDIRQ);
	EXPECT_PANIC(KMB_PANIC_USAGE, kmb_intr_enter(KMB_HARDIRQ));
	ASSERT_CONTAINS(kmb_test_panic_msg, "nested deeper than 16 levels");
}

KMB_TEST(lock_annotations_nest_and_must_balance)
{
	kmb_lock_acquire("a");
	kmb_lock_acquire("b");
	ASSERT_EQ_U(kmb_context_self.nlocks, 2);
	ASSERT_EQ_STR(kmb_context_self.locks[1], "b");
	kmb_lock_release();
	kmb_lock_release();
	ASSERT_EQ_U(kmb_context_self.count, 0);
	EXPECT_PANIC(KMB_PANIC_USAGE, kmb_lock_release());
	EXPECT_PANIC(KMB_PANIC_USAGE, kmb_lock_acquire(NULL));
}

/* One call site (not a tail call: the site is the return address inside this function). */
__attribute__((noinline)) static void *sleep_alloc(void)
{
	void *p = kmalloc(64, M_CTXT, M_WAITOK);

	__asm__ volatile("" ::: "memory");
	return p;
}

/* WITNESS-like: counted per site, the first message kept; M_NOWAIT is fine under a lock;
 * kmbench's own locks count as held locks. */
KMB_TEST(sleeping_allocation_under_a_lock_is_counted_per_site)
{
	struct kmb_context_site s[4];
	struct kmb_lock l = KMB_LOCK_INITIALIZER;
	void *p[4];

	boot();
	kmb_context_reset();
	kmb_lock_acquire("vnode_interlock");
	for (int i = 0; i < 3; i++)
		ASSERT_NOT_NULL(p[i] = sleep_alloc());
	ASSERT_NOT_NULL(p[3] = kmalloc(64, M_CTXT, M_NOWAIT));
	kmb_lock_release();
	ASSERT_EQ_U(kmb_context_violations(KMB_CTXV_LOCK), 3);
	ASSERT_EQ_U(kmb_context_sites(s, 4), 1);
	ASSERT_EQ_U(s[0].count, 3);
	ASSERT_EQ_U(s[0].kind, KMB_CTXV_LOCK);
	ASSERT_NOT_NULL(s[0].site);
	ASSERT_CONTAINS(s[0].first, "kmalloc(64, ctx_test, M_WAITOK): sleeping allocation with "
	                            "lock \"vnode_interlock\" held (1 lock)");
	kmb_mutex_enter(&l);
	kfree(p[3], M_CTXT);
	ASSERT_NOT_NULL(p[3] = sleep_alloc());
	kmb_mutex_exit(&l);
	ASSERT_EQ_U(kmb_context_violations(KMB_CTXV_LOCK), 4);
	ASSERT_EQ_U(kmb_context_sites(s, 4), 1);
	for (int i = 0; i < 4; i++)
		kfree(p[i], M_CTXT);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

KMB_TEST(policies_strict_and_report)
{
	void *p;

	boot();
	kmb_context_reset();
	kmb_context_set_policy(KMB_CTX_STRICT);
	kmb_lock_acquire("zone_lock");
	EXPECT_PANIC(KMB_PANIC_CONTEXT, kmalloc(64, M_CTXT, M_WAITOK));
	ASSERT_CONTAINS(kmb_test_panic_msg, "with lock \"zone_lock\" held");
	kmb_lock_release();
	kmb_context_set_policy(KMB_CTX_REPORT);
	kmb_intr_enter(KMB_SOFTIRQ);
	ASSERT_NOT_NULL(p = kmalloc(64, M_CTXT, M_WAITOK)); /* counted, served */
	kmb_intr_exit();
	kfree(p, M_CTXT);
	ASSERT_EQ_U(kmb_context_violations(KMB_CTXV_INTR), 1);
	kmb_context_set_policy(KMB_CTX_DEFAULT);
	kmb_intr_enter(KMB_SOFTIRQ);
	EXPECT_PANIC(KMB_PANIC_CONTEXT, kmalloc(64, M_CTXT, M_WAITOK));
	kmb_intr_exit();
	ASSERT_EQ_I(kmb_shutdown(), 0);
}
KMB_TEST_MAIN()
