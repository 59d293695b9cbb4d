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

#endif
