//! The fuzzing loop: what to send, and the counts of what came back.

use crate::graphs::{self, Base};
use crate::nl::{self, Body, Outcome, RawSocket};
use crate::rng::Rng;
use crate::spec::{self, AttrSpec, AttrType, OpSpec, Spec};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vdp_click::system::SystemConfig;
use vdp_core::catalog::{self, ElementClass};
use vdp_core::uapi::{self, attr, cmd};

#[derive(clap::Args)]
pub struct FuzzArgs {
    /// Seed; printed at the start so that a run can be repeated.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Messages to send.
    #[arg(long, default_value_t = 100_000)]
    messages: u64,
    /// Stop after this many seconds even if fewer messages were sent.
    #[arg(long, default_value_t = 200)]
    seconds: u64,
    /// System config the module's tenants, ports and devices come from; the fuzzer re-applies
    /// it with `vdpctl system apply` now and then, since it deletes them too.
    #[arg(long)]
    system: Option<PathBuf>,
    /// Messages between two re-applications of the system config.
    #[arg(long, default_value_t = 2000)]
    restore_every: u64,
    /// From this message on, print each request and its outcome to stderr (to find the one a
    /// kernel hangs on).
    #[arg(long)]
    trace_from: Option<u64>,
}

/// The first `most` bytes of `bytes` in hex, for traces.
fn hex_prefix(bytes: &[u8], most: usize) -> String {
    bytes.iter().take(most).map(|b| format!("{b:02x}")).collect()
}

/// Tenants of the system config: id = position + 1. Graphs go to these.
const GRAPH_TENANTS: [u32; 2] = [1, 2];
/// Tenant ids the attribute fuzzing uses most (it creates and deletes them).
const SPARE_TENANTS: [u32; 4] = [3, 4, 5, 6];

#[derive(Default)]
struct Tally {
    by_command: BTreeMap<String, BTreeMap<Outcome, u64>>,
    by_mutation: BTreeMap<&'static str, (u64, u64)>,
    messages: u64,
    accepted: u64,
    graphs_installed: u64,
    hotswaps: u64,
    graphs_removed: u64,
    blobs_sent: u64,
    blobs_valid_userspace: u64,
    blobs_accepted: u64,
    handler_accepted: u64,
    restore_failures: u64,
    restores_on_demand: u64,
    /// Up to three distinct extack messages per command and outcome.
    extacks: BTreeMap<(String, Outcome), Vec<String>>,
    /// Time spent waiting for the kernel, per command.
    time: BTreeMap<String, Duration>,
    /// Blobs the kernel accepted although the shared validator refuses them in userspace.
    disagreements: Vec<String>,
}

struct Fuzzer {
    spec: Spec,
    family: u16,
    sock: RawSocket,
    rng: Rng,
    system: SystemConfig,
    bases: Vec<Base>,
    /// Element names and classes of the graph each tenant runs, as far as the fuzzer knows.
    installed: HashMap<u32, Vec<(String, &'static ElementClass)>>,
    /// Tenants the fuzzer created beyond the system config's, to delete again.
    created: BTreeSet<u32>,
    handler_names: Vec<&'static str>,
    tally: Tally,
    /// A request deleted part of the system config's state (a config tenant, a device, the
    /// port): put it back before the next request, or most graphs would meet ENOENT.
    need_restore: bool,
    trace_from: Option<u64>,
}

const IFNAMES: &[&str] = &["phys0", "lo", "wire", "fz0", "", "phys0phys0phys0x", "eth1"];
const VDEV_NAMES: &[&str] = &["eth1", "eth2", "fz1", "fz2", "", "a/b", "a:b", "toolongdevicename"];

impl Fuzzer {
    fn label(&self, command: u8) -> String {
        self.spec.op(command).map_or_else(|| format!("cmd-{command}"), |o| o.name.clone())
    }

    fn record(&mut self, label: String, outcome: Outcome, took: Duration) {
        if let Some(text) = self.sock.extack.take() {
            let seen = self.tally.extacks.entry((label.clone(), outcome)).or_default();
            if seen.len() < 3 && !seen.contains(&text) {
                seen.push(text);
            }
        }
        *self.tally.time.entry(label.clone()).or_default() += took;
        *self.tally.by_command.entry(label).or_default().entry(outcome).or_default() += 1;
        self.tally.messages += 1;
        if outcome == Outcome::Accepted {
            self.tally.accepted += 1;
        }
    }

