#!/bin/sh
# capture kmem events of one command tree with ftrace (set_event_pid + event-fork)
T=/sys/kernel/tracing
echo 0 > $T/tracing_on; echo > $T/trace; echo 16384 > $T/buffer_size_kb
for e in kmalloc kfree kmem_cache_alloc kmem_cache_free mm_page_alloc mm_page_free mm_page_free_batched; do echo 1 > $T/events/kmem/$e/enable; done
echo 1 > $T/options/event-fork
sh -c "echo \$\$ > $T/set_event_pid; echo 1 > $T/tracing_on; exec sh -c '$1'"
echo 0 > $T/tracing_on
for e in kmalloc kfree kmem_cache_alloc kmem_cache_free mm_page_alloc mm_page_free mm_page_free_batched; do echo 0 > $T/events/kmem/$e/enable; done
echo > $T/set_event_pid; echo 0 > $T/options/event-fork
cat $T/trace
