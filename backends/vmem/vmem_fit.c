/*
 * backends/vmem/vmem_fit.c - allocation policies and constraints: instant fit, best fit,
 * first fit and next fit, vmem_xalloc's align/phase/nocross/minaddr/maxaddr, importing
 * from the source, and the floors (illumos vmem_alloc, vmem_xalloc, vmem_nextfit_alloc,
 * vmem_canalloc).  vmem.c 3. gives the algorithms and their costs.
 */
#include "vmem_impl.h"

#include <errno.h>

/* ---- floors (the page-source arena's min watermark, vmem.h) ------------------------------- */

bool kmb__vmem_floor_ok(kmb_vmem_t *vmp, size_t size, int flags)
{
	size_t total = vmp->vm_kstat.mem_total, inuse = vmp->vm_kstat.mem_inuse;
	size_t left = total - inuse >= size ? total - inuse - size : 0;

	if (vmp->vm_floor[0] == 0 || (flags & (KMB__VM_INTERNAL | KMB__VM_FLOORED)))
		return true;
	if (total - inuse >= size && left >= vmp->vm_floor[0])
		return true;
	if ((flags & M_USE_RESERVE) && total - inuse >= size && left >= vmp->vm_floor[1]) {
		vmp->vm_kstat.reserve++;
		return true;
	}
	vmp->vm_kstat.floor_fail++;
	return false;
}

/* ---- the constrained search --------------------------------------------------------------- */

struct xreq {
	size_t size, align, phase, nocross;
	uintptr_t minaddr, maxaddr;
	int flags;
};

/*
 * The first list to search: the one whose segments all fit (highbit(size), or log2 of an
 * exact power of two), else - nothing larger is free, or best/first fit - the one whose
 * segments might.  Returns the list + 1, 0 for none.
 */
static int first_list(const kmb_vmem_t *vmp, const struct xreq *r)
{
	int hb;

	if (VMEM_IS_P2(r->size))
		return kmb__lowbit(P2ALIGN(vmp->vm_freemap, (uint64_t)r->size));
	hb = kmb__highbit(r->size);
	if (hb == VMEM_FREELISTS || (vmp->vm_freemap >> hb) == 0 ||
	    (r->flags & (KMB_VM_BESTFIT | KMB_VM_FIRSTFIT)))
		hb--;
	return kmb__lowbit(P2ALIGN(vmp->vm_freemap, (uint64_t)1 << hb));
}

/* Where the request would go in vsp, if it fits there. */
static bool fits_in(const kmb__vmem_seg_t *vsp, const struct xreq *r, uintptr_t *addrp)
{
	uintptr_t start, end, taddr, maxend = r->maxaddr - 1; /* maxaddr 0: no limit */

	if (vsp->vs_end - 1 < r->minaddr || vsp->vs_start > maxend)
		return false;
	start = vsp->vs_start > r->minaddr ? vsp->vs_start : r->minaddr;
	end = (vsp->vs_end - 1 < maxend ? vsp->vs_end - 1 : maxend) + 1;
	taddr = P2PHASEUP(start, r->align, r->phase);
	if (P2BOUNDARY(taddr, r->size, r->nocross))
		taddr += P2ROUNDUP(P2NPHASE(taddr, r->nocross), r->align);
	if (taddr < start || (taddr - start) + r->size > end - start)
		return false;
	*addrp = taddr;
	return true;
}

