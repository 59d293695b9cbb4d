/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vdp's tracepoints: the "vdp" event system, under /sys/kernel/tracing/events/vdp/ (docs/tracing.md).
 *
 * vdp_trace.c instantiates them (CREATE_TRACE_POINTS) together with the rust_do_trace_<event>()
 * entry points (CREATE_RUST_TRACE_POINTS) that kmod/sys/trace.rs calls after testing the event's
 * static key itself, so a disabled event costs the Rust caller one key test and no call.
 *
 * Names (tenant, element, device) arrive as a pointer and a length, as Rust holds them, and are
 * copied into the event only when it is recorded.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vdp

#if !defined(VDP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define VDP_TRACE_H

#include <linux/tracepoint.h>

/* Where a packet was dropped (the "kind" field of vdp_drop); kmod/sys/trace.rs mirrors these. */
#define VDP_DROP_ELEMENT	0
#define VDP_DROP_DEVICE_RX	1
#define VDP_DROP_DEVICE_TX	2
#define VDP_DROP_PORT_RX	3

#define vdp_show_drop_kind(kind)				\
	__print_symbolic(kind,					\
			 { VDP_DROP_ELEMENT, "element" },	\
			 { VDP_DROP_DEVICE_RX, "device_rx" },	\
			 { VDP_DROP_DEVICE_TX, "device_tx" },	\
			 { VDP_DROP_PORT_RX, "port_rx" })

/*
 * A graph was switched to: vdp_install on a tenant that had none (old_elements and old_serial
 * are 0), vdp_swap when it replaced a running graph (a hotswap, or a re-placement on a new
 * THREADS value).
 */
DECLARE_EVENT_CLASS(vdp_graph,
	TP_PROTO(u32 tenant, const char *name, u32 name_len, u32 old_elements, u32 elements, u32 tasks,
		 u32 threads, u64 bytes, u64 old_serial, u64 serial, u64 duration_ns),
	TP_ARGS(tenant, name, name_len, old_elements, elements, tasks, threads, bytes, old_serial, serial,
		duration_ns),
	TP_STRUCT__entry(
		__field(u32, tenant)
		__string_len(name, name, name_len)
		__field(u32, old_elements)
		__field(u32, elements)
		__field(u32, tasks)
		__field(u32, threads)
		__field(u64, bytes)
		__field(u64, old_serial)
		__field(u64, serial)
		__field(u64, duration_ns)
	),
	TP_fast_assign(
		__entry->tenant = tenant;
		__assign_str(name);
		__entry->old_elements = old_elements;
		__entry->elements = elements;
		__entry->tasks = tasks;
		__entry->threads = threads;
		__entry->bytes = bytes;
		__entry->old_serial = old_serial;
		__entry->serial = serial;
		__entry->duration_ns = duration_ns;
	),
	TP_printk("tenant=%u name=%s old_elements=%u elements=%u tasks=%u threads=%u bytes=%llu old_serial=%llu serial=%llu duration_ns=%llu",
		  __entry->tenant, __get_str(name), __entry->old_elements, __entry->elements,
		  __entry->tasks, __entry->threads, __entry->bytes, __entry->old_serial,
		  __entry->serial, __entry->duration_ns)
);

DEFINE_EVENT(vdp_graph, vdp_install,
	TP_PROTO(u32 tenant, const char *name, u32 name_len, u32 old_elements, u32 elements, u32 tasks,
		 u32 threads, u64 bytes, u64 old_serial, u64 serial, u64 duration_ns),
	TP_ARGS(tenant, name, name_len, old_elements, elements, tasks, threads, bytes, old_serial, serial,
		duration_ns)
);

DEFINE_EVENT(vdp_graph, vdp_swap,
	TP_PROTO(u32 tenant, const char *name, u32 name_len, u32 old_elements, u32 elements, u32 tasks,
		 u32 threads, u64 bytes, u64 old_serial, u64 serial, u64 duration_ns),
	TP_ARGS(tenant, name, name_len, old_elements, elements, tasks, threads, bytes, old_serial, serial,
		duration_ns)
);

/* A tenant's graph was removed (GRAPH_REMOVE, or the tenant was deleted with one). */
TRACE_EVENT(vdp_uninstall,
	TP_PROTO(u32 tenant, const char *name, u32 name_len, u32 elements, u64 serial),
	TP_ARGS(tenant, name, name_len, elements, serial),
	TP_STRUCT__entry(
		__field(u32, tenant)
		__string_len(name, name, name_len)
		__field(u32, elements)
		__field(u64, serial)
	),
	TP_fast_assign(
		__entry->tenant = tenant;
		__assign_str(name);
		__entry->elements = elements;
		__entry->serial = serial;
	),
	TP_printk("tenant=%u name=%s elements=%u serial=%llu",
		  __entry->tenant, __get_str(name), __entry->elements, __entry->serial)
);

/*
 * One packet counted in one of vdp's drop counters: an element's drops, the graph's depth
 * drops, or a virtual device's or port's drops by reason. element is the graph index of the
 * element at fault, -1 for a device or port; at names the element, device or port.
 */
TRACE_EVENT(vdp_drop,
	TP_PROTO(u32 tenant, u8 kind, s32 element, const char *at, u32 at_len, const char *reason,
		 u32 reason_len),
	TP_ARGS(tenant, kind, element, at, at_len, reason, reason_len),
	TP_STRUCT__entry(
		__field(u32, tenant)
		__field(s32, element)
		__field(u8, kind)
		__string_len(at, at, at_len)
		__string_len(reason, reason, reason_len)
	),
	TP_fast_assign(
		__entry->tenant = tenant;
		__entry->element = element;
		__entry->kind = kind;
		__assign_str(at);
		__assign_str(reason);
	),
	TP_printk("tenant=%u kind=%s element=%d at=%s reason=%s",
		  __entry->tenant, vdp_show_drop_kind(__entry->kind), __entry->element,
		  __get_str(at), __get_str(reason))
);

/*
 * A tenant's thread slept because the tenant's CPU budget (its cgroup's cpu.max) was spent:
 * slept_ns is this sleep; throttled_periods and throttled_ns are the tenant's totals after it.
 */
TRACE_EVENT(vdp_throttle,
	TP_PROTO(u32 tenant, u32 thread, u64 slept_ns, u64 throttled_periods, u64 throttled_ns,
		 u64 quota_ns, u64 period_ns),
	TP_ARGS(tenant, thread, slept_ns, throttled_periods, throttled_ns, quota_ns, period_ns),
	TP_STRUCT__entry(
		__field(u32, tenant)
		__field(u32, thread)
		__field(u64, slept_ns)
		__field(u64, throttled_periods)
		__field(u64, throttled_ns)
		__field(u64, quota_ns)
		__field(u64, period_ns)
	),
	TP_fast_assign(
		__entry->tenant = tenant;
		__entry->thread = thread;
		__entry->slept_ns = slept_ns;
		__entry->throttled_periods = throttled_periods;
		__entry->throttled_ns = throttled_ns;
		__entry->quota_ns = quota_ns;
		__entry->period_ns = period_ns;
	),
	TP_printk("tenant=%u thread=%u slept_ns=%llu throttled_periods=%llu throttled_ns=%llu quota_ns=%llu period_ns=%llu",
		  __entry->tenant, __entry->thread, __entry->slept_ns, __entry->throttled_periods,
		  __entry->throttled_ns, __entry->quota_ns, __entry->period_ns)
);

#endif /* VDP_TRACE_H */

/* Out of tree: define_trace.h includes this file again from kmod/sys (see Kbuild). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vdp_trace
#include <trace/define_trace.h>
