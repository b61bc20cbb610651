/*
 * backends/baseline/baseline.c - user-space allocators as kmbench backends: the baselines.
 *
 * 1. What they are.  Four backends that serve kmalloc from the allocators a reader would
 *    otherwise use, so that a report sets the kernel designs beside them, measured by the
 *    same harness, core and statistics:
 *      libc      glibc's malloc/free/malloc_usable_size: the process's own malloc (ptmalloc2
 *                with per-thread tcache; under ASan or TSan, the sanitizer's allocator).
 *      mimalloc  Microsoft's mimalloc (Leijen, Zorn & de Moura 2019), Debian's libmimalloc2.0:
 *                mi_malloc, mi_malloc_aligned, mi_free, mi_usable_size.
 *      jemalloc  jemalloc 5 (Evans 2006), Debian's libjemalloc: malloc, aligned_alloc, free,
 *                malloc_usable_size, mallctl.
 *      tcmalloc  gperftools' TCMalloc (Ghemawat & Menage), Debian's libtcmalloc-minimal4:
 *                tc_malloc, tc_memalign, tc_free, tc_malloc_size.
 *    None of them may become the process's malloc: kmbench's own tables, google-benchmark and
 *    every other backend keep glibc's, and each baseline serves only what kmbench asks it.
 *    tests/test_baseline.c checks that after every baseline is booted, `malloc` still
 *    resolves into glibc (or the sanitizer runtime).
 *
 * 2. How each is loaded.  Debian builds jemalloc, mimalloc and tcmalloc to replace malloc:
 *    their shared objects export malloc, free and operator new, so linking one would make it
 *    the malloc of the whole process.  So:
 *      mimalloc, tcmalloc  dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND) and dlsym of
 *                the functions above.  RTLD_LOCAL keeps their symbols out of the global scope
 *                (the process's malloc is untouched); RTLD_DEEPBIND makes their own internal
 *                references (mimalloc calls free, tcmalloc operator new through their PLT)
 *                bind to themselves first, as they would in a program linked with them.
 *                ASan and TSan refuse RTLD_DEEPBIND (their interceptors must stay first), so
 *                sanitized builds load with RTLD_LOCAL only; those internal references then
 *                reach the sanitizer's malloc, which serves them consistently (nothing
 *                crosses).  tcmalloc is told TCMALLOC_SKIP_SBRK=true before it loads (unless
 *                the environment says otherwise), so that it maps its memory and does not
 *                move the program break under glibc's main arena.
 *      jemalloc  cannot be dlopened: its 2.6 KiB of initial-exec TLS does not fit glibc's
 *                static TLS surplus ("cannot allocate memory in static TLS block").  So the
 *                build links Debian's libjemalloc_pic.a statically, with every public symbol
 *                renamed by objcopy to kmb_je_* (jemalloc_prefix.cmake): the result is
 *                jemalloc's own code and fast path (initial-exec TLS in the executable), under
 *                names nothing else calls.  This is jemalloc's own --with-jemalloc-prefix,
 *                applied after the fact.
 *      libc      direct calls.
 *    The libraries stay loaded until the process exits (allocators with thread caches and
 *    TLS destructors are not safe to unload).
 *
 * 3. The byte budget: how a baseline says memory is short.  A user-space allocator has no
 *    memory limit, but the kmalloc interface needs one (M_NOWAIT fails, M_WAITOK sleeps,
 *    M_USE_RESERVE digs deeper).  Each baseline enforces the simulated memory size as a
 *    byte budget over the usable sizes of its live blocks, with the default page source's
 *    marks for that much memory (core/page_alloc.c 4.): a normal request must leave at
 *    least min_free_kbytes free, an M_USE_RESERVE one the GFP_ATOMIC floor
 *    (kmb_wmark_reserve: min - min/2 - min/8, 3/8 of min: 512 -> 192 pages for 256 MiB).  So the
 * conformance suite's exhaustion, sleeping, reserve and deadlock tests apply unchanged, and a
 * replay on a baseline fails exactly where a kernel design with as much memory would run short of
 * budget.  The allocator's own overhead is not charged (it has no page budget to charge it to); its
 *    footprint is reported (4.).
 *      Per-CPU credit.  One shared counter would put an atomic read-modify-write on every
 *    kmalloc and kfree, which would slow the baselines by more than the designs they are
 *    compared with.  So a thread attached to CPU c (which owns c: kmb_thread_attached) keeps
 *    a credit of budget bytes, like Linux's percpu_counter and per-CPU page lists: an
 *    allocation takes its usable size from the credit, a free gives it back, and only when
 *    the credit runs out (or exceeds two batches) does the CPU exchange a batch with the
 *    global pool (one CAS).  Threads that are not attached charge the pool directly.  A
 *    request fails when the pool, plus the thread's own credit, cannot cover it: what other
 *    CPUs hold (at most two batches each, batch = memory / 1024 clamped to [16 KiB, 64 KiB])
 *    is not counted, as Linux does not count pages on per-CPU lists as free.  After a
 *    failure the backend is "short": every free goes straight to the pool, and the failing
 *    thread's credit was returned, until the pool has room again (the core's drain op, called
 *    before a M_WAITOK sleep, returns the caller's credit too).
 *      Fault injection (kmb_config.fault_mtbf): the budget's slow path - a refill of a
 *    CPU's credit, or any charge by a thread that is not attached - is this backend's page
 *    source call, so kmb_fault_inject() is asked there; and since the allocator's own refills
 *    from the OS are invisible, every 64th allocation of a thread counts as one too (a
 *    thread-local count on the fast path).  An injected failure is transient and does not
 *    make the backend "short".
 *      max_size: 4/5 of what a normal request may take, so that any allocator's rounding of
 *    a request (jemalloc's large size classes round up by at most 1/4) still fits.
 *
 * 4. Footprint: the allocator's serving of the requests, from its own statistics (a baseline
 *    takes no simulated pages, so this is not simulated frames):
 *      libc      mallinfo2(): data = arena + hblkhd (heap and mmapped bytes), idle = fordblks.
 *                Meaningless under ASan and TSan, whose allocators replace glibc's.
 *      mimalloc  mi_process_info()'s current_commit: bytes committed from the OS (segments,
 *                metadata included; after a thread's first segment mimalloc commits whole
 *                32 MiB segments at once, so its figure moves in those steps).  It does not
 *                say what is allocated: idle = all of it.
 *      jemalloc  mallctl "stats.resident" and "stats.metadata" after refreshing "epoch":
 *                data = resident - metadata, meta = metadata, idle = data - "stats.allocated".
 *      tcmalloc  "generic.heap_size" - "tcmalloc.pageheap_unmapped_bytes" (bytes mapped and
 *                committed for the heap; no separate metadata), idle = that less
 *                "generic.current_allocated_bytes".
 *    What was there at boot is not counted: each reading less the bytes in use at boot
 *    (data - idle then: kmbench's own heap, for libc, which shares glibc's malloc with the
 *    process) and less the idle bytes held at boot as long as as many are still idle (an
 *    earlier boot's leftovers in caches and free lists, which other allocations of the
 *    process - or the trace, once it uses them - may take):
 *        served = data - (boot_data - boot_idle) - min(idle, boot_idle).
 *    So footprint at boot is 0 pages, and repetitions in one process read the same: exact
 *    when the boot's idle bytes stay idle; when the trace reuses them, the allocator's own
 *    fragmentation is undercounted by at most boot_idle while idle < boot_idle (statistics
 *    footprint_at_boot_bytes and footprint_idle_at_boot_bytes say how much that can be).
 *    Before that reading, at boot, each allocator gives its free memory back to the OS
 *    (malloc_trim, mi_collect, tcache flush and arena purge, MarkThreadIdle and
 *    ReleaseFreeMemory), so that little is idle.  kmbench's own allocations after boot
 *    (the replay engine's) would count for libc: the engine takes them outside malloc.
 *      The reading is accounted in the simulated memory's counters as data and metadata pages
 *    (kmb_physmem_account), so kmb_memstat(), kmb_footprint_pages() and peak_pages report it
 *    like any backend's pages.  Reading can cost microseconds (jemalloc merges every arena's
 *    statistics), so it is taken whenever the budget's charged bytes reach a new high by
 *    `step` (memory / 256, at least a batch) - never on a steady state, at most 256 times
 *    while memory fills - and by kmb_memstat() once they moved by step / 8 since the last
 *    reading (the replay samples memory a thousand times, inside its timed loop): peak_pages
 *    is the highest footprint read at those moments.
 *      Retention while booted.  A kernel design's pages are resident (simulated memory is
 *    faulted in before the first boot) and stay so when it gives them back to its page
 *    allocator.  So that a baseline's warm-up (the replay's untimed pass) is not undone
 *    between the warm-up and the timed pass, mimalloc (allow_decommit off), jemalloc (dirty
 *    and muzzy decay off, -1) and TCMalloc (TCMALLOC_RELEASE_RATE=0 unless the environment
 *    says otherwise) keep what they got from the OS until shutdown, which restores
 *    mimalloc's and jemalloc's defaults and gives the memory back.  These settings only say
 *    when free memory goes back, not where blocks are placed.  glibc keeps its defaults:
 *    its thresholds cannot be set without ending their dynamic adjustment, which does
 *    decide placement (on the exhaust workload at 32M, fixed maximal thresholds halved
 *    its peak footprint), and it keeps large blocks in the heap after their first free
 *    anyway.  Without a warm-up, the first touch of each page
 *    the allocator maps is a page fault in the timed pass, which no kernel design pays.
 *    Each baseline also declares its allocator's own statistics beside the budget's.
 *
 * 5. Departures and limits.
 *      - Alignment: the contract's min(2^ceil(log2 size), 16) is what all four give as they
 *        are (Debian's mimalloc is built with 16-byte aligned bins; the conformance suite
 *        checks every size).  Page multiples are page aligned through the allocator's
 *        aligned allocation (aligned_alloc, mi_malloc_aligned, tc_memalign).
 *        natural_pow2 is false: kmem_caches aligned above 16 take page multiples.
 *      - No native kmem_cache (the core's generic one serves them through alloc).
 *      - INVARIANTS: the core's redzones and free checks apply; its poison checks apply only
 *        inside simulated memory, so "modified after free" is not detected on a baseline
 *        (its conformance test is disabled for these specs: tests/backend_baseline.cmake).
 *      - krealloc with M_ZERO: glibc's 16-byte block has 24 usable bytes, and the 8 never
 *        zeroed are copied, as Linux's krealloc documents for a block first allocated
 *        without __GFP_ZERO; the conformance test that assumes 16 is disabled for libc.
 *      - The budget reads the usable size once more on each alloc and each free, beside the
 *        core's two reads (the ops are not given the size the core has read): a few ns,
 *        which the raw/<allocator>/<size> micro benchmarks show beside pair/.
 *      - Sanitizers: under ASan, libc's blocks are marked with __lsan_ignore_object, so that
 *        blocks the core already reports as unbalanced (or a panicking test left behind) are
 *        not reported again as leaks.  Under TSan, the allocators that are not instrumented
 *        (mimalloc, jemalloc, tcmalloc) synchronise with atomics TSan cannot see, while the
 *        calls they make to intercepted functions (mmap, memset, pthread_mutex_*) and the
 *        reuse of freed blocks by other threads are seen: so every call into them acquires
 *        before and releases after one sync object (__tsan_acquire / __tsan_release), the
 *        happens-before their internal synchronisation gives (as if under one lock).  That
 *        hides no race of kmbench's own that the kernel backends' TSan runs would not show:
 *        the core and the tests are the same code there, without the extra ordering.
 *      - The backend's own state (this file's struct) comes from malloc, not simulated
 *        memory: there are no simulated pages to take it from.
 *      - Out of memory in the process itself (ulimit -v, a cgroup): the allocator returning
 *        NULL within the budget is not a shortage of simulated memory - taking it for one
 *        made M_WAITOK sleep and the core report a deadlock "with 4096 of 4096 pages free"
 *        - so the ops panic (KMB_PANIC_HOST_NOMEM, kmb__bl_host_oom) naming the baseline.
 *        tcmalloc does not return NULL but aborts; check_headroom refuses to load and boot
 *        it when the address-space limit leaves too little.
 *      - No sized free (backend.h free_sized): kmem_free takes free.  The allocators have
 *        one (jemalloc's sdallocx, mimalloc's mi_free_size, TCMalloc's sized delete), but
 *        the budget needs the block's usable size on every free anyway (3.), which is the
 *        lookup a sized free would save.
 */
