//! Splits Click text into tokens. A parenthesised configuration string is one token, kept raw,
//! because Click splits it into arguments only later, by the rules of the element class.

use crate::source::{Diagnostics, FileId, Span};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// Element or class name, keyword, or port number.
    Word(String),
    /// `$name`.
    Variable(String),
    /// Raw text between balanced parentheses; the span covers the text only.
    Config(String),
    DoubleColon,
    Arrow,
    LeftBracket,
    RightBracket,
    LeftBrace,
    RightBrace,
    Comma,
    Semicolon,
    Bar,
    /// Where the lexer reported an error (a character that starts no token): the parser fails
    /// the statement there without a message of its own.
    Invalid,
    /// An unterminated comment, string or configuration ran to the end of the file: the rest of
    /// the text is lost, and with it whatever it declared or connected.
    Unterminated,
    Eof,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'@' | b'.')
}

/// Tokenizes a whole file. Bad characters become [`Tok::Invalid`] tokens, so the parser still
/// sees the rest of the file; the first on a line is reported (a run of them once), the others
/// on that line are taken for the same mistake. An unterminated construct is reported and
/// becomes [`Tok::Unterminated`], the last token before the end.
pub fn tokenize(file: FileId, text: &str, diagnostics: &mut Diagnostics) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    let span = |start: usize, end: usize| Span::new(file, start, end);
    // The line of the last stray character reported; lines are counted up to `counted` so far.
    let mut reported_line: Option<usize> = None;
    let (mut line, mut counted) = (0usize, 0usize);
    let mut line_at = |at: usize| {
        line += text[counted..at].matches('\n').count();
        counted = at;
        line
    };
    while at < bytes.len() {
        let byte = bytes[at];
        let start = at;
        if byte.is_ascii_whitespace() {
            at += 1;
            continue;
        }
        if text[at..].starts_with("//") {
            at = text[at..].find('\n').map_or(bytes.len(), |n| at + n);
            continue;
        }
        if text[at..].starts_with("/*") {
            match text[at + 2..].find("*/") {
                Some(n) => at = at + 2 + n + 2,
                None => {
                    diagnostics.error(span(at, at + 2), "unterminated comment: '/*' without '*/'");
                    tokens.push(Token { tok: Tok::Unterminated, span: span(at, bytes.len()) });
                    at = bytes.len();
                }
            }
            continue;
        }
        let simple = match byte {
            b'[' => Some(Tok::LeftBracket),
            b']' => Some(Tok::RightBracket),
            b'{' => Some(Tok::LeftBrace),
            b'}' => Some(Tok::RightBrace),
            b',' => Some(Tok::Comma),
            b';' => Some(Tok::Semicolon),
            b'|' => Some(Tok::Bar),
            _ => None,
        };
        if let Some(tok) = simple {
            tokens.push(Token { tok, span: span(at, at + 1) });
            at += 1;
            continue;
        }
        if text[at..].starts_with("::") {
            tokens.push(Token { tok: Tok::DoubleColon, span: span(at, at + 2) });
            at += 2;
            continue;
        }
        if text[at..].starts_with("->") {
            tokens.push(Token { tok: Tok::Arrow, span: span(at, at + 2) });
            at += 2;
            continue;
        }
        if byte == b'(' {
            match config_end(text, at + 1) {
                Ok(close) => {
                    tokens.push(Token { tok: Tok::Config(text[at + 1..close].to_string()), span: span(at + 1, close) });
                    at = close + 1;
                }
                Err(ConfigError::Unterminated) => {
                    diagnostics.error(span(at, at + 1), "unbalanced '(': no matching ')' before end of file");
                    tokens.push(Token { tok: Tok::Unterminated, span: span(at, bytes.len()) });
                    at = bytes.len();
                }
                Err(ConfigError::UnterminatedQuote(quote)) => {
                    diagnostics.error(span(quote, quote + 1), "unterminated quoted string in configuration");
                    tokens.push(Token { tok: Tok::Unterminated, span: span(at, bytes.len()) });
                    at = bytes.len();
                }
            }
            continue;
        }
        if byte == b'$' {
            at += 1;
            while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
                at += 1;
            }
            if at == start + 1 {
                let line = line_at(start);
                if reported_line != Some(line) {
                    diagnostics.error(span(start, at), "'$' must be followed by a variable name");
                    reported_line = Some(line);
                }
                tokens.push(Token { tok: Tok::Invalid, span: span(start, at) });
            } else {
                tokens.push(Token { tok: Tok::Variable(text[start + 1..at].to_string()), span: span(start, at) });
            }
            continue;
        }
        if is_word_byte(byte) {
            // A '/' joins compound names ("router/queue") unless it starts a comment.
            while at < bytes.len()
                && (is_word_byte(bytes[at])
                    || (bytes[at] == b'/'
                        && !matches!(bytes.get(at + 1), Some(b'/') | Some(b'*'))
                        && bytes.get(at + 1).is_some_and(|b| is_word_byte(*b))))
            {
                at += 1;
            }
            tokens.push(Token { tok: Tok::Word(text[start..at].to_string()), span: span(start, at) });
            continue;
        }
        let character = text[at..].chars().next().unwrap_or('?');
        let (message, end) = match character {
            ')' => ("unbalanced ')' outside any configuration string".to_string(), at + 1),
            '=' if text[at..].starts_with("=>") => ("'=>' (compound class overloading) is not supported".to_string(), at + 2),
            _ => {
                // A run of such characters is one mistake: one error.
                let first_end = at + character.len_utf8();
                let end = text[first_end..].find(|c: char| !is_stray(c)).map_or(bytes.len(), |n| first_end + n);
                let run = &text[at..end];
                if run.chars().count() == 1 {
                    (format!("unexpected character {character:?}"), end)
                } else {
                    (format!("unexpected characters {run:?}"), end)
                }
            }
        };
        let line = line_at(at);
        if reported_line != Some(line) {
            diagnostics.error(span(at, end), message);
            reported_line = Some(line);
        }
        tokens.push(Token { tok: Tok::Invalid, span: span(at, end) });
        at = end;
    }
    tokens.push(Token { tok: Tok::Eof, span: span(bytes.len(), bytes.len()) });
    tokens
}

