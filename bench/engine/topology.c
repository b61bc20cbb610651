/*
 * bench/engine/topology.c - the machine's topology and thread placement, through hwloc (the only
 * file that calls it).
 *
 * 1. A topology is the real machine (default), an hwloc synthetic description
 *    ("node:2 core:2 pu:1", hwloc_topology_set_synthetic) or an hwloc XML file (a path
 *    ending in .xml, read by read_xml below, bounded, and given to hwloc as a buffer).  Only
 *    the real machine's is "real": threads
 *    are bound to its PUs; on the others binding is skipped (and said), but their NUMA
 *    nodes still split simulated memory and decide where a thread allocates first.
 * 2. Placement of N threads on the PUs: "spread" takes PUs round-robin across NUMA nodes,
 *    then across cores within a node (fills every node before doubling up); "compact"
 *    takes them in hwloc's logical order (fills a node first).  More threads than PUs wrap.
 */
#include "engine.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hwloc.h>

static unsigned pu_node_of(hwloc_obj_t pu)
{
	hwloc_obj_t o = pu;

	while (o && o->memory_arity == 0)
		o = o->parent;
	if (o == NULL || o->memory_first_child == NULL)
		return 0;
	return o->memory_first_child->logical_index;
}

/*
 * hwloc builds every object a synthetic description implies: "pu:100000000" would take
 * all memory and minutes.  So the product of the arities ("type:N") is bounded first;
 * 4096 PUs is far more than any machine kmbench replays on (KMB_MAX_CPUS threads).
 */
#define KMB_TOPO_MAX_OBJS 4096

/* One "TYPE:N" of a synthetic description, with at most a "(memory=SIZE)" attribute; *total is
 * multiplied by N.  Returns the character after the token, or NULL when it is not one. */
static const char *synthetic_token(const char *p, unsigned long long *total)
{
	unsigned long long n = 0;

	if (!isalpha((unsigned char)*p))
		return NULL;
	while (isalnum((unsigned char)*p))
		p++;
	if (*p++ != ':' || !isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p) && n <= KMB_TOPO_MAX_OBJS)
		n = n * 10 + (unsigned)(*p++ - '0');
	if (isdigit((unsigned char)*p) || n == 0 || (*total *= n) > KMB_TOPO_MAX_OBJS)
		return NULL;
	if (*p != '(')
		return p;
	if (strncmp(p, "(memory=", 8) != 0 || !isdigit((unsigned char)p[8]))
		return NULL;
	for (p += 8; isalnum((unsigned char)*p);)
		p++;
	return *p == ')' ? p + 1 : NULL;
}

/*
 * Only the part of hwloc's synthetic grammar a replay needs is accepted - blank-separated
 * "TYPE:N" tokens, each with at most a "(memory=SIZE)" attribute - and the product of the
 * counts is bounded before hwloc sees it.  hwloc's own parser reads counts in places a
 * lenient pre-check misses (inside attributes, after unbalanced parentheses: "no(de:2585
 * co\2175)8..." took minutes, found by fuzz-topology), and "indexes=" lists may name PUs
 * up to 2^32: neither is accepted.
 */
static bool synthetic_ok(const char *spec)
{
	unsigned long long total = 1;
	const char *p = spec;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return true;
		if ((p = synthetic_token(p, &total)) == NULL)
			return false;
		if (*p != ' ' && *p != '\t' && *p != '\0')
			return false;
	}
}

/*
 * An hwloc XML file is read here, whole and bounded, and handed to hwloc as a buffer
 * (hwloc_topology_set_xmlbuffer), so hwloc never opens the path: opened with O_NONBLOCK (a
 * FIFO with no writer does not block the open) and refused unless fstat says a regular
 * file (a FIFO blocked forever, /dev/zero read without end) of at most KMB_TOPO_MAX_XML
 * bytes.  lstopo writes about 700 bytes per PU with its core and caches, so 4096 PUs
 * (KMB_TOPO_MAX_OBJS) take under 3 MiB: 8 MiB leaves room for I/O devices and attributes.
 * The size read is the one fstat gave; a file that grows meanwhile is read up to it.
 */
#define KMB_TOPO_MAX_XML (8u << 20)

/* Why fd (opened from path) is not an XML file to read, or NULL. */
static const char *not_xml_file(int fd, struct stat *st)
{
	if (fstat(fd, st) != 0)
		return strerror(errno);
	if (S_ISFIFO(st->st_mode))
		return "a FIFO, not a regular file (an .xml is read whole)";
	if (S_ISCHR(st->st_mode))
		return "a character device, not a regular file (an .xml is read whole)";
	if (!S_ISREG(st->st_mode))
		return "not a regular file (an .xml is read whole)";
	if (st->st_size > KMB_TOPO_MAX_XML)
		return "larger than the 8 MiB an hwloc XML of 4096 PUs needs";
	return NULL;
}

