/*
 * workloads/gen_exhaust.c - `exhaust`: memory driven below the watermarks, so that every
 * failure path of the allocator runs: M_NOWAIT failures, reserve use, M_NOFAIL retries
 * and M_WAITOK sleeps.
 *
 * Theory.  Linux keeps three watermarks per zone (mm/page_alloc.c): an ordinary request
 * may take the zone down to `min` = min_free_kbytes (int_sqrt(16 * memory in KiB)) worth
 * of pages; GFP_ATOMIC (ALLOC_HIGH, and ALLOC_HARDER before 6.3) may go to min / 2, then
 * 3/4 of that - the reserve that lets interrupt handlers make progress when everything
 * else is stuck; __GFP_NOFAIL callers loop, and may also dip into the reserve
 * (__alloc_pages_cpuset_fallback / ALLOC_MIN_RESERVE); sleeping callers reclaim and wait.
 * kmbench's buddy page allocator implements those marks (for the default 256 MiB: min 512
 * pages, reserve floor 192) and its core does the rest (core/kmalloc.c): M_NOWAIT fails,
 * M_NOFAIL retries with M_USE_RESERVE (counted in nofail_retries), M_WAITOK drains the
 * per-CPU lists and sleeps until another thread frees (counted in sleeps).
 *
 * The trace is designed for a memory size, --mem (default 32M: min 181 pages, reserve
 * floor 69, kmb__exhaust_wmarks), and should be replayed with the same --mem (a smaller
 * one works too; a larger one never runs short).  Every request is recorded as satisfied
 * (the trace is the demand): the failures are the replaying allocator's.  Actors: CPU 0
 * takes network interrupts (GFP_ATOMIC skbs) and runs kswapd0; the other CPUs ("fillers";
 * with --cpus 1, CPU 0 too) run a dm-bufio-like block cache that grows opportunistically.
 *
 *   0. Each filler allocates 8 struct dm_buffer bookkeeping objects (GFP_NOWAIT, plenty
 *      of memory yet).
 *   1. Fill: the fillers allocate 1.25 * --mem / 4 KiB + 256 buffers of 4 KiB with
 *      dm-bufio's opportunistic GFP_NOWAIT|__GFP_NORETRY|__GFP_NOMEMALLOC|__GFP_NOWARN
 *      (M_NOWAIT|M_NORETRY).  Replayed, they succeed until the zone reaches `min`, then
 *      fail: M_NOWAIT failures, and memory is left pinned exactly at the min watermark
 *      whatever the backend's overheads (the fill overshoots).  Meanwhile CPU 0 receives
 *      packets (skb head + 512-704 bytes, GFP_ATOMIC, freed a few packets later): the
 *      background churn, as long as --events asks and at least two packets per buffer
 *      of a filler (so the trace has at least about 2.5 + 10 / fillers times
 *      --mem / 4 KiB events, whatever --events says: 105000 for 32M and 2 CPUs).
 *   2. M_NOFAIL: a few journal buffers, kmalloc(4096, GFP_NOFS|__GFP_NOFAIL) as jbd2's
 *      do_get_write_access() asks for frozen buffers (jbd2_alloc() takes a page for a
 *      4 KiB block; a kmalloc here so that every backend serves it): at most reserve / 4
 *      in all.  The zone is at min, so the ordinary attempt fails and the retry from the
 *      reserve succeeds: nofail_retries, and the page allocator's reserve_alloc.
 *   3. Reserve: a burst of 4 * reserve + 64 packets on CPU 0, GFP_ATOMIC (skb head +
 *      1856-2048 bytes): they dig into the reserve (reserve_alloc) down to its floor and
 *      then fail (M_NOWAIT failures with M_USE_RESERVE).  CPU 0 then drops them all.
 *   4. Reclaim: kswapd0 on CPU 0 frees each filler's newest buffer (see reclaim()),
 *      then its oldest ones, 2 * (8 + its NOFAIL count) + 8 of them: twice what it will
 *      ask for.  They are the round-robin start of the fill, allocated while memory was
 *      plentiful; --mem must hold them, 512 KiB per filler (kmb__exhaust_check: 32M is
 *      enough for --cpus 64).
 *   5. M_WAITOK: each filler frees a dm_buffer and at once allocates a buffer with
 *      GFP_NOIO (M_WAITOK), 8 times.
 *   6. CPU 0 frees what is left (the cache torn down).  Not the fillers themselves: in
 *      a multi-thread replay fillers on different threads run out of phase, and one that
 *      freed its own buffers could do so before another has filled; freed by CPU 0 after
 *      step 4 (which waits until every filler has filled), all of them are live
 *      together and memory runs out whatever the thread mapping.
 *
 * The replay plan gives an allocation the slot most recently freed, and a multi-thread
 * replay makes an allocation wait for the free of its slot's previous object when another
 * thread did it.  So that the fillers never wait for CPU 0 (and can race ahead), every
 * free of CPU 0 before step 4 is followed at once by CPU 0's own allocations (the churn
 * frees a packet and receives one; the churn's last packets are freed just before the
 * burst), and each M_WAITOK allocation comes right after its own CPU's dm_buffer free.
 * CPU 0 waits for the fillers only in steps 4 (for the fill) and 6.
 *
 * What a replay shows (buddy or bucket, --mem as generated):
 *   - single thread (the default, or --order strict): failed_allocs > 0 (fill and burst),
 *     nofail_retries > 0, reserve_alloc > 0 in backend_stats, sleeps == 0, no deadlock:
 *     in trace order every M_WAITOK comes after the frees of step 4 (it may drain the
 *     per-CPU lists, but it does not sleep) and every M_NOFAIL finds the reserve intact.
 *   - --threads 2 or more with --cpus 2 or more (dependency order, as fast as possible):
 *     the fillers race ahead to step 5 (and sometimes step 2) while CPU 0 is still busy
 *     with the churn (at least eight times as many operations as a filler's fill) and the
 *     burst; they find memory at the watermark and sleep until kswapd0's frees wake them:
 *     sleeps > 0, how many depending on the schedule (each wakeup by a churn free that
 *     does not help is another sleep).  Reliably so when every CPU has its own thread
 *     (--threads >= --cpus); a filler sharing CPU 0's thread comes after step 4 in that
 *     thread's order and cannot sleep.  No deadlock: before step 4 CPU 0 only allocates
 *     with GFP_ATOMIC and waits for no one; step 4 waits for fills, which never sleep;
 *     after it, memory for every M_WAITOK and M_NOFAIL request has been freed.
 */
