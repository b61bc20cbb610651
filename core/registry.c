/*
 * core/registry.c - the backends and page sources kmbench knows, backend specs, and
 * kmb_boot().
 *
 * Adding a backend: one folder under backends/ with a library target kmb_<folder> and one
 * kmb_register_backend() line in its CMakeLists.txt; the lists below are generated from
 * those lines (backends/CMakeLists.txt), the default page source first.  Everything that
 * names a backend (kmbench list, replay, run, the conformance suite) goes through this file.
 *
 * A spec is NAME or NAME@PAGES: NAME a backend or "plugin:PATH.so", PAGES a page source
 * for a backend that takes pages (ops->default_pages != NULL).  "slab" = "slab@buddy".
 * Either part may set its owner's tunables, NAME(KEY=VALUE,...): the grammar and the
 * checks are core/spec.c's.  kmbench list shows each backend's and page source's table.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#include "kmb_registry.h" /* generated: one X() per kmb_register_backend() line */

#define X(sym) extern const struct kmb_backend_ops sym;
KMB_BACKEND_LIST
#undef X
#define X(sym) extern const struct kmb_pagesrc_ops sym;
KMB_PAGESRC_LIST
#undef X

#define X(sym) &sym,
static const struct kmb_backend_ops *const backends[] = {KMB_BACKEND_LIST};
static const struct kmb_pagesrc_ops *const pagesrcs[] = {KMB_PAGESRC_LIST};
#undef X

#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))
#define NPAGESRCS (sizeof(pagesrcs) / sizeof(pagesrcs[0]))
#define MAX_SPECS (NBACKENDS * (NPAGESRCS + 1))
#define PLUGIN    "plugin:"

static struct kmb_backend_info infos[MAX_SPECS];
static char spec_names[MAX_SPECS][64];
static char spec_summaries[MAX_SPECS][128];
static size_t nspecs;
static void *plugin_handle;
static struct kmb_backend_ops plugin_ops; /* the loaded plugin's table, at this ABI's size */

/* Every backend alone, then each backend that takes pages on each other page source. */
static void build_specs(void)
{
	if (nspecs)
		return;
	for (size_t i = 0; i < NBACKENDS; i++) {
		infos[nspecs].name = backends[i]->name;
		infos[nspecs].tunables = backends[i]->tunables;
		infos[nspecs].ntunables = backends[i]->ntunables;
		infos[nspecs++].summary = backends[i]->summary;
	}
	for (size_t i = 0; i < NBACKENDS; i++) {
		if (backends[i]->default_pages == NULL)
			continue;
		for (size_t k = 0; k < NPAGESRCS; k++) {
			if (strcmp(pagesrcs[k]->name, backends[i]->default_pages) == 0)
				continue;
			snprintf(spec_names[nspecs], sizeof(spec_names[0]), "%s@%s",
			         backends[i]->name, pagesrcs[k]->name);
			snprintf(spec_summaries[nspecs], sizeof(spec_summaries[0]),
			         "%s, on pages from the %s page source", backends[i]->name,
			         pagesrcs[k]->name);
			infos[nspecs].name = spec_names[nspecs];
			infos[nspecs].summary = spec_summaries[nspecs];
			nspecs++;
		}
	}
}

size_t kmb_backend_count(void)
{
	build_specs();
	return nspecs;
}

const struct kmb_backend_info *kmb_backend_at(size_t i)
{
	build_specs();
	return i < nspecs ? &infos[i] : NULL;
}

size_t kmb_pagesrc_count(void)
{
	return NPAGESRCS;
}

const struct kmb_backend_info *kmb_pagesrc_at(size_t i)
{
	static struct kmb_backend_info pinfo[NPAGESRCS];

	if (i >= NPAGESRCS)
		return NULL;
	pinfo[i].name = pagesrcs[i]->name;
	pinfo[i].summary = pagesrcs[i]->summary;
	pinfo[i].tunables = pagesrcs[i]->tunables;
	pinfo[i].ntunables = pagesrcs[i]->ntunables;
	return &pinfo[i];
}

static const struct kmb_pagesrc_ops *find_pagesrc(const char *name, size_t len)
{
	for (size_t k = 0; k < NPAGESRCS; k++)
		if (strlen(pagesrcs[k]->name) == len && strncmp(pagesrcs[k]->name, name, len) == 0)
			return pagesrcs[k];
	return NULL;
}