/* The freelist walk of illumos vmem_xalloc: lists in increasing size from first_list(). */
static kmb__vmem_seg_t *xsearch(kmb_vmem_t *vmp, const struct xreq *r, uintptr_t *addrp)
{
	kmb__vmem_seg_t *vsp, *vbest = NULL;
	int flist = first_list(vmp, r);
	uintptr_t taddr;

	for (vsp = flist == 0 ? NULL : vmp->vm_freelist[flist - 1].vs_knext; vsp != NULL;
	     vsp = vsp->vs_knext) {
		vmp->vm_kstat.search++;
		if (vsp->vs_start == 0) {
			/* a list head: a larger list cannot fit better than what we have */
			if (vbest != NULL)
				break;
			flist = kmb__lowbit(P2ALIGN(vmp->vm_freemap, (uint64_t)VS_SIZE(vsp)));
			if (flist-- == 0)
				break;
			vsp = &vmp->vm_freelist[flist];
			continue;
		}
		if (!fits_in(vsp, r, &taddr) || (vbest != NULL && VS_SIZE(vsp) >= VS_SIZE(vbest)))
			continue;
		vbest = vsp;
		*addrp = taddr;
		if (!(r->flags & KMB_VM_BESTFIT) || VS_SIZE(vbest) == r->size)
			break;
	}
	return vbest;
}

/* Some list certainly holds a segment of size bytes (illumos vmem_canalloc). */
static bool canalloc(const kmb_vmem_t *vmp, size_t size)
{
	int hb;

	if (VMEM_IS_P2(size))
		return kmb__lowbit(P2ALIGN(vmp->vm_freemap, (uint64_t)size)) != 0;
	hb = kmb__highbit(size);
	return hb < VMEM_FREELISTS && kmb__lowbit(P2ALIGN(vmp->vm_freemap, (uint64_t)1 << hb)) != 0;
}

/* ---- importing ----------------------------------------------------------------------------- */

enum import_verdict { IMPORT_DONE, IMPORT_RETRY };

/* Tags the allocation after an import takes: a new span, then a left or a middle piece. */
static ssize_t import_resv(const kmb_vmem_t *vmp, const struct xreq *r)
{
	if (r->phase == 0 && r->align <= vmp->vm_source_quantum)
		return VMEM_SEGS_PER_SPAN_CREATE + 1;
	return VMEM_SEGS_PER_ALLOC_MAX;
}

/*
 * Nothing fits: import a span large enough for the request, the lock dropped meanwhile
 * (illumos vmem_xalloc).  IMPORT_RETRY: search again (someone else made room; an import
 * we no longer need is left in *xaddr for the caller to give back).
 */
static enum import_verdict ximport(kmb_vmem_t *vmp, const struct xreq *r, kmb__vmem_seg_t **vbest,
                                   uintptr_t *addrp, void **xaddr, size_t *xsize)
{
	size_t aquantum =
	        vmp->vm_quantum > vmp->vm_source_quantum ? vmp->vm_quantum : vmp->vm_source_quantum;
	size_t aphase = r->phase, aneeded, asize;
	ssize_t resv = import_resv(vmp, r);
	void *vaddr;

	if (vmp->vm_source_alloc == NULL || r->nocross != 0 || r->minaddr != 0 || r->maxaddr != 0 ||
	    (r->flags & KMB__VM_INTERNAL) || *xaddr != NULL)
		return IMPORT_DONE;
	if (r->align > aquantum && !(vmp->vm_cflags & KMB_VMC_XALIGN))
		aphase = P2PHASE(r->phase, aquantum) != 0 ? r->align - vmp->vm_quantum
		                                          : r->align - aquantum;
	aneeded = r->size + aphase > vmp->vm_min_import ? r->size + aphase : vmp->vm_min_import;
	asize = P2ROUNDUP(aneeded, aquantum);
	if (aneeded < r->size || asize < aneeded)
		return IMPORT_DONE; /* overflow */
	vmp->vm_nsegfree -= resv;
	kmb_mutex_exit(&vmp->vm_lock);
	vaddr = vmp->vm_source_alloc(vmp->vm_source, &asize, r->align, r->flags & M_USE_RESERVE);
	kmb_mutex_enter(&vmp->vm_lock);
	vmp->vm_nsegfree += resv;
	aneeded = P2ROUNDUP(r->size + r->align - vmp->vm_quantum, vmp->vm_quantum);
	if (vaddr == NULL) {
		vmp->vm_kstat.import_fail++;
		return canalloc(vmp, aneeded) ? IMPORT_RETRY : IMPORT_DONE;
	}
	if (asize > aneeded && vmp->vm_source_free != NULL && canalloc(vmp, aneeded)) {
		*xaddr = vaddr;
		*xsize = asize;
		vmp->vm_kstat.excess++;
		return IMPORT_RETRY;
	}
	*vbest = kmb__vmem_span_create(vmp, (uintptr_t)vaddr, asize, true);
	*addrp = P2PHASEUP((*vbest)->vs_start, r->align, r->phase);
	vmp->vm_kstat.imports++;
	return IMPORT_DONE;
}

