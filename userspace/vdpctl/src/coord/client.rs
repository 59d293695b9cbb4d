//! The in-container commands: `install`, `remove`, `show`, `read`, `write` (and `stats` when the
//! module is out of reach). They talk to the coordinator's socket, never to the module.
//!
//! Exit codes: 0 done, 1 refused or invalid (the message says which rule or what is wrong),
//! 2 usage, 3 the coordinator or the module cannot be reached.

use super::protocol::{self, Op, Request, Response, Status, DEFAULT_SOCKET, PROTOCOL_VERSION};
use crate::output::Output;
use anyhow::{Context, Result};
use clap::Args;
use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use vdp_click::check::{CheckOptions, Limits};
use vdp_click::source::{Diagnostics, Sources};

/// How long to wait for the answer: an install may queue behind other tenants' installs.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

/// Exit code when the coordinator (or, through it, the module) cannot be reached.
pub const EXIT_UNREACHABLE: u8 = 3;

#[derive(Args)]
pub struct Connection {
    /// The coordinator's socket [default: $VDP_SOCKET, else /run/vdp/vdpd.sock].
    #[arg(long)]
    pub socket: Option<PathBuf>,
    /// The tenant to act on, by name or id: for the root context; a tenant may name only
    /// itself. An id is looked up among the module's tenants (the root context's view).
    #[arg(long, value_parser = crate::tenant_ref::parse_tenant_ref)]
    pub tenant: Option<crate::tenant_ref::TenantRef>,
}

impl Connection {
    /// The tenant's name for the request; the error is the exit code, already reported.
    pub fn tenant_name(&self) -> Result<Option<String>, ExitCode> {
        self.tenant.as_ref().map(crate::tenant_ref::name_of).transpose().map_err(|e| {
            eprintln!("vdpctl: {e:#}");
            crate::info::exit_code_for(&e)
        })
    }
}

#[derive(Args)]
pub struct InstallArgs {
    /// The Click configuration (`-` for standard input); it replaces the tenant's current one.
    file: String,
    /// The container engine: its classes are described to the coordinator, and it is
    /// (re)started on the container part if the configuration has one.
    #[command(flatten)]
    engine: super::engine::EngineOptions,
    #[command(flatten)]
    conn: Connection,
}

#[derive(Args)]
pub struct PlainArgs {
    #[command(flatten)]
    conn: Connection,
}

#[derive(Args)]
pub struct ShowArgs {
    /// Write the installed graph as Graphviz dot text instead: its elements, ports, tasks and
    /// the threads the kernel runs them on (as `vdpctl pretty --dot` draws a file).
    #[arg(long, conflicts_with_all = ["json", "stats"])]
    dot: bool,
    #[command(flatten)]
    conn: Connection,
}

#[derive(Args)]
pub struct ReadArgs {
    /// ELEMENT.HANDLER, with the element named as in the tenant's own configuration.
    target: String,
    /// A parameter for handlers that take one (`rt.lookup 10.0.0.1`).
    parameter: Option<String>,
    /// Where the container engine keeps its files, for elements at the container level.
    #[arg(long, default_value = super::engine::DEFAULT_DIR)]
    engine_dir: PathBuf,
    #[command(flatten)]
    conn: Connection,
}

#[derive(Args)]
pub struct WriteArgs {
    /// ELEMENT.HANDLER, with the element named as in the tenant's own configuration.
    target: String,
    /// The value to write (none for handlers that take none).
    #[arg(allow_hyphen_values = true, conflicts_with = "file")]
    value: Option<String>,
    /// Write the file's lines instead of VALUE, in as few writes as fit the value limit, each
    /// ending at a line break (a route table's `add` takes one route per line).
    #[arg(long)]
    file: Option<PathBuf>,
    /// Where the container engine keeps its files, for elements at the container level.
    #[arg(long, default_value = super::engine::DEFAULT_DIR)]
    engine_dir: PathBuf,
    #[command(flatten)]
    conn: Connection,
}

