//! A small synchronous generic netlink client for the `vdp` family.
//!
//! Requests are sent with `NLM_F_ACK` and extended acks enabled, so every kernel refusal comes
//! back with its extack message, which we show to the user instead of a bare errno.

use crate::attrs::VdpAttr;
use netlink_packet_core::{
    DecodeError, Emitable, NetlinkHeader, NetlinkMessage, NetlinkPayload, NlasIterator,
    ParseableParametrized, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::nlas::{GenlCtrlAttrs, McastGrpAttrs};
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};
use std::fmt;
use vdp_core::uapi;

/// A `vdp` family message: command plus top-level attributes, decoded (`crate::attrs`).
#[derive(Debug, Clone)]
pub struct VdpMessage {
    pub cmd: u8,
    pub attrs: Vec<VdpAttr>,
}

impl GenlFamily for VdpMessage {
    fn family_name() -> &'static str {
        uapi::FAMILY_NAME
    }
    fn command(&self) -> u8 {
        self.cmd
    }
    fn version(&self) -> u8 {
        uapi::FAMILY_VERSION
    }
}

impl Emitable for VdpMessage {
    fn buffer_len(&self) -> usize {
        self.attrs.as_slice().buffer_len()
    }
    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for VdpMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        Ok(VdpMessage {
            cmd: header.cmd,
            attrs: VdpAttr::parse_all(buf)?,
        })
    }
}

/// Why a request failed.
#[derive(Debug)]
pub enum NlError {
    /// The generic netlink family is not registered: vdp.ko is not loaded.
    FamilyNotFound,
    /// The kernel refused the request.
    Kernel { errno: i32, message: Option<String> },
    /// Socket-level failure.
    Io(std::io::Error),
    /// The kernel's answer could not be decoded.
    Decode(String),
}

impl fmt::Display for NlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NlError::FamilyNotFound => write!(
                f,
                "the generic netlink family `{}` was not found: the vdp module is not loaded \
                 (load it with `insmod vdp.ko`)",
                uapi::FAMILY_NAME
            ),
            NlError::Kernel { errno, message } => {
                let reason = std::io::Error::from_raw_os_error(*errno);
                let reason = reason.to_string();
                let reason = reason.split(" (os error").next().unwrap_or(&reason);
                match message {
                    Some(m) => write!(f, "the kernel refused the request: {m} ({reason})"),
                    None => write!(f, "the kernel refused the request: {reason}"),
                }
            }
            NlError::Io(e) => write!(f, "netlink socket error: {e}"),
            NlError::Decode(e) => write!(f, "cannot decode the kernel's reply: {e}"),
        }
    }
}

impl std::error::Error for NlError {}

impl From<std::io::Error> for NlError {
    fn from(e: std::io::Error) -> Self {
        NlError::Io(e)
    }
}

/// A connected generic netlink socket with the `vdp` family resolved.
pub struct VdpSocket {
    socket: Socket,
    family_id: u16,
    /// Multicast groups of the family, by name.
    groups: Vec<(String, u32)>,
    seq: u32,
}

impl VdpSocket {
    pub fn connect() -> Result<Self, NlError> {
        let mut socket = Socket::new(NETLINK_GENERIC)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        socket.set_ext_ack(true)?;
        socket.set_cap_ack(true)?;
        let mut this = VdpSocket {
            socket,
            family_id: 0,
            groups: Vec::new(),
            seq: 0,
        };
        this.resolve_family()?;
        Ok(this)
    }

    /// The id the kernel gave the family when the module registered it.
    pub fn family_id(&self) -> u16 {
        self.family_id
    }