#include "workloads/gen.h"

#include <errno.h>
#include <inttypes.h>
#include <kmbench/kmalloc.h>
#include <stdio.h>
#include <stdlib.h>

#define PAGE_SIZE 4096u
#define NBOOK     8 /* dm_buffers per filler = M_WAITOK requests per filler */
#define BUF_SIZE  4096u

enum { ROLE_RX, ROLE_KSWAPD, ROLE_BUFIO, ROLE_JBD2 };

static const struct kmb__role roles[] = {
        [ROLE_RX] = {"<idle>", 0, 0, "..s1."},
        [ROLE_KSWAPD] = {"kswapd0", 90, 0, "....."},
        [ROLE_BUFIO] = {"kworker/%u:1", 200, 3, "....."},
        [ROLE_JBD2] = {"jbd2/sda1-8", 480, 0, "....."},
};

struct vec {
	uint64_t *v;
	size_t n, cap;
};

struct filler {
	unsigned cpu;
	struct vec fill, keep; /* fill buffers (oldest first); NOFAIL and M_WAITOK ones */
	uint64_t book[NBOOK];
	unsigned nofail;
	size_t reclaim;   /* kswapd0 frees fill[0..reclaim) */
	size_t reclaimed; /* ... of which these are freed so far */
};

struct pkt {
	uint64_t head, data;
};

struct exgen {
	struct kmb__gen *g;
	struct filler *f;
	unsigned nf;
	uint64_t min, floor, nfill, nchurn, nburst, nfront;
	int c_skb, c_book;
	uint32_t s_head, s_data, s_drop, s_drop_head, s_book, s_book_free, s_buf, s_buf_free,
	        s_jbd2, s_jbd2_free;
	unsigned gfp_atomic, gfp_opportunistic, gfp_nofail, gfp_noio;
	struct pkt ring[8]; /* CPU 0's packets in flight during the churn */
	unsigned nring;
};

