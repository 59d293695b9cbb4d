// SPDX-License-Identifier: GPL-2.0
/*
 * The C half of the vdp generic netlink family.
 *
 * Family, operation and policy tables are declarative C data, as in every in-tree family, and the
 * message-building helpers are static inline in the kernel headers, so both live here. All
 * command logic is in Rust (kmod/netlink.rs); the doit callbacks below are Rust functions.
 *
 * Policy: the family is "new" (resv_start_op = 0), so genetlink validates every request strictly:
 * unknown attribute types, attributes beyond maxattr, bad lengths and trailing garbage are all
 * answered with -EINVAL and an extack message before any Rust code runs.
 */
#include <linux/module.h>
#include <net/genetlink.h>
#include "vdp_sys.h"
#include "vdp_genl.h"


/* GET_INFO takes no attributes; the reply-only ones are refused by name. */
static const struct nla_policy vdp_get_info_policy[VDP_A_MAX + 1] = {
	[VDP_A_VERSION] = { .type = NLA_REJECT, .reject_message = "VERSION is a reply-only attribute" },
	[VDP_A_TENANT_COUNT] = { .type = NLA_REJECT, .reject_message = "TENANT_COUNT is a reply-only attribute" },
	[VDP_A_CLASS] = { .type = NLA_REJECT, .reject_message = "CLASS is a reply-only attribute" },
};

/* Tenant ids start at 1 so that 0 never names a tenant by accident. */
#define VDP_POLICY_TENANT_ID NLA_POLICY_MIN(NLA_U32, 1)
#define VDP_POLICY_TENANT_NAME { .type = NLA_NUL_STRING, .len = VDP_TENANT_NAME_MAX }

static const struct nla_policy vdp_tenant_new_policy[VDP_A_TENANT_NAME + 1] = {
	[VDP_A_TENANT_ID] = VDP_POLICY_TENANT_ID,
	[VDP_A_TENANT_NAME] = VDP_POLICY_TENANT_NAME,
};

static const struct nla_policy vdp_tenant_id_policy[VDP_A_TENANT_ID + 1] = {
	[VDP_A_TENANT_ID] = VDP_POLICY_TENANT_ID,
};

static const struct nla_policy vdp_sched_set_policy[VDP_A_CPU_MASK + 1] = {
	[VDP_A_TENANT_ID] = VDP_POLICY_TENANT_ID,
	[VDP_A_TASKS_PER_YIELD] = NLA_POLICY_RANGE(NLA_U32, 1, VDP_TASKS_PER_YIELD_MAX),
	/* CPU scheduling (issues 4 and 7). */
	[VDP_A_THREADS] = NLA_POLICY_RANGE(NLA_U32, 1, VDP_TENANT_THREADS_MAX),
	[VDP_A_TASKS_PER_YIELD_AUTO] = NLA_POLICY_MAX(NLA_U32, 1),
	/* Whole words and online CPUs are checked by the handler. */
	[VDP_A_CPU_MASK] = { .type = NLA_BINARY, .len = VDP_CPU_MASK_MAX_BYTES },
};

static const struct nla_policy vdp_graph_install_policy[VDP_A_GRAPH + 1] = {
	[VDP_A_TENANT_ID] = VDP_POLICY_TENANT_ID,
	[VDP_A_GRAPH] = { .type = NLA_BINARY, .len = VDP_GRAPH_MAX_BYTES },
};

#define VDP_POLICY_HANDLER_TARGET						\
	[VDP_A_TENANT_ID] = VDP_POLICY_TENANT_ID,				\
	[VDP_A_ELEMENT] = { .type = NLA_NUL_STRING, .len = VDP_ELEMENT_NAME_MAX },	\
	[VDP_A_HANDLER] = { .type = NLA_NUL_STRING, .len = VDP_HANDLER_NAME_MAX },	\
	[VDP_A_VALUE] = { .type = NLA_BINARY, .len = VDP_HANDLER_VALUE_MAX }

static const struct nla_policy vdp_handler_policy[VDP_A_VALUE + 1] = {
	VDP_POLICY_HANDLER_TARGET,
};

