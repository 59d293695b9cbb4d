//! Splitting configuration strings into arguments, Click style: commas separate arguments except
//! inside quotes or brackets, comments vanish, and surrounding space is trimmed.

use crate::lexer::quote_end;

/// One argument with its byte range in the configuration text it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawArg {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// Splits `config` at top-level commas. An empty configuration has no arguments, but an empty
/// argument between commas is kept (and later rejected where it is not allowed).
pub fn split_args(config: &str) -> Vec<RawArg> {
    let bytes = config.as_bytes();
    let mut args = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut arg_start = 0usize;
    let mut at = 0usize;
    let finish = |current: &mut String, start: usize, end: usize, args: &mut Vec<RawArg>| {
        let text = current.trim().to_string();
        let first = config[start..end].find(|c: char| !c.is_whitespace()).map_or(start, |n| start + n);
        let trimmed_end = start + config[start..end].trim_end().len();
        args.push(RawArg { text, start: first, end: trimmed_end.max(first) });
        current.clear();
    };
    while at < bytes.len() {
        let byte = bytes[at];
        match byte {
            b'"' | b'\'' => {
                let close = quote_end(config, at).unwrap_or(bytes.len() - 1);
                current.push_str(&config[at..=close]);
                at = close + 1;
                continue;
            }
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                at = config[at..].find('\n').map_or(bytes.len(), |n| at + n);
                current.push(' ');
                continue;
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = config[at + 2..].find("*/").map_or(bytes.len(), |n| at + 2 + n + 2);
                current.push(' ');
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                finish(&mut current, arg_start, at, &mut args);
                at += 1;
                arg_start = at;
                continue;
            }
            _ => {}
        }
        let character = config[at..].chars().next().unwrap_or(' ');
        current.push(character);
        at += character.len_utf8();
    }
    if !(args.is_empty() && current.trim().is_empty()) {
        finish(&mut current, arg_start, bytes.len(), &mut args);
    }
    args
}

/// If the argument starts with an upper-case keyword followed by space (or is only a keyword),
/// returns the keyword and the rest.
pub fn keyword_of(arg: &str) -> Option<(&str, &str)> {
    let end = arg.find(|c: char| c.is_whitespace()).unwrap_or(arg.len());
    let word = &arg[..end];
    if vdp_core::click_value::is_keyword(word) {
        Some((word, arg[end..].trim_start()))
    } else {
        None
    }
}

/// Decodes a Click string argument: a bare word stays as is; double quotes take backslash
/// escapes; single quotes are literal; `\<hex digits>` blocks give raw bytes; adjacent pieces join.
pub fn unquote(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                let close = quote_end(text, at).ok_or("unterminated double-quoted string")?;
                let mut inner = at + 1;
                while inner < close {
                    if bytes[inner] == b'\\' {
                        inner += 1;
                        let escaped = *bytes.get(inner).ok_or("dangling backslash")?;
                        match escaped {
                            b'n' => out.push(b'\n'),
                            b't' => out.push(b'\t'),
                            b'r' => out.push(b'\r'),
                            b'0' => out.push(0),
                            b'\\' | b'"' | b'\'' | b'$' => out.push(escaped),
                            b'<' => {
                                let end = text[inner..].find('>').map(|n| inner + n).filter(|e| *e < close);
                                let end = end.ok_or("'\\<' without closing '>'")?;
                                out.extend(hex_block(&text[inner + 1..end])?);
                                inner = end;
                            }
                            b'x' => {
                                let hex = text.get(inner + 1..inner + 3).ok_or("'\\x' needs two hex digits")?;
                                out.push(u8::from_str_radix(hex, 16).map_err(|_| "'\\x' needs two hex digits")?);
                                inner += 2;
                            }
                            other => return Err(format!("unknown escape '\\{}'", other as char)),
                        }
                    } else {
                        out.push(bytes[inner]);
                    }
                    inner += 1;
                }
                at = close + 1;
            }
            b'\'' => {
                let close = quote_end(text, at).ok_or("unterminated single-quoted string")?;
                out.extend_from_slice(&bytes[at + 1..close]);
                at = close + 1;
            }
            b'\\' if bytes.get(at + 1) == Some(&b'<') => {
                let end = text[at..].find('>').map(|n| at + n).ok_or("'\\<' without closing '>'")?;
                out.extend(hex_block(&text[at + 2..end])?);
                at = end + 1;
            }
            other => {
                out.push(other);
                at += 1;
            }
        }
    }
    Ok(out)
}

