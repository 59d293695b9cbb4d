//! The Click front end of vdp: reads tenant configurations in the Click language, checks them
//! against the element catalog, merges them into one graph and compiles it for the kernel.

pub mod address_info;
pub mod args;
pub mod check;
pub mod compile;
pub mod decl;
pub mod dot;
pub mod engines;
pub mod feedback;
pub mod flatten;
pub mod lexer;
pub mod merge;
pub mod parser;
pub mod partition;
pub mod print;
pub mod slices;
pub mod source;
pub mod system;
pub mod tasks;
pub mod unsupported;
pub mod values;

use check::{CheckOptions, CheckedGraph};
use flatten::FlatGraph;
use source::{Diagnostics, FileId, Sources};

/// A file read, parsed and flattened.
pub struct Loaded {
    pub file: FileId,
    pub flat: FlatGraph,
}

/// Parses and flattens one configuration text; errors go to `diagnostics`.
pub fn load(sources: &mut Sources, name: &str, text: &str, diagnostics: &mut Diagnostics) -> Loaded {
    load_with(vdp_core::catalog::Catalog::LIBRARY, sources, name, text, diagnostics)
}

/// [`load`], recognising the class names of `catalog`.
pub fn load_with(catalog: vdp_core::catalog::Catalog, sources: &mut Sources, name: &str, text: &str, diagnostics: &mut Diagnostics) -> Loaded {
    let file = sources.add(name, text);
    let scope = parser::parse_with(catalog, file, text, diagnostics);
    let flat = flatten::flatten(&scope, diagnostics);
    Loaded { file, flat }
}

/// Parses, flattens and checks one configuration text. AddressInfo names are resolved between
/// flattening and checking ([`address_info::resolve`]): the graph returned holds neither
/// AddressInfo elements nor names, only the addresses they stand for. Then push-only cycles
/// through an element that feeds back (ICMPError) get a queue ([`feedback::break_cycles`]).
pub fn check_text(sources: &mut Sources, name: &str, text: &str, options: &CheckOptions, diagnostics: &mut Diagnostics) -> (FlatGraph, CheckedGraph) {
    let mut loaded = load_with(options.catalog, sources, name, text, diagnostics);
    let before = diagnostics.items.len();
    address_info::resolve(&mut loaded.flat, options.catalog, sources, diagnostics);
    // Each instance of a compound would repeat the resolver's errors at the class's text.
    check::once_per_place(diagnostics, before);
    feedback::break_cycles(&mut loaded.flat, options.catalog, diagnostics);
    let checked = check::check(&loaded.flat, options, diagnostics);
    (loaded.flat, checked)
}

/// One tenant's configuration for [`merge_tenants`].
pub struct TenantSource {
    pub tenant: String,
    pub file_name: String,
    pub text: String,
    /// The classes the tenant's configuration may use: the library's, and its container
    /// engine's (which run only in the container part).
    pub catalog: vdp_core::catalog::Catalog,
}

/// The result of merging: the merged graph (after any task splits), its checked form, the
/// task analysis, and the partition of each tenant that has a container part.
pub struct Merged {
    pub flat: FlatGraph,
    pub checked: CheckedGraph,
    pub analysis: tasks::Analysis,
    /// `(tenant, partition)` for each tenant with elements at the container level; the merged
    /// graph holds only their kernel parts.
    pub partitions: Vec<(String, partition::Partition)>,
}

/// Checks each tenant against its own devices and the system limits, partitions each between
/// the kernel and its container engine ([`partition::partition_tenant`]), merges the kernel
/// parts, checks the merged graph and splits tasks over the budget. Returns `None` if anything was reported.
pub fn merge_tenants(sources: &mut Sources, system: &system::SystemConfig, inputs: &[TenantSource], diagnostics: &mut Diagnostics) -> Option<Merged> {
    merge_tenants_with(sources, system, inputs, diagnostics, true)
}