/* A write may say it acts for the tenant, which may not write root-owned elements. */
static const struct nla_policy vdp_handler_write_policy[VDP_A_AS_TENANT + 1] = {
	VDP_POLICY_HANDLER_TARGET,
	[VDP_A_AS_TENANT] = { .type = NLA_FLAG },
};

/* STATS: every tenant, or just the one TENANT_ID names. */
static const struct nla_policy vdp_stats_policy[VDP_A_TENANT_ID + 1] = {
	[VDP_A_TENANT_ID] = VDP_POLICY_TENANT_ID,
};

/* Interface-style names: what IFNAMSIZ allows. */
#define VDP_POLICY_IFNAME { .type = NLA_NUL_STRING, .len = VDP_IFNAME_MAX }

static const struct nla_policy vdp_port_policy[VDP_A_IFNAME + 1] = {
	[VDP_A_IFNAME] = VDP_POLICY_IFNAME,
};

/* PORT_GET takes no attributes at all. */
static const struct nla_policy vdp_no_attrs_policy[1] = {};

static const struct netlink_range_validation vdp_mtu_range = {
	.min = VDP_TUNNEL_MTU_MIN,
	.max = 65535,
};

static const struct nla_policy vdp_vdev_new_policy[VDP_A_PEER_MAC + 1] = {
	[VDP_A_TENANT_ID] = VDP_POLICY_TENANT_ID,
	[VDP_A_IFNAME] = VDP_POLICY_IFNAME,
	[VDP_A_VDEV_NAME] = VDP_POLICY_IFNAME,
	[VDP_A_LOCAL] = { .type = NLA_BE32 },
	[VDP_A_REMOTE] = { .type = NLA_BE32 },
	[VDP_A_GRE_KEY] = { .type = NLA_U32 },
	[VDP_A_CARRIES] = NLA_POLICY_RANGE(NLA_U8, VDP_CARRIES_IP, VDP_CARRIES_ETHERNET),
	[VDP_A_TTL] = NLA_POLICY_MIN(NLA_U8, 1),
	[VDP_A_DONT_FRAGMENT] = NLA_POLICY_MAX(NLA_U8, 1),
	[VDP_A_GRE_CSUM] = NLA_POLICY_MAX(NLA_U8, 1),
	[VDP_A_MTU] = NLA_POLICY_FULL_RANGE(NLA_U32, &vdp_mtu_range),
	[VDP_A_MAC] = NLA_POLICY_ETH_ADDR,
	[VDP_A_PEER_MAC] = NLA_POLICY_ETH_ADDR,
};

static const struct nla_policy vdp_vdev_policy[VDP_A_VDEV_NAME + 1] = {
	[VDP_A_TENANT_ID] = VDP_POLICY_TENANT_ID,
	[VDP_A_VDEV_NAME] = VDP_POLICY_IFNAME,
};

static const struct netlink_range_validation vdp_tx_rate_range = {
	.min = 0,
	.max = VDP_TX_RATE_MAX,
};

static const struct netlink_range_validation vdp_tx_burst_range = {
	.min = VDP_TX_BURST_MIN,
	.max = VDP_TX_BURST_MAX,
};

/* SHAPE_SET: a device's cap with VDEV_NAME, the tenant's aggregate without. */
static const struct nla_policy vdp_shape_set_policy[VDP_A_TX_BURST + 1] = {
	[VDP_A_TENANT_ID] = VDP_POLICY_TENANT_ID,
	[VDP_A_VDEV_NAME] = VDP_POLICY_IFNAME,
	[VDP_A_TX_RATE] = NLA_POLICY_FULL_RANGE(NLA_U64, &vdp_tx_rate_range),
	[VDP_A_TX_BURST] = NLA_POLICY_FULL_RANGE(NLA_U64, &vdp_tx_burst_range),
};

#define VDP_DO(command, handler, pol, perm) {			\
		.cmd = (command),				\
		.doit = (handler),				\
		.policy = (pol),				\
		.maxattr = ARRAY_SIZE(pol) - 1,			\
		.flags = GENL_CMD_CAP_DO | (perm),		\
	}

