/* SPDX-License-Identifier: GPL-2.0 */
/* Functions of the C layer that Rust calls (the Rust side in kmod/sys/ declares them again). */
#ifndef VDP_SYS_H
#define VDP_SYS_H

#include <linux/types.h>

struct vdp_thread;

int vdp_thread_start(int (*body)(struct vdp_thread *, void *), void *arg, const char *name,
		     struct vdp_thread **out);
void vdp_thread_stop(struct vdp_thread *thread);
void vdp_thread_kick(struct vdp_thread *thread);
bool vdp_thread_wait(struct vdp_thread *thread);
void vdp_thread_yield(void);
int vdp_thread_pid(const struct vdp_thread *thread);

#endif
