//! `vdpctl fpga`: the FPGA level (docs/fpga.md). `vdpctl fpga CONFIG.click --board BOARD.toml
//! -o DIR` writes a design; `vdpctl fpga sim DIR` runs it under Verilator over pcap captures;
//! `vdpctl fpga read|write` reach a running simulation's handlers through the design's map.

use crate::frontend::{name_and_file, read_system, system_board};
use crate::run::reads::format as format_read;
use crate::output::Output;
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vdp_click::check::CheckOptions;
use vdp_click::source::{Diagnostics, Sources};
use vdp_fpga::design::{self, Tenant};
use vdp_fpga::map::Map;
use vdp_click::system::FpgaBudget;
use vdp_fpga::{board, handlers, partition, sim, synth};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct FpgaArgs {
    #[command(subcommand)]
    pub command: Option<FpgaCommand>,
    /// Configurations: FILE (tenant "tenant", as `vdpctl run` names it) or TENANT=FILE, one
    /// tenant each; FILE `-` is standard input.
    #[arg(required = true)]
    pub configs: Vec<String>,
    /// The board description (TOML).
    #[arg(long, required = true)]
    pub board: Option<PathBuf>,
    /// Directory to write the design into; it must not exist, or be empty.
    #[arg(short = 'o', long = "out", required = true)]
    pub out: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum FpgaCommand {
    /// Simulate a design over pcap captures (builds it with Verilator first).
    Sim(SimArgs),
    /// Read a handler of a running simulation through the design's map.
    Read(AccessArgs),
    /// Write a handler of a running simulation through the design's map.
    Write(WriteArgs),
    /// End a running simulation.
    Stop(StopArgs),
    /// Synthesise a design with Yosys (no latches allowed) and print its area.
    Synth(SynthArgs),
    /// Split a tenant's configuration between the FPGA and software as the system config's
    /// board and the tenant's [tenant.fpga] allow; write the FPGA part's design and the
    /// software part's Click text.
    Partition(PartitionArgs),
}

#[derive(Args, Debug)]
pub struct PartitionArgs {
    /// TENANT=FILE (FILE `-` for standard input).
    pub config: String,
    /// The system config: its [fpga] board, the tenant's devices, limits and [tenant.fpga].
    #[arg(long)]
    pub system: PathBuf,
    /// Directory to write into (it must not exist, or be empty): `fpga/` (the design, as
    /// `vdpctl fpga` writes one), `software.click`, `partition.txt`.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
    /// Synthesise the FPGA part (Yosys), report its area and refuse it over the tenant's budget.
    #[arg(long)]
    pub synth: bool,
    /// Give synthesis up after this many seconds.
    #[arg(long, default_value_t = 1800)]
    pub timeout: u64,
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// The design's directory (`vdpctl fpga ... -o DIR`).
    pub design: PathBuf,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 1800)]
    pub timeout: u64,
}

