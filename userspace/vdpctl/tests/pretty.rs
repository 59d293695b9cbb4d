//! `vdpctl pretty --dot` against Graphviz: the text is valid `dot` input (`dot -Tsvg` draws it
//! without a warning, so every port an edge names exists), and the picture's nodes and edges are
//! the graph's elements and connections, as `vdpctl flatten --json` and `vdpctl merge --json`
//! give them. And `-` reads a configuration from standard input.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const VDPCTL: &str = env!("CARGO_BIN_EXE_vdpctl");
const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples");

fn run(program: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program} (scripts/deps.sh installs graphviz): {e}"));
    child.stdin.take().expect("piped").write_all(stdin).expect("stdin");
    child.wait_with_output().expect("output")
}

fn vdpctl(args: &[&str]) -> String {
    let output = run(VDPCTL, args, b"");
    assert!(output.status.success(), "vdpctl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// Graphviz's SVG of `dot`, which must draw without a warning.
fn svg(dot: &str) -> String {
    let output = run("dot", &["-Tsvg"], dot.as_bytes());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && stderr.trim().is_empty(), "dot -Tsvg: {stderr}\n{dot}");
    String::from_utf8(output.stdout).expect("UTF-8")
}

fn unescape(text: &str) -> String {
    text.replace("&#45;", "-").replace("&gt;", ">").replace("&lt;", "<").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// The titles of the SVG's groups of `class` (`node`, `edge`, `cluster`).
fn titles(svg: &str, class: &str) -> Vec<String> {
    let marker = format!("class=\"{class}\">");
    svg.split(&marker)
        .skip(1)
        .filter_map(|rest| {
            let start = rest.find("<title>")? + "<title>".len();
            let end = rest[start..].find("</title>")? + start;
            Some(unescape(&rest[start..end]))
        })
        .collect()
}

/// The graph of `vdpctl flatten --json` or `vdpctl merge --json`: element names, and
/// connections as Graphviz titles them (`a:o0->b:i0`).
fn graph_of(json: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let value: serde_json::Value = serde_json::from_str(json).expect("JSON");
    let elements = value["elements"].as_array().expect("elements").iter().map(|e| e["name"].as_str().expect("name").to_string()).collect();
    let connections = value["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| format!("{}:o{}->{}:i{}", c["from"].as_str().unwrap(), c["from_port"], c["to"].as_str().unwrap(), c["to_port"]))
        .collect();
    (elements, connections)
}

#[test]
fn the_example_router_draws_with_every_element_and_connection() {
    let router = format!("{DOCS}/router.click");
    let picture = svg(&vdpctl(&["pretty", &router, "--dot"]));
    let (elements, connections) = graph_of(&vdpctl(&["flatten", &router, "--json"]));
    let nodes: BTreeSet<String> = titles(&picture, "node").into_iter().collect();
    let edges: Vec<String> = titles(&picture, "edge");
    assert_eq!(nodes, elements);
    assert_eq!(edges.len(), connections.len(), "{edges:?}");
    assert_eq!(edges.into_iter().collect::<BTreeSet<_>>(), connections);
    // The compounds' instances are clusters; a lone file has no tenant.
    let clusters: Vec<String> = titles(&picture, "cluster");
    assert_eq!(clusters.len(), 4, "{clusters:?}");
    assert!(!picture.contains("cluster_tenant_"));
    // Tasks say where they run; pull ports are drawn hollow, push ports filled.
    assert!(picture.contains("task on thread 0"), "no task placement in the picture");
}

#[test]
fn merged_tenants_draw_as_clusters_with_every_element_and_connection() {
    let (router, system) = (format!("{DOCS}/router.click"), format!("{DOCS}/system.toml"));
    let (red, blue) = (format!("red={router}"), format!("blue={router}"));
    let picture = svg(&vdpctl(&["pretty", "--system", &system, &red, &blue, "--dot", "--threads", "2"]));
    let (elements, connections) = graph_of(&vdpctl(&["merge", "--system", &system, &red, &blue, "--json"]));
    let nodes: BTreeSet<String> = titles(&picture, "node").into_iter().collect();
    assert_eq!(nodes, elements);
    let edges: Vec<String> = titles(&picture, "edge");
    assert_eq!(edges.len(), connections.len());
    assert_eq!(edges.into_iter().collect::<BTreeSet<_>>(), connections);
    let clusters = titles(&picture, "cluster");
    for tenant in ["red", "blue"] {
        assert!(clusters.contains(&format!("cluster_tenant_{tenant}")), "{clusters:?}");
    }
    // Two threads each: red's two FromDevice tasks are on threads 0 and 1.
    assert!(picture.contains("task on thread 1"), "the second thread is not used");
    // blue's bandwidth cap adds no element: nothing in the picture is the root context's.
    assert!(!elements.iter().any(|e| e.contains("@shaper")) && !picture.contains("root context"));
}

#[test]
fn a_container_part_draws_in_its_own_cluster_joined_by_the_channel() {
    // ToDump runs only in the container engine: the partition puts it there, with a boundary.
    let output = run(VDPCTL, &["pretty", "-", "--dot"], b"FromDevice(eth1) -> c :: Counter -> ToDump(/tmp/out.pcap);\n");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let picture = svg(&String::from_utf8_lossy(&output.stdout));
    let nodes: BTreeSet<String> = titles(&picture, "node").into_iter().collect();
    let expected: BTreeSet<String> =
        ["FromDevice@1", "c", "k2c0@boundary", "container:ToDump@3", "container:k2c0@boundary"].iter().map(|s| s.to_string()).collect();
    assert_eq!(nodes, expected);
    let edges: BTreeSet<String> = titles(&picture, "edge").into_iter().collect();
    for edge in ["FromDevice@1:o0->c:i0", "c:o0->k2c0@boundary:i0", "container:k2c0@boundary:o0->container:ToDump@3:i0", "k2c0@boundary->container:k2c0@boundary"] {
        assert!(edges.contains(edge), "{edge} not in {edges:?}");
    }
    assert!(titles(&picture, "cluster").contains(&"cluster_container_".to_string()));
}

#[test]
fn standard_input_is_a_configuration_named_stdin() {
    let output = run(VDPCTL, &["check", "-"], b"Idle -> Qeue -> Discard;\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.starts_with("<stdin>:1:9: error: unknown element class 'Qeue'"), "{stderr}");
    let output = run(VDPCTL, &["check", "-"], b"Idle -> Queue -> Discard;\n");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "<stdin>: ok (3 elements, 2 connections)\n");
    let output = run(VDPCTL, &["pretty", "-", "--dot"], b"Idle -> Queue -> Discard;\n");
    assert!(output.status.success());
    let picture = svg(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(titles(&picture, "node").len(), 3);
    let output = run(VDPCTL, &["flatten", "-"], b"elementclass B { input -> Counter -> output }\nIdle -> B -> Discard;\n");
    assert!(String::from_utf8_lossy(&output.stdout).contains("B@2/Counter@1 :: Counter;"), "{}", String::from_utf8_lossy(&output.stdout));
    // One standard input, one configuration.
    let output = run(VDPCTL, &["check", "-", "-"], b"Idle -> Discard;\n");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("standard input ('-') can be given as one configuration only"));
    let system = format!("{DOCS}/system.toml");
    let output = run(VDPCTL, &["merge", "--system", &system, "red=-"], b"FromDevice(eth1) -> Queue -> ToDevice(eth7);\n");
    assert!(String::from_utf8_lossy(&output.stderr).contains("<stdin>:1:"), "{}", String::from_utf8_lossy(&output.stderr));
}
