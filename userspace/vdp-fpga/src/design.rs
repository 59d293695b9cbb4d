//! From checked graphs and a board to a design: elaboration of every element by its class's
//! FPGA definition, the device bindings, the address map, the top-level module, the synthesis
//! script and the simulation's port table. Every problem is reported before anything is made.

use crate::addrmap::{self, block_size, Placement};
use crate::board::{Board, BoardDevice};
use crate::classes::{self, ip_lookup, Ctx, FpgaClass, HandlerKind};
use crate::host::TO_HOST;
use crate::map::{self, Map};
use std::collections::HashMap;
use std::fmt::Write as _;
use vdp_click::check::CheckedGraph;
use vdp_click::source::{Diagnostic, Diagnostics};

/// One tenant's configuration, checked.
pub struct Tenant<'a> {
    pub name: String,
    pub graph: &'a CheckedGraph,
}

/// The files of a design, relative to its directory, and its map.
pub struct Design {
    pub files: Vec<(String, String)>,
    pub map: Map,
    /// Verilog sources in the order tools read them.
    pub sources: Vec<String>,
    pub memory_bits: u64,
}

/// The fixed modules every design uses.
pub const LIBRARY: [(&str, &str); 3] = [
    ("vdp_shell.v", include_str!("../hdl/vdp_shell.v")),
    ("vdp_merge.v", include_str!("../hdl/vdp_merge.v")),
    ("vdp_queue.v", include_str!("../hdl/vdp_queue.v")),
];
pub const TESTBENCH: &str = include_str!("../hdl/tb.cpp");

