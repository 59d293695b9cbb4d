/* SPDX-License-Identifier: GPL-2.0 */
/* Functions of the C layer that Rust calls (the Rust side in kmod/sys/ declares them again). */
#ifndef VDP_SYS_H
#define VDP_SYS_H

#include <linux/types.h>

struct vdp_thread;

struct task_struct;
int vdp_thread_start(int (*body)(struct vdp_thread *, void *), void *arg, const char *name,
		     struct task_struct *cgroups_of, struct vdp_thread **out);
struct task_struct *vdp_thread_task(struct vdp_thread *thread);
void vdp_task_put(struct task_struct *task);
void vdp_task_cpu_limit(struct task_struct *task, u64 *quota_ns, u64 *period_ns);
int vdp_task_set_cpus(struct task_struct *task, const u64 *words, unsigned int nwords);
int vdp_thread_set_own_cpus(const u64 *words, unsigned int nwords);
bool vdp_cpu_online(unsigned int cpu);
u64 vdp_thread_runtime_ns(bool exact);
bool vdp_thread_sleep_until(u64 deadline_ns);
void vdp_thread_stop(struct vdp_thread *thread);
struct vdp_doorbell;
struct vdp_doorbell *vdp_doorbell_new(void);
void vdp_doorbell_free(struct vdp_doorbell *bell);
void vdp_doorbell_ring(struct vdp_doorbell *bell);
u32 vdp_doorbell_rings(struct vdp_doorbell *bell);
bool vdp_doorbell_wait(struct vdp_doorbell *bell, u32 seen);
bool vdp_doorbell_wait_until(struct vdp_doorbell *bell, u32 seen, u64 deadline_ns);
bool vdp_thread_should_stop(void);
void vdp_thread_yield(void);
int vdp_thread_pid(const struct vdp_thread *thread);

struct mem_cgroup;
struct mem_cgroup *vdp_task_memcg_get(struct task_struct *task);
void vdp_memcg_put(struct mem_cgroup *memcg);
struct mem_cgroup *vdp_memcg_set_active(struct mem_cgroup *memcg);

struct sk_buff;

struct sk_buff *vdp_skb_alloc(unsigned int headroom, unsigned int len);
void vdp_skb_drop(struct sk_buff *skb);
void vdp_skb_consume(struct sk_buff *skb);
struct sk_buff *vdp_skb_clone(struct sk_buff *skb);
unsigned char *vdp_skb_data(struct sk_buff *skb, unsigned int *len);
int vdp_skb_make_writable(struct sk_buff *skb);
int vdp_skb_linearize(struct sk_buff *skb);
int vdp_skb_pull(struct sk_buff *skb, unsigned int len);
int vdp_skb_push(struct sk_buff *skb, unsigned int len);
int vdp_skb_trim(struct sk_buff *skb, unsigned int len);
unsigned char *vdp_skb_cb(struct sk_buff *skb);
int vdp_skb_network_offset(struct sk_buff *skb);
void vdp_skb_set_network_offset(struct sk_buff *skb, int offset);
u8 vdp_skb_pkt_type(struct sk_buff *skb);
void vdp_skb_set_pkt_type(struct sk_buff *skb, u8 pkt_type);
void vdp_skb_copy_annotations(struct sk_buff *to, const struct sk_buff *from);
u64 vdp_skb_tstamp(struct sk_buff *skb);
void vdp_skb_set_tstamp(struct sk_buff *skb, u64 ns);
struct sk_buff *vdp_skb_realign(struct sk_buff *skb, unsigned int modulus, unsigned int offset);
u64 vdp_random_u64(void);
u64 vdp_cycles(void);
u64 vdp_now_ns(void);
u64 vdp_wall_clock_ns(void);


struct vdp_port;
struct vdp_rxq;

int vdp_rs_port_receive(const void *table, struct sk_buff *skb);
struct vdp_port *vdp_port_new(const char *name, size_t len);
int vdp_port_attach(struct vdp_port *port);
void vdp_port_detach(struct vdp_port *port);
bool vdp_port_attached(struct vdp_port *port);
void vdp_port_free(struct vdp_port *port);
void *vdp_port_swap_table(struct vdp_port *port, void *table);
void vdp_port_sync(void);
int vdp_port_xmit(struct vdp_port *port, struct sk_buff *skb);
int vdp_skb_claim(struct sk_buff *skb);
int vdp_netdev_init(void);
void vdp_netdev_exit(void);
struct vdp_rxq *vdp_rxq_new(u32 capacity);
void vdp_rxq_free(struct vdp_rxq *rxq);
u32 vdp_rxq_push(struct vdp_rxq *rxq, struct sk_buff *skb);
struct sk_buff *vdp_rxq_pop(struct vdp_rxq *rxq);
struct sk_buff *vdp_rxq_take(struct vdp_rxq *rxq, u32 max);
struct sk_buff *vdp_skb_chain_next(struct sk_buff *skb);
void vdp_bh_disable(void);
void vdp_bh_enable(void);
u32 vdp_rxq_len(struct vdp_rxq *rxq);

/* The tenant channel device (vdp_channel.c, kmod/sys/channel.rs). */
struct vdp_channel_bind {
	u32 tenant_id;
	u32 rings;
	u32 slots;
	u32 flags;
};
struct vdp_chan;
int vdp_channel_register(void);
void vdp_channel_unregister(void);
void vdp_chan_get(struct vdp_chan *chan);
void vdp_chan_put(struct vdp_chan *chan);
void vdp_chan_wake(struct vdp_chan *chan);
void vdp_chan_hangup(struct vdp_chan *chan);
void *vdp_region_alloc(size_t size);
void vdp_region_free(void *region);
/* Implemented in Rust (kmod/sys/channel.rs). */
int vdp_rs_channel_bind(struct vdp_chan *chan, const struct vdp_channel_bind *req, void **owner);
void vdp_rs_channel_release(void *owner);
int vdp_rs_channel_kick(void *owner);
bool vdp_rs_channel_readable(void *owner);
void *vdp_rs_channel_region(void *owner, size_t *size);

#endif