/* Sorted by command, as genetlink requires. State changes need CAP_NET_ADMIN. */
static const struct genl_split_ops vdp_ops[] = {
	{
		.cmd = VDP_CMD_GET_INFO,
		.doit = vdp_rs_get_info,
		.policy = vdp_get_info_policy,
		.maxattr = VDP_A_MAX,
		.flags = GENL_CMD_CAP_DO,
	},
	VDP_DO(VDP_CMD_TENANT_NEW, vdp_rs_tenant_new, vdp_tenant_new_policy, GENL_ADMIN_PERM),
	VDP_DO(VDP_CMD_TENANT_DEL, vdp_rs_tenant_del, vdp_tenant_id_policy, GENL_ADMIN_PERM),
	VDP_DO(VDP_CMD_TENANT_GET, vdp_rs_tenant_get, vdp_tenant_id_policy, 0),
	VDP_DO(VDP_CMD_SCHED_SET, vdp_rs_sched_set, vdp_sched_set_policy, GENL_ADMIN_PERM),
	VDP_DO(VDP_CMD_SCHED_GET, vdp_rs_sched_get, vdp_tenant_id_policy, 0),
	VDP_DO(VDP_CMD_GRAPH_INSTALL, vdp_rs_graph_install, vdp_graph_install_policy, GENL_ADMIN_PERM),
	VDP_DO(VDP_CMD_GRAPH_REMOVE, vdp_rs_graph_remove, vdp_tenant_id_policy, GENL_ADMIN_PERM),
	VDP_DO(VDP_CMD_GRAPH_GET, vdp_rs_graph_get, vdp_tenant_id_policy, 0),
	/* Handlers can reveal and change a tenant's state: both directions need privilege. */
	VDP_DO(VDP_CMD_HANDLER_READ, vdp_rs_handler_read, vdp_handler_policy, GENL_ADMIN_PERM),
	VDP_DO(VDP_CMD_HANDLER_WRITE, vdp_rs_handler_write, vdp_handler_write_policy, GENL_ADMIN_PERM),
	/* Names, classes and counts, no handler values: readable like TENANT_GET. */
	{
		.cmd = VDP_CMD_STATS,
		.dumpit = vdp_rs_stats_dumpit,
		.policy = vdp_stats_policy,
		.maxattr = ARRAY_SIZE(vdp_stats_policy) - 1,
		.flags = GENL_CMD_CAP_DUMP,
	},
	VDP_DO(VDP_CMD_PORT_ATTACH, vdp_rs_port_attach, vdp_port_policy, GENL_ADMIN_PERM),
	VDP_DO(VDP_CMD_PORT_DETACH, vdp_rs_port_detach, vdp_port_policy, GENL_ADMIN_PERM),
	/* Tunnel endpoints and counters are the operator's business, not every user's. */
	VDP_DO(VDP_CMD_PORT_GET, vdp_rs_port_get, vdp_no_attrs_policy, GENL_ADMIN_PERM),
	VDP_DO(VDP_CMD_VDEV_NEW, vdp_rs_vdev_new, vdp_vdev_new_policy, GENL_ADMIN_PERM),
	VDP_DO(VDP_CMD_VDEV_DEL, vdp_rs_vdev_del, vdp_vdev_policy, GENL_ADMIN_PERM),
	VDP_DO(VDP_CMD_VDEV_GET, vdp_rs_vdev_get, vdp_vdev_policy, GENL_ADMIN_PERM),
	/* The operator's caps: tenants read theirs through the coordinator and never set them. */
	VDP_DO(VDP_CMD_SHAPE_SET, vdp_rs_shape_set, vdp_shape_set_policy, GENL_ADMIN_PERM),
};

/* Route-table changes carry tenants' state: listening needs the same privilege as reading it. */
static const struct genl_multicast_group vdp_mcgrps[] = {
	[VDP_MCGRP_EVENTS] = { .name = VDP_MCGRP_EVENTS_NAME, .flags = GENL_MCAST_CAP_NET_ADMIN },
};

static struct genl_family vdp_family = {
	.name = VDP_GENL_NAME,
	.version = VDP_GENL_VERSION,
	/* Only the root network namespace sees the family: tenants go through the coordinator. */
	.netnsok = false,
	/* Rust handlers do their own locking; no need to serialise on genl_mutex. */
	.parallel_ops = true,
	.resv_start_op = 0,
	.split_ops = vdp_ops,
	.n_split_ops = ARRAY_SIZE(vdp_ops),
	.mcgrps = vdp_mcgrps,
	.n_mcgrps = ARRAY_SIZE(vdp_mcgrps),
	.module = THIS_MODULE,
};