/* ---- vmem_xalloc --------------------------------------------------------------------------- */

static uintptr_t end_of(const kmb__vmem_seg_t *vsp, uintptr_t maxaddr)
{
	return maxaddr != 0 && maxaddr < vsp->vs_end ? maxaddr : vsp->vs_end;
}

void *kmb__vmem_xalloc_locked(kmb_vmem_t *vmp, size_t size, size_t align, size_t phase,
                              size_t nocross, uintptr_t minaddr, uintptr_t maxaddr, int flags,
                              void **xaddr, size_t *xsize)
{
	struct xreq r = {size, align, phase, nocross, minaddr, maxaddr, flags};
	bool internal = (flags & KMB__VM_INTERNAL) != 0;
	kmb__vmem_seg_t *vbest = NULL;
	uintptr_t addr = 0;

	if (!internal && !kmb__vmem_floor_ok(vmp, size, flags))
		goto fail;
	if (!internal && vmp->vm_nsegfree < VMEM_MINFREE && kmb__vmem_populate(vmp, flags) != 0)
		goto fail;
	for (;;) {
		vbest = xsearch(vmp, &r, &addr);
		if (vbest != NULL || ximport(vmp, &r, &vbest, &addr, xaddr, xsize) != IMPORT_RETRY)
			break;
	}
	if (vbest == NULL)
		goto fail;
	if ((flags & KMB_VM_ENDALLOC) &&
	    nocross == 0) /* as high as the segment and maxaddr allow */
		addr += ((end_of(vbest, maxaddr) - (addr + size)) / align) * align;
	kmb__vmem_seg_alloc(vmp, vbest, addr, size);
	kmb_assert_internal(P2PHASE(addr, align) == phase);
	kmb_assert_internal(!P2BOUNDARY(addr, size, nocross));
	return (void *)addr;
fail:
	vmp->vm_kstat.fail++;
	return NULL;
}

__attribute__((noreturn)) static void xalloc_panic(kmb_vmem_t *vmp, const struct xreq *r,
                                                   const char *why)
{
	kmb_panic(KMB_PANIC_USAGE, NULL, "vmem_xalloc(%s, %zu, %zu, %zu, %zu, %#lx, %#lx, %#x): %s",
	          vmp->vm_name, r->size, r->align, r->phase, r->nocross, (unsigned long)r->minaddr,
	          (unsigned long)r->maxaddr, (unsigned)r->flags, why);
}

/* illumos's three parameter checks, then size 0. */
static void xalloc_check(kmb_vmem_t *vmp, const struct xreq *r)
{
	if ((r->align | r->phase | r->nocross) & (vmp->vm_quantum - 1))
		xalloc_panic(vmp, r, "parameters not vm_quantum aligned");
	if (r->nocross != 0 &&
	    (r->align > r->nocross || P2ROUNDUP(r->phase + r->size, r->align) > r->nocross))
		xalloc_panic(vmp, r, "overconstrained allocation");
	if (r->phase >= r->align || !VMEM_IS_P2(r->align) || (r->nocross & (r->nocross - 1)) != 0)
		xalloc_panic(vmp, r, "parameters inconsistent or invalid");
	if (r->size == 0)
		xalloc_panic(vmp, r, "size == 0");
}

