//! Unit tests of `kmod/core/packet_program.rs`, kept out of the kernel tree: they may panic, kernel code may not.

use super::*;

fn encode(insns: &[Insn]) -> std::vec::Vec<u8> {
    insns.iter().flat_map(|insn| insn.encode()).collect()
}

extern crate std;

fn test(offset: u16, width: u8, value: u32) -> Insn {
    Insn::Test(Test { base: Base::Frame, offset, width, mask: width_max(width), compare: Compare::Eq, value })
}

#[test]
fn evaluates_postfix() {
    let program = encode(&[test(0, 1, 0x45), test(1, 1, 7), Insn::Not, Insn::And]);
    let program = validate(&program).unwrap();
    let headers = Headers { network: 0, transport: None };
    assert!(program.matches(&[0x45, 6], headers));
    assert!(!program.matches(&[0x45, 7], headers));
    let short = encode(&[test(0, 1, 0x45), test(1, 1, 6), Insn::And]);
    assert!(!validate(&short).unwrap().matches(&[0x45], headers), "missing bytes fail a test");
}

#[test]
fn rejects_malformed() {
    assert_eq!(validate(&[]).unwrap_err(), ProgramError::Empty);
    assert_eq!(validate(&[0; 15]).unwrap_err(), ProgramError::Truncated);
    assert_eq!(validate(&encode(&[Insn::And])).unwrap_err(), ProgramError::StackUnderflow { index: 0 });
    assert_eq!(validate(&encode(&[Insn::True, Insn::True])).unwrap_err(), ProgramError::NotOneResult);
    let mut bad = encode(&[test(0, 1, 0x100)]);
    assert_eq!(validate(&bad).unwrap_err(), ProgramError::BadOperand { index: 0 });
    bad[0] = 9;
    assert_eq!(validate(&bad).unwrap_err(), ProgramError::BadOpcode { index: 0 });
    let mut stray = encode(&[Insn::True]);
    stray[5] = 1;
    assert_eq!(validate(&stray).unwrap_err(), ProgramError::BadOperand { index: 0 });
    let deep = encode(&[Insn::True; MAX_STACK + 1]);
    assert!(matches!(validate(&deep), Err(ProgramError::StackTooDeep { .. })));
}

#[test]
fn round_trips_instructions() {
    let insn = Insn::Test(Test {
        base: Base::Transport,
        offset: 2,
        width: 2,
        mask: 0xffff,
        compare: Compare::Ge,
        value: 1024,
    });
    assert_eq!(Insn::decode(&insn.encode(), 0), Ok(insn));
}