/* A lookup of the family by name loads the module (genetlink asks for this alias). */
MODULE_ALIAS_GENL_FAMILY(VDP_GENL_NAME);

/* The portable core's VERSION (kmod/core/mod.rs), which Kbuild passes in. */
#ifndef VDP_VERSION
#error "Kbuild defines VDP_VERSION from kmod/core/mod.rs"
#endif
static_assert(sizeof(VDP_VERSION) > 1, "VDP_VERSION is empty: Kbuild did not find VERSION in kmod/core/mod.rs");
MODULE_VERSION(VDP_VERSION);

int vdp_genl_register(void)
{
	return genl_register_family(&vdp_family);
}

void vdp_genl_unregister(void)
{
	/* Fails only for a family that was never registered, which the Rust owner rules out. */
	WARN_ON(genl_unregister_family(&vdp_family));
}

/* Starts a reply to @info with room for @payload bytes of attributes. NULL when memory is short. */
struct sk_buff *vdp_reply_new_sized(struct genl_info *info, size_t payload)
{
	struct sk_buff *msg = genlmsg_new(payload, GFP_KERNEL);

	if (!msg)
		return NULL;
	if (!genlmsg_put_reply(msg, info, &vdp_family, 0, info->genlhdr->cmd)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* Finishes and sends a reply. Consumes @msg whatever the outcome. */
int vdp_reply_send(struct sk_buff *msg, struct genl_info *info)
{
	nlmsg_end(msg, (struct nlmsghdr *)msg->data);
	return genlmsg_reply(msg, info);
}

struct sk_buff *vdp_reply_new(struct genl_info *info)
{
	return vdp_reply_new_sized(info, NLMSG_GOODSIZE);
}

void vdp_reply_free(struct sk_buff *msg)
{
	nlmsg_free(msg);
}

int vdp_put_u32(struct sk_buff *msg, int type, u32 value)
{
	return nla_put_u32(msg, type, value);
}

int vdp_put_binary(struct sk_buff *msg, int type, const void *data, size_t len)
{
	if (len > U16_MAX - NLA_HDRLEN)
		return -EMSGSIZE;
	return nla_put(msg, type, len, data);
}

/* Puts @len bytes of @s as a NUL-terminated string attribute (Rust strings carry no NUL). */
int vdp_put_string(struct sk_buff *msg, int type, const char *s, size_t len)
{
	struct nlattr *attr;

	if (len > U16_MAX - NLA_HDRLEN - 1)
		return -EMSGSIZE;
	attr = nla_reserve(msg, type, len + 1);
	if (!attr)
		return -EMSGSIZE;
	memcpy(nla_data(attr), s, len);
	((char *)nla_data(attr))[len] = '\0';
	return 0;
}

struct nlattr *vdp_nest_start(struct sk_buff *msg, int type)
{
	return nla_nest_start(msg, type);
}

void vdp_nest_end(struct sk_buff *msg, struct nlattr *nest)
{
	nla_nest_end(msg, nest);
}

void vdp_nest_cancel(struct sk_buff *msg, struct nlattr *nest)
{
	nla_nest_cancel(msg, nest);
}

/* @msg must have static storage: extack keeps the pointer past this call. */
void vdp_set_err_msg(struct genl_info *info, const char *msg)
{
	/* NL_SET_ERR_MSG wants a literal; this is its effect for a pointer to static text. */
	if (info->extack)
		info->extack->_msg = msg;
}

/* Like vdp_set_err_msg, and also points the error at attribute @type of the request. */
void vdp_set_err_attr(struct genl_info *info, int type, const char *msg)
{
	if (!info->extack)
		return;
	info->extack->_msg = msg;
	if (vdp_attr(info, type))
		NL_SET_BAD_ATTR(info->extack, vdp_attr(info, type));
}

/* True, with an extack naming the attribute, when the request lacks attribute @type. */
bool vdp_attr_missing(struct genl_info *info, int type)
{
	return GENL_REQ_ATTR_CHECK(info, type);
}

/*
 * The validated attribute @type of the request, or NULL. genetlink sized info->attrs by the
 * command's maxattr, which may be below VDP_A_MAX: never read past it.
 */
const struct nlattr *vdp_attr(struct genl_info *info, int type)
{
	size_t i;

	if (type <= 0 || !info->attrs)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(vdp_ops); i++) {
		if (vdp_ops[i].cmd == info->genlhdr->cmd)
			return type <= (int)vdp_ops[i].maxattr ? info->attrs[type] : NULL;
	}
	return NULL;
}

u32 vdp_attr_u32(const struct nlattr *attr)
{
	return nla_get_u32(attr);
}

const void *vdp_attr_data(const struct nlattr *attr, int *len)
{
	*len = nla_len(attr);
	return nla_data(attr);
}

/* Sets a formatted extack message (copied into extack's own buffer, at most 79 bytes). */
void vdp_set_err_text(struct genl_info *info, const char *text, size_t len)
{
	NL_SET_ERR_MSG_FMT(info->extack, "%.*s", (int)min_t(size_t, len, NETLINK_MAX_FMTMSG_LEN - 1), text);
}

int vdp_put_u64(struct sk_buff *msg, int type, u64 value)
{
	return nla_put_u64_64bit(msg, type, value, VDP_A_PAD);
}

/* A u64 inside a nest, whose own attribute space has its padding type @pad. */
int vdp_put_u64_pad(struct sk_buff *msg, int type, u64 value, int pad)
{
	return nla_put_u64_64bit(msg, type, value, pad);
}

/* Starts one message of a dump reply; NULL when the skb is full. */
void *vdp_dump_msg_start(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq, &vdp_family,
			   NLM_F_MULTI, cmd);
}

