//! Source files, spans and diagnostics rendered as `file:line:col: error: message` followed by
//! the offending text with its labels marked, through `codespan-reporting`.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{self, Files};
use codespan_reporting::term::termcolor::{Buffer, WriteColor};
use codespan_reporting::term::{self, Chars, DisplayStyle};
use std::io::Write as _;
use std::ops::Range;

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span { file, start, end: end.max(start) }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        if self.file != other.file {
            return self;
        }
        Span::new(self.file, self.start.min(other.start), self.end.max(other.end))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A secondary place a diagnostic points at, with what it is (`'x' is first declared here`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The primary place: the one of the first line's `file:line:col`.
    pub span: Option<Span>,
    pub message: String,
    /// Other places that explain the error, marked in the snippet with their messages.
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(span: impl Into<Option<Span>>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, span: span.into(), message: message.into(), labels: vec![], notes: vec![] }
    }

    pub fn warning(span: impl Into<Option<Span>>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, span: span.into(), message: message.into(), labels: vec![], notes: vec![] }
    }

    /// Adds a secondary place; a span that is not known (`None`) adds nothing.
    pub fn label(mut self, span: impl Into<Option<Span>>, message: impl Into<String>) -> Diagnostic {
        if let Some(span) = span.into() {
            self.labels.push(Label { span, message: message.into() });
        }
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Diagnostics collected while processing; nothing stops at the first error.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn error(&mut self, span: impl Into<Option<Span>>, message: impl Into<String>) {
        self.push(Diagnostic::error(span, message));
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }
}

pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

/// Every file read in one run; spans refer to them by [`FileId`].
#[derive(Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn new() -> Sources {
        Sources::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        self.files.push(SourceFile { name: name.into(), text, line_starts });
        FileId(u32::try_from(self.files.len() - 1).expect("fewer than 4 billion files"))
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// One-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: FileId, offset: usize) -> (usize, usize) {
        let source = self.file(file);
        let offset = offset.min(source.text.len());
        let line = source.line_starts.partition_point(|start| *start <= offset) - 1;
        let line_start = source.line_starts[line];
        let column = source.text.get(line_start..offset).map_or(0, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// `offset` moved into the file and back to the start of the character it falls in.
    fn boundary(&self, file: FileId, offset: usize) -> usize {
        let text = &self.file(file).text;
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    fn range(&self, span: Span) -> Range<usize> {
        let start = self.boundary(span.file, span.start);
        start..self.boundary(span.file, span.end).max(start)
    }

    /// The diagnostic in `codespan-reporting`'s terms: the primary span unlabelled (its message
    /// is the header's), the secondary ones with theirs, each note as `note: ...`.
    fn to_codespan(&self, diagnostic: &Diagnostic) -> cs::Diagnostic<FileId> {
        let severity = match diagnostic.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
        };
        let primary = diagnostic.span.into_iter().map(|span| cs::Label::primary(span.file, self.range(span)));
        let secondary =
            diagnostic.labels.iter().map(|label| cs::Label::secondary(label.span.file, self.range(label.span)).with_message(&label.message));
        cs::Diagnostic::new(severity)
            .with_message(&diagnostic.message)
            .with_labels(primary.chain(secondary).collect())
            .with_notes(diagnostic.notes.iter().map(|note| format!("note: {note}")).collect())
    }

    /// Writes one diagnostic: the header line `file:line:col: error: message` (the shape
    /// scripts and the coordinator's tenants read), then codespan's snippet with every label
    /// and the notes. Colour is whatever `out` does with it.
    fn emit(&self, diagnostic: &Diagnostic, out: &mut Buffer) -> Result<(), files::Error> {
        let config = term::Config { chars: Chars::ascii(), ..term::Config::default() };
        let converted = self.to_codespan(diagnostic);
        // The header: codespan's short view of the diagnostic without its secondary labels
        // (each of its primary labels would give one header line).
        let mut header = converted.clone();
        header.labels.retain(|label| label.style == cs::LabelStyle::Primary);
        term::emit_to_write_style(out, &term::Config { display_style: DisplayStyle::Short, ..config.clone() }, self, &header)?;
        // codespan's rich view starts with a header without the position: it is left out, ours
        // stands instead.
        let mut body = if out.supports_color() { Buffer::ansi() } else { Buffer::no_color() };
        term::emit_to_write_style(&mut body, &config, self, &converted)?;
        let header_lines = 1 + diagnostic.message.matches('\n').count();
        let mut rest = body.as_slice();
        for _ in 0..header_lines {
            rest = rest.iter().position(|b| *b == b'\n').map_or(&[], |at| &rest[at + 1..]);
        }
        out.write_all(rest)?;
        Ok(())
    }

    /// The diagnostic as text, with colour escapes or without.
    pub fn render_styled(&self, diagnostic: &Diagnostic, color: bool) -> String {
        let mut out = if color { Buffer::ansi() } else { Buffer::no_color() };
        if self.emit(diagnostic, &mut out).is_err() {
            // Only a span outside its file gets here; the header line alone still says it all.
            let label = if diagnostic.is_error() { "error" } else { "warning" };
            let position = diagnostic.span.map(|s| {
                let (line, column) = self.line_col(s.file, s.start);
                format!("{}:{line}:{column}: ", self.file(s.file).name)
            });
            return format!("{}{label}: {}\n", position.unwrap_or_default(), diagnostic.message);
        }
        String::from_utf8_lossy(out.as_slice()).into_owned()
    }

    /// `file:line:col: error: message`, the source lines with the primary span marked `^^^` and
    /// each label `---` with its message, and the notes; never coloured: this is the text that
    /// goes into files, logs and the coordinator's answers.
    pub fn render(&self, diagnostic: &Diagnostic) -> String {
        self.render_styled(diagnostic, false)
    }

    pub fn render_all(&self, diagnostics: &Diagnostics) -> String {
        self.render_all_styled(diagnostics, false)
    }

    pub fn render_all_styled(&self, diagnostics: &Diagnostics, color: bool) -> String {
        diagnostics.items.iter().map(|d| self.render_styled(d, color)).collect()
    }

    /// Prints the diagnostics on stderr, coloured when stderr is a terminal and `NO_COLOR` is
    /// not set ([`stderr_color`]).
    pub fn eprint_all(&self, diagnostics: &Diagnostics) {
        let text = self.render_all_styled(diagnostics, stderr_color());
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }

    /// A diagnostic as JSON, with its position resolved.
    pub fn to_json(&self, diagnostic: &Diagnostic) -> serde_json::Value {
        let position = diagnostic.span.map(|span| {
            let (line, column) = self.line_col(span.file, span.start);
            let source = self.file(span.file);
            serde_json::json!({
                "file": source.name,
                "line": line,
                "column": column,
                "text": source.text.get(span.start..span.end).unwrap_or(""),
            })
        });
        serde_json::json!({
            "severity": match diagnostic.severity { Severity::Error => "error", Severity::Warning => "warning" },
            "message": diagnostic.message,
            "location": position,
            "labels": diagnostic.labels.iter().map(|label| {
                let (line, column) = self.line_col(label.span.file, label.span.start);
                serde_json::json!({
                    "file": self.file(label.span.file).name,
                    "line": line,
                    "column": column,
                    "message": label.message,
                })
            }).collect::<Vec<_>>(),
            "notes": diagnostic.notes,
        })
    }
}

