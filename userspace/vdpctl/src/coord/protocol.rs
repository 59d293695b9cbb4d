//! The coordinator's socket protocol: one JSON object per line, one request then one response
//! per connection. `docs/coordinator.md` is the reference.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

/// Bumped whenever a request or response changes incompatibly.
pub const PROTOCOL_VERSION: u32 = 1;

/// A request line may hold a whole configuration; anything longer is not one.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The default place of the coordinator's socket; containers get it by bind mount.
pub const DEFAULT_SOCKET: &str = "/run/vdp/vdpd.sock";

/// The default state file: every tenant's current configuration.
pub const DEFAULT_STATE: &str = "/var/lib/vdp/state.json";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Request {
    pub version: u32,
    /// Only the root context may name a tenant; a tenant caller may name only itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(flatten)]
    pub op: Op,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Op {
    /// Check, compile and install a configuration, replacing the tenant's current one.
    /// `classes` are the declarations of the tenant's own element classes, as its container
    /// engine describes them (`ENGINE describe`); they run only in that engine.
    Install {
        file_name: String,
        source: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        classes: Vec<vdp_click::decl::ClassDecl>,
    },
    /// Bind a fresh channel to the tenant's kernel part and hand it over (the response carries
    /// the file with `SCM_RIGHTS`), with the container part to run on it.
    Attach,
    /// Remove the tenant's graph and forget its configuration.
    Remove,
    /// The installed configuration, its tasks and their threads; with `graph`, also the
    /// installed graph as a picture's view (`vdpctl show --dot`).
    Show {
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        graph: bool,
    },
    /// Read a handler; `handler` may carry a parameter after a space (`lookup 10.0.0.1`).
    Read { element: String, handler: String },
    Write { element: String, handler: String, value: Option<String> },
    /// The tenant's counters from the module's STATS dump, with its transmit caps and its
    /// devices' counters.
    Stats,
    /// Change a transmit cap: always refused. The caps are the root context's, set from the
    /// system config (`bandwidth_cap`, `aggregate_bandwidth_cap`); a tenant may read them
    /// (`stats`) and never change them.
    ShapeSet {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<String>,
        rate: String,
    },
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Install { .. } => "install",
            Op::Attach => "attach",
            Op::Remove => "remove",
            Op::Show { .. } => "show",
            Op::Read { .. } => "read",
            Op::Write { .. } => "write",
            Op::Stats => "stats",
            Op::ShapeSet { .. } => "shape-set",
        }
    }
}

/// How a request ended; each maps to one exit code of the client.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ok,
    /// The caller may not do this: the message names the rule.
    Refused,
    /// The configuration or the request's arguments are wrong.
    Invalid,
    /// The module refused the change; nothing changed.
    Failed,
    /// The module is not loaded.
    Unavailable,
    /// The request could not be read or speaks another protocol version.
    BadRequest,
}

impl Status {
    /// The client's exit code: 0 ok, 1 refused or invalid, 3 the module or daemon unreachable.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Refused | Status::Invalid | Status::Failed | Status::BadRequest => 1,
            Status::Unavailable => 3,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Response {
    pub version: u32,
    pub status: Status,
    /// Why, when the status is not `ok`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Check warnings and the like, rendered for people.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub result: serde_json::Value,
}

impl Response {
    pub fn ok(result: serde_json::Value, warnings: Vec<String>) -> Response {
        Response { version: PROTOCOL_VERSION, status: Status::Ok, message: String::new(), warnings, result }
    }

    pub fn error(status: Status, message: impl Into<String>) -> Response {
        Response { version: PROTOCOL_VERSION, status, message: message.into(), warnings: Vec::new(), result: serde_json::Value::Null }
    }
}

/// Reads one line of at most [`MAX_LINE_BYTES`]; `Ok(None)` when the peer closed without one.
pub fn read_line<R: BufRead>(reader: R) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let mut limited = reader.take(MAX_LINE_BYTES as u64 + 1);
    limited.read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        let why = if line.len() > MAX_LINE_BYTES { "is longer than 1 MiB" } else { "ends without a newline" };
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("the line {why}")));
    }
    line.pop();
    String::from_utf8(line).map(Some).map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "the line is not UTF-8"))
}