void vdp_msg_end(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
}

void vdp_msg_cancel(struct sk_buff *skb, void *hdr)
{
	genlmsg_cancel(skb, hdr);
}

unsigned int vdp_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}

/* A dump's position between calls lives in cb->args, which netlink zeroes for a new dump. */
long vdp_dump_cursor(struct netlink_callback *cb, unsigned int index)
{
	return index < ARRAY_SIZE(cb->args) ? cb->args[index] : 0;
}

void vdp_dump_set_cursor(struct netlink_callback *cb, unsigned int index, long value)
{
	if (index < ARRAY_SIZE(cb->args))
		cb->args[index] = value;
}

/* The validated attribute @type of a dump request, or NULL. */
const struct nlattr *vdp_dump_attr(struct netlink_callback *cb, int type)
{
	const struct genl_dumpit_info *dump = genl_dumpit_info(cb);

	/* The attribute table has op.maxattr + 1 entries. */
	if (type <= 0 || !dump->info.attrs || type > (int)dump->op.maxattr)
		return NULL;
	return dump->info.attrs[type];
}

/* @msg must have static storage. */
void vdp_dump_set_err_attr(struct netlink_callback *cb, int type, const char *msg)
{
	const struct nlattr *attr = vdp_dump_attr(cb, type);

	if (!cb->extack)
		return;
	cb->extack->_msg = msg;
	if (attr)
		NL_SET_BAD_ATTR(cb->extack, attr);
}

/* Whether anyone listens on the events group (the family lives in the initial namespace only). */
bool vdp_events_wanted(void)
{
	return genl_has_listeners(&vdp_family, &init_net, VDP_MCGRP_EVENTS);
}

/* Starts a notification with room for @payload bytes of attributes. NULL when memory is short. */
struct sk_buff *vdp_event_new(u8 cmd, size_t payload)
{
	struct sk_buff *msg = genlmsg_new(payload, GFP_KERNEL);

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, 0, 0, &vdp_family, 0, cmd)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* Finishes and multicasts a notification; consumes @msg. Nobody listening is not an error. */
void vdp_event_send(struct sk_buff *msg)
{
	nlmsg_end(msg, (struct nlmsghdr *)msg->data);
	genlmsg_multicast(&vdp_family, msg, 0, VDP_MCGRP_EVENTS, GFP_KERNEL);
}