    /// Sends one request built from its parts and records the outcome.
    fn send(&mut self, command: u8, flags: u16, version: u8, body: &[u8]) -> anyhow::Result<(Outcome, Vec<Vec<u8>>)> {
        let seq = self.sock.next_seq();
        let bytes = nl::message(self.family, flags, seq, command, version, body);
        let label = self.label(command);
        let traced = self.trace_from.is_some_and(|from| self.tally.messages >= from);
        if traced {
            eprintln!("vdp-fuzz trace #{}: {} flags {:#x}, {} bytes: {}", self.tally.messages, label, flags, bytes.len(), hex_prefix(&bytes, 96));
        }
        let start = Instant::now();
        let answer = self.sock.transact(&bytes, seq)?;
        if traced {
            eprintln!("vdp-fuzz trace #{}: {:?}", self.tally.messages, answer.0);
        }
        self.record(label, answer.0, start.elapsed());
        Ok(answer)
    }

    fn request(&mut self, command: u8, body: &Body) -> anyhow::Result<Outcome> {
        Ok(self.send(command, nl::NLM_F_REQUEST | nl::NLM_F_ACK, uapi::FAMILY_VERSION, &body.0)?.0)
    }

    fn graph_tenant(&mut self) -> u32 {
        *self.rng.choose(&GRAPH_TENANTS)
    }

    fn any_tenant(&mut self) -> u32 {
        match self.rng.below(20) {
            0..=7 => self.graph_tenant(),
            8..=15 => *self.rng.choose(&SPARE_TENANTS),
            16 => 0,
            17 => u32::MAX,
            18 => uapi::TENANTS_MAX + 1,
            _ => self.rng.next() as u32,
        }
    }

    // --- values ---

    fn u32_value(&mut self, a: &AttrSpec) -> u32 {
        let (min, max) = (a.min.unwrap_or(0), a.max.unwrap_or(u64::from(u32::MAX)));
        match self.rng.below(8) {
            0 => min.saturating_sub(1) as u32,
            1 => max.saturating_add(1).min(u64::from(u32::MAX)) as u32,
            2 => *self.rng.choose(&[0, 1, u32::MAX, i32::MAX as u32, 0x8000_0000]),
            3 => min as u32,
            4 => max as u32,
            _ => (min + self.rng.below((max - min).saturating_add(1).min(64))) as u32,
        }
    }

    /// A u64 at, just past or between the attribute's bounds (the transmit caps'), or any.
    fn u64_value(&mut self, a: &AttrSpec) -> u64 {
        if a.min.is_none() && a.max.is_none() {
            return self.rng.next();
        }
        let (min, max) = (a.min.unwrap_or(0), a.max.unwrap_or(u64::MAX));
        match self.rng.below(7) {
            0 => min.saturating_sub(1),
            1 => max.saturating_add(1),
            2 => *self.rng.choose(&[0, 1, u64::MAX]),
            3 => min,
            4 => max,
            5 => self.rng.next(),
            _ => min + self.rng.below((max - min).saturating_add(1).min(1 << 20)),
        }
    }

    fn string_for(&mut self, a: &AttrSpec) -> Vec<u8> {
        let text: String = match a.number {
            attr::TENANT_NAME => self.rng.choose(&["red", "blue", "fz3", "fz4", "a", "Upper", "9x", "bad-name", "twelvechars1", "x_y"]).to_string(),
            attr::IFNAME => self.rng.choose(IFNAMES).to_string(),
            attr::VDEV_NAME => self.rng.choose(VDEV_NAMES).to_string(),
            attr::ELEMENT => self.element_name(),
            attr::HANDLER => self.rng.choose(&self.handler_names).to_string(),
            _ => "x".to_string(),
        };
        let mut bytes = text.into_bytes();
        match self.rng.below(10) {
            0 => {} // no NUL
            1 => bytes.splice(0..0, [0u8]).for_each(drop),
            2 => {
                let at = self.rng.below(bytes.len() as u64 + 1) as usize;
                bytes.insert(at, 0);
                bytes.push(0);
            }
            3 => {
                let n = a.max_len.unwrap_or(64) + self.rng.below(3) as usize;
                bytes = vec![b'a'; n];
                bytes.push(0);
            }
            4 => {
                bytes = vec![0xff, 0xfe, b'a'];
                bytes.push(0);
            }
            _ => bytes.push(0),
        }
        bytes
    }