#include "baseline_impl.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <kmbench/page_alloc.h>

/* ---- loading -------------------------------------------------------------------------------- */

#ifdef KMB__BL_SANITIZED
#define DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL)
const char kmb__bl_dlopen_how[] = "dlopen RTLD_NOW|RTLD_LOCAL (sanitized build: no DEEPBIND)";
#else
#define DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND)
const char kmb__bl_dlopen_how[] = "dlopen RTLD_NOW|RTLD_LOCAL|RTLD_DEEPBIND";
#endif

void *kmb__bl_dlopen(const char *soname, const char *package, char *err, size_t errlen)
{
	void *h;

#ifdef KMB__BL_ASAN
	__lsan_disable(); /* what the library's constructors keep forever is not a leak */
#endif
	h = dlopen(soname, DLOPEN_FLAGS);
#ifdef KMB__BL_ASAN
	__lsan_enable();
#endif
	if (h == NULL)
		snprintf(err, errlen, "cannot load %s: %s (apt-get install %s)", soname, dlerror(),
		         package);
	return h;
}

static const struct {
	const char *name;
	int (*load)(struct kmb_baseline_alloc *a, char *err, size_t errlen);
	size_t abort_reserve; /* see check_headroom */
} loaders[] = {
        {"libc", kmb__bl_libc_load, 0},
        {"mimalloc", kmb__bl_mimalloc_load, 0},
        {"jemalloc", kmb__bl_jemalloc_load, 0},
        {"tcmalloc", kmb__bl_tcmalloc_load, KMB__BL_TCMALLOC_RESERVE},
};
#define NLOADERS (sizeof(loaders) / sizeof(loaders[0]))

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kmb_baseline_alloc allocs[NLOADERS];
static int load_rc[NLOADERS]; /* 0 not tried, 1 loaded, < 0 the error */
static char load_err[NLOADERS][256];