static char *read_xml(const char *path, size_t *n, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	const char *why = fd < 0 ? strerror(errno) : NULL;
	struct stat st;
	char *buf = NULL;
	int rc;

	*n = 0;
	if (!why && !(why = not_xml_file(fd, &st)) && !(buf = malloc((size_t)st.st_size + 1)))
		why = strerror(ENOMEM);
	if (buf && (rc = kmb__pread_upto(fd, buf, (size_t)st.st_size, n)) < 0) {
		why = strerror(-rc);
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[*n] = '\0';
	if (fd >= 0)
		close(fd);
	if (why)
		snprintf(err, errlen, "bad --topology '%s': %s", path, why);
	return buf;
}

static bool is_xml(const char *spec, size_t len)
{
	return len > 4 && strcmp(spec + len - 4, ".xml") == 0;
}

static int load(struct kmb_topo *tp, const char *spec, char *err, size_t errlen)
{
	size_t len = spec ? strlen(spec) : 0, nxml = 0;
	char *xml = NULL;
	int rc = 0;

	if (len && !is_xml(spec, len) && !synthetic_ok(spec)) {
		snprintf(err, errlen,
		         "bad --topology '%s': not blank-separated TYPE:N[(memory=SIZE)] tokens "
		         "(e.g. \"node:2 core:2 pu:1\") of at most %d objects in all",
		         spec, KMB_TOPO_MAX_OBJS);
		return -EINVAL;
	}
	if (is_xml(spec, len) && (xml = read_xml(spec, &nxml, err, errlen)) == NULL)
		return -EINVAL;
	if (hwloc_topology_init((hwloc_topology_t *)&tp->h) != 0) {
		snprintf(err, errlen, "hwloc: cannot initialise a topology");
		free(xml);
		return -ENOMEM;
	}
	if (xml)
		rc = hwloc_topology_set_xmlbuffer(tp->h, xml, (int)nxml + 1);
	else if (len)
		rc = hwloc_topology_set_synthetic(tp->h, spec);
	if (rc == 0)
		rc = hwloc_topology_load(tp->h);
	free(xml);
	if (rc == 0 && hwloc_get_nbobjs_by_type(tp->h, HWLOC_OBJ_PU) > KMB_TOPO_MAX_OBJS) {
		snprintf(err, errlen, "bad --topology '%s': more than %d PUs", spec,
		         KMB_TOPO_MAX_OBJS);
		hwloc_topology_destroy(tp->h);
		return -EINVAL;
	}
	if (rc != 0) {
		snprintf(err, errlen,
		         "bad --topology '%s': not an hwloc synthetic description "
		         "(e.g. \"node:2 core:2 pu:1\") nor a readable .xml file",
		         spec);
		hwloc_topology_destroy(tp->h);
		return -EINVAL;
	}
	tp->real = len == 0;
	return 0;
}

int kmb_topo_load(struct kmb_topo *tp, const char *spec, char *err, size_t errlen)
{
	int rc, npus;

	memset(tp, 0, sizeof(*tp));
	if ((rc = load(tp, spec, err, errlen)) != 0)
		return rc;
	npus = hwloc_get_nbobjs_by_type(tp->h, HWLOC_OBJ_PU);
	tp->nnodes = (unsigned)hwloc_get_nbobjs_by_type(tp->h, HWLOC_OBJ_NUMANODE);
	if (tp->nnodes == 0)
		tp->nnodes = 1;
	if (npus <= 0 || tp->nnodes > KMB_MAX_NODES) {
		snprintf(err, errlen,
		         "topology with %d PUs and %u NUMA nodes: kmbench takes "
		         "1.. PUs and at most %d nodes",
		         npus, tp->nnodes, KMB_MAX_NODES);
		hwloc_topology_destroy(tp->h);
		return -EINVAL;
	}
	tp->npus = (unsigned)npus > KMB_MAX_CPUS ? KMB_MAX_CPUS : (unsigned)npus;
	for (unsigned i = 0; i < tp->npus; i++)
		tp->pu_node[i] = pu_node_of(hwloc_get_obj_by_type(tp->h, HWLOC_OBJ_PU, i));
	snprintf(tp->desc, sizeof(tp->desc), "%s: numa:%u core:%d pu:%d",
	         tp->real ? "machine" : spec, tp->nnodes,
	         hwloc_get_nbobjs_by_type(tp->h, HWLOC_OBJ_CORE), npus);
	return 0;
}

void kmb_topo_free(struct kmb_topo *tp)
{
	hwloc_topology_destroy(tp->h);
	memset(tp, 0, sizeof(*tp));
}

/* PU index (logical) for each of n threads. */
void kmb_topo_place(const struct kmb_topo *tp, unsigned n, bool compact, unsigned *pu)
{
	unsigned used[KMB_MAX_NODES] = {0};

	for (unsigned i = 0; i < n; i++) {
		unsigned node = i % tp->nnodes, k, seen = 0;

		if (compact) {
			pu[i] = i % tp->npus;
			continue;
		}
		/* spread: the used[node]-th PU of node `node`, wrapping */
		pu[i] = 0;
		for (k = 0; k < tp->npus; k++) {
			if (tp->pu_node[k] != node)
				continue;
			if (seen++ ==
			    used[node] % (tp->npus / tp->nnodes ? tp->npus / tp->nnodes : 1)) {
				pu[i] = k;
				break;
			}
		}
		used[node]++;
	}
}

int kmb_topo_bind_self(const struct kmb_topo *tp, unsigned pu)
{
	hwloc_obj_t o;

	if (!tp->real)
		return -ENOTSUP;
	o = hwloc_get_obj_by_type(tp->h, HWLOC_OBJ_PU, pu);
	if (o == NULL || hwloc_set_cpubind(tp->h, o->cpuset, HWLOC_CPUBIND_THREAD) != 0)
		return -errno ? -errno : -EINVAL;
	return 0;
}

int kmb_topology_summary(char *buf, size_t len)
{
	struct kmb_topo tp;
	char err[256];

	if (kmb_topo_load(&tp, NULL, err, sizeof(err)) != 0)
		return -1;
	snprintf(buf, len, "package:%d numa:%u core:%d pu:%d",
	         hwloc_get_nbobjs_by_type(tp.h, HWLOC_OBJ_PACKAGE), tp.nnodes,
	         hwloc_get_nbobjs_by_type(tp.h, HWLOC_OBJ_CORE), (int)tp.npus);
	kmb_topo_free(&tp);
	return 0;
}
