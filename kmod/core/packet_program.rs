//! Compiled packet-matching programs: the form Classifier patterns and IPClassifier expressions
//! take in a compiled graph.
//!
//! A program is a postfix sequence of fixed-size instructions over a stack of booleans. The
//! coordinator compiles text into programs; the kernel validates each program (known opcodes,
//! bounded stack, exactly one result) before installing it and evaluates it without allocation.
//!
//! Instruction layout, 16 bytes, little-endian:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0 | opcode: 0 TRUE, 1 FALSE, 2 TEST, 3 AND, 4 OR, 5 NOT |
//! | 1 | base (TEST): 0 frame start, 1 network header, 2 transport header |
//! | 2 | comparison (TEST): 0 `=`, 1 `!=`, 2 `<`, 3 `>`, 4 `<=`, 5 `>=` |
//! | 3 | width in bytes (TEST): 1, 2 or 4 |
//! | 4..6 | offset from the base (TEST) |
//! | 6..8 | reserved, zero |
//! | 8..12 | mask, applied to the big-endian field before comparing (TEST) |
//! | 12..16 | value compared against (TEST); must fit the width |
//!
//! Non-TEST instructions must have every other byte zero, so one program has one encoding.

/// Size of one encoded instruction.
pub const INSN_BYTES: usize = 16;
/// Most instructions one program may hold.
pub const MAX_INSNS: usize = 4096;
/// Deepest evaluation stack a program may need.
pub const MAX_STACK: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    Frame = 0,
    Network = 1,
    Transport = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    Eq = 0,
    Ne = 1,
    Lt = 2,
    Gt = 3,
    Le = 4,
    Ge = 5,
}

/// A field test: `(field(base + offset, width) & mask) <compare> value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Test {
    pub base: Base,
    pub offset: u16,
    pub width: u8,
    pub mask: u32,
    pub compare: Compare,
    pub value: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insn {
    True,
    False,
    Test(Test),
    And,
    Or,
    Not,
}

/// Why a program was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramError {
    Truncated,
    Empty,
    TooLong,
    BadOpcode { index: usize },
    BadOperand { index: usize },
    StackUnderflow { index: usize },
    StackTooDeep { index: usize },
    NotOneResult,
}

fn width_max(width: u8) -> u32 {
    match width {
        1 => 0xff,
        2 => 0xffff,
        _ => u32::MAX,
    }
}

impl Insn {
    pub fn encode(&self) -> [u8; INSN_BYTES] {
        let mut out = [0u8; INSN_BYTES];
        let opcode = match self {
            Insn::True => 0,
            Insn::False => 1,
            Insn::Test(test) => {
                out[1] = test.base as u8;
                out[2] = test.compare as u8;
                out[3] = test.width;
                out[4..6].copy_from_slice(&test.offset.to_le_bytes());
                out[8..12].copy_from_slice(&test.mask.to_le_bytes());
                out[12..16].copy_from_slice(&test.value.to_le_bytes());
                2
            }
            Insn::And => 3,
            Insn::Or => 4,
            Insn::Not => 5,
        };
        out[0] = opcode;
        out
    }

    /// Decodes one instruction; `index` is only used in errors.
    pub fn decode(bytes: &[u8; INSN_BYTES], index: usize) -> Result<Insn, ProgramError> {
        let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let rest_zero = bytes[1..].iter().all(|b| *b == 0);
        let simple = |insn: Insn| if rest_zero { Ok(insn) } else { Err(ProgramError::BadOperand { index }) };
        match bytes[0] {
            0 => simple(Insn::True),
            1 => simple(Insn::False),
            3 => simple(Insn::And),
            4 => simple(Insn::Or),
            5 => simple(Insn::Not),
            2 => {
                let bad = ProgramError::BadOperand { index };
                let base = match bytes[1] {
                    0 => Base::Frame,
                    1 => Base::Network,
                    2 => Base::Transport,
                    _ => return Err(bad),
                };
                let compare = match bytes[2] {
                    0 => Compare::Eq,
                    1 => Compare::Ne,
                    2 => Compare::Lt,
                    3 => Compare::Gt,
                    4 => Compare::Le,
                    5 => Compare::Ge,
                    _ => return Err(bad),
                };
                let width = bytes[3];
                if !matches!(width, 1 | 2 | 4) || bytes[6] != 0 || bytes[7] != 0 {
                    return Err(bad);
                }
                let mask = word(8);
                let value = word(12);
                if mask > width_max(width) || value > width_max(width) {
                    return Err(bad);
                }
                let offset = u16::from_le_bytes([bytes[4], bytes[5]]);
                Ok(Insn::Test(Test { base, offset, width, mask, compare, value }))
            }
            _ => Err(ProgramError::BadOpcode { index }),
        }
    }
}

