//! Pictures of element graphs. A [`View`] is what a person wants to see of a checked graph:
//! each element with its class and configuration, its input and output ports in their resolved
//! push or pull mode, its tenant, whether it runs in the kernel or in the tenant's container
//! engine, and the tasks with the threads they run on. [`View::to_dot`] renders it as Graphviz
//! `dot` text: a cluster per tenant (and per container part), a record-like HTML label per
//! element with numbered port cells (push filled, pull hollow), solid push and dashed pull
//! connections, and a colour per thread.
//!
//! `vdpctl pretty --dot` draws a configuration as the coordinator would install it; `vdpctl
//! show --dot` draws what the coordinator installed, with the thread count the kernel reports.

use crate::check::{check, CheckOptions, CheckedGraph};
use crate::flatten::FlatGraph;
use crate::source::Diagnostics;
use crate::system::SystemConfig;
use crate::{tasks, Merged};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use vdp_core::catalog::Processing;

/// A port's resolved mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Push,
    Pull,
}

impl From<Processing> for Mode {
    fn from(processing: Processing) -> Mode {
        match processing {
            Processing::Pull => Mode::Pull,
            // Agnostic ports are resolved by the checker; one left over defaults to push, as
            // in Click.
            Processing::Push | Processing::Agnostic => Mode::Push,
        }
    }
}

/// A schedulable element: a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskView {
    /// Estimated cycles per packet along its costliest path.
    pub cost: u64,
    /// The thread a `StaticThreadSched` pins it to.
    pub pinned: Option<u32>,
    /// The thread it runs on ([`View::place_threads`]); `None` for a task of a container
    /// engine, which runs its tasks on its own thread.
    pub thread: Option<u32>,
    /// The elements it may call (its own index included), as indices into [`View::elements`].
    pub calls: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewElement {
    /// The element's name in the graph (`red/c` in a merged graph).
    pub name: String,
    pub class: String,
    /// Its arguments, as the flattened configuration gives them.
    pub args: Vec<String>,
    /// The tenant it belongs to, if the graph has tenants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// It runs in the tenant's container engine, not in the kernel.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub container: bool,
    /// The coordinator added it on the root context's behalf.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub root: bool,
    pub inputs: Vec<Mode>,
    pub outputs: Vec<Mode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskView>,
    /// The kernel threads whose tasks may call it ([`View::place_threads`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threads: Vec<u32>,
}

impl ViewElement {
    /// The name within its tenant: `c` for `red/c`.
    pub fn local_name(&self) -> &str {
        match &self.tenant {
            Some(tenant) => self.name.strip_prefix(tenant.as_str()).and_then(|rest| rest.strip_prefix('/')).unwrap_or(&self.name),
            None => &self.name,
        }
    }

    /// The Graphviz node id: the name, marked for the container level (whose boundary halves
    /// share the names of their kernel halves).
    pub fn node_id(&self) -> String {
        if self.container {
            format!("container:{}", self.name)
        } else {
            self.name.clone()
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewConnection {
    pub from: usize,
    pub from_port: u16,
    pub to: usize,
    pub to_port: u16,
    /// The mode of the output it leaves (and so of the input it enters).
    pub mode: Mode,
}

/// A boundary between a tenant's kernel and container parts: the sending half's packets
/// arrive at the receiving half through the channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewChannel {
    pub from: usize,
    pub to: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// What the picture shows (a file name, the tenants merged).
    pub title: String,
    pub elements: Vec<ViewElement>,
    pub connections: Vec<ViewConnection>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ViewChannel>,
}

/// Fill colours of threads 0 to 7 (a tenant has at most 8, `TENANT_THREADS_MAX`).
const THREAD_COLOURS: [&str; 8] = ["#cfe2f3", "#d9ead3", "#fff2cc", "#f4cccc", "#d9d2e9", "#fce5cd", "#d0e0e3", "#ead1dc"];
/// Elements called by tasks on several threads, or by none.
const SHARED_COLOUR: &str = "#ffffff";
/// Elements of a container part.
const CONTAINER_COLOUR: &str = "#eeeeee";
/// Arguments shown in an element's label; the rest are counted.
const SHOWN_ARGS: usize = 4;
/// Characters of an argument shown in a label.
const SHOWN_ARG_CHARS: usize = 36;

fn thread_colour(thread: u32) -> &'static str {
    THREAD_COLOURS[thread as usize % THREAD_COLOURS.len()]
}

/// Text for an HTML-like label.
fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A quoted `dot` id.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An argument, cut to fit a label.
fn shown(arg: &str) -> String {
    let arg = arg.split_whitespace().collect::<Vec<_>>().join(" ");
    if arg.chars().count() <= SHOWN_ARG_CHARS {
        return arg;
    }
    let cut: String = arg.chars().take(SHOWN_ARG_CHARS - 1).collect();
    format!("{cut}…")
}

impl View {
    pub fn new(title: impl Into<String>) -> View {
        View { title: title.into(), ..View::default() }
    }