struct Placed<'a> {
    tenant: usize,
    index: usize,
    def: &'static FpgaClass,
    device: Option<&'a BoardDevice>,
    module: String,
    registers: u64,
    slots: Option<u64>,
    block: Option<map::Block>,
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.char_indices() {
        if c.is_ascii_uppercase() {
            let prev_lower = name[..i].chars().last().is_some_and(|p| p.is_ascii_lowercase());
            if i > 0 && prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Elaborates the tenants' graphs for `board`. `None` when anything was reported.
pub fn elaborate(tenants: &[Tenant], board: &Board, diagnostics: &mut Diagnostics) -> Option<Design> {
    let before = diagnostics.error_count();
    let mut placed: Vec<Placed> = Vec::new();
    let mut texts: Vec<(String, String)> = Vec::new(); // (module name, text)
    let mut by_text: HashMap<String, String> = HashMap::new();
    let mut counters: HashMap<String, usize> = HashMap::new();
    let mut ingress_used: HashMap<u16, (usize, usize)> = HashMap::new();
    let mut egress_used: HashMap<u16, (usize, usize)> = HashMap::new();
    let mut memory_bits = 0u64;
    let known = || board.devices.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ");
    for (t, tenant) in tenants.iter().enumerate() {
        for (index, element) in tenant.graph.elements.iter().enumerate() {
            let Some(def) = classes::by_name(element.class.name) else {
                diagnostics.push(
                    Diagnostic::error(element.span, format!("class {} (element '{}') has no FPGA definition", element.class.name, element.name))
                        .note(format!("the FPGA level has: {}", classes::names().join(", "))),
                );
                continue;
            };
            let mut device = None;
            if let Some(name) = element.device() {
                let Some(found) = board.device(name) else {
                    diagnostics.push(
                        Diagnostic::error(element.span, format!("device '{name}' is not on board '{}'", board.name)).note(format!("its devices are: {}", known())),
                    );
                    continue;
                };
                if found.host != (def.class == TO_HOST) {
                    let message = if found.host {
                        format!("'{name}' is a host link of board '{}': only a partition's boundary (ToHostLink) streams to it", board.name)
                    } else {
                        format!("'{name}' is not a host link of board '{}'", board.name)
                    };
                    diagnostics.error(element.span, message);
                    continue;
                }
                let (port, used, side) = if def.class == "FromDevice" {
                    (found.ingress, &mut ingress_used, "an ingress")
                } else {
                    (found.egress, &mut egress_used, "an egress")
                };
                let Some(port) = port else {
                    diagnostics.error(element.span, format!("device '{name}' of board '{}' has no {side} port", board.name));
                    continue;
                };
                if let Some((ot, oi)) = used.insert(port, (t, index)) {
                    let other = &tenants[ot].graph.elements[oi];
                    diagnostics.error(element.span, format!("device '{name}' is already used by '{}' of tenant {}", other.name, tenants[ot].name));
                    continue;
                }
                device = Some(found);
            }
            let ctx = Ctx { element, board, device };
            let module = match (def.elaborate)(&ctx) {
                Ok(module) => module,
                Err(message) => {
                    diagnostics.error(element.span, format!("{} '{}': {message}", def.class, element.name));
                    continue;
                }
            };
            memory_bits += module.memory_bits;
            let name = match by_text.get(&module.text) {
                Some(name) => name.clone(),
                None => {
                    let base = format!("vdp_{}", snake(def.class));
                    let k = counters.entry(base.clone()).or_insert(0);
                    let name = format!("{base}_{k}");
                    *k += 1;
                    by_text.insert(module.text.clone(), name.clone());
                    texts.push((name.clone(), module.text.replace(classes::MODULE, &name)));
                    name
                }
            };
            let slots = matches!(def.handlers.first().map(|h| h.kind), Some(HandlerKind::Routes)).then(|| ip_lookup::slots(&ctx));
            placed.push(Placed { tenant: t, index, def, device, module: name, registers: (def.registers)(&ctx), slots, block: None });
        }
    }
    if memory_bits > board.block_ram_bits {
        diagnostics.error(None, format!("the design needs {memory_bits} bits of block RAM; board '{}' has {}", board.name, board.block_ram_bits));
    }
    if diagnostics.error_count() > before {
        return None;
    }
    // The address map: each tenant's blocks inside its window, the windows in the space.
    let mut windows = Vec::new();
    let mut local: Vec<Vec<(usize, Placement)>> = Vec::new();
    for t in 0..tenants.len() {
        let members: Vec<usize> = (0..placed.len()).filter(|i| placed[*i].tenant == t && placed[*i].registers > 0).collect();
        let sizes: Vec<u64> = members.iter().map(|i| block_size(placed[*i].registers)).collect();
        let words = block_size(sizes.iter().sum::<u64>().max(1));
        let bits = words.trailing_zeros();
        let layout = addrmap::layout(&sizes, bits).expect("a window of the blocks' total holds them");
        windows.push(words);
        local.push(members.into_iter().zip(layout).collect());
    }
    let tenant_layout = match addrmap::layout(&windows, board.address_bits) {
        Ok(layout) => layout,
        Err(error) => {
            diagnostics.error(None, format!("the design does not fit board '{}': {error}", board.name));
            return None;
        }
    };
    let space = board.address_bits;
    let mut map_tenants = Vec::new();
    for (t, tenant) in tenants.iter().enumerate() {
        let window = tenant_layout[t];
        let window_bits = space - window.prefix_bits;
        map_tenants.push(map::Window { name: tenant.name.clone(), base: window.base, words: 1u64 << window_bits, prefix_bits: window.prefix_bits });
        for (i, p) in &local[t] {
            let inner_bits = windows[t].trailing_zeros();
            // Inside a window larger than the tenant's blocks need, the blocks spread out.
            let extra = window_bits - inner_bits;
            let words = 1u64 << (inner_bits - p.prefix_bits + extra);
            let base = window.base + (p.base << extra);
            placed[*i].block = Some(map::Block { base, words, prefix_bits: window.prefix_bits + p.prefix_bits });
        }
    }
    let mut map = Map {
        board: board.name.clone(),
        address_bits: space,
        tenants: map_tenants,
        elements: Vec::new(),
        ingress: Vec::new(),
        egress: Vec::new(),
        merges: Vec::new(),
    };
    for (n, p) in placed.iter().enumerate() {
        let element = &tenants[p.tenant].graph.elements[p.index];
        let tenant = tenants[p.tenant].name.clone();
        if let Some(device) = p.device {
            let port = map::Port { port: 0, device: device.name.clone(), tenant: tenant.clone(), element: element.name.clone() };
            if p.def.class == "FromDevice" {
                map.ingress.push(map::Port { port: device.ingress.unwrap_or(0), ..port });
            } else {
                map.egress.push(map::Port { port: device.egress.unwrap_or(0), ..port });
            }
        }
        map.elements.push(map::Element {
            tenant,
            name: element.name.clone(),
            class: p.def.class.to_string(),
            module: p.module.clone(),
            instance: format!("e{n}"),
            block: p.block,
            outputs: element.outputs,
            slots: p.slots,
            handlers: p
                .def
                .handlers
                .iter()
                .map(|h| map::Handler { name: h.name.to_string(), read: h.read, write: h.write, kind: h.kind, offset: h.offset })
                .collect(),
        });
    }
    map.ingress.sort_by_key(|p| p.port);
    map.egress.sort_by_key(|p| p.port);
    let (top, merges) = top_module(tenants, &placed, board);
    map.merges = merges;
    let mut merge_sizes: Vec<usize> = map.merges.iter().filter_map(|m| m.module.strip_prefix("vdp_merge_").and_then(|n| n.parse().ok())).collect();
    merge_sizes.sort_unstable();
    merge_sizes.dedup();
    let mut files = Vec::new();
    let mut sources = Vec::new();
    for (name, text) in LIBRARY {
        files.push((format!("hdl/{name}"), text.to_string()));
        sources.push(format!("hdl/{name}"));
    }
    for (name, text) in &texts {
        files.push((format!("hdl/{name}.v"), format!("// Elaborated by vdpctl fpga.\n`default_nettype none\n{text}`default_nettype wire\n")));
        sources.push(format!("hdl/{name}.v"));
    }
    for n in merge_sizes {
        files.push((format!("hdl/vdp_merge_{n}.v"), merge_module(n)));
        sources.push(format!("hdl/vdp_merge_{n}.v"));
    }
    files.push(("hdl/vdp_top.v".into(), top));
    sources.push("hdl/vdp_top.v".into());
    files.push(("map.json".into(), serde_json::to_string_pretty(&map).unwrap_or_default() + "\n"));
    files.push(("synth.ys".into(), synth_script(&sources)));
    files.push(("sim/tb.cpp".into(), TESTBENCH.to_string()));
    files.push(("sim/ports.h".into(), ports_header(board)));
    files.push(("sources.txt".into(), sources.join("\n") + "\n"));
    Some(Design { files, map, sources, memory_bits })
}

/// A Yosys script: synthesis for a 7-series part keeping the hierarchy (each module is
/// synthesised once), failing on any latch (before and after mapping) and on any problem
/// `check` finds, and the area per module in `area.json` (read by [`crate::synth`]) and
/// `area.txt` (Yosys 0.23 prints its hierarchy into the JSON report of a design with a top
/// module, hence the top attribute's removal before it).
pub fn synth_script(sources: &[String]) -> String {
    let mut t = String::from("# Synthesis of the design (run from its directory: yosys -q synth.ys; vdpctl fpga synth DIR).\n");
    for source in sources {
        let _ = writeln!(t, "read_verilog {source}");
    }
    t.push_str("hierarchy -check -top vdp_top\nproc\nselect -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$sr\nsynth_xilinx -top vdp_top -family xc7\nselect -assert-none t:LDCE t:LDPE t:$_DLATCH_*\ncheck -assert\ntee -q -o area.txt stat\nsetattr -mod -unset top\ntee -q -o area.json stat -json\n");
    t
}

fn ports_header(board: &Board) -> String {
    let mut t = String::from("// Board ports of the design: the testbench's view of vdp_top.\n#pragma once\n");
    let _ = writeln!(t, "#define VDP_INGRESS_PORTS {}\n#define VDP_EGRESS_PORTS {}", board.ingress_ports, board.egress_ports);
    let _ = writeln!(t, "#define VDP_ADDRESS_BITS {}", board.address_bits);
    t.push_str("static inline void vdp_set_ingress(Vvdp_top* t, int port, uint64_t data, bool valid, bool sop, bool eop, unsigned bytes) {\n    switch (port) {\n");
    for p in 0..board.ingress_ports {
        let _ = writeln!(t, "    case {p}: t->ing{p}_data = data; t->ing{p}_valid = valid; t->ing{p}_sop = sop; t->ing{p}_eop = eop; t->ing{p}_bytes = bytes; break;");
    }
    t.push_str("    default: break;\n    }\n}\nstatic inline bool vdp_ingress_ready(Vvdp_top* t, int port) {\n    switch (port) {\n");
    for p in 0..board.ingress_ports {
        let _ = writeln!(t, "    case {p}: return t->ing{p}_ready;");
    }
    t.push_str("    default: return false;\n    }\n}\nstruct VdpEgress { uint64_t data; bool valid, sop, eop; unsigned bytes; };\nstatic inline VdpEgress vdp_egress(Vvdp_top* t, int port) {\n    switch (port) {\n");
    for p in 0..board.egress_ports {
        let _ = writeln!(t, "    case {p}: return VdpEgress{{t->egr{p}_data, (bool)t->egr{p}_valid, (bool)t->egr{p}_sop, (bool)t->egr{p}_eop, (unsigned)t->egr{p}_bytes}};");
    }
    t.push_str("    default: return VdpEgress{0, false, false, false, 0};\n    }\n}\nstatic inline void vdp_egress_ready(Vvdp_top* t, int port, bool ready) {\n    switch (port) {\n");
    for p in 0..board.egress_ports {
        let _ = writeln!(t, "    case {p}: t->egr{p}_ready = ready; break;");
    }
    t.push_str("    default: break;\n    }\n}\n");
    t
}

const STREAM: [(&str, &str); 6] = [("data", "[63:0]"), ("valid", ""), ("sop", ""), ("eop", ""), ("bytes", "[3:0]"), ("meta", "[73:0]")];

/// `vdp_merge` for `n` connections as a module of its own, so that synthesis reports its area
/// under one name.
fn merge_module(n: usize) -> String {
    let mut t = format!("// Elaborated by vdpctl fpga: a merge of {n} connections.\n`default_nettype none\nmodule vdp_merge_{n} (\n    input  wire clk,\n    input  wire rst,\n");
    for (field, width) in STREAM {
        let bits = match width { "[63:0]" => 64, "[3:0]" => 4, "[73:0]" => 74, _ => 1 } * n;
        let _ = writeln!(t, "    input  wire [{}:0] i_{field},", bits - 1);
    }
    let _ = writeln!(t, "    output wire [{}:0] i_ready,", n - 1);
    for (field, width) in STREAM {
        let _ = writeln!(t, "    output wire {width} o_{field},");
    }
    let _ = writeln!(t, "    input  wire o_ready\n);\n    vdp_merge #(.N({n}), .MW(74)) merge (\n        .clk(clk), .rst(rst),");
    for (field, _) in STREAM {
        let _ = writeln!(t, "        .i_{field}(i_{field}), .o_{field}(o_{field}),");
    }
    t.push_str("        .i_ready(i_ready), .o_ready(o_ready));\nendmodule\n`default_nettype wire\n");
    t
}

fn top_module(tenants: &[Tenant], placed: &[Placed], board: &Board) -> (String, Vec<map::Merge>) {
    let ab = board.address_bits;
    let mut t = String::from("// The top level, written by vdpctl fpga: the graph's elements, their connections, the\n// board's ports and the handler decoder (docs/fpga.md).\n`default_nettype none\nmodule vdp_top (\n    input  wire clk,\n    input  wire rst,\n");
    for p in 0..board.ingress_ports {
        let _ = write!(t, "    input  wire [63:0] ing{p}_data,\n    input  wire ing{p}_valid,\n    output wire ing{p}_ready,\n    input  wire ing{p}_sop,\n    input  wire ing{p}_eop,\n    input  wire [3:0] ing{p}_bytes,\n");
    }
    for p in 0..board.egress_ports {
        let _ = write!(t, "    output wire [63:0] egr{p}_data,\n    output wire egr{p}_valid,\n    input  wire egr{p}_ready,\n    output wire egr{p}_sop,\n    output wire egr{p}_eop,\n    output wire [3:0] egr{p}_bytes,\n");
    }
    let _ = write!(t, "    input  wire h_valid,\n    input  wire h_write,\n    input  wire [{}:0] h_addr,\n    input  wire [31:0] h_wdata,\n    output reg  h_rvalid,\n    output reg  [31:0] h_rdata,\n    output reg  h_err,\n    output wire idle\n);\n", ab - 1);
    // Port counts of each instance's module.
    let ports = |p: &Placed| -> (u16, u16) {
        let e = &tenants[p.tenant].graph.elements[p.index];
        match p.def.class {
            "FromDevice" => (1, 1),
            "ToDevice" | TO_HOST => (1, 1),
            _ => (e.inputs, e.outputs),
        }
    };
    let mut index_of: HashMap<(usize, usize), usize> = HashMap::new();
    for (n, p) in placed.iter().enumerate() {
        index_of.insert((p.tenant, p.index), n);
        let (ins, outs) = ports(p);
        let _ = writeln!(t, "    // e{n}: {} of tenant {} ({})", tenants[p.tenant].graph.elements[p.index].name, tenants[p.tenant].name, p.def.class);
        for (side, count) in [("i", ins), ("o", outs)] {
            for k in 0..count {
                for (field, width) in STREAM {
                    let _ = writeln!(t, "    wire {width} e{n}_{side}{k}_{field};");
                }
                let _ = writeln!(t, "    wire e{n}_{side}{k}_ready;");
            }
        }
        let _ = writeln!(t, "    wire [31:0] e{n}_rdata;\n    wire e{n}_idle;");
        let sel = match p.block {
            Some(block) if block.prefix_bits > 0 => {
                let prefix = block.base >> (ab - block.prefix_bits);
                format!("h_valid && h_addr[{}:{}] == {}'d{prefix}", ab - 1, ab - block.prefix_bits, block.prefix_bits)
            }
            Some(_) => "h_valid".to_string(),
            None => "1'b0".to_string(),
        };
        let _ = writeln!(t, "    wire e{n}_sel = {sel};");
        let local_bits = p.block.map(|b| ab - b.prefix_bits).unwrap_or(0).min(16);
        let local = if local_bits == 0 { "16'd0".to_string() } else { format!("{{{}'d0, h_addr[{}:0]}}", 16 - local_bits, local_bits - 1).replace("{0'd0, ", "{") };
        let _ = write!(t, "    {} e{n} (\n        .clk(clk), .rst(rst),\n", p.module);
        for (side, count) in [("i", ins), ("o", outs)] {
            for k in 0..count {
                for (field, _) in STREAM {
                    let _ = write!(t, "        .{side}{k}_{field}(e{n}_{side}{k}_{field}),");
                }
                let _ = writeln!(t, " .{side}{k}_ready(e{n}_{side}{k}_ready),");
            }
        }
        let _ = writeln!(
            t,
            "        .hb_sel(e{n}_sel), .hb_wr(h_write), .hb_rd(!h_write), .hb_addr({local}), .hb_wdata(h_wdata),\n        .hb_rdata(e{n}_rdata), .idle(e{n}_idle));"
        );
    }
    // Connections: each input from its sources (merged when several), each output to its sink.
    let mut sinks: HashMap<(usize, u16), bool> = HashMap::new();
    let mut merges: Vec<map::Merge> = Vec::new();
    for (n, p) in placed.iter().enumerate() {
        let (ins, _) = ports(p);
        if p.def.class == "FromDevice" {
            let port = p.device.and_then(|d| d.ingress).unwrap_or(0);
            let _ = writeln!(
                t,
                "    assign e{n}_i0_data = ing{port}_data;\n    assign e{n}_i0_valid = ing{port}_valid;\n    assign ing{port}_ready = e{n}_i0_ready;\n    assign e{n}_i0_sop = ing{port}_sop;\n    assign e{n}_i0_eop = ing{port}_eop;\n    assign e{n}_i0_bytes = ing{port}_bytes;\n    assign e{n}_i0_meta = 74'd0;"
            );
            continue;
        }
        let graph = tenants[p.tenant].graph;
        for k in 0..ins {
            let sources: Vec<(usize, u16)> = graph
                .connections
                .iter()
                .filter(|c| c.to == p.index && c.to_port == k)
                .filter_map(|c| index_of.get(&(p.tenant, c.from)).map(|from| (*from, c.from_port)))
                .collect();
            for s in &sources {
                sinks.insert(*s, true);
            }
            match sources.as_slice() {
                [] => {
                    let _ = writeln!(t, "    assign e{n}_i{k}_data = 64'd0;\n    assign e{n}_i{k}_valid = 1'b0;\n    assign e{n}_i{k}_sop = 1'b0;\n    assign e{n}_i{k}_eop = 1'b0;\n    assign e{n}_i{k}_bytes = 4'd0;\n    assign e{n}_i{k}_meta = 74'd0;");
                }
                [(from, port)] => {
                    for (field, _) in STREAM {
                        let _ = writeln!(t, "    assign e{n}_i{k}_{field} = e{from}_o{port}_{field};");
                    }
                    let _ = writeln!(t, "    assign e{from}_o{port}_ready = e{n}_i{k}_ready;");
                }
                many => {
                    let m = merges.len();
                    let element = &graph.elements[p.index];
                    merges.push(map::Merge { tenant: tenants[p.tenant].name.clone(), element: element.name.clone(), input: k, module: format!("vdp_merge_{}", many.len()), instance: format!("m{m}") });
                    let list = |field: &str| many.iter().rev().map(|(f, q)| format!("e{f}_o{q}_{field}")).collect::<Vec<_>>().join(", ");
                    let _ = writeln!(t, "    wire [{}:0] m{m}_ready;", many.len() - 1);
                    let _ = write!(t, "    vdp_merge_{} m{m} (\n        .clk(clk), .rst(rst),\n", many.len());
                    for (field, _) in STREAM {
                        let _ = writeln!(t, "        .i_{field}({{{}}}),", list(field));
                    }
                    let _ = writeln!(t, "        .i_ready(m{m}_ready),");
                    let outs: Vec<String> = STREAM.iter().map(|(field, _)| format!(".o_{field}(e{n}_i{k}_{field})")).collect();
                    let _ = writeln!(t, "        {}, .o_ready(e{n}_i{k}_ready));", outs.join(", "));
                    for (j, (f, q)) in many.iter().enumerate() {
                        let _ = writeln!(t, "    assign e{f}_o{q}_ready = m{m}_ready[{j}];");
                    }
                }
            }
        }
    }
    let mut egress_bound: HashMap<u16, bool> = HashMap::new();
    for (n, p) in placed.iter().enumerate() {
        let (_, outs) = ports(p);
        if p.def.class == "ToDevice" || p.def.class == TO_HOST {
            let port = p.device.and_then(|d| d.egress).unwrap_or(0);
            egress_bound.insert(port, true);
            let _ = writeln!(
                t,
                "    assign egr{port}_data = e{n}_o0_data;\n    assign egr{port}_valid = e{n}_o0_valid;\n    assign e{n}_o0_ready = egr{port}_ready;\n    assign egr{port}_sop = e{n}_o0_sop;\n    assign egr{port}_eop = e{n}_o0_eop;\n    assign egr{port}_bytes = e{n}_o0_bytes;"
            );
            continue;
        }
        for k in 0..outs {
            if !sinks.contains_key(&(n, k)) {
                let _ = writeln!(t, "    assign e{n}_o{k}_ready = 1'b1; // unconnected: packets leave the design");
            }
        }
    }
    let bound: Vec<u16> = placed.iter().filter(|p| p.def.class == "FromDevice").filter_map(|p| p.device.and_then(|d| d.ingress)).collect();
    for p in 0..board.ingress_ports {
        if !bound.contains(&p) {
            let _ = writeln!(t, "    assign ing{p}_ready = 1'b1; // no FromDevice: frames are dropped");
        }
    }
    for p in 0..board.egress_ports {
        if !egress_bound.contains_key(&p) {
            let _ = writeln!(t, "    assign egr{p}_data = 64'd0;\n    assign egr{p}_valid = 1'b0;\n    assign egr{p}_sop = 1'b0;\n    assign egr{p}_eop = 1'b0;\n    assign egr{p}_bytes = 4'd0;");
        }
    }
    // The handler decoder's answer, a cycle after the request.
    let any_sel: Vec<String> = (0..placed.len()).filter(|n| placed[*n].block.is_some()).map(|n| format!("e{n}_sel")).collect();
    let rdata: Vec<String> = (0..placed.len()).filter(|n| placed[*n].block.is_some()).map(|n| format!("(e{n}_sel ? e{n}_rdata : 32'd0)")).collect();
    let idles: Vec<String> = (0..placed.len()).map(|n| format!("e{n}_idle")).collect();
    let _ = writeln!(
        t,
        "    always @(posedge clk) begin\n        if (rst) begin\n            h_rvalid <= 1'b0;\n            h_err <= 1'b0;\n            h_rdata <= 32'd0;\n        end else begin\n            h_rvalid <= h_valid;\n            h_err <= h_valid && !({});\n            h_rdata <= {};\n        end\n    end\n    assign idle = {};\nendmodule\n`default_nettype wire",
        if any_sel.is_empty() { "1'b0".to_string() } else { any_sel.join(" || ") },
        if rdata.is_empty() { "32'd0".to_string() } else { rdata.join(" | ") },
        if idles.is_empty() { "1'b1".to_string() } else { idles.join(" && ") },
    );
    (t, merges)
}

#[cfg(test)]
mod tests {
    use super::snake;

    #[test]
    fn module_names() {
        assert_eq!(snake("CheckIPHeader"), "check_ipheader");
        assert_eq!(snake("DecIPTTL"), "dec_ipttl");
        assert_eq!(snake("Counter"), "counter");
        assert_eq!(snake("LinearIPLookup"), "linear_iplookup");
    }
}
