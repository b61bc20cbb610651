/*
 * core/boot.c - booting one backend over simulated physical memory, and tearing it down.
 *
 * kmb_boot() (core/registry.c) resolves a backend spec to its ops and calls
 * kmb__boot(), which maps physical memory, starts the backend and records its limits.
 * kmb_shutdown() checks that every block was freed (unbalanced kmalloc/kfree are counted
 * by INVARIANTS, and pages still held by the backend after its fini are a leak), then
 * unmaps everything.  Statistics of malloc types are reset at boot, so each run's
 * `vmstat -m` is its own.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef KMB_INVARIANTS_DEFAULT
#define KMB_INVARIANTS_DEFAULT 0
#endif

struct kmb__system kmb__sys;
static long cpu_owner[KMB_MAX_CPUS]; /* tid of the attached thread of each CPU, 0 = none */
_Thread_local struct kmb__thread kmb__self;
_Thread_local struct kmb_thread kmb_curthread;

static void reset_types(void)
{
	for (struct malloc_type *t = kmb_malloc_type_first(); t != NULL; t = t->ks_next)
		kmb__type_reset(t);
}

int kmb__boot(const struct kmb__spec *spec, const struct kmb_config *cfg, int invariants)
{
	const struct kmb_backend_ops *ops = spec->ops;
	const struct kmb_pagesrc_ops *pages = spec->pages;
	size_t bytes = cfg->mem_bytes ? cfg->mem_bytes : KMB_DEFAULT_MEM_BYTES;
	unsigned nodes = cfg->nodes ? cfg->nodes : 1;
	unsigned ncpus = cfg->ncpus ? cfg->ncpus : 1;
	int rc;

	if (kmb__sys.booted)
		return -EBUSY;
	if (ncpus > KMB_MAX_CPUS)
		return -EINVAL;
	memset(&kmb__sys, 0, sizeof(kmb__sys));
	kmb__sys.invariants = invariants == KMB_INVARIANTS_BUILD ? KMB_INVARIANTS_DEFAULT
	                                                         : invariants == KMB_INVARIANTS_ON;
	kmb__fault_init(cfg->fault_mtbf, cfg->seed);
	rc = kmb__physmem_init(&kmb__sys.pm, bytes, nodes, kmb__sys.invariants);
	if (rc != 0)
		return rc;
	kmb_physmem_set_cpus(&kmb__sys.pm, ncpus);
	if (kmb__sys.invariants && (rc = kmb__inv_init()) != 0)
		goto fail_pm;
	kmb__invariants_on = kmb__sys.invariants;
	kmb__sys.be.ops = ops;
	kmb__sys.be.pm = &kmb__sys.pm;
	kmb__sys.be.ncpus = ncpus;
	kmb_assert(ops->ntunables <= KMB_MAX_TUNABLES);
	for (size_t i = 0; i < ops->ntunables; i++)
		kmb__sys.be.tun[i] = spec->tun[i];
	for (unsigned c = 0; c < ncpus; c++) {
		kmb__sys.cpu_node[c] = cfg->cpu_node ? cfg->cpu_node[c] : c % nodes;
		if (kmb__sys.cpu_node[c] >= nodes) {
			rc = -EINVAL;
			goto fail_inv;
		}
	}
	if (pages &&
	    (rc = pages->create(&kmb__sys.pm, ncpus, spec->pages_tun, &kmb__sys.be.pages)) != 0)
		goto fail_inv;
	rc = ops->init(&kmb__sys.be);
	if (rc != 0)
		goto fail_pages;
	kmb__sys.max_size = ops->max_size(&kmb__sys.be);
	reset_types();
	kmb__sys.booted = true;
	kmb__sys.fast = !kmb__sys.invariants;
	return 0;
fail_pages:
	if (kmb__sys.be.pages)
		kmb__sys.be.pages->destroy(kmb__sys.be.pages);
fail_inv:
	kmb__inv_fini();
	kmb__invariants_on = false;
fail_pm:
	kmb__physmem_fini(&kmb__sys.pm);
	return rc;
}

/* quiet: after a panic the state is not trusted; free everything, check nothing. */
static int shutdown(bool quiet)
{
	struct kmb_backend *be = &kmb__sys.be;
	size_t live = 0, caches;
	int64_t held;
	int rc = 0;

	if (!kmb__sys.booted)
		return -EINVAL;
	kmb__sys.fast = false;
	if (kmb__sys.invariants && (live = kmb__inv_live()) != 0 && !quiet) {
		fprintf(stderr,
		        "kmbench: shutdown: %zu blocks never freed (unbalanced kmalloc/kfree)\n",
		        live);
		rc = -EBUSY;
	}
	if ((caches = kmb__cache_reap_all()) != 0 && !quiet) {
		fprintf(stderr, "kmbench: shutdown: %zu kmem caches never destroyed\n", caches);
		rc = -EBUSY;
	}
	be->ops->fini(be);
	if (be->pages) {
		be->pages->destroy(be->pages);
		be->pages = NULL;
	}
	for (unsigned c = 0; c < be->ncpus; c++)
		kmb_physmem_fold(&kmb__sys.pm, c); /* a thread left attached: its difference */
	held = kmb__sys.pm.held_pages;
	if (held != 0 && rc == 0 && !quiet) {
		fprintf(stderr, "kmbench: shutdown: %s still holds %lld pages after fini\n",
		        be->ops->name, (long long)held);
		rc = -EBUSY;
	}
	kmb__inv_fini();
	kmb__invariants_on = false;
	kmb__fault_init(0, 0);
	kmb__physmem_fini(&kmb__sys.pm);
	kmb__sys.booted = false;
	return rc;
}

