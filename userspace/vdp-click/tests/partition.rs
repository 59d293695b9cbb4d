//! The partition through the merge: kernel parts merged and compiled, container parts printed
//! for the engine and checked again there, and nothing changed for a graph that stays whole.

use vdp_click::check::CheckOptions;
use vdp_click::source::{Diagnostics, Sources};
use vdp_click::system::{ContainerLevel, SystemConfig};

mod common;
use common::{merge_texts as merge, ROUTER, SYSTEM};

const HEAVY: &str = "FromDevice(eth1) -> a :: Chew(9000) -> b :: Chew(9000) -> q :: Queue -> ToDevice(eth1);";

fn system(level: ContainerLevel) -> SystemConfig {
    let mut system = SystemConfig::parse(SYSTEM).expect("example system config is valid");
    for tenant in &mut system.tenant {
        tenant.container_level = level;
    }
    system
}

#[test]
fn a_whole_kernel_graph_compiles_to_the_same_blob_at_every_level() {
    let inputs = [("red", ROUTER), ("blue", ROUTER)];
    let blobs: Vec<Vec<u8>> = [ContainerLevel::Never, ContainerLevel::Custom, ContainerLevel::Auto]
        .into_iter()
        .map(|level| {
            let system = system(level);
            let merged = merge(&system, &inputs);
            assert!(merged.partitions.is_empty());
            vdp_click::compile::compile(&merged.checked, &system).unwrap()
        })
        .collect();
    assert_eq!(blobs[0], blobs[1]);
    assert_eq!(blobs[0], blobs[2]);
}

#[test]
fn auto_moves_a_heavy_task_to_the_container() {
    let system = system(ContainerLevel::Auto);
    let merged = merge(&system, &[("red", HEAVY), ("blue", ROUTER)]);
    assert_eq!(merged.partitions.len(), 1);
    let (tenant, split) = &merged.partitions[0];
    assert_eq!(tenant, "red");
    // The kernel part is merged: its boundary halves are the tenant's, and it compiles.
    let class = |name: &str| merged.flat.elements[merged.flat.find(name).unwrap_or_else(|| panic!("no {name}"))].class.clone();
    assert_eq!(class("red/k2c0@boundary"), "ToContainer");
    assert_eq!(class("red/c2k0@boundary"), "FromContainer");
    assert!(merged.flat.find("red/a").is_none());
    // Nothing was split: the heavy task left the kernel whole.
    assert!(merged.analysis.splits.iter().all(|s| !s.task.starts_with("red/")), "{:?}", merged.analysis.splits);
    vdp_click::compile::compile(&merged.checked, &system).unwrap();
    // The container part, as the engine gets it, checks again with the coordinator's classes.
    let text = split.container_click("container part of red.click").unwrap();
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let options = CheckOptions { coordinator: true, ..CheckOptions::default() };
    let (flat, checked) = vdp_click::check_text(&mut sources, "container.click", &text, &options, &mut diagnostics);
    assert!(!diagnostics.has_errors(), "{}\n{text}", sources.render_all(&diagnostics));
    assert_eq!(flat.canonical(), split.container.as_ref().unwrap().canonical());
    let names: Vec<(&str, &str)> = checked.elements.iter().map(|e| (e.name.as_str(), e.class.name)).collect();
    assert_eq!(names, [("a", "Chew"), ("b", "Chew"), ("k2c0@boundary", "FromKernel"), ("c2k0@boundary", "ToKernel")]);
    // Under custom the same tenant is split in the kernel as before.
    let merged = merge(&self::system(ContainerLevel::Custom), &[("red", HEAVY)]);
    assert!(merged.partitions.is_empty());
    assert_eq!(merged.analysis.splits.len(), 1, "{:?}", merged.analysis.splits);
}

#[test]
fn a_red_stays_at_the_level_of_the_queues_it_watches() {
    // The task is heavy, so auto moves it to the container; but RED watches q, which ToDevice
    // pulls from, so RED stays in the kernel with them, and keeps the queue it found in the
    // tenant's graph.
    let heavy_red = "FromDevice(eth1) -> a :: Chew(9000) -> r :: RED(5, 50, 0.02) -> b :: Chew(9000) -> q :: Queue -> ToDevice(eth1);";
    let system = system(ContainerLevel::Auto);
    let merged = merge(&system, &[("red", heavy_red)]);
    assert_eq!(merged.partitions.len(), 1);
    assert!(merged.flat.find("red/a").is_none(), "the Chews moved");
    let r = &merged.flat.elements[merged.flat.find("red/r").expect("RED stays in the kernel")];
    assert!(r.args.iter().any(|arg| arg.text == "QUEUES q"), "{:?}", r.args);
    let checked = &merged.checked.elements[merged.checked.find("red/r").unwrap()];
    assert_eq!(checked.arg("QUEUES"), Some(&vdp_click::values::ArgValue::Names(vec!["red/q".to_string()])));
    vdp_click::compile::compile(&merged.checked, &system).unwrap();
}