/// Whether diagnostics written to stderr are coloured: only on a terminal, and never with
/// `NO_COLOR` set to anything but the empty string (<https://no-color.org>) or `TERM=dumb`.
pub fn stderr_color() -> bool {
    use std::io::IsTerminal;
    color_wanted(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR").as_deref(), std::env::var_os("TERM").as_deref())
}

/// [`stderr_color`]'s rule, given what it looks at.
pub fn color_wanted(terminal: bool, no_color: Option<&std::ffi::OsStr>, term: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty()) && term.is_none_or(|t| t != "dumb")
}

impl<'a> Files<'a> for Sources {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        self.files.get(id.0 as usize).map(|f| f.name.as_str()).ok_or(files::Error::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        self.files.get(id.0 as usize).map(|f| f.text.as_str()).ok_or(files::Error::FileMissing)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, files::Error> {
        let file = self.files.get(id.0 as usize).ok_or(files::Error::FileMissing)?;
        Ok(file.line_starts.partition_point(|start| *start <= byte_index).saturating_sub(1))
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, files::Error> {
        let file = self.files.get(id.0 as usize).ok_or(files::Error::FileMissing)?;
        let start = |line: usize| match line.cmp(&file.line_starts.len()) {
            std::cmp::Ordering::Less => Ok(file.line_starts[line]),
            std::cmp::Ordering::Equal => Ok(file.text.len()),
            std::cmp::Ordering::Greater => Err(files::Error::LineTooLarge { given: line, max: file.line_starts.len() - 1 }),
        };
        Ok(start(line_index)?..start(line_index + 1)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_position_and_marker() {
        let mut sources = Sources::new();
        let file = sources.add("a.click", "x :: Counter;\ny :: Qeue(5);\n");
        let d = Diagnostic::error(Span::new(file, 19, 23), "unknown element class 'Qeue'").note("did you mean Queue?");
        let text = sources.render(&d);
        assert_eq!(
            text,
            "a.click:2:6: error: unknown element class 'Qeue'\n  --> a.click:2:6\n  |\n2 | y :: Qeue(5);\n  |      ^^^^\n  |\n  = note: did you mean Queue?\n\n"
        );
    }

    #[test]
    fn secondary_labels_are_marked_with_their_message() {
        let mut sources = Sources::new();
        let file = sources.add("a.click", "x :: Counter;\nx :: Queue;\n");
        let d = Diagnostic::error(Span::new(file, 14, 15), "element 'x' is already declared on line 1")
            .label(Span::new(file, 0, 1), "'x' is first declared here")
            .label(None, "a place not known adds nothing");
        assert_eq!(d.labels.len(), 1);
        let text = sources.render(&d);
        assert!(text.starts_with("a.click:2:1: error: element 'x' is already declared on line 1\n"), "{text}");
        assert!(text.contains("1 | x :: Counter;\n  | - 'x' is first declared here\n"), "{text}");
        assert!(text.contains("2 | x :: Queue;\n  | ^\n"), "{text}");
        let json = sources.to_json(&d);
        assert_eq!(json["labels"][0]["line"], 1);
        assert_eq!(json["labels"][0]["message"], "'x' is first declared here");
    }

    #[test]
    fn labels_in_another_file_get_their_own_snippet() {
        let mut sources = Sources::new();
        let a = sources.add("a.click", "q :: Queue;\n");
        let b = sources.add("b.click", "\n\nq -> Discard;\n");
        let d = Diagnostic::warning(Span::new(b, 2, 3), "something about q").label(Span::new(a, 0, 1), "declared here");
        let text = sources.render(&d);
        assert!(text.starts_with("b.click:3:1: warning: something about q\n"), "{text}");
        assert!(text.contains("--> b.click:3:1"), "{text}");
        assert!(text.contains("--> a.click:1:1"), "{text}");
    }

    #[test]
    fn colour_only_when_asked() {
        let mut sources = Sources::new();
        let file = sources.add("a.click", "x :: Qeue;\n");
        let d = Diagnostic::error(Span::new(file, 5, 9), "unknown element class 'Qeue'").label(Span::new(file, 0, 1), "element").note("n");
        let mut all = Diagnostics::default();
        all.push(d.clone());
        all.push(Diagnostic::warning(None, "no place"));
        for plain in [sources.render(&d), sources.render_all(&all), sources.render_styled(&d, false)] {
            assert!(!plain.contains('\x1b'), "{plain:?}");
        }
        let coloured = sources.render_styled(&d, true);
        assert!(coloured.contains("\x1b["), "{coloured:?}");
        // The first line keeps its shape once the escapes are taken out.
        let first = coloured.lines().next().unwrap_or_default();
        let mut stripped = String::new();
        let mut chars = first.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                chars.by_ref().find(|c| *c == 'm');
            } else {
                stripped.push(c);
            }
        }
        assert_eq!(stripped, "a.click:1:6: error: unknown element class 'Qeue'");
    }

    #[test]
    fn colour_rule() {
        use std::ffi::OsStr;
        assert!(color_wanted(true, None, Some(OsStr::new("xterm-256color"))));
        assert!(color_wanted(true, Some(OsStr::new("")), None));
        assert!(!color_wanted(false, None, Some(OsStr::new("xterm"))), "not a terminal");
        assert!(!color_wanted(true, Some(OsStr::new("1")), Some(OsStr::new("xterm"))), "NO_COLOR");
        assert!(!color_wanted(true, None, Some(OsStr::new("dumb"))), "TERM=dumb");
    }

    #[test]
    fn without_a_place() {
        let sources = Sources::new();
        let d = Diagnostic::error(None, "the system config names no tenant").note("add a [[tenant]]");
        assert_eq!(sources.render(&d), "error: the system config names no tenant\n = note: add a [[tenant]]\n\n");
    }

    #[test]
    fn span_past_the_end_or_inside_a_character() {
        let mut sources = Sources::new();
        let file = sources.add("u.click", "é :: X;");
        let d = Diagnostic::error(Span::new(file, 1, 99), "odd span");
        assert!(sources.render(&d).starts_with("u.click:1:1: error: odd span\n"), "{}", sources.render(&d));
    }

    #[test]
    fn positions_at_end_of_file() {
        let mut sources = Sources::new();
        let file = sources.add("b.click", "abc");
        assert_eq!(sources.line_col(file, 3), (1, 4));
        let d = Diagnostic::error(Span::new(file, 3, 3), "unexpected end of file");
        assert!(sources.render(&d).starts_with("b.click:1:4: error"));
    }
}
