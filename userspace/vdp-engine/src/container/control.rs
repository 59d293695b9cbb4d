//! The handler socket (`run --control PATH`): reads and writes of the container part's handlers
//! over a unix stream socket in the container, so that tools inside it reach the elements.
//!
//! # Protocol
//!
//! Each request is one line, each reply one line, possibly followed by a body:
//!
//! ```text
//! read ELEMENT HANDLER\n            -> ok LEN\n<LEN bytes of the value>
//! write ELEMENT HANDLER LEN\n<LEN bytes of the value>
//!                                   -> ok 0\n
//! (anything refused)                -> error TEXT\n
//! ```
//!
//! ELEMENT is the element's full name (`TENANT/NAME`, as `vdpctl engine read` sends it), HANDLER its handler's. Requests on one
//! connection are answered in order. A request line longer than [`MAX_LINE`], a value longer
//! than [`MAX_HANDLER_TEXT`], or an unknown verb gets an error and the connection is closed.
//! The engine serves the socket between passes on its one thread, without blocking: at most
//! [`MAX_CLIENTS`] connections at once, each with bounded buffers. Writes act as the tenant's
//! (an element the coordinator owns refuses them).

use super::watchdog::Watch;
use crate::engine::Reply;
use crate::platform::User;
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use vdp_core::element::handler::MAX_HANDLER_TEXT;
use vdp_core::element::{Graph, HandlerError};

/// Longest request line.
pub const MAX_LINE: usize = 512;
/// Connections served at once; more wait in the listen backlog.
pub const MAX_CLIENTS: usize = 8;

struct Client {
    stream: UnixStream,
    input: Vec<u8>,
    output: Vec<u8>,
    /// Close once `output` is written.
    closing: bool,
}

/// The listening socket and its connections.
pub struct Control {
    listener: UnixListener,
    path: PathBuf,
    clients: Vec<Client>,
}

fn error_text(e: &HandlerError) -> String {
    match e {
        HandlerError::NoSuchElement => "no such element".to_string(),
        HandlerError::NoSuchHandler => "no such handler".to_string(),
        HandlerError::BadValue(what) => format!("bad value: {what}"),
        HandlerError::Refused(why) => format!("refused: {why}"),
        HandlerError::NoMemory => "out of memory".to_string(),
        HandlerError::RootOwned => "the element is the coordinator's: read-only for the tenant".to_string(),
    }
}

/// One request parsed from the front of `input`: what it asks and how many bytes it took.
enum Request<'a> {
    Read { element: &'a str, handler: &'a str },
    Write { element: &'a str, handler: &'a str, value: &'a [u8] },
}

enum Parsed<'a> {
    /// Not all of it has arrived.
    Incomplete,
    Done(Request<'a>, usize),
    /// The connection is answered with this error and closed.
    Bad(String),
}

fn parse(input: &[u8]) -> Parsed<'_> {
    let Some(end) = input.iter().position(|b| *b == b'\n') else {
        return if input.len() > MAX_LINE { Parsed::Bad(format!("request line longer than {MAX_LINE} bytes")) } else { Parsed::Incomplete };
    };
    if end > MAX_LINE {
        return Parsed::Bad(format!("request line longer than {MAX_LINE} bytes"));
    }
    let Ok(line) = std::str::from_utf8(&input[..end]) else { return Parsed::Bad("request line is not UTF-8".to_string()) };
    let words: Vec<&str> = line.split(' ').collect();
    match words[..] {
        ["read", element, handler] => Parsed::Done(Request::Read { element, handler }, end + 1),
        ["write", element, handler, len] => {
            let Ok(len) = len.parse::<usize>() else { return Parsed::Bad(format!("bad value length '{len}'")) };
            if len > MAX_HANDLER_TEXT {
                return Parsed::Bad(format!("value longer than {MAX_HANDLER_TEXT} bytes"));
            }
            match input.get(end + 1..end + 1 + len) {
                Some(value) => Parsed::Done(Request::Write { element, handler, value }, end + 1 + len),
                None => Parsed::Incomplete,
            }
        }
        _ => Parsed::Bad("expected 'read ELEMENT HANDLER' or 'write ELEMENT HANDLER LEN'".to_string()),
    }
}

