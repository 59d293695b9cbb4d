//! `vdpctl completions SHELL` and `vdpctl man DIR`: shell completion scripts and manual pages,
//! both made from the command line's own definition, so they follow every command and flag.

use crate::Cli;
use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to complete for. Bash: `vdpctl completions bash > /etc/bash_completion.d/vdpctl`;
    /// zsh: into a directory of $fpath as `_vdpctl`; fish: `~/.config/fish/completions/vdpctl.fish`.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Args)]
pub struct ManArgs {
    /// The directory to write the pages into (created if missing), e.g. /usr/local/share/man/man1.
    dir: PathBuf,
}

pub fn run_completions(args: &CompletionsArgs) -> Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut Cli::command(), "vdpctl", &mut stdout);
    Ok(ExitCode::SUCCESS)
}

pub fn run_man(args: &ManArgs) -> Result<ExitCode> {
    std::fs::create_dir_all(&args.dir).with_context(|| format!("cannot create {}", args.dir.display()))?;
    let pages = write_pages(&args.dir)?;
    println!("wrote {} manual pages into {}", pages.len(), args.dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Writes one page per command that help lists (hidden test commands have none): `vdpctl.1`,
/// `vdpctl-tenant.1`, `vdpctl-tenant-add.1`, ...; returns their paths.
pub fn write_pages(dir: &Path) -> Result<Vec<PathBuf>> {
    fn walk(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
        let page = clap_mangen::Man::new(cmd.clone()).manual("vdp");
        let path = dir.join(page.get_filename());
        let mut text = Vec::new();
        page.render(&mut text)?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, dir, written)?;
        }
        Ok(())
    }
    // Built first, so that every subcommand carries the global flags and its full name.
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    walk(&cmd, dir, &mut written)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::{listing, scratch};

    /// `vdpctl ARGS...`, parsed as the binary parses them.
    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        use clap::Parser;
        Cli::try_parse_from(std::iter::once("vdpctl").chain(args.iter().copied()))
    }

    /// Every argument and every command, the hidden ones too, says what it is for; clap's own
    /// help and version are left out.
    #[test]
    fn every_argument_and_command_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                let name = format!("{path} {}", sub.get_name());
                if sub.get_name() == "help" {
                    continue;
                }
                if sub.get_about().is_none() && sub.get_long_about().is_none() {
                    missing.push(name.clone());
                }
                walk(sub, &name, missing);
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut missing = Vec::new();
        walk(&cmd, "vdpctl", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:#?}");
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn output_flags_go_before_or_after_the_command() {
        for words in [&["-j", "tenant", "show"][..], &["tenant", "show", "-j"], &["tenant", "-j", "show"], &["--json", "tenant", "show"]] {
            let cli = parse(words).unwrap_or_else(|e| panic!("{words:?}: {e}"));
            assert!(cli.output.json && !cli.output.pretty && !cli.output.stats, "{words:?}");
        }
        let cli = parse(&["-jps", "stats"]).unwrap();
        assert!(cli.output.json && cli.output.pretty && cli.output.stats);
        let cli = parse(&["stats", "--tenant", "red", "-s", "--pretty"]).unwrap();
        assert!(!cli.output.json && cli.output.pretty && cli.output.stats);
        // The older per-command spellings, as the scenarios write them.
        for words in [
            &["tenant", "show", "--id", "1", "--json"][..],
            &["stats", "--tenant", "1", "--json"],
            &["info", "--json"],
            &["show", "--tenant", "red", "--json"],
            &["check", "a.click", "--json"],
            &["fpga", "synth", "design", "--json"],
            &["monitor", "--count", "2", "--json"],
        ] {
            let cli = parse(words).unwrap_or_else(|e| panic!("{words:?}: {e}"));
            assert!(cli.output.json, "{words:?}");
        }
        // A picture has no JSON form and no statistics.
        assert!(parse(&["show", "--dot", "-j"]).is_err());
        assert!(parse(&["show", "--dot", "-s"]).is_err());
        assert!(parse(&["pretty", "a.click", "--dot", "-j"]).is_err());
    }

    #[test]
    fn old_verbs_are_aliases_of_the_iproute2_ones() {
        let pairs: &[(&[&str], &[&str])] = &[
            (&["graph", "install", "--tenant", "1", "g.vdpg"], &["graph", "set", "--tenant", "1", "g.vdpg"]),
            (&["graph", "remove", "--tenant", "1"], &["graph", "del", "--tenant", "1"]),
            (&["graph", "get", "--tenant", "red"], &["graph", "show", "--tenant", "red"]),
            (&["sched", "get", "--tenant", "1"], &["sched", "show", "--tenant", "1"]),
            (&["port", "attach", "eth0"], &["port", "add", "eth0"]),
            (&["port", "detach", "eth0"], &["port", "del", "eth0"]),
            (&["port", "list"], &["port", "show"]),
            (&["tenant", "list"], &["tenant", "show"]),
            (&["vdev", "list", "--tenant", "1"], &["vdev", "show", "--tenant", "1"]),
            (&["engine", "status"], &["engine", "show"]),
        ];
        for (old, new) in pairs {
            let (old, new) = (parse(old).unwrap_or_else(|e| panic!("{old:?}: {e}")), parse(new).unwrap());
            assert_eq!(std::mem::discriminant(&old.command), std::mem::discriminant(&new.command));
        }
    }

    #[test]
    fn tenants_are_named_by_id_or_name() {
        use crate::tenant_ref::TenantRef;
        for words in [&["tenant", "del", "red"][..], &["tenant", "del", "--id", "red"]] {
            let crate::Command::Tenant(crate::tenant::TenantCommand::Del { tenant }) = parse(words).unwrap().command else { panic!("{words:?}") };
            assert_eq!(tenant.get().unwrap(), &TenantRef::Name("red".into()));
        }
        let crate::Command::Tenant(crate::tenant::TenantCommand::Show { tenant }) = parse(&["tenant", "show", "--id", "7"]).unwrap().command else { panic!() };
        assert_eq!(tenant.get(), Some(&TenantRef::Id(7)));
        assert!(parse(&["tenant", "del"]).is_err(), "del names its tenant");
        assert!(parse(&["tenant", "del", "1", "--id", "2"]).is_err(), "one tenant, one way");
        let err = parse(&["graph", "del", "--tenant", "Red"]).err().unwrap().to_string();
        assert!(err.contains("neither a tenant id"), "{err}");
        for words in [
            &["sched", "set", "--tenant", "red", "--threads", "2"][..],
            &["handler", "read", "--tenant", "red", "red/c.count"],
            &["vdev", "del", "--tenant", "red", "eth1"],
            &["stats", "--tenant", "red"],
            &["read", "--tenant", "2", "c.count"],
            &["engine", "start", "--tenant", "2"],
        ] {
            parse(words).unwrap_or_else(|e| panic!("{words:?}: {e}"));
        }
    }

    #[test]
    fn bash_completions_name_the_commands() {
        let mut script = Vec::new();
        clap_complete::generate(clap_complete::Shell::Bash, &mut Cli::command(), "vdpctl", &mut script);
        let script = String::from_utf8(script).unwrap();
        let mut cmd = Cli::command();
        cmd.build();
        let mut names = 0;
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
            assert!(script.contains(&format!(" {} ", sub.get_name())) || script.contains(&format!(" {}\n", sub.get_name())), "bash completion lacks {}", sub.get_name());
            names += 1;
        }
        assert!(names > 20, "{names} commands");
        // The nested verbs and the global flags too.
        for word in ["vdpctl__subcmd__tenant,add", "vdpctl__subcmd__graph,set", "vdpctl__subcmd__graph,install", "--json", "--pretty", "--stats"] {
            assert!(script.contains(word), "bash completion lacks {word}");
        }
        for shell in [clap_complete::Shell::Zsh, clap_complete::Shell::Fish] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "vdpctl", &mut script);
            let script = String::from_utf8(script).unwrap();
            assert!(script.contains("tenant") && script.contains("sched"), "{shell} completion");
        }
    }

    /// Text as a terminal shows it: man marks bold and underlined letters with backspaces.
    fn without_overstrike(text: &str) -> String {
        let mut plain = String::new();
        for c in text.chars() {
            if c == '\u{8}' {
                plain.pop();
            } else {
                plain.push(c);
            }
        }
        plain
    }

    #[test]
    fn one_manual_page_per_command() {
        let dir = scratch("man");
        let pages = write_pages(&dir).unwrap();
        let names = listing(&dir);
        assert_eq!(names.len(), pages.len());
        for want in ["vdpctl.1", "vdpctl-tenant.1", "vdpctl-tenant-add.1", "vdpctl-graph-set.1", "vdpctl-completions.1", "vdpctl-man.1"] {
            assert!(names.iter().any(|n| n == want), "no {want} in {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("debug") || n.contains("channel-test") || n.contains("-help")), "{names:?}");
        let man = std::process::Command::new("man").arg("--version").output().is_ok_and(|o| o.status.success());
        for path in &pages {
            let text = std::fs::read_to_string(path).unwrap();
            let title = path.file_stem().unwrap().to_string_lossy().into_owned();
            // The roff structure a man page needs: its title line, then NAME and SYNOPSIS.
            let th = text.lines().find(|l| l.starts_with(".TH ")).unwrap_or_else(|| panic!("{title}: no .TH"));
            assert!(th.starts_with(&format!(".TH {title} 1 ")), "{title}: {th}");
            let sections: Vec<&str> = text.lines().filter(|l| l.starts_with(".SH ")).collect();
            assert_eq!(sections.get(..2), Some(&[".SH NAME", ".SH SYNOPSIS"][..]), "{title}: {sections:?}");
            assert!(sections.contains(&".SH DESCRIPTION"), "{title}: {sections:?}");
            let name_line = text.lines().skip_while(|l| *l != ".SH NAME").nth(1).unwrap_or("");
            assert!(name_line.starts_with(&format!("{} \\- ", title.replace('-', "\\-"))), "{title}: NAME is {name_line:?}");
            // Every page names the global output flags.
            assert!(text.contains("\\-\\-json") && text.contains("\\-\\-pretty"), "{title}: no global flags");
            if man {
                let out = std::process::Command::new("man").args(["-l", "-Tutf8"]).arg(path).env("MANWIDTH", "100").output().unwrap();
                assert!(out.status.success(), "{title}: man -l: {}", String::from_utf8_lossy(&out.stderr));
                let rendered = without_overstrike(&String::from_utf8_lossy(&out.stdout));
                assert!(rendered.contains("NAME") && rendered.contains("SYNOPSIS"), "{title}: {rendered}");
                let warnings = String::from_utf8_lossy(&out.stderr);
                assert!(warnings.trim().is_empty(), "{title}: {warnings}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
