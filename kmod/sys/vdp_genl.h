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
};

enum vdp_attr {
	VDP_A_UNSPEC,
	VDP_A_VERSION = 1,
	VDP_A_TENANT_COUNT = 2,
	VDP_A_CLASS = 3,
	VDP_A_MAX = 3,
};

enum vdp_class_attr {
	VDP_A_CLASS_UNSPEC,
	VDP_A_CLASS_ID = 1,
	VDP_A_CLASS_NAME = 2,
	VDP_A_CLASS_MAX = 2,
};

#ifdef __KERNEL__
struct sk_buff;
struct genl_info;
struct nlattr;

/* Rust command handlers (kmod/netlink.rs). */
int vdp_rs_get_info(struct sk_buff *skb, struct genl_info *info);

/* Called from Rust (kmod/sys/genl.rs). */
int vdp_genl_register(void);
void vdp_genl_unregister(void);
struct sk_buff *vdp_reply_new(struct genl_info *info);
int vdp_reply_send(struct sk_buff *msg, struct genl_info *info);
void vdp_reply_free(struct sk_buff *msg);
int vdp_put_u32(struct sk_buff *msg, int type, u32 value);
int vdp_put_string(struct sk_buff *msg, int type, const char *s, size_t len);
struct nlattr *vdp_nest_start(struct sk_buff *msg, int type);
void vdp_nest_end(struct sk_buff *msg, struct nlattr *nest);
void vdp_nest_cancel(struct sk_buff *msg, struct nlattr *nest);
void vdp_set_err_msg(struct genl_info *info, const char *msg);
#endif

#endif