    fn resolve_family(&mut self) -> Result<(), NlError> {
        let request = GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(uapi::FAMILY_NAME.to_string())],
        };
        let replies = match self.transact(GenlMessage::from_payload(request)) {
            Err(NlError::Kernel { errno, .. }) if errno == libc_enoent() => {
                return Err(NlError::FamilyNotFound)
            }
            other => other?,
        };
        for attr in replies.iter().flat_map(|m| m.payload.nlas.iter()) {
            match attr {
                GenlCtrlAttrs::FamilyId(id) => self.family_id = *id,
                GenlCtrlAttrs::McastGroups(groups) => {
                    for group in groups {
                        let name = group.iter().find_map(|a| match a {
                            McastGrpAttrs::Name(n) => Some(n.clone()),
                            _ => None,
                        });
                        let id = group.iter().find_map(|a| match a {
                            McastGrpAttrs::Id(id) => Some(*id),
                            _ => None,
                        });
                        if let (Some(name), Some(id)) = (name, id) {
                            self.groups.push((name, id));
                        }
                    }
                }
                _ => {}
            }
        }
        if self.family_id == 0 {
            return Err(NlError::Decode("the controller's reply has no family id".into()));
        }
        Ok(())
    }

    /// Joins the family's multicast group `name`; notifications then arrive through
    /// [`Self::next_event`].
    pub fn join(&mut self, name: &str) -> Result<(), NlError> {
        let id = self
            .groups
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
            .ok_or_else(|| NlError::Decode(format!("the family has no multicast group `{name}`")))?;
        self.socket.add_membership(id)?;
        Ok(())
    }

    /// Waits for the next batch of notifications from the joined groups.
    pub fn next_events(&mut self) -> Result<Vec<VdpMessage>, NlError> {
        let (data, _) = self.socket.recv_from_full()?;
        let mut events = Vec::new();
        let mut offset = 0;
        while offset < data.len() {
            let message = NetlinkMessage::<GenlMessage<VdpMessage>>::deserialize(&data[offset..])
                .map_err(|e| NlError::Decode(e.to_string()))?;
            let len = message.header.length as usize;
            if len == 0 {
                return Err(NlError::Decode("zero-length netlink message".into()));
            }
            offset += (len + 3) & !3;
            if let NetlinkPayload::InnerMessage(m) = message.payload {
                events.push(m.payload);
            }
        }
        Ok(events)
    }

    /// Sends one `vdp` dump request and returns every message of the dump.
    pub fn dump(&mut self, cmd: u8, attrs: Vec<VdpAttr>) -> Result<Vec<VdpMessage>, NlError> {
        let mut msg = GenlMessage::from_payload(VdpMessage { cmd, attrs });
        msg.set_resolved_family_id(self.family_id);
        Ok(self
            .transact_flags(msg, NLM_F_REQUEST | NLM_F_DUMP)?
            .into_iter()
            .map(|m| m.payload)
            .collect())
    }

    /// Sends one `vdp` request and returns the attributes of its reply messages.
    pub fn request(&mut self, cmd: u8, attrs: Vec<VdpAttr>) -> Result<Vec<VdpMessage>, NlError> {
        let mut msg = GenlMessage::from_payload(VdpMessage { cmd, attrs });
        msg.set_resolved_family_id(self.family_id);
        Ok(self.transact(msg)?.into_iter().map(|m| m.payload).collect())
    }

    /// Sends a request and collects replies until the kernel's ack (or error) arrives.
    fn transact<F>(&mut self, msg: GenlMessage<F>) -> Result<Vec<GenlMessage<F>>, NlError>
    where
        F: GenlFamily + Emitable + ParseableParametrized<[u8], GenlHeader> + fmt::Debug,
    {
        self.transact_flags(msg, NLM_F_REQUEST | NLM_F_ACK)
    }

    /// Sends a request with `flags` and collects replies until an ack, error or end of dump.
    fn transact_flags<F>(
        &mut self,
        msg: GenlMessage<F>,
        flags: u16,
    ) -> Result<Vec<GenlMessage<F>>, NlError>
    where
        F: GenlFamily + Emitable + ParseableParametrized<[u8], GenlHeader> + fmt::Debug,
    {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut nl = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        nl.finalize();
        let mut buf = vec![0u8; nl.buffer_len()];
        nl.serialize(&mut buf);
        self.socket.send(&buf, 0)?;

        let mut replies = Vec::new();
        loop {
            let (data, _) = self.socket.recv_from_full()?;
            let mut offset = 0;
            while offset < data.len() {
                let reply = NetlinkMessage::<GenlMessage<F>>::deserialize(&data[offset..])
                    .map_err(|e| NlError::Decode(e.to_string()))?;
                let len = reply.header.length as usize;
                if len == 0 {
                    return Err(NlError::Decode("zero-length netlink message".into()));
                }
                offset += (len + 3) & !3;
                if reply.header.sequence_number != self.seq {
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::InnerMessage(m) => replies.push(m),
                    NetlinkPayload::Error(e) => match e.code {
                        None => return Ok(replies),
                        Some(_) => {
                            return Err(kernel_error(e.raw_code(), &e.header, reply.header.flags))
                        }
                    },
                    NetlinkPayload::Done(done) if done.code < 0 => {
                        // A dump that failed: NLMSG_DONE carries the errno, then the extack TLVs.
                        return Err(done_error(done.code, &done.extended_ack));
                    }
                    NetlinkPayload::Done(_) => return Ok(replies),
                    _ => {}
                }
            }
        }
    }
}