    /// Adds a checked graph (with `flat`, the flattened graph it was checked from, for the
    /// arguments): its elements, connections and tasks. `tenant_of` names an element's
    /// tenant; `container` marks a container part.
    pub fn add_graph(&mut self, flat: &FlatGraph, checked: &CheckedGraph, container: bool, tenant_of: impl Fn(&str) -> Option<String>) {
        let offset = self.elements.len();
        let pins = tasks::thread_pins(checked);
        for (index, element) in checked.elements.iter().enumerate() {
            let args = flat.elements.get(index).filter(|f| f.name == element.name).map(|f| f.args.iter().map(|a| a.text.clone()).collect()).unwrap_or_default();
            self.elements.push(ViewElement {
                name: element.name.clone(),
                class: element.class.name.to_string(),
                args,
                tenant: tenant_of(&element.name),
                container,
                root: element.root,
                inputs: element.input_modes.iter().map(|m| Mode::from(*m)).collect(),
                outputs: element.output_modes.iter().map(|m| Mode::from(*m)).collect(),
                task: None,
                threads: Vec::new(),
            });
        }
        for connection in &checked.connections {
            let mode = checked.elements[connection.from].output_modes.get(usize::from(connection.from_port)).map_or(Mode::Push, |m| Mode::from(*m));
            self.connections.push(ViewConnection {
                from: offset + connection.from,
                from_port: connection.from_port,
                to: offset + connection.to,
                to_port: connection.to_port,
                mode,
            });
        }
        for task in tasks::find_tasks(checked) {
            let Some(index) = checked.find(&task.name) else { continue };
            let calls = task.elements.iter().filter_map(|name| checked.find(name)).map(|i| offset + i).collect();
            let pinned = pins.iter().find(|(name, _)| *name == task.name).map(|(_, thread)| *thread);
            self.elements[offset + index].task = Some(TaskView { cost: task.cost, pinned, thread: None, calls });
        }
    }

    /// Adds a tenant's container part (as [`crate::partition::Partition::container`] holds it):
    /// checked with the coordinator's classes and `catalog` (the library and the tenant's engine's
    /// classes), its names put under `tenant/` when there is a tenant.
    pub fn add_container_part(&mut self, part: &FlatGraph, tenant: Option<&str>, catalog: vdp_core::catalog::Catalog) {
        let options = CheckOptions { coordinator: true, catalog, ..CheckOptions::default() };
        let mut diagnostics = Diagnostics::default();
        let checked = check(part, &options, &mut diagnostics);
        let offset = self.elements.len();
        self.add_graph(part, &checked, true, |_| tenant.map(str::to_string));
        if let Some(tenant) = tenant {
            for element in &mut self.elements[offset..] {
                element.name = format!("{tenant}/{}", element.name);
            }
        }
    }