int kmb_shutdown(void)
{
	return shutdown(false);
}

int kmb_shutdown_abandon(void)
{
	return shutdown(true);
}

bool kmb_booted(void)
{
	return kmb__sys.booted;
}

bool kmb_invariants(void)
{
	return kmb__sys.booted ? kmb__sys.invariants : KMB_INVARIANTS_DEFAULT;
}

const char *kmb_backend_name(void)
{
	return kmb__sys.booted ? kmb__sys.be.ops->name : NULL;
}

int kmb_thread_attach(const char *name, unsigned cpu)
{
	struct kmb_backend *be = &kmb__sys.be;

	long none = 0, tid = kmb__os_tid();

	if (!kmb__sys.booted || kmb_curthread.attached || cpu >= be->ncpus)
		return -EINVAL;
	if (!__atomic_compare_exchange_n(&cpu_owner[cpu], &none, tid, false, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_ACQUIRE))
		return -EBUSY; /* one attached thread per CPU: per-CPU state is its own */
	snprintf(kmb__self.name, sizeof(kmb__self.name), "%s", name ? name : "thread");
	kmb__self.tid = tid;
	kmb_curthread =
	        (struct kmb_thread){.attached = true, .cpu = cpu, .node = kmb_cpu_node(cpu)};
	if (be->ops->thread_attach)
		be->ops->thread_attach(be, cpu);
	kmb__wait_attach();
	return 0;
}

void kmb_thread_detach(void)
{
	struct kmb_backend *be = &kmb__sys.be;

	unsigned cpu = kmb_curthread.cpu;

	if (!kmb_curthread.attached)
		return;
	if (be->ops->thread_detach)
		be->ops->thread_detach(be, cpu);
	kmb_physmem_fold(&kmb__sys.pm, cpu); /* exact again (physmem.c 3.) */
	kmb_curthread.attached = false;
	__atomic_store_n(&cpu_owner[cpu], 0, __ATOMIC_RELEASE);
	kmb__wait_detach();
	kmb_curthread = (struct kmb_thread){0};
}

unsigned kmb_cpu_node(unsigned cpu)
{
	if (!kmb__sys.booted || cpu >= KMB_MAX_CPUS)
		return cpu; /* no topology: callers reduce it modulo their node count */
	return kmb__sys.cpu_node[cpu];
}

void kmb_memstat(struct kmb_memstat *ms)
{
	struct kmb_backend *be = &kmb__sys.be;

	memset(ms, 0, sizeof(*ms));
	if (!kmb__sys.booted)
		return;
	if (be->pages && be->pages->memstat)
		be->pages->memstat(be->pages, ms);
	if (be->ops->memstat)
		be->ops->memstat(be, ms);
	kmb__memstat_core(ms);
}

void kmb__memstat_core(struct kmb_memstat *ms)
{
	ms->mem_pages = kmb__sys.pm.npages;
	ms->held_pages = (size_t)__atomic_load_n(&kmb__sys.pm.data_pages, __ATOMIC_RELAXED);
	ms->meta_pages = (size_t)__atomic_load_n(&kmb__sys.pm.meta_pages, __ATOMIC_RELAXED);
	ms->peak_pages = (size_t)__atomic_load_n(&kmb__sys.pm.peak_pages, __ATOMIC_RELAXED);
	ms->nofail_retries = __atomic_load_n(&kmb__sys.nofail_retries, __ATOMIC_RELAXED);
	ms->sleeps = __atomic_load_n(&kmb__sys.sleeps, __ATOMIC_RELAXED);
	ms->deadlocks = __atomic_load_n(&kmb__sys.deadlocks, __ATOMIC_RELAXED);
	ms->injected_faults = kmb__fault_count();
}

size_t kmb_stats_fill(const struct kmb_stat_decl *table, size_t n, const void *counters,
                      struct kmb_stat *out, size_t max)
{
	size_t i;

	for (i = 0; i < n && i < max; i++) {
		out[i] = (struct kmb_stat){table[i].name, table[i].unit, table[i].desc, 0};
		memcpy(&out[i].value, (const char *)counters + table[i].off, sizeof(uint64_t));
	}
	return i;
}

