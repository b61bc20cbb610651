/*
 * core/panic.c - panics, and the names printed in their messages.
 *
 * A panic is the kernel's answer to an illegal call or a broken invariant.  Here it is a
 * replaceable handler: the default prints "kmbench: panic: <message>" and aborts; tests
 * and the replay engine install handlers that longjmp.  A handler that returns is a bug:
 * the core aborts after it.  Messages name the call and its arguments, e.g.
 * "kfree(0x7f3a0c001040, M_TEMP): double free".
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

static kmb_panic_handler_t panic_handler;

static const char *const kind_names[KMB_PANIC_NKINDS] = {
        [KMB_PANIC_USAGE] = "usage",
        [KMB_PANIC_IMPOSSIBLE] = "impossible",
        [KMB_PANIC_DEADLOCK] = "deadlock",
        [KMB_PANIC_REDZONE] = "redzone",
        [KMB_PANIC_DOUBLE_FREE] = "double-free",
        [KMB_PANIC_BAD_FREE] = "bad-free",
        [KMB_PANIC_WRONG_TYPE] = "wrong-type",
        [KMB_PANIC_MODIFIED] = "modified-after-free",
        [KMB_PANIC_CORRUPT] = "corrupt",
        [KMB_PANIC_WRONG_SIZE] = "wrong-size",
        [KMB_PANIC_HOST_NOMEM] = "out-of-memory",
        [KMB_PANIC_CONTEXT] = "context",
        [KMB_PANIC_RESERVE] = "reserve-exhausted",
};

const char *kmb_panic_kind_name(enum kmb_panic_kind kind)
{
	if ((unsigned)kind >= KMB_PANIC_NKINDS)
		return "none";
	return kind_names[kind];
}

kmb_panic_handler_t kmb_set_panic_handler(kmb_panic_handler_t handler)
{
	kmb_panic_handler_t old = __atomic_exchange_n(&panic_handler, handler, __ATOMIC_ACQ_REL);

	return old;
}

void kmb__panicv(enum kmb_panic_kind kind, const void *addr, size_t size,
                 const struct malloc_type *type, const char *fmt, va_list ap)
{
	char msg[1024];
	struct kmb_panic_info info;
	kmb_panic_handler_t h = __atomic_load_n(&panic_handler, __ATOMIC_ACQUIRE);

	vsnprintf(msg, sizeof(msg), fmt, ap);
	info.kind = kind;
	info.message = msg;
	info.addr = addr;
	info.size = size;
	info.type = type;
	if (h != NULL)
		h(&info);
	fprintf(stderr, "kmbench: panic (%s): %s\n", kmb_panic_kind_name(kind), msg);
	fflush(stderr);
	abort();
}

void kmb__panic_full(enum kmb_panic_kind kind, const void *addr, size_t size,
                     const struct malloc_type *type, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kmb__panicv(kind, addr, size, type, fmt, ap);
	va_end(ap); /* not reached */
}

void kmb_panic(enum kmb_panic_kind kind, const void *addr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kmb__panicv(kind, addr, 0, NULL, fmt, ap);
	va_end(ap); /* not reached */
}

const char *kmb__flags_str(int flags, char *buf, size_t len)
{
	static const struct {
		int flag;
		const char *name;
	} names[] = {
	        {M_INTWAIT, "M_INTWAIT"}, {M_WAITOK, "M_WAITOK"},           {M_NOWAIT, "M_NOWAIT"},
	        {M_ZERO, "M_ZERO"},       {M_NORETRY, "M_NORETRY"},         {M_FAILOK, "M_FAILOK"},
	        {M_NOFAIL, "M_NOFAIL"},   {M_USE_RESERVE, "M_USE_RESERVE"},
	};
	size_t off = 0;
	int rest = flags;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((rest & names[i].flag) != names[i].flag) /* M_INTWAIT: all of its bits */
			continue;
		rest &= ~names[i].flag;
		off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s",
		                        off ? "|" : "", names[i].name);
	}
	if (rest != 0 || off == 0)
		snprintf(buf + (off < len ? off : len - 1), off < len ? len - off : 1, "%s%#x",
		         off ? "|" : "", (unsigned)rest);
	return buf;
}

const char *kmb__type_name(const struct malloc_type *type)
{
	if (type == NULL)
		return "NULL";
	if (type->ks_magic != KMB_MALLOC_MAGIC || type->ks_shortdesc == NULL)
		return "(bad type)";
	return type->ks_shortdesc;
}