    /// The view of a merge ([`crate::merge_tenants`]): the merged kernel graph, each tenant a
    /// cluster, and each tenant's container part, with the boundaries joined. `catalog_of`
    /// gives a tenant's classes. Threads are placed with [`View::place_threads`].
    pub fn of_merged(title: impl Into<String>, system: &SystemConfig, merged: &Merged, catalog_of: impl Fn(&str) -> vdp_core::catalog::Catalog) -> View {
        let mut view = View::new(title);
        let tenant_of = |name: &str| {
            let first = name.split('/').next().unwrap_or("");
            (name.contains('/') && system.tenant(first).is_some()).then(|| first.to_string())
        };
        view.add_graph(&merged.flat, &merged.checked, false, tenant_of);
        for (tenant, partition) in &merged.partitions {
            if let Some(part) = &partition.container {
                view.add_container_part(part, Some(tenant), catalog_of(tenant));
            }
        }
        view.join_boundaries();
        view
    }

    /// Joins the halves of each boundary between a kernel part and a container part: elements
    /// of one tenant with the same name, one at each level, the sender having no outputs.
    pub fn join_boundaries(&mut self) {
        let container: std::collections::HashMap<(&str, Option<&str>), usize> =
            self.elements.iter().enumerate().filter(|(_, e)| e.container).map(|(i, e)| ((e.name.as_str(), e.tenant.as_deref()), i)).collect();
        let mut channels = Vec::new();
        for (a, first) in self.elements.iter().enumerate().filter(|(_, e)| !e.container) {
            let Some(&b) = container.get(&(first.name.as_str(), first.tenant.as_deref())) else { continue };
            let (from, to) = if first.outputs.is_empty() { (a, b) } else { (b, a) };
            channels.push(ViewChannel { from, to });
        }
        self.channels.extend(channels);
    }

