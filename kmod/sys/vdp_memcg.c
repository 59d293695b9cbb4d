// SPDX-License-Identifier: GPL-2.0
/*
 * Memory accounting for tenants: the memory a tenant's graph, tables and queues take is charged
 * to the memory cgroup of the tenant's thread 0 (its data plane's cgroup), whoever's context
 * allocates it (a netlink request from the coordinator, or the tenant's own thread).
 *
 * mem_cgroup_from_task() wants RCU and gives no reference; set_active_memcg() is a static
 * inline. The Rust side (memcg.rs) goes through these three functions.
 */
#include <linux/memcontrol.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include "vdp_sys.h"

/* A reference on @task's memory cgroup, or NULL (no memcg, or the group is going away). */
struct mem_cgroup *vdp_task_memcg_get(struct task_struct *task)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg;

	rcu_read_lock();
	memcg = mem_cgroup_from_task(task);
	if (memcg && !css_tryget(&memcg->css))
		memcg = NULL;
	rcu_read_unlock();
	return memcg;
#else
	return NULL;
#endif
}

void vdp_memcg_put(struct mem_cgroup *memcg)
{
	mem_cgroup_put(memcg);
}

/*
 * Makes @memcg the target of the calling context's __GFP_ACCOUNT allocations (NULL: the
 * context's own); returns the previous target, which the caller must restore.
 */
struct mem_cgroup *vdp_memcg_set_active(struct mem_cgroup *memcg)
{
	return set_active_memcg(memcg);
}
