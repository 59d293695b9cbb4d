//! One snapshot of the counters `vdpctl top` turns into rates, read where `vdpctl stats` reads
//! them: the module's STATS dump in the root network namespace (every tenant, or the one of
//! `--tenant`), or the coordinator's `stats` answer (the caller's own tenant; the root context
//! names one with `--tenant`) inside a container, or when `--socket` or `$VDP_SOCKET` is given.

use crate::coord::client;
use crate::coord::protocol::{Op, Status};
use crate::attrs::VdpAttr;
use crate::netlink::{NlError, VdpSocket};
use crate::stats::{decode_stats, StatsSource, TenantStats};
use crate::tenant_ref::TenantRef;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;
use vdp_core::uapi::cmd;

/// The counters of every tenant in view at one moment.
#[derive(Debug)]
pub struct Sample {
    /// When the counters were read: halfway through the request that read them.
    pub at: Instant,
    pub tenants: Vec<TenantStats>,
}

/// A failure that ends `top` with an exit code of its own (the coordinator's status, or 3 when
/// it cannot be reached), as the other coordinator commands end.
#[derive(Debug)]
pub struct Refused {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refused {}

pub enum Source {
    /// The module's STATS dump, for one tenant id or all.
    Module { socket: VdpSocket, only: Option<u32>, sampled: bool },
    /// The coordinator's `stats` answer.
    Coordinator { socket: Option<PathBuf>, tenant: Option<String> },
}

impl Source {
    /// The module where it can be reached (and no coordinator socket was asked for), else the
    /// coordinator: the choice `vdpctl stats` makes.
    pub fn open(socket: Option<&Path>, tenant: Option<&TenantRef>) -> Result<Source> {
        let mut module = match crate::stats::stats_source(socket)? {
            StatsSource::Module(module) => module,
            StatsSource::Coordinator => {
                let tenant = tenant.map(crate::tenant_ref::name_of).transpose()?;
                return Ok(Source::Coordinator { socket: socket.map(Path::to_path_buf), tenant });
            }
        };
        let only = tenant.map(|t| crate::tenant_ref::resolve(&mut module, t)).transpose()?;
        Ok(Source::Module { socket: module, only, sampled: false })
    }

    /// Where the counters come from, for the screen's title.
    pub fn describe(&self) -> String {
        match self {
            Source::Module { only: None, .. } => "the module, every tenant".into(),
            Source::Module { only: Some(id), .. } => format!("the module, tenant {id}"),
            Source::Coordinator { socket, tenant } => {
                let whose = tenant.as_ref().map_or("the caller's tenant".to_string(), |t| format!("tenant {t}"));
                format!("the coordinator at {}, {whose}", client::socket_path(socket.as_deref()).display())
            }
        }
    }

    pub fn sample(&mut self) -> Result<Sample> {
        let start = Instant::now();
        let tenants = match self {
            Source::Module { socket, only, sampled } => {
                let filter = only.iter().map(|id| VdpAttr::TenantId(*id)).collect();
                match socket.dump(cmd::STATS, filter) {
                    Ok(messages) => decode_stats(&messages)?,
                    // The tenant asked for went away after the first sample: nothing to show.
                    Err(NlError::Kernel { errno, .. }) if errno == libc::ENOENT && *sampled && only.is_some() => Vec::new(),
                    Err(e) => return Err(e.into()),
                }
            }
            Source::Coordinator { socket, tenant } => {
                let response = client::request(socket.as_deref(), tenant.clone(), Op::Stats)
                    .map_err(|e| Refused { code: client::EXIT_UNREACHABLE, message: e.to_string() })?;
                if response.status != Status::Ok {
                    return Err(Refused { code: response.status.exit_code(), message: response.message }.into());
                }
                let tenant: TenantStats = serde_json::from_value(response.result).context("the coordinator's stats answer is not understood")?;
                vec![tenant]
            }
        };
        let end = Instant::now();
        if let Source::Module { sampled, .. } = self {
            *sampled = true;
        }
        Ok(Sample { at: start + end.duration_since(start) / 2, tenants })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::protocol::{self, Response};
    use std::os::unix::net::UnixListener;

    /// A coordinator that answers each of `answers` to one connection, in turn.
    fn coordinator(answers: Vec<Response>) -> (PathBuf, std::thread::JoinHandle<Vec<String>>) {
        let path = crate::testdir::scratch("top-sample").join("vdpd.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let worker = std::thread::spawn(move || {
            let mut requests = Vec::new();
            for answer in answers {
                let (stream, _) = listener.accept().unwrap();
                requests.push(protocol::read_line(std::io::BufReader::new(&stream)).unwrap().unwrap());
                protocol::write_line(&stream, &answer).unwrap();
            }
            requests
        });
        (path, worker)
    }

    #[test]
    fn the_coordinators_answer_is_one_tenant_and_its_refusal_keeps_its_exit_code() {
        let red = serde_json::to_value(crate::top::rates::tests::tenant(1, "red", 40, 1000, 10)).unwrap();
        let answers = vec![Response::ok(red, Vec::new()), Response::error(Status::Refused, "refused (rule: ...): the caller is in no tenant")];
        let (path, worker) = coordinator(answers);
        let mut source = Source::Coordinator { socket: Some(path.clone()), tenant: None };
        assert!(source.describe().contains(&path.display().to_string()), "{}", source.describe());
        let sample = source.sample().unwrap();
        assert_eq!(sample.tenants, vec![crate::top::rates::tests::tenant(1, "red", 40, 1000, 10)]);
        let err = source.sample().unwrap_err();
        let refused = err.downcast_ref::<Refused>().expect("a refusal");
        assert_eq!(refused.code, 1);
        assert!(refused.message.contains("in no tenant"), "{}", refused.message);
        let requests = worker.join().unwrap();
        assert!(requests.iter().all(|r| r.contains(r#""op":"stats""#) && !r.contains("tenant")), "{requests:?}");
        // No coordinator there any more: exit code 3, as `vdpctl stats` has.
        let err = source.sample().unwrap_err();
        assert_eq!(err.downcast_ref::<Refused>().expect("unreachable").code, client::EXIT_UNREACHABLE);
    }
}
