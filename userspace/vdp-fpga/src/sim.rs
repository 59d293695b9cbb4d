//! Simulation of a generated design with Verilator: building the testbench (`sim/tb.cpp`)
//! against `vdp_top`, running it over captures, and the unix-socket register bus it serves.

use crate::handlers::Bus;
use anyhow::{anyhow, bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The simulator binary of the design in `dir`, built if it is missing or older than the
/// design's sources.
pub fn build(dir: &Path) -> Result<PathBuf> {
    let obj = dir.join("sim/obj");
    let binary = obj.join("vdp_sim");
    let sources = std::fs::read_to_string(dir.join("sources.txt")).with_context(|| format!("{} is not a design directory (no sources.txt)", dir.display()))?;
    let mut inputs: Vec<PathBuf> = sources.lines().filter(|l| !l.is_empty()).map(|l| dir.join(l)).collect();
    inputs.push(dir.join("sim/tb.cpp"));
    inputs.push(dir.join("sim/ports.h"));
    let newest = inputs.iter().filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok()).max();
    let built = std::fs::metadata(&binary).and_then(|m| m.modified()).ok();
    if let (Some(built), Some(newest)) = (built, newest) {
        if built >= newest {
            return Ok(binary);
        }
    }
    // The generated makefile runs in sim/obj: the testbench's path must be absolute.
    let testbench = dir.join("sim/tb.cpp").canonicalize().context("the design has no sim/tb.cpp")?;
    let mut command = Command::new("verilator");
    command
        .current_dir(dir)
        .args(["--cc", "--exe", "--build", "-j", "2", "-O1", "-Wno-fatal", "-Wno-WIDTH", "-Wno-UNUSED", "-Wno-UNOPTFLAT", "-Wno-CASEINCOMPLETE"])
        .args(["--top-module", "vdp_top", "-Mdir", "sim/obj", "-o", "vdp_sim", "-CFLAGS", "-O1 -I.."])
        .args(sources.lines().filter(|l| !l.is_empty()))
        .arg(&testbench)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = command.output().context("cannot run verilator (scripts/deps.sh installs it)")?;
    if !output.status.success() {
        bail!("verilator failed:\n{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    }
    Ok(binary)
}

/// A running simulation serving its register bus on a socket.
pub struct Running {
    child: Child,
    socket: PathBuf,
}

/// Starts the simulator with `args` (`--in`, `--out`, ...) and `--serve socket`, and waits
/// until the packets are through and the socket answers.
pub fn start(binary: &Path, args: &[String], socket: &Path) -> Result<Running> {
    let _ = std::fs::remove_file(socket);
    let child = Command::new(binary).args(args).arg("--serve").arg(socket).spawn().with_context(|| format!("cannot start {}", binary.display()))?;
    let mut running = Running { child, socket: socket.to_path_buf() };
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if UnixStream::connect(socket).is_ok() {
            return Ok(running);
        }
        if let Some(status) = running.child.try_wait()? {
            bail!("the simulation ended before serving its bus ({status})");
        }
        if Instant::now() > deadline {
            bail!("the simulation did not serve {} within 600 s", socket.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Running {
    pub fn bus(&self) -> Result<SocketBus> {
        SocketBus::connect(&self.socket)
    }

    /// Waits for the simulation to end (someone else sends `quit`).
    pub fn wait(mut self) -> Result<()> {
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the simulation failed ({status})");
        }
        Ok(())
    }

    /// Tells the simulation to end and waits for it.
    pub fn finish(mut self) -> Result<()> {
        SocketBus::connect(&self.socket)?.quit()?;
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the simulation failed ({status})");
        }
        Ok(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The register bus of a simulation, over its socket: `r ADDR`, `w ADDR VALUE`, `quit`.
pub struct SocketBus {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl SocketBus {
    pub fn connect(socket: &Path) -> Result<SocketBus> {
        let stream = UnixStream::connect(socket).with_context(|| format!("no simulation serves {}", socket.display()))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(SocketBus { reader: BufReader::new(stream.try_clone()?), writer: stream })
    }

    /// Ends the simulation.
    pub fn quit(&mut self) -> Result<()> {
        self.request("quit").map(|_| ())
    }

    fn request(&mut self, line: &str) -> Result<String> {
        writeln!(self.writer, "{line}")?;
        let mut answer = String::new();
        self.reader.read_line(&mut answer)?;
        let answer = answer.trim_end();
        match answer.strip_prefix("ok") {
            Some(rest) => Ok(rest.trim().to_string()),
            None => Err(anyhow!("simulation: {}", answer.strip_prefix("err ").unwrap_or(answer))),
        }
    }
}

impl Bus for SocketBus {
    fn read(&mut self, address: u64) -> Result<u32> {
        let value = self.request(&format!("r {address}"))?;
        value.parse().map_err(|_| anyhow!("simulation answered '{value}'"))
    }

    fn write(&mut self, address: u64, value: u32) -> Result<()> {
        self.request(&format!("w {address} {value}")).map(|_| ())
    }
}
