/*
 * backends/registry.c - the backends kmbench knows, and kmb_boot().
 *
 * Adding a backend: one folder under backends/ with a library target, and one line in
 * the table below.  Everything that names a backend (kmbench list, replay, run, the
 * tests) reads this table.
 */
#include <errno.h>
#include <string.h>

#include "core/internal.h"

extern const struct kmb_backend_ops kmb_buddy_ops;

static const struct kmb_backend_ops *const backends[] = {
        &kmb_buddy_ops,
};

#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

static struct kmb_backend_info infos[NBACKENDS];

size_t kmb_backend_count(void)
{
	return NBACKENDS;
}

const struct kmb_backend_info *kmb_backend_at(size_t i)
{
	if (i >= NBACKENDS)
		return NULL;
	infos[i].name = backends[i]->name;
	infos[i].summary = backends[i]->summary;
	return &infos[i];
}

int kmb_boot(const struct kmb_config *cfg)
{
	for (size_t i = 0; i < NBACKENDS; i++)
		if (cfg->backend && strcmp(cfg->backend, backends[i]->name) == 0)
			return kmb__boot(backends[i], cfg, cfg->invariants);
	return -ENOENT;
}