#[derive(Args, Debug)]
pub struct SimArgs {
    /// The design's directory (`vdpctl fpga ... -o DIR`).
    pub design: PathBuf,
    /// DEV=FILE: a capture fed to the board port of the device DEV.
    #[arg(long = "input", value_name = "DEV=FILE")]
    pub inputs: Vec<String>,
    /// DEV=FILE: where to write what the device DEV's egress port emits.
    #[arg(long = "output", value_name = "DEV=FILE")]
    pub outputs: Vec<String>,
    /// Print handler ELEMENT.HANDLER after the packets; repeatable.
    #[arg(long = "read", value_name = "ELEMENT.HANDLER")]
    pub reads: Vec<String>,
    /// The tenant the --read targets belong to (needed when the design has several).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Keep serving the register bus on this socket after the packets, until `vdpctl fpga stop`.
    #[arg(long)]
    pub serve: Option<PathBuf>,
    /// Send the packets back to back rather than one at a time.
    #[arg(long)]
    pub stream: bool,
    /// Write the cycle counts (JSON) here.
    #[arg(long)]
    pub cycles: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct AccessArgs {
    /// ELEMENT.HANDLER (`rt.lookup 10.0.0.1` for a parameter).
    pub target: String,
    /// The design's directory, for its map.
    #[arg(long)]
    pub design: PathBuf,
    /// The socket the simulation serves (`vdpctl fpga sim --serve`).
    #[arg(long)]
    pub socket: PathBuf,
    /// The tenant the target belongs to (needed when the design has several).
    #[arg(long)]
    pub tenant: Option<String>,
}

#[derive(Args, Debug)]
pub struct WriteArgs {
    #[command(flatten)]
    pub access: AccessArgs,
    /// The value to write.
    #[arg(default_value = "")]
    pub value: String,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// The socket the simulation serves (`vdpctl fpga sim --serve`).
    #[arg(long)]
    pub socket: PathBuf,
}

pub fn run(args: &FpgaArgs, out: &Output) -> Result<ExitCode> {
    if !matches!(args.command, Some(FpgaCommand::Synth(_))) {
        out.text_only("fpga")?;
    }
    match &args.command {
        Some(FpgaCommand::Sim(sim)) => run_sim(sim),
        Some(FpgaCommand::Read(access)) => {
            let map = load_map(&access.design)?;
            let tenant = tenant_of(&map, access.tenant.as_deref())?;
            let mut bus = sim::SocketBus::connect(&access.socket)?;
            let value = handlers::read(&map, &tenant, &access.target, &mut bus)?;
            print!("{}", format_read(&access.target, &value));
            Ok(ExitCode::SUCCESS)
        }
        Some(FpgaCommand::Write(write)) => {
            let access = &write.access;
            let map = load_map(&access.design)?;
            let tenant = tenant_of(&map, access.tenant.as_deref())?;
            let mut bus = sim::SocketBus::connect(&access.socket)?;
            handlers::write(&map, &tenant, &access.target, &write.value, &mut bus)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(FpgaCommand::Synth(args)) => run_synth(args, out),
        Some(FpgaCommand::Stop(stop)) => {
            sim::SocketBus::connect(&stop.socket)?.quit()?;
            Ok(ExitCode::SUCCESS)
        }
        Some(FpgaCommand::Partition(partition)) => run_partition(partition),
        None => generate(args),
    }
}

/// Refuses an FPGA part of `tenant` whose `area` exceeds its `budget`, naming each figure over.
pub fn check_budget(tenant: &str, area: &synth::Area, budget: &FpgaBudget) -> Result<()> {
    let mut over = Vec::new();
    if area.luts > budget.luts {
        over.push(format!("{} LUTs, over its budget of {}", area.luts, budget.luts));
    }
    if area.flip_flops > budget.flip_flops {
        over.push(format!("{} flip-flops, over its budget of {}", area.flip_flops, budget.flip_flops));
    }
    if area.block_rams > budget.block_rams as f64 {
        over.push(format!("{} block RAMs, over its budget of {}", area.block_rams, budget.block_rams));
    }
    if over.is_empty() {
        return Ok(());
    }
    bail!("tenant '{tenant}': its FPGA part needs {} ([tenant.fpga] in the system config); nothing was written", over.join("; "))
}

fn run_partition(args: &PartitionArgs) -> Result<ExitCode> {
    let (Some(tenant), file) = name_and_file(&args.config) else { bail!("'{}': write TENANT=FILE", args.config) };
    let system = read_system(&args.system)?;
    let Some(entry) = system.tenant(tenant) else { bail!("tenant '{tenant}' is not in the system config") };
    if system.fpga_budget(tenant).is_none() {
        bail!("tenant '{tenant}' may not use the FPGA level: its system config entry has no [tenant.fpga] (or the config no [fpga] board)");
    }
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let board = system_board(&system, &args.system, &mut sources, &mut diagnostics)?;
    let (name, text) = crate::frontend::read_config(file)?;
    let file = name.as_str();
    let options = CheckOptions {
        limits: system.limits.clone(),
        devices: Some(entry.device.iter().map(|d| d.name.clone()).collect()),
        host_device: entry.host_device.clone(),
        ..CheckOptions::default()
    };
    let (flat, checked) = vdp_click::check_text(&mut sources, file, &text, &options, &mut diagnostics);
    let split = match (&board, diagnostics.has_errors()) {
        (Some(board), false) => partition::split(tenant, &flat, &checked, &sources, board, &options).map_err(|found| diagnostics.extend(found)).ok(),
        _ => None,
    };
    sources.eprint_all(&diagnostics);
    let Some(split) = split else { return Ok(ExitCode::FAILURE) };
    let explain = split.partition.explain();
    let mut files: Vec<(String, String)> = vec![("partition.txt".into(), explain.clone())];
    if let Some(design) = &split.design {
        files.extend(design.files.iter().map(|(path, text)| (format!("fpga/{path}"), text.clone())));
    }
    if let Some((software, _)) = &split.software {
        files.push(("software.click".into(), vdp_click::print::to_click(software, &format!("the software part of tenant {tenant}'s {file}, by vdpctl fpga partition"))));
    }
    let mut area = None;
    let budget = system.fpga_budget(tenant);
    write_checked(&args.out, &files, |staged| {
        if !args.synth || split.design.is_none() {
            return Ok(());
        }
        let report = synth::run(&staged.join("fpga"), std::time::Duration::from_secs(args.timeout))?;
        let used = report.total;
        if let Some(budget) = budget {
            check_budget(tenant, &used, &budget)?;
        }
        area = Some(used);
        Ok(())
    })?;
    print!("{explain}");
    if let (Some(area), Some(budget)) = (area, budget) {
        println!(
            "  area of the FPGA part: {} LUTs, {} flip-flops, {} block RAMs (budget {}, {}, {})",
            area.luts, area.flip_flops, area.block_rams, budget.luts, budget.flip_flops, budget.block_rams
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn generate(args: &FpgaArgs) -> Result<ExitCode> {
    let (Some(board_path), Some(out)) = (&args.board, &args.out) else { bail!("vdpctl fpga CONFIG... --board BOARD.toml -o DIR") };
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let board_text = std::fs::read_to_string(board_path).with_context(|| format!("cannot read {}", board_path.display()))?;
    let board_file = sources.add(board_path.display().to_string(), board_text.clone());
    let board = board::parse(board_file, &board_text, &mut diagnostics);
    let mut graphs = Vec::new();
    crate::frontend::stdin_at_most_once(args.configs.iter().map(|arg| name_and_file(arg).1))?;
    for (i, arg) in args.configs.iter().enumerate() {
        let (tenant, file) = name_and_file(arg);
        let tenant = match tenant {
            Some(tenant) => tenant.to_string(),
            None if args.configs.len() == 1 => "tenant".to_string(),
            None => Path::new(file).file_stem().and_then(|s| s.to_str()).map(str::to_string).unwrap_or_else(|| format!("tenant{i}")),
        };
        if graphs.iter().any(|(t, _): &(String, _)| *t == tenant) {
            bail!("tenant '{tenant}' is named twice");
        }
        let (name, text) = crate::frontend::read_config(file)?;
        let (_, checked) = vdp_click::check_text(&mut sources, &name, &text, &CheckOptions::default(), &mut diagnostics);
        graphs.push((tenant, checked));
    }
    let design = match (&board, diagnostics.has_errors()) {
        (Some(board), false) => {
            let tenants: Vec<Tenant> = graphs.iter().map(|(name, graph)| Tenant { name: name.clone(), graph }).collect();
            design::elaborate(&tenants, board, &mut diagnostics)
        }
        _ => None,
    };
    let Some(design) = design else {
        sources.eprint_all(&diagnostics);
        return Ok(ExitCode::from(1));
    };
    write_design(out, &design.files)?;
    eprintln!(
        "wrote {} files to {}: {} elements, {} modules, {} bits of block RAM",
        design.files.len(),
        out.display(),
        design.map.elements.len(),
        design.sources.len(),
        design.memory_bits
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes every file into a new directory beside `out`, then renames it into place, so an
/// error leaves nothing behind.
fn write_design(out: &Path, files: &[(String, String)]) -> Result<()> {
    write_checked(out, files, |_| Ok(()))
}

/// [`write_design`], with `check` run on the written directory before it is put in place: an
/// error of `check` leaves nothing behind either.
fn write_checked(out: &Path, files: &[(String, String)], check: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    if out.exists() {
        let empty = std::fs::read_dir(out).map(|mut d| d.next().is_none()).unwrap_or(false);
        if !empty {
            bail!("{} exists and is not empty", out.display());
        }
        std::fs::remove_dir(out).with_context(|| format!("cannot replace {}", out.display()))?;
    }
    let name = out.file_name().ok_or_else(|| anyhow!("{} is not a directory name", out.display()))?;
    let staging = out.with_file_name(format!(".{}.partial", name.to_string_lossy()));
    let _ = std::fs::remove_dir_all(&staging);
    let result = (|| -> Result<()> {
        for (path, text) in files {
            let target = staging.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&target, text).with_context(|| format!("cannot write {}", target.display()))?;
        }
        check(&staging)?;
        std::fs::rename(&staging, out).with_context(|| format!("cannot rename into {}", out.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

fn load_map(design: &Path) -> Result<Map> {
    let path = design.join("map.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a design map", path.display()))
}

fn tenant_of(map: &Map, tenant: Option<&str>) -> Result<String> {
    match (tenant, map.tenants.as_slice()) {
        (Some(tenant), _) => Ok(tenant.to_string()),
        (None, [one]) => Ok(one.name.clone()),
        (None, many) => bail!("the design has several tenants ({}): name one with --tenant", many.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")),
    }
}

fn port_args(map: &Map, specs: &[String], ingress: bool) -> Result<Vec<String>> {
    let ports = if ingress { &map.ingress } else { &map.egress };
    let flag = if ingress { "--in" } else { "--out" };
    let mut args = Vec::new();
    for spec in specs {
        let (device, file) = spec.split_once('=').ok_or_else(|| anyhow!("{spec}: expected DEV=FILE"))?;
        let port = ports.iter().find(|p| p.device == device).ok_or_else(|| {
            let known: Vec<&str> = ports.iter().map(|p| p.device.as_str()).collect();
            anyhow!("{spec}: the design {} no device '{device}' (it has: {})", if ingress { "receives on" } else { "transmits on" }, known.join(", "))
        })?;
        args.push(flag.to_string());
        args.push(format!("{}={file}", port.port));
    }
    Ok(args)
}

fn run_sim(args: &SimArgs) -> Result<ExitCode> {
    let map = load_map(&args.design)?;
    let mut sim_args = port_args(&map, &args.inputs, true)?;
    sim_args.extend(port_args(&map, &args.outputs, false)?);
    if args.stream {
        sim_args.push("--stream".into());
    }
    if let Some(cycles) = &args.cycles {
        // The simulator's own option.
        sim_args.push("--stats".into());
        sim_args.push(cycles.display().to_string());
    }
    let tenant = if args.reads.is_empty() { None } else { Some(tenant_of(&map, args.tenant.as_deref())?) };
    let binary = sim::build(&args.design)?;
    if args.reads.is_empty() && args.serve.is_none() {
        let status = std::process::Command::new(&binary).args(&sim_args).status()?;
        if !status.success() {
            bail!("the simulation failed ({status})");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let socket = match &args.serve {
        Some(socket) => socket.clone(),
        None => std::env::temp_dir().join(format!("vdp-fpga-sim-{}.sock", std::process::id())),
    };
    let running = sim::start(&binary, &sim_args, &socket)?;
    if let Some(tenant) = tenant {
        let mut bus = running.bus()?;
        for target in &args.reads {
            let value = handlers::read(&map, &tenant, target, &mut bus)?;
            print!("{}", format_read(target, &value));
        }
    }
    if args.serve.is_some() {
        eprintln!("serving the register bus on {} (vdpctl fpga stop --socket ... ends it)", socket.display());
        running.wait()?;
    } else {
        running.finish()?;
    }
    Ok(ExitCode::SUCCESS)
}

fn run_synth(args: &SynthArgs, out: &Output) -> Result<ExitCode> {
    let report = synth::run(&args.design, std::time::Duration::from_secs(args.timeout))?;
    if out.json {
        out.print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let row = |what: &str, a: &synth::Area| format!("{what:<40} {:>8} {:>8} {:>8}", a.luts, a.flip_flops, a.block_rams);
    println!("{:<40} {:>8} {:>8} {:>8}", "element (module)", "LUTs", "FFs", "BRAM36");
    for e in &report.elements {
        let name = if report.tenants.len() > 1 { format!("{}/{} ({})", e.tenant, e.name, e.module) } else { format!("{} ({})", e.name, e.module) };
        println!("{}", row(&name, &e.area));
    }
    if report.tenants.len() > 1 {
        for (tenant, area) in &report.tenants {
            println!("{}", row(&format!("tenant {tenant}"), area));
        }
    }
    println!("{}", row("total (vdp_top)", &report.total));
    eprintln!("synthesised in {:.1} s, no latches; {}", report.seconds, args.design.join("area.txt").display());
    Ok(ExitCode::SUCCESS)
}