size_t kmb_backend_stats(struct kmb_stat *out, size_t max)
{
	struct kmb_backend *be = &kmb__sys.be;

	size_t n = 0;

	if (!kmb__sys.booted)
		return 0;
	if (be->ops->stats)
		n = be->ops->stats(be, out, max);
	if (be->pages && be->pages->stats && n < max)
		n += be->pages->stats(be->pages, out + n, max - n);
	return n;
}

int kmb_extfrag(unsigned order, int *unusable, int *fragindex)
{
	struct kmb_backend *be = &kmb__sys.be;

	if (!kmb__sys.booted)
		return -ENOTSUP;
	if (order >= KMB_EXTFRAG_ORDERS)
		return -EINVAL;
	if (be->ops->extfrag)
		return be->ops->extfrag(be, order, unusable, fragindex);
	if (be->pages && be->pages->extfrag)
		return be->pages->extfrag(be->pages, order, unusable, fragindex);
	return -ENOTSUP;
}

size_t kmb_footprint_pages(void)
{
	return (size_t)__atomic_load_n(&kmb__sys.pm.held_pages, __ATOMIC_RELAXED);
}

int kmb_addr_node(const void *addr)
{
	if (!kmb__sys.booted || !kmb_physmem_contains(&kmb__sys.pm, addr))
		return -1;
	return kmb_page_of(&kmb__sys.pm, addr)->node;
}

/*
 * The picture of physical memory (kmb_frame_map).  Blocks tile the frames: a block's head
 * frame carries its order and usage, the other frames are blank, so a walk from frame 0
 * that steps over each block meets every head.  A free head's order shades it when the
 * page source keeps buddy free lists (it reports Linux extfrag figures, which are defined
 * on them); otherwise free frames are just free.  The backend's frame_kind op then names
 * what each frame held for objects is; a frame it has nothing to say about takes its block
 * head's answer (the tail of a large allocation), else the generic kind stays.  In a
 * metadata block only a metadata kind (KMB_FRAME_SHEAF) is taken from it: a backend that
 * does not look at its metadata frames may answer anything for them.
 */
static bool frame_orders_known(const struct kmb_backend *be)
{
	return be->pages ? be->pages->extfrag != NULL : be->ops->extfrag != NULL;
}

static uint8_t frame_generic(const struct kmb_page *pg, bool orders)
{
	unsigned usage = __atomic_load_n(&pg->usage, __ATOMIC_RELAXED);
	unsigned order = __atomic_load_n(&pg->order, __ATOMIC_RELAXED);

	if (usage == KMB_USE_DATA)
		return KMB_FRAME_DATA;
	if (usage == KMB_USE_META)
		return KMB_FRAME_META;
	if (!orders)
		return KMB_FRAME_FREE;
	order = order < KMB_FRAME_FREE_ORDER_MAX - KMB_FRAME_FREE_ORDER0
	                ? order
	                : KMB_FRAME_FREE_ORDER_MAX - KMB_FRAME_FREE_ORDER0;
	return (uint8_t)(KMB_FRAME_FREE_ORDER0 + order);
}

static uint8_t frame_refine(struct kmb_backend *be, size_t pfn, uint8_t generic, int head)
{
	int k = be->ops->frame_kind(be, pfn);

	if (k > KMB_FRAME_UNKNOWN && k < KMB_FRAME_NKINDS)
		return (uint8_t)k;
	return head > KMB_FRAME_UNKNOWN ? (uint8_t)head : generic;
}

static uint8_t frame_refine_meta(struct kmb_backend *be, size_t pfn)
{
	return be->ops->frame_kind(be, pfn) == KMB_FRAME_SHEAF ? KMB_FRAME_SHEAF : KMB_FRAME_META;
}

int kmb_frame_map(uint8_t *out, size_t nframes)
{
	struct kmb_backend *be = &kmb__sys.be;
	const struct kmb_physmem *pm = &kmb__sys.pm;
	size_t n = pm->npages < nframes ? pm->npages : nframes;
	bool orders;

	if (!kmb__sys.booted)
		return -EINVAL;
	orders = frame_orders_known(be);
	for (size_t pfn = 0; pfn < n;) {
		const struct kmb_page *pg = &pm->map[pfn];
		unsigned order = __atomic_load_n(&pg->order, __ATOMIC_RELAXED);
		size_t len = order < 32 ? (size_t)1 << order : 1;
		uint8_t kind = frame_generic(pg, orders);
		bool held = kind == KMB_FRAME_DATA;
		int head = KMB_FRAME_UNKNOWN;

		len = len < n - pfn ? len : n - pfn;
		for (size_t i = 0; i < len; i++) {
			out[pfn + i] = kind;
			if (held && be->ops->frame_kind != NULL)
				out[pfn + i] = frame_refine(be, pfn + i, kind, head);
			else if (kind == KMB_FRAME_META && be->ops->frame_kind != NULL)
				out[pfn + i] = frame_refine_meta(be, pfn + i);
			if (i == 0 && out[pfn] != kind)
				head = out[pfn];
		}
		pfn += len;
	}
	return (int)pm->npages;
}
