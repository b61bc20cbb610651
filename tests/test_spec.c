/*
 * tests/test_spec.c - backend specs with tunables (core/spec.c, core/registry.c): the
 * values a spec sets reach init as be->tun[] in table order, defaults elsewhere, page
 * sources get their own part's values, and every malformed or out-of-bounds spec is
 * refused with one line naming the spec and the key.
 */
#include "kmb_test.h"

#include <errno.h>

#include "core/internal.h"

#define MIB ((size_t)1 << 20)

static void boot(const char *spec)
{
	struct kmb_config cfg = {.backend = spec, .mem_bytes = 16 * MIB, .nodes = 1, .ncpus = 1};

	ASSERT_EQ_I(kmb_boot(&cfg), 0);
}

/* the index of key in the booted backend's table */
static long tun(const char *key)
{
	const struct kmb_backend_ops *ops = kmb__sys.be.ops;

	for (size_t i = 0; i < ops->ntunables; i++)
		if (strcmp(ops->tunables[i].name, key) == 0)
			return kmb__sys.be.tun[i];
	kmb_test_fail(__FILE__, __LINE__, "%s has no tunable %s", ops->name, key);
}

/* rc of kmb_spec_check(spec), and its message must hold want */
static void refused(const char *spec, int rc, const char *want)
{
	char err[512] = "";

	ASSERT_EQ_I(kmb_spec_check(spec, err, sizeof(err)), rc);
	if (strstr(err, want) == NULL || strchr(err, '\n') != NULL)
		kmb_test_fail(__FILE__, __LINE__, "%s: message '%s' lacks '%s'", spec, err, want);
}

KMB_TEST(tunables_reach_init_in_table_order)
{
	boot("buddy(pcp_batch=7,pcp_high=90)");
	ASSERT_EQ_I(tun("pcp_high"), 90);
	ASSERT_EQ_I(tun("pcp_batch"), 7);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

KMB_TEST(unset_tunables_take_their_defaults)
{
	boot("vmem");
	ASSERT_EQ_I(tun("qcache_max"), 256);
	ASSERT_EQ_I(kmb_shutdown(), 0);
	boot("vmem(qcache_max=64)@buddy(pcp_batch=4)");
	ASSERT_EQ_I(tun("qcache_max"), 64);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

KMB_TEST(both_parts_are_checked)
{
	char err[512];

	ASSERT_EQ_I(kmb_spec_check("slab(magsize=15)@vmem", err, sizeof(err)), 0);
	ASSERT_EQ_I(kmb_spec_check("slab@buddy(pcp_high=64,pcp_batch=8)", err, sizeof(err)), 0);
	ASSERT_EQ_I(kmb_spec_check("slab(magsize=-0)", err, sizeof(err)), 0);
	refused("slab@buddy(pcp_batch=2000)", -ERANGE,
	        "'slab@buddy(pcp_batch=2000)': pcp_batch=2000 out of bounds 0..1024");
	refused("slab@vmem(pcp_batch=8)", -EINVAL, "vmem has no tunable 'pcp_batch' (it has none)");
}

KMB_TEST(bad_settings_name_the_spec_and_key)
{
	refused("slab(magsize=144)", -ERANGE,
	        "'slab(magsize=144)': magsize=144 out of bounds 0..143");
	refused("slab(magsize=-1)", -ERANGE, "magsize=-1 out of bounds");
	refused("slab(mag=1)", -EINVAL, "slab has no tunable 'mag' (tunables: magsize)");
	refused("slab(magsize=1x)", -EINVAL, "magsize: '1x' is not an integer");
	refused("slab(magsize= 1)", -EINVAL, "magsize: ' 1' is not an integer");
	refused("slab(magsize=99999999999999999999)", -EINVAL, "is not an integer");
	refused("slab(magsize=)", -EINVAL, "'magsize=' is no KEY=INTEGER");
	refused("slab(magsize)", -EINVAL, "'magsize' is no KEY=INTEGER");
	refused("slab(magsize=1,magsize=3)", -EINVAL, "magsize set twice");
	refused("slab(magsize=1,)", -EINVAL, "slab has no tunable ''");
	refused("slab()", -EINVAL, "empty '()' after slab");
	refused("libc(x=1)", -EINVAL, "libc has no tunable 'x' (it has none)");
}

KMB_TEST(bad_grammar_is_refused)
{
	refused("slab(", -EINVAL, "unbalanced");
	refused("slab)", -EINVAL, "unbalanced");
	refused("slab(magsize=1))", -EINVAL, "unbalanced");
	refused("slab((magsize=1))", -EINVAL, "unbalanced");
	refused("sl(x=1)ab", -EINVAL, "unbalanced");
	refused("(magsize=1)", -EINVAL, "no backend name");
	refused("slab(magsize=1)@", -EINVAL, "no page source after '@'");
	refused("@vmem", -EINVAL, "empty backend spec");
	refused("", -EINVAL, "empty backend spec");
	refused("nosuch(x=1)", -ENOENT, "unknown backend 'nosuch'");
	refused("slab@nosuch(x=1)", -ENOENT, "unknown page source 'nosuch'");
	refused("buddy(pcp_batch=1)@vmem", -EINVAL, "is a page allocator");
}

/* The '@' is the last one outside parentheses: what follows it is the page source. */
KMB_TEST(at_sign_splits_outside_parentheses)
{
	refused("slab(magsize=1@vmem)", -EINVAL, "magsize: '1@vmem' is not an integer");
	refused("slab@vmem@buddy", -ENOENT, "unknown backend 'slab@vmem'");
}
KMB_TEST_MAIN()
