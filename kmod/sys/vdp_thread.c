// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel threads for tenants: creation, sleeping until kicked, and stopping.
 *
 * The kthread and wait-queue APIs are macros and static inlines, so the Rust side (thread.rs)
 * drives them through these few functions.
 */
#include <linux/cgroup.h>
#include <linux/cpumask.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/kthread.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/cputime.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include "vdp_sys.h"

struct vdp_thread {
	struct task_struct *task;
	int (*body)(struct vdp_thread *thread, void *arg);
	void *arg;
};

/*
 * Where a tenant's threads sleep until work arrives: rung by queues, installs and parameter
 * changes. A ring bumps @rings and wakes every sleeper; each thread waits for @rings to move past
 * the value it read before its last pass, so one thread waking cannot swallow another's ring.
 */
struct vdp_doorbell {
	wait_queue_head_t wq;
	atomic_t rings;
};

static int vdp_thread_main(void *data)
{
	struct vdp_thread *thread = data;

	return thread->body(thread, thread->arg);
}

/*
 * Starts a kthread named @name running @body(thread, @arg). Returns 0 and the handle in @out, or
 * a negative errno. The task is pinned with a reference so stopping it is safe even if @body has
 * already returned. With @cgroups_of, the new thread joins that task's cgroups before it first
 * runs: a tenant's later threads are billed, and held, where its first thread is.
 */
int vdp_thread_start(int (*body)(struct vdp_thread *, void *), void *arg, const char *name,
		     struct task_struct *cgroups_of, struct vdp_thread **out)
{
	int err;

	struct vdp_thread *thread = kzalloc(sizeof(*thread), GFP_KERNEL);
	struct task_struct *task;

