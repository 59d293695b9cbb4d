// SPDX-License-Identifier: GPL-2.0
/*
 * The tenant channel device, /dev/vdp: the file operations table, the wait queue poll sleeps on,
 * the ring memory (vmalloc, charged to the active memory cgroup) and its mapping into the
 * container engine's address space. See docs/channel.md.
 *
 * Every decision is made in Rust (kmod/tenant/channel.rs, through kmod/sys/channel.rs): this
 * file only checks what the kernel interface requires (privilege, the ioctl's size, the shape of
 * a mapping) and calls the vdp_rs_channel_* functions. One struct vdp_chan lives per open file;
 * it is reference counted because the tenant's bound channel (Rust) keeps waking its pollers
 * after the file may already be gone.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include "vdp_sys.h"

/* The ioctl numbers kmod/core/uapi.rs (channel::BIND, channel::KICK) gives userspace. */
#define VDP_CHANNEL_BIND _IOW('V', 0x01, struct vdp_channel_bind)
#define VDP_CHANNEL_KICK _IO('V', 0x02)
static_assert(sizeof(struct vdp_channel_bind) == 16);
static_assert(VDP_CHANNEL_BIND == 0x40105601);
static_assert(VDP_CHANNEL_KICK == 0x5602);

struct vdp_chan {
	struct kref ref;
	/* Poll sleeps here: woken when a down ring fills for a waiting engine, and on hang-up. */
	wait_queue_head_t wq;
	/* Serialises VDP_CHANNEL_BIND on this file. */
	struct mutex bind_lock;
	/*
	 * The Rust binding (one reference of an Arc), set once under @bind_lock with release
	 * semantics and read with acquire; owned by the file until release.
	 */
	void *owner;
	/* Set once the channel was replaced or its tenant deleted. */
	atomic_t hup;
};

static void vdp_chan_free(struct kref *ref)
{
	kfree(container_of(ref, struct vdp_chan, ref));
}

void vdp_chan_get(struct vdp_chan *chan)
{
	kref_get(&chan->ref);
}

void vdp_chan_put(struct vdp_chan *chan)
{
	kref_put(&chan->ref, vdp_chan_free);
}

/* The engine has packets to take on a down ring: wakes its poll or epoll_wait. Any context. */
void vdp_chan_wake(struct vdp_chan *chan)
{
	wake_up_interruptible_poll(&chan->wq, EPOLLIN | EPOLLRDNORM);
}

/* The channel was detached: poll reports EPOLLHUP from now on. */
void vdp_chan_hangup(struct vdp_chan *chan)
{
	atomic_set(&chan->hup, 1);
	wake_up_interruptible_poll(&chan->wq, EPOLLHUP);
}

/*
 * Ring memory: zeroed (so nothing of the kernel's leaks into the mapping), page-aligned, and
 * with __GFP_ACCOUNT charged to the active memory cgroup, which the Rust caller sets to the
 * tenant's. vmalloc_user() cannot be used because it does not account, so the mapping inserts
 * the pages one by one (as remap_vmalloc_range does) instead of requiring VM_USERMAP.
 */
void *vdp_region_alloc(size_t size)
{
	return __vmalloc(PAGE_ALIGN(size), GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
}

void vdp_region_free(void *region)
{
	vfree(region);
}

static int vdp_chan_open(struct inode *inode, struct file *file)
{
	struct vdp_chan *chan = kzalloc(sizeof(*chan), GFP_KERNEL_ACCOUNT);
	int err;

	if (!chan)
		return -ENOMEM;
	kref_init(&chan->ref);
	init_waitqueue_head(&chan->wq);
	mutex_init(&chan->bind_lock);
	atomic_set(&chan->hup, 0);
	err = nonseekable_open(inode, file);
	if (err) {
		vdp_chan_put(chan);
		return err;
	}
	file->private_data = chan;
	return 0;
}

static int vdp_chan_release(struct inode *inode, struct file *file)
{
	struct vdp_chan *chan = file->private_data;
	void *owner = smp_load_acquire(&chan->owner);

	if (owner)
		vdp_rs_channel_release(owner);
	vdp_chan_put(chan);
	return 0;
}

static long vdp_chan_bind(struct file *file, struct vdp_chan *chan, unsigned long arg)
{
	struct vdp_channel_bind req;
	void *owner = NULL;
	int err;

	/* The opener (the file may have been passed on) and the caller must both hold it. */
	if (!file_ns_capable(file, &init_user_ns, CAP_NET_ADMIN) || !capable(CAP_NET_ADMIN))
		return -EPERM;
	if (copy_from_user(&req, (const void __user *)arg, sizeof(req)))
		return -EFAULT;
	mutex_lock(&chan->bind_lock);
	if (chan->owner) {
		err = -EBUSY;
	} else {
		err = vdp_rs_channel_bind(chan, &req, &owner);
		if (!err)
			smp_store_release(&chan->owner, owner);
	}
	mutex_unlock(&chan->bind_lock);
	return err;
}

static long vdp_chan_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vdp_chan *chan = file->private_data;
	void *owner;

	switch (cmd) {
	case VDP_CHANNEL_BIND:
		return vdp_chan_bind(file, chan, arg);
	case VDP_CHANNEL_KICK:
		owner = smp_load_acquire(&chan->owner);
		if (!owner)
			return -EBADFD;
		return vdp_rs_channel_kick(owner);
	default:
		return -ENOTTY;
	}
}

static __poll_t vdp_chan_poll(struct file *file, poll_table *wait)
{
	struct vdp_chan *chan = file->private_data;
	void *owner;

	poll_wait(file, &chan->wq, wait);
	if (atomic_read(&chan->hup))
		return EPOLLHUP;
	owner = smp_load_acquire(&chan->owner);
	if (owner && vdp_rs_channel_readable(owner))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}

/*
 * Maps the whole region, or its first part, shared and writable: offset 0 only, no private
 * (copy-on-write) or executable mapping, and the mapping can neither grow (mremap) nor be
 * dumped. The mapping holds the file, and so the region, until it is unmapped.
 */
static int vdp_chan_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vdp_chan *chan = file->private_data;
	void *owner = smp_load_acquire(&chan->owner);
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long off;
	size_t size;
	char *region;
	int err;

	if (!owner)
		return -EBADFD;
	region = vdp_rs_channel_region(owner, &size);
	if (!region)
		return -EBADFD;
	if (vma->vm_pgoff != 0 || len == 0 || len > PAGE_ALIGN(size))
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYEXEC);
	for (off = 0; off < len; off += PAGE_SIZE) {
		struct page *page = vmalloc_to_page(region + off);

		if (!page)
			return -EFAULT;
		err = vm_insert_page(vma, vma->vm_start + off, page);
		if (err)
			return err;
	}
	return 0;
}

static const struct file_operations vdp_chan_fops = {
	.owner = THIS_MODULE,
	.open = vdp_chan_open,
	.release = vdp_chan_release,
	.unlocked_ioctl = vdp_chan_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.poll = vdp_chan_poll,
	.mmap = vdp_chan_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice vdp_chan_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vdp",
	.fops = &vdp_chan_fops,
	.mode = 0600,
};

int vdp_channel_register(void)
{
	return misc_register(&vdp_chan_misc);
}

void vdp_channel_unregister(void)
{
	misc_deregister(&vdp_chan_misc);
}
