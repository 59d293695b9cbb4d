// SPDX-License-Identifier: GPL-2.0
/*
 * sk_buff operations for the Rust packet wrapper (packet.rs). Most are static inlines in
 * <linux/skbuff.h>; each wrapper here does exactly one thing and checks what can fail.
 */
#include <linux/skbuff.h>
#include <linux/random.h>
#include <linux/timex.h>
#include <linux/timekeeping.h>
#include "vdp_sys.h"

struct sk_buff *vdp_skb_alloc(unsigned int headroom, unsigned int len)
{
	struct sk_buff *skb = alloc_skb(headroom + len, GFP_ATOMIC);

	if (!skb)
		return NULL;
	skb_reserve(skb, headroom);
	memset(skb_put(skb, len), 0, len);
	return skb;
}

/* A packet dropped on purpose or for an error: shows up in drop monitors. */
void vdp_skb_drop(struct sk_buff *skb)
{
	kfree_skb(skb);
}

/* A packet that reached its end normally (Discard, transmitted). */
void vdp_skb_consume(struct sk_buff *skb)
{
	consume_skb(skb);
}

struct sk_buff *vdp_skb_clone(struct sk_buff *skb)
{
	return skb_clone(skb, GFP_ATOMIC);
}

/* The linear part of the packet; packets inside the graph are kept entirely linear. */
unsigned char *vdp_skb_data(struct sk_buff *skb, unsigned int *len)
{
	*len = skb_headlen(skb);
	return skb->data;
}

/* Makes @skb linear, as the graph requires of every packet it takes in. */
int vdp_skb_linearize(struct sk_buff *skb)
{
	return skb_linearize(skb);
}

/*
 * Makes the whole packet linear and private to this reference, so Rust may read and write it as
 * one slice. Returns 0 or -ENOMEM.
 */
int vdp_skb_make_writable(struct sk_buff *skb)
{
	if (skb_linearize(skb))
		return -ENOMEM;
	return skb_ensure_writable(skb, skb->len);
}

/* Removes @len bytes from the front. Returns -EINVAL if the packet is shorter. */
int vdp_skb_pull(struct sk_buff *skb, unsigned int len)
{
	if (len > skb->len)
		return -EINVAL;
	if (!pskb_may_pull(skb, len))
		return -ENOMEM;
	__skb_pull(skb, len);
	return 0;
}

/* Adds @len bytes in front, growing the headroom if needed. */
int vdp_skb_push(struct sk_buff *skb, unsigned int len)
{
	if (skb_cow_head(skb, len))
		return -ENOMEM;
	skb_push(skb, len);
	return 0;
}

/* Cuts the packet to @len bytes (no-op if it is not longer). */
int vdp_skb_trim(struct sk_buff *skb, unsigned int len)
{
	return pskb_trim(skb, len);
}

/* skb->cb is ours while a packet is inside the graph: it holds Click's annotations. */
unsigned char *vdp_skb_cb(struct sk_buff *skb)
{
	return skb->cb;
}

/* Click's packet type annotation is the kernel's own: PACKET_HOST .. PACKET_OTHERHOST. */
u8 vdp_skb_pkt_type(struct sk_buff *skb)
{
	return skb->pkt_type;
}

void vdp_skb_set_pkt_type(struct sk_buff *skb, u8 pkt_type)
{
	skb->pkt_type = pkt_type & 7;
}

/* A packet made from another (a fragment) carries its annotations: cb and the packet type. */
void vdp_skb_copy_annotations(struct sk_buff *to, const struct sk_buff *from)
{
	memcpy(to->cb, from->cb, sizeof(to->cb));
	to->pkt_type = from->pkt_type;
	to->tstamp = from->tstamp;
	to->tstamp_type = from->tstamp_type;
}

/*
 * Offset of the network header from the packet data. Negative when it was never set (it then
 * points at the buffer's head, before the data) or lies in bytes already stripped.
 */
int vdp_skb_network_offset(struct sk_buff *skb)
{
	return skb_network_offset(skb);
}

/* Marks the network header @offset bytes after the data start (the caller checked the range). */
void vdp_skb_set_network_offset(struct sk_buff *skb, int offset)
{
	skb_set_network_header(skb, offset);
}

/*
 * Click's timestamp annotation, kept in skb->tstamp as nanoseconds of the monotonic clock; 0 is
 * unset. It is vdp's own while the graph holds the packet: the transmit path clears it before
 * the stack sees the frame (vdp_port_xmit), so no qdisc takes it for a departure time.
 */
u64 vdp_skb_tstamp(struct sk_buff *skb)
{
	return ktime_to_ns(skb->tstamp);
}

void vdp_skb_set_tstamp(struct sk_buff *skb, u64 ns)
{
	skb->tstamp = ns_to_ktime(ns);
	skb->tstamp_type = SKB_CLOCK_REALTIME;
}

/*
 * A copy of @skb whose data starts @offset bytes past a @modulus-byte boundary (@modulus a power
 * of two up to 8, @offset below it), with at least the same headroom, the same bytes and every
 * annotation (skb_copy_expand copies the header: cb, tstamp, the network header). Heads come
 * from kmalloc, aligned to 8 bytes at least, so the data lands at the headroom's remainder; the
 * caller checks. NULL when memory is short. @skb is left as it was.
 */
struct sk_buff *vdp_skb_realign(struct sk_buff *skb, unsigned int modulus, unsigned int offset)
{
	unsigned int headroom = skb_headroom(skb);

	if (modulus == 0 || modulus > 8 || (modulus & (modulus - 1)) || offset >= modulus)
		return NULL;
	headroom += (offset + modulus - headroom % modulus) % modulus;
	return skb_copy_expand(skb, headroom, 0, GFP_ATOMIC | __GFP_NOWARN);
}

/* 64 random bits for an element's own generator (RED); callable in any context. */
u64 vdp_random_u64(void)
{
	return get_random_u64();
}

/* A free-running cycle counter, for busy work measured in cycles (Chew); 0 where none exists. */
u64 vdp_cycles(void)
{
	return get_cycles();
}

/* Monotonic nanoseconds, for rate limiters that need finer steps than jiffies. */
u64 vdp_now_ns(void)
{
	return ktime_get_ns();
}

/* Nanoseconds since the epoch, for what carries the time of day (IP timestamp options). */
u64 vdp_wall_clock_ns(void)
{
	return ktime_get_real_ns();
}