	if (!thread)
		return -ENOMEM;
	thread->body = body;
	thread->arg = arg;
	task = kthread_create(vdp_thread_main, thread, "%s", name);
	if (IS_ERR(task)) {
		kfree(thread);
		return PTR_ERR(task);
	}
	if (cgroups_of) {
		err = cgroup_attach_task_all(cgroups_of, task);
		if (err) {
			/* Never woken, so the body never runs; kthread_stop reaps it. */
			kthread_stop(task);
			kfree(thread);
			return err;
		}
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

struct vdp_doorbell *vdp_doorbell_new(void)
{
	struct vdp_doorbell *bell = kzalloc(sizeof(*bell), GFP_KERNEL);

	if (!bell)
		return NULL;
	init_waitqueue_head(&bell->wq);
	atomic_set(&bell->rings, 0);
	return bell;
}

void vdp_doorbell_free(struct vdp_doorbell *bell)
{
	kfree(bell);
}

/*
 * Wakes the threads waiting on @bell, or makes their next wait return at once. Any context. The
 * increment is fully ordered, so whatever the ringer wrote before (a queued packet) is visible to
 * a thread that sees the new count. The wait queue's lock is taken only when a thread sleeps on
 * it: while the threads run, a ring costs the increment alone. wq_has_sleeper's barrier pairs
 * with the one prepare_to_wait_event sets before the waiter reads @rings again, so a waiter
 * either is seen here or sees the new count.
 */
void vdp_doorbell_ring(struct vdp_doorbell *bell)
{
	atomic_inc_return(&bell->rings);
	if (wq_has_sleeper(&bell->wq))
		wake_up(&bell->wq);
}

/* The ring count; a thread reads it before a pass and waits for it to change. */
u32 vdp_doorbell_rings(struct vdp_doorbell *bell)
{
	return (u32)atomic_read_acquire(&bell->rings);
}

/*
 * Called by a kthread: sleeps until @bell has rung since its count read @seen or the thread is
 * asked to stop, without counting towards the load average. Returns true when the thread must
 * stop.
 */
bool vdp_doorbell_wait(struct vdp_doorbell *bell, u32 seen)
{
	wait_event_idle(bell->wq, (u32)atomic_read(&bell->rings) != seen || kthread_should_stop());
	return kthread_should_stop();
}

/*
 * Like vdp_doorbell_wait, but also wakes at @deadline_ns on the monotonic clock (ktime_get_ns), on
 * a high-resolution timer: a task held back by a rate asks to run again when it may send, and
 * the thread sleeps until then instead of polling. A deadline already past returns at once.
 */
bool vdp_doorbell_wait_until(struct vdp_doorbell *bell, u32 seen, u64 deadline_ns)
{
	u64 now = ktime_get_ns();

	if (deadline_ns > now && (u32)atomic_read(&bell->rings) == seen && !kthread_should_stop())
		__wait_event_hrtimeout(bell->wq,
				       (u32)atomic_read(&bell->rings) != seen || kthread_should_stop(),
				       ns_to_ktime(deadline_ns - now), TASK_IDLE);
	return kthread_should_stop();
}

bool vdp_thread_should_stop(void)
{
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

/* A counted reference to @thread's task; drop it with vdp_task_put. */
struct task_struct *vdp_thread_task(struct vdp_thread *thread)
{
	return get_task_struct(thread->task);
}

void vdp_task_put(struct task_struct *task)
{
	put_task_struct(task);
}

/*
 * The cpu.max that holds @task (its cgroup's or a stricter ancestor's), in ns; @quota_ns is
 * U64_MAX without a limit. Any context: the helper our kernel patch adds reads under RCU.
 */
void vdp_task_cpu_limit(struct task_struct *task, u64 *quota_ns, u64 *period_ns)
{
	sched_task_cfs_bandwidth(task, quota_ns, period_ns);
}

/*
 * Lets @task run only on the CPUs of @words (@nwords 64-bit words, CPU n at bit n % 64 of word
 * n / 64), or on any CPU when @words is NULL. Bits at or past nr_cpu_ids are ignored; the caller
 * has checked that every CPU it names is online. Returns 0 or a negative errno (-EINVAL when no
 * CPU named is usable).
 */
int vdp_task_set_cpus(struct task_struct *task, const u64 *words, unsigned int nwords)
{
	cpumask_var_t mask;
	unsigned int cpu;
	int err;

	if (!words)
		return set_cpus_allowed_ptr(task, cpu_possible_mask);
	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	for (cpu = 0; cpu < nr_cpu_ids && cpu / 64 < nwords; cpu++)
		if (words[cpu / 64] & (1ULL << (cpu % 64)))
			cpumask_set_cpu(cpu, mask);
	err = cpumask_empty(mask) ? -EINVAL : set_cpus_allowed_ptr(task, mask);
	free_cpumask_var(mask);
	return err;
}

/*
 * vdp_task_set_cpus for the calling thread. A kthread sets its own CPUs once it runs: kthread()
 * gives every new unbound kthread the housekeeping CPUs before its body starts, which would
 * undo a mask set on it before its first wake-up.
 */
int vdp_thread_set_own_cpus(const u64 *words, unsigned int nwords)
{
	return vdp_task_set_cpus(current, words, nwords);
}

/* Whether @cpu is a CPU number of this machine that is online now. */
bool vdp_cpu_online(unsigned int cpu)
{
	return cpu < nr_cpu_ids && cpu_online(cpu);
}

/*
 * CPU time the calling thread has run, in ns. @exact folds in the slice running now, at the cost
 * of the runqueue lock; otherwise the figure lags by at most the time since the last tick or
 * switch, which the next reading catches up on, so nothing is lost over time.
 */
u64 vdp_thread_runtime_ns(bool exact)
{
	if (exact)
		return task_sched_runtime(current);
	return READ_ONCE(current->se.sum_exec_runtime);
}

/*
 * Called by a kthread held back by its tenant's CPU budget: sleeps until @deadline_ns on the
 * monotonic clock, or until it is asked to stop. Doorbell rings do not end this sleep. Returns
 * true when the thread must stop.
 */
bool vdp_thread_sleep_until(u64 deadline_ns)
{
	ktime_t deadline = ns_to_ktime(deadline_ns);

	set_current_state(TASK_IDLE);
	if (kthread_should_stop()) {
		__set_current_state(TASK_RUNNING);
		return true;
	}
	schedule_hrtimeout(&deadline, HRTIMER_MODE_ABS);
	__set_current_state(TASK_RUNNING);
	return kthread_should_stop();
}