const char *kmb_baseline_name(size_t i)
{
	return i < NLOADERS ? loaders[i].name : NULL;
}

int kmb_baseline_get(const char *name, const struct kmb_baseline_alloc **out, char *err,
                     size_t errlen)
{
	int rc;

	for (size_t i = 0; i < NLOADERS; i++) {
		if (strcmp(loaders[i].name, name) != 0)
			continue;
		pthread_mutex_lock(&load_lock);
		if (load_rc[i] == 0) {
			rc = loaders[i].load(&allocs[i], load_err[i], sizeof(load_err[i]));
			load_rc[i] = rc == 0 ? 1 : rc;
		}
		rc = load_rc[i] == 1 ? 0 : load_rc[i];
		pthread_mutex_unlock(&load_lock);
		if (rc != 0) {
			snprintf(err, errlen, "%s: %s", name, load_err[i]);
			return rc;
		}
		*out = &allocs[i];
		return 0;
	}
	snprintf(err, errlen, "unknown baseline '%s'", name);
	return -ENOENT;
}

/* ---- the budget (3.) ------------------------------------------------------------------------ */

_Thread_local unsigned kmb__bl_probe;

void kmb_baseline_marks(size_t mem_bytes, size_t *min_bytes, size_t *reserve_bytes)
{
	size_t npages = mem_bytes >> KMB_PAGE_SHIFT;
	size_t wm[KMB_NR_WMARK];

	kmb_zone_wmarks(npages, npages,
	                kmb_min_free_kbytes((uint64_t)npages << (KMB_PAGE_SHIFT - 10)), wm);
	*min_bytes = wm[KMB_WMARK_MIN] << KMB_PAGE_SHIFT;
	*reserve_bytes = kmb_wmark_reserve(wm[KMB_WMARK_MIN]) << KMB_PAGE_SHIFT;
}