static int load_plugin(const char *path, size_t len, const struct kmb_backend_ops **out, char *err,
                       size_t errlen)
{
	char file[4096];
	void *h;
	const struct kmb_backend_ops *ops;
	const unsigned *abi;

	snprintf(file, sizeof(file), "%.*s", (int)len, path);
	h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(err, errlen, "cannot load plugin %s: %s", file, dlerror());
		return -ENOEXEC;
	}
	ops = dlsym(h, KMB_PLUGIN_SYMBOL);
	if (ops == NULL || ops->name == NULL || ops->init == NULL || ops->alloc == NULL ||
	    ops->free == NULL || ops->usable_size == NULL || ops->max_size == NULL ||
	    ops->fini == NULL) {
		snprintf(err, errlen, "plugin %s: no complete '%s' ops table", file,
		         KMB_PLUGIN_SYMBOL);
		dlclose(h);
		return -ENOEXEC;
	}
	abi = dlsym(h, KMB_PLUGIN_ABI_SYMBOL);
	if (abi == NULL || *abi < KMB_BACKEND_ABI_MIN || *abi > KMB_BACKEND_ABI) {
		snprintf(err, errlen,
		         "plugin %s: built for backend ABI %u, kmbench has %u and loads %u to %u "
		         "(rebuild it against include/kmbench/backend.h)",
		         file, abi ? *abi : 1u, KMB_BACKEND_ABI, KMB_BACKEND_ABI_MIN,
		         KMB_BACKEND_ABI);
		dlclose(h);
		return -ENOEXEC;
	}
	if (plugin_handle)
		dlclose(plugin_handle);
	plugin_handle = h;
	/* An older table ends before what later ABIs appended: copy what it has */
	memset(&plugin_ops, 0, sizeof(plugin_ops));
	memcpy(&plugin_ops, ops,
	       *abi == 3   ? offsetof(struct kmb_backend_ops, free_sized)
	       : *abi == 4 ? offsetof(struct kmb_backend_ops, tunables)
	       : *abi == 5 ? offsetof(struct kmb_backend_ops, cache_info)
	                   : sizeof(plugin_ops));
	if (plugin_ops.ntunables > KMB_MAX_TUNABLES ||
	    (plugin_ops.ntunables && !plugin_ops.tunables)) {
		snprintf(err, errlen, "plugin %s: %zu tunables (at most %d, with their table)",
		         file, plugin_ops.ntunables, KMB_MAX_TUNABLES);
		dlclose(h);
		plugin_handle = NULL;
		return -ENOEXEC;
	}
	*out = &plugin_ops;
	return 0;
}

static int find_backend(const char *name, size_t len, const struct kmb_backend_ops **out, char *err,
                        size_t errlen)
{
	if (len > strlen(PLUGIN) && strncmp(name, PLUGIN, strlen(PLUGIN)) == 0)
		return load_plugin(name + strlen(PLUGIN), len - strlen(PLUGIN), out, err, errlen);
	for (size_t i = 0; i < NBACKENDS; i++) {
		if (strlen(backends[i]->name) == len &&
		    strncmp(backends[i]->name, name, len) == 0) {
			*out = backends[i];
			return 0;
		}
	}
	snprintf(err, errlen, "unknown backend '%.*s' (kmbench list)", (int)len, name);
	return -ENOENT;
}

/* The page source a spec names (or its backend's default), its tunables set. */
static int resolve_pages(const char *spec, const struct kmb__spec_part *pp, struct kmb__spec *out,
                         char *err, size_t errlen)
{
	const char *pname = pp->name ? pp->name : out->ops->default_pages;
	size_t plen = pp->name ? pp->len : pname ? strlen(pname) : 0;
	const struct kmb_pagesrc_ops *ps;

	out->pages = NULL;
	if (pp->name == NULL && pname == NULL)
		return 0;
	if (out->ops->default_pages == NULL) {
		snprintf(err, errlen, "backend '%s' is a page allocator: it takes no page source",
		         out->ops->name);
		return -EINVAL;
	}
	if ((ps = find_pagesrc(pname, plen)) == NULL) {
		snprintf(err, errlen, "unknown page source '%.*s' in '%s' (kmbench list)",
		         (int)plen, pname, spec);
		return -ENOENT;
	}
	out->pages = ps;
	return kmb__tunables_parse(spec, ps->name, ps->tunables, ps->ntunables, pp, out->pages_tun,
	                           err, errlen);
}

/* Resolve a spec to a backend, its page source (NULL for page allocators) and tunables. */
static int resolve(const char *spec, struct kmb__spec *out, char *err, size_t errlen)
{
	struct kmb__spec_part bp, pp;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = kmb__spec_split(spec, &bp, &pp, err, errlen)) != 0)
		return rc;
	if (bp.len == 0) {
		snprintf(err, errlen, "backend spec '%s': no backend name", spec);
		return -EINVAL;
	}
	if ((rc = find_backend(bp.name, bp.len, &out->ops, err, errlen)) != 0)
		return rc;
	rc = kmb__tunables_parse(spec, out->ops->name, out->ops->tunables, out->ops->ntunables, &bp,
	                         out->tun, err, errlen);
	if (rc != 0)
		return rc;
	return resolve_pages(spec, &pp, out, err, errlen);
}

int kmb_spec_check(const char *spec, char *err, size_t errlen)
{
	struct kmb__spec sp;

	return resolve(spec, &sp, err, errlen);
}

int kmb_spec_name(const char *spec, char *buf, size_t len, char *err, size_t errlen)
{
	struct kmb__spec sp;
	struct kmb__spec_part bp, pp;
	int rc;

	if (spec == NULL || strncmp(spec, PLUGIN, strlen(PLUGIN)) != 0) {
		snprintf(buf, len, "%s", spec ? spec : "");
		return 0;
	}
	if ((rc = resolve(spec, &sp, err, errlen)) != 0 ||
	    (rc = kmb__spec_split(spec, &bp, &pp, err, errlen)) != 0)
		return rc;
	/* the plugin's own name, then whatever followed its path: tunables, @PAGES */
	snprintf(buf, len, "%s%s", sp.ops->name, bp.name + bp.len);
	return 0;
}

int kmb_boot(const struct kmb_config *cfg)
{
	struct kmb__spec sp;
	char err[512];
	int rc = resolve(cfg->backend, &sp, err, sizeof(err));

	if (rc != 0)
		return rc;
	return kmb__boot(&sp, cfg, cfg->invariants);
}