    fn element_name(&mut self) -> String {
        let names: Vec<String> = self.installed.values().flatten().map(|(n, _)| n.clone()).collect();
        match self.rng.maybe_choose(&names) {
            Some(n) if self.rng.below(5) != 0 => n.clone(),
            _ => self.rng.choose(&["red/c", "nosuch", "", "red/", "/", "red/p1/rx"]).to_string(),
        }
    }

    fn handler_value(&mut self) -> Vec<u8> {
        let text: String = match self.rng.below(16) {
            0 => self.rng.below(10_000).to_string(),
            1 => (self.rng.next() as i64).to_string(),
            2 => "-1".into(),
            3 => "99999999999999999999999".into(),
            4 => "true".into(),
            5 => "false".into(),
            6 => format!("10.{}.0.0/16 {}", self.rng.below(256), self.rng.below(4)),
            7 => format!("0.0.0.0/0 10.0.0.{} {}", self.rng.below(256), self.rng.below(70000)),
            8 => "10.0.0.0/33 1".into(),
            9 => String::new(),
            10 => "1 2 3".into(),
            11 => return self.rng.garbage(300),
            12 => return vec![b'7'; self.rng.choose(&[4096usize, 61440, 61441]).to_owned()],
            13 => "0x10".into(),
            14 => "1\n10.0.0.0/8 0\n".into(),
            _ => format!("{}", self.rng.below(3)),
        };
        let mut bytes = text.into_bytes();
        if self.rng.below(10) == 0 {
            bytes.push(0);
        }
        bytes
    }

    /// A value for `a`, usually of the right type and often within its checks.
    fn value_for(&mut self, a: &AttrSpec) -> Vec<u8> {
        if self.rng.below(12) == 0 {
            // Wrong length for the type.
            let n = *self.rng.choose(&[0usize, 1, 2, 3, 5, 7, 9, 16]);
            return self.rng.bytes(n);
        }
        match a.kind {
            AttrType::U32 => {
                let v = match a.number {
                    attr::TENANT_ID => self.any_tenant(),
                    attr::LOCAL => u32::from_be_bytes([192, 0, 2, 1]).to_be(),
                    attr::REMOTE => u32::from_be_bytes([192, 0, 2, 30 + self.rng.below(10) as u8]).to_be(),
                    _ => self.u32_value(a),
                };
                v.to_ne_bytes().to_vec()
            }
            AttrType::U8 => [self.u32_value(&AttrSpec { max: Some(a.max.unwrap_or(255).min(255)), ..a.clone() }) as u8].to_vec(),
            AttrType::U64 => self.u64_value(a).to_ne_bytes().to_vec(),
            AttrType::String => self.string_for(a),
            AttrType::Binary => match a.number {
                attr::GRAPH => {
                    let base = self.rng.below(self.bases.len() as u64) as usize;
                    self.bases[base].blob.clone()
                }
                attr::VALUE => self.handler_value(),
                _ => {
                    let n = a.exact_len.unwrap_or(8);
                    let n = if self.rng.below(4) == 0 { n + 1 } else { n };
                    self.rng.bytes(n)
                }
            },
            AttrType::Nest | AttrType::Pad => self.garbage_nest(2),
        }
    }

    /// Attributes inside attributes, some lying about their lengths.
    fn garbage_nest(&mut self, depth: u32) -> Vec<u8> {
        let mut body = Body::default();
        for _ in 0..self.rng.below(4) {
            let kind = self.rng.below(20) as u16;
            if depth > 0 && self.rng.coin() {
                let inner = self.garbage_nest(depth - 1);
                body.attr(kind | nl::NLA_F_NESTED, &inner);
            } else if self.rng.below(4) == 0 {
                let payload = self.rng.garbage(12);
                let len = *self.rng.choose(&[0u16, 3, 4, 200, u16::MAX]);
                body.attr_lying(kind, len, &payload);
            } else {
                let payload = self.rng.garbage(12);
                body.attr(kind, &payload);
            }
        }
        body.0
    }

    // --- messages ---

