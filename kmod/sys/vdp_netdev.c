// SPDX-License-Identifier: GPL-2.0
/*
 * Physical devices ("ports") for the Rust device layer (kmod/sys/netdev.rs): the rx_handler
 * that hands GRE packets to Rust, transmission, receive queues, and the notifier that lets go of
 * a device being unregistered.
 *
 * A port's tunnel table is a Rust object the C side only stores: Rust publishes a new one with
 * vdp_port_swap_table() and frees the old after vdp_port_sync(). The rx_handler runs inside the
 * RCU read section netif_receive_skb holds, so a table it found stays valid until it returns.
 */
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <net/dst.h>
#include <net/net_namespace.h>
#include "vdp_sys.h"

struct vdp_port {
	/* The attached device, or NULL once detached or unregistered. Written under RTNL. */
	struct net_device __rcu *dev;
	netdevice_tracker tracker;
	/* The Rust tunnel table for this port (opaque here). */
	void __rcu *table;
	char name[IFNAMSIZ];
	struct list_head node;
};

/* Attached ports, for the unregister notifier. Changed and walked under RTNL. */
static LIST_HEAD(vdp_ports);

/* vdp_rs_port_receive (kmod/sys/netdev.rs) returns 1 if it took the packet, 0 to leave it. */

static rx_handler_result_t vdp_rx_handler(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	struct vdp_port *port = rcu_dereference(skb->dev->rx_handler_data);
	const struct iphdr *iph;
	const void *table;

	/* Only IPv4 GRE can belong to a tunnel; everything else is the host's, untouched. */
	if (skb->protocol != htons(ETH_P_IP) || skb->pkt_type == PACKET_OTHERHOST)
		return RX_HANDLER_PASS;
	if (!pskb_may_pull(skb, sizeof(*iph)))
		return RX_HANDLER_PASS;
	iph = ip_hdr(skb);
	if (iph->protocol != IPPROTO_GRE)
		return RX_HANDLER_PASS;
	table = port ? rcu_dereference(port->table) : NULL;
	if (!table)
		return RX_HANDLER_PASS;
	skb = skb_share_check(skb, GFP_ATOMIC);
	if (!skb)
		return RX_HANDLER_CONSUMED;
	*pskb = skb;
	/* Rust reads the whole packet as one slice, GRE checksum included. */
	if (skb_linearize(skb))
		return RX_HANDLER_PASS;
	return vdp_rs_port_receive(table, skb) ? RX_HANDLER_CONSUMED : RX_HANDLER_PASS;
}

struct vdp_port *vdp_port_new(const char *name, size_t len)
{
	struct vdp_port *port;

	if (len == 0 || len >= IFNAMSIZ)
		return NULL;
	port = kzalloc(sizeof(*port), GFP_KERNEL);
	if (!port)
		return NULL;
	memcpy(port->name, name, len);
	INIT_LIST_HEAD(&port->node);
	return port;
}

/* Caller holds RTNL. */
static void vdp_port_detach_locked(struct vdp_port *port)
{
	struct net_device *dev = rtnl_dereference(port->dev);

	if (!dev)
		return;
	netdev_rx_handler_unregister(dev);
	RCU_INIT_POINTER(port->dev, NULL);
	list_del_init(&port->node);
	/* Transmitters read port->dev under RCU: wait for them before letting go of the device. */
	synchronize_net();
	netdev_put(dev, &port->tracker);
}

/*
 * Hooks @port onto the device of its name in the initial namespace. -ENODEV: no such device;
 * -EBUSY: another rx_handler (a bridge, a bond, macvlan) owns it; -EALREADY: attached already.
 */
