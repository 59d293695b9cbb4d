/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Numbers of the vdp generic netlink family, for the C policy tables.
 * The source of truth is kmod/core/uapi.rs; a userspace test checks that they agree.
 */
#ifndef VDP_GENL_H
#define VDP_GENL_H

#define VDP_GENL_NAME		"vdp"
#define VDP_GENL_VERSION	1

enum vdp_cmd {
	VDP_CMD_UNSPEC,
	VDP_CMD_GET_INFO = 1,
	VDP_CMD_TENANT_NEW = 2,
	VDP_CMD_TENANT_DEL = 3,
	VDP_CMD_TENANT_GET = 4,
	VDP_CMD_SCHED_SET = 5,
	VDP_CMD_SCHED_GET = 6,
	VDP_CMD_GRAPH_INSTALL = 7,
	VDP_CMD_GRAPH_REMOVE = 8,
	VDP_CMD_GRAPH_GET = 9,
	VDP_CMD_HANDLER_READ = 10,
	VDP_CMD_HANDLER_WRITE = 11,
	VDP_CMD_STATS = 12,
	VDP_CMD_TENANT_NEW_NTF = 13,
	VDP_CMD_TENANT_DEL_NTF = 14,
	VDP_CMD_GRAPH_INSTALL_NTF = 15,
	VDP_CMD_GRAPH_REMOVE_NTF = 16,
	VDP_CMD_TABLE_CHANGE_NTF = 17,
	VDP_CMD_PORT_ATTACH = 18,
	VDP_CMD_PORT_DETACH = 19,
	VDP_CMD_PORT_GET = 20,
	VDP_CMD_VDEV_NEW = 21,
	VDP_CMD_VDEV_DEL = 22,
	VDP_CMD_VDEV_GET = 23,
	VDP_CMD_SHAPE_SET = 24,
};

#define VDP_MCGRP_EVENTS_NAME	"events"
enum vdp_mcgrp {
	VDP_MCGRP_EVENTS,
};

enum vdp_attr {
	VDP_A_UNSPEC,
	VDP_A_VERSION = 1,
	VDP_A_TENANT_COUNT = 2,
	VDP_A_CLASS = 3,
	VDP_A_TENANT_ID = 4,
	VDP_A_TENANT_NAME = 5,
	VDP_A_THREAD_PID = 6,
	VDP_A_TASKS_PER_YIELD = 7,
	VDP_A_GRAPH = 8,
	VDP_A_ELEMENT = 9,
	VDP_A_HANDLER = 10,
	VDP_A_VALUE = 11,
	VDP_A_ELEMENT_COUNT = 12,
	VDP_A_TASK_COUNT = 13,
	VDP_A_PAD = 14,
	VDP_A_WAKEUPS = 15,
	VDP_A_TASK_RUNS = 16,
	VDP_A_ELEMENT_STATS = 17,
	VDP_A_IFNAME = 18,
	VDP_A_VDEV_NAME = 19,
	VDP_A_LOCAL = 20,
	VDP_A_REMOTE = 21,
	VDP_A_GRE_KEY = 22,
	VDP_A_CARRIES = 23,
	VDP_A_TTL = 24,
	VDP_A_DONT_FRAGMENT = 25,
	VDP_A_GRE_CSUM = 26,
	VDP_A_MTU = 27,
	VDP_A_MAC = 28,
	VDP_A_PEER_MAC = 29,
	VDP_A_PORT = 30,
	VDP_A_VDEV = 31,
	/* CPU scheduling and shares (issues 4 and 7): 40 to 49. */
	VDP_A_THREADS = 40,
	VDP_A_CPU_QUOTA_US = 41,
	VDP_A_CPU_PERIOD_US = 42,
	VDP_A_CPU_RUNTIME_NS = 43,
	VDP_A_CPU_PERIODS = 44,
	VDP_A_CPU_THROTTLED_PERIODS = 45,
	VDP_A_CPU_THROTTLED_NS = 46,
	VDP_A_TASKS_PER_YIELD_AUTO = 47,
	VDP_A_CPU_MASK = 48,
	/* Safety: tenants cannot write root-owned elements; call-depth drops: 50 to 59. */
	VDP_A_AS_TENANT = 50,
	VDP_A_DEPTH_DROPS = 51,
	/* Transmit caps: 52 and 53. */
	VDP_A_TX_RATE = 52,
	VDP_A_TX_BURST = 53,
	VDP_A_MAX = 53,
};

#define VDP_CARRIES_IP		1
#define VDP_CARRIES_ETHERNET	2
#define VDP_TUNNEL_MTU_MIN	68
#define VDP_IFNAME_MAX		15

