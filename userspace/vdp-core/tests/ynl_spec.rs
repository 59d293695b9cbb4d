//! docs/netlink/vdp.yaml, the family's YAML spec for the kernel's YNL tools, must agree with
//! kmod/core/uapi.rs and be valid against the kernel's genetlink schema. Python (with PyYAML and
//! jsonschema, from scripts/deps.sh) reads the spec; the kernel source tree that scripts/kernel.sh
//! unpacks provides the schema.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use vdp_core::uapi::{self, attr, class_attr, cmd, counter_attr, device_attr, element_attr};

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Prints "op NAME VALUE", "attr SET NAME VALUE", "mcgrp NAME" and "schema ok|skipped", computing
/// implicit values the way YNL does (one more than the previous entry, starting at 1).
const READER: &str = r#"
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
value = 0
for op in spec["operations"]["list"]:
    value = op.get("value", value + 1)
    print("op", op["name"], value)
for aset in spec["attribute-sets"]:
    value = 0
    for a in aset["attributes"]:
        value = a.get("value", value + 1)
        print("attr", aset["name"], a["name"], value)
for group in spec.get("mcast-groups", {}).get("list", []):
    print("mcgrp", group["name"])
if len(sys.argv) > 2:
    import jsonschema
    jsonschema.validate(spec, yaml.safe_load(open(sys.argv[2])))
    print("schema ok")
else:
    print("schema skipped")
"#;

fn python() -> &'static str {
    // Debian's interpreter has the packages scripts/deps.sh installs.
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// The kernel's genetlink schema, from the cached kernel source if it has been downloaded.
fn schema() -> Option<PathBuf> {
    let out = std::env::var_os("VDP_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(REPO).join("out"));
    let kernel = std::fs::canonicalize(out.join("kernel-debug"))
        .or_else(|_| std::fs::canonicalize(out.join("kernel-lean")))
        .ok()?;
    let schema = kernel.join("src/Documentation/netlink/genetlink.yaml");
    schema.exists().then_some(schema)
}

struct Spec {
    ops: HashMap<String, u64>,
    attrs: HashMap<(String, String), u64>,
    groups: Vec<String>,
    schema_checked: bool,
}

fn read_spec() -> Spec {
    let spec = Path::new(REPO).join("docs/netlink/vdp.yaml");
    let mut command = Command::new(python());
    command.arg("-c").arg(READER).arg(&spec);
    let schema = schema();
    if let Some(schema) = &schema {
        command.arg(schema);
    }
    let output = command.output().expect("run python3 (scripts/deps.sh installs it)");
    assert!(
        output.status.success(),
        "reading the spec failed (needs python3-yaml and python3-jsonschema):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut spec = Spec { ops: HashMap::new(), attrs: HashMap::new(), groups: Vec::new(), schema_checked: false };
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["op", name, value] => {
                spec.ops.insert(name.to_string(), value.parse().expect("op value"));
            }
            ["attr", set, name, value] => {
                spec.attrs.insert((set.to_string(), name.to_string()), value.parse().expect("attr value"));
            }
            ["mcgrp", name] => spec.groups.push(name.to_string()),
            ["schema", "ok"] => spec.schema_checked = true,
            _ => {}
        }
    }
    if schema.is_none() {
        eprintln!("note: no kernel source under out/kernel-*/src: the spec was not checked against genetlink.yaml");
    }
    spec
}

