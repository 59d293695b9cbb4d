//! A shared memory mapping as a [`RawRegion`]: the channel region mapped from the channel file,
//! or an anonymous one for a channel whose both ends live in this process.
//!
//! The other side of the mapping (the kernel, or a test playing it) writes it at any time. The
//! ring code only ever reaches it as a slice of atomic words (`RawRegion::words`), through the
//! `Region` that `vdp_core::channel` makes of it, whose every access is bounds-checked against
//! the slice, so nothing the other side writes can make this process touch memory outside it.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::AtomicU32;
use vdp_core::channel::RawRegion;

pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; every access goes through atomic words, which
// tolerate concurrent writers (see `RawRegion` below), so it may be used from any thread.
unsafe impl Send for Mapping {}
// SAFETY: as for Send: `&Mapping` only offers atomic word access.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `len` bytes of `fd` from offset 0, readable and writable, shared.
    pub fn file(fd: BorrowedFd<'_>, len: usize) -> io::Result<Mapping> {
        // SAFETY: a fresh mapping chosen by the kernel (NULL hint) overlaps nothing of ours; the
        // result is checked before use.
        let ptr = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd.as_raw_fd(), 0) };
        Mapping::checked(ptr, len)
    }

    /// `len` bytes of zeroed anonymous shared memory.
    pub fn anonymous(len: usize) -> io::Result<Mapping> {
        // SAFETY: as in `file`; an anonymous mapping needs no file.
        let ptr = unsafe {
            libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED | libc::MAP_ANONYMOUS, -1, 0)
        };
        Mapping::checked(ptr, len)
    }

    /// The mapping's start, for calls on the mapping itself (`mprotect`); the memory is reached
    /// through the [`RawRegion`] accesses only.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    fn checked(ptr: *mut libc::c_void, len: usize) -> io::Result<Mapping> {
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap returned NULL"))?;
        Ok(Mapping { ptr, len })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are a mapping this value made and nothing else unmaps; no
        // reference into it outlives `self`.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

impl RawRegion for Mapping {
    fn words(&self) -> &[AtomicU32] {
        // SAFETY: the mapping is `len` bytes, page-aligned, and lives as long as `self`, so it
        // holds `len / 4` aligned words; AtomicU32 has the layout of u32 and tolerates the other
        // side's concurrent writes, and no plain reference to this memory exists anywhere.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<AtomicU32>(), self.len / 4) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vdp_core::channel::Region;

    #[test]
    fn accesses_outside_the_mapping_are_refused() {
        let mapping = Mapping::anonymous(4096).unwrap();
        mapping.store(4092, 7);
        assert_eq!(mapping.load(4092), 7);
        mapping.store(4096, 1);
        assert_eq!(mapping.load(4096), 0);
        assert_eq!(mapping.load(2), 0);
        mapping.write(4090, &[1, 2, 3, 4, 5, 6, 7]);
        let mut out = [9u8; 3];
        mapping.read(usize::MAX - 1, &mut out);
        assert_eq!(out, [0; 3]);
        mapping.write(10, &[1, 2, 3]);
        mapping.read(10, &mut out);
        assert_eq!(out, [1, 2, 3]);
    }
}
