//! Classifier: each pattern's packet program becomes one boolean expression of comparators
//! over a window at the data's start, and the first pattern that matches names the output; a
//! packet no pattern matches is dropped. A test on bytes the packet lacks is false, as in
//! `packet_program`.

use super::{b, Ctx, FpgaClass, Module, Shell};
use vdp_click::values::ArgValue;
use vdp_core::packet_program::{Base, Compare, Insn};

pub const CLASS: FpgaClass = FpgaClass { class: "Classifier", elaborate, registers: |_| 0, handlers: &[] };

/// Furthest byte a Classifier pattern may test on the FPGA (the window's size).
pub const MAX_WINDOW: usize = 256;

fn expression(program: &[Insn], window: &mut usize) -> Result<String, String> {
    let mut stack: Vec<String> = Vec::new();
    for insn in program {
        let term = match insn {
            Insn::True => "1'b1".to_string(),
            Insn::False => "1'b0".to_string(),
            Insn::Test(test) => {
                if test.base != Base::Frame {
                    return Err("a Classifier test relative to a network or transport header has no FPGA form".into());
                }
                let start = usize::from(test.offset);
                let end = start + usize::from(test.width);
                if end > MAX_WINDOW {
                    return Err(format!("a pattern tests byte {} but the FPGA window holds {MAX_WINDOW}", end - 1));
                }
                *window = (*window).max(end);
                let bits = 8 * usize::from(test.width);
                let bytes: Vec<String> = (start..end).map(b).collect();
                let op = match test.compare {
                    Compare::Eq => "==",
                    Compare::Ne => "!=",
                    Compare::Lt => "<",
                    Compare::Gt => ">",
                    Compare::Le => "<=",
                    Compare::Ge => ">=",
                };
                format!(
                    "(d_have >= 16'd{end} && (({{{}}} & {bits}'h{:x}) {op} {bits}'h{:x}))",
                    bytes.join(", "),
                    test.mask,
                    test.value
                )
            }
            Insn::Not => {
                let a = stack.pop().ok_or("malformed pattern program")?;
                format!("!{a}")
            }
            Insn::And | Insn::Or => {
                let right = stack.pop().ok_or("malformed pattern program")?;
                let left = stack.pop().ok_or("malformed pattern program")?;
                let op = if *insn == Insn::And { "&&" } else { "||" };
                format!("({left} {op} {right})")
            }
        };
        stack.push(term);
    }
    match stack.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err("malformed pattern program".into()),
    }
}

fn elaborate(ctx: &Ctx) -> Result<Module, String> {
    let mut window = 1;
    let mut matches = Vec::new();
    for value in &ctx.element.repeated {
        let ArgValue::Program(program) = value else { return Err("a Classifier pattern is not a program".into()) };
        matches.push(expression(program, &mut window)?);
    }
    let mut decide = String::from("d_drop = 1'b1;\n");
    for (port, expr) in matches.iter().enumerate().rev() {
        decide.push_str(&format!("if ({expr}) begin\n    d_drop = 1'b0;\n    d_port = 16'd{port};\nend\n"));
    }
    // The window counts the data's bytes: d_have is relative to the data start (c_hoff).
    Ok(Shell {
        window,
        writes: 0,
        wstart: "c_hoff".into(),
        decide,
        declarations: String::new(),
        state: String::new(),
        reads: Some(vec![]),
        outputs: ctx.outputs(),
    }
    .module())
}