    /// A request for a random command with random attributes.
    fn attribute_fuzz(&mut self) -> anyhow::Result<()> {
        let op: Option<OpSpec> = if self.rng.below(8) == 0 { None } else { Some(self.rng.choose(&self.spec.ops).clone()) };
        let random = self.rng.next() as u8;
        let command = op.as_ref().map_or_else(|| *self.rng.choose(&[0u8, 24, 25, 39, 100, 255, random]), |o| o.number);
        let wanted: Vec<u16> = op.as_ref().map(|o| o.request.clone()).unwrap_or_default();
        let mut body = Body::default();
        for number in wanted {
            if self.rng.below(10) < 8 {
                let Some(a) = self.spec.attr(number).cloned() else { continue };
                let value = self.value_for(&a);
                let kind = if self.rng.below(30) == 0 { number | nl::NLA_F_NESTED } else { number };
                body.attr(kind, &value);
                if self.rng.below(12) == 0 {
                    // Duplicated attribute, with another value.
                    let again = self.value_for(&a);
                    body.attr(number, &again);
                }
            }
        }
        for _ in 0..self.rng.below(3) {
            if self.rng.below(3) == 0 {
                // An attribute the command does not take, or one beyond the maximum.
                let kind = match self.rng.below(4) {
                    0 => 0,
                    1 => self.spec.max_attr() + 1 + self.rng.below(20) as u16,
                    _ => 1 + self.rng.below(u64::from(self.spec.max_attr())) as u16,
                };
                let a = self.spec.attr(kind).cloned();
                let value = match a {
                    Some(a) => self.value_for(&a),
                    None => self.rng.garbage(10),
                };
                body.attr(kind, &value);
            }
        }
        match self.rng.below(20) {
            0 => {
                let payload = self.rng.garbage(16);
                let len = *self.rng.choose(&[0u16, 1, 3, 4, 100, 4000, u16::MAX]);
                body.attr_lying(self.rng.below(u64::from(self.spec.max_attr()) + 1) as u16, len, &payload);
            }
            1 => {
                let keep = self.rng.below(body.0.len() as u64 + 1) as usize;
                body.0.truncate(keep);
            }
            2 => {
                let nest = self.garbage_nest(3);
                body.attr(self.rng.below(48) as u16 | nl::NLA_F_NESTED, &nest);
            }
            _ => {}
        }
        let flags = match self.rng.below(20) {
            0 | 1 => nl::NLM_F_REQUEST | nl::NLM_F_ACK | nl::NLM_F_DUMP,
            2 => self.rng.next() as u16 | nl::NLM_F_REQUEST,
            3 => nl::NLM_F_REQUEST,
            _ if op.as_ref().is_some_and(|o| o.dump) => nl::NLM_F_REQUEST | nl::NLM_F_ACK | nl::NLM_F_DUMP,
            _ => nl::NLM_F_REQUEST | nl::NLM_F_ACK,
        };
        let version = if self.rng.below(20) == 0 { self.rng.next() as u8 } else { uapi::FAMILY_VERSION };
        let (outcome, _) = self.send(command, flags, version, &body.0)?;
        self.note_deletion(command, outcome, &body.0);
        if command == cmd::TENANT_NEW && outcome == Outcome::Accepted {
            // With duplicated TENANT_IDs the kernel takes one of them: remember them all.
            self.created.extend(all_u32(&body.0, attr::TENANT_ID));
        }
        if matches!(command, cmd::TENANT_DEL | cmd::GRAPH_REMOVE) && outcome == Outcome::Accepted {
            if let Some(id) = first_u32(&body.0, attr::TENANT_ID) {
                self.installed.remove(&id);
            }
        }
        if command == cmd::GRAPH_INSTALL && outcome == Outcome::Accepted {
            if let (Some(id), Some(blob)) = (first_u32(&body.0, attr::TENANT_ID), first_attr(&body.0, attr::GRAPH)) {
                self.tally.graphs_installed += 1;
                self.installed.insert(id, graphs::elements_of(&blob));
            }
        }
        Ok(())
    }

    fn note_deletion(&mut self, command: u8, outcome: Outcome, body: &[u8]) {
        if outcome != Outcome::Accepted {
            return;
        }
        let config_tenant = all_u32(body, attr::TENANT_ID).iter().any(|id| GRAPH_TENANTS.contains(id));
        match command {
            cmd::PORT_DETACH => self.need_restore = true,
            cmd::TENANT_DEL | cmd::VDEV_DEL if config_tenant => self.need_restore = true,
            _ => {}
        }
    }