/// Writes `value` as one JSON line.
pub fn write_line<W: Write, T: Serialize>(mut writer: W, value: &T) -> std::io::Result<()> {
    let mut text = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    text.push(b'\n');
    writer.write_all(&text)?;
    writer.flush()
}

/// Decodes a request line; the error is the response to send back.
pub fn decode_request(line: &str) -> Result<Request, Response> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| Response::error(Status::BadRequest, format!("the request is not JSON: {e}")))?;
    // The version is looked at first, so a newer client gets told so rather than a parse error.
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(PROTOCOL_VERSION) => {}
        Some(v) => {
            return Err(Response::error(
                Status::BadRequest,
                format!("protocol version {v} is not supported: this coordinator speaks version {PROTOCOL_VERSION}"),
            ))
        }
        None => return Err(Response::error(Status::BadRequest, "the request has no protocol version")),
    }
    serde_json::from_value(value).map_err(|e| Response::error(Status::BadRequest, format!("malformed request: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_as_one_line() {
        let request = Request {
            version: PROTOCOL_VERSION,
            tenant: None,
            op: Op::Install { file_name: "a.click".into(), source: "a :: Counter;\n// done\n".into(), classes: Vec::new() },
        };
        let mut buf = Vec::new();
        write_line(&mut buf, &request).unwrap();
        assert_eq!(buf.iter().filter(|b| **b == b'\n').count(), 1);
        let line = read_line(&buf[..]).unwrap().unwrap();
        assert!(line.contains(r#""op":"install""#), "{line}");
        assert_eq!(decode_request(&line).unwrap(), request);
    }

    #[test]
    fn unit_ops_and_the_tenant_field_are_encoded_plainly() {
        let request = Request { version: 1, tenant: Some("red".into()), op: Op::Remove };
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(text, r#"{"version":1,"tenant":"red","op":"remove"}"#);
        // A plain show is what it always was; the graph is asked for.
        let show = Request { version: 1, tenant: None, op: Op::Show { graph: false } };
        assert_eq!(serde_json::to_string(&show).unwrap(), r#"{"version":1,"op":"show"}"#);
        assert_eq!(decode_request(r#"{"version":1,"op":"show"}"#).unwrap(), show);
        assert_eq!(decode_request(r#"{"version":1,"op":"show","graph":true}"#).unwrap().op, Op::Show { graph: true });
        let write = decode_request(r#"{"version":1,"op":"write","element":"c","handler":"reset","value":null}"#).unwrap();
        assert_eq!(write.op, Op::Write { element: "c".into(), handler: "reset".into(), value: None });
    }

    #[test]
    fn other_versions_and_garbage_are_bad_requests() {
        let err = decode_request(r#"{"version":2,"op":"show"}"#).unwrap_err();
        assert_eq!(err.status, Status::BadRequest);
        assert!(err.message.contains("version 2 is not supported"), "{}", err.message);
        assert!(decode_request(r#"{"op":"show"}"#).unwrap_err().message.contains("no protocol version"));
        assert!(decode_request("show").unwrap_err().message.contains("not JSON"));
        assert!(decode_request(r#"{"version":1,"op":"reboot"}"#).unwrap_err().message.contains("malformed"));
    }

    #[test]
    fn overlong_or_unterminated_lines_are_refused() {
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        assert!(read_line(&long[..]).unwrap_err().to_string().contains("longer than 1 MiB"));
        assert!(read_line(&b"{}"[..]).unwrap_err().to_string().contains("without a newline"));
        assert_eq!(read_line(&b""[..]).unwrap(), None);
    }

    #[test]
    fn responses_carry_status_and_exit_codes() {
        let response = Response::error(Status::Refused, "rule: own tenant only");
        let text = serde_json::to_string(&response).unwrap();
        assert_eq!(text, r#"{"version":1,"status":"refused","message":"rule: own tenant only"}"#);
        let back: Response = serde_json::from_str(&text).unwrap();
        assert_eq!(back, response);
        assert_eq!(Status::Ok.exit_code(), 0);
        assert_eq!(Status::Refused.exit_code(), 1);
        assert_eq!(Status::Unavailable.exit_code(), 3);
    }
}
