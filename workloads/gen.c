/*
 * workloads/gen.c - synthetic workloads: the registry, the toolkit every generator uses,
 * and the ftrace text writer.
 *
 * Theory.
 *
 * 1. Time.  One clock for the whole machine: every event advances it by 0.1-1.5 us (the
 *    cost of an allocation and the code around it), kmb__gen_idle() adds gaps.  Events are
 *    appended in clock order, so the trace is in global time order and each CPU's events
 *    are in time order, as trace-cmd merges per-CPU ring buffers.  A generator decides
 *    which CPU acts next (its model of the machine); timestamps are whole microseconds,
 *    as the default "local" trace clock prints them.
 *
 * 2. Pointers only pair frees with allocations, but they must look like a kernel's and
 *    never collide while live (an allocation returning a live pointer is an implicit free
 *    and would change the facts).  Each size class (a kmalloc class, a page order of
 *    kmalloc_large, or a cache) owns a 256 GiB region of the x86-64 direct map
 *    (page_offset_base 0xffff888000000000, from 4 GiB up; 64 regions = 16 TiB of its
 *    64 TiB).  Objects are carved from slabs as SLUB does: a slab of one page for objects
 *    up to 512 bytes, of 8 pages (order 3) up to 8 KiB, objects at a stride of their size
 *    rounded to 8 and never across a slab; larger blocks are naturally aligned page
 *    blocks.  A freed object goes on its class's LIFO list and is the next one handed out
 *    (SLUB's hot per-CPU freelist), so addresses are reused as in a real trace.  A bitmap
 *    of live objects per class catches a generator freeing twice or freeing a stranger.
 *
 * 3. bytes_alloc is what SLUB reports: kmalloc rounds up to the classes 8, 16, 32, 64, 96,
 *    128, 192, 256, 512, 1K, 2K, 4K, 8K (mm/slab_common.c kmalloc_info[] with the x86-64
 *    KMALLOC_MIN_SIZE 8), and above 8 KiB kmalloc_large() gives PAGE_SIZE << get_order();
 *    a cache reports its object_size and size.
 *
 * 4. gfp flags.  A generator registers each gfp spelling it uses together with the
 *    kmbench flags it intends ("GFP_ATOMIC|__GFP_NOWARN" must be M_NOWAIT|M_USE_RESERVE);
 *    kmb_gfp_to_flags() - the parser's own mapping - must agree, else the generator fails.
 *    The event carries the mapped flags, the writer prints the spelling, so writing and
 *    parsing back gives the same events.
 *
 * 5. Determinism: xoshiro256** seeded by splitmix64 from --seed and the workload's name;
 *    integer arithmetic only (no libm), so a seed gives the same bytes on every machine.
 */
#include "workloads/gen.h"

#include <kmbench/kmalloc.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE    4096u
#define GEN_BASE     0xffff888100000000ULL /* page_offset_base + 4 GiB */
#define REGION_SHIFT 38                    /* 256 GiB per class */
#define CACHE_KEY    (1ULL << 63)

/* ---- the registry -------------------------------------------------------------------- */

static const char *const fdtable_variants[] = {"failok", "waitok", "mixed", NULL};