static void *xalloc(kmb_vmem_t *vmp, size_t size, size_t align, size_t phase, size_t nocross,
                    uintptr_t minaddr, uintptr_t maxaddr, int flags)
{
	struct xreq r = {P2ROUNDUP(size, vmp->vm_quantum),
	                 align ? align : vmp->vm_quantum,
	                 phase,
	                 nocross,
	                 minaddr,
	                 maxaddr,
	                 flags};
	void *xaddr = NULL, *p;
	size_t xsize = 0;

	if (r.size < size)
		return NULL; /* rounding overflowed: larger than any arena */
	xalloc_check(vmp, &r);
	kmb_mutex_enter(&vmp->vm_lock);
	p = kmb__vmem_xalloc_locked(vmp, r.size, r.align, r.phase, r.nocross, r.minaddr, r.maxaddr,
	                            r.flags & ~KMB__VM_INTERNAL, &xaddr, &xsize);
	kmb__vmem_hash_maybe_rescale(vmp);
	kmb_mutex_exit(&vmp->vm_lock);
	if (xaddr != NULL)
		vmp->vm_source_free(vmp->vm_source, xaddr, xsize);
	return p;
}

void *kmb_vmem_xalloc(kmb_vmem_t *vmp, size_t size, size_t align, size_t phase, size_t nocross,
                      uintptr_t minaddr, uintptr_t maxaddr, int flags)
{
	kmb__vmem_count(&vmp->vm_calls.xalloc);
	return xalloc(vmp, size, align, phase, nocross, minaddr, maxaddr, flags);
}

/* ---- next fit ------------------------------------------------------------------------------ */

/* The segment right after the rotor fits and stays on its list: carve it behind the rotor. */
static void *nextfit_fast(kmb_vmem_t *vmp, size_t size)
{
	kmb__vmem_seg_t *rotor = &vmp->vm_rotor, *vsp = rotor->vs_anext;
	uintptr_t addr;
	size_t vs_size;

	if (vsp->vs_type != KMB_VMEM_FREE || (vs_size = VS_SIZE(vsp)) <= size ||
	    !P2SAMEHIGHBIT(vs_size, vs_size - size))
		return NULL;
	addr = vsp->vs_start;
	vsp->vs_start = addr + size;
	kmb__vmem_hash_insert(vmp, kmb__vmem_seg_create(vmp, rotor->vs_aprev, addr, addr + size));
	return (void *)addr;
}

/*
 * From the rotor, the first free segment that fits, wrapping around once; then the rotor
 * goes right after the new segment (illumos vmem_nextfit_alloc).  No room: xalloc imports
 * or fails (we never wait).
 */
static void *nextfit_alloc(kmb_vmem_t *vmp, size_t size, int flags)
{
	kmb__vmem_seg_t *rotor = &vmp->vm_rotor, *vsp;
	uintptr_t rel_addr[2] = {0, 0}, addr;
	size_t rel_size[2] = {0, 0};
	void *p = NULL;

	kmb_mutex_enter(&vmp->vm_lock);
	if ((vmp->vm_nsegfree < VMEM_MINFREE && kmb__vmem_populate(vmp, flags) != 0) ||
	    !kmb__vmem_floor_ok(vmp, size, flags)) {
		vmp->vm_kstat.fail++;
		kmb_mutex_exit(&vmp->vm_lock);
		return NULL;
	}
	if ((p = nextfit_fast(vmp, size)) != NULL)
		goto out;
	for (vsp = rotor->vs_anext;; vsp = vsp->vs_anext) {
		vmp->vm_kstat.search++;
		if (vsp->vs_type == KMB_VMEM_FREE && VS_SIZE(vsp) >= size)
			break;
		if (vsp->vs_anext != rotor)
			continue;
		/* full circle: the rotor may be what keeps two free neighbours apart */
		kmb__vmem_advance(vmp, rotor, rotor->vs_anext, &rel_addr[0], &rel_size[0]);
		vsp = rotor->vs_aprev;
		if (vsp->vs_type == KMB_VMEM_FREE && VS_SIZE(vsp) >= size)
			break;
		kmb_mutex_exit(&vmp->vm_lock);
		kmb__vmem_release_span(vmp, rel_addr[0], rel_size[0]);
		return xalloc(vmp, size, vmp->vm_quantum, 0, 0, 0, 0,
		              (flags & ~KMB_VM_POLICY) | KMB__VM_FLOORED);
	}
	addr = vsp->vs_start;
	vsp = kmb__vmem_seg_alloc(vmp, vsp, addr, size);
	kmb__vmem_advance(vmp, rotor, vsp, &rel_addr[1], &rel_size[1]);
	p = (void *)addr;
out:
	kmb__vmem_hash_maybe_rescale(vmp);
	kmb_mutex_exit(&vmp->vm_lock);
	kmb__vmem_release_span(vmp, rel_addr[0], rel_size[0]);
	kmb__vmem_release_span(vmp, rel_addr[1], rel_size[1]);
	return p;
}

