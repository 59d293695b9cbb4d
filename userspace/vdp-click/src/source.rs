//! Source files, spans and diagnostics rendered as `file:line:col` with the offending text marked.

use std::fmt::Write as _;

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub span: Option<Span>,
    pub message: String,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(span: impl Into<Option<Span>>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, span: span.into(), message: message.into(), notes: vec![] }
    }

    pub fn warning(span: impl Into<Option<Span>>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, span: span.into(), message: message.into(), notes: vec![] }
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

    /// `file:line:col: error: message`, the source line, and carets under the span.
    pub fn render(&self, diagnostic: &Diagnostic) -> String {
        let label = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = String::new();
        match diagnostic.span {
            Some(span) => {
                let source = self.file(span.file);
                let (line, column) = self.line_col(span.file, span.start);
                let _ = writeln!(out, "{}:{line}:{column}: {label}: {}", source.name, diagnostic.message);
                let line_start = source.line_starts[line - 1];
                let line_end = source.text[line_start..].find('\n').map_or(source.text.len(), |n| line_start + n);
                let line_text = &source.text[line_start..line_end];
                let gutter = line.to_string().len();
                let _ = writeln!(out, "{line} | {}", line_text.replace('\t', " "));
                let start_col = column - 1;
                let span_end = span.end.min(line_end).max(span.start);
                let width = source.text.get(span.start..span_end).map_or(1, |s| s.chars().count()).max(1);
                let _ = writeln!(out, "{} | {}{}", " ".repeat(gutter), " ".repeat(start_col), "^".repeat(width));
            }
            None => {
                let _ = writeln!(out, "{label}: {}", diagnostic.message);
            }
        }
        for note in &diagnostic.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        out
    }

    pub fn render_all(&self, diagnostics: &Diagnostics) -> String {
        diagnostics.items.iter().map(|d| self.render(d)).collect()
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
            "notes": diagnostic.notes,
        })
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
            "a.click:2:6: error: unknown element class 'Qeue'\n2 | y :: Qeue(5);\n  |      ^^^^\n  note: did you mean Queue?\n"
        );
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
