//! The global output flags every command takes, before or after its name, as iproute2's `ip`
//! does: `-j` (JSON), `-p` (indented JSON) and `-s` (statistics). Every command that prints JSON
//! prints it through [`Output::print_json`] or [`Output::json_text`], so `-p` means the same
//! everywhere.

use anyhow::{bail, Result};
use clap::Args;
use serde::Serialize;

#[derive(Args, Clone, Copy, Debug, Default, PartialEq)]
pub struct Output {
    /// Print JSON instead of text (compact, one answer a line, unless -p)
    ///
    /// A command whose text is only a confirmation then prints nothing (its exit status tells),
    /// as `ip -j` does; a command with no JSON form (daemon, run, engine, graph cycle, fpga but
    /// fpga synth, completions, man) refuses it.
    #[arg(short = 'j', long, global = true)]
    pub json: bool,
    /// Indent the JSON of -j. Without -j it is accepted and changes nothing.
    #[arg(short = 'p', long, global = true)]
    pub pretty: bool,
    /// Add statistics where a command has them (stats, tenant show, show)
    ///
    /// Elsewhere it is accepted and changes nothing.
    #[arg(short = 's', long, global = true)]
    pub stats: bool,
}

impl Output {
    /// `value` as JSON text: compact, or indented under -p.
    pub fn json_text<T: Serialize + ?Sized>(&self, value: &T) -> Result<String> {
        Ok(if self.pretty { serde_json::to_string_pretty(value)? } else { serde_json::to_string(value)? })
    }

    /// Prints `value` as JSON on a line of its own (lines of their own under -p).
    pub fn print_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        println!("{}", self.json_text(value)?);
        Ok(())
    }

    /// Prints a command's confirmation sentence; under -j nothing, as `ip -j` prints nothing for
    /// a change: the exit status says it was done.
    pub fn confirm(&self, text: impl std::fmt::Display) {
        if !self.json {
            println!("{text}");
        }
    }

    /// For a command with no JSON form: refuses -j, so that a script never reads text where it
    /// expects JSON.
    pub fn text_only(&self, command: &str) -> Result<()> {
        if self.json {
            bail!("`vdpctl {command}` has no JSON output; run it without -j/--json");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_indents_and_plain_does_not() {
        let value = serde_json::json!({ "id": 1, "pids": [2, 3] });
        let plain = Output { json: true, ..Output::default() };
        assert_eq!(plain.json_text(&value).unwrap(), r#"{"id":1,"pids":[2,3]}"#);
        let pretty = Output { json: true, pretty: true, ..Output::default() };
        assert_eq!(pretty.json_text(&value).unwrap(), "{\n  \"id\": 1,\n  \"pids\": [\n    2,\n    3\n  ]\n}");
    }

    #[test]
    fn text_only_commands_refuse_json() {
        assert!(Output::default().text_only("daemon").is_ok());
        let json = Output { json: true, ..Output::default() };
        let err = json.text_only("daemon").unwrap_err().to_string();
        assert!(err.contains("`vdpctl daemon` has no JSON output"), "{err}");
    }
}
