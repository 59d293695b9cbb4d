//! A raw generic netlink socket: the fuzzer writes every byte of its requests itself, so it can
//! lie in any header, and reads back only what it needs to classify the answer. The family id
//! comes from vdpctl's client (`VdpSocket`).

use std::io;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
pub const NLM_F_REQUEST: u16 = 1;
pub const NLM_F_ACK: u16 = 4;
pub const NLM_F_DUMP: u16 = 0x300;
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
pub const NLA_F_NESTED: u16 = 1 << 15;
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;

/// How the kernel answered one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// An ack with errno 0, or a dump that ended without error.
    Accepted,
    /// An error (positive errno).
    Errno(i32),
    /// Nothing came back: netlink drops messages whose header does not parse.
    Silent,
}

impl Outcome {
    pub fn label(self) -> String {
        match self {
            Outcome::Accepted => "accepted".into(),
            Outcome::Silent => "no answer".into(),
            Outcome::Errno(e) => errno_name(e).map_or_else(|| format!("errno {e}"), str::to_string),
        }
    }
}

pub fn errno_name(e: i32) -> Option<&'static str> {
    Some(match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::E2BIG => "E2BIG",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ENOBUFS => "ENOBUFS",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ELOOP => "ELOOP",
        libc::ENODATA => "ENODATA",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EALREADY => "EALREADY",
        libc::EBADMSG => "EBADMSG",
        libc::EOVERFLOW => "EOVERFLOW",
        _ => return None,
    })
}

/// Builds one netlink message body: attributes appended with their true lengths unless told
/// otherwise.
#[derive(Default, Clone)]
pub struct Body(pub Vec<u8>);

impl Body {
    pub fn attr(&mut self, kind: u16, value: &[u8]) {
        let len = 4 + value.len();
        self.attr_lying(kind, len as u16, value);
    }
    /// An attribute whose `nla_len` is `len` whatever its payload.
    pub fn attr_lying(&mut self, kind: u16, len: u16, value: &[u8]) {
        self.0.extend(len.to_ne_bytes());
        self.0.extend(kind.to_ne_bytes());
        self.0.extend(value);
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
    }
    pub fn u32(&mut self, kind: u16, v: u32) {
        self.attr(kind, &v.to_ne_bytes());
    }
    pub fn string(&mut self, kind: u16, s: &str) {
        let mut bytes = s.as_bytes().to_vec();
        bytes.push(0);
        self.attr(kind, &bytes);
    }
}

/// A whole message: netlink header, genetlink header, body.
pub fn message(family: u16, flags: u16, seq: u32, cmd: u8, version: u8, body: &[u8]) -> Vec<u8> {
    let len = 16 + 4 + body.len();
    let mut out = Vec::with_capacity(len);
    out.extend((len as u32).to_ne_bytes());
    out.extend(family.to_ne_bytes());
    out.extend(flags.to_ne_bytes());
    out.extend(seq.to_ne_bytes());
    out.extend(0u32.to_ne_bytes());
    out.extend([cmd, version, 0, 0]);
    out.extend(body);
    out
}

/// Reads of one answer after which it is cut off, far more than any dump the module's limits
/// allow takes.
const MAX_READS: u32 = 100_000;

pub struct RawSocket {
    fd: libc::c_int,
    buf: Vec<u8>,
    pub seq: u32,
    /// The extack message of the last refusal.
    pub extack: Option<String>,
}

