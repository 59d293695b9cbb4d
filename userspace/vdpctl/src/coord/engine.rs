//! The tenant's container engine, as `vdpctl` starts and stops it inside the container:
//! `vdpctl engine start|stop|show`, and `vdpctl install --engine` (which describes the
//! engine's own classes to the coordinator, then restarts the engine on the new container part).
//!
//! Starting asks the coordinator to `attach`: it binds a fresh channel to the tenant's kernel
//! part and sends the file with its answer, together with the container part's configuration.
//! The engine is started detached (its own session, stdin closed, output appended to its log),
//! with the channel as descriptor 3, and `vdpctl` waits until the engine says it is running or
//! exits. The engine's process id is kept in `DIR/TENANT.pid`, its log is `DIR/TENANT.log`.

use super::client::{self, Connection};
use super::fdpass;
use super::protocol::{self, Op, Request, Response, Status, PROTOCOL_VERSION};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use std::io::{BufReader, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Where engine files live unless `--dir` says otherwise.
pub const DEFAULT_DIR: &str = "/run/vdp-engine";
/// How long a starting engine may take to say it is running.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stopping engine may take before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// The descriptor number the engine finds its channel on, and the one it reports readiness on.
const CHANNEL_FD: i32 = 3;
const READY_FD: i32 = 4;

#[derive(Subcommand)]
pub enum EngineCommand {
    /// Start (or restart) your tenant's container engine on a fresh channel.
    Start(StartArgs),
    /// Stop your tenant's container engine.
    Stop(DirArgs),
    /// Whether your tenant's container engine runs, and its log's last lines.
    #[command(visible_alias = "status")]
    Show(DirArgs),
    /// Read ELEMENT.HANDLER of your container part, from the engine itself.
    Read(HandlerArgs),
    /// Write ELEMENT.HANDLER [VALUE] of your container part.
    Write(HandlerArgs),
}

#[derive(Args)]
pub struct HandlerArgs {
    /// ELEMENT.HANDLER, with the element named as in your configuration.
    target: String,
    /// The value to write.
    #[arg(allow_hyphen_values = true)]
    value: Option<String>,
    #[command(flatten)]
    dir: DirArgs,
}

#[derive(Args, Clone)]
pub struct EngineOptions {
    /// The engine binary: your own build with your classes, or the stock `vdp-engine`
    /// [default: $VDP_ENGINE, else vdp-engine beside vdpctl, else on PATH].
    #[arg(long)]
    pub engine: Option<PathBuf>,
    /// Directory for the engine's configuration, pid file and log.
    #[arg(long, default_value = DEFAULT_DIR)]
    pub dir: PathBuf,
    /// The longest one task run may take before the engine stops itself (milliseconds).
    #[arg(long)]
    pub time_limit_ms: Option<u64>,
    /// A limit on the engine's address space (bytes), on top of the container's own limits.
    #[arg(long)]
    pub memory_limit: Option<u64>,
}

#[derive(Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub options: EngineOptions,
    #[command(flatten)]
    pub conn: Connection,
}

#[derive(Args)]
pub struct DirArgs {
    /// Directory of the engine's configuration, pid file and log.
    #[arg(long, default_value = DEFAULT_DIR)]
    pub dir: PathBuf,
    /// The tenant whose engine it is, when several share the directory [default: the only one].
    #[arg(long)]
    pub tenant: Option<String>,
}