    /// Whole messages with broken netlink or genetlink headers.
    fn raw_fuzz(&mut self) -> anyhow::Result<()> {
        let seq = self.sock.next_seq();
        let mut body = Body::default();
        body.u32(attr::TENANT_ID, self.graph_tenant());
        let command = *self.rng.choose(&[cmd::GET_INFO, cmd::TENANT_GET, cmd::STATS, cmd::GRAPH_GET]);
        let mut bytes = nl::message(self.family, nl::NLM_F_REQUEST | nl::NLM_F_ACK, seq, command, uapi::FAMILY_VERSION, &body.0);
        let label = match self.rng.below(8) {
            0 => {
                bytes = self.rng.garbage(40);
                "raw-garbage"
            }
            1 => {
                let len = *self.rng.choose(&[0u32, 4, 15, 16, 17, 19, bytes.len() as u32 + 1, bytes.len() as u32 + 100, u32::MAX]);
                bytes[0..4].copy_from_slice(&len.to_ne_bytes());
                "raw-length"
            }
            2 => {
                bytes.truncate(16 + self.rng.below(4) as usize);
                let len = bytes.len() as u32;
                bytes[0..4].copy_from_slice(&len.to_ne_bytes());
                "raw-short-genl"
            }
            3 => {
                let kind = *self.rng.choose(&[0u16, 1, 2, 3, 4, 15, self.family.wrapping_add(1), self.family.wrapping_add(100), 0xffff]);
                bytes[4..6].copy_from_slice(&kind.to_ne_bytes());
                "raw-type"
            }
            4 => {
                let flags = self.rng.next() as u16;
                bytes[6..8].copy_from_slice(&flags.to_ne_bytes());
                "raw-flags"
            }
            5 => {
                // A good message followed by a bad one in the same buffer.
                let tail_len = bytes.len().min(8 + self.rng.below(20) as usize);
                let tail = bytes[..tail_len].to_vec();
                bytes.extend(tail);
                "raw-two-messages"
            }
            6 => {
                // Misaligned total length: a message whose length is not a multiple of 4.
                bytes.push(self.rng.next() as u8);
                let len = bytes.len() as u32;
                bytes[0..4].copy_from_slice(&len.to_ne_bytes());
                "raw-unaligned"
            }
            _ => {
                bytes[18] = self.rng.next() as u8;
                bytes[19] = self.rng.next() as u8;
                "raw-genl-reserved"
            }
        };
        let start = Instant::now();
        let (outcome, _) = self.sock.transact(&bytes, seq)?;
        self.record(label.to_string(), outcome, start.elapsed());
        Ok(())
    }

    /// A mutated compiled graph installed on one of the system config's tenants.
    fn graph_fuzz(&mut self) -> anyhow::Result<()> {
        let base = self.rng.below(self.bases.len() as u64) as usize;
        let (blob, steps) = if self.rng.below(8) == 0 {
            (self.bases[base].blob.clone(), vec!["unmutated"])
        } else {
            let m = graphs::mutate(&mut self.rng, &self.system, &self.bases[base]);
            (m.blob, m.steps)
        };
        // The shared validator refuses push/pull cycles and chains over the call-depth bound,
        // as the kernel must: every blob is sent, and one the kernel accepts against this
        // verdict is a disagreement that fails the run.
        let valid = vdp_click::compile::validate(&blob).is_ok();
        // A blob compiled for the system config's tenant N goes to tenant N + 1 mostly: the
        // kernel refuses elements of another tenant.
        let own = self.system.tenant.iter().position(|t| self.bases[base].label.starts_with(&format!("{}:", t.name)));
        let tenant = match own {
            Some(i) if self.rng.below(10) != 0 => i as u32 + 1,
            _ => self.graph_tenant(),
        };
        let mut body = Body::default();
        body.u32(attr::TENANT_ID, tenant);
        body.attr(attr::GRAPH, &blob);
        let outcome = self.request(cmd::GRAPH_INSTALL, &body)?;
        self.tally.blobs_sent += 1;
        self.tally.blobs_valid_userspace += u64::from(valid);
        let accepted = outcome == Outcome::Accepted;
        for step in &steps {
            let entry = self.tally.by_mutation.entry(step).or_default();
            entry.0 += 1;
            entry.1 += u64::from(accepted);
        }
        if accepted {
            self.tally.blobs_accepted += 1;
            self.tally.graphs_installed += 1;
            if self.installed.contains_key(&tenant) {
                self.tally.hotswaps += 1;
            }
            if !valid && self.tally.disagreements.len() < 20 {
                self.tally.disagreements.push(format!("{}: {steps:?}", self.bases[base].label));
            }
            self.installed.insert(tenant, graphs::elements_of(&blob));
        }
        Ok(())
    }