impl RawSocket {
    pub fn open() -> io::Result<RawSocket> {
        // SAFETY: plain socket(2); the result is checked.
        let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_GENERIC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a zeroed sockaddr_nl is a valid "any port" address.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        let one: libc::c_int = 1;
        let big: libc::c_int = 4 << 20;
        // SAFETY: fd is ours; the pointers and sizes describe live locals.
        let ok = unsafe {
            libc::bind(fd, &addr as *const _ as *const libc::sockaddr, std::mem::size_of::<libc::sockaddr_nl>() as u32) == 0
                && libc::setsockopt(fd, libc::SOL_NETLINK, NETLINK_CAP_ACK, &one as *const _ as *const libc::c_void, 4) == 0
                && libc::setsockopt(fd, libc::SOL_NETLINK, NETLINK_EXT_ACK, &one as *const _ as *const libc::c_void, 4) == 0
                && libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &big as *const _ as *const libc::c_void, 4) == 0
        };
        if !ok {
            let err = io::Error::last_os_error();
            // SAFETY: fd is ours and closed once.
            unsafe { libc::close(fd) };
            return Err(err);
        }
        Ok(RawSocket { fd, buf: vec![0; 256 * 1024], seq: 0, extack: None })
    }

    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends `bytes` and reads everything the kernel queued in answer. Genetlink handles a
    /// request during the send, and a dump's next part during each receive, so reading until the
    /// socket is empty sees the whole answer. Returns the outcome for sequence number `seq` and
    /// the reply payloads (genetlink header onwards) carrying it; [`Self::extack`] then holds
    /// the refusal's extack message, if any.
    pub fn transact(&mut self, bytes: &[u8], seq: u32) -> io::Result<(Outcome, Vec<Vec<u8>>)> {
        self.extack = None;
        // SAFETY: fd is ours; the buffer is a live slice.
        let sent = unsafe { libc::send(self.fd, bytes.as_ptr() as *const libc::c_void, bytes.len(), 0) };
        if sent < 0 {
            let err = io::Error::last_os_error();
            // The kernel refuses some buffers at sendmsg (too short for a header, too big).
            return Ok((Outcome::Errno(err.raw_os_error().unwrap_or(0)), Vec::new()));
        }
        let mut outcome = Outcome::Silent;
        let mut replies = Vec::new();
        let mut reads = 0;
        loop {
            // SAFETY: fd is ours; the buffer is owned and its length passed.
            let n = unsafe { libc::recv(self.fd, self.buf.as_mut_ptr() as *mut libc::c_void, self.buf.len(), libc::MSG_DONTWAIT) };
            if n < 0 {
                let err = io::Error::last_os_error();
                match err.raw_os_error() {
                    Some(libc::EAGAIN) => break,
                    Some(libc::ENOBUFS) => continue,
                    Some(libc::EINTR) => continue,
                    _ => return Err(err),
                }
            }
            reads += 1;
            let data = &self.buf[..n as usize];
            let mut at = 0;
            let mut finished = false;
            while at + 16 <= data.len() {
                let len = u32::from_ne_bytes(data[at..at + 4].try_into().unwrap_or([0; 4])) as usize;
                let kind = u16::from_ne_bytes([data[at + 4], data[at + 5]]);
                let rflags = u16::from_ne_bytes([data[at + 6], data[at + 7]]);
                let rseq = u32::from_ne_bytes(data[at + 8..at + 12].try_into().unwrap_or([0; 4]));
                if len < 16 || at + len > data.len() {
                    break;
                }
                if rseq == seq {
                    let code = data.get(at + 16..at + 20).map(|b| i32::from_ne_bytes(b.try_into().unwrap_or([0; 4])));
                    match kind {
                        NLMSG_ERROR | NLMSG_DONE => {
                            if kind == NLMSG_ERROR && rflags & NLM_F_ACK_TLVS != 0 {
                                // Capped: errno, the request's 16-byte header, then the TLVs.
                                let tlvs = data.get(at + 16 + 4 + 16..at + len).unwrap_or(&[]);
                                let mut fake = vec![0u8; 4];
                                fake.extend(tlvs);
                                self.extack = reply_attrs(&fake)
                                    .into_iter()
                                    .find(|(k, _)| *k == NLMSGERR_ATTR_MSG)
                                    .map(|(_, v)| String::from_utf8_lossy(v).trim_end_matches('\0').to_string());
                            }
                            outcome = match code {
                                Some(0) | None => Outcome::Accepted,
                                Some(c) => Outcome::Errno(c.abs()),
                            };
                            finished = true;
                        }
                        _ => replies.push(data[at + 16..at + len].to_vec()),
                    }
                }
                at += (len + 3) & !3;
            }
            // Whatever else is queued (another message's answer in a multi-message buffer, the
            // rest of a dump) is read too. Each read of a dump makes the kernel fill the next
            // part, so a dump that never ends would keep this loop going for ever: that is a
            // kernel bug, reported as an error.
            if reads > MAX_READS {
                if finished {
                    break;
                }
                return Err(io::Error::other(format!(
                    "the answer to request {seq} did not end within {MAX_READS} reads (a dump that never finishes)"
                )));
            }
        }
        if outcome == Outcome::Silent && !replies.is_empty() {
            // A reply without an ack (a request sent without NLM_F_ACK).
            outcome = Outcome::Accepted;
        }
        Ok((outcome, replies))
    }
}

impl Drop for RawSocket {
    fn drop(&mut self) {
        // SAFETY: fd is ours and closed once.
        unsafe { libc::close(self.fd) };
    }
}

/// The attributes of one genetlink payload (starting at the genetlink header): (type, value).
pub fn reply_attrs(payload: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut at = 4;
    while at + 4 <= payload.len() {
        let len = usize::from(u16::from_ne_bytes([payload[at], payload[at + 1]]));
        let kind = u16::from_ne_bytes([payload[at + 2], payload[at + 3]]) & !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
        if len < 4 || at + len > payload.len() {
            break;
        }
        out.push((kind, &payload[at + 4..at + len]));
        at += (len + 3) & !3;
    }
    out
}
