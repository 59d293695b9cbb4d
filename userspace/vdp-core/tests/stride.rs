use vdp_core::stride::{advance, arrange, next, IdleRound, StrideEntry, DEFAULT_TICKETS};

/// Runs `rounds` task runs and returns how often each task ran.
fn shares(tickets: &[u32], rounds: usize) -> Vec<usize> {
    let mut queue: Vec<StrideEntry> =
        tickets.iter().enumerate().map(|(task, &t)| StrideEntry::new(task as u32, t)).collect();
    arrange(&mut queue);
    let mut runs = vec![0; tickets.len()];
    for _ in 0..rounds {
        let task = next(&queue).expect("a task") as usize;
        runs[task] += 1;
        advance(&mut queue);
    }
    runs
}

#[test]
fn equal_tickets_are_round_robin() {
    let mut queue: Vec<StrideEntry> = (0..5).map(|t| StrideEntry::new(t, DEFAULT_TICKETS)).collect();
    arrange(&mut queue);
    let mut order = Vec::new();
    for _ in 0..10 {
        order.push(next(&queue).unwrap());
        advance(&mut queue);
    }
    assert_eq!(order, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
}

#[test]
fn runs_follow_tickets() {
    assert_eq!(shares(&[1024, 2048, 512], 3500), [1000, 2000, 500]);
    assert_eq!(shares(&[65536, 1], 65537), [65536, 1]);
}

#[test]
fn many_tasks_share_exactly() {
    let tickets: Vec<u32> = (1..=100).map(|i| i * 16).collect();
    let total: u32 = tickets.iter().sum();
    let runs = shares(&tickets, total as usize);
    for (task, &t) in tickets.iter().enumerate() {
        assert_eq!(runs[task], t as usize, "task {task}");
    }
}

#[test]
fn empty_and_zero_tickets() {
    let mut queue: Vec<StrideEntry> = Vec::new();
    arrange(&mut queue);
    assert_eq!(next(&queue), None);
    advance(&mut queue);
    assert_eq!(shares(&[0, 1], 4), [2, 2]);
}

/// Runs until every task was idle since the last work; `busy(task, run)` says whether a run works.
fn runs_until_idle(tickets: &[u32], mut busy: impl FnMut(u32, usize) -> bool, cap: usize) -> Vec<u32> {
    let mut queue: Vec<StrideEntry> =
        tickets.iter().enumerate().map(|(task, &t)| StrideEntry::new(task as u32, t)).collect();
    arrange(&mut queue);
    let mut round = IdleRound::new();
    let mut order = Vec::new();
    for run in 0..cap {
        if round.all_idle(&queue) {
            break;
        }
        let task = next(&queue).unwrap();
        order.push(task);
        round.record(&mut queue, busy(task, run));
        advance(&mut queue);
    }
    order
}

#[test]
fn idle_round_waits_for_every_task() {
    // Task 0 holds four times the tickets and never works; task 1 works on its first run only.
    // Counting idle runs in a row would stop before task 1 ran; counting tasks does not.
    let mut first = true;
    let order = runs_until_idle(&[4096, 1024], |task, _| task == 1 && std::mem::take(&mut first), 100);
    assert!(order.contains(&1));
    let ones = order.iter().filter(|&&t| t == 1).count();
    assert_eq!(ones, 2, "task 1 runs once with work and once idle: {order:?}");
    // Nothing works: each task runs at most until all were seen idle.
    let order = runs_until_idle(&[1024, 1024, 1024], |_, _| false, 100);
    assert_eq!(order, [0, 1, 2]);
    // Always busy: the cap ends it.
    assert_eq!(runs_until_idle(&[1024], |_, _| true, 7).len(), 7);
    // Restarting forgets earlier idle runs.
    let mut queue = vec![StrideEntry::new(0, 1024)];
    let mut round = IdleRound::new();
    round.record(&mut queue, false);
    assert!(round.all_idle(&queue));
    round.restart();
    assert!(!round.all_idle(&queue));
}