    fn handler_fuzz(&mut self) -> anyhow::Result<()> {
        let tenants: Vec<u32> = self.installed.keys().copied().collect();
        let tenant = match self.rng.maybe_choose(&tenants) {
            Some(t) if self.rng.below(10) != 0 => *t,
            _ => self.any_tenant(),
        };
        let elements = self.installed.get(&tenant).cloned().unwrap_or_default();
        let write = self.rng.coin();
        let (element, handler) = match self.rng.maybe_choose(&elements) {
            Some((name, class)) if self.rng.below(8) != 0 => {
                let own = if write { class.write_handlers } else { class.read_handlers };
                let handler = match self.rng.maybe_choose(own) {
                    Some(h) if self.rng.below(5) != 0 => h.name.to_string(),
                    _ => self.rng.choose(&self.handler_names).to_string(),
                };
                (name.clone(), handler)
            }
            _ => (self.element_name(), self.rng.choose(&self.handler_names).to_string()),
        };
        let mut body = Body::default();
        body.u32(attr::TENANT_ID, tenant);
        body.string(attr::ELEMENT, &element);
        body.string(attr::HANDLER, &handler);
        if write && self.rng.below(8) != 0 {
            let value = self.handler_value();
            body.attr(attr::VALUE, &value);
        }
        let outcome = self.request(if write { cmd::HANDLER_WRITE } else { cmd::HANDLER_READ }, &body)?;
        self.tally.handler_accepted += u64::from(outcome == Outcome::Accepted);
        Ok(())
    }

    fn sched_fuzz(&mut self) -> anyhow::Result<()> {
        let mut body = Body::default();
        let tenant = if self.rng.below(5) == 0 { self.any_tenant() } else { self.graph_tenant() };
        body.u32(attr::TENANT_ID, tenant);
        if self.rng.coin() {
            body.u32(attr::THREADS, *self.rng.choose(&[0, 1, 2, 3, 4, 8, 9, u32::MAX]));
        }
        if self.rng.coin() {
            body.u32(attr::TASKS_PER_YIELD, *self.rng.choose(&[0, 1, 2, 64, 4096, 4097]));
        }
        if self.rng.coin() {
            body.u32(attr::TASKS_PER_YIELD_AUTO, *self.rng.choose(&[0, 1, 2]));
        }
        self.request(cmd::SCHED_SET, &body)?;
        Ok(())
    }

    fn device_fuzz(&mut self) -> anyhow::Result<()> {
        let mut body = Body::default();
        let command = *self.rng.choose(&[cmd::VDEV_NEW, cmd::VDEV_NEW, cmd::VDEV_DEL, cmd::VDEV_GET, cmd::PORT_GET, cmd::PORT_ATTACH, cmd::PORT_DETACH]);
        match command {
            cmd::PORT_ATTACH | cmd::PORT_DETACH if command == cmd::PORT_ATTACH || self.rng.below(4) == 0 => {
                let name = if self.rng.below(4) == 0 { self.rng.choose(IFNAMES).to_string() } else { "phys0".to_string() };
                body.string(attr::IFNAME, &name);
            }
            cmd::PORT_GET | cmd::PORT_DETACH => {}
            _ => {
                let tenant = if self.rng.below(3) == 0 { self.any_tenant() } else { self.graph_tenant() };
                body.u32(attr::TENANT_ID, tenant);
                let name = self.rng.choose(VDEV_NAMES).to_string();
                if command != cmd::VDEV_GET || self.rng.coin() {
                    body.string(attr::VDEV_NAME, &name);
                }
                if command == cmd::VDEV_NEW {
                    let ifname = if self.rng.below(5) == 0 { self.rng.choose(IFNAMES).to_string() } else { "phys0".to_string() };
                    body.string(attr::IFNAME, &ifname);
                    body.attr(attr::LOCAL, &[192, 0, 2, 1]);
                    let remote = [*self.rng.choose(&[192u8, 224, 255, 0, 127]), 0, 2, 30 + self.rng.below(20) as u8];
                    body.attr(attr::REMOTE, &remote);
                    body.attr(attr::CARRIES, &[*self.rng.choose(&[1u8, 2, 0, 3])]);
                    body.attr(attr::PEER_MAC, &[2, 0, 0, 0, 0xff, 1]);
                    if self.rng.coin() {
                        body.u32(attr::GRE_KEY, self.rng.below(100) as u32);
                    }
                    if self.rng.below(3) == 0 {
                        body.u32(attr::MTU, *self.rng.choose(&[67, 68, 1500, 65535, 65536]));
                    }
                    if self.rng.below(3) == 0 {
                        body.attr(attr::TTL, &[*self.rng.choose(&[0u8, 1, 255])]);
                    }
                    if self.rng.below(3) == 0 {
                        body.attr(attr::GRE_CSUM, &[*self.rng.choose(&[0u8, 1, 2])]);
                    }
                    if self.rng.below(3) == 0 {
                        body.attr(attr::DONT_FRAGMENT, &[*self.rng.choose(&[0u8, 1, 2])]);
                    }
                    if self.rng.below(4) == 0 {
                        let n = *self.rng.choose(&[5usize, 6, 6, 7]);
                        let mac = self.rng.bytes(n);
                        body.attr(attr::MAC, &mac);
                    }
                }
            }
        }
        let outcome = self.request(command, &body)?;
        self.note_deletion(command, outcome, &body.0);
        Ok(())
    }