static const struct kmb_workload workloads[] = {
        {"fdtable", "an fd table doubled past all memory (alloc, copy, free): M_FAILOK vs M_WAITOK",
         20000, fdtable_variants, 256u << 20,
         "the failok default replays with failed allocs; --variant waitok panics (IMPOSSIBLE)",
         kmb__gen_fdtable, NULL},
        {"netrx", "packet buffers in GFP_ATOMIC bursts on RX CPUs, freed on consumer CPUs", 100000,
         NULL, 0, "replay with --threads 2 or more to see cross-CPU frees", kmb__gen_netrx, NULL},
        {"vfs-cache", "dentries and inodes under LRU eviction: mixed lifetimes, fragmentation",
         100000, NULL, 0, "any replay; compare footprint and extfrag across backends",
         kmb__gen_vfs_cache, NULL},
        {"larson", "Larson & Krishnan's server: per-CPU windows of 10..1000 B blocks, handed on",
         100000, NULL, 0, "replay with --threads 2 or more to see cross-CPU frees", kmb__gen_larson,
         NULL},
        {"xmalloc", "Lever & Boreham's xmalloc-test: producer CPUs allocate, consumers free",
         100000, NULL, 0, "replay with --threads 2 or more to see cross-CPU frees",
         kmb__gen_xmalloc, NULL},
        {"exhaust", "below the watermarks: NOWAIT failures, reserve, NOFAIL retries, WAITOK sleeps",
         100000, NULL, 32u << 20,
         "replay with --mem equal to the trace's --mem (default 32M); sleeps need --threads 2+",
         kmb__gen_exhaust, kmb__exhaust_check},
        {"speculative", "kmem_alloc(9)'s retry: allocate unlocked, recheck, the race's loser frees",
         100000, NULL, 0, "any replay; losers free at once on their own CPU", kmb__gen_speculative,
         NULL},
        {"irq", "NIC receive: descriptors in hardirq, skbs in softirq (GFP_ATOMIC), freed in tasks",
         100000, NULL, 0, "replay runs each event in its interrupt context; --threads 2+",
         kmb__gen_irq, NULL},
};

#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

size_t kmb_workload_count(void)
{
	return NWORKLOADS;
}

const struct kmb_workload *kmb_workload_at(size_t i)
{
	return i < NWORKLOADS ? &workloads[i] : NULL;
}

const struct kmb_workload *kmb_workload_find(const char *name)
{
	for (size_t i = 0; name && i < NWORKLOADS; i++)
		if (strcmp(workloads[i].name, name) == 0)
			return &workloads[i];
	return NULL;
}

/* ---- options ------------------------------------------------------------------------- */

static int find_variant(const struct kmb_workload *w, const char *v, unsigned *idx)
{
	*idx = 0;
	if (!v)
		return 0;
	for (unsigned i = 0; w->variants && w->variants[i]; i++)
		if (strcmp(w->variants[i], v) == 0) {
			*idx = i;
			return 0;
		}
	return -EINVAL;
}

static void list_variants(const struct kmb_workload *w, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; w->variants && w->variants[i] && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
		                        w->variants[i]);
}

int kmb_workload_resolve(const struct kmb_workload *w, struct kmb_gen_opts *o, char *err,
                         size_t errlen)
{
	unsigned idx;
	char names[128];

	if (!o->events)
		o->events = w->default_events;
	if (!o->cpus)
		o->cpus = 2;
	if (o->events < KMB_GEN_MIN_EVENTS || o->events > KMB_GEN_MAX_EVENTS)
		return kmb__seterr(err, errlen, "--events must be %u..%u", KMB_GEN_MIN_EVENTS,
		                   KMB_GEN_MAX_EVENTS);
	if (o->cpus > KMB_GEN_MAX_CPUS)
		return kmb__seterr(err, errlen, "--cpus must be 1..%u", KMB_GEN_MAX_CPUS);
	if (o->variant && !w->variants)
		return kmb__seterr(err, errlen, "%s has no variants", w->name);
	if (find_variant(w, o->variant, &idx) < 0) {
		list_variants(w, names, sizeof(names));
		return kmb__seterr(err, errlen, "unknown variant '%s' of %s (%s)", o->variant,
		                   w->name, names);
	}
	if (o->mem_bytes && !w->default_mem)
		return kmb__seterr(err, errlen, "--mem does not apply to %s", w->name);
	if (!o->mem_bytes)
		o->mem_bytes = w->default_mem;
	if (w->default_mem && (o->mem_bytes < (1u << 20) || o->mem_bytes > KMB_GEN_MAX_MEM))
		return kmb__seterr(err, errlen, "--mem must be 1M..16G");
	return w->check ? w->check(o, err, errlen) : 0;
}

/* ---- errors, budget, random numbers --------------------------------------------------- */