pub fn run(command: &EngineCommand, out: &crate::output::Output) -> Result<ExitCode> {
    out.text_only("engine")?;
    match command {
        EngineCommand::Read(args) | EngineCommand::Write(args) => {
            let write = matches!(command, EngineCommand::Write(_));
            let tenant = tenant_in(&args.dir.dir, args.dir.tenant.as_deref())?;
            let Some((element, handler)) = args.target.rsplit_once('.') else {
                bail!("'{}': write ELEMENT.HANDLER", args.target);
            };
            Ok(call_handler(&args.dir.dir, &tenant, element, handler, write.then(|| args.value.as_deref().unwrap_or(""))))
        }
        EngineCommand::Start(args) => start(&args.options, &args.conn),
        EngineCommand::Stop(args) => {
            let tenant = tenant_in(&args.dir, args.tenant.as_deref())?;
            match stop(&args.dir, &tenant)? {
                Some(pid) => println!("stopped the container engine of tenant {tenant} (pid {pid})"),
                None => println!("the container engine of tenant {tenant} was not running"),
            }
            Ok(ExitCode::SUCCESS)
        }
        EngineCommand::Show(args) => {
            let tenant = tenant_in(&args.dir, args.tenant.as_deref())?;
            let running = running_pid(&args.dir, &tenant);
            match running {
                Some(pid) => println!("the container engine of tenant {tenant} runs as pid {pid}"),
                None => println!("the container engine of tenant {tenant} is not running"),
            }
            print!("{}", log_tail(&log_path(&args.dir, &tenant), 10));
            Ok(if running.is_some() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

/// The engine binary `options` name, or the default one.
pub fn engine_path(options: &EngineOptions) -> PathBuf {
    if let Some(path) = &options.engine {
        return path.clone();
    }
    if let Some(path) = std::env::var_os("VDP_ENGINE").filter(|v| !v.is_empty()) {
        return PathBuf::from(path);
    }
    let beside = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join("vdp-engine")));
    match beside {
        Some(path) if path.exists() => path,
        _ => PathBuf::from("vdp-engine"),
    }
}

/// Asks the coordinator for a channel and the container part, and starts the engine on them.
pub fn start(options: &EngineOptions, conn: &Connection) -> Result<ExitCode> {
    let (response, channel) = match attach(conn) {
        Ok(answer) => answer,
        Err(code) => return Ok(code),
    };
    if response.status != Status::Ok {
        eprintln!("vdpctl: {}", response.message);
        return Ok(ExitCode::from(response.status.exit_code()));
    }
    let Some(channel) = channel else { bail!("the coordinator answered without the channel") };
    let r = &response.result;
    let (Some(tenant), Some(config)) = (r["tenant"].as_str(), r["config"].as_str()) else {
        bail!("the coordinator's answer lacks the tenant or the container part");
    };
    if tenant.is_empty() || tenant.contains('/') || tenant.starts_with('.') {
        bail!("the coordinator named the tenant {tenant:?}, which is not a file name");
    }
    std::fs::create_dir_all(&options.dir).with_context(|| format!("cannot create {}", options.dir.display()))?;
    if let Some(pid) = stop(&options.dir, tenant)? {
        println!("stopped the previous container engine of tenant {tenant} (pid {pid})");
    }
    let config_path = options.dir.join(format!("{tenant}.click"));
    std::fs::write(&config_path, config).with_context(|| format!("cannot write {}", config_path.display()))?;
    let engine = engine_path(options);
    let pid = spawn(&engine, options, &config_path, tenant, channel)?;
    println!(
        "container engine of tenant {tenant} runs as pid {pid} ({}; {} boundaries; log {})",
        engine.display(),
        r["boundaries"].as_array().map_or(0, Vec::len),
        log_path(&options.dir, tenant).display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Sends `attach` and takes the answer with the file that came with it.
fn attach(conn: &Connection) -> Result<(Response, Option<OwnedFd>), ExitCode> {
    let path = client::socket_path(conn.socket.as_deref());
    let unreachable = |what: String| {
        eprintln!("vdpctl: {what}");
        ExitCode::from(client::EXIT_UNREACHABLE)
    };
    let stream = UnixStream::connect(&path).map_err(|e| unreachable(format!("cannot reach the coordinator at {}: {e}", path.display())))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let request = Request { version: PROTOCOL_VERSION, tenant: conn.tenant_name()?, op: Op::Attach };
    protocol::write_line(&stream, &request).map_err(|e| unreachable(format!("cannot send to the coordinator: {e}")))?;
    let (first, fd) = fdpass::recv_with_fd(&stream).map_err(|e| unreachable(format!("no answer from the coordinator: {e}")))?;
    let line = protocol::read_line(BufReader::new(fdpass::rest_of(&first, &stream)))
        .map_err(|e| unreachable(format!("no answer from the coordinator: {e}")))?
        .ok_or_else(|| unreachable("the coordinator closed the connection without an answer".into()))?;
    let response = serde_json::from_str(&line).map_err(|e| unreachable(format!("the coordinator's answer is not understood: {e}")))?;
    Ok((response, fd))
}

/// Starts the engine detached with `channel` as descriptor 3 and a pipe as descriptor 4, on
/// which it writes one line once its graph runs; returns its pid.
fn spawn(engine: &Path, options: &EngineOptions, config: &Path, tenant: &str, channel: OwnedFd) -> Result<u32> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path(&options.dir, tenant))
        .with_context(|| format!("cannot open the engine's log in {}", options.dir.display()))?;
    let (ready_read, ready_write) = nix::unistd::pipe().context("cannot make the engine's readiness pipe")?;
    let mut command = Command::new(engine);
    command.args(["run", "--tenant", tenant, "--channel-fd", &CHANNEL_FD.to_string(), "--ready-fd", &READY_FD.to_string(), "--config"]).arg(config);
    command.arg("--control").arg(control_path(&options.dir, tenant));
    if let Some(ms) = options.time_limit_ms {
        command.args(["--time-limit-ms", &ms.to_string()]);
    }
    if let Some(bytes) = options.memory_limit {
        command.args(["--memory-limit", &bytes.to_string()]);
    }
    command.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);
    let channel_raw = channel.as_raw_fd();
    let ready_raw = ready_write.as_raw_fd();
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // async-signal-safe functions (setsid, dup2) on descriptors the parent keeps open until
    // the spawn returns; dup2 clears close-on-exec on the copies it makes.
    unsafe {
        command.pre_exec(move || {
            if libc::setsid() < 0 || libc::dup2(channel_raw, CHANNEL_FD) < 0 || libc::dup2(ready_raw, READY_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().with_context(|| format!("cannot start the engine {}", engine.display()))?;
    drop(ready_write);
    drop(channel);
    let pid = child.id();
    std::fs::write(pid_path(&options.dir, tenant), format!("{pid}\n")).context("cannot write the engine's pid file")?;
    // Wait for the engine's line, or for its end (the pipe closes when it exits).
    let mut ready = std::fs::File::from(ready_read);
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut said = String::new();
    let waiter = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let n = ready.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    while !waiter.is_finished() {
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!("the engine did not start within {} s; its log:\n{}", READY_TIMEOUT.as_secs(), log_tail(&log_path(&options.dir, tenant), 20));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    if let Ok(text) = waiter.join() {
        said = text;
    }
    if !said.starts_with("ready") {
        let status = child.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
        let _ = std::fs::remove_file(pid_path(&options.dir, tenant));
        bail!("the engine exited before it ran ({status}); its log:\n{}", log_tail(&log_path(&options.dir, tenant), 20));
    }
    Ok(pid)
}

/// Reads (`value` None) or writes `element.handler` of `tenant`'s running engine, whose files
/// are in `dir`, with the element named as in the tenant's own configuration; prints what was
/// read, or why it failed, and returns the exit code (3 when the engine cannot be reached).
pub fn call_handler(dir: &Path, tenant: &str, element: &str, handler: &str, value: Option<&str>) -> ExitCode {
    // The engine names the tenant's elements as the merged graph does.
    let full = format!("{tenant}/{element}");
    match handler_call(&control_path(dir, tenant), &full, handler, value) {
        Ok(read) => {
            if value.is_none() {
                println!("{}", read.trim_end_matches('\n'));
            }
            ExitCode::SUCCESS
        }
        Err(HandlerFailure::Refused(why)) => {
            eprintln!("vdpctl: {element}.{handler}: {why}");
            ExitCode::FAILURE
        }
        Err(HandlerFailure::Unreachable(why)) => {
            eprintln!("vdpctl: {element} runs in the container engine of tenant {tenant}, which cannot be reached: {why}");
            ExitCode::from(client::EXIT_UNREACHABLE)
        }
    }
}

/// Why a handler call on the engine failed.
enum HandlerFailure {
    /// The engine answered with an error.
    Refused(String),
    /// The engine's socket cannot be reached or spoke nonsense.
    Unreachable(String),
}

/// One read (`value` None) or write on the engine's handler socket (the protocol is in
/// `vdp-engine/src/container/control.rs`).
fn handler_call(socket: &Path, element: &str, handler: &str, value: Option<&str>) -> Result<String, HandlerFailure> {
    use std::io::{BufRead, Write};
    let unreachable = |e: std::io::Error| HandlerFailure::Unreachable(format!("{}: {e}", socket.display()));
    if element.contains(char::is_whitespace) || handler.contains(char::is_whitespace) {
        return Err(HandlerFailure::Refused("element and handler names have no spaces".into()));
    }
    let mut stream = UnixStream::connect(socket).map_err(unreachable)?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = match value {
        None => format!("read {element} {handler}\n").into_bytes(),
        Some(value) => [format!("write {element} {handler} {}\n", value.len()).into_bytes(), value.as_bytes().to_vec()].concat(),
    };
    stream.write_all(&request).map_err(unreachable)?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(unreachable)?;
    let line = line.trim_end_matches('\n');
    if let Some(why) = line.strip_prefix("error ") {
        return Err(HandlerFailure::Refused(why.to_string()));
    }
    let len: usize = line
        .strip_prefix("ok ")
        .and_then(|n| n.parse().ok())
        .filter(|&n| n <= vdp_core::element::handler::MAX_HANDLER_TEXT)
        .ok_or_else(|| HandlerFailure::Unreachable(format!("the engine answered {line:?}")))?;
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).map_err(unreachable)?;
    String::from_utf8(body).map_err(|_| HandlerFailure::Unreachable("the engine's value is not UTF-8".into()))
}

fn control_path(dir: &Path, tenant: &str) -> PathBuf {
    dir.join(format!("{tenant}.sock"))
}

fn pid_path(dir: &Path, tenant: &str) -> PathBuf {
    dir.join(format!("{tenant}.pid"))
}

fn log_path(dir: &Path, tenant: &str) -> PathBuf {
    dir.join(format!("{tenant}.log"))
}

/// The pid in the tenant's pid file, if that process still runs an engine.
fn running_pid(dir: &Path, tenant: &str) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(pid_path(dir, tenant)).ok()?.trim().parse().ok()?;
    // A recycled pid is not the engine: check it still has our channel open.
    let fd = std::fs::read_link(format!("/proc/{pid}/fd/{CHANNEL_FD}")).ok()?;
    fd.to_string_lossy().contains("vdp").then_some(pid)
}

/// Stops the tenant's engine if it runs (SIGTERM, then SIGKILL after [`STOP_TIMEOUT`]).
pub fn stop(dir: &Path, tenant: &str) -> Result<Option<i32>> {
    let Some(pid) = running_pid(dir, tenant) else {
        let _ = std::fs::remove_file(pid_path(dir, tenant));
        return Ok(None);
    };
    let target = nix::unistd::Pid::from_raw(pid);
    nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGTERM).with_context(|| format!("cannot stop the engine (pid {pid})"))?;
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Path::new(&format!("/proc/{pid}")).exists() && running_pid(dir, tenant).is_some() {
        if Instant::now() > deadline {
            let _ = nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGKILL);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_file(pid_path(dir, tenant));
    Ok(Some(pid))
}

/// The one tenant with a pid file in `dir`, unless `explicit` names it.
fn tenant_in(dir: &Path, explicit: Option<&str>) -> Result<String> {
    if let Some(tenant) = explicit {
        return Ok(tenant.to_string());
    }
    let mut tenants: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("no engine directory {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".log")).map(str::to_string))
        .collect();
    tenants.sort();
    match tenants.len() {
        1 => Ok(tenants.remove(0)),
        0 => bail!("no engine has run from {}", dir.display()),
        _ => bail!("engines of several tenants ran from {} ({}); name one with --tenant", dir.display(), tenants.join(", ")),
    }
}

/// The last `lines` lines of a log, each indented, or nothing.
fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].iter().map(|l| format!("    {l}\n")).collect()
}
