/*
 * workloads/geometry.c - the traced kernel's cache geometry: read from, and saved as, a
 * copy of /proc/slabinfo beside the trace (TRACE.slabinfo).
 *
 * 1. Format.  /proc/slabinfo version 2.1, as Linux prints it (mm/slab_common.c
 *    cache_show): one line per cache,
 *
 *        name <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : ...
 *
 *    where <objsize> is s->size (the slot: the object, its alignment and metadata; what a
 *    kmem_cache event's bytes_alloc says), <objperslab> oo_objects(s->oo) and
 *    <pagesperslab> 1 << oo_order(s->oo).  Lines starting with "slabinfo -" or '#' are
 *    headers; whatever follows the sixth column is ignored, so a file written by hand
 *    needs only the six ("my_cache 0 0 192 21 1").  It is what `cat /proc/slabinfo` gives
 *    (root only: the file is 0400), and what `kmbench trace record` saves.
 * 2. Checks.  objsize and objperslab at least 1, pagesperslab a power of two up to 2^10
 *    (KMB_BUDDY_MAX_ORDER), objperslab * objsize within the slab: a line that breaks one
 *    is an error naming file:line and the field, never a guess.
 * 3. Use.  The replay creates each cache the trace names with the traced object size
 *    (bytes_req) and, from here, the order and objects per slab of the cache of that
 *    name (struct kmb_cache_desc, kmbench/backend.h); the slot size is the trace's
 *    bytes_alloc, this file's objsize only where the trace has none.
 */
#include "trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define GEOM_MAX_ORDER 10 /* KMB_BUDDY_MAX_ORDER: 4 MiB slabs at most */
#define PAGE_BYTES     4096u

static int field_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* One cache line (tokens in place) into c; -EINVAL with the reason in err. */
static int parse_cache(char *line, struct kmb_geometry_cache *c, char *err, size_t errlen)
{
	static const char *const what[6] = {"name",    "active_objs", "num_objs",
	                                    "objsize", "objperslab",  "pagesperslab"};
	char *tok[6], *sv = NULL;
	uint64_t v[6] = {0};
	int n = 0;

	for (char *t = strtok_r(line, " \t", &sv); t && *t != ':' && n < 6;
	     t = strtok_r(NULL, " \t", &sv))
		tok[n++] = t;
	if (n < 6) {
		snprintf(err, errlen,
		         "%d of the 6 columns name <active_objs> <num_objs> <objsize> "
		         "<objperslab> <pagesperslab>",
		         n);
		return -EINVAL;
	}
	for (int i = 1; i < 6; i++) {
		uint64_t min = i >= 3 ? 1 : 0, max = i == 5 ? 1u << GEOM_MAX_ORDER : UINT32_MAX;

		if (field_u64(tok[i], min, max, &v[i]) != 0 ||
		    (i == 5 && (v[i] & (v[i] - 1)) != 0)) {
			snprintf(err, errlen, "%s: bad <%s> '%s' (%s)", tok[0], what[i], tok[i],
			         i == 5   ? "a power of two, 1 to 1024"
			         : i >= 3 ? "1 or more"
			                  : "a count");
			return -EINVAL;
		}
	}
	if (v[3] * v[4] > v[5] * PAGE_BYTES) {
		snprintf(err, errlen,
		         "%s: %" PRIu64 " objects of %" PRIu64 " bytes exceed a slab "
		         "of %" PRIu64 " pages",
		         tok[0], v[4], v[3], v[5]);
		return -EINVAL;
	}
	c->slot_size = v[3];
	c->objs_per_slab = (uint32_t)v[4];
	c->order = (uint32_t)__builtin_ctzll(v[5]);
	c->name = strdup(tok[0]);
	return c->name ? 0 : -ENOMEM;
}

static int add_line(struct kmb_geometry *g, size_t *cap, char *line, char *err, size_t errlen)
{
	line[strcspn(line, "\r\n")] = '\0';
	if (line[strspn(line, " \t")] == '\0' || line[0] == '#' ||
	    strncmp(line, "slabinfo -", 10) == 0)
		return 0;
	if (g->ncaches == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		struct kmb_geometry_cache *nc = realloc(g->cache, n * sizeof(*nc));

		if (nc == NULL)
			return -ENOMEM;
		g->cache = nc;
		*cap = n;
	}
	if (parse_cache(line, &g->cache[g->ncaches], err, errlen) != 0)
		return -EINVAL;
	g->ncaches++;
	return 0;
}

int kmb_geometry_load(const char *path, struct kmb_geometry *g, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[1024], why[256];
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;

	memset(g, 0, sizeof(*g));
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(why, sizeof(why), "line longer than %zu bytes", sizeof(line) - 2);
			rc = -EINVAL;
		} else if ((rc = add_line(g, &cap, line, why, sizeof(why))) == -ENOMEM) {
			snprintf(why, sizeof(why), "%s", strerror(ENOMEM));
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(why, sizeof(why), "read error");
		rc = -EIO;
	}
	fclose(f);
	if (rc != 0) {
		snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
		kmb_geometry_free(g);
	}
	return rc;
}

void kmb_geometry_free(struct kmb_geometry *g)
{
	for (size_t i = 0; i < g->ncaches; i++)
		free(g->cache[i].name);
	free(g->cache);
	memset(g, 0, sizeof(*g));
}

size_t kmb_geometry_apply(const struct kmb_geometry *g, struct kmb_plan *p)
{
	size_t matched = 0;

	for (uint32_t c = 0; c < p->ncaches; c++) {
		struct kmb_plan_geom *pg = &p->cache_geom[c];

		for (size_t i = 0; i < g->ncaches; i++) {
			if (strcmp(g->cache[i].name, p->cache_name[c]) != 0)
				continue;
			pg->order = g->cache[i].order;
			pg->objs_per_slab = g->cache[i].objs_per_slab;
			if (pg->slot_size == 0)
				pg->slot_size = g->cache[i].slot_size;
			matched++;
			break;
		}
	}
	return matched;
}

int kmb_geometry_save(const char *trace_path, char *err, size_t errlen)
{
	char path[4096], buf[1 << 14];
	FILE *in = fopen("/proc/slabinfo", "r"), *out;
	size_t n;
	int rc = 0;

	if (in == NULL) {
		rc = -errno;
		snprintf(err, errlen, "/proc/slabinfo: %s", strerror(errno));
		return rc;
	}
	snprintf(path, sizeof(path), "%s%s", trace_path, KMB_GEOMETRY_SUFFIX);
	if ((out = fopen(path, "w")) == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(in);
		return rc;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			break;
	if (ferror(in) || ferror(out))
		rc = -EIO;
	fclose(in);
	if (fclose(out) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		remove(path);
	}
	return rc;
}