static uint64_t isqrt(uint64_t x)
{
	uint64_t r = 0;

	for (uint64_t b = 1ULL << 62; b; b >>= 2) {
		if (x >= r + b) {
			x -= r + b;
			r = (r >> 1) + b;
		} else {
			r >>= 1;
		}
	}
	return r;
}

void kmb__exhaust_wmarks(uint64_t mem_bytes, uint64_t *min_pages, uint64_t *floor_pages)
{
	uint64_t mfk = isqrt((mem_bytes >> 10) * 16), mark;

	mfk = mfk < 128 ? 128 : mfk > 262144 ? 262144 : mfk;
	*min_pages = mfk >> 2; /* PAGE_SHIFT - 10 */
	mark = *min_pages - *min_pages / 2;
	*floor_pages = mark - mark / 4;
}

static int vec_push(struct kmb__gen *g, struct vec *v, uint64_t x)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 64;
		uint64_t *b = realloc(v->v, cap * sizeof(*b));

		if (!b)
			return kmb__gen_fail(g, -ENOMEM, "out of memory");
		v->v = b;
		v->cap = cap;
	}
	v->v[v->n++] = x;
	return 0;
}

/* ---- CPU 0: packets --------------------------------------------------------------------- */

static struct pkt rx(struct exgen *x, uint64_t lo, uint64_t hi)
{
	struct kmb__gen *g = x->g;
	struct pkt p;

	p.head = kmb__gen_cache_alloc(g, 0, ROLE_RX, x->s_head, x->c_skb, x->gfp_atomic);
	p.data = kmb__gen_kmalloc(g, 0, ROLE_RX, x->s_data, kmb__gen_range(g, lo, hi),
	                          x->gfp_atomic);
	return p;
}

static void drop(struct exgen *x, struct pkt p)
{
	kmb__gen_kfree(x->g, 0, ROLE_RX, x->s_drop, p.data);
	kmb__gen_cache_free(x->g, 0, ROLE_RX, x->s_drop_head, x->c_skb, p.head);
}

/* One packet of background traffic: received, and the oldest in flight freed. */
static void churn(struct exgen *x)
{
	if (x->nring == sizeof(x->ring) / sizeof(x->ring[0])) {
		drop(x, x->ring[0]);
		for (unsigned i = 1; i < x->nring; i++)
			x->ring[i - 1] = x->ring[i];
		x->nring--;
	}
	x->ring[x->nring++] = rx(x, 512, 704);
}

static void burst(struct exgen *x)
{
	struct pkt *p = malloc(x->nburst * sizeof(*p));

	if (!p) {
		kmb__gen_fail(x->g, -ENOMEM, "out of memory");
		return;
	}
	while (x->nring) /* the churn's last packets, just before CPU 0 allocates again */
		drop(x, x->ring[--x->nring]);
	for (uint64_t i = 0; i < x->nburst; i++)
		p[i] = rx(x, 1856, 2048);
	kmb__gen_idle(x->g, 50000);
	for (uint64_t i = 0; i < x->nburst; i++)
		drop(x, p[i]);
	free(p);
}

/* ---- the fillers ------------------------------------------------------------------------ */

static void fill_one(struct exgen *x, struct filler *f)
{
	uint64_t p = kmb__gen_kmalloc(x->g, f->cpu, ROLE_BUFIO, x->s_buf, BUF_SIZE,
	                              x->gfp_opportunistic);

	vec_push(x->g, &f->fill, p);
}

/*
 * Phase 1: the fillers' buffers, round-robin for the first nfront (those kswapd0 frees
 * later: allocated while memory is plentiful), then on random fillers; CPU 0's churn
 * mixed in proportionally.
 */
static void fill(struct exgen *x)
{
	uint64_t fills = 0, churns = x->nchurn;

	while ((fills < x->nfill || churns) && x->g->rc == 0) {
		if (kmb__gen_below(x->g, x->nfill - fills + churns) < churns) {
			churn(x);
			churns--;
		} else {
			unsigned i = fills < x->nfront ? (unsigned)(fills % x->nf)
			                               : (unsigned)kmb__gen_below(x->g, x->nf);

			fill_one(x, &x->f[i]);
			fills++;
		}
	}
}

