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