/// [`merge_tenants`]; `split_deep` false leaves call chains deeper than the kernel allows
/// unsplit (a test aid: the kernel then refuses the graph).
pub fn merge_tenants_with(
    sources: &mut Sources,
    system: &system::SystemConfig,
    inputs: &[TenantSource],
    diagnostics: &mut Diagnostics,
    split_deep: bool,
) -> Option<Merged> {
    let mut flats = Vec::new();
    let mut partitions = Vec::new();
    for input in inputs {
        let devices = match system.tenant(&input.tenant) {
            Some(tenant) => tenant.device.iter().map(|d| d.name.clone()).collect(),
            None => {
                let known: Vec<&str> = system.tenant.iter().map(|t| t.name.as_str()).collect();
                diagnostics.push(
                    source::Diagnostic::error(None, format!("tenant '{}' ({}) is not in the system config", input.tenant, input.file_name))
                        .note(format!("its tenants are: {}", known.join(", "))),
                );
                continue;
            }
        };
        let options = CheckOptions {
            limits: system.limits.clone(),
            devices: Some(devices),
            host_device: system.host_device(&input.tenant).map(str::to_string),
            coordinator: false,
            catalog: input.catalog,
        };
        let errors_before = diagnostics.error_count();
        let (mut flat, checked) = check_text(sources, &input.file_name, &input.text, &options, diagnostics);
        if diagnostics.error_count() > errors_before {
            continue;
        }
        pin_storage_lists(&mut flat, &checked);
        let level = system.container_level(&input.tenant);
        match partition::partition_tenant(&flat, &checked, sources, level, system.limits.task_budget_cycles) {
            Ok(split) => {
                flats.push((input.tenant.as_str(), split.kernel.clone()));
                if split.has_container() {
                    partitions.push((input.tenant.clone(), split));
                }
            }
            Err(found) => diagnostics.extend(found),
        }
    }
    if diagnostics.has_errors() {
        return None;
    }
    let tenants: Vec<merge::TenantGraph> = flats.iter().map(|(tenant, graph)| merge::TenantGraph { tenant, graph }).collect();
    let mut flat = match merge::merge(system, &tenants) {
        Ok(flat) => flat,
        Err(problems) => {
            for problem in problems {
                diagnostics.error(None, problem);
            }
            return None;
        }
    };
    let options = merged_options(system);
    match tasks::analyze_and_split_depth(&mut flat, &options, system.limits.task_budget_cycles, split_deep) {
        Ok((checked, analysis)) => Some(Merged { flat, checked, analysis, partitions }),
        Err(found) => {
            diagnostics.extend(found);
            None
        }
    }
}

/// Writes the Storage lists the check filled in (RED's nearest Queues) into the text of the
/// elements that gave none, so the merged graph keeps watching the queues the tenant's graph
/// has beside them, whatever the coordinator adds later (a split queue, a shaper).
fn pin_storage_lists(flat: &mut FlatGraph, checked: &CheckedGraph) {
    for (element, checked) in flat.elements.iter_mut().zip(&checked.elements) {
        let Some(spec) = checked.class.args.iter().find(|spec| spec.kind == vdp_core::catalog::ArgKind::StorageList) else { continue };
        let given = element.args.iter().any(|arg| args::keyword_of(&arg.text).is_some_and(|(word, _)| word == spec.keyword));
        if let (false, Some(values::ArgValue::Names(names))) = (given, checked.arg(spec.keyword)) {
            element.args.push(flatten::FlatArg { text: format!("{} {}", spec.keyword, names.join(" ")), span: None });
        }
    }
}

/// Options for checking a merged graph: the coordinator's classes are allowed, device names are
/// physical, and per-tenant limits were already enforced on each tenant.
pub fn merged_options(system: &system::SystemConfig) -> CheckOptions {
    CheckOptions {
        limits: check::Limits {
            max_elements: usize::MAX,
            max_queue_capacity: vdp_core::catalog::MAX_QUEUE_CAPACITY,
            max_table_entries: usize::MAX,
            ..system.limits.clone()
        },
        // Each tenant was checked against its own devices before the merge; the merged graph
        // may name any tenant's.
        devices: Some(system.tenant.iter().flat_map(|t| t.device.iter().map(|d| d.name.clone())).collect()),
        coordinator: true,
        ..CheckOptions::default()
    }
}