int kmb__gen_fail(struct kmb__gen *g, int rc, const char *fmt, ...)
{
	va_list ap;

	if (g->rc)
		return g->rc;
	g->rc = rc;
	if (g->err && g->errlen) {
		va_start(ap, fmt);
		vsnprintf(g->err, g->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

bool kmb__gen_more(const struct kmb__gen *g, uint64_t reserve)
{
	return g->rc == 0 && g->t->nev + g->live + reserve < g->o.events;
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static void seed_rng(struct kmb__gen *g)
{
	uint64_t x = g->o.seed;

	for (const char *p = g->w->name; *p; p++) /* FNV-1a of the name */
		x = (x ^ (unsigned char)*p) * 0x100000001b3ULL;
	for (int i = 0; i < 4; i++)
		g->rng[i] = splitmix64(&x);
}

uint64_t kmb__gen_rand(struct kmb__gen *g)
{
	uint64_t *s = g->rng, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

uint64_t kmb__gen_below(struct kmb__gen *g, uint64_t n)
{
	return n ? kmb__gen_rand(g) % n : 0;
}

uint64_t kmb__gen_range(struct kmb__gen *g, uint64_t lo, uint64_t hi)
{
	return lo + kmb__gen_below(g, hi - lo + 1);
}

bool kmb__gen_chance(struct kmb__gen *g, unsigned percent)
{
	return kmb__gen_below(g, 100) < percent;
}

/* ---- names ----------------------------------------------------------------------------- */

uint32_t kmb__gen_site(struct kmb__gen *g, const char *site)
{
	uint32_t i = kmb_trace_intern(g->t, site, strlen(site));

	if (i == KMB_STR_NOMEM) {
		kmb__gen_fail(g, -ENOMEM, "out of memory");
		return 0;
	}
	return i;
}

static int class_for(struct kmb__gen *g, uint64_t key, uint64_t size);

int kmb__gen_cache(struct kmb__gen *g, const char *name, uint64_t obj_size, uint64_t size)
{
	size_t c = g->ncache;

	if (c == sizeof(g->cache) / sizeof(g->cache[0]))
		return kmb__gen_fail(g, -ENOSPC, "too many caches");
	g->cache[c].name = kmb__gen_site(g, name);
	g->cache[c].obj_size = obj_size;
	g->cache[c].size = size;
	g->cache[c].cls = class_for(g, CACHE_KEY | c, size);
	if (g->rc)
		return g->rc;
	g->ncache++;
	return (int)c;
}

unsigned kmb__gen_gfp(struct kmb__gen *g, const char *name, int want)
{
	int flags = 0;

	for (unsigned i = 0; i < g->ngfp; i++)
		if (strcmp(g->gfp[i].name, name) == 0)
			return i;
	if (kmb_gfp_to_flags(name, strlen(name), &flags) < 0 || flags != want) {
		kmb__gen_fail(g, -EINVAL, "gfp_flags=%s maps to 0x%x, the generator means 0x%x",
		              name, (unsigned)flags, (unsigned)want);
		return 0;
	}
	if (g->ngfp == sizeof(g->gfp) / sizeof(g->gfp[0])) {
		kmb__gen_fail(g, -ENOSPC, "too many gfp spellings");
		return 0;
	}
	g->gfp[g->ngfp] = (struct kmb__gen_gfp){name, flags};
	return (unsigned)g->ngfp++;
}

uint64_t kmb__slub_size(uint64_t size)
{
	uint64_t c = 8;

	if (size > 8192) {
		for (c = PAGE_SIZE; c < size; c <<= 1)
			;
		return c;
	}
	if (size > 64 && size <= 96)
		return 96;
	if (size > 128 && size <= 192)
		return 192;
	while (c < size)
		c <<= 1;
	return c;
}

/* ---- the address space ---------------------------------------------------------------- */

static int class_for(struct kmb__gen *g, uint64_t key, uint64_t size)
{
	struct kmb__gen_class *c;

	for (size_t i = 0; i < g->ncls; i++)
		if (g->cls[i].key == key)
			return (int)i;
	if (g->ncls == KMB__GEN_MAX_CLASSES)
		return kmb__gen_fail(g, -ENOSPC, "more than %d size classes", KMB__GEN_MAX_CLASSES);
	if (size == 0 || size > (1ULL << (REGION_SHIFT - 1)))
		return kmb__gen_fail(g, -EINVAL, "object size %" PRIu64 " out of range", size);
	c = &g->cls[g->ncls];
	memset(c, 0, sizeof(*c));
	c->key = key;
	c->stride = (size + 7) & ~7ULL;
	c->slab_bytes = size > 8192 ? c->stride : size <= 512 ? PAGE_SIZE : 8 * PAGE_SIZE;
	c->per_slab = c->slab_bytes / c->stride;
	c->base = GEN_BASE + ((uint64_t)g->ncls << REGION_SHIFT);
	return (int)g->ncls++;
}

static uint64_t obj_addr(const struct kmb__gen_class *c, uint64_t idx)
{
	return c->base + idx / c->per_slab * c->slab_bytes + idx % c->per_slab * c->stride;
}

static int grow(void *ap, size_t *cap, size_t need, size_t elsize)
{
	void **a = ap, *b;
	size_t n = *cap ? *cap : 64;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (!(b = realloc(*a, n * elsize)))
		return -ENOMEM;
	memset((char *)b + *cap * elsize, 0, (n - *cap) * elsize);
	*a = b;
	*cap = n;
	return 0;
}

static uint64_t obj_take(struct kmb__gen *g, int ci)
{
	struct kmb__gen_class *c = &g->cls[ci];
	uint64_t idx;

	if (c->nfree) {
		idx = c->free[--c->nfree];
	} else {
		idx = c->next;
		if (idx / c->per_slab >= (1ULL << REGION_SHIFT) / c->slab_bytes) {
			kmb__gen_fail(g, -ENOSPC, "address region of %" PRIu64 "-byte objects full",
			              c->stride);
			return 0;
		}
		if (grow(&c->live, &c->livebytes, idx / 8 + 1, 1) < 0) {
			kmb__gen_fail(g, -ENOMEM, "out of memory");
			return 0;
		}
		c->next++;
	}
	c->live[idx / 8] |= (uint8_t)(1u << (idx % 8));
	return obj_addr(c, idx);
}

/* Free ptr, which must be a live object of class want (or any class if want < 0). */
static int obj_put(struct kmb__gen *g, uint64_t ptr, int want)
{
	uint64_t off, in_slab, idx, ci = (ptr - GEN_BASE) >> REGION_SHIFT;
	struct kmb__gen_class *c;

	if (ptr < GEN_BASE || ci >= g->ncls || (want >= 0 && ci != (uint64_t)want))
		return kmb__gen_fail(g, -EINVAL, "free of a foreign pointer %" PRIx64, ptr);
	c = &g->cls[ci];
	off = ptr - c->base;
	in_slab = off % c->slab_bytes;
	idx = off / c->slab_bytes * c->per_slab + in_slab / c->stride;
	if (in_slab % c->stride || idx >= c->next || !(c->live[idx / 8] & (1u << (idx % 8))))
		return kmb__gen_fail(g, -EINVAL, "free of a pointer not live %" PRIx64, ptr);
	if (grow(&c->free, &c->freecap, c->nfree + 1, sizeof(*c->free)) < 0)
		return kmb__gen_fail(g, -ENOMEM, "out of memory");
	c->live[idx / 8] &= (uint8_t) ~(1u << (idx % 8));
	c->free[c->nfree++] = idx;
	return 0;
}

/* ---- events ---------------------------------------------------------------------------- */

void kmb__gen_idle(struct kmb__gen *g, uint64_t ns)
{
	g->now += ns;
}

static int push(struct kmb__gen *g, struct kmb_event *e, unsigned role, unsigned gfp)
{
	struct kmb_trace *t = g->t;

	if (g->rc)
		return g->rc;
	if (grow(&t->ev, &t->cap, t->nev + 1, sizeof(*t->ev)) < 0 ||
	    grow(&g->evx, &g->evxcap, t->nev + 1, sizeof(*g->evx)) < 0)
		return kmb__gen_fail(g, -ENOMEM, "out of memory");
	g->now += kmb__gen_range(g, 100, 1500);
	e->node = -1;
	e->ctx = kmb_irqflags_ctx(g->roles[role].irqflags, strlen(g->roles[role].irqflags));
	e->ts_ns = g->now - g->now % 1000;
	g->evx[t->nev] = (struct kmb__evx){(uint8_t)role, (uint8_t)gfp};
	t->ev[t->nev++] = *e;
	return 0;
}

static int check_emit(struct kmb__gen *g, unsigned cpu, unsigned role, unsigned gfp)
{
	if (g->rc)
		return g->rc;
	if (cpu >= g->o.cpus || role >= g->nroles || gfp >= g->ngfp)
		return kmb__gen_fail(g, -EINVAL, "bad event (cpu %u, role %u, gfp %u)", cpu, role,
		                     gfp);
	return 0;
}

uint64_t kmb__gen_kmalloc(struct kmb__gen *g, unsigned cpu, unsigned role, uint32_t site,
                          uint64_t size, unsigned gfp)
{
	uint64_t alloc = kmb__slub_size(size);
	struct kmb_event e = {.kind = KMB_EV_KMALLOC, .cpu = (uint16_t)cpu, .site = site};
	int ci;

	if (check_emit(g, cpu, role, gfp) < 0 || (ci = class_for(g, alloc, alloc)) < 0)
		return 0;
	e.flags = g->gfp[gfp].flags;
	e.bytes_req = size;
	e.bytes_alloc = alloc;
	if ((e.ptr = obj_take(g, ci)) == 0 || push(g, &e, role, gfp) < 0)
		return 0;
	g->live++;
	return e.ptr;
}

void kmb__gen_kfree(struct kmb__gen *g, unsigned cpu, unsigned role, uint32_t site, uint64_t ptr)
{
	struct kmb_event e = {.kind = KMB_EV_KFREE, .cpu = (uint16_t)cpu, .site = site, .ptr = ptr};

	if (check_emit(g, cpu, role, 0) < 0 || obj_put(g, ptr, -1) < 0 || push(g, &e, role, 0) < 0)
		return;
	g->live--;
}

static int check_cache(struct kmb__gen *g, int cache)
{
	if (cache < 0 || (size_t)cache >= g->ncache)
		return kmb__gen_fail(g, -EINVAL, "bad cache %d", cache);
	return 0;
}

uint64_t kmb__gen_cache_alloc(struct kmb__gen *g, unsigned cpu, unsigned role, uint32_t site,
                              int cache, unsigned gfp)
{
	struct kmb_event e = {.kind = KMB_EV_CACHE_ALLOC, .cpu = (uint16_t)cpu, .site = site};
	const struct kmb__gen_cache *c;

	if (check_emit(g, cpu, role, gfp) < 0 || check_cache(g, cache) < 0)
		return 0;
	c = &g->cache[cache];
	e.cache = c->name;
	e.flags = g->gfp[gfp].flags;
	e.bytes_req = c->obj_size;
	e.bytes_alloc = c->size;
	if ((e.ptr = obj_take(g, c->cls)) == 0 || push(g, &e, role, gfp) < 0)
		return 0;
	g->live++;
	return e.ptr;
}

void kmb__gen_cache_free(struct kmb__gen *g, unsigned cpu, unsigned role, uint32_t site, int cache,
                         uint64_t ptr)
{
	struct kmb_event e = {
	        .kind = KMB_EV_CACHE_FREE, .cpu = (uint16_t)cpu, .site = site, .ptr = ptr};

	if (check_emit(g, cpu, role, 0) < 0 || check_cache(g, cache) < 0)
		return;
	e.cache = g->cache[cache].name;
	if (obj_put(g, ptr, g->cache[cache].cls) < 0 || push(g, &e, role, 0) < 0)
		return;
	g->live--;
}

/* ---- generating ---------------------------------------------------------------------- */

static void gen_release(struct kmb__gen *g)
{
	for (size_t i = 0; i < g->ncls; i++) {
		free(g->cls[i].free);
		free(g->cls[i].live);
	}
	free(g->evx);
}

static int gen_run(struct kmb__gen *g, const struct kmb_workload *w, const struct kmb_gen_opts *o,
                   struct kmb_trace *t, char *err, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	kmb_trace_init(t);
	g->t = t;
	g->w = w;
	g->o = *o;
	g->err = err;
	g->errlen = errlen;
	kmb__seterr(err, errlen, "%s", "");
	if (kmb_workload_resolve(w, &g->o, err, errlen) < 0)
		return -EINVAL;
	find_variant(w, g->o.variant, &g->variant);
	if (t->nstr == 0)
		return kmb__gen_fail(g, -ENOMEM, "out of memory");
	seed_rng(g);
	g->now = 1000000000000ULL + kmb__gen_below(g, 1000000000ULL); /* ~1000 s of uptime */
	w->generate(g);
	if (g->rc == 0 && g->live != 0)
		kmb__gen_fail(g, -EINVAL, "%s left %" PRIu64 " objects live", w->name, g->live);
	return g->rc;
}

int kmb_workload_generate(const struct kmb_workload *w, const struct kmb_gen_opts *o,
                          struct kmb_trace *t, char *err, size_t errlen)
{
	struct kmb__gen g;
	int rc = gen_run(&g, w, o, t, err, errlen);

	gen_release(&g);
	return rc;
}

/* ---- the ftrace text writer ------------------------------------------------------------ */

static const char *const ev_names[] = {[KMB_EV_KMALLOC] = "kmalloc",
                                       [KMB_EV_KFREE] = "kfree",
                                       [KMB_EV_CACHE_ALLOC] = "kmem_cache_alloc",
                                       [KMB_EV_CACHE_FREE] = "kmem_cache_free"};

static const char ftrace_header[] =
        "#\n"
        "#                                _-----=> irqs-off/BH-disabled\n"
        "#                               / _----=> need-resched\n"
        "#                              | / _---=> hardirq/softirq\n"
        "#                              || / _--=> preempt-depth\n"
        "#                              ||| / _-=> migrate-disable\n"
        "#                              |||| /     delay\n"
        "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
        "#              | |         |   |||||     |         |\n";

/* One event line: TASK-PID, CPU, irq flags, timestamp, the event. */
static int write_event(FILE *out, const struct kmb__gen *g, size_t i)
{
	const struct kmb_trace *t = g->t;
	const struct kmb_event *e = &t->ev[i];
	const struct kmb__role *r = &g->roles[g->evx[i].role];
	const char *gfp = g->gfp[g->evx[i].gfp].name;
	char comm[40];

	snprintf(comm, sizeof(comm), r->comm, (unsigned)e->cpu);
	fprintf(out,
	        "%16s-%-7u [%03u] %s %5" PRIu64 ".%06" PRIu64 ": %s: call_site=%s ptr=%016" PRIx64,
	        comm, r->pid + e->cpu * r->pid_stride, (unsigned)e->cpu, r->irqflags,
	        e->ts_ns / UINT64_C(1000000000), e->ts_ns % UINT64_C(1000000000) / 1000,
	        ev_names[e->kind], t->str[e->site], e->ptr);
	if (e->cache)
		fprintf(out, " name=%s", t->str[e->cache]);
	if (kmb_event_is_alloc(e->kind))
		fprintf(out,
		        " bytes_req=%" PRIu64 " bytes_alloc=%" PRIu64
		        " gfp_flags=%s node=%d accounted=%s",
		        e->bytes_req, e->bytes_alloc, gfp, e->node,
		        strstr(gfp, "ACCOUNT") ? "true" : "false");
	return fputc('\n', out) == EOF ? -EIO : 0;
}

static int write_all(const struct kmb__gen *g, FILE *out)
{
	fprintf(out, "# tracer: nop\n#\n# entries-in-buffer/entries-written: %zu/%zu   #P:%u\n",
	        g->t->nev, g->t->nev, g->o.cpus);
	fputs(ftrace_header, out);
	for (size_t i = 0; i < g->t->nev; i++)
		if (write_event(out, g, i) < 0)
			return -EIO;
	return ferror(out) ? -EIO : 0;
}

int kmb_workload_write_ftrace(const struct kmb_workload *w, const struct kmb_gen_opts *o, FILE *out,
                              size_t *nevents, char *err, size_t errlen)
{
	struct kmb__gen g;
	struct kmb_trace t;
	int rc = gen_run(&g, w, o, &t, err, errlen);

	if (rc == 0 && (rc = write_all(&g, out)) < 0)
		kmb__seterr(err, errlen, "write error");
	if (nevents)
		*nevents = t.nev;
	gen_release(&g);
	kmb_trace_free(&t);
	return rc;
}
