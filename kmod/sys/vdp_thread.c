// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel threads for tenants: creation, sleeping until kicked, and stopping.
 *
 * The kthread and wait-queue APIs are macros and static inlines, so the Rust side (thread.rs)
 * drives them through these few functions.
 */
#include <linux/kthread.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include "vdp_sys.h"

struct vdp_thread {
	struct task_struct *task;
	wait_queue_head_t wq;
	atomic_t kicked;
	int (*body)(struct vdp_thread *thread, void *arg);
	void *arg;
};

static int vdp_thread_main(void *data)
{
	struct vdp_thread *thread = data;

	return thread->body(thread, thread->arg);
}

/*
 * Starts a kthread named @name running @body(thread, @arg). Returns 0 and the handle in @out, or
 * a negative errno. The task is pinned with a reference so stopping it is safe even if @body has
 * already returned.
 */
int vdp_thread_start(int (*body)(struct vdp_thread *, void *), void *arg, const char *name,
		     struct vdp_thread **out)
{
	struct vdp_thread *thread = kzalloc(sizeof(*thread), GFP_KERNEL);
	struct task_struct *task;

	if (!thread)
		return -ENOMEM;
	init_waitqueue_head(&thread->wq);
	atomic_set(&thread->kicked, 0);
	thread->body = body;
	thread->arg = arg;
	task = kthread_create(vdp_thread_main, thread, "%s", name);
	if (IS_ERR(task)) {
		kfree(thread);
		return PTR_ERR(task);
	}
	get_task_struct(task);
	thread->task = task;
	*out = thread;
	wake_up_process(task);
	return 0;
}

/* Stops the thread (waiting for @body to return) and frees the handle. */
void vdp_thread_stop(struct vdp_thread *thread)
{
	kthread_stop(thread->task);
	put_task_struct(thread->task);
	kfree(thread);
}

/* Wakes the thread if it is waiting for work. Safe from any context. */
void vdp_thread_kick(struct vdp_thread *thread)
{
	atomic_set(&thread->kicked, 1);
	wake_up(&thread->wq);
}

/*
 * Called by the thread itself: sleeps until kicked or asked to stop, without counting towards
 * the load average. Returns true when the thread must stop.
 */
bool vdp_thread_wait(struct vdp_thread *thread)
{
	wait_event_idle(thread->wq, atomic_xchg(&thread->kicked, 0) || kthread_should_stop());
	return kthread_should_stop();
}

void vdp_thread_yield(void)
{
	cond_resched();
}

int vdp_thread_pid(const struct vdp_thread *thread)
{
	return task_pid_nr(thread->task);
}
