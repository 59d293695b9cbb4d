//! `vdpctl system show FILE`: a system config's engine slices as text and JSON, and its errors
//! (`docs/pdp.md`).

use std::path::PathBuf;
use std::process::{Command, Output};

const VDPCTL: &str = env!("CARGO_BIN_EXE_vdpctl");

const SYSTEM: &str = "[engines]
cpus = [0, 1]
share = 75

[[tenant]]
name = \"red\"
cgroup = \"/red\"
cpu_share = 50
engines = 1.5

[[tenant]]
name = \"blue\"
cgroup = \"/blue\"
cpu_share = 30
engines = 0.4

[[tenant]]
name = \"gold\"
cgroup = \"/gold\"
cpu_share = 20
";

/// Writes `text` to a file of this test's own and runs `vdpctl ARGS... FILE`.
fn show(name: &str, text: &str, args: &[&str]) -> (Output, PathBuf) {
    let dir = std::env::temp_dir().join(format!("vdpctl-system-show-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, text).expect("write the config");
    let output = Command::new(VDPCTL).args(args).arg(&file).output().expect("run vdpctl");
    (output, file)
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).expect("UTF-8")
}

fn refused(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    String::from_utf8(output.stderr.clone()).expect("UTF-8")
}

#[test]
fn text_shows_every_engine_and_tenant() {
    let (output, _) = show("text", SYSTEM, &["system", "show"]);
    assert_eq!(
        stdout(&output),
        "engines: cpus 0, 1, 75% of each (2 engines)
  cpu 0: red 1.00; 1.00 used, 0.00 free
  cpu 1: red 0.50, blue 0.40; 0.90 used, 0.10 free
tenant red: 1.50 engines: cpu 0 whole (75.00%), cpu 1 0.50 (37.50%)
tenant blue: 0.40 engines: cpu 1 0.40 (30.00%)
tenant gold: no engines required
placed by best fit
"
    );
}

#[test]
fn json_holds_the_slices() {
    let (output, file) = show("json", SYSTEM, &["-j", "system", "show"]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(j["file"], file.display().to_string());
    assert_eq!(j["tenants"], 3);
    let s = &j["slices"];
    assert_eq!((s["cpus"].clone(), s["share"].clone()), (serde_json::json!([0, 1]), serde_json::json!(75)));
    assert_eq!(s["placement"]["method"], "best-fit");
    let red: Vec<(u64, f64, bool)> = s["tenants"][0]["slices"]
        .as_array()
        .expect("red's slices")
        .iter()
        .map(|x| (x["cpu"].as_u64().unwrap(), x["cpu_percent"].as_f64().unwrap(), x["whole"].as_bool().unwrap()))
        .collect();
    assert_eq!(red, [(0, 75.0, true), (1, 37.5, false)]);
    assert_eq!(s["engines"][1]["free"].as_f64(), Some(0.1));
    assert!(s["tenants"][2]["slices"].is_null());
}

#[test]
fn a_config_without_engines_has_nothing_to_slice() {
    let text = SYSTEM.replacen("[engines]\ncpus = [0, 1]\nshare = 75\n", "", 1).replace("engines = 1.5\n", "").replace("engines = 0.4\n", "");
    let (output, file) = show("none", &text, &["system", "show"]);
    assert_eq!(stdout(&output), format!("{}: valid, 3 tenants; no [engines]: nothing to slice\n", file.display()));
    let (output, _) = show("none-json", &text, &["system", "show", "-j"]);
    let j: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert!(j["slices"].is_null(), "{j}");
}

#[test]
fn errors_name_the_place_or_the_tenant() {
    let (output, file) = show("unknown", &SYSTEM.replace("share = 75", "shares = 75"), &["system", "show"]);
    let err = refused(&output);
    assert!(err.contains(&format!("{}: invalid system config", file.display())), "{err}");
    assert!(err.contains("line 3, column 1") && err.contains("unknown field `shares`"), "{err}");
    let (output, _) = show("bad", &SYSTEM.replace("engines = 0.4", "engines = 0.405"), &["system", "show"]);
    let err = refused(&output);
    assert!(err.contains("line 15, column 11") && err.contains("to two decimals (1.5, 0.25), not 0.405"), "{err}");
    let (output, _) = show("over", &SYSTEM.replace("engines = 0.4", "engines = 0.6"), &["system", "show", "-j"]);
    let err = refused(&output);
    assert!(
        err.contains("tenant 'blue' needs 0.60 engines, which brings the tenants' total to 2.10 engines, more than the 2 [engines] gives (0.10 short)"),
        "{err}"
    );
    let (output, _) = show(
        "split",
        &SYSTEM
            .replace("cpus = [0, 1]", "cpus = [0, 1, 2]")
            .replace("engines = 1.5", "engines = 1.8")
            .replace("engines = 0.4", "engines = 0.6\n[[tenant]]\nname = \"green\"\ncgroup = \"/green\"\ncpu_share = 0\nengines = 0.6"),
        &["system", "show"],
    );
    let err = refused(&output);
    assert!(err.contains("cpu_share is a percentage"), "{err}");
    assert!(
        err.contains("tenant 'green' needs 0.60 engines: 0 whole and a slice of 0.60, but no engine has 0.60 free once the larger \
                      remainders are placed (the most is 0.40 on cpu 2, 0.60 on all engines together"),
        "{err}"
    );
}
