//! Random Click configurations over the FPGA subset, from a seed: trees of elements grown
//! from each FromDevice, in an order that keeps them meaningful (IP elements after a Strip and
//! a CheckIPHeader, Ethernet elements on frames, bytes pushed in front of a frame), with outputs that end in a Discard or a
//! Queue and ToDevice, sometimes shared (so inputs get several connections), and the handlers
//! worth reading.

use super::Rng;

/// What the packets on a connection look like.
#[derive(Clone, Copy)]
struct State {
    /// The Ethernet header was stripped.
    stripped: bool,
    /// A CheckIPHeader passed them (the network mark and the destination are set).
    checked: bool,
}

pub struct Graph {
    pub config: String,
    /// Devices the graph receives on and transmits on.
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    /// Handlers to read after the run.
    pub reads: Vec<String>,
}

struct Gen<'a> {
    rng: &'a mut Rng,
    lines: Vec<String>,
    n: usize,
    reads: Vec<String>,
    discards: Vec<String>,
    queues: Vec<String>,
    devices: Vec<String>,
    out_devices: Vec<String>,
}

const PATTERNS: &[&str] = &["12/0800", "12/86dd", "12/0806", "14/45", "14/40%f0", "23/06", "23/11", "30/0a", "30/c0a8", "0/02", "5/01%03", "12/08"];
const PREFIXES: &[&str] = &["10.0.0.0/8", "10.200.0.0/16", "192.168.1.0/24", "192.168.0.0/16", "0.0.0.0/0", "10.0.0.7/32", "8.0.0.0/8", "127.0.0.0/8"];

