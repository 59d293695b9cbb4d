//! `vdpctl pretty`: a configuration drawn as vdp would run it: flattened, split between the
//! kernel and the container level, its long tasks cut, its tasks placed on threads; as Click
//! text with the ports and placement in comments, as Graphviz `dot` (`--dot`), or as the
//! view's JSON (`-j`, the elements, ports, tasks, threads and connections). `docs/click-frontend.md` ("Pictures") has the details.

use crate::frontend::{catalog_for, name_and_file, read_config, read_system, stdin_at_most_once};
use crate::output::Output;
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use vdp_click::check::CheckOptions;
use vdp_click::dot::View;
use vdp_click::source::{Diagnostics, Sources};
use vdp_click::system::ContainerLevel;
use vdp_click::{partition, tasks, TenantSource};
use vdp_core::catalog::Catalog;

#[derive(Args)]
pub struct PrettyArgs {
    /// The configuration (`-` for standard input); or, with --system, TENANT=FILE for each
    /// tenant: the tenants merged as the coordinator merges them, each a cluster.
    #[arg(required = true)]
    configs: Vec<String>,
    /// System config (TOML): its limits, and the tenants of TENANT=FILE.
    #[arg(long)]
    system: Option<PathBuf>,
    /// Write Graphviz dot text (`dot -Tsvg` or `-Tpng` draws it).
    #[arg(long, conflicts_with = "json")]
    dot: bool,
    /// Each tenant's thread count, the THREADS the root context sets (`vdpctl sched`; 1 for a
    /// new tenant): tasks no StaticThreadSched pins go round-robin over them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i64::from(vdp_core::uapi::TENANT_THREADS_MAX)))]
    threads: u32,
    /// Check against this container engine's classes too (`ENGINE describe`) [default: the
    /// stock engine's].
    #[arg(long)]
    engine: Option<PathBuf>,
}