/* ---- vmem_alloc ---------------------------------------------------------------------------- */

/* Instant fit's constant-time path: the first segment of the first list that surely fits. */
static int instant_list(kmb_vmem_t *vmp, size_t size, int flags)
{
	int hb;

	if (vmp->vm_nsegfree < VMEM_MINFREE && kmb__vmem_populate(vmp, flags) != 0)
		return 0;
	if (VMEM_IS_P2(size))
		return kmb__lowbit(P2ALIGN(vmp->vm_freemap, (uint64_t)size));
	hb = kmb__highbit(size);
	return hb < VMEM_FREELISTS ? kmb__lowbit(P2ALIGN(vmp->vm_freemap, (uint64_t)1 << hb)) : 0;
}

static void *instantfit_alloc(kmb_vmem_t *vmp, size_t size, int flags)
{
	kmb__vmem_seg_t *vsp;
	uintptr_t addr;
	int flist;

	kmb_mutex_enter(&vmp->vm_lock);
	flist = instant_list(vmp, size, flags);
	if (flist-- == 0) {
		kmb_mutex_exit(&vmp->vm_lock);
		return xalloc(vmp, size, vmp->vm_quantum, 0, 0, 0, 0, flags);
	}
	if (!kmb__vmem_floor_ok(vmp, size, flags)) {
		vmp->vm_kstat.fail++;
		kmb_mutex_exit(&vmp->vm_lock);
		return NULL;
	}
	vsp = vmp->vm_freelist[flist].vs_knext;
	addr = vsp->vs_start;
	kmb__vmem_seg_alloc(vmp, vsp, addr, size);
	kmb__vmem_hash_maybe_rescale(vmp);
	kmb_mutex_exit(&vmp->vm_lock);
	return (void *)addr;
}

void *kmb_vmem_alloc(kmb_vmem_t *vmp, size_t size, int flags)
{
	size_t rsize;

	if (size == 0)
		kmb_panic(KMB_PANIC_USAGE, NULL, "vmem_alloc(%s, 0): size == 0", vmp->vm_name);
	if (size - 1 < vmp->vm_qcache_max)
		return kmb__vmem_qcache_alloc(vmp, size, flags);
	rsize = P2ROUNDUP(size, vmp->vm_quantum);
	if (rsize < size)
		return NULL;
	if (flags & KMB_VM_NEXTFIT) {
		kmb__vmem_count(&vmp->vm_calls.nextfit);
		return nextfit_alloc(vmp, rsize, flags);
	}
	if (flags & (KMB_VM_BESTFIT | KMB_VM_FIRSTFIT)) {
		kmb__vmem_count(flags & KMB_VM_BESTFIT ? &vmp->vm_calls.bestfit
		                                       : &vmp->vm_calls.firstfit);
		return xalloc(vmp, rsize, vmp->vm_quantum, 0, 0, 0, 0, flags);
	}
	kmb__vmem_count(&vmp->vm_calls.instantfit);
	return instantfit_alloc(vmp, rsize, flags);
}

/* ---- importing from another arena (illumos passes vmem_alloc/vmem_free as afunc/ffunc) --- */

void *kmb_vmem_import(void *source, size_t *sizep, size_t align, int flags)
{
	(void)align;
	return kmb_vmem_alloc(source, *sizep, flags & M_USE_RESERVE);
}

void kmb_vmem_release(void *source, void *addr, size_t size)
{
	kmb_vmem_free(source, addr, size);
}