impl Gen<'_> {
    fn name(&mut self, prefix: &str) -> String {
        self.n += 1;
        format!("{prefix}{}", self.n)
    }

    fn declare(&mut self, prefix: &str, class: &str) -> String {
        let name = self.name(prefix);
        self.lines.push(format!("{name} :: {class};"));
        name
    }

    fn connect(&mut self, from: &str, port: usize, to: &str) {
        self.lines.push(format!("{from}[{port}] -> {to};"));
    }

    /// An element that ends a path: a Discard or a Queue to a ToDevice, new or shared.
    fn sink(&mut self) -> String {
        let shared = self.rng.below(3) == 0;
        if self.rng.below(2) == 0 {
            if shared && !self.queues.is_empty() {
                return self.rng.pick(&self.queues).clone();
            }
            if self.out_devices.len() < self.devices.len() {
                let capacity = *self.rng.pick(&[1u64, 4, 50, 200]);
                let q = self.declare("q", &format!("Queue({capacity})"));
                let device = self.devices[self.out_devices.len()].clone();
                self.out_devices.push(device.clone());
                self.lines.push(format!("{q} -> ToDevice({device});"));
                self.reads.push(format!("{q}.drops"));
                self.reads.push(format!("{q}.length"));
                self.queues.push(q.clone());
                return q;
            }
        }
        if shared && !self.discards.is_empty() {
            return self.rng.pick(&self.discards).clone();
        }
        let d = self.declare("d", "Discard");
        self.reads.push(format!("{d}.count"));
        self.discards.push(d.clone());
        d
    }

    /// A path for packets in `state`; returns its first element, all of whose outputs are
    /// connected.
    fn chain(&mut self, state: State, depth: u32) -> String {
        if depth == 0 || self.rng.below(9) == 0 {
            return self.sink();
        }
        let mut choices: Vec<u32> = vec![0, 1, 2, 3, 4];
        if !state.stripped {
            choices.extend([5, 5, 5, 6, 7, 13, 14]);
        } else {
            choices.extend([8, 8]);
            if !state.checked {
                choices.extend([9, 9, 9, 9, 9]);
            }
        }
        if state.checked {
            choices.extend([10, 10, 10, 11, 11, 11, 12]);
        }
        match *self.rng.pick(&choices) {
            0 => {
                let c = self.declare("c", "Counter");
                self.reads.push(format!("{c}.count"));
                self.reads.push(format!("{c}.byte_count"));
                let next = self.chain(state, depth - 1);
                self.connect(&c, 0, &next);
                c
            }
            1 => {
                let color = self.rng.below(4);
                let p = self.declare("p", &format!("Paint({color})"));
                let next = self.chain(state, depth - 1);
                self.connect(&p, 0, &next);
                p
            }
            2 => {
                let outputs = 1 + self.rng.below(3) as usize;
                let s = self.declare("ps", "PaintSwitch");
                for k in 0..outputs {
                    let next = self.chain(state, depth - 1);
                    self.connect(&s, k, &next);
                }
                s
            }
            3 => {
                let outputs = 1 + self.rng.below(3) as usize;
                let mut patterns: Vec<String> = (0..outputs).map(|_| self.rng.pick(PATTERNS).to_string()).collect();
                if self.rng.below(2) == 0 {
                    if let Some(last) = patterns.last_mut() {
                        *last = "-".into();
                    }
                }
                let cl = self.declare("cl", &format!("Classifier({})", patterns.join(", ")));
                for k in 0..outputs {
                    let next = self.chain(state, depth - 1);
                    self.connect(&cl, k, &next);
                }
                cl
            }
            4 => {
                let n = *self.rng.pick(&[1u64, 2, 6, 13]);
                let s = self.declare("s", &format!("Strip({n})"));
                let u = self.declare("u", &format!("Unstrip({n})"));
                self.connect(&s, 0, &u);
                let next = self.chain(state, depth - 1);
                self.connect(&u, 0, &next);
                s
            }
            5 => {
                let s = self.declare("st", "Strip(14)");
                let next = self.chain(State { stripped: true, ..state }, depth - 1);
                self.connect(&s, 0, &next);
                s
            }
            6 => {
                let m = self.declare("em", "EtherMirror");
                let next = self.chain(state, depth - 1);
                self.connect(&m, 0, &next);
                m
            }
            7 => {
                let c = self.declare("cl", "Classifier(12/0800, -)");
                let ip = self.chain(state, depth - 1);
                let other = self.sink();
                self.connect(&c, 0, &ip);
                self.connect(&c, 1, &other);
                c
            }
            8 => {
                let (class, after) = if self.rng.below(2) == 0 {
                    ("Unstrip(14)".to_string(), State { stripped: false, ..state })
                } else {
                    ("EtherEncap(0x0800, 00:00:00:00:00:01, 02:00:00:00:00:02)".to_string(), State { stripped: false, ..state })
                };
                let e = self.declare("un", &class);
                let next = self.chain(after, depth - 1);
                self.connect(&e, 0, &next);
                e
            }
            9 => {
                let mut args = Vec::new();
                if self.rng.below(2) == 0 {
                    args.push("BADSRC 172.16.0.1".to_string());
                }
                if self.rng.below(2) == 0 {
                    args.push("INTERFACES 192.168.1.1/24".to_string());
                }
                if self.rng.below(4) == 0 {
                    args.push("CHECKSUM false".to_string());
                }
                let outputs = 1 + self.rng.below(2) as usize;
                let c = self.declare("chk", &format!("CheckIPHeader({})", args.join(", ")));
                self.reads.push(format!("{c}.drops"));
                let good = self.chain(State { checked: true, ..state }, depth - 1);
                self.connect(&c, 0, &good);
                if outputs == 2 {
                    let bad = self.chain(state, depth - 1);
                    self.connect(&c, 1, &bad);
                }
                c
            }
            10 => {
                let outputs = 1 + self.rng.below(2) as usize;
                let t = self.declare("ttl", "DecIPTTL");
                let next = self.chain(state, depth - 1);
                self.connect(&t, 0, &next);
                if outputs == 2 {
                    let expired = self.chain(state, depth - 1);
                    self.connect(&t, 1, &expired);
                }
                t
            }
            11 => {
                let outputs = 1 + self.rng.below(3) as usize;
                let routes: Vec<String> = (0..1 + self.rng.below(4))
                    .map(|_| {
                        let prefix = self.rng.pick(PREFIXES).to_string();
                        let port = self.rng.below(outputs as u64);
                        if self.rng.below(3) == 0 {
                            format!("{prefix} 10.0.0.9 {port}")
                        } else {
                            format!("{prefix} {port}")
                        }
                    })
                    .collect();
                let class = *self.rng.pick(&["LinearIPLookup", "RadixIPLookup", "StaticIPLookup"]);
                let rt = self.declare("rt", &format!("{class}({})", routes.join(", ")));
                self.reads.push(format!("{rt}.table"));
                for k in 0..outputs {
                    let next = self.chain(state, depth - 1);
                    self.connect(&rt, k, &next);
                }
                rt
            }
            13 => {
                // Bytes pushed in front of the stream's start: zeros at both levels.
                let n = *self.rng.pick(&[2u64, 8, 14, 21]);
                let u = self.declare("u", &format!("Unstrip({n})"));
                let s = self.declare("s", &format!("Strip({n})"));
                self.connect(&u, 0, &s);
                let next = self.chain(state, depth - 1);
                self.connect(&s, 0, &next);
                u
            }
            14 => {
                // A frame in a frame: the header written in front of the stream's start.
                let e = self.declare("ee", "EtherEncap(0x0800, 00:00:00:00:00:03, 02:00:00:00:00:04)");
                let next = self.chain(state, depth - 1);
                self.connect(&e, 0, &next);
                e
            }
            _ => {
                let c = self.declare("c", "Counter");
                self.reads.push(format!("{c}.count"));
                let next = self.chain(state, depth - 1);
                self.connect(&c, 0, &next);
                c
            }
        }
    }
}

/// A random graph receiving on `inputs` (one or two FromDevices, sometimes into one shared
/// element) and transmitting on some of `outputs`.
pub fn random(rng: &mut Rng, inputs: &[String], outputs: &[String]) -> Graph {
    let mut g = Gen { rng, lines: Vec::new(), n: 0, reads: Vec::new(), discards: Vec::new(), queues: Vec::new(), devices: outputs.to_vec(), out_devices: Vec::new() };
    let state = State { stripped: false, checked: false };
    let depth = 4 + g.rng.below(5) as u32;
    let first = g.chain(state, depth);
    let mut heads = vec![first];
    for (k, device) in inputs.iter().enumerate() {
        let fd = format!("fd{k}");
        g.lines.push(format!("{fd} :: FromDevice({device});"));
        g.reads.push(format!("{fd}.count"));
        let target = if k == 0 || g.rng.below(2) == 0 {
            heads[0].clone()
        } else {
            let head = g.chain(state, depth);
            heads.push(head.clone());
            head
        };
        g.connect(&fd, 0, &target);
    }
    let out_devices = g.out_devices.clone();
    Graph { config: g.lines.join("\n") + "\n", inputs: inputs.to_vec(), outputs: out_devices, reads: g.reads }
}