/// Bytes of a `\<...>` block: hex digits, with spaces and comments ignored.
fn hex_block(text: &str) -> Result<Vec<u8>, String> {
    let mut digits = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("//") {
            rest = rest.find('\n').map_or("", |n| &rest[n..]);
            continue;
        }
        if c.is_ascii_hexdigit() {
            digits.push(c.to_digit(16).unwrap_or(0) as u8);
        } else if !c.is_whitespace() {
            return Err(format!("'{c}' is not a hex digit in a '\\<...>' block"));
        }
        rest = &rest[c.len_utf8()..];
    }
    if digits.len() % 2 != 0 {
        return Err("odd number of hex digits in a '\\<...>' block".to_string());
    }
    Ok(digits.chunks(2).map(|pair| pair[0] << 4 | pair[1]).collect())
}

/// Quotes bytes so that [`unquote`] gives them back and the result is one argument.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for byte in bytes {
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'$' => out.push_str("\\$"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(*byte as char),
            other => out.push_str(&format!("\\x{other:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(config: &str) -> Vec<String> {
        split_args(config).into_iter().map(|a| a.text).collect()
    }

    #[test]
    fn splits_at_top_level_commas() {
        assert_eq!(texts(""), Vec::<String>::new());
        assert_eq!(texts("  "), Vec::<String>::new());
        assert_eq!(texts("a, b ,c"), ["a", "b", "c"]);
        assert_eq!(texts("f(a, b), \"x, y\", 'p,q'"), ["f(a, b)", "\"x, y\"", "'p,q'"]);
        assert_eq!(texts("a, // c, d\n b /* , */"), ["a", "b"]);
        assert_eq!(texts("a,,b"), ["a", "", "b"]);
        assert_eq!(texts("a,"), ["a", ""]);
    }

    #[test]
    fn spans_point_at_trimmed_text() {
        let args = split_args(" ab , cd ");
        assert_eq!((args[0].start, args[0].end), (1, 3));
        assert_eq!((args[1].start, args[1].end), (6, 8));
    }

    #[test]
    fn keywords() {
        assert_eq!(keyword_of("CAPACITY 10"), Some(("CAPACITY", "10")));
        assert_eq!(keyword_of("ACTIVE"), Some(("ACTIVE", "")));
        assert_eq!(keyword_of("12/0800"), None);
        assert_eq!(keyword_of("Capacity 10"), None);
    }

    #[test]
    fn strings() {
        assert_eq!(unquote("abc").unwrap(), b"abc");
        assert_eq!(unquote("\"a\\\"b\\n\"").unwrap(), b"a\"b\n");
        assert_eq!(unquote("'a\\b'").unwrap(), b"a\\b");
        assert_eq!(unquote("\\<00 ff // c\n 10>").unwrap(), [0, 0xff, 0x10]);
        assert_eq!(unquote("\"x\\<4142>y\"").unwrap(), b"xABy");
        assert!(unquote("\\<0>").is_err());
        assert!(unquote("\"abc").is_err());
        assert!(unquote("\"\\q\"").is_err());
        for sample in [&b"plain"[..], b"with \"quotes\" and \\", b"\x00\x01\xff$x"] {
            assert_eq!(unquote(&quote(sample)).unwrap(), sample);
        }
    }
}
