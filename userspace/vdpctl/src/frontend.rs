//! The Click front-end commands: `check`, `flatten`, `merge`, `compile` and `classes`.

use vdp_core::catalog::Catalog;
use crate::output::Output;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vdp_click::check::CheckOptions;
use vdp_click::source::{Diagnostics, Sources};
use vdp_click::system::{ContainerLevel, SystemConfig};
use vdp_click::{partition, print, tasks, TenantSource};
use vdp_core::catalog;

#[derive(Args)]
pub struct CheckArgs {
    /// Configuration files (`-` for standard input); write TENANT=FILE to check a file against
    /// that tenant's devices.
    #[arg(required = true)]
    files: Vec<String>,
    /// System config (TOML) whose limits and tenant devices apply.
    #[arg(long)]
    system: Option<PathBuf>,
    /// Show the tasks, their estimated costs and any Queue/Unqueue splits, and the partition
    /// between the kernel and the container level when anything runs in the container.
    #[arg(long)]
    explain: bool,
    /// The files are merged graphs (`vdpctl merge` output): the coordinator's classes are allowed.
    #[arg(long)]
    merged: bool,
    /// Check against this container engine's classes too (`ENGINE describe`) [default: the
    /// stock engine's].
    #[arg(long)]
    engine: Option<PathBuf>,
}

#[derive(Args)]
pub struct FlattenArgs {
    /// The configuration (`-` for standard input).
    file: String,
}

#[derive(Args)]
pub struct MergeArgs {
    /// System config (TOML): the tenants, their devices and limits.
    #[arg(long, required = true)]
    system: PathBuf,
    /// TENANT=FILE, one per tenant (FILE `-` for standard input).
    #[arg(required = true)]
    tenants: Vec<String>,
}

#[derive(Args)]
pub struct CompileArgs {
    /// System config (TOML): the tenants, their devices and limits.
    #[arg(long, required = true)]
    system: PathBuf,
    /// TENANT=FILE, one per tenant (FILE `-` for standard input).
    #[arg(required = true)]
    tenants: Vec<String>,
    /// Where to write the compiled graph.
    #[arg(long, short)]
    output: PathBuf,
    /// Test aid: leave call chains longer than the kernel allows unsplit and write the blob
    /// anyway, so that a test can watch the kernel refuse it.
    #[arg(long, hide = true)]
    no_depth_split: bool,
}

