//! `--input` and `--output` against the graph's devices: which file feeds or takes which
//! device, refused when it does not fit the graph.

use super::prepare::Device;
use crate::frontend::name_and_file;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// A device and its capture file.
#[derive(Debug, PartialEq, Eq)]
pub struct Binding {
    /// Index into the graph's devices.
    pub device: usize,
    pub file: PathBuf,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Bindings {
    /// In the order given, which is also the order records of the same time are delivered in.
    pub inputs: Vec<Binding>,
    /// One for each device the graph transmits on, in the order given.
    pub outputs: Vec<Binding>,
}

#[derive(Clone, Copy)]
enum Side {
    Input,
    Output,
}

impl Side {
    fn option(self) -> &'static str {
        match self {
            Side::Input => "--input",
            Side::Output => "--output",
        }
    }
    fn verb(self) -> &'static str {
        match self {
            Side::Input => "receives",
            Side::Output => "transmits",
        }
    }
    fn element(self) -> &'static str {
        match self {
            Side::Input => "FromDevice",
            Side::Output => "ToDevice",
        }
    }
    fn uses(self, device: &Device) -> bool {
        match self {
            Side::Input => device.receives,
            Side::Output => device.transmits,
        }
    }
}

fn names<'a>(devices: impl Iterator<Item = &'a Device>) -> String {
    devices.map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// Binds each `[DEV=]FILE` of one side to a device the graph uses on that side.
fn bind_side(specs: &[String], devices: &[Device], side: Side) -> Result<Vec<Binding>> {
    let option = side.option();
    let used: Vec<usize> = (0..devices.len()).filter(|&i| side.uses(&devices[i])).collect();
    let used_names = names(used.iter().map(|&i| &devices[i]));
    let mut bindings: Vec<Binding> = Vec::new();
    for spec in specs {
        let (name, file) = name_and_file(spec);
        if file.is_empty() {
            bail!("{option} {spec}: no file is named");
        }
        let device = match name {
            None => match used.as_slice() {
                [only] => *only,
                [] => bail!("{option} {file}: the graph {} on no device (it has no {})", side.verb(), side.element()),
                _ => bail!(
                    "{option} {file}: the graph {} on {} devices ({used_names}); write {option} DEV={file} for each",
                    side.verb(),
                    used.len()
                ),
            },
            Some(name) => match devices.iter().position(|d| d.name == name) {
                Some(i) if side.uses(&devices[i]) => i,
                Some(_) => bail!(
                    "{option} {spec}: the graph does not {} on {name} (it has no {}({name})); it {} on: {}",
                    side.verb().trim_end_matches('s'),
                    side.element(),
                    side.verb(),
                    if used.is_empty() { "no device" } else { &used_names }
                ),
                None => bail!(
                    "{option} {spec}: the graph uses no device {name}; it {} on: {}",
                    side.verb(),
                    if used.is_empty() { "no device" } else { &used_names }
                ),
            },
        };
        if let Some(earlier) = bindings.iter().find(|b| b.device == device) {
            bail!("{option}: device {} is given twice ({} and {file})", devices[device].name, earlier.file.display());
        }
        bindings.push(Binding { device, file: PathBuf::from(file) });
    }
    Ok(bindings)
}

/// The path's directory made absolute, with the file name: two spellings of one path compare
/// equal. A path whose directory does not exist stays as written (creating it fails later).
fn identity(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match (std::fs::canonicalize(dir), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// Binds `--input` and `--output` to the graph's devices. Refused: a file for a device the graph
/// does not use on that side, a device given twice, an unnamed file where the graph has more or
/// fewer than one device on that side, a device the graph transmits on without an output, and
/// an output that is another output or an input.
pub fn bind(inputs: &[String], outputs: &[String], devices: &[Device]) -> Result<Bindings> {
    let inputs = bind_side(inputs, devices, Side::Input)?;
    let outputs = bind_side(outputs, devices, Side::Output)?;
    let missing: Vec<&Device> = devices.iter().enumerate().filter(|(i, d)| d.transmits && !outputs.iter().any(|b| b.device == *i)).map(|(_, d)| d).collect();
    if !missing.is_empty() {
        let (list, them) = (names(missing.iter().copied()), if missing.len() == 1 { "it" } else { "each" });
        bail!("the graph transmits on {list}, but no --output names {}: add --output DEV=FILE for {them}", if missing.len() == 1 { "it" } else { "them" });
    }
    for (index, output) in outputs.iter().enumerate() {
        let path = identity(&output.file);
        if let Some(other) = outputs[..index].iter().find(|o| identity(&o.file) == path) {
            bail!("--output: {} and {} would both write {}", devices[other.device].name, devices[output.device].name, output.file.display());
        }
        if let Some(input) = inputs.iter().find(|i| identity(&i.file) == path) {
            bail!("--output {}={}: that is the input of {}; write the output elsewhere", devices[output.device].name, output.file.display(), devices[input.device].name);
        }
    }
    Ok(Bindings { inputs, outputs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::dataplane::Carries;

    fn device(name: &str, receives: bool, transmits: bool) -> Device {
        Device { name: name.to_string(), carries: Carries::Ethernet, receives, transmits }
    }

    /// eth1 receives and transmits, eth2 only transmits, eth3 only receives.
    fn router() -> Vec<Device> {
        vec![device("eth1", true, true), device("eth2", false, true), device("eth3", true, false)]
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn refused(inputs: &[&str], outputs: &[&str], devices: &[Device]) -> String {
        bind(&strings(inputs), &strings(outputs), devices).unwrap_err().to_string()
    }

    #[test]
    fn unnamed_files_bind_to_the_only_device_of_their_side() {
        let devices = vec![device("eth1", true, false), device("eth2", false, true)];
        let bound = bind(&strings(&["in.pcap"]), &strings(&["out.pcap"]), &devices).unwrap();
        assert_eq!(bound.inputs, [Binding { device: 0, file: "in.pcap".into() }]);
        assert_eq!(bound.outputs, [Binding { device: 1, file: "out.pcap".into() }]);
        // No input at all is allowed: nothing arrives.
        assert!(bind(&[], &strings(&["eth2=out.pcap"]), &devices).unwrap().inputs.is_empty());
        // A path whose part before the '=' holds a '/' is a file, not DEV=FILE.
        let bound = bind(&strings(&["./a=b.pcap"]), &strings(&["out.pcap"]), &devices).unwrap();
        assert_eq!(bound.inputs[0].file, PathBuf::from("./a=b.pcap"));
    }

    #[test]
    fn named_files_bind_in_the_order_given() {
        let bound = bind(&strings(&["eth3=b.pcap", "eth1=a.pcap"]), &strings(&["eth2=y.pcap", "eth1=x.pcap"]), &router()).unwrap();
        assert_eq!(bound.inputs, [Binding { device: 2, file: "b.pcap".into() }, Binding { device: 0, file: "a.pcap".into() }]);
        assert_eq!(bound.outputs, [Binding { device: 1, file: "y.pcap".into() }, Binding { device: 0, file: "x.pcap".into() }]);
    }

    #[test]
    fn an_unnamed_file_needs_exactly_one_device() {
        let outputs = ["eth1=x.pcap", "eth2=y.pcap"];
        assert_eq!(
            refused(&["in.pcap"], &outputs, &router()),
            "--input in.pcap: the graph receives on 2 devices (eth1, eth3); write --input DEV=in.pcap for each"
        );
        assert_eq!(
            refused(&["eth1=in.pcap"], &["out.pcap"], &router()),
            "--output out.pcap: the graph transmits on 2 devices (eth1, eth2); write --output DEV=out.pcap for each"
        );
        let sink = vec![device("eth1", false, true)];
        assert_eq!(refused(&["in.pcap"], &["out.pcap"], &sink), "--input in.pcap: the graph receives on no device (it has no FromDevice)");
        let source = vec![device("eth1", true, false)];
        assert_eq!(refused(&[], &["out.pcap"], &source), "--output out.pcap: the graph transmits on no device (it has no ToDevice)");
    }

    #[test]
    fn a_device_the_graph_does_not_use_there_is_refused() {
        let outputs = ["eth1=x.pcap", "eth2=y.pcap"];
        assert_eq!(
            refused(&["eth2=in.pcap"], &outputs, &router()),
            "--input eth2=in.pcap: the graph does not receive on eth2 (it has no FromDevice(eth2)); it receives on: eth1, eth3"
        );
        assert_eq!(refused(&["eth9=in.pcap"], &outputs, &router()), "--input eth9=in.pcap: the graph uses no device eth9; it receives on: eth1, eth3");
        assert_eq!(
            refused(&[], &["eth1=x.pcap", "eth3=y.pcap"], &router()),
            "--output eth3=y.pcap: the graph does not transmit on eth3 (it has no ToDevice(eth3)); it transmits on: eth1, eth2"
        );
        assert_eq!(refused(&["eth1="], &outputs, &router()), "--input eth1=: no file is named");
    }

    #[test]
    fn a_device_given_twice_is_refused() {
        let outputs = ["eth1=x.pcap", "eth2=y.pcap"];
        assert_eq!(refused(&["eth1=a.pcap", "eth1=b.pcap"], &outputs, &router()), "--input: device eth1 is given twice (a.pcap and b.pcap)");
        let single = vec![device("eth1", true, true)];
        assert_eq!(refused(&["a.pcap", "eth1=b.pcap"], &["x.pcap"], &single), "--input: device eth1 is given twice (a.pcap and b.pcap)");
        assert_eq!(refused(&[], &["x.pcap", "y.pcap"], &single), "--output: device eth1 is given twice (x.pcap and y.pcap)");
    }

    #[test]
    fn every_transmitting_device_needs_an_output() {
        assert_eq!(
            refused(&["eth1=a.pcap"], &[], &router()),
            "the graph transmits on eth1, eth2, but no --output names them: add --output DEV=FILE for each"
        );
        assert_eq!(refused(&[], &["eth1=x.pcap"], &router()), "the graph transmits on eth2, but no --output names it: add --output DEV=FILE for it");
    }

    #[test]
    fn an_output_may_not_be_another_output_or_an_input() {
        assert_eq!(refused(&[], &["eth1=x.pcap", "eth2=./x.pcap"], &router()), "--output: eth1 and eth2 would both write ./x.pcap");
        assert_eq!(
            refused(&["eth3=a.pcap"], &["eth1=x.pcap", "eth2=a.pcap"], &router()),
            "--output eth2=a.pcap: that is the input of eth3; write the output elsewhere"
        );
    }
}