    fn graph_remove_or_get(&mut self) -> anyhow::Result<()> {
        let tenant = self.graph_tenant();
        let mut body = Body::default();
        body.u32(attr::TENANT_ID, tenant);
        if self.rng.coin() {
            if self.request(cmd::GRAPH_REMOVE, &body)? == Outcome::Accepted {
                self.installed.remove(&tenant);
                self.tally.graphs_removed += 1;
            }
        } else {
            self.request(cmd::GRAPH_GET, &body)?;
        }
        Ok(())
    }

    /// Puts the system config's tenants, ports and devices back, and deletes extra tenants.
    fn restore(&mut self, system: Option<&PathBuf>, spares: bool) -> anyhow::Result<()> {
        self.need_restore = false;
        let mut extra = std::mem::take(&mut self.created);
        if spares {
            extra.extend(SPARE_TENANTS);
        }
        for id in extra {
            if !GRAPH_TENANTS.contains(&id) {
                let mut body = Body::default();
                body.u32(attr::TENANT_ID, id);
                self.request(cmd::TENANT_DEL, &body)?;
            }
        }
        if let Some(path) = system {
            let status = std::process::Command::new("vdpctl").arg("system").arg("apply").arg(path).stdout(std::process::Stdio::null()).status()?;
            if !status.success() {
                // The fuzz left a state the config cannot be applied over (a spare tenant took a
                // config tenant's name or device); the next restoration tries again.
                self.tally.restore_failures += 1;
            }
            // A tenant re-created by the apply runs no graph.
            for id in GRAPH_TENANTS {
                let mut body = Body::default();
                body.u32(attr::TENANT_ID, id);
                let seq = self.sock.next_seq();
                let bytes = nl::message(self.family, nl::NLM_F_REQUEST | nl::NLM_F_ACK, seq, cmd::GRAPH_GET, uapi::FAMILY_VERSION, &body.0);
                if self.sock.transact(&bytes, seq)?.0 != Outcome::Accepted {
                    self.installed.remove(&id);
                }
            }
        }
        Ok(())
    }