static int64_t load64(const int64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void count(uint64_t *ctr)
{
	__atomic_add_fetch(ctr, 1, __ATOMIC_RELAXED);
}

/* Take n bytes from the pool if at least mark stay in it.  Seq_cst: with the core's Dekker
 * handshake (core/wait.c 3.) a retry after a free sees the bytes that free gave back. */
static bool take(struct kmb__bl *bl, int64_t n, int64_t mark)
{
	int64_t a = __atomic_load_n(&bl->avail, __ATOMIC_SEQ_CST);

	do {
		if (a - n < mark)
			return false;
	} while (!__atomic_compare_exchange_n(&bl->avail, &a, a - n, true, __ATOMIC_SEQ_CST,
	                                      __ATOMIC_SEQ_CST));
	return true;
}

static void give(struct kmb__bl *bl, int64_t n)
{
	int64_t a = __atomic_add_fetch(&bl->avail, n, __ATOMIC_SEQ_CST);

	if (__atomic_load_n(&bl->short_, __ATOMIC_RELAXED) && a - bl->min_mark >= bl->calm)
		__atomic_store_n(&bl->short_, 0, __ATOMIC_RELAXED);
}

static void sync_footprint(struct kmb__bl *bl, bool wait);

/* After a take: a new high of charged bytes by step reads the footprint (4.). */
static void after_take(struct kmb__bl *bl)
{
	int64_t taken = bl->mem - __atomic_load_n(&bl->avail, __ATOMIC_RELAXED);

	count(&bl->refills);
	if (kmb_unlikely(taken > __atomic_load_n(&bl->sync_next, __ATOMIC_RELAXED)))
		sync_footprint(bl, false);
}

bool kmb__bl_charge_slow(struct kmb__bl *bl, int64_t u, int flags)
{
	int64_t mark = (flags & M_USE_RESERVE) ? bl->reserve_mark : bl->min_mark;
	struct kmb__bl_cpu *c = KMB_THIS_CPU(bl->cpu);

	if (kmb_fault_inject()) /* a refill from the pool is this backend's page-source call */
		return false;
	if (c != NULL) {
		int64_t credit = load64(&c->credit), need = u - credit;

		if (!__atomic_load_n(&bl->short_, __ATOMIC_RELAXED) &&
		    take(bl, need + bl->batch, bl->min_mark)) {
			__atomic_store_n(&c->credit, bl->batch, __ATOMIC_RELAXED);
			after_take(bl);
			return true;
		}
		if (take(bl, need, mark)) {
			__atomic_store_n(&c->credit, 0, __ATOMIC_RELAXED);
			after_take(bl);
			return true;
		}
		if (credit > 0) { /* short: what this CPU holds goes back for the others */
			__atomic_store_n(&c->credit, 0, __ATOMIC_RELAXED);
			give(bl, credit);
		}
	} else if (take(bl, u, mark)) {
		after_take(bl);
		return true;
	}
	__atomic_store_n(&bl->short_, 1, __ATOMIC_RELAXED);
	count(&bl->failures);
	return false;
}

void kmb__bl_uncharge_slow(struct kmb__bl *bl, int64_t u)
{
	struct kmb__bl_cpu *c = KMB_THIS_CPU(bl->cpu);

	if (c != NULL) {
		int64_t credit = load64(&c->credit) + u;
		int64_t keep = __atomic_load_n(&bl->short_, __ATOMIC_RELAXED) ? 0 : bl->batch;

		if (credit > keep) {
			__atomic_store_n(&c->credit, keep, __ATOMIC_RELAXED);
			give(bl, credit - keep);
		} else {
			__atomic_store_n(&c->credit, credit, __ATOMIC_RELAXED);
		}
		return;
	}
	give(bl, u);
}

static void flush_credit(struct kmb__bl *bl, unsigned cpu)
{
	int64_t credit = load64(&bl->cpu[cpu].credit);

	if (credit != 0) {
		__atomic_store_n(&bl->cpu[cpu].credit, 0, __ATOMIC_RELAXED);
		give(bl, credit);
	}
}

void kmb__bl_drain(struct kmb_backend *be)
{
	if (kmb_thread_attached())
		flush_credit(be->priv, kmb_thread_cpu());
}

void kmb__bl_thread_attach(struct kmb_backend *be, unsigned cpu)
{
	struct kmb__bl *bl = be->priv;

	__atomic_store_n(&bl->cpu[cpu].credit, 0, __ATOMIC_RELAXED);
}

void kmb__bl_thread_detach(struct kmb_backend *be, unsigned cpu)
{
	flush_credit(be->priv, cpu);
}

void kmb__bl_host_oom(struct kmb_backend *be, size_t size)
{
	struct kmb__bl *bl = be->priv;

	kmb_panic(KMB_PANIC_HOST_NOMEM, NULL,
	          "out of memory in the %s baseline: its allocator returned NULL for %zu bytes "
	          "with %" PRId64 " of the %" PRId64 " budget bytes free: the process itself is "
	          "out of memory (ulimit -v, a cgroup limit), not the simulated memory",
	          be->ops->name, size, __atomic_load_n(&bl->avail, __ATOMIC_RELAXED), bl->mem);
}

/* ---- footprint (4.) ------------------------------------------------------------------------ */

static long pages_of(uint64_t bytes)
{
	return (long)((bytes + KMB_PAGE_SIZE - 1) >> KMB_PAGE_SHIFT);
}

/* Account the allocator's footprint as pages: decreases first, so peak_pages never counts a
 * sum of old and new readings. */
static void account(struct kmb__bl *bl, long data, long meta)
{
	long dd = data - bl->acc_data, dm = meta - bl->acc_meta;

	if (dd < 0)
		kmb_physmem_account(bl->pm, dd, KMB_USE_DATA);
	if (dm < 0)
		kmb_physmem_account(bl->pm, dm, KMB_USE_META);
	if (dd > 0)
		kmb_physmem_account(bl->pm, dd, KMB_USE_DATA);
	if (dm > 0)
		kmb_physmem_account(bl->pm, dm, KMB_USE_META);
	bl->acc_data = data;
	bl->acc_meta = meta;
}

/*
 * The reading less what was there at boot (4.): the bytes in use then (the rest of the
 * process's, for libc) and the idle bytes held then, as long as as many are still idle.
 */
static uint64_t served(uint64_t data, uint64_t idle, uint64_t boot_data, uint64_t boot_idle)
{
	uint64_t boot_busy = boot_data - boot_idle;
	uint64_t not_ours = boot_busy + (idle < boot_idle ? idle : boot_idle);

	return data > not_ours ? data - not_ours : 0;
}

static void sync_footprint(struct kmb__bl *bl, bool wait)
{
	uint64_t data = 0, meta = 0, idle = 0;
	int64_t taken;
	int rc;

	if (wait)
		pthread_mutex_lock(&bl->sync_lock);
	else if (pthread_mutex_trylock(&bl->sync_lock) != 0)
		return;
	taken = bl->mem - __atomic_load_n(&bl->avail, __ATOMIC_RELAXED);
	__atomic_store_n(&bl->sync_taken, taken, __ATOMIC_RELAXED);
	if (taken + bl->step > __atomic_load_n(&bl->sync_next, __ATOMIC_RELAXED))
		__atomic_store_n(&bl->sync_next, taken + bl->step, __ATOMIC_RELAXED);
	KMB__BL_TSAN_ENTER(bl);
	rc = bl->a->footprint(&data, &meta, &idle);
	KMB__BL_TSAN_EXIT(bl);
	if (rc == 0) {
		data = served(data, idle, bl->boot_data, bl->boot_idle);
		meta = meta > bl->boot_meta ? meta - bl->boot_meta : 0;
		account(bl, pages_of(data), pages_of(meta));
		__atomic_store_n(&bl->foot_data, data, __ATOMIC_RELAXED);
		__atomic_store_n(&bl->foot_meta, meta, __ATOMIC_RELAXED);
		count(&bl->reads);
	}
	pthread_mutex_unlock(&bl->sync_lock);
}

/* ---- the shared ops -------------------------------------------------------------------------- */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * An allocator that aborts when the OS refuses it memory (abort_reserve != 0: tcmalloc,
 * already when it is loaded, its constructor mapping metadata) is loaded and booted only if the
 * address-space limit (RLIMIT_AS, ulimit -v) leaves the budget plus its reserve beyond what the
 * process maps already (/proc/self/statm): "out of memory in the tcmalloc baseline" before the run,
 * rather than an abort inside the library.  A SIGABRT handler around its calls could not recover
 * (the library's locks and state are left mid-update), and a cgroup limit or overcommit cannot be
 * read this way: there the OOM killer ends the process whatever the allocator does.
 */
static int check_headroom(const char *name, int64_t mem)
{
	unsigned long long vm_pages = 0;
	struct rlimit rl;
	size_t reserve = 0;
	uint64_t need, mapped, left;
	FILE *f;

	for (size_t i = 0; i < NLOADERS; i++)
		if (strcmp(loaders[i].name, name) == 0)
			reserve = loaders[i].abort_reserve;
	if (reserve == 0 || getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	need = (uint64_t)mem + reserve;
	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(f, "%llu", &vm_pages) != 1)
			vm_pages = 0;
		fclose(f);
	}
	mapped = (uint64_t)vm_pages * (uint64_t)sysconf(_SC_PAGESIZE);
	left = rl.rlim_cur > mapped ? rl.rlim_cur - mapped : 0;
	if (left >= need)
		return 0;
	fprintf(stderr,
	        "kmbench: out of memory in the %s baseline: the address-space limit (ulimit -v) "
	        "leaves %" PRIu64 " MiB, less than the %" PRId64 " MiB budget plus %zu MiB for "
	        "its metadata; %s aborts the process when it cannot map memory, so it is not "
	        "booted\n",
	        name, left >> 20, mem >> 20, reserve >> 20, name);
	return -ENOMEM;
}

int kmb__bl_init(struct kmb_backend *be)
{
	const struct kmb_baseline_alloc *a;
	struct kmb__bl *bl;
	size_t min, reserve;
	char err[320];
	int rc;

	if ((rc = check_headroom(be->ops->name, (int64_t)(be->pm->npages << KMB_PAGE_SHIFT))) != 0)
		return rc;
	if ((rc = kmb_baseline_get(be->ops->name, &a, err, sizeof(err))) != 0) {
		fprintf(stderr, "kmbench: %s\n", err);
		return rc;
	}
	bl = aligned_alloc(64, sizeof(*bl));
	if (bl == NULL)
		return -ENOMEM;
	memset(bl, 0, sizeof(*bl));
	bl->a = a;
	bl->pm = be->pm;
	bl->mem = (int64_t)(be->pm->npages << KMB_PAGE_SHIFT);
	kmb_baseline_marks((size_t)bl->mem, &min, &reserve);
	bl->min_mark = (int64_t)min;
	bl->reserve_mark = (int64_t)reserve;
	bl->batch = clamp64(bl->mem / 1024, 16 << 10, 64 << 10);
	bl->step = bl->mem / 256 > bl->batch ? bl->mem / 256 : bl->batch;
	bl->calm = 4 * bl->batch * (int64_t)be->ncpus;
	bl->avail = bl->mem;
	bl->tsan_hb = strcmp(a->name, "libc") != 0;
	bl->sync_next = bl->step;
	if (pthread_mutex_init(&bl->sync_lock, NULL) != 0) {
		free(bl);
		return -ENOMEM;
	}
	be->priv = bl;
	if (a->trim) {
		KMB__BL_TSAN_ENTER(bl);
		a->trim(true);
		KMB__BL_TSAN_EXIT(bl);
	}
	KMB__BL_TSAN_ENTER(bl);
	if (a->footprint(&bl->boot_data, &bl->boot_meta, &bl->boot_idle) != 0 ||
	    bl->boot_idle > bl->boot_data)
		bl->boot_data = bl->boot_meta = bl->boot_idle = 0;
	KMB__BL_TSAN_EXIT(bl);
	sync_footprint(bl, true);
	return 0;
}

void kmb__bl_fini(struct kmb_backend *be)
{
	struct kmb__bl *bl = be->priv;

	pthread_mutex_lock(&bl->sync_lock);
	account(bl, 0, 0);
	pthread_mutex_unlock(&bl->sync_lock);
	if (bl->a->trim) {
		KMB__BL_TSAN_ENTER(bl);
		bl->a->trim(false);
		KMB__BL_TSAN_EXIT(bl);
	}
	pthread_mutex_destroy(&bl->sync_lock);
	free(bl);
	be->priv = NULL;
}

size_t kmb__bl_max_size(struct kmb_backend *be)
{
	struct kmb__bl *bl = be->priv;
	size_t normal = (size_t)(bl->mem - bl->min_mark);

	return (normal / 5 * 4) & ~(KMB_PAGE_SIZE - 1);
}

static int64_t credits(const struct kmb__bl *bl)
{
	int64_t sum = 0;

	for (unsigned c = 0; c < KMB_MAX_CPUS; c++)
		sum += load64(&bl->cpu[c].credit);
	return sum;
}

void kmb__bl_memstat(struct kmb_backend *be, struct kmb_memstat *ms)
{
	struct kmb__bl *bl = be->priv;
	int64_t avail = load64(&bl->avail), held = credits(bl);
	int64_t moved = bl->mem - avail - load64(&bl->sync_taken);

	ms->free_pages = (size_t)((avail + held) >> KMB_PAGE_SHIFT);
	ms->largest_free = avail > bl->min_mark ? (size_t)(avail - bl->min_mark) : 0;
	/* samplers call this often: read again once the budget moved by step / 8 (4.) */
	if (moved >= bl->step / 8 || moved <= -bl->step / 8 ||
	    __atomic_load_n(&bl->reads, __ATOMIC_RELAXED) == 0)
		sync_footprint(bl, true);
}

size_t kmb__bl_stats(struct kmb_backend *be, struct kmb_stat *out, size_t max)
{
	struct kmb__bl *bl = be->priv;
	struct kmb_stat s[] = {
	        KMB__BL_STAT("budget_bytes", "bytes",
	                     "the byte budget: simulated memory less the min watermark",
	                     bl->mem - bl->min_mark),
	        KMB__BL_STAT("live_bytes", "bytes", "usable bytes of live blocks charged to it",
	                     bl->mem - load64(&bl->avail) - credits(bl)),
	        KMB__BL_STAT("budget_refills", "events",
	                     "exchanges between a CPU's credit or a thread and the global pool",
	                     __atomic_load_n(&bl->refills, __ATOMIC_RELAXED)),
	        KMB__BL_STAT("budget_failures", "events",
	                     "allocations refused by the budget (memory short)",
	                     __atomic_load_n(&bl->failures, __ATOMIC_RELAXED)),
	        KMB__BL_STAT(
	                "footprint_bytes", "bytes",
	                "data bytes the allocator holds beyond its boot reading (last reading)",
	                __atomic_load_n(&bl->foot_data, __ATOMIC_RELAXED)),
	        KMB__BL_STAT("footprint_meta_bytes", "bytes",
	                     "metadata bytes the allocator holds beyond its boot reading",
	                     __atomic_load_n(&bl->foot_meta, __ATOMIC_RELAXED)),
	        KMB__BL_STAT("footprint_reads", "events", "readings of the allocator's statistics",
	                     __atomic_load_n(&bl->reads, __ATOMIC_RELAXED)),
	        KMB__BL_STAT("footprint_at_boot_bytes", "bytes",
	                     "the allocator's reading at boot (data and metadata)",
	                     bl->boot_data + bl->boot_meta),
	        KMB__BL_STAT("footprint_idle_at_boot_bytes", "bytes",
	                     "of which idle (held, not allocated): not counted while still idle",
	                     bl->boot_idle),
	};
	size_t n = sizeof(s) / sizeof(s[0]);

	if (n > max)
		n = max;
	memcpy(out, s, n * sizeof(s[0]));
	if (n < max && bl->a->stats) {
		KMB__BL_TSAN_ENTER(bl);
		n += bl->a->stats(out + n, max - n);
		KMB__BL_TSAN_EXIT(bl);
	}
	return n;
}