static void nofail(struct exgen *x)
{
	for (unsigned i = 0; i < x->nf; i++) {
		struct filler *f = &x->f[i];

		for (unsigned j = 0; j < f->nofail; j++)
			vec_push(x->g, &f->keep,
			         kmb__gen_kmalloc(x->g, f->cpu, ROLE_JBD2, x->s_jbd2, BUF_SIZE,
			                          x->gfp_nofail));
	}
}

/*
 * Phase 4.  First the newest buffer of each filler: a multi-thread replay's CPU 0 waits
 * there until every filler has finished filling, so that no late M_NOWAIT fill takes the
 * memory freed next, which the M_WAITOK requests need.
 */
static void reclaim(struct exgen *x)
{
	for (unsigned i = 0; i < x->nf; i++) {
		struct filler *f = &x->f[i];

		if (f->fill.n > f->reclaim)
			kmb__gen_kfree(x->g, 0, ROLE_KSWAPD, x->s_buf_free, f->fill.v[--f->fill.n]);
	}
	for (unsigned i = 0; i < x->nf; i++) {
		struct filler *f = &x->f[i];

		for (; f->reclaimed < f->reclaim && f->reclaimed < f->fill.n; f->reclaimed++)
			kmb__gen_kfree(x->g, 0, ROLE_KSWAPD, x->s_buf_free,
			               f->fill.v[f->reclaimed]);
	}
}

/* Phase 5: free a dm_buffer, then at once the sleeping allocation (same slot). */
static void waitok(struct exgen *x)
{
	for (unsigned j = 0; j < NBOOK; j++)
		for (unsigned i = 0; i < x->nf; i++) {
			struct filler *f = &x->f[i];

			kmb__gen_cache_free(x->g, f->cpu, ROLE_BUFIO, x->s_book_free, x->c_book,
			                    f->book[j]);
			vec_push(x->g, &f->keep,
			         kmb__gen_kmalloc(x->g, f->cpu, ROLE_BUFIO, x->s_buf, BUF_SIZE,
			                          x->gfp_noio));
		}
}

/* Phase 6: the cache torn down, by CPU 0. */
static void cleanup(struct exgen *x)
{
	for (unsigned i = 0; i < x->nf && x->g->rc == 0; i++) {
		struct filler *f = &x->f[i];

		for (size_t j = f->reclaimed; j < f->fill.n; j++)
			kmb__gen_kfree(x->g, 0, ROLE_KSWAPD, x->s_buf_free, f->fill.v[j]);
		for (size_t j = 0; j < f->keep.n; j++)
			kmb__gen_kfree(x->g, 0, ROLE_KSWAPD, x->s_jbd2_free, f->keep.v[j]);
	}
}

/* ---- set-up ----------------------------------------------------------------------------- */

static void names(struct exgen *x)
{
	struct kmb__gen *g = x->g;

	x->c_skb = kmb__gen_cache(g, "skbuff_head_cache", 232, 256);
	x->c_book = kmb__gen_cache(g, "dm_bufio_buffer", 112, 112);
	x->s_head = kmb__gen_site(g, "__alloc_skb+0x8c/0x1e0");
	x->s_data = kmb__gen_site(g, "__alloc_skb+0xa9/0x1e0");
	x->s_drop = kmb__gen_site(g, "skb_free_head+0x96/0xb0");
	x->s_drop_head = kmb__gen_site(g, "kfree_skb_reason+0x4d/0xd0");
	x->s_book = kmb__gen_site(g, "alloc_buffer+0x27/0x150");
	x->s_book_free = kmb__gen_site(g, "free_buffer+0x3e/0x70");
	x->s_buf = kmb__gen_site(g, "alloc_buffer_data+0x6e/0x150");
	x->s_buf_free = kmb__gen_site(g, "free_buffer_data+0x2b/0x60");
	x->s_jbd2 = kmb__gen_site(g, "do_get_write_access+0x2d1/0x4c0");
	x->s_jbd2_free = kmb__gen_site(g, "kfree+0x7d/0x120");
	x->gfp_atomic = kmb__gen_gfp(g, "GFP_ATOMIC|__GFP_NOWARN", M_NOWAIT | M_USE_RESERVE);
	x->gfp_opportunistic = kmb__gen_gfp(
	        g, "GFP_NOWAIT|__GFP_NORETRY|__GFP_NOMEMALLOC|__GFP_NOWARN", M_NOWAIT | M_NORETRY);
	x->gfp_nofail = kmb__gen_gfp(g, "GFP_NOFS|__GFP_NOFAIL", M_WAITOK | M_NOFAIL);
	x->gfp_noio = kmb__gen_gfp(g, "GFP_NOIO", M_WAITOK);
}

