//! `vdpctl info` and the hidden protocol-testing commands.

use crate::attrs::{ClassAttr, VdpAttr};
use crate::netlink::{NlError, VdpMessage, VdpSocket};
use anyhow::{bail, Context, Result};
use crate::output::Output;
use clap::Subcommand;
use netlink_packet_core::{DefaultNla, Nla};
use serde::Serialize;
use std::process::ExitCode;
use vdp_core::uapi::cmd;

/// What `GET_INFO` reports.
#[derive(Debug, Serialize, PartialEq)]
pub struct Info {
    pub version: String,
    pub tenants: u32,
    pub classes: Vec<ClassInfo>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ClassInfo {
    pub id: u32,
    pub name: String,
}

pub fn run(out: &Output) -> Result<ExitCode> {
    let mut socket = VdpSocket::connect()?;
    let replies = socket.request(cmd::GET_INFO, Vec::new())?;
    let reply = replies
        .first()
        .context("the kernel sent no reply to GET_INFO")?;
    let info = decode_info(reply)?;
    if out.json {
        out.print_json(&info)?;
    } else {
        print!("{}", render_info(&info));
    }
    Ok(ExitCode::SUCCESS)
}

fn render_info(info: &Info) -> String {
    let mut out = format!(
        "vdp module version {}\ntenants: {}\n",
        info.version, info.tenants
    );
    if info.classes.is_empty() {
        out.push_str("element classes: none implemented by this module\n");
    } else {
        let names: Vec<&str> = info.classes.iter().map(|c| c.name.as_str()).collect();
        out.push_str(&format!(
            "element classes ({}): {}\n",
            names.len(),
            names.join(" ")
        ));
    }
    out
}

fn decode_info(reply: &VdpMessage) -> Result<Info> {
    let mut version = None;
    let mut tenants = None;
    let mut classes = Vec::new();
    for a in &reply.attrs {
        match a {
            VdpAttr::Version(v) => version = Some(v.clone()),
            VdpAttr::TenantCount(n) => tenants = Some(*n),
            VdpAttr::Class(class) => {
                let (mut id, mut name) = (None, None);
                for inner in class {
                    match inner {
                        ClassAttr::Id(n) => id = Some(*n),
                        ClassAttr::Name(n) => name = Some(n.clone()),
                        ClassAttr::Unknown(_) => {}
                    }
                }
                match (id, name) {
                    (Some(id), Some(name)) => classes.push(ClassInfo { id, name }),
                    _ => bail!("a CLASS attribute lacks its id or name"),
                }
            }
            _ => {} // newer kernels may add attributes; ignore what we do not know
        }
    }
    Ok(Info {
        version: version.context("GET_INFO reply has no VERSION")?,
        tenants: tenants.context("GET_INFO reply has no TENANT_COUNT")?,
        classes,
    })
}

#[derive(Subcommand)]
pub enum DebugCommand {
    /// Send a raw vdp request and print the reply's attributes or the kernel's refusal.
    Raw {
        /// Command number.
        #[arg(long)]
        cmd: u8,
        /// Attribute as TYPE:HEXBYTES (repeatable), e.g. 99:01000000.
        #[arg(long = "attr", value_parser = parse_raw_attr)]
        attrs: Vec<(u16, Vec<u8>)>,
    },
}

fn parse_raw_attr(s: &str) -> Result<(u16, Vec<u8>), String> {
    let (kind, hex) = s.split_once(':').ok_or("expected TYPE:HEXBYTES")?;
    let kind: u16 = kind
        .parse()
        .map_err(|_| format!("bad attribute type `{kind}`"))?;
    if hex.len() % 2 != 0 {
        return Err("hex bytes must come in pairs".into());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| format!("bad hex `{hex}`")))
        .collect::<Result<Vec<u8>, String>>()?;
    Ok((kind, bytes))
}

pub fn run_debug(command: &DebugCommand, out: &Output) -> Result<ExitCode> {
    out.text_only("debug")?;
    match command {
        DebugCommand::Raw { cmd, attrs } => {
            let mut socket = VdpSocket::connect()?;
            // Sent exactly as given: the point is to show what the kernel makes of any bytes.
            let attrs = attrs
                .iter()
                .map(|(k, v)| VdpAttr::Unknown(DefaultNla::new(*k, v.clone())))
                .collect();
            for reply in socket.request(*cmd, attrs)? {
                for a in &reply.attrs {
                    println!("attr {} {}: {a:?}", a.kind(), a.name());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Exit status for a failed command: 3 when the module is not loaded, so scripts can tell.
pub fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    match err.downcast_ref::<NlError>() {
        Some(NlError::FamilyNotFound) => ExitCode::from(3),
        _ => ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vdp_core::uapi::{attr, class_attr};

    /// A reply as the kernel sends it, decoded the way replies are.
    fn reply(attrs: &[DefaultNla]) -> Result<VdpMessage> {
        Ok(VdpMessage { cmd: cmd::GET_INFO, attrs: VdpAttr::parse_all(&crate::attrs::to_bytes(attrs))? })
    }

    fn a(kind: u16, v: &[u8]) -> DefaultNla {
        DefaultNla::new(kind, v.to_vec())
    }

    #[test]
    fn decodes_a_full_info_reply() {
        let class = crate::attrs::to_bytes(&[a(class_attr::ID, &7u32.to_ne_bytes()), a(class_attr::NAME, b"Counter\0")]);
        let reply = reply(&[
            a(attr::VERSION, b"0.1.0\0"),
            a(attr::TENANT_COUNT, &2u32.to_ne_bytes()),
            a(attr::CLASS | netlink_packet_core::NLA_F_NESTED, &class),
            a(60, b"future attribute"),
        ])
        .expect("parse");
        let info = decode_info(&reply).expect("decode");
        assert_eq!(
            info,
            Info {
                version: "0.1.0".into(),
                tenants: 2,
                classes: vec![ClassInfo {
                    id: 7,
                    name: "Counter".into()
                }]
            }
        );
        assert_eq!(
            render_info(&info),
            "vdp module version 0.1.0\ntenants: 2\nelement classes (1): Counter\n"
        );
    }

    #[test]
    fn reply_without_version_is_an_error() {
        let reply = reply(&[a(attr::TENANT_COUNT, &[0; 4])]).expect("parse");
        assert!(decode_info(&reply)
            .unwrap_err()
            .to_string()
            .contains("VERSION"));
    }

    #[test]
    fn wrong_sized_u32_is_an_error() {
        let err = reply(&[a(attr::VERSION, b"x\0"), a(attr::TENANT_COUNT, &[1, 2])]).expect_err("a 2-byte u32");
        assert!(err.to_string().contains("vdp.tenant-count: 2 bytes, a u32 is 4"), "{err}");
    }

    #[test]
    fn raw_attr_argument_parses() {
        assert_eq!(parse_raw_attr("99:0a0b"), Ok((99, vec![0x0a, 0x0b])));
        assert!(parse_raw_attr("99").is_err());
        assert!(parse_raw_attr("x:00").is_err());
        assert!(parse_raw_attr("1:abc").is_err());
        assert!(parse_raw_attr("1:zz").is_err());
    }
}