    fn report(&self, elapsed: Duration) {
        let t = &self.tally;
        let secs = elapsed.as_secs_f64();
        println!("vdp-fuzz: per command and outcome:");
        for (command, outcomes) in &t.by_command {
            let total: u64 = outcomes.values().sum();
            let parts: Vec<String> = outcomes.iter().map(|(o, n)| format!("{} {n}", o.label())).collect();
            let ms = t.time.get(command).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
            println!("  {command:<20} {total:>7} ({:.2} ms each): {}", ms / total.max(1) as f64, parts.join(", "));
        }
        println!("vdp-fuzz: extack messages seen (up to three per command and outcome):");
        for ((command, outcome), texts) in &t.extacks {
            println!("  {command} {}: {}", outcome.label(), texts.join(" | "));
        }
        println!("vdp-fuzz: graph mutations (blobs sent, accepted by the kernel):");
        for (step, (sent, accepted)) in &t.by_mutation {
            println!("  {step:<28} {sent:>6} {accepted:>6}");
        }
        println!(
            "vdp-fuzz: {} blobs sent, {} valid by the userspace validator, {} accepted by the kernel",
            t.blobs_sent, t.blobs_valid_userspace, t.blobs_accepted
        );
        println!(
            "vdp-fuzz: {} graphs installed ({} over a running graph), {} removed; {} handler calls accepted; system config re-applied {} times after a deletion, refused {} times",
            t.graphs_installed, t.hotswaps, t.graphs_removed, t.handler_accepted, t.restores_on_demand, t.restore_failures
        );
        for d in &t.disagreements {
            println!("vdp-fuzz: the kernel accepted a blob the userspace validator refuses: {d}");
        }
        println!(
            "VDP-FUZZ messages={} accepted={} installed={} blobs={} seconds={secs:.1} rate={:.0}/s",
            t.messages,
            t.accepted,
            t.graphs_installed,
            t.blobs_sent,
            t.messages as f64 / secs.max(1e-9)
        );
    }
}

/// The first attribute `kind` of a request body.
fn first_attr(body: &[u8], kind: u16) -> Option<Vec<u8>> {
    let mut payload = vec![0u8; 4];
    payload.extend(body);
    nl::reply_attrs(&payload).into_iter().find(|(k, _)| *k == kind).map(|(_, v)| v.to_vec())
}

/// Every u32 attribute `kind` of a request body.
fn all_u32(body: &[u8], kind: u16) -> Vec<u32> {
    let mut payload = vec![0u8; 4];
    payload.extend(body);
    nl::reply_attrs(&payload).into_iter().filter(|(k, _)| *k == kind).filter_map(|(_, v)| Some(u32::from_ne_bytes(v.get(..4)?.try_into().ok()?))).collect()
}

fn first_u32(body: &[u8], kind: u16) -> Option<u32> {
    first_attr(body, kind).and_then(|v| Some(u32::from_ne_bytes(v.get(..4)?.try_into().ok()?)))
}

pub fn run(args: &FuzzArgs) -> anyhow::Result<()> {
    println!("vdp-fuzz: seed {} (messages {}, at most {} s)", args.seed, args.messages, args.seconds);
    let spec = spec::load();
    let system = graphs::system();
    let bases = graphs::bases(&system).map_err(|e| anyhow::anyhow!(e))?;
    let family = crate::netlink::VdpSocket::connect()?.family_id();
    let mut handler_names: Vec<&'static str> = catalog::all_classes().flat_map(|c| c.read_handlers.iter().chain(c.write_handlers)).map(|h| h.name).collect();
    handler_names.sort();
    handler_names.dedup();
    handler_names.extend(["", "nosuch", "count\n", "a.b", "config"]);
    let mut f = Fuzzer {
        spec,
        family,
        sock: RawSocket::open()?,
        rng: Rng::new(args.seed),
        system,
        bases,
        installed: HashMap::new(),
        created: BTreeSet::new(),
        handler_names,
        tally: Tally::default(),
        need_restore: false,
        trace_from: args.trace_from,
    };
    let start = Instant::now();
    let limit = Duration::from_secs(args.seconds);
    f.restore(args.system.as_ref(), true)?;
    let mut next_restore = args.restore_every;
    let progress_every = (args.messages / 20).max(1000);
    let mut next_progress = progress_every;
    while f.tally.messages < args.messages && start.elapsed() < limit {
        match f.rng.below(100) {
            0..=34 => f.graph_fuzz()?,
            35..=39 => f.graph_remove_or_get()?,
            40..=54 => f.handler_fuzz()?,
            55..=59 => f.sched_fuzz()?,
            60..=65 => f.device_fuzz()?,
            66..=72 => f.raw_fuzz()?,
            _ => f.attribute_fuzz()?,
        }
        if f.tally.messages >= next_restore {
            f.restore(args.system.as_ref(), true)?;
            next_restore = f.tally.messages + args.restore_every;
        } else if f.need_restore {
            f.restore(args.system.as_ref(), false)?;
            f.tally.restores_on_demand += 1;
        }
        if f.tally.messages >= next_progress {
            println!(
                "vdp-fuzz: {} messages, {} accepted, {} graphs installed, {:.0} s",
                f.tally.messages,
                f.tally.accepted,
                f.tally.graphs_installed,
                start.elapsed().as_secs_f64()
            );
            next_progress += progress_every;
        }
    }
    let elapsed = start.elapsed();
    // Leave the module as we found it: no graphs, no tenants of ours.
    f.restore(None, true)?;
    for id in GRAPH_TENANTS.into_iter().chain(SPARE_TENANTS) {
        let mut body = Body::default();
        body.u32(attr::TENANT_ID, id);
        f.request(cmd::TENANT_DEL, &body)?;
    }
    f.report(elapsed);
    let info = f.request(cmd::GET_INFO, &Body::default())?;
    if info != Outcome::Accepted {
        anyhow::bail!("GET_INFO after fuzzing: {}", info.label());
    }
    if !f.tally.disagreements.is_empty() {
        anyhow::bail!("the kernel accepted {} blob(s) the shared validator refuses", f.tally.disagreements.len());
    }
    Ok(())
}