int vdp_port_attach(struct vdp_port *port)
{
	struct net_device *dev;
	int err;

	rtnl_lock();
	if (rtnl_dereference(port->dev)) {
		err = -EALREADY;
		goto out;
	}
	dev = netdev_get_by_name(&init_net, port->name, &port->tracker, GFP_KERNEL);
	if (!dev) {
		err = -ENODEV;
		goto out;
	}
	if (dev->type != ARPHRD_ETHER || dev->addr_len != ETH_ALEN) {
		netdev_put(dev, &port->tracker);
		err = -EPROTONOSUPPORT;
		goto out;
	}
	err = netdev_rx_handler_register(dev, vdp_rx_handler, port);
	if (err) {
		netdev_put(dev, &port->tracker);
		goto out;
	}
	rcu_assign_pointer(port->dev, dev);
	list_add(&port->node, &vdp_ports);
out:
	rtnl_unlock();
	return err;
}

void vdp_port_detach(struct vdp_port *port)
{
	rtnl_lock();
	vdp_port_detach_locked(port);
	rtnl_unlock();
}

bool vdp_port_attached(struct vdp_port *port)
{
	bool attached;

	rcu_read_lock();
	attached = rcu_access_pointer(port->dev) != NULL;
	rcu_read_unlock();
	return attached;
}

/* Frees a detached port; its table must have been taken back by Rust already. */
void vdp_port_free(struct vdp_port *port)
{
	vdp_port_detach(port);
	kfree(port);
}

/* Publishes @table and returns the previous one, which stays in use until vdp_port_sync(). */
void *vdp_port_swap_table(struct vdp_port *port, void *table)
{
	void *old;

	rtnl_lock();
	old = rcu_dereference_protected(port->table, lockdep_rtnl_is_held());
	rcu_assign_pointer(port->table, table);
	rtnl_unlock();
	return old;
}

/* Waits until no rx_handler can still be using a table replaced before this call. */
void vdp_port_sync(void)
{
	synchronize_net();
}

/*
 * Sends @skb, a complete Ethernet frame, on the port's device with the device's own address as
 * source (written into bytes 6..12). Consumes @skb in every case. -ENETDOWN when the port is not
 * attached or the device is down; -ENOBUFS when the device or its queue dropped the frame.
 */
int vdp_port_xmit(struct vdp_port *port, struct sk_buff *skb)
{
	struct net_device *dev;
	int rc;

	rcu_read_lock();
	dev = rcu_dereference(port->dev);
	if (!dev || !(dev->flags & IFF_UP) || skb->len < ETH_HLEN) {
		rcu_read_unlock();
		kfree_skb(skb);
		return -ENETDOWN;
	}
	ether_addr_copy(skb->data + ETH_ALEN, dev->dev_addr);
	/* The timestamp annotation was the graph's (vdp_skb_tstamp), not a departure time. */
	skb->tstamp = 0;
	skb->tstamp_type = SKB_CLOCK_REALTIME;
	skb->dev = dev;
	skb->protocol = htons(ETH_P_IP);
	skb->ip_summed = CHECKSUM_NONE;
	/* The graph's packet-type annotation described the inner frame's arrival, not this one. */
	skb->pkt_type = PACKET_HOST;
	skb_reset_mac_header(skb);
	skb_set_network_header(skb, ETH_HLEN);
	/* dev_queue_xmit takes its own references; the device outlives the call under RCU. */
	rc = dev_queue_xmit(skb);
	rcu_read_unlock();
	return rc == NET_XMIT_SUCCESS || rc == NET_XMIT_CN ? 0 : -ENOBUFS;
}

/*
 * Prepares a claimed packet for the graph: forgets the stack's state and any checksum offload
 * bookkeeping, which no longer describes the bytes once the outer headers are gone. Returns
 * -ENOMEM if a partial checksum could not be completed.
 */
int vdp_skb_claim(struct sk_buff *skb)
{
	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb))
		return -ENOMEM;
	skb->ip_summed = CHECKSUM_NONE;
	skb_dst_drop(skb);
	memset(skb->cb, 0, sizeof(skb->cb));
	skb->dev = NULL;
	return 0;
}