    /// Places each tenant's kernel tasks on its threads as the kernel does when it builds the
    /// graph ([`tasks::place_tasks`]), `threads(tenant)` being the tenant's thread count (its
    /// `THREADS`, 1 unless the root context set another); then marks each element with the
    /// threads whose tasks may call it.
    pub fn place_threads(&mut self, threads: impl Fn(Option<&str>) -> u32) {
        let mut tenants: Vec<Option<String>> = Vec::new();
        for element in &self.elements {
            if !tenants.contains(&element.tenant) {
                tenants.push(element.tenant.clone());
            }
        }
        for tenant in tenants {
            let ordered: Vec<usize> =
                (0..self.elements.len()).filter(|&i| !self.elements[i].container && self.elements[i].tenant == tenant && self.elements[i].task.is_some()).collect();
            let pins: Vec<Option<u32>> = ordered.iter().map(|&i| self.elements[i].task.as_ref().and_then(|t| t.pinned)).collect();
            for (&index, thread) in ordered.iter().zip(tasks::place_tasks(&pins, threads(tenant.as_deref()))) {
                if let Some(task) = &mut self.elements[index].task {
                    task.thread = Some(thread);
                }
            }
        }
        let mut on: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); self.elements.len()];
        for element in &self.elements {
            if let Some(TaskView { thread: Some(thread), calls, .. }) = &element.task {
                for &called in calls {
                    if let Some(set) = on.get_mut(called) {
                        set.insert(*thread);
                    }
                }
            }
        }
        for (element, threads) in self.elements.iter_mut().zip(on) {
            element.threads = threads.into_iter().collect();
        }
    }

    /// The thread each task element runs on, by name.
    pub fn task_threads(&self) -> Vec<(&str, Option<u32>)> {
        self.elements.iter().filter_map(|e| e.task.as_ref().map(|t| (e.name.as_str(), t.thread))).collect()
    }

    fn port_row(prefix: &str, modes: &[Mode]) -> String {
        let mut cells = String::new();
        for (port, mode) in modes.iter().enumerate() {
            let (fill, ink) = match mode {
                Mode::Push => ("#303030", "#ffffff"),
                Mode::Pull => ("#ffffff", "#303030"),
            };
            let _ = write!(
                cells,
                r##"<TD PORT="{prefix}{port}" BORDER="1" COLOR="#303030" BGCOLOR="{fill}" WIDTH="14" HEIGHT="9" FIXEDSIZE="TRUE"><FONT POINT-SIZE="6" COLOR="{ink}">{port}</FONT></TD>"##
            );
        }
        format!(r#"<TR><TD><TABLE BORDER="0" CELLSPACING="3" CELLPADDING="0"><TR>{cells}</TR></TABLE></TD></TR>"#)
    }

    /// The HTML-like label of element `index`: its input ports, its name, class, arguments
    /// and placement, its output ports.
    fn label(&self, index: usize) -> String {
        let element = &self.elements[index];
        let mut lines = vec![format!("<B>{}</B>", html(element.local_name()))];
        let config: Vec<String> = element.args.iter().take(SHOWN_ARGS).map(|a| html(&shown(a))).collect();
        let more = element.args.len().saturating_sub(SHOWN_ARGS);
        let inline = more == 0 && element.args.iter().map(|a| a.chars().count() + 2).sum::<usize>() <= SHOWN_ARG_CHARS;
        if config.is_empty() {
            lines.push(html(&element.class));
        } else if inline {
            lines.push(format!("{}({})", html(&element.class), config.join(", ")));
        } else {
            lines.push(format!("{}(", html(&element.class)));
            for arg in &config {
                lines.push(format!("&nbsp;&nbsp;{arg}"));
            }
            if more > 0 {
                lines.push(format!("&nbsp;&nbsp;… {more} more"));
            }
            lines.push(")".to_string());
        }
        // One thread shows in the fill colour.
        for note in self.placement(index, false) {
            lines.push(format!(r#"<FONT POINT-SIZE="8">{}</FONT>"#, html(&note)));
        }
        let fill = if element.container {
            CONTAINER_COLOUR
        } else if let Some(TaskView { thread: Some(thread), .. }) = &element.task {
            thread_colour(*thread)
        } else {
            match element.threads.as_slice() {
                [thread] => thread_colour(*thread),
                _ => SHARED_COLOUR,
            }
        };
        let border = if element.task.is_some() { 2 } else { 1 };
        let style = if element.root { r#" STYLE="dashed""# } else { "" };
        let mut label = String::from(r#"<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">"#);
        if !element.inputs.is_empty() {
            label.push_str(&Self::port_row("i", &element.inputs));
        }
        let _ = write!(label, r##"<TR><TD BORDER="{border}"{style} COLOR="#303030" BGCOLOR="{fill}" CELLPADDING="4">{}</TD></TR>"##, lines.join("<BR/>"));
        if !element.outputs.is_empty() {
            label.push_str(&Self::port_row("o", &element.outputs));
        }
        label.push_str("</TABLE>");
        label
    }

    /// The legend: the title, what ports and lines mean, and the threads' colours.
    fn legend(&self) -> String {
        let mut threads: BTreeSet<u32> = BTreeSet::new();
        for element in &self.elements {
            if let Some(TaskView { thread: Some(thread), .. }) = &element.task {
                threads.insert(*thread);
            }
        }
        let mut cells = String::from(
            r##"<TD BORDER="1" COLOR="#303030" BGCOLOR="#303030" WIDTH="14" HEIGHT="9" FIXEDSIZE="TRUE"></TD><TD>push port&nbsp;&nbsp;</TD><TD BORDER="1" COLOR="#303030" BGCOLOR="#ffffff" WIDTH="14" HEIGHT="9" FIXEDSIZE="TRUE"></TD><TD>pull port&nbsp;&nbsp;</TD><TD>─── push&nbsp;&nbsp;- - - pull&nbsp;&nbsp;</TD>"##,
        );
        for thread in threads {
            let _ = write!(cells, r##"<TD BORDER="1" COLOR="#303030" BGCOLOR="{}">&nbsp;thread {thread}&nbsp;</TD><TD>&nbsp;</TD>"##, thread_colour(thread));
        }
        if self.elements.iter().any(|e| e.container) {
            let _ = write!(cells, r##"<TD BORDER="1" COLOR="#303030" BGCOLOR="{CONTAINER_COLOUR}">&nbsp;container engine&nbsp;</TD>"##);
        }
        format!(
            r#"<<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="1"><TR><TD ALIGN="LEFT"><B>{}</B></TD></TR><TR><TD><TABLE BORDER="0" CELLSPACING="1" CELLPADDING="1"><TR>{cells}</TR></TABLE></TD></TR></TABLE>>"#,
            html(&self.title)
        )
    }

    /// The placement of element `index` in words: its task and thread, or the threads whose
    /// tasks call it (a single one only with `single`), and the root context's ownership.
    fn placement(&self, index: usize, single: bool) -> Vec<String> {
        let element = &self.elements[index];
        let mut words = Vec::new();
        if let Some(task) = &element.task {
            let place = match (task.thread, element.container) {
                (_, true) => "container engine".to_string(),
                (Some(thread), false) => format!("thread {thread}"),
                (None, false) => "thread not placed".to_string(),
            };
            let pinned = if task.pinned.is_some() { ", pinned" } else { "" };
            words.push(format!("task on {place}{pinned}, {} cycles", task.cost));
        } else if element.threads.len() > 1 || (single && !element.threads.is_empty()) {
            let threads: Vec<String> = element.threads.iter().map(u32::to_string).collect();
            let noun = if threads.len() == 1 { "thread" } else { "threads" };
            words.push(format!("{noun} {}", threads.join(", ")));
        }
        if element.root {
            words.push("root context".to_string());
        }
        words
    }

    /// The graph as Click text: a section per tenant (and container part), each element
    /// declared with its class and arguments and a comment giving its ports in Click's
    /// processing letters (`h` push, `l` pull) and its task or threads; then the connections,
    /// and the channels between the levels as comments.
    pub fn to_click(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "// {}, as vdp runs it (ports: h push, l pull)", self.title.replace('\n', " "));
        let mut sections: Vec<(Option<&str>, bool)> = Vec::new();
        for element in &self.elements {
            let key = (element.tenant.as_deref(), element.container);
            if !sections.contains(&key) {
                sections.push(key);
            }
        }
        let letters = |modes: &[Mode]| -> String {
            let letters: String = modes.iter().map(|m| if *m == Mode::Push { 'h' } else { 'l' }).collect();
            if letters.is_empty() { "-".to_string() } else { letters }
        };
        for (tenant, container) in sections {
            let heading = match (tenant, container) {
                (Some(tenant), false) => format!("tenant {tenant}"),
                (Some(tenant), true) => format!("tenant {tenant}, container engine"),
                (None, false) => "kernel".to_string(),
                (None, true) => "container engine".to_string(),
            };
            let _ = writeln!(out, "\n// {heading}");
            for (index, element) in self.elements.iter().enumerate().filter(|(_, e)| (e.tenant.as_deref(), e.container) == (tenant, container)) {
                let declaration = if element.args.is_empty() {
                    format!("{} :: {};", element.name, element.class)
                } else {
                    format!("{} :: {}({});", element.name, element.class, element.args.join(", "))
                };
                let placement: String = self.placement(index, true).iter().map(|words| format!("; {words}")).collect();
                let _ = writeln!(out, "{declaration}  // in {} out {}{placement}", letters(&element.inputs), letters(&element.outputs));
            }
            let mut connections = self.connections.iter().filter(|c| (self.elements[c.from].tenant.as_deref(), self.elements[c.from].container) == (tenant, container)).peekable();
            if connections.peek().is_some() {
                out.push('\n');
            }
            for connection in connections {
                let _ = writeln!(out, "{} [{}] -> [{}] {};", self.elements[connection.from].name, connection.from_port, connection.to_port, self.elements[connection.to].name);
            }
        }
        if !self.channels.is_empty() {
            out.push('\n');
        }
        for channel in &self.channels {
            let level = |e: &ViewElement| if e.container { "container" } else { "kernel" };
            let (from, to) = (&self.elements[channel.from], &self.elements[channel.to]);
            let _ = writeln!(out, "// channel: {} ({}) -> {} ({})", from.name, level(from), to.name, level(to));
        }
        out
    }

    /// Writes the nodes of `members`, those of one compound instance (`in1/rx`, `in1/c`) in a
    /// cluster of their own, nested as the compounds nest.
    fn write_members(&self, out: &mut String, indent: &str, members: &[usize], clusters: &mut usize) {
        // (compound path, its elements), in the order the elements come.
        let mut groups: Vec<(Vec<&str>, Vec<usize>)> = Vec::new();
        for &index in members {
            let mut path: Vec<&str> = self.elements[index].local_name().split('/').collect();
            path.pop();
            match groups.iter_mut().find(|(p, _)| *p == path) {
                Some((_, elements)) => elements.push(index),
                None => groups.push((path, vec![index])),
            }
        }
        // Every enclosing compound is a group too, so that clusters nest.
        let mut paths: Vec<Vec<&str>> = groups.iter().map(|(p, _)| p.clone()).collect();
        for (path, _) in &groups {
            for depth in 1..path.len() {
                if !paths.iter().any(|p| p[..] == path[..depth]) {
                    paths.push(path[..depth].to_vec());
                }
            }
        }
        paths.sort();
        // Open and close clusters walking the sorted paths: each path's cluster sits inside
        // those of its prefixes.
        let mut open: Vec<&str> = Vec::new();
        for path in paths {
            let common = open.iter().zip(&path).take_while(|(a, b)| a == b).count();
            while open.len() > common {
                open.pop();
                let _ = writeln!(out, "{indent}{}}}", "  ".repeat(open.len()));
            }
            while open.len() < path.len() {
                let name = path[open.len()];
                let _ = writeln!(out, "{indent}{}subgraph \"cluster_{}\" {{", "  ".repeat(open.len()), *clusters);
                *clusters += 1;
                let _ = writeln!(out, "{indent}{}  label={}; labelloc=t; labeljust=l; style=\"rounded,dotted\"; color=\"#a0a0a0\"; fontsize=9;", "  ".repeat(open.len()), quoted(name));
                open.push(name);
            }
            if let Some((_, elements)) = groups.iter().find(|(p, _)| *p == path) {
                for &index in elements {
                    let _ = writeln!(out, "{indent}{}{} [label=<{}>];", "  ".repeat(open.len()), quoted(&self.elements[index].node_id()), self.label(index));
                }
            }
        }
        while !open.is_empty() {
            open.pop();
            let _ = writeln!(out, "{indent}{}}}", "  ".repeat(open.len()));
        }
    }

    /// The picture as Graphviz `dot` text.
    pub fn to_dot(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "// {} (drawn by vdpctl)", self.title.replace('\n', " "));
        let _ = writeln!(out, "digraph vdp {{");
        let _ = writeln!(out, "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=10, nodesep=0.25, ranksep=0.35, labelloc=b, label={}];", self.legend());
        let _ = writeln!(out, "  node [shape=plaintext, fontname=\"Helvetica\", fontsize=10, margin=0];");
        let _ = writeln!(out, "  edge [arrowsize=0.6, color=\"#303030\"];");
        // Elements without a tenant first, then each tenant's cluster, its kernel part and then
        // its container part.
        let mut tenants: Vec<Option<&str>> = Vec::new();
        for element in &self.elements {
            if !tenants.contains(&element.tenant.as_deref()) {
                tenants.push(element.tenant.as_deref());
            }
        }
        tenants.sort_by_key(|t| t.is_some());
        let mut clusters = 0usize;
        for tenant in tenants {
            let indent = if tenant.is_some() { "    " } else { "  " };
            if let Some(name) = tenant {
                let _ = writeln!(out, "  subgraph {} {{", quoted(&format!("cluster_tenant_{name}")));
                let _ = writeln!(out, "    label=<tenant <B>{}</B>>; labelloc=t; labeljust=l; style=rounded; color=\"#7f7f7f\"; fontsize=11;", html(name));
            }
            for container in [false, true] {
                let members: Vec<usize> = (0..self.elements.len()).filter(|&i| self.elements[i].tenant.as_deref() == tenant && self.elements[i].container == container).collect();
                if members.is_empty() {
                    continue;
                }
                let inner = if container { format!("{indent}  ") } else { indent.to_string() };
                if container {
                    let _ = writeln!(out, "{indent}subgraph {} {{", quoted(&format!("cluster_container_{}", tenant.unwrap_or(""))));
                    let _ = writeln!(out, "{indent}  label=\"container engine\"; labelloc=t; labeljust=l; style=\"rounded,dashed\"; color=\"#7f7f7f\";");
                }
                self.write_members(&mut out, &inner, &members, &mut clusters);
                if container {
                    let _ = writeln!(out, "{indent}}}");
                }
            }
            if tenant.is_some() {
                let _ = writeln!(out, "  }}");
            }
        }
        for connection in &self.connections {
            let style = match connection.mode {
                Mode::Push => "solid",
                Mode::Pull => "dashed",
            };
            let _ = writeln!(
                out,
                "  {}:\"o{}\" -> {}:\"i{}\" [style={style}];",
                quoted(&self.elements[connection.from].node_id()),
                connection.from_port,
                quoted(&self.elements[connection.to].node_id()),
                connection.to_port
            );
        }
        for channel in &self.channels {
            let _ = writeln!(
                out,
                "  {} -> {} [style=bold, color=\"#7f7f7f\", arrowhead=empty, label=\" channel\", fontsize=8];",
                quoted(&self.elements[channel.from].node_id()),
                quoted(&self.elements[channel.to].node_id())
            );
        }
        let _ = writeln!(out, "}}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn view_of(text: &str) -> View {
        let mut diagnostics = Diagnostics::default();
        let scope = crate::parser::parse(FileId(0), text, &mut diagnostics);
        let flat = crate::flatten::flatten(&scope, &mut diagnostics);
        let checked = check(&flat, &CheckOptions::default(), &mut diagnostics);
        assert!(!diagnostics.has_errors(), "{:?}", diagnostics.items);
        let mut view = View::new("t.click");
        view.add_graph(&flat, &checked, false, |_| None);
        view
    }

    #[test]
    fn ports_modes_and_tasks_come_from_the_checked_graph() {
        let mut view = view_of("src :: InfiniteSource(LIMIT 5) -> q :: Queue(10) -> u :: Unqueue -> t :: Tee(2); t[0] -> Discard; t[1] -> Discard; StaticThreadSched(u 1);");
        view.place_threads(|_| 1);
        let q = &view.elements[1];
        assert_eq!((q.name.as_str(), q.inputs.as_slice(), q.outputs.as_slice()), ("q", &[Mode::Push][..], &[Mode::Pull][..]));
        assert_eq!(view.elements[3].outputs, [Mode::Push, Mode::Push]);
        assert_eq!(view.task_threads(), [("src", Some(0)), ("u", Some(1))]);
        assert_eq!(view.elements[0].task.as_ref().unwrap().pinned, None);
        assert_eq!(view.elements[2].task.as_ref().unwrap().pinned, Some(1));
        // The Queue is pushed by src's task on thread 0 and pulled by u's on thread 1.
        assert_eq!(view.elements[1].threads, [0, 1]);
        assert_eq!(view.elements[3].threads, [1]);
        let pull = view.connections.iter().find(|c| c.from == 1).unwrap();
        assert_eq!(pull.mode, Mode::Pull);
        assert_eq!(view.elements[0].args, ["LIMIT 5"]);
    }

    #[test]
    fn unpinned_tasks_go_round_robin_over_the_tenants_threads() {
        let text = "a :: InfiniteSource -> Discard; b :: InfiniteSource -> Discard; c :: InfiniteSource -> Discard; d :: InfiniteSource -> Discard; StaticThreadSched(b 3);";
        let mut view = view_of(text);
        view.place_threads(|_| 2);
        assert_eq!(view.task_threads(), [("a", Some(0)), ("b", Some(3)), ("c", Some(1)), ("d", Some(0))]);
    }

    #[test]
    fn the_dot_text_names_every_element_and_port() {
        let mut view = view_of("src :: InfiniteSource -> q :: Queue -> u :: Unqueue -> Discard;");
        view.place_threads(|_| 1);
        let dot = view.to_dot();
        for id in ["\"src\" [label=<", "\"q\" [label=<", "\"Discard@4\" [label=<"] {
            assert!(dot.contains(id), "{id}: {dot}");
        }
        assert!(dot.contains("\"src\":\"o0\" -> \"q\":\"i0\" [style=solid];"), "{dot}");
        assert!(dot.contains("\"q\":\"o0\" -> \"u\":\"i0\" [style=dashed];"), "{dot}");
        assert!(dot.contains(r#"PORT="i0""#) && dot.contains(r#"PORT="o0""#));
        assert!(dot.contains("task on thread 0, "), "{dot}");
        assert!(dot.starts_with("// t.click (drawn by vdpctl)\ndigraph vdp {"), "{dot}");
    }

    #[test]
    fn labels_escape_what_html_would_read() {
        let view = view_of("Idle -> Print(\"<a & b>\") -> Discard;");
        let dot = view.to_dot();
        assert!(dot.contains("Print(&quot;&lt;a &amp; b&gt;&quot;)"), "{dot}");
        assert_eq!(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(shown(&"x".repeat(50)).chars().count(), SHOWN_ARG_CHARS);
    }

    #[test]
    fn the_click_text_declares_every_element_with_its_ports_and_placement() {
        let mut view = view_of("src :: InfiniteSource -> q :: Queue -> u :: Unqueue -> Discard; StaticThreadSched(u 1);");
        view.place_threads(|_| 1);
        let text = view.to_click();
        assert!(text.contains("src :: InfiniteSource;  // in - out h; task on thread 0, "), "{text}");
        assert!(text.contains("q :: Queue;  // in h out l; threads 0, 1\n"), "{text}");
        assert!(text.contains("u :: Unqueue;  // in l out h; task on thread 1, pinned, "), "{text}");
        assert!(text.contains("q [0] -> [0] u;"), "{text}");
        // Without its comments it is the graph again.
        let mut diagnostics = Diagnostics::default();
        let scope = crate::parser::parse(FileId(0), &text, &mut diagnostics);
        let flat = crate::flatten::flatten(&scope, &mut diagnostics);
        assert!(!diagnostics.has_errors(), "{:?}", diagnostics.items);
        assert_eq!(flat.elements.len(), view.elements.len());
        assert_eq!(flat.connections.len(), view.connections.len());
    }

    #[test]
    fn a_view_survives_json() {
        let mut view = view_of("src :: InfiniteSource -> q :: Queue -> u :: Unqueue -> Discard;");
        view.place_threads(|_| 1);
        let json = serde_json::to_string(&view).unwrap();
        let back: View = serde_json::from_str(&json).unwrap();
        assert_eq!(back, view);
    }
}
