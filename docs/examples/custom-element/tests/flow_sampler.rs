//! FlowSampler in the engine: the configuration is checked against the engine's catalog (the
//! library, the built-in classes and FlowSampler), compiled, and run by `vdp_engine::Engine`.

use vdp_click::check::CheckOptions;
use vdp_click::source::{Diagnostics, Sources};
use vdp_click::system::SystemConfig;
use vdp_engine::{CustomClasses, Engine};

const SYSTEM: &str = "[[tenant]]\nname = \"t\"\ncgroup = \"/t\"\ncpu_share = 100\n";

/// An Ethernet frame holding a UDP/IPv4 header from port `sport`, as a Click hex string.
fn udp_frame(sport: u16) -> String {
    let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    frame.extend_from_slice(&[0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    frame.extend_from_slice(&sport.to_be_bytes());
    frame.extend_from_slice(&[0, 53, 0, 8, 0, 0]);
    let hex: String = frame.iter().map(|b| format!("{b:02x}")).collect();
    format!("\\<{hex}>")
}

/// Checks and compiles `text` (a merged graph, names `t/NAME`) against the engine's catalog,
/// then builds it.
fn engine(text: &str) -> Engine {
    let classes = CustomClasses::new(&flow_sampler_engine::classes()).expect("the example's classes");
    let system = SystemConfig::parse(SYSTEM).expect("system config");
    let options = CheckOptions { catalog: classes.catalog(), ..vdp_click::merged_options(&system) };
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    let (mut flat, _) = vdp_click::check_text(&mut sources, "sampler.click", text, &options, &mut diagnostics);
    assert!(!diagnostics.has_errors(), "{}", sources.render_all(&diagnostics));
    let (checked, _) = vdp_click::tasks::analyze_and_split(&mut flat, &options, system.limits.task_budget_cycles).expect("tasks");
    let blob = vdp_click::compile::compile(&checked, &system).expect("compiles");
    Engine::with_classes(classes, &blob, "t", Vec::new(), 1).expect("builds")
}

fn read(engine: &Engine, element: &str, handler: &str) -> u64 {
    engine.read_handler(element, handler).expect("read").parse().expect("an integer")
}

#[test]
fn one_packet_in_n_of_each_flow_is_sampled() {
    let text = format!(
        "t/a :: InfiniteSource({}, 10) -> t/s :: FlowSampler(3);\n\
         t/b :: InfiniteSource({}, 5) -> t/s;\n\
         t/s[0] -> t/sampled :: Counter -> t/d0 :: Discard;\n\
         t/s[1] -> t/rest :: Counter -> t/d1 :: Discard;",
        udp_frame(1000),
        udp_frame(2000)
    );
    let mut engine = engine(&text);
    engine.run(1_000_000_000, u64::MAX).expect("runs");
    // Flow a: packets 1, 4, 7, 10 of 10; flow b: 1 and 4 of 5.
    assert_eq!(read(&engine, "t/s", "seen"), 15);
    assert_eq!(read(&engine, "t/s", "sampled"), 6);
    assert_eq!(read(&engine, "t/sampled", "count"), 6);
    assert_eq!(read(&engine, "t/rest", "count"), 9);
    assert_eq!(read(&engine, "t/s", "flows"), 2);
    engine.write_handler("t/s", "n", "1").expect("n");
    engine.write_handler("t/s", "reset", "").expect("reset");
    assert_eq!(read(&engine, "t/s", "n"), 1);
    assert_eq!(read(&engine, "t/s", "seen"), 0);
    assert!(engine.write_handler("t/s", "n", "0").is_err(), "N is at least 1");
}

#[test]
fn the_description_is_what_the_coordinator_decodes() {
    let json = vdp_engine::describe_json(&flow_sampler_engine::classes()).expect("describe");
    let catalog = vdp_click::decl::catalog_from_json(&json).expect("the coordinator accepts it");
    let class = catalog.class_by_name("FlowSampler").expect("declared");
    assert_eq!(class.arg("N").and_then(|a| a.default), Some("100"));
    assert!(class.has_handler("flows", false) && class.has_handler("n", true));
}