#define VDP_GRAPH_MAX_BYTES	65000
#define VDP_CPU_MASK_MAX_BYTES	128
#define VDP_ELEMENT_NAME_MAX	255
#define VDP_HANDLER_NAME_MAX	63
#define VDP_HANDLER_VALUE_MAX	(60 * 1024)

#define VDP_TENANT_NAME_MAX	11
#define VDP_TASKS_PER_YIELD_MAX	4096
#define VDP_TENANT_THREADS_MAX	8

/* Transmit caps (kmod/core/tx_cap.rs): bytes per second and bytes. */
#define VDP_TX_RATE_MAX		(1ULL << 40)
#define VDP_TX_BURST_MIN	1514
#define VDP_TX_BURST_MAX	(1ULL << 30)

enum vdp_class_attr {
	VDP_A_CLASS_UNSPEC,
	VDP_A_CLASS_ID = 1,
	VDP_A_CLASS_NAME = 2,
	VDP_A_CLASS_MAX = 2,
};

enum vdp_element_attr {
	VDP_A_ELEMENT_UNSPEC,
	VDP_A_ELEMENT_NAME = 1,
	VDP_A_ELEMENT_CLASS = 2,
	VDP_A_ELEMENT_ROOT = 3,
	VDP_A_ELEMENT_PACKETS_IN = 4,
	VDP_A_ELEMENT_PACKETS_OUT = 5,
	VDP_A_ELEMENT_DROPS = 6,
	VDP_A_ELEMENT_QUEUE_LENGTH = 7,
	VDP_A_ELEMENT_QUEUE_CAPACITY = 8,
	VDP_A_ELEMENT_PAD = 9,
	VDP_A_ELEMENT_MAX = 9,
};

#ifdef __KERNEL__
struct sk_buff;
struct genl_info;
struct nlattr;
struct netlink_callback;

/* Rust command handlers (kmod/netlink.rs). */
int vdp_rs_get_info(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_tenant_new(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_tenant_del(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_tenant_get(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_sched_set(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_sched_get(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_graph_install(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_graph_remove(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_graph_get(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_handler_read(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_handler_write(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_stats_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int vdp_rs_port_attach(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_port_detach(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_port_get(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_vdev_new(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_vdev_del(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_vdev_get(struct sk_buff *skb, struct genl_info *info);
int vdp_rs_shape_set(struct sk_buff *skb, struct genl_info *info);

/* Called from Rust (kmod/sys/genl.rs). */
int vdp_genl_register(void);
void vdp_genl_unregister(void);
struct sk_buff *vdp_reply_new(struct genl_info *info);
int vdp_reply_send(struct sk_buff *msg, struct genl_info *info);
void vdp_reply_free(struct sk_buff *msg);
int vdp_put_u32(struct sk_buff *msg, int type, u32 value);
int vdp_put_binary(struct sk_buff *msg, int type, const void *data, size_t len);
struct sk_buff *vdp_reply_new_sized(struct genl_info *info, size_t payload);
int vdp_put_string(struct sk_buff *msg, int type, const char *s, size_t len);
struct nlattr *vdp_nest_start(struct sk_buff *msg, int type);
void vdp_nest_end(struct sk_buff *msg, struct nlattr *nest);
void vdp_nest_cancel(struct sk_buff *msg, struct nlattr *nest);
void vdp_set_err_msg(struct genl_info *info, const char *msg);
void vdp_set_err_text(struct genl_info *info, const char *text, size_t len);
void vdp_set_err_attr(struct genl_info *info, int type, const char *msg);
bool vdp_attr_missing(struct genl_info *info, int type);
const struct nlattr *vdp_attr(struct genl_info *info, int type);
u32 vdp_attr_u32(const struct nlattr *attr);
const void *vdp_attr_data(const struct nlattr *attr, int *len);
int vdp_put_u64(struct sk_buff *msg, int type, u64 value);
int vdp_put_u64_pad(struct sk_buff *msg, int type, u64 value, int pad);
void *vdp_dump_msg_start(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd);
void vdp_msg_end(struct sk_buff *skb, void *hdr);
void vdp_msg_cancel(struct sk_buff *skb, void *hdr);
unsigned int vdp_skb_len(const struct sk_buff *skb);
long vdp_dump_cursor(struct netlink_callback *cb, unsigned int index);
void vdp_dump_set_cursor(struct netlink_callback *cb, unsigned int index, long value);
const struct nlattr *vdp_dump_attr(struct netlink_callback *cb, int type);
void vdp_dump_set_err_attr(struct netlink_callback *cb, int type, const char *msg);
bool vdp_events_wanted(void);
struct sk_buff *vdp_event_new(u8 cmd, size_t payload);
void vdp_event_send(struct sk_buff *msg);
#endif

#endif