/* Buffers kswapd0 frees for a filler: twice what it asks for later, and some. */
static size_t reclaim_count(unsigned nofail)
{
	return 2 * (NBOOK + nofail) + 8; /* at most 32 */
}

static unsigned fillers(unsigned cpus)
{
	return cpus > 1 ? cpus - 1 : 1;
}

/*
 * The buffers kswapd0 frees must have been allocated: the round-robin start of the fill,
 * at most 32 per filler, must fit in half the memory even with INVARIANTS doubling each
 * 4 KiB block, so 128 pages (512 KiB) per filler.
 */
int kmb__exhaust_check(const struct kmb_gen_opts *o, char *err, size_t errlen)
{
	uint64_t need = 128ULL * PAGE_SIZE * fillers(o->cpus);

	if (o->mem_bytes >= need)
		return 0;
	snprintf(err, errlen, "exhaust: --mem of %u CPUs must be at least %" PRIu64 "K", o->cpus,
	         need >> 10);
	return -EINVAL;
}

/* Sizes of the phases from --mem, --cpus and --events (see the theory above). */
static void plan(struct exgen *x)
{
	struct kmb__gen *g = x->g;
	uint64_t pages = g->o.mem_bytes / PAGE_SIZE, reserve, nofail, fixed;

	kmb__exhaust_wmarks(g->o.mem_bytes, &x->min, &x->floor);
	reserve = x->min - x->floor;
	x->nfill = pages + pages / 4 + 256;
	x->nburst = 4 * reserve + 64;
	nofail = 4ULL * x->nf < reserve / 4 ? 4ULL * x->nf : reserve / 4;
	for (uint64_t i = 0; i < nofail; i++)
		x->f[i % x->nf].nofail++;
	for (unsigned i = 0; i < x->nf; i++) {
		x->f[i].reclaim = reclaim_count(x->f[i].nofail);
		x->nfront =
		        x->nfront > x->f[i].reclaim * x->nf ? x->nfront : x->f[i].reclaim * x->nf;
	}
	fixed = 2 * x->nfill + 4ULL * NBOOK * x->nf + 2 * nofail + 4 * x->nburst;
	x->nchurn = g->o.events > fixed ? (g->o.events - fixed) / 4 : 0;
	if (x->nchurn < 2 * x->nfill / x->nf) /* 4 operations a packet: 8 times a filler's */
		x->nchurn = 2 * x->nfill / x->nf;
}

static int setup(struct exgen *x)
{
	struct kmb__gen *g = x->g;

	g->roles = roles;
	g->nroles = sizeof(roles) / sizeof(roles[0]);
	x->nf = fillers(g->o.cpus);
	x->f = calloc(x->nf, sizeof(*x->f));
	if (!x->f)
		return kmb__gen_fail(g, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < x->nf; i++)
		x->f[i].cpu = g->o.cpus > 1 ? i + 1 : 0;
	names(x);
	plan(x);
	return g->rc;
}

int kmb__gen_exhaust(struct kmb__gen *g)
{
	struct exgen x = {.g = g};

	if (setup(&x) == 0) {
		for (unsigned j = 0; j < NBOOK; j++)
			for (unsigned i = 0; i < x.nf; i++)
				x.f[i].book[j] =
				        kmb__gen_cache_alloc(g, x.f[i].cpu, ROLE_BUFIO, x.s_book,
				                             x.c_book, x.gfp_opportunistic);
		fill(&x);
		nofail(&x);
		burst(&x);
		reclaim(&x);
		waitok(&x);
		cleanup(&x);
	}
	for (unsigned i = 0; x.f && i < x.nf; i++) {
		free(x.f[i].fill.v);
		free(x.f[i].keep.v);
	}
	free(x.f);
	return g->rc;
}