pub fn run(args: &PrettyArgs, out: &Output) -> Result<ExitCode> {
    stdin_at_most_once(args.configs.iter().map(|arg| name_and_file(arg).1))?;
    let catalog = catalog_for(args.engine.as_deref())?;
    let named: Vec<(Option<&str>, &str)> = args.configs.iter().map(|arg| name_and_file(arg)).collect();
    let view = match (&args.system, named.as_slice()) {
        (Some(system), _) if named.iter().all(|(tenant, _)| tenant.is_some()) => merged_view(&read_system(system)?, &named, catalog)?,
        (system, [(None, file)]) => {
            let limits = system.as_deref().map(read_system).transpose()?.map(|s| s.limits).unwrap_or_default();
            tenant_view(file, CheckOptions { limits, catalog, ..CheckOptions::default() })?
        }
        (None, _) if named.iter().any(|(tenant, _)| tenant.is_some()) => bail!("TENANT=FILE needs --system to know the tenants"),
        _ => bail!("write one FILE, or TENANT=FILE for each tenant with --system"),
    };
    let Some(mut view) = view else { return Ok(ExitCode::FAILURE) };
    view.place_threads(|_| args.threads);
    if args.dot {
        print!("{}", view.to_dot());
    } else if out.json {
        out.print_json(&view)?;
    } else {
        print!("{}", view.to_click());
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the diagnostics; `false` when there are errors.
fn report(sources: &Sources, diagnostics: &Diagnostics) -> bool {
    sources.eprint_all(diagnostics);
    !diagnostics.has_errors()
}

/// One configuration, as `vdpctl check --explain` sees it: checked, split between the kernel
/// and the container level, its kernel tasks cut to the budget. `None` when it has errors.
fn tenant_view(file: &str, options: CheckOptions) -> Result<Option<View>> {
    let (name, text) = read_config(file)?;
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let (flat, checked) = vdp_click::check_text(&mut sources, &name, &text, &options, &mut diagnostics);
    if !report(&sources, &diagnostics) {
        return Ok(None);
    }
    let budget = options.limits.task_budget_cycles;
    let split = match partition::partition_tenant(&flat, &checked, &sources, ContainerLevel::default(), budget) {
        Ok(split) => split,
        Err(found) => {
            report(&sources, &found);
            return Ok(None);
        }
    };
    // The kernel part holds the boundary halves, which only the coordinator may place.
    let mut kernel = split.kernel.clone();
    let analysed = CheckOptions { coordinator: split.has_container(), ..options.clone() };
    let checked = match tasks::analyze_and_split(&mut kernel, &analysed, budget) {
        Ok((checked, _)) => checked,
        Err(found) => {
            report(&sources, &found);
            return Ok(None);
        }
    };
    let mut view = View::new(name);
    view.add_graph(&kernel, &checked, false, |_| None);
    if let Some(part) = &split.container {
        view.add_container_part(part, None, options.catalog);
    }
    view.join_boundaries();
    Ok(Some(view))
}

/// The tenants merged as `vdpctl merge` merges them. `None` when anything has errors.
fn merged_view(system: &vdp_click::system::SystemConfig, named: &[(Option<&str>, &str)], catalog: Catalog) -> Result<Option<View>> {
    let mut inputs = Vec::new();
    for (tenant, file) in named {
        let (file_name, text) = read_config(file)?;
        inputs.push(TenantSource { tenant: tenant.unwrap_or_default().to_string(), file_name, text, catalog });
    }
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let merged = vdp_click::merge_tenants(&mut sources, system, &inputs, &mut diagnostics);
    let valid = report(&sources, &diagnostics);
    let Some(merged) = merged.filter(|_| valid) else { return Ok(None) };
    let title = inputs.iter().map(|i| format!("{}={}", i.tenant, i.file_name)).collect::<Vec<_>>().join(" ");
    Ok(Some(View::of_merged(format!("merged: {title}"), system, &merged, |_| catalog)))
}

#[cfg(test)]
mod tests {
    use vdp_click::dot::View;
    use vdp_core::element::graph::Graph;
    use vdp_engine::platform::User;

    struct NoDevices;

    impl vdp_core::element::DeviceBinder<User> for NoDevices {
        fn bind(&self, _: &str) -> Option<vdp_engine::UserDevice> {
            None
        }
    }

    #[test]
    fn the_threads_drawn_are_the_threads_the_kernel_core_gives_the_tasks() {
        let system = vdp_click::system::SystemConfig::parse("[limits]\nmax_threads = 4\n[[tenant]]\nname = \"red\"\ncgroup = \"/red\"\ncpu_share = 50\n").unwrap();
        let text = "a :: InfiniteSource -> Discard; b :: InfiniteSource -> Discard; c :: InfiniteSource -> q :: Queue -> u :: Unqueue -> Discard;\n\
                    d :: InfiniteSource -> Discard; e :: InfiniteSource -> Discard; StaticThreadSched(c 3, a 2);";
        for threads in 1..=3 {
            let compiled = crate::frontend::compile_tenant(&system, "red", "t.click", text, crate::frontend::stock_catalog()).unwrap();
            let mut view = View::of_merged("t", &system, &compiled.merged, |_| crate::frontend::stock_catalog());
            view.place_threads(|_| threads);
            let drawn: Vec<(String, u32)> = view.task_threads().into_iter().map(|(name, thread)| (name.to_string(), thread.unwrap())).collect();
            // The kernel core's build of the same blob (what the module runs).
            let graph = Graph::<User>::build(&compiled.blob, "red", &NoDevices, Default::default(), threads).unwrap();
            let blob = vdp_click::compile::validate(&compiled.blob).unwrap();
            let tasks: Vec<u32> = blob.tasks().map(|t| t.element).collect();
            let mut built = Vec::new();
            for thread in 0..graph.thread_count() {
                for &task in graph.thread_tasks(thread) {
                    let element = tasks[task as usize] as usize;
                    built.push((String::from_utf8(graph.element(element).unwrap().0.to_vec()).unwrap(), thread));
                }
            }
            built.sort();
            let mut expected = drawn.clone();
            expected.sort();
            assert_eq!(expected, built, "{threads} threads");
            assert_eq!(drawn.len(), 6);
        }
    }
}