#[test]
fn spec_numbers_match_the_uapi() {
    let spec = read_spec();
    let ops = [
        ("get-info", cmd::GET_INFO),
        ("tenant-new", cmd::TENANT_NEW),
        ("tenant-del", cmd::TENANT_DEL),
        ("tenant-get", cmd::TENANT_GET),
        ("sched-set", cmd::SCHED_SET),
        ("sched-get", cmd::SCHED_GET),
        ("graph-install", cmd::GRAPH_INSTALL),
        ("graph-remove", cmd::GRAPH_REMOVE),
        ("graph-get", cmd::GRAPH_GET),
        ("handler-read", cmd::HANDLER_READ),
        ("handler-write", cmd::HANDLER_WRITE),
        ("stats", cmd::STATS),
        ("tenant-new-ntf", cmd::TENANT_NEW_NTF),
        ("tenant-del-ntf", cmd::TENANT_DEL_NTF),
        ("graph-install-ntf", cmd::GRAPH_INSTALL_NTF),
        ("graph-remove-ntf", cmd::GRAPH_REMOVE_NTF),
        ("table-change-ntf", cmd::TABLE_CHANGE_NTF),
        ("port-attach", cmd::PORT_ATTACH),
        ("port-detach", cmd::PORT_DETACH),
        ("port-get", cmd::PORT_GET),
        ("vdev-new", cmd::VDEV_NEW),
        ("vdev-del", cmd::VDEV_DEL),
        ("vdev-get", cmd::VDEV_GET),
        ("shape-set", cmd::SHAPE_SET),
    ];
    for (name, value) in ops {
        assert_eq!(spec.ops.get(name), Some(&u64::from(value)), "operation {name}");
    }
    assert_eq!(spec.ops.len(), ops.len(), "the spec has operations the uapi does not");

    let attrs = [
        ("vdp", "version", attr::VERSION),
        ("vdp", "tenant-count", attr::TENANT_COUNT),
        ("vdp", "class", attr::CLASS),
        ("vdp", "tenant-id", attr::TENANT_ID),
        ("vdp", "tenant-name", attr::TENANT_NAME),
        ("vdp", "thread-pid", attr::THREAD_PID),
        ("vdp", "tasks-per-yield", attr::TASKS_PER_YIELD),
        ("vdp", "graph", attr::GRAPH),
        ("vdp", "element", attr::ELEMENT),
        ("vdp", "handler", attr::HANDLER),
        ("vdp", "value", attr::VALUE),
        ("vdp", "element-count", attr::ELEMENT_COUNT),
        ("vdp", "task-count", attr::TASK_COUNT),
        ("vdp", "pad", attr::PAD),
        ("vdp", "wakeups", attr::WAKEUPS),
        ("vdp", "task-runs", attr::TASK_RUNS),
        ("vdp", "element-stats", attr::ELEMENT_STATS),
        ("vdp", "ifname", attr::IFNAME),
        ("vdp", "vdev-name", attr::VDEV_NAME),
        ("vdp", "local", attr::LOCAL),
        ("vdp", "remote", attr::REMOTE),
        ("vdp", "gre-key", attr::GRE_KEY),
        ("vdp", "carries", attr::CARRIES),
        ("vdp", "ttl", attr::TTL),
        ("vdp", "dont-fragment", attr::DONT_FRAGMENT),
        ("vdp", "gre-csum", attr::GRE_CSUM),
        ("vdp", "mtu", attr::MTU),
        ("vdp", "mac", attr::MAC),
        ("vdp", "peer-mac", attr::PEER_MAC),
        ("vdp", "port", attr::PORT),
        ("vdp", "vdev", attr::VDEV),
        ("device", "name", device_attr::NAME),
        ("device", "ifname", device_attr::IFNAME),
        ("device", "attached", device_attr::ATTACHED),
        ("device", "tenant-id", device_attr::TENANT_ID),
        ("device", "local", device_attr::LOCAL),
        ("device", "remote", device_attr::REMOTE),
        ("device", "gre-key", device_attr::GRE_KEY),
        ("device", "carries", device_attr::CARRIES),
        ("device", "ttl", device_attr::TTL),
        ("device", "dont-fragment", device_attr::DONT_FRAGMENT),
        ("device", "gre-csum", device_attr::GRE_CSUM),
        ("device", "mtu", device_attr::MTU),
        ("device", "mac", device_attr::MAC),
        ("device", "peer-mac", device_attr::PEER_MAC),
        ("device", "counter", device_attr::COUNTER),
        ("counter", "name", counter_attr::NAME),
        ("counter", "value", counter_attr::VALUE),
        ("counter", "pad", counter_attr::PAD),
        ("vdp", "threads", attr::THREADS),
        ("vdp", "tasks-per-yield-auto", attr::TASKS_PER_YIELD_AUTO),
        ("vdp", "cpu-mask", attr::CPU_MASK),
        ("vdp", "cpu-quota-us", attr::CPU_QUOTA_US),
        ("vdp", "cpu-period-us", attr::CPU_PERIOD_US),
        ("vdp", "cpu-runtime-ns", attr::CPU_RUNTIME_NS),
        ("vdp", "cpu-periods", attr::CPU_PERIODS),
        ("vdp", "cpu-throttled-periods", attr::CPU_THROTTLED_PERIODS),
        ("vdp", "cpu-throttled-ns", attr::CPU_THROTTLED_NS),
        ("vdp", "as-tenant", attr::AS_TENANT),
        ("vdp", "depth-drops", attr::DEPTH_DROPS),
        ("vdp", "tx-rate", attr::TX_RATE),
        ("vdp", "tx-burst", attr::TX_BURST),
        ("device", "tx-rate", device_attr::TX_RATE),
        ("device", "tx-burst", device_attr::TX_BURST),
        ("device", "pad", device_attr::PAD),
        ("class", "id", class_attr::ID),
        ("class", "name", class_attr::NAME),
        ("element", "name", element_attr::NAME),
        ("element", "class", element_attr::CLASS),
        ("element", "root", element_attr::ROOT),
        ("element", "packets-in", element_attr::PACKETS_IN),
        ("element", "packets-out", element_attr::PACKETS_OUT),
        ("element", "drops", element_attr::DROPS),
        ("element", "queue-length", element_attr::QUEUE_LENGTH),
        ("element", "queue-capacity", element_attr::QUEUE_CAPACITY),
        ("element", "pad", element_attr::PAD),
    ];
    for (set, name, value) in attrs {
        assert_eq!(
            spec.attrs.get(&(set.to_string(), name.to_string())),
            Some(&u64::from(value)),
            "attribute {set}/{name}"
        );
    }
    assert_eq!(spec.attrs.len(), attrs.len(), "the spec has attributes the uapi does not");
    assert_eq!(spec.groups, [uapi::MCGRP_EVENTS]);
}

#[test]
fn spec_is_valid_against_the_kernels_schema() {
    let spec = read_spec();
    if schema().is_some() {
        assert!(spec.schema_checked, "the schema was found but not applied");
    }
}