/// The socket to use: `--socket`, then `$VDP_SOCKET`, then the default.
pub fn socket_path(explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("VDP_SOCKET").filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET))
}

/// Sends one request and waits for its response; the error is the exit code, already reported.
fn call(conn: &Connection, op: Op) -> Result<Response, ExitCode> {
    let tenant = conn.tenant_name()?;
    request(conn.socket.as_deref(), tenant, op).map_err(|e| {
        eprintln!("vdpctl: {e}");
        ExitCode::from(EXIT_UNREACHABLE)
    })
}

/// Why the coordinator gave no response: it cannot be reached, did not answer, or answered what
/// this vdpctl does not understand (exit code [`EXIT_UNREACHABLE`]).
#[derive(Debug)]
pub struct Unreachable(pub String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreachable {}

/// Sends one request, for `tenant` when the root context names one, to the coordinator at
/// `socket` (see [`socket_path`]) and waits for its response.
pub fn request(socket: Option<&Path>, tenant: Option<String>, op: Op) -> Result<Response, Unreachable> {
    let path = socket_path(socket);
    let stream = UnixStream::connect(&path).map_err(|e| Unreachable(format!("cannot reach the coordinator at {}: {e}", path.display())))?;
    let _ = stream.set_read_timeout(Some(ANSWER_TIMEOUT));
    let request = Request { version: PROTOCOL_VERSION, tenant, op };
    exchange(&stream, &request).map_err(|e| {
        Unreachable(match e {
            Unanswered::NotSent(e) => format!("cannot send to the coordinator at {}: {e}", path.display()),
            Unanswered::Closed => "the coordinator closed the connection without an answer".into(),
            Unanswered::NoAnswer(e) => format!("no answer from the coordinator: {e}"),
            Unanswered::NotUnderstood(e) => format!("the coordinator's answer is not understood: {e}"),
        })
    })
}

/// Why a request got no response.
#[derive(Debug)]
enum Unanswered {
    NotSent(std::io::Error),
    Closed,
    NoAnswer(std::io::Error),
    NotUnderstood(serde_json::Error),
}

/// Writes the request and reads the response on a connected stream.
fn exchange(stream: &UnixStream, request: &Request) -> Result<Response, Unanswered> {
    let unsent = match protocol::write_line(stream, request) {
        Ok(()) => None,
        // A coordinator that refuses the connection at once (over a connection limit) answers
        // and closes without reading the request: the answer is still there to read.
        Err(e) if matches!(e.kind(), std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset) => Some(e),
        Err(e) => return Err(Unanswered::NotSent(e)),
    };
    match (protocol::read_line(BufReader::new(stream)), unsent) {
        (Ok(Some(line)), _) => serde_json::from_str(&line).map_err(Unanswered::NotUnderstood),
        (_, Some(e)) => Err(Unanswered::NotSent(e)),
        (Ok(None), None) => Err(Unanswered::Closed),
        (Err(e), None) => Err(Unanswered::NoAnswer(e)),
    }
}

/// Prints warnings, and the message of a failed request; returns the exit code.
fn finish(response: &Response, out: &Output, text: impl FnOnce(&serde_json::Value)) -> ExitCode {
    if out.json {
        if let Err(e) = out.print_json(response) {
            eprintln!("vdpctl: {e:#}");
            return ExitCode::FAILURE;
        }
    } else {
        for warning in &response.warnings {
            eprintln!("{warning}");
        }
        match response.status {
            Status::Ok => text(&response.result),
            _ => eprintln!("vdpctl: {}", response.message),
        }
    }
    ExitCode::from(response.status.exit_code())
}

fn run(conn: &Connection, out: &Output, op: Op, text: impl FnOnce(&serde_json::Value)) -> Result<ExitCode> {
    Ok(match call(conn, op) {
        Ok(response) => finish(&response, out, text),
        Err(code) => code,
    })
}

/// The checks that need no system config: syntax, classes, arguments, ports. The coordinator
/// repeats them with the tenant's devices and limits. The error is the diagnostics rendered,
/// with colour escapes if `color`.
fn check_locally(name: &str, text: &str, catalog: vdp_core::catalog::Catalog, color: bool) -> Result<(), String> {
    let options = CheckOptions {
        limits: Limits {
            max_elements: usize::MAX,
            max_queue_capacity: vdp_core::catalog::MAX_QUEUE_CAPACITY,
            max_table_entries: usize::MAX,
            max_threads: u32::MAX,
            task_budget_cycles: u64::MAX,
        },
        devices: None,
        coordinator: false,
        catalog,
        ..CheckOptions::default()
    };
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    vdp_click::check_text(&mut sources, name, text, &options, &mut diagnostics);
    if diagnostics.has_errors() {
        Err(sources.render_all_styled(&diagnostics, color))
    } else {
        Ok(())
    }
}

fn list(value: &serde_json::Value) -> String {
    value.as_array().map(|a| a.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

pub fn run_install(args: &InstallArgs, out: &Output) -> Result<ExitCode> {
    let (name, source) = crate::frontend::read_config(&args.file)?;
    let file_name = Path::new(&name).file_name().map_or(name.clone(), |n| n.to_string_lossy().into_owned());
    // The tenant's own classes, when it names its engine; the stock engine's are the
    // coordinator's already.
    let classes = match args.engine.engine.is_some() || std::env::var_os("VDP_ENGINE").is_some() {
        true => crate::frontend::describe(&super::engine::engine_path(&args.engine))?,
        false => Vec::new(),
    };
    if let Err(diagnostics) = check_locally(&file_name, &source, crate::frontend::catalog_of(&classes)?, vdp_click::source::stderr_color()) {
        eprint!("{diagnostics}");
        eprintln!("vdpctl: {file_name} has errors; nothing was sent to the coordinator");
        return Ok(ExitCode::FAILURE);
    }
    let response = match call(&args.conn, Op::Install { file_name, source, classes }) {
        Ok(response) => response,
        Err(code) => return Ok(code),
    };
    let mut container = false;
    let mut tenant = String::new();
    let code = finish(&response, out, |r| {
        container = !r["container"].is_null();
        tenant = r["tenant"].as_str().unwrap_or_default().to_string();
        println!(
            "installed {} for tenant {}: {} elements, {} tasks, threads {}{}",
            r["file_name"].as_str().unwrap_or("?"),
            r["tenant"].as_str().unwrap_or("?"),
            r["elements"],
            r["tasks"],
            list(&r["thread_pids"]),
            if container { format!("; container part: {} elements, {} boundaries", r["container"]["elements"], r["container"]["boundaries"]) } else { String::new() }
        );
    });
    if response.status != Status::Ok {
        return Ok(code);
    }
    if container {
        // The engine runs the new container part on a fresh channel.
        return super::engine::start(&args.engine, &args.conn);
    }
    if !tenant.is_empty() {
        if let Some(pid) = super::engine::stop(&args.engine.dir, &tenant)? {
            println!("stopped the container engine (pid {pid}): the configuration has no container part");
        }
    }
    Ok(code)
}

pub fn run_remove(args: &PlainArgs, out: &Output) -> Result<ExitCode> {
    let mut tenant = String::new();
    let code = run(&args.conn, out, Op::Remove, |r| {
        tenant = r["tenant"].as_str().unwrap_or_default().to_string();
        println!("removed {} of tenant {tenant}", r["removed"].as_str().unwrap_or("?"));
    })?;
    // The container part went with the configuration.
    if !tenant.is_empty() {
        if let Some(pid) = super::engine::stop(Path::new(super::engine::DEFAULT_DIR), &tenant)? {
            println!("stopped the container engine of tenant {tenant} (pid {pid})");
        }
    }
    Ok(code)
}

pub fn run_show(args: &ShowArgs, out: &Output) -> Result<ExitCode> {
    if !args.dot && out.stats {
        return show_with_stats(&args.conn, out);
    }
    if !args.dot {
        return run(&args.conn, out, Op::Show { graph: false }, |r| print!("{}", render_show(r)));
    }
    let response = match call(&args.conn, Op::Show { graph: true }) {
        Ok(response) => response,
        Err(code) => return Ok(code),
    };
    if response.status != Status::Ok {
        return Ok(finish(&response, &Output::default(), |_| {}));
    }
    for warning in &response.warnings {
        eprintln!("{warning}");
    }
    match show_dot(&response.result) {
        Ok(dot) => {
            print!("{dot}");
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            eprintln!("vdpctl: {why}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `show -s`: the tenant's configuration and its statistics (the `stats` answer), as `stats` in
/// the result's `stats` under -j, after the text otherwise.
fn show_with_stats(conn: &Connection, out: &Output) -> Result<ExitCode> {
    let mut show = match call(conn, Op::Show { graph: false }) {
        Ok(response) => response,
        Err(code) => return Ok(code),
    };
    if show.status != Status::Ok {
        return Ok(finish(&show, out, |_| {}));
    }
    let stats = match call(conn, Op::Stats) {
        Ok(response) => response,
        Err(code) => return Ok(code),
    };
    if stats.status != Status::Ok {
        return Ok(finish(&stats, out, |_| {}));
    }
    show.warnings.extend(stats.warnings);
    show.result["stats"] = stats.result;
    Ok(finish(&show, out, |r| print!("{}statistics:\n{}", render_show(r), indent(&render_stats(&r["stats"], true)))))
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}\n")).collect()
}

/// The installed graph of a `show` answer as dot text.
pub(crate) fn show_dot(r: &serde_json::Value) -> std::result::Result<String, String> {
    let tenant = r["tenant"].as_str().unwrap_or("?");
    let c = &r["configuration"];
    if c.is_null() {
        return Err(format!("tenant {tenant} has no configuration installed"));
    }
    if c["graph"].is_null() {
        return Err(format!("the coordinator sent no graph for tenant {tenant}: its configuration is not installed, or the coordinator is older than this vdpctl"));
    }
    let view: vdp_click::dot::View = serde_json::from_value(c["graph"].clone()).map_err(|e| format!("the coordinator's graph is not understood: {e}"))?;
    Ok(view.to_dot())
}

fn render_show(r: &serde_json::Value) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let id = r["tenant_id"].as_u64().map_or("not in the module".to_string(), |id| format!("id {id}"));
    let _ = writeln!(out, "tenant {} ({id}), cgroup {}", r["tenant"].as_str().unwrap_or("?"), r["cgroup"].as_str().unwrap_or("?"));
    for t in r["threads"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  thread {}: pid {} ({}), cgroup {}",
            t["thread"],
            t["pid"],
            t["name"].as_str().unwrap_or("?"),
            t["cgroup"].as_str().unwrap_or("gone")
        );
    }
    let e = &r["engines"];
    if !e.is_null() {
        let slices: Vec<String> = e["slices"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                let size = if s["whole"] == true { "whole".to_string() } else { format!("{:.2}", s["engines"].as_f64().unwrap_or(0.0)) };
                format!("cpu {} {size} ({:.2}%)", s["cpu"], s["cpu_percent"].as_f64().unwrap_or(0.0))
            })
            .collect();
        let _ = writeln!(
            out,
            "engines: {:.2} required, sliced {} (threads pinned to those CPUs; the slice sizes not yet held: see docs/pdp.md)",
            e["engines"].as_f64().unwrap_or(0.0),
            slices.join(", ")
        );
    }
    let c = &r["configuration"];
    if c.is_null() {
        let _ = writeln!(out, "no configuration installed");
        return out;
    }
    let _ = writeln!(out, "configuration {}, accepted at {} (unix time)", c["file_name"].as_str().unwrap_or("?"), c["installed_at"]);
    if let Some(tasks) = c["tasks"].as_array() {
        let _ = writeln!(out, "tasks (budget {} cycles per packet):", c["budget_cycles"]);
        for t in tasks {
            let path: Vec<&str> = t["path"].as_array().into_iter().flatten().filter_map(|p| p.as_str()).collect();
            let _ = writeln!(
                out,
                "  {} ({}) on thread {}: {} cycles, path {}",
                t["name"].as_str().unwrap_or("?"),
                t["class"].as_str().unwrap_or("?"),
                t["thread"],
                t["cost_cycles"],
                path.join(" -> ")
            );
        }
        for s in c["splits"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  split {} ({} cycles) at {}: {} :: Queue, {} :: Unqueue",
                s["task"].as_str().unwrap_or("?"),
                s["cost_before"],
                s["cut"].as_str().unwrap_or("?"),
                s["queue"].as_str().unwrap_or("?"),
                s["unqueue"].as_str().unwrap_or("?")
            );
        }
        for s in c["depth_splits"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  split the {} call chain from {} ({} elements, over the kernel's {}) at {}: {} :: Queue, {} :: Unqueue",
                if s["pull"].as_bool() == Some(true) { "pull" } else { "push" },
                s["chain_from"].as_str().unwrap_or("?"),
                s["depth_before"],
                c["max_call_depth"],
                s["cut"].as_str().unwrap_or("?"),
                s["queue"].as_str().unwrap_or("?"),
                s["unqueue"].as_str().unwrap_or("?")
            );
        }
        let _ = writeln!(out, "elements:");
        for e in c["elements"].as_array().into_iter().flatten() {
            let root = crate::stats::root_mark(e["root"].as_bool() == Some(true));
            let _ = writeln!(out, "  {:24} {}{root}", e["name"].as_str().unwrap_or("?"), e["class"].as_str().unwrap_or("?"));
        }
    }
    if let Some(partition) = c["container"]["partition"].as_str() {
        let _ = writeln!(out, "container engine: {} elements", c["container"]["elements"]);
        for line in partition.lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    let _ = writeln!(out, "source:");
    for line in c["source"].as_str().unwrap_or("").lines() {
        let _ = writeln!(out, "  | {line}");
    }
    out
}

pub fn run_read(args: &ReadArgs, out: &Output) -> Result<ExitCode> {
    let (element, handler) = crate::graph::split_target(&args.target)?;
    let handler = match &args.parameter {
        Some(parameter) => format!("{handler} {parameter}"),
        None => handler.to_string(),
    };
    let response = match call(&args.conn, Op::Read { element: element.into(), handler: handler.clone() }) {
        Ok(response) => response,
        Err(code) => return Ok(code),
    };
    if let Some(tenant) = at_container_level(&response) {
        if args.parameter.is_some() {
            eprintln!("vdpctl: {element} runs in the container engine, whose read handlers take no parameter");
            return Ok(ExitCode::FAILURE);
        }
        return Ok(super::engine::call_handler(&args.engine_dir, tenant, element, &handler, None));
    }
    Ok(finish(&response, out, |r| println!("{}", r["value"].as_str().unwrap_or(""))))
}

/// The tenant whose container engine the coordinator sent a handler call to: the element runs at
/// the container level, and the caller reaches the engine's socket in its own container.
fn at_container_level(response: &Response) -> Option<&str> {
    if response.status != Status::Ok || response.result["level"].as_str() != Some("container") {
        return None;
    }
    response.result["tenant"].as_str()
}

pub fn run_write(args: &WriteArgs, out: &Output) -> Result<ExitCode> {
    let (element, handler) = crate::graph::split_target(&args.target)?;
    let Some(file) = &args.file else {
        let response = match call(&args.conn, Op::Write { element: element.into(), handler: handler.into(), value: args.value.clone() }) {
            Ok(response) => response,
            Err(code) => return Ok(code),
        };
        if let Some(tenant) = at_container_level(&response) {
            return Ok(super::engine::call_handler(&args.engine_dir, tenant, element, handler, Some(args.value.as_deref().unwrap_or(""))));
        }
        return Ok(finish(&response, out, |_| {}));
    };
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let chunks = crate::graph::line_chunks(&text, vdp_core::uapi::HANDLER_VALUE_MAX)?;
    for (index, chunk) in chunks.iter().enumerate() {
        let op = Op::Write { element: element.into(), handler: handler.into(), value: Some(chunk.to_string()) };
        let response = match call(&args.conn, op) {
            Ok(response) => response,
            Err(code) => return Ok(code),
        };
        if let Some(tenant) = at_container_level(&response) {
            let code = super::engine::call_handler(&args.engine_dir, tenant, element, handler, Some(chunk));
            if code != ExitCode::SUCCESS {
                eprintln!("vdpctl: piece {} of {} of {} was refused; the pieces before it were written", index + 1, chunks.len(), file.display());
                return Ok(code);
            }
            continue;
        }
        if response.status != Status::Ok {
            // Earlier pieces were applied: say how far the file got.
            eprintln!("vdpctl: piece {} of {} of {} was refused; the pieces before it were written", index + 1, chunks.len(), file.display());
            return Ok(finish(&response, out, |_| {}));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `vdpctl stats` through the coordinator: the caller's own tenant.
pub fn run_stats(socket: Option<&Path>, tenant: Option<&crate::tenant_ref::TenantRef>, out: &Output) -> Result<ExitCode> {
    let conn = Connection { socket: socket.map(Path::to_path_buf), tenant: tenant.cloned() };
    run(&conn, out, Op::Stats, |r| print!("{}", render_stats(r, out.stats)))
}

/// `vdpctl vdev shape` inside a container: the coordinator's answer, which is a refusal.
pub fn run_shape_set(device: Option<&str>, rate: &str, out: &Output) -> Result<ExitCode> {
    let conn = Connection { socket: None, tenant: None };
    run(&conn, out, Op::ShapeSet { device: device.map(str::to_string), rate: rate.to_string() }, |_| {})
}

/// `table`: the elements as `vdpctl stats -s` prints them, with their counters.
fn render_stats(r: &serde_json::Value, table: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "tenant {} {}: threads {}, tasks_per_yield {}, wakeups {}, task runs {}",
        r["id"],
        r["name"].as_str().unwrap_or("?"),
        list(&r["thread_pids"]),
        r["tasks_per_yield"],
        r["wakeups"],
        r["task_runs"]
    );
    if let Ok(stats) = serde_json::from_value::<crate::stats::TenantStats>(r.clone()) {
        out.push_str(&crate::stats::tx_lines(&stats));
    }
    match r["graph"].as_object() {
        None => {
            let _ = writeln!(out, "  no graph");
        }
        Some(g) => {
            let _ = writeln!(out, "  graph: {} elements, {} tasks, depth drops {}", g["element_count"], g["task_count"], g["depth_drops"]);
            if table {
                match serde_json::from_value::<Vec<crate::stats::ElementStats>>(g["elements"].clone()) {
                    Ok(elements) => out.push_str(&crate::stats::element_table(&elements)),
                    Err(e) => {
                        let _ = writeln!(out, "  (the coordinator's element list does not read: {e})");
                    }
                }
                return out;
            }
            for e in g["elements"].as_array().into_iter().flatten() {
                let root = crate::stats::root_mark(e["root"].as_bool() == Some(true));
                let _ = writeln!(out, "    {:20} {}{root}", e["name"].as_str().unwrap_or("?"), e["class"].as_str().unwrap_or("?"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_comes_from_the_flag_then_the_environment() {
        assert_eq!(socket_path(Some(Path::new("/x.sock"))), PathBuf::from("/x.sock"));
        // The environment is process-wide; this is the only test that reads VDP_SOCKET.
        std::env::set_var("VDP_SOCKET", "/env.sock");
        assert_eq!(socket_path(None), PathBuf::from("/env.sock"));
        std::env::remove_var("VDP_SOCKET");
        assert_eq!(socket_path(None), PathBuf::from(DEFAULT_SOCKET));
    }

    #[test]
    fn local_check_catches_language_errors_but_not_devices() {
        assert!(check_locally("a.click", "FromDevice(eth7) -> Discard;", crate::frontend::stock_catalog(), false).is_ok());
        let err = check_locally("a.click", "x :: Qeue;", crate::frontend::stock_catalog(), false).unwrap_err();
        assert!(err.contains("a.click:1"), "{err}");
    }

    #[test]
    fn show_and_stats_render_as_text() {
        let show = serde_json::json!({
            "tenant": "red", "tenant_id": 1, "cgroup": "/red",
            "threads": [{"thread": 0, "pid": 54, "name": "vdp-red", "cgroup": "/red"}],
            "configuration": {"file_name": "r.click", "installed_at": 5, "source": "a -> b;\n", "budget_cycles": 100,
                "tasks": [{"name": "src", "class": "InfiniteSource", "thread": 1, "cost_cycles": 900, "path": ["src", "c"]}],
                "splits": [], "elements": [{"name": "src", "class": "InfiniteSource"}]}
        });
        let text = render_show(&show);
        assert!(text.contains("tenant red (id 1), cgroup /red"), "{text}");
        assert!(text.contains("thread 0: pid 54 (vdp-red), cgroup /red"), "{text}");
        assert!(text.contains("src (InfiniteSource) on thread 1: 900 cycles, path src -> c"), "{text}");
        assert!(text.contains("  | a -> b;"), "{text}");
        assert!(!text.contains("engines"), "{text}");
        let mut sliced = show.clone();
        sliced["engines"] = serde_json::json!({"engines": 1.5, "share": 75, "slices": [
            {"cpu": 0, "engines": 1.0, "whole": true, "cpu_percent": 75.0}, {"cpu": 1, "engines": 0.5, "whole": false, "cpu_percent": 37.5}]});
        let text = render_show(&sliced);
        assert!(text.contains("engines: 1.50 required, sliced cpu 0 whole (75.00%), cpu 1 0.50 (37.50%) (threads pinned to those CPUs"), "{text}");
        let stats = serde_json::json!({"id": 2, "name": "blue", "thread_pids": [7, 8], "tasks_per_yield": 128,
            "wakeups": 3, "task_runs": 9, "graph": null});
        assert_eq!(render_stats(&stats, false), "tenant 2 blue: threads 7 8, tasks_per_yield 128, wakeups 3, task runs 9\n  no graph\n");
    }

    #[test]
    fn an_answer_sent_before_the_request_was_read_still_arrives() {
        // The coordinator answers a connection over its limit at once and closes it unread:
        // the request then cannot be sent (EPIPE), but the answer is there.
        let (client, server) = UnixStream::pair().unwrap();
        protocol::write_line(&server, &Response::error(Status::Refused, "refused (limit: 16 connections at once per caller)")).unwrap();
        drop(server);
        let request = Request { version: PROTOCOL_VERSION, tenant: None, op: Op::Show { graph: false } };
        let response = exchange(&client, &request).unwrap();
        assert_eq!(response.status, Status::Refused);
        assert!(response.message.contains("limit: 16"), "{}", response.message);
        // Without an answer, the failed send is what is reported.
        let (client, server) = UnixStream::pair().unwrap();
        drop(server);
        assert!(matches!(exchange(&client, &request), Err(Unanswered::NotSent(_))));
        // An answer after the request was read, as usual.
        let (client, server) = UnixStream::pair().unwrap();
        let worker = std::thread::spawn(move || {
            let line = protocol::read_line(BufReader::new(&server)).unwrap().unwrap();
            assert!(line.contains(r#""op":"show""#), "{line}");
            protocol::write_line(&server, &Response::ok(serde_json::json!({}), Vec::new())).unwrap();
        });
        assert_eq!(exchange(&client, &request).unwrap().status, Status::Ok);
        worker.join().unwrap();
        let (client, server) = UnixStream::pair().unwrap();
        let worker = std::thread::spawn(move || drop(protocol::read_line(BufReader::new(&server))));
        assert!(matches!(exchange(&client, &request), Err(Unanswered::Closed)));
        worker.join().unwrap();
    }
}
