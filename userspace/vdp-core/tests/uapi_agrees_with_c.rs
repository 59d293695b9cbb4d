//! The C policy tables in kmod/sys/vdp_genl.h repeat the protocol numbers of kmod/core/uapi.rs.
//! This test keeps the two in step, and the module version in step with the crates.

use std::collections::HashMap;
use vdp_core::uapi::{attr, class_attr, cmd, element_attr, FAMILY_NAME, FAMILY_VERSION, MCGRP_EVENTS};

fn c_header() -> HashMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../kmod/sys/vdp_genl.h");
    let text = std::fs::read_to_string(path).expect("read vdp_genl.h");
    let mut values = HashMap::new();
    for line in text.lines() {
        let line = line.trim().trim_end_matches(',');
        if let Some(rest) = line.strip_prefix("#define ") {
            let mut parts = rest.split_whitespace();
            if let (Some(name), Some(value)) = (parts.next(), parts.next()) {
                values.insert(name.to_string(), value.trim_matches('"').to_string());
            }
        } else if let Some((name, value)) = line.split_once('=') {
            values.insert(name.trim().to_string(), value.trim().to_string());
        }
    }
    values
}

#[test]
fn c_header_matches_rust_uapi() {
    let c = c_header();
    let expect = |name: &str, value: String| {
        assert_eq!(c.get(name), Some(&value), "{name} differs between C and Rust");
    };
    expect("VDP_GENL_NAME", FAMILY_NAME.to_string());
    expect("VDP_GENL_VERSION", FAMILY_VERSION.to_string());
    expect("VDP_CMD_GET_INFO", cmd::GET_INFO.to_string());
    expect("VDP_CMD_TENANT_NEW", cmd::TENANT_NEW.to_string());
    expect("VDP_CMD_TENANT_DEL", cmd::TENANT_DEL.to_string());
    expect("VDP_CMD_TENANT_GET", cmd::TENANT_GET.to_string());
    expect("VDP_CMD_SCHED_SET", cmd::SCHED_SET.to_string());
    expect("VDP_CMD_SCHED_GET", cmd::SCHED_GET.to_string());
    expect("VDP_A_TENANT_ID", attr::TENANT_ID.to_string());
    expect("VDP_A_TENANT_NAME", attr::TENANT_NAME.to_string());
    expect("VDP_A_THREAD_PID", attr::THREAD_PID.to_string());
    expect("VDP_A_TASKS_PER_YIELD", attr::TASKS_PER_YIELD.to_string());
    expect("VDP_CMD_GRAPH_INSTALL", cmd::GRAPH_INSTALL.to_string());
    expect("VDP_CMD_GRAPH_REMOVE", cmd::GRAPH_REMOVE.to_string());
    expect("VDP_CMD_GRAPH_GET", cmd::GRAPH_GET.to_string());
    expect("VDP_CMD_HANDLER_READ", cmd::HANDLER_READ.to_string());
    expect("VDP_CMD_HANDLER_WRITE", cmd::HANDLER_WRITE.to_string());
    expect("VDP_A_GRAPH", attr::GRAPH.to_string());
    expect("VDP_A_ELEMENT", attr::ELEMENT.to_string());
    expect("VDP_A_HANDLER", attr::HANDLER.to_string());
    expect("VDP_A_VALUE", attr::VALUE.to_string());
    expect("VDP_A_ELEMENT_COUNT", attr::ELEMENT_COUNT.to_string());
    expect("VDP_A_TASK_COUNT", attr::TASK_COUNT.to_string());
    expect("VDP_GRAPH_MAX_BYTES", vdp_core::uapi::GRAPH_MAX_BYTES.to_string());
    expect("VDP_ELEMENT_NAME_MAX", vdp_core::uapi::ELEMENT_NAME_MAX.to_string());
    expect("VDP_HANDLER_NAME_MAX", vdp_core::uapi::HANDLER_NAME_MAX.to_string());
    expect("VDP_TENANT_NAME_MAX", vdp_core::uapi::TENANT_NAME_MAX.to_string());
    expect("VDP_TASKS_PER_YIELD_MAX", vdp_core::uapi::TASKS_PER_YIELD_MAX.to_string());
    expect("VDP_A_THREADS", attr::THREADS.to_string());
    expect("VDP_CMD_SHAPE_SET", cmd::SHAPE_SET.to_string());
    expect("VDP_A_TX_RATE", attr::TX_RATE.to_string());
    expect("VDP_A_TX_BURST", attr::TX_BURST.to_string());
    expect("VDP_TX_BURST_MIN", vdp_core::tx_cap::BURST_MIN.to_string());
    expect("VDP_A_TASKS_PER_YIELD_AUTO", attr::TASKS_PER_YIELD_AUTO.to_string());
    expect("VDP_A_CPU_MASK", attr::CPU_MASK.to_string());
    expect("VDP_CPU_MASK_MAX_BYTES", vdp_core::uapi::CPU_MASK_MAX_BYTES.to_string());
    expect("VDP_A_CPU_QUOTA_US", attr::CPU_QUOTA_US.to_string());
    expect("VDP_A_CPU_PERIOD_US", attr::CPU_PERIOD_US.to_string());
    expect("VDP_A_CPU_RUNTIME_NS", attr::CPU_RUNTIME_NS.to_string());
    expect("VDP_A_CPU_PERIODS", attr::CPU_PERIODS.to_string());
    expect("VDP_A_CPU_THROTTLED_PERIODS", attr::CPU_THROTTLED_PERIODS.to_string());
    expect("VDP_A_CPU_THROTTLED_NS", attr::CPU_THROTTLED_NS.to_string());
    expect("VDP_A_AS_TENANT", attr::AS_TENANT.to_string());
    expect("VDP_A_DEPTH_DROPS", attr::DEPTH_DROPS.to_string());
    expect("VDP_A_ELEMENT_ROOT", element_attr::ROOT.to_string());
    expect("VDP_TENANT_THREADS_MAX", vdp_core::uapi::TENANT_THREADS_MAX.to_string());
    expect("VDP_A_VERSION", attr::VERSION.to_string());
    expect("VDP_A_TENANT_COUNT", attr::TENANT_COUNT.to_string());
    expect("VDP_A_CLASS", attr::CLASS.to_string());
    expect("VDP_A_MAX", attr::MAX.to_string());
    expect("VDP_A_CLASS_ID", class_attr::ID.to_string());
    expect("VDP_A_CLASS_NAME", class_attr::NAME.to_string());
    expect("VDP_A_CLASS_MAX", class_attr::MAX.to_string());
    expect("VDP_CMD_STATS", cmd::STATS.to_string());
    expect("VDP_CMD_TENANT_NEW_NTF", cmd::TENANT_NEW_NTF.to_string());
    expect("VDP_CMD_TENANT_DEL_NTF", cmd::TENANT_DEL_NTF.to_string());
    expect("VDP_CMD_GRAPH_INSTALL_NTF", cmd::GRAPH_INSTALL_NTF.to_string());
    expect("VDP_CMD_GRAPH_REMOVE_NTF", cmd::GRAPH_REMOVE_NTF.to_string());
    expect("VDP_CMD_TABLE_CHANGE_NTF", cmd::TABLE_CHANGE_NTF.to_string());
    expect("VDP_MCGRP_EVENTS_NAME", MCGRP_EVENTS.to_string());
    expect("VDP_A_PAD", attr::PAD.to_string());
    expect("VDP_A_WAKEUPS", attr::WAKEUPS.to_string());
    expect("VDP_A_TASK_RUNS", attr::TASK_RUNS.to_string());
    expect("VDP_A_ELEMENT_STATS", attr::ELEMENT_STATS.to_string());
    expect("VDP_A_ELEMENT_NAME", element_attr::NAME.to_string());
    expect("VDP_A_ELEMENT_CLASS", element_attr::CLASS.to_string());
    expect("VDP_A_ELEMENT_PACKETS_IN", element_attr::PACKETS_IN.to_string());
    expect("VDP_A_ELEMENT_PACKETS_OUT", element_attr::PACKETS_OUT.to_string());
    expect("VDP_A_ELEMENT_DROPS", element_attr::DROPS.to_string());
    expect("VDP_A_ELEMENT_QUEUE_LENGTH", element_attr::QUEUE_LENGTH.to_string());
    expect("VDP_A_ELEMENT_QUEUE_CAPACITY", element_attr::QUEUE_CAPACITY.to_string());
    expect("VDP_A_ELEMENT_PAD", element_attr::PAD.to_string());
    expect("VDP_A_ELEMENT_MAX", element_attr::MAX.to_string());
    for (name, value) in [
        ("VDP_CMD_PORT_ATTACH", cmd::PORT_ATTACH),
        ("VDP_CMD_PORT_DETACH", cmd::PORT_DETACH),
        ("VDP_CMD_PORT_GET", cmd::PORT_GET),
        ("VDP_CMD_VDEV_NEW", cmd::VDEV_NEW),
        ("VDP_CMD_VDEV_DEL", cmd::VDEV_DEL),
        ("VDP_CMD_VDEV_GET", cmd::VDEV_GET),
    ] {
        expect(name, value.to_string());
    }
    for (name, value) in [
        ("VDP_A_IFNAME", attr::IFNAME),
        ("VDP_A_VDEV_NAME", attr::VDEV_NAME),
        ("VDP_A_LOCAL", attr::LOCAL),
        ("VDP_A_REMOTE", attr::REMOTE),
        ("VDP_A_GRE_KEY", attr::GRE_KEY),
        ("VDP_A_CARRIES", attr::CARRIES),
        ("VDP_A_TTL", attr::TTL),
        ("VDP_A_DONT_FRAGMENT", attr::DONT_FRAGMENT),
        ("VDP_A_GRE_CSUM", attr::GRE_CSUM),
        ("VDP_A_MTU", attr::MTU),
        ("VDP_A_MAC", attr::MAC),
        ("VDP_A_PEER_MAC", attr::PEER_MAC),
        ("VDP_A_PORT", attr::PORT),
        ("VDP_A_VDEV", attr::VDEV),
    ] {
        expect(name, value.to_string());
    }
    expect("VDP_CARRIES_IP", vdp_core::uapi::CARRIES_IP.to_string());
    expect("VDP_CARRIES_ETHERNET", vdp_core::uapi::CARRIES_ETHERNET.to_string());
    expect("VDP_TUNNEL_MTU_MIN", vdp_core::uapi::TUNNEL_MTU_MIN.to_string());
}

#[test]
fn module_version_is_the_crate_version() {
    assert_eq!(vdp_core::VERSION, env!("CARGO_PKG_VERSION"));
}

#[test]
fn tenant_names_fit_thread_names() {
    use vdp_core::uapi::{valid_tenant_name, TENANT_NAME_MAX};
    // The thread is "vdp-NAME" and task names hold 15 characters.
    assert!("vdp-".len() + TENANT_NAME_MAX <= 15);
    assert!(valid_tenant_name(b"red"));
    assert!(valid_tenant_name(b"tenant_0a"));
    assert!(valid_tenant_name(b"abcdefghijk"));
    assert!(!valid_tenant_name(b"tenant-0"));
    assert!(!valid_tenant_name(b"0tenant"));
    assert!(!valid_tenant_name(b"_tenant"));
    assert!(!valid_tenant_name(b"abcdefghijkl"));
    assert!(!valid_tenant_name(b""));
    assert!(!valid_tenant_name(b"Red"));
    assert!(!valid_tenant_name(b"a b"));
    assert!(!valid_tenant_name(b"a/b"));
}