static int vdp_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct vdp_port *port, *next;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	list_for_each_entry_safe(port, next, &vdp_ports, node) {
		if (rtnl_dereference(port->dev) == dev) {
			pr_info("vdp: %s is going away; its tunnels stop until it is attached again\n",
				port->name);
			vdp_port_detach_locked(port);
		}
	}
	return NOTIFY_DONE;
}

static struct notifier_block vdp_netdev_notifier = {
	.notifier_call = vdp_netdev_event,
};

int vdp_netdev_init(void)
{
	return register_netdevice_notifier(&vdp_netdev_notifier);
}

void vdp_netdev_exit(void)
{
	unregister_netdevice_notifier(&vdp_netdev_notifier);
}

/* A bounded receive queue: filled by the rx_handler in softirq, drained by a tenant thread. */
struct vdp_rxq {
	struct sk_buff_head queue;
	u32 capacity;
};

struct vdp_rxq *vdp_rxq_new(u32 capacity)
{
	struct vdp_rxq *rxq = kzalloc(sizeof(*rxq), GFP_KERNEL);

	if (!rxq)
		return NULL;
	skb_queue_head_init(&rxq->queue);
	rxq->capacity = capacity;
	return rxq;
}

void vdp_rxq_free(struct vdp_rxq *rxq)
{
	skb_queue_purge(&rxq->queue);
	kfree(rxq);
}

/* Queues @skb; returns the new length, or 0 (and leaves @skb to the caller) when full. */
u32 vdp_rxq_push(struct vdp_rxq *rxq, struct sk_buff *skb)
{
	unsigned long flags;
	u32 len = 0;

	spin_lock_irqsave(&rxq->queue.lock, flags);
	if (skb_queue_len(&rxq->queue) < rxq->capacity) {
		__skb_queue_tail(&rxq->queue, skb);
		len = skb_queue_len(&rxq->queue);
	}
	spin_unlock_irqrestore(&rxq->queue.lock, flags);
	return len;
}

struct sk_buff *vdp_rxq_pop(struct vdp_rxq *rxq)
{
	return skb_dequeue(&rxq->queue);
}

/*
 * Takes up to @max packets off the head of the queue under one hold of its lock, so the tenant
 * thread touches the lock and the queue head (which the softirq writes on every push) once a
 * batch rather than once a packet. Returns the first, the rest linked through skb->next in order
 * and the last's next NULL; NULL when the queue is empty. Walk it with vdp_skb_chain_next.
 */
struct sk_buff *vdp_rxq_take(struct vdp_rxq *rxq, u32 max)
{
	struct sk_buff *first = NULL, *skb;
	struct sk_buff **link = &first;
	unsigned long flags;
	u32 n;

	spin_lock_irqsave(&rxq->queue.lock, flags);
	for (n = 0; n < max; n++) {
		skb = __skb_dequeue(&rxq->queue);
		if (!skb)
			break;
		*link = skb;
		link = &skb->next;
	}
	spin_unlock_irqrestore(&rxq->queue.lock, flags);
	return first;
}

/*
 * Hold off and let run again this CPU's softirqs, around a batch of vdp_port_xmit calls from a
 * tenant thread: the receive work the sends queue (a veth peer's backlog) then runs once for the
 * batch, in local_bh_enable, instead of once inside every send.
 */
void vdp_bh_disable(void)
{
	local_bh_disable();
}

void vdp_bh_enable(void)
{
	local_bh_enable();
}

/* Unlinks @skb, the head of a chain from vdp_rxq_take, and returns the rest (NULL at the end). */
struct sk_buff *vdp_skb_chain_next(struct sk_buff *skb)
{
	struct sk_buff *next = skb->next;

	skb_mark_not_on_list(skb);
	return next;
}

u32 vdp_rxq_len(struct vdp_rxq *rxq)
{
	return skb_queue_len_lockless(&rxq->queue);
}