/// A program that passed [`validate`]; evaluation cannot fail on it.
#[derive(Clone, Copy, Debug)]
pub struct Program<'a> {
    bytes: &'a [u8],
}

/// Checks an encoded program: whole instructions, valid operands, no stack underflow, bounded
/// depth, and exactly one boolean left at the end.
pub fn validate(bytes: &[u8]) -> Result<Program<'_>, ProgramError> {
    if bytes.len() % INSN_BYTES != 0 {
        return Err(ProgramError::Truncated);
    }
    let count = bytes.len() / INSN_BYTES;
    if count == 0 {
        return Err(ProgramError::Empty);
    }
    if count > MAX_INSNS {
        return Err(ProgramError::TooLong);
    }
    let mut depth: usize = 0;
    for (index, chunk) in bytes.chunks_exact(INSN_BYTES).enumerate() {
        let mut raw = [0u8; INSN_BYTES];
        raw.copy_from_slice(chunk);
        let (pops, pushes) = match Insn::decode(&raw, index)? {
            Insn::True | Insn::False | Insn::Test(_) => (0, 1),
            Insn::Not => (1, 1),
            Insn::And | Insn::Or => (2, 1),
        };
        depth = depth.checked_sub(pops).ok_or(ProgramError::StackUnderflow { index })? + pushes;
        if depth > MAX_STACK {
            return Err(ProgramError::StackTooDeep { index });
        }
    }
    if depth != 1 {
        return Err(ProgramError::NotOneResult);
    }
    Ok(Program { bytes })
}

/// Byte offsets of the headers within the packet data being matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Headers {
    pub network: usize,
    /// `None` when the packet has no transport header (too short, or a later fragment); every
    /// transport test is then false.
    pub transport: Option<usize>,
}

fn field(packet: &[u8], start: usize, width: u8) -> Option<u32> {
    let end = start.checked_add(usize::from(width))?;
    let bytes = packet.get(start..end)?;
    Some(bytes.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
}

impl Test {
    /// A test on bytes the packet does not have is false.
    pub fn matches(&self, packet: &[u8], headers: Headers) -> bool {
        let base = match self.base {
            Base::Frame => Some(0),
            Base::Network => Some(headers.network),
            Base::Transport => headers.transport,
        };
        let value = match base.and_then(|b| b.checked_add(usize::from(self.offset))) {
            Some(start) => match field(packet, start, self.width) {
                Some(value) => value & self.mask,
                None => return false,
            },
            None => return false,
        };
        match self.compare {
            Compare::Eq => value == self.value,
            Compare::Ne => value != self.value,
            Compare::Lt => value < self.value,
            Compare::Gt => value > self.value,
            Compare::Le => value <= self.value,
            Compare::Ge => value >= self.value,
        }
    }
}

impl<'a> Program<'a> {
    pub fn len(&self) -> usize {
        self.bytes.len() / INSN_BYTES
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn insns(&self) -> impl Iterator<Item = Insn> + 'a {
        self.bytes.chunks_exact(INSN_BYTES).enumerate().filter_map(|(index, chunk)| {
            let mut raw = [0u8; INSN_BYTES];
            raw.copy_from_slice(chunk);
            Insn::decode(&raw, index).ok()
        })
    }

    /// Runs the program on a packet.
    pub fn matches(&self, packet: &[u8], headers: Headers) -> bool {
        let mut stack = [false; MAX_STACK];
        let mut depth = 0usize;
        for insn in self.insns() {
            let result = match insn {
                Insn::True => true,
                Insn::False => false,
                Insn::Test(test) => test.matches(packet, headers),
                Insn::Not => {
                    depth = depth.saturating_sub(1);
                    !stack.get(depth).copied().unwrap_or(false)
                }
                Insn::And | Insn::Or => {
                    depth = depth.saturating_sub(2);
                    let a = stack.get(depth).copied().unwrap_or(false);
                    let b = stack.get(depth + 1).copied().unwrap_or(false);
                    if insn == Insn::And {
                        a && b
                    } else {
                        a || b
                    }
                }
            };
            // `validate` proved the depth stays within 1..=MAX_STACK, so the slot always exists.
            if let Some(slot) = stack.get_mut(depth) {
                *slot = result;
            }
            depth += 1;
        }
        stack.first().copied().unwrap_or(false)
    }
}

#[cfg(test)]
#[path = "../../userspace/vdp-core/unit/packet_program.rs"]
mod tests;