#[derive(Args)]
pub struct ClassesArgs {
    /// List the Click classes vdp leaves out on purpose, with the reasons, instead.
    #[arg(long)]
    unsupported: bool,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// What diagnostics call a configuration read from standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// Reads a configuration: `-` is standard input, named [`STDIN_NAME`] in diagnostics, and can
/// be read once in a run. Returns the name for diagnostics and the text.
pub fn read_config(path: &str) -> Result<(String, String)> {
    static STDIN_READ: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if path != "-" {
        return Ok((path.to_string(), read(Path::new(path))?));
    }
    if STDIN_READ.swap(true, std::sync::atomic::Ordering::SeqCst) {
        bail!("standard input ('-') can be given as one configuration only");
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("cannot read the configuration from standard input")?;
    Ok((STDIN_NAME.to_string(), text))
}

/// Refuses `-` (standard input) as more than one of `files` before anything is read.
pub fn stdin_at_most_once<'a>(files: impl IntoIterator<Item = &'a str>) -> Result<()> {
    if files.into_iter().filter(|f| *f == "-").count() > 1 {
        bail!("standard input ('-') can be given as one configuration only");
    }
    Ok(())
}

pub fn read_system(path: &Path) -> Result<SystemConfig> {
    let text = read(path)?;
    SystemConfig::parse_file(&path.display().to_string(), &text).map_err(|problems| {
        anyhow::anyhow!(
            "{}: invalid system config:\n  {}",
            path.display(),
            problems.join("\n  ")
        )
    })
}

/// The board the system config names (`[fpga] board`, relative to the config's directory),
/// added to `sources` so that its errors are `file:line:col`; `Ok(None)` without `[fpga]` or
/// when the board has errors (then in `diagnostics`).
pub fn system_board(system: &SystemConfig, system_path: &Path, sources: &mut Sources, diagnostics: &mut Diagnostics) -> Result<Option<vdp_fpga::board::Board>> {
    let Some(fpga) = &system.fpga else { return Ok(None) };
    let path = system_path.parent().unwrap_or(Path::new(".")).join(&fpga.board);
    let text = read(&path).with_context(|| format!("{}: [fpga] board", system_path.display()))?;
    let file = sources.add(path.display().to_string(), text.clone());
    Ok(vdp_fpga::board::parse(file, &text, diagnostics))
}

/// Splits `NAME=FILE` (`TENANT=FILE`, and `DEV=FILE` for `vdpctl run`); a plain FILE, or one
/// whose part before the `=` holds a `/`, has no name.
pub fn name_and_file(arg: &str) -> (Option<&str>, &str) {
    match arg.split_once('=') {
        Some((name, file)) if !name.is_empty() && !name.contains('/') => (Some(name), file),
        _ => (None, arg),
    }
}

fn diagnostics_json(sources: &Sources, diagnostics: &Diagnostics) -> serde_json::Value {
    serde_json::Value::Array(
        diagnostics
            .items
            .iter()
            .map(|d| sources.to_json(d))
            .collect(),
    )
}

fn exit(valid: bool) -> ExitCode {
    if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

pub fn run_check(args: &CheckArgs, out: &Output) -> Result<ExitCode> {
    let system = args.system.as_deref().map(read_system).transpose()?;
    let mut all_valid = true;
    let mut reports = Vec::new();
    let catalog = catalog_for(args.engine.as_deref())?;
    stdin_at_most_once(args.files.iter().map(|arg| name_and_file(arg).1))?;
    for arg in &args.files {
        let (tenant, path) = name_and_file(arg);
        let (name, text) = read_config(path)?;
        let file = name.as_str();
        let mut options = CheckOptions {
            coordinator: args.merged,
            catalog,
            ..CheckOptions::default()
        };
        if let (Some(system), true) = (&system, args.merged) {
            options = CheckOptions { catalog, ..vdp_click::merged_options(system) };
        } else if let Some(system) = &system {
            options.limits = system.limits.clone();
            if let Some(tenant) = tenant {
                let Some(entry) = system.tenant(tenant) else {
                    bail!("tenant '{tenant}' is not in the system config")
                };
                options.devices = Some(entry.device.iter().map(|d| d.name.clone()).collect());
                options.host_device = entry.host_device.clone();
            }
        } else if tenant.is_some() {
            bail!("{arg}: TENANT=FILE needs --system to know the tenant's devices");
        }
        let mut sources = Sources::new();
        let mut diagnostics = Diagnostics::default();
        let (mut flat, mut checked) =
            vdp_click::check_text(&mut sources, file, &text, &options, &mut diagnostics);
        // A tenant that may use the FPGA level is first split between the board and software;
        // what follows is of its software part.
        let mut fpga_explain = None;
        let mut all_on_fpga = false;
        if let (Some(system), Some(path), Some(tenant), false, false) = (&system, &args.system, tenant, args.merged, diagnostics.has_errors()) {
            if system.fpga_budget(tenant).is_some() {
                if let Some(board) = system_board(system, path, &mut sources, &mut diagnostics)? {
                    match vdp_fpga::partition::split(tenant, &flat, &checked, &sources, &board, &options) {
                        Ok(split) => {
                            fpga_explain = Some(split.partition.explain());
                            // The software part receives on the board's host links.
                            if let Some(devices) = &mut options.devices {
                                devices.extend(board.hosts());
                            }
                            match split.software {
                                Some((software, graph)) => (flat, checked) = (software, graph),
                                None => all_on_fpga = true,
                            }
                        }
                        Err(found) => diagnostics.extend(found),
                    }
                }
            }
        }
        // A tenant's file is split between the kernel and its container engine as the
        // coordinator will split it; a merged file is already the kernel's.
        let level = match (&system, tenant) {
            (Some(system), Some(tenant)) => system.container_level(tenant),
            _ => ContainerLevel::default(),
        };
        let split = if args.merged || all_on_fpga || diagnostics.has_errors() {
            None
        } else {
            let budget = options.limits.task_budget_cycles;
            match partition::partition_tenant(&flat, &checked, &sources, level, budget) {
                Ok(split) => split.has_container().then_some(split),
                Err(found) => {
                    diagnostics.extend(found);
                    None
                }
            }
        };
        let valid = !diagnostics.has_errors();
        all_valid &= valid;
        // The task analysis is of what the kernel runs: its part holds the boundary halves,
        // which only the coordinator may place.
        let mut analysed = options.clone();
        if let Some(split) = &split {
            flat = split.kernel.clone();
            analysed.coordinator = true;
        }
        let analysis = if args.explain && valid && !all_on_fpga {
            match tasks::analyze_and_split(&mut flat, &analysed, options.limits.task_budget_cycles) {
                Ok((_, analysis)) => Some(analysis),
                Err(found) => {
                    diagnostics.extend(found);
                    None
                }
            }
        } else {
            None
        };
        if out.json {
            reports.push(serde_json::json!({
                "file": file,
                "tenant": tenant,
                "valid": valid,
                "elements": checked.elements.len(),
                "connections": checked.connections.len(),
                "diagnostics": diagnostics_json(&sources, &diagnostics),
                "analysis": analysis,
                "partition": split,
                "fpga_partition": fpga_explain,
            }));
            continue;
        }
        sources.eprint_all(&diagnostics);
        if valid {
            println!(
                "{file}: ok ({} elements, {} connections)",
                checked.elements.len(),
                checked.connections.len()
            );
        } else {
            println!("{file}: {} error(s)", diagnostics.error_count());
        }
        if let (Some(fpga), true) = (&fpga_explain, args.explain && valid) {
            print!("{fpga}");
        }
        if let (Some(split), true) = (&split, args.explain && valid) {
            print!("{}", split.explain());
        }
        if let Some(analysis) = analysis {
            print!("{}", tasks::explain(&analysis));
        }
    }
    if out.json {
        out.print_json(&serde_json::json!({ "valid": all_valid, "files": reports }))?;
    }
    Ok(exit(all_valid))
}

pub fn run_flatten(args: &FlattenArgs, out: &Output) -> Result<ExitCode> {
    let (name, text) = read_config(&args.file)?;
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let loaded = vdp_click::load(&mut sources, &name, &text, &mut diagnostics);
    if diagnostics.has_errors() {
        if out.json {
            out.print_json(
                &serde_json::json!({ "valid": false, "diagnostics": diagnostics_json(&sources, &diagnostics) }),
            )?;
        } else {
            sources.eprint_all(&diagnostics);
        }
        return Ok(ExitCode::FAILURE);
    }
    sources.eprint_all(&diagnostics);
    if out.json {
        out.print_json(&print::to_json(&loaded.flat))?;
    } else {
        print!(
            "{}",
            print::to_click(&loaded.flat, &format!("{name}, flattened by vdpctl"))
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The classes a tenant's configuration may use: the library's and those of its container
/// engine, `engine` (described by running it) or the stock `vdp-engine` (its built-in classes).
pub fn catalog_for(engine: Option<&Path>) -> Result<Catalog> {
    match engine {
        Some(engine) => catalog_of(&describe(engine)?),
        None => Ok(stock_catalog()),
    }
}

/// The classes the engine declares (`ENGINE describe`), for the coordinator and the checker.
pub fn describe(engine: &Path) -> Result<Vec<vdp_click::decl::ClassDecl>> {
    let output = std::process::Command::new(engine)
        .arg("describe")
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("cannot run the engine {}", engine.display()))?;
    if !output.status.success() {
        bail!("the engine {} could not describe its classes ({}): {}", engine.display(), output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    let described: vdp_click::decl::Describe = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("the engine {} described its classes in a form vdpctl does not read", engine.display()))?;
    Ok(described.classes)
}

/// The catalog of an engine's declared classes.
pub fn catalog_of(decls: &[vdp_click::decl::ClassDecl]) -> Result<Catalog> {
    if decls.is_empty() {
        return Ok(stock_catalog());
    }
    vdp_click::decl::catalog_from_decls(decls).map_err(|e| anyhow::anyhow!("the engine's classes: {e}"))
}

/// The library and the stock engine's built-in classes (`ToDump`).
pub fn stock_catalog() -> Catalog {
    // The built-ins pass their own checks (vdp-engine's tests hold them to it); should they not,
    // the library alone is still a catalog.
    vdp_engine::CustomClasses::new(&[]).map_or(Catalog::LIBRARY, |classes| classes.catalog())
}

fn tenant_sources(specs: &[String]) -> Result<Vec<TenantSource>> {
    stdin_at_most_once(specs.iter().map(|spec| name_and_file(spec).1))?;
    specs
        .iter()
        .map(|spec| {
            let (Some(tenant), file) = name_and_file(spec) else {
                bail!("'{spec}': write TENANT=FILE")
            };
            let (file_name, text) = read_config(file)?;
            Ok(TenantSource { tenant: tenant.to_string(), file_name, text, catalog: stock_catalog() })
        })
        .collect()
}

fn merge_from(
    system_path: &Path,
    specs: &[String],
    out: &Output,
    split_deep: bool,
) -> Result<Option<(SystemConfig, vdp_click::Merged)>> {
    let system = read_system(system_path)?;
    let inputs = tenant_sources(specs)?;
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let merged = vdp_click::merge_tenants_with(&mut sources, &system, &inputs, &mut diagnostics, split_deep);
    if out.json && merged.is_none() {
        out.print_json(
            &serde_json::json!({ "valid": false, "diagnostics": diagnostics_json(&sources, &diagnostics) }),
        )?;
    } else {
        sources.eprint_all(&diagnostics);
    }
    Ok(merged.map(|m| (system, m)))
}

pub fn run_merge(args: &MergeArgs, out: &Output) -> Result<ExitCode> {
    let Some((_, merged)) = merge_from(&args.system, &args.tenants, out, true)? else {
        return Ok(ExitCode::FAILURE);
    };
    if out.json {
        let mut value = print::to_json(&merged.flat);
        value["analysis"] = serde_json::to_value(&merged.analysis)?;
        out.print_json(&value)?;
    } else {
        let header = format!(
            "merged by vdpctl from {}\n{}",
            args.tenants.join(" "),
            tasks::explain(&merged.analysis).trim_end()
        );
        print!("{}", print::to_click(&merged.flat, &header));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_compile(args: &CompileArgs, out: &Output) -> Result<ExitCode> {
    let Some((system, merged)) = merge_from(&args.system, &args.tenants, out, !args.no_depth_split)? else {
        return Ok(ExitCode::FAILURE);
    };
    let blob = vdp_click::compile::compile(&merged.checked, &system)
        .context("compiling the merged graph")?;
    match vdp_click::compile::validate_explained(&blob) {
        Ok(_) => {}
        Err((vdp_core::compiled_graph::FormatError::ChainTooLong { .. }, text)) if args.no_depth_split => {
            eprintln!("vdpctl: warning: {text}: the kernel will refuse this graph");
        }
        Err((_, text)) => bail!("the compiled graph fails its own validation: {text}"),
    }
    std::fs::write(&args.output, &blob)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let summary = serde_json::json!({
        "output": args.output.display().to_string(),
        "bytes": blob.len(),
        "format_version": vdp_core::compiled_graph::FORMAT_VERSION,
        "elements": merged.checked.elements.len(),
        "connections": merged.checked.connections.len(),
        "tasks": merged.analysis.tasks.len(),
    });
    if out.json {
        out.print_json(&summary)?;
    } else {
        println!(
            "wrote {} ({} bytes, format {}): {} elements, {} connections, {} tasks",
            args.output.display(),
            blob.len(),
            vdp_core::compiled_graph::FORMAT_VERSION,
            merged.checked.elements.len(),
            merged.checked.connections.len(),
            merged.analysis.tasks.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One tenant's configuration, checked against the system config, merged on its own and
/// compiled: what the coordinator does for `vdpctl install`, and what `vdpctl run` runs.
pub struct CompiledTenant {
    pub blob: Vec<u8>,
    pub merged: vdp_click::Merged,
    /// Rendered warnings: the check's own, and tasks that stay over the budget.
    pub warnings: Vec<String>,
}

/// Checks one tenant's configuration against the system config (its devices and limits, as
/// `vdpctl check --system SYSTEM TENANT=FILE` does), merges it, splits its tasks and compiles it,
/// through the same front end as `vdpctl compile`. The error is the rendered diagnostics.
pub fn compile_tenant(system: &SystemConfig, tenant: &str, file_name: &str, text: &str, catalog: Catalog) -> std::result::Result<CompiledTenant, String> {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let inputs = [TenantSource { tenant: tenant.to_string(), file_name: file_name.to_string(), text: text.to_string(), catalog }];
    let merged = vdp_click::merge_tenants(&mut sources, system, &inputs, &mut diagnostics);
    let mut warnings: Vec<String> =
        diagnostics.items.iter().filter(|d| !d.is_error()).map(|d| sources.render(d).trim_end().to_string()).collect();
    let Some(merged) = merged else {
        return Err(sources.render_all(&diagnostics).trim_end().to_string());
    };
    let blob = vdp_click::compile::compile(&merged.checked, system).map_err(|e| format!("cannot compile the configuration: {e}"))?;
    vdp_click::compile::validate(&blob).map_err(|e| format!("the compiled graph fails its own validation: {e:?}"))?;
    if blob.len() > vdp_core::uapi::GRAPH_MAX_BYTES {
        return Err(format!("the compiled graph is {} bytes; the module takes at most {}", blob.len(), vdp_core::uapi::GRAPH_MAX_BYTES));
    }
    for name in &merged.analysis.unsplittable {
        warnings.push(tasks::unsplittable_warning(name));
    }
    Ok(CompiledTenant { blob, merged, warnings })
}

pub fn run_classes(args: &ClassesArgs, out: &Output) -> Result<ExitCode> {
    if args.unsupported {
        use vdp_click::unsupported::UNSUPPORTED;
        if out.json {
            let value: Vec<_> = UNSUPPORTED
                .iter()
                .map(|u| serde_json::json!({ "name": u.class, "reason": u.reason, "why": u.reason.summary(), "detail": u.detail }))
                .collect();
            out.print_json(&serde_json::Value::Array(value))?;
        } else {
            let mut reasons: Vec<vdp_click::unsupported::Reason> = Vec::new();
            for u in UNSUPPORTED {
                if !reasons.contains(&u.reason) {
                    reasons.push(u.reason);
                }
            }
            for reason in reasons {
                println!("{}: {}", reason.heading(), reason.summary());
                for u in UNSUPPORTED.iter().filter(|u| u.reason == reason) {
                    println!("  {:<20} {}", u.class, u.detail);
                }
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let classes: Vec<_> = catalog::all_classes()
        .filter(|c| c.audience == catalog::Audience::Tenant)
        .collect();
    if out.json {
        let value: Vec<_> = classes
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id,
                    "name": c.name,
                    "summary": c.summary,
                    "processing": c.processing,
                    "arguments": c.args.iter().map(|a| a.keyword).collect::<Vec<_>>(),
                    "read_handlers": c.read_handlers.iter().map(|h| h.name).collect::<Vec<_>>(),
                    "write_handlers": c.write_handlers.iter().map(|h| h.name).collect::<Vec<_>>(),
                    "handler_formats": c.read_handlers.iter().chain(c.write_handlers)
                        .map(|h| (h.name, format!("{:?}", h.format).to_lowercase()))
                        .collect::<std::collections::BTreeMap<_, _>>(),
                    "cost_cycles": c.cost_cycles,
                })
            })
            .collect();
        out.print_json(&serde_json::Value::Array(value))?;
    } else {
        for class in classes {
            let args: Vec<&str> = class.args.iter().map(|a| a.keyword).collect();
            let repeated = class
                .repeated
                .map(|r| format!("{}...", r.noun.to_uppercase()))
                .into_iter();
            let signature: Vec<String> =
                args.iter().map(|a| a.to_string()).chain(repeated).collect();
            println!(
                "{:<18} {:<5} {:>6} cycles  {}({})  {}",
                class.name,
                class.processing,
                class.cost_cycles,
                class.name,
                signature.join(", "),
                class.summary
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
