/*
 * core/page_frag.c - the default page source's external fragmentation indices, exactly as
 * Linux computes them in mm/vmstat.c for /sys/kernel/debug/extfrag/{unusable_index,
 * extfrag_index}.
 *
 * Both start from the free-list lengths nr_free[order] (fill_contig_page_info):
 *     free_pages           = sum nr_free[o] << o
 *     free_blocks_total    = sum nr_free[o]
 *     free_blocks_suitable = sum over o >= order of nr_free[o] << (o - order)
 *                            (free blocks of the requested order the lists could yield)
 *
 * Unusable free space index (Gorman & Whitcroft; unusable_free_index), in thousandths:
 *     1000 when nothing is free, else
 *     (free_pages - (free_blocks_suitable << order)) * 1000 / free_pages
 * the share of free memory that cannot serve a request of this order: 0 = none, 1000 = all.
 *
 * Fragmentation index (Gorman; __fragmentation_index), meaningful only when the request
 * would fail:
 *     0      when no block is free, or the order is beyond the largest
 *     -1000  when a suitable block exists (the request would succeed)
 *     else   1000 - (1000 + free_pages * 1000 / 2^order) / free_blocks_total
 * towards 0 the failure is a lack of memory, towards 1000 it is fragmentation.  The
 * divisions are integer divisions (div_u64), in that order.  Linux prints index / 1000
 * and index % 1000 as "%d.%03d".
 *
 * Linux reports each zone; kmb_buddy_* sum the free lists of all zones (one zone per
 * node: with one node the figures are the zone's), and ignore per-CPU lists as Linux does.
 */
#include "page_alloc.h"

struct contig_page_info {
	uint64_t free_pages, free_blocks_total, free_blocks_suitable;
};

static void fill_contig_page_info(const size_t nr_free[], unsigned norders, unsigned suitable_order,
                                  struct contig_page_info *info)
{
	info->free_pages = 0;
	info->free_blocks_total = 0;
	info->free_blocks_suitable = 0;
	for (unsigned o = 0; o < norders; o++) {
		uint64_t blocks = nr_free[o];

		info->free_blocks_total += blocks;
		info->free_pages += blocks << o;
		if (o >= suitable_order)
			info->free_blocks_suitable += blocks << (o - suitable_order);
	}
}

static int unusable_free_index(unsigned order, const struct contig_page_info *info)
{
	uint64_t usable = 0;

	if (info->free_pages == 0)
		return 1000;
	if (info->free_blocks_suitable != 0) /* nonzero only for order < norders: no UB shift */
		usable = info->free_blocks_suitable << order;
	return (int)((info->free_pages - usable) * 1000 / info->free_pages);
}

static int fragmentation_index(unsigned order, const struct contig_page_info *info)
{
	uint64_t requested = (uint64_t)1 << order;

	if (info->free_blocks_total == 0)
		return 0;
	if (info->free_blocks_suitable != 0)
		return -1000;
	return 1000 - (int)((1000 + info->free_pages * 1000 / requested) / info->free_blocks_total);
}

int kmb_frag_unusable_index(const size_t nr_free[], unsigned norders, unsigned order)
{
	struct contig_page_info info;

	fill_contig_page_info(nr_free, norders, order, &info);
	return unusable_free_index(order, &info);
}

int kmb_frag_index(const size_t nr_free[], unsigned norders, unsigned order)
{
	struct contig_page_info info;

	if (norders == 0 || order >= norders) /* WARN_ON_ONCE(order > MAX_ORDER) */
		return 0;
	fill_contig_page_info(nr_free, norders, order, &info);
	return fragmentation_index(order, &info);
}

static void buddyinfo(const struct kmb_buddy *b, size_t nr_free[KMB_BUDDY_NR_ORDERS])
{
	for (unsigned o = 0; o < KMB_BUDDY_NR_ORDERS; o++)
		nr_free[o] = kmb_buddy_nr_free(b, o);
}

int kmb_buddy_unusable_index(const struct kmb_buddy *b, unsigned order)
{
	size_t nr_free[KMB_BUDDY_NR_ORDERS];

	buddyinfo(b, nr_free);
	return kmb_frag_unusable_index(nr_free, KMB_BUDDY_NR_ORDERS, order);
}

int kmb_buddy_fragmentation_index(const struct kmb_buddy *b, unsigned order)
{
	size_t nr_free[KMB_BUDDY_NR_ORDERS];

	buddyinfo(b, nr_free);
	return kmb_frag_index(nr_free, KMB_BUDDY_NR_ORDERS, order);
}