/// A character that starts no token (and is not `)` or the start of `=>`, which have messages
/// of their own).
fn is_stray(c: char) -> bool {
    let starts_token = c.is_ascii_whitespace()
        || (c.is_ascii() && is_word_byte(c as u8))
        || matches!(c, '[' | ']' | '{' | '}' | ',' | ';' | '|' | ':' | '-' | '(' | ')' | '$' | '/' | '=' | '"' | '\'');
    !starts_token
}

enum ConfigError {
    Unterminated,
    UnterminatedQuote(usize),
}

/// Finds the `)` closing a configuration string that starts at `from`, skipping nested brackets,
/// quoted strings and comments as Click does.
fn config_end(text: &str, from: usize) -> Result<usize, ConfigError> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut at = from;
    while at < bytes.len() {
        match bytes[at] {
            b'(' => depth += 1,
            b')' => {
                if depth == 0 {
                    return Ok(at);
                }
                depth -= 1;
            }
            b'"' | b'\'' => at = quote_end(text, at).ok_or(ConfigError::UnterminatedQuote(at))?,
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                at = text[at..].find('\n').map_or(bytes.len(), |n| at + n);
                continue;
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = text[at + 2..].find("*/").map_or(bytes.len(), |n| at + 2 + n + 1);
            }
            _ => {}
        }
        at += 1;
    }
    Err(ConfigError::Unterminated)
}

/// Index of the quote closing the string that opens at `open`. Double-quoted strings honour
/// backslash escapes; single-quoted strings have none.
pub fn quote_end(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let quote = *bytes.get(open)?;
    let mut at = open + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' if quote == b'"' => at += 1,
            b if b == quote => return Some(at),
            _ => {}
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> (Vec<Tok>, usize) {
        let mut diagnostics = Diagnostics::default();
        let tokens = tokenize(FileId(0), text, &mut diagnostics);
        (tokens.into_iter().map(|t| t.tok).collect(), diagnostics.error_count())
    }

    #[test]
    fn tokens_of_a_declaration_and_chain() {
        let (toks, errors) = kinds("q :: Queue(CAPACITY 10) // tail\n/* c */ a [1] -> [0] b/c;");
        assert_eq!(errors, 0);
        assert_eq!(
            toks,
            vec![
                Tok::Word("q".into()),
                Tok::DoubleColon,
                Tok::Word("Queue".into()),
                Tok::Config("CAPACITY 10".into()),
                Tok::Word("a".into()),
                Tok::LeftBracket,
                Tok::Word("1".into()),
                Tok::RightBracket,
                Tok::Arrow,
                Tok::LeftBracket,
                Tok::Word("0".into()),
                Tok::RightBracket,
                Tok::Word("b/c".into()),
                Tok::Semicolon,
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn config_keeps_nesting_quotes_and_comments() {
        let (toks, errors) = kinds("X(a (b), \")\", ')' // )\n, c)");
        assert_eq!(errors, 0);
        assert_eq!(toks[1], Tok::Config("a (b), \")\", ')' // )\n, c".into()));
    }

    #[test]
    fn reports_and_continues() {
        let (toks, errors) = kinds("a # b\n) c");
        assert_eq!(errors, 2);
        assert_eq!(toks, [Tok::Word("a".into()), Tok::Invalid, Tok::Word("b".into()), Tok::Invalid, Tok::Word("c".into()), Tok::Eof]);
        // A run of stray characters is one error, and the rest of its line is the same mistake.
        let (toks, errors) = kinds("a #%& b => c\nd ^ e");
        assert_eq!(errors, 2);
        assert_eq!(toks.iter().filter(|t| **t == Tok::Invalid).count(), 3);
        let (toks, errors) = kinds("a #%& b");
        assert_eq!(errors, 1);
        assert_eq!(toks.iter().filter(|t| **t == Tok::Invalid).count(), 1);
        assert_eq!(kinds("X(\"abc)").1, 1);
        assert_eq!(kinds("/* abc").1, 1);
        assert_eq!(kinds("X(a(b)").1, 1);
        // What an unterminated construct swallows is marked as lost.
        assert_eq!(kinds("a :: X(b").0, [Tok::Word("a".into()), Tok::DoubleColon, Tok::Word("X".into()), Tok::Unterminated, Tok::Eof]);
    }
}