impl Control {
    /// Listens on `path` (an old socket file there is replaced).
    pub fn bind(path: &Path) -> io::Result<Control> {
        if std::fs::symlink_metadata(path).is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type())) {
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        Ok(Control { listener, path: path.to_path_buf(), clients: Vec::new() })
    }

    /// Whether a handler client is connected (its requests or replies may be pending).
    pub fn has_clients(&self) -> bool {
        !self.clients.is_empty()
    }

    /// What the engine's wait should watch: the listener and every connection.
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        std::iter::once(self.listener.as_fd()).chain(self.clients.iter().map(|c| c.stream.as_fd())).collect()
    }

    /// Accepts, reads, answers and writes what it can without blocking.
    pub fn serve(&mut self, graph: &Graph<User>, watch: &Watch) {
        while self.clients.len() < MAX_CLIENTS {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_ok() {
                        self.clients.push(Client { stream, input: Vec::new(), output: Vec::new(), closing: false });
                    }
                }
                Err(_) => break,
            }
        }
        self.clients.retain_mut(|client| serve_client(client, graph, watch));
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Serves one connection; returns whether to keep it.
fn serve_client(client: &mut Client, graph: &Graph<User>, watch: &Watch) -> bool {
    let mut buffer = [0u8; 4096];
    // Read only while a request may still be incomplete, and never past one request's bound.
    while !client.closing && client.input.len() < MAX_LINE + MAX_HANDLER_TEXT + 1 {
        match client.stream.read(&mut buffer) {
            Ok(0) => {
                client.closing = true;
                break;
            }
            Ok(n) => client.input.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    loop {
        match parse(&client.input) {
            Parsed::Incomplete => break,
            Parsed::Bad(text) => {
                client.output.extend_from_slice(format!("error {text}\n").as_bytes());
                client.input.clear();
                client.closing = true;
                break;
            }
            Parsed::Done(request, used) => {
                let reply = answer(request, graph, watch);
                client.output.extend_from_slice(&reply);
                client.input.drain(..used);
            }
        }
    }
    while !client.output.is_empty() {
        match client.stream.write(&client.output) {
            Ok(0) => return false,
            Ok(n) => {
                client.output.drain(..n);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
    !client.closing
}

fn answer(request: Request<'_>, graph: &Graph<User>, watch: &Watch) -> Vec<u8> {
    let element = match &request {
        Request::Read { element, .. } | Request::Write { element, .. } => *element,
    };
    // A handler is element code: it runs under the time limit like a task.
    let index = graph.element_names().position(|name| name == element.as_bytes());
    watch.begin_handler(index);
    let result = match request {
        Request::Read { element, handler } => {
            let mut out = Reply(String::new());
            graph.read_handler(element.as_bytes(), handler, &mut out).map(|()| out.0)
        }
        Request::Write { element, handler, value } => match std::str::from_utf8(value) {
            Ok(value) => graph.write_handler(element.as_bytes(), handler, value, true).map(|()| String::new()),
            Err(_) => Err(HandlerError::BadValue("UTF-8 text")),
        },
    };
    watch.end();
    match result {
        Ok(value) => {
            let mut reply = format!("ok {}\n", value.len()).into_bytes();
            reply.extend_from_slice(value.as_bytes());
            reply
        }
        Err(e) => format!("error {}\n", error_text(&e)).into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_bad_ones_are_refused() {
        assert!(matches!(parse(b"read t/c count"), Parsed::Incomplete));
        assert!(matches!(parse(b"read t/c count\nread"), Parsed::Done(Request::Read { element: "t/c", handler: "count" }, 15)));
        assert!(matches!(parse(b"write t/c reset_counts 0\n"), Parsed::Done(Request::Write { value: b"", .. }, 25)));
        assert!(matches!(parse(b"write t/q capacity 3\n10"), Parsed::Incomplete));
        assert!(matches!(parse(b"write t/q capacity 3\n100\n"), Parsed::Done(Request::Write { value: b"100", .. }, 24)));
        assert!(matches!(parse(b"frob t/c\n"), Parsed::Bad(_)));
        assert!(matches!(parse(b"write t/c x 999999999\n"), Parsed::Bad(_)));
        assert!(matches!(parse(&[b'a'; MAX_LINE + 1]), Parsed::Bad(_)));
    }
}
