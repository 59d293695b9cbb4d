//! The CPUs a tenant's threads may run on, as netlink's `CPU_MASK` carries them: a bitmap of
//! CPU numbers in little-endian 64-bit words, CPU `n` at bit `n % 64` of word `n / 64`.
//!
//! An empty `CPU_MASK` (no bytes) means "any CPU" and is not a [`CpuSet`]; a set holds at
//! least one CPU. The module checks the CPUs against the machine's online CPUs before it pins a
//! thread; this type checks only the form.

use crate::uapi::{CPU_MASK_MAX_BYTES, CPU_SET_MAX};

const WORDS: usize = CPU_MASK_MAX_BYTES / 8;

/// At least one CPU below [`CPU_SET_MAX`].
///
/// # Invariants
///
/// At least one bit of `words` is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuSet {
    words: [u64; WORDS],
}

/// Why a `CPU_MASK` is not a set of CPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuSetError {
    /// Not a whole number of 8-byte words.
    Length(usize),
    /// More bytes than [`CPU_MASK_MAX_BYTES`].
    TooLong(usize),
    /// Words given, but no bit set.
    Empty,
    /// A CPU number of [`CPU_SET_MAX`] or more.
    TooHigh(u32),
}

impl core::fmt::Display for CpuSetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CpuSetError::Length(n) => write!(f, "a CPU mask of {n} bytes: it is whole 8-byte words"),
            CpuSetError::TooLong(n) => write!(f, "a CPU mask of {n} bytes: at most {CPU_MASK_MAX_BYTES}"),
            CpuSetError::Empty => write!(f, "a CPU mask with no CPU (send no bytes for any CPU)"),
            CpuSetError::TooHigh(cpu) => write!(f, "cpu {cpu}: CPU numbers go up to {}", CPU_SET_MAX - 1),
        }
    }
}

impl CpuSet {
    /// The set of the CPUs `cpus` names; an error if it names none or one too high.
    pub fn of(cpus: impl IntoIterator<Item = u32>) -> Result<CpuSet, CpuSetError> {
        let mut words = [0u64; WORDS];
        for cpu in cpus {
            let word = words.get_mut((cpu / 64) as usize).ok_or(CpuSetError::TooHigh(cpu))?;
            *word |= 1 << (cpu % 64);
        }
        Self::checked(words)
    }

    /// Reads a non-empty `CPU_MASK`.
    pub fn from_mask(bytes: &[u8]) -> Result<CpuSet, CpuSetError> {
        if bytes.len() > CPU_MASK_MAX_BYTES {
            return Err(CpuSetError::TooLong(bytes.len()));
        }
        if bytes.len() % 8 != 0 {
            return Err(CpuSetError::Length(bytes.len()));
        }
        let mut words = [0u64; WORDS];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut le = [0u8; 8];
            le.copy_from_slice(chunk);
            *word = u64::from_le_bytes(le);
        }
        Self::checked(words)
    }

    fn checked(words: [u64; WORDS]) -> Result<CpuSet, CpuSetError> {
        if words.iter().all(|w| *w == 0) {
            return Err(CpuSetError::Empty);
        }
        Ok(CpuSet { words })
    }

    /// The mask's words up to the last one with a CPU in it (what [`CpuSet::write_mask`]
    /// writes, 8 bytes each).
    pub fn words(&self) -> &[u64] {
        let used = self.words.iter().rposition(|w| *w != 0).map_or(0, |last| last + 1);
        self.words.get(..used).unwrap_or(&[])
    }

    /// Bytes [`CpuSet::write_mask`] writes.
    pub fn mask_len(&self) -> usize {
        self.words().len() * 8
    }

    /// Writes the mask into `out` (at least [`CpuSet::mask_len`] bytes); returns the bytes
    /// written, 0 if `out` is too short.
    pub fn write_mask(&self, out: &mut [u8]) -> usize {
        let len = self.mask_len();
        let Some(out) = out.get_mut(..len) else { return 0 };
        for (chunk, word) in out.chunks_exact_mut(8).zip(self.words()) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        len
    }

    pub fn contains(&self, cpu: u32) -> bool {
        self.words.get((cpu / 64) as usize).is_some_and(|w| w & (1 << (cpu % 64)) != 0)
    }

    /// The CPUs, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..CPU_SET_MAX).filter(|cpu| self.contains(*cpu))
    }

    /// The first CPU of the set for which `ok` is false.
    pub fn first_not(&self, ok: impl Fn(u32) -> bool) -> Option<u32> {
        self.iter().find(|cpu| !ok(*cpu))
    }
}
