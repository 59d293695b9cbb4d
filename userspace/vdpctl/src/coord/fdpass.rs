//! Passing the tenant's channel file to its container with its answer: the coordinator sends
//! the response line with the file descriptor attached (`SCM_RIGHTS`), the client takes both.
//! The tenant thereby holds a channel bound to itself alone without ever reaching `/dev/vdp`.

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use std::io::{IoSlice, IoSliceMut, Read};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

/// Sends `line` (one JSON line, newline included) with `fd` attached to its first byte.
pub fn send_with_fd(stream: &UnixStream, line: &[u8], fd: BorrowedFd<'_>) -> std::io::Result<()> {
    let fds = [fd.as_raw_fd()];
    let control = [ControlMessage::ScmRights(&fds)];
    let sent = sendmsg::<()>(stream.as_raw_fd(), &[IoSlice::new(line)], &control, MsgFlags::MSG_NOSIGNAL, None).map_err(std::io::Error::from)?;
    // The descriptor went with the first segment; the rest of the line goes plainly.
    let mut rest = &line[sent..];
    while !rest.is_empty() {
        let n = sendmsg::<()>(stream.as_raw_fd(), &[IoSlice::new(rest)], &[], MsgFlags::MSG_NOSIGNAL, None).map_err(std::io::Error::from)?;
        rest = &rest[n..];
    }
    Ok(())
}

/// Receives the first segment of a response and the descriptor sent with it, if any. Returns
/// the bytes read (the start of the response line) and the file. More than one descriptor, or
/// a truncated control message, is refused: a coordinator sends exactly one.
pub fn recv_with_fd(stream: &UnixStream) -> std::io::Result<(Vec<u8>, Option<OwnedFd>)> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let (bytes, fds, truncated) = {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<()>(stream.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC).map_err(std::io::Error::from)?;
        let mut fds = Vec::new();
        for cmsg in msg.cmsgs().map_err(std::io::Error::from)? {
            if let ControlMessageOwned::ScmRights(received) = cmsg {
                fds.extend(received);
            }
        }
        (msg.bytes, fds, msg.flags.contains(MsgFlags::MSG_CTRUNC))
    };
    // SAFETY: each descriptor was just installed in this process by the kernel's SCM_RIGHTS
    // delivery and is owned by nothing else here.
    let mut owned: Vec<OwnedFd> = fds.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }).collect();
    if truncated || owned.len() > 1 {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the coordinator sent more than one file with its answer"));
    }
    buf.truncate(bytes);
    Ok((buf, owned.pop()))
}

/// A reader that gives `first` and then the rest of the stream: for reading the remainder of
/// a line whose start [`recv_with_fd`] took.
pub fn rest_of<'a>(first: &'a [u8], stream: &'a UnixStream) -> impl Read + 'a {
    first.chain(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Write};
    use std::os::fd::AsFd;

    #[test]
    fn a_file_travels_with_a_long_line() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut file = tempfile_with(b"channel");
        let line: Vec<u8> = std::iter::repeat(b'x').take(200_000).chain(std::iter::once(b'\n')).collect();
        let sender = {
            let line = line.clone();
            let fd = file.as_fd().try_clone_to_owned().unwrap();
            std::thread::spawn(move || send_with_fd(&a, &line, fd.as_fd()).unwrap())
        };
        let (first, fd) = recv_with_fd(&b).unwrap();
        let got = crate::coord::protocol::read_line(BufReader::new(rest_of(&first, &b))).unwrap().unwrap();
        sender.join().unwrap();
        assert_eq!(got.len(), 200_000);
        let mut received = std::fs::File::from(fd.expect("a file came with the line"));
        let mut text = String::new();
        use std::io::Seek;
        received.seek(std::io::SeekFrom::Start(0)).unwrap();
        received.read_to_string(&mut text).unwrap();
        assert_eq!(text, "channel");
        file.flush().unwrap();
    }

    #[test]
    fn a_plain_line_has_no_file() {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.write_all(b"{}\n").unwrap();
        let (first, fd) = recv_with_fd(&b).unwrap();
        assert_eq!(first, b"{}\n");
        assert!(fd.is_none());
    }

    fn tempfile_with(contents: &[u8]) -> std::fs::File {
        let path = std::env::temp_dir().join(format!("vdp-fdpass-{}-{:?}", std::process::id(), std::thread::current().id()));
        let mut file = std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path).unwrap();
        file.write_all(contents).unwrap();
        std::fs::remove_file(&path).unwrap();
        file
    }
}
