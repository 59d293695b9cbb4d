//! The secondary places diagnostics point at, as the rendered text shows them: what a reader of
//! an error sees besides the first line.

use vdp_click::check::CheckOptions;
use vdp_click::source::{Diagnostics, Sources};

/// The rendered errors of `text` as `t.click`.
fn rendered(text: &str) -> Vec<String> {
    let mut sources = Sources::new();
    let mut diagnostics = Diagnostics::default();
    vdp_click::check_text(&mut sources, "t.click", text, &CheckOptions::default(), &mut diagnostics);
    diagnostics.items.iter().filter(|d| d.is_error()).map(|d| sources.render(d)).collect()
}

fn one(text: &str) -> String {
    let found = rendered(text);
    assert_eq!(found.len(), 1, "{found:#?}");
    found.into_iter().next().unwrap_or_default()
}

#[test]
fn a_duplicate_declaration_points_at_the_first() {
    let text = one("x :: Counter;\ny :: Discard;\nx :: Queue;\nx -> y;\n");
    assert!(text.starts_with("t.click:3:1: error: element 'x' is already declared on line 1\n"), "{text}");
    assert!(text.contains("1 | x :: Counter;\n  | - 'x' is first declared here\n"), "{text}");
    assert!(text.contains("3 | x :: Queue;\n  | ^"), "{text}");
}

#[test]
fn a_duplicate_class_points_at_the_first() {
    let text = one("elementclass A { input -> output }\nelementclass A { input -> Discard }\nInfiniteSource -> A -> Discard;\n");
    assert!(text.starts_with("t.click:2:14: error: class 'A' is already defined on line 1\n"), "{text}");
    assert!(text.contains("'A' is first defined here"), "{text}");
}

#[test]
fn a_push_pull_conflict_points_at_both_declarations() {
    let text = one("src :: FromDevice(eth0);\nu :: Unqueue;\nsrc -> u -> Discard;\n");
    assert!(text.starts_with("t.click:3:5: error: push/pull conflict: push output 0 of 'src' (FromDevice) is connected to pull input 0 of 'u' (Unqueue)\n"), "{text}");
    assert!(text.contains("1 | src :: FromDevice(eth0);\n  | --- 'src' (FromDevice) is declared here\n"), "{text}");
    assert!(text.contains("2 | u :: Unqueue;\n  | - 'u' (Unqueue) is declared here\n"), "{text}");
    assert!(text.contains("3 | src -> u -> Discard;\n  |     ^^\n"), "{text}");
    assert!(text.contains("= note: put a Queue between them"), "{text}");
}

#[test]
fn a_port_out_of_range_points_at_the_element() {
    let text = one("c :: Counter;\nFromDevice(eth0) -> c;\nc -> Discard;\nc[1] -> Discard;\n");
    assert!(text.starts_with("t.click:4:6: error: output port 1 is out of range: 'c' (Counter) has 1 output\n"), "{text}");
    assert!(text.contains("1 | c :: Counter;\n  | - 'c' is declared here\n"), "{text}");
}

#[test]
fn a_push_output_connected_twice_points_at_the_first_connection() {
    let text = one("src :: FromDevice(eth0);\nsrc -> Discard;\nsrc -> Discard;\n");
    assert!(text.starts_with("t.click:3:5: error: push output 0 of 'src' is connected 2 times\n"), "{text}");
    assert!(text.contains("2 | src -> Discard;\n  |     -- first connected here\n"), "{text}");
}

#[test]
fn an_argument_given_twice_points_at_the_first() {
    let text = one("FromDevice(eth0) -> Queue(CAPACITY 10, CAPACITY 20) -> Discard;\n");
    assert!(text.contains("is given twice"), "{text}");
    assert!(text.contains("CAPACITY is first given here"), "{text}");
}