fn libc_enoent() -> i32 {
    2
}

/// The text of the extack message (`NLMSGERR_ATTR_MSG`) among an error's TLVs, if any.
fn extack_message(tlvs: &[u8]) -> Option<String> {
    const NLMSGERR_ATTR_MSG: u16 = 1;
    NlasIterator::new(tlvs)
        .map_while(Result::ok)
        .find(|nla| nla.kind() == NLMSGERR_ATTR_MSG)
        .map(|nla| String::from_utf8_lossy(nla.value()).trim_end_matches('\0').to_string())
}

/// The error of a failed dump: its NLMSG_DONE holds the errno followed by extack TLVs.
fn done_error(code: i32, tlvs: &[u8]) -> NlError {
    NlError::Kernel {
        errno: code.abs(),
        message: extack_message(tlvs),
    }
}

/// Extracts errno and the extack message from an error message. `payload` is what follows the
/// errno in `struct nlmsgerr`.
fn kernel_error(code: i32, payload: &[u8], flags: u16) -> NlError {
    const NLMSG_HDRLEN: usize = 16;
    let errno = code.abs();
    let mut message = None;
    if flags & NLM_F_ACK_TLVS != 0 {
        // The echoed request: its header only when capped, else the whole message.
        let echoed = if flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            payload
                .get(0..4)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .unwrap_or(NLMSG_HDRLEN)
        };
        message = extack_message(payload.get(((echoed + 3) & !3)..).unwrap_or(&[]));
    }
    NlError::Kernel { errno, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
        crate::attrs::to_bytes(&[netlink_packet_core::DefaultNla::new(kind, value.to_vec())])
    }

    #[test]
    fn extack_message_is_extracted_from_a_capped_error() {
        let mut payload = vec![0u8; 16]; // the echoed request header
        payload.extend(nla(1, b"Unknown attribute type\0"));
        payload.extend(nla(2, &40u32.to_ne_bytes()));
        match kernel_error(-22, &payload, NLM_F_CAPPED | NLM_F_ACK_TLVS) {
            NlError::Kernel { errno, message } => {
                assert_eq!(errno, 22);
                assert_eq!(message.as_deref(), Some("Unknown attribute type"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn error_without_tlvs_has_no_message() {
        let err = kernel_error(-1, &[0u8; 16], 0);
        assert_eq!(
            err.to_string(),
            "the kernel refused the request: Operation not permitted"
        );
    }

    #[test]
    fn missing_family_message_says_to_load_the_module() {
        let text = NlError::FamilyNotFound.to_string();
        assert!(text.contains("family `vdp` was not found"), "{text}");
        assert!(text.contains("insmod vdp.ko"), "{text}");
    }

    #[test]
    fn a_reply_body_decodes_into_typed_attributes() {
        let mut body = nla(uapi::attr::VERSION, b"0.1.0\0");
        body.extend(nla(uapi::attr::TENANT_COUNT, &3u32.to_ne_bytes()));
        let message = VdpMessage::parse_with_param(&body, GenlHeader { cmd: uapi::cmd::GET_INFO, version: 1 }).expect("parse");
        assert_eq!(message.attrs, [VdpAttr::Version("0.1.0".into()), VdpAttr::TenantCount(3)]);
    }
}
