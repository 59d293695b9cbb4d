//! Parses Click text into scopes of declarations and connections.
//!
//! Names are resolved while parsing, in order, as Click does: an element used before its
//! declaration is an error. Each statement that fails is reported once and skipped up to its end
//! (its `;`, or where the next statement must start), so one run reports every error in the file.
//! Recovery leaves marks instead of consequences: an element whose declaration failed is kept as
//! a placeholder ([`Damage::Declaration`]) that later uses find without an error, and the
//! elements a failed statement named are marked [`Damage::Connections`], so that later passes
//! do not report them as unconnected.

use crate::args::split_args;
use crate::lexer::{tokenize, Tok, Token};
use crate::source::{Diagnostic, Diagnostics, FileId, Span};
use vdp_core::catalog::{Catalog, MAX_PORTS};

/// Index of the `input` pseudo-element in a compound's scope.
pub const INPUT_PSEUDO: usize = 0;
/// Index of the `output` pseudo-element in a compound's scope.
pub const OUTPUT_PSEUDO: usize = 1;

/// What an error already reported leaves unknown about an element. Later passes skip the rules
/// that would only report consequences of that error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Damage {
    /// Nothing: every rule applies.
    #[default]
    None,
    /// Some of its connections were in text that did not parse: whether its ports are all
    /// connected is unknown.
    Connections,
    /// Its configuration is unknown (cut off by an unterminated construct, or holding an
    /// undefined variable): its arguments, and the ports they decide, are not checked.
    Configuration,
    /// Its declaration did not parse, clashed with another, or it was used undeclared: nothing
    /// about it is checked. A later declaration of the name takes its place without an error.
    Declaration,
}

impl Damage {
    /// Raises the damage to at least `to`.
    pub fn worsen(&mut self, to: Damage) {
        *self = (*self).max(to);
    }
}

#[derive(Clone, Debug)]
pub struct ElementDecl {
    pub name: String,
    pub class: String,
    pub class_span: Span,
    /// Raw configuration text and its span.
    pub config: Option<(String, Span)>,
    pub span: Span,
    pub damage: Damage,
}

#[derive(Clone, Debug)]
pub struct ConnectionDecl {
    pub from: usize,
    pub from_port: u16,
    pub to: usize,
    pub to_port: u16,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct CompoundClass {
    pub name: String,
    pub formals: Vec<(String, Span)>,
    pub body: Scope,
    pub span: Span,
    /// `elementclass A B;` makes A another name for B.
    pub synonym_of: Option<(String, Span)>,
    /// The definition had an error (reported): its instances are placeholders.
    pub broken: bool,
}

#[derive(Clone, Debug)]
pub struct Define {
    pub name: String,
    /// `None` when the definition had an error (reported): uses of the name are not errors,
    /// and the elements using it are not checked.
    pub value: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub elements: Vec<ElementDecl>,
    pub connections: Vec<ConnectionDecl>,
    pub classes: Vec<CompoundClass>,
    pub defines: Vec<Define>,
    pub is_compound: bool,
    /// An unterminated construct swallowed the end of the file: what the lost text declared and
    /// connected is unknown (set on the file's scope).
    pub truncated: bool,
    /// A `define` did not parse and what it named cannot be seen: any variable may have been
    /// meant, so no variable is undefined (set on the file's scope).
    pub defines_unknown: bool,
}

impl Scope {
    fn find(&self, name: &str) -> Option<usize> {
        self.elements.iter().position(|e| e.name == name)
    }
}

/// Requirements vdp satisfies, besides the names of its element classes.
pub const PROVIDED_REQUIREMENTS: &[&str] = &["vdp", "linuxmodule"];

/// Parses one file. Errors go to `diagnostics`; the scope holds everything that parsed.
pub fn parse(file: FileId, text: &str, diagnostics: &mut Diagnostics) -> Scope {
    parse_with(Catalog::LIBRARY, file, text, diagnostics)
}

/// [`parse`], recognising the class names of `catalog` (custom classes as well as the library's).
pub fn parse_with(catalog: Catalog, file: FileId, text: &str, diagnostics: &mut Diagnostics) -> Scope {
    let tokens = tokenize(file, text, diagnostics);
    let truncated = tokens.iter().any(|t| t.tok == Tok::Unterminated);
    let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1)).collect();
    let mut parser = Parser {
        tokens,
        at: 0,
        text,
        line_starts,
        diagnostics,
        class_names: vec![Vec::new()],
        catalog,
        touched: Vec::new(),
        truncated,
        past_block: false,
        statement_start: 0,
        nameless_class: false,
        defines_unknown: false,
        names_unknown: false,
        invalid_lines: std::collections::HashSet::new(),
    };
    parser.invalid_lines = parser.tokens.iter().filter(|t| t.tok == Tok::Invalid).map(|t| parser.line_at(t.span.start)).collect();
    let mut scope = Scope { truncated, ..Scope::default() };
    parser.parse_body(&mut scope, false);
    scope.defines_unknown = parser.defines_unknown;
    if parser.nameless_class {
        // An element of a class nobody defines may be an instance of the class whose name is
        // missing: it is not checked.
        for element in &mut scope.elements {
            let known = catalog.class_by_name(&element.class).is_some() || scope.classes.iter().any(|c| c.name == element.class);
            if !known {
                element.damage.worsen(Damage::Declaration);
            }
        }
    }
    scope
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    text: &'a str,
    /// Where each line of the text starts.
    line_starts: Vec<usize>,
    diagnostics: &'a mut Diagnostics,
    /// Compound class names visible in each enclosing scope, innermost last.
    class_names: Vec<Vec<String>>,
    /// The classes configurations may name.
    catalog: Catalog,
    /// Elements of the current scope that the statement being parsed has named so far.
    touched: Vec<usize>,
    /// The lexer lost the end of the file (see [`Scope::truncated`]).
    truncated: bool,
    /// The failed statement's `{ ... }` was skipped whole: its `}` closes nothing outside.
    past_block: bool,
    /// The token the statement being parsed starts at.
    statement_start: usize,
    /// An `elementclass` without its name was skipped (see [`parse_with`]).
    nameless_class: bool,
    /// See [`Scope::defines_unknown`].
    defines_unknown: bool,
    /// A declaration lost its name (`-> :: Class`): a later use of an undeclared name may mean
    /// it, and is not an error.
    names_unknown: bool,
    /// The lines (zero-based) holding a character the lexer reported.
    invalid_lines: std::collections::HashSet<usize>,
}

/// What follows `::` in a declaration.
struct ClassAndConfig {
    class: String,
    class_span: Span,
    /// The configuration's text and span.
    config: Option<(String, Span)>,
    /// The configuration ran unterminated to the end of the file (reported by the lexer).
    lost: bool,
}

/// A failed statement; the error is already reported.
struct Failed;

type Parsed<T> = Result<T, Failed>;

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.at.min(self.tokens.len() - 1)].tok
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.tokens[(self.at + ahead).min(self.tokens.len() - 1)].tok
    }

    fn span(&self) -> Span {
        self.tokens[self.at.min(self.tokens.len() - 1)].span
    }

    fn advance(&mut self) -> Token {
        let token = self.tokens[self.at.min(self.tokens.len() - 1)].clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        token
    }

    fn fail<T>(&mut self, span: Span, message: impl Into<String>) -> Parsed<T> {
        self.report(span, message);
        Err(Failed)
    }

    /// Reports the statement's error, unless the lexer already reported one in it: what follows
    /// a stray character is taken for the same mistake.
    fn report(&mut self, span: Span, message: impl Into<String>) {
        self.report_with(Diagnostic::error(span, message));
    }

    /// [`Self::report`] for a diagnostic built with its labels and notes.
    fn report_with(&mut self, diagnostic: Diagnostic) {
        let end = self.at.min(self.tokens.len() - 1);
        let lexed = self.tokens.get(self.statement_start..=end).is_some_and(|t| t.iter().any(|t| t.tok == Tok::Invalid))
            || diagnostic.span.is_some_and(|span| self.invalid_lines.contains(&self.line_at(span.start)));
        if !lexed {
            self.diagnostics.push(diagnostic);
        }
    }

    /// The zero-based line of a byte offset.
    fn line_at(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|start| *start <= offset).saturating_sub(1)
    }

    /// Fails at `token`, which is not what the statement needs; without a message when the lexer
    /// already reported it.
    fn unexpected<T>(&mut self, token: &Token, message: impl Into<String>) -> Parsed<T> {
        if matches!(token.tok, Tok::Invalid | Tok::Unterminated) {
            return Err(Failed);
        }
        self.fail(token.span, message)
    }

    fn current(&self) -> Token {
        self.tokens[self.at.min(self.tokens.len() - 1)].clone()
    }

    fn describe(tok: &Tok) -> String {
        match tok {
            Tok::Word(w) => format!("'{w}'"),
            Tok::Variable(v) => format!("'${v}'"),
            Tok::Config(_) => "a configuration string".into(),
            Tok::DoubleColon => "'::'".into(),
            Tok::Arrow => "'->'".into(),
            Tok::LeftBracket => "'['".into(),
            Tok::RightBracket => "']'".into(),
            Tok::LeftBrace => "'{'".into(),
            Tok::RightBrace => "'}'".into(),
            Tok::Comma => "','".into(),
            Tok::Semicolon => "';'".into(),
            Tok::Bar => "'|'".into(),
            Tok::Invalid => "an invalid character".into(),
            Tok::Unterminated => "an unterminated construct".into(),
            Tok::Eof => "end of file".into(),
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.text.get(..offset).map_or(0, |t| t.matches('\n').count()) + 1
    }

    /// A statement on a line with a stray character (reported) is not what was meant: what it
    /// declared (from `declared_before` on) is a placeholder, what it named lost its connections.
    fn after_stray_characters(&mut self, scope: &mut Scope, declared_before: usize) {
        let first = self.tokens[self.statement_start.min(self.tokens.len() - 1)].span.start;
        let last = self.tokens[self.at.saturating_sub(1).max(self.statement_start).min(self.tokens.len() - 1)].span.start;
        let (first, last) = (self.line_at(first), self.line_at(last));
        if !(first..=last).any(|line| self.invalid_lines.contains(&line)) {
            return;
        }
        for &index in &self.touched {
            let pseudo = scope.is_compound && index <= OUTPUT_PSEUDO;
            if let Some(element) = scope.elements.get_mut(index) {
                element.damage.worsen(if index >= declared_before && !pseudo { Damage::Declaration } else { Damage::Connections });
            }
        }
    }

    /// Marks what the failed statement named and skips the rest of it.
    fn statement_failed(&mut self, scope: &mut Scope) {
        for index in std::mem::take(&mut self.touched) {
            if let Some(element) = scope.elements.get_mut(index) {
                element.damage.worsen(Damage::Connections);
            }
        }
        // In a compound, what the statement lost may have been connected to the compound's
        // ports.
        if scope.is_compound {
            for pseudo in [INPUT_PSEUDO, OUTPUT_PSEUDO] {
                scope.elements[pseudo].damage.worsen(Damage::Connections);
            }
        }
        self.recover_after_failure(scope);
    }

    /// Skips to the end of the failed statement, keeping braces balanced.
    fn recover_after_failure(&mut self, scope: &mut Scope) {
        // The failing token may itself have ended the statement or the enclosing compound.
        let past_block = std::mem::take(&mut self.past_block);
        match self.at.checked_sub(1).map(|last| &self.tokens[last].tok) {
            Some(Tok::Semicolon) => {}
            Some(Tok::RightBrace) if !past_block => self.at -= 1,
            _ => self.skip_statement(scope),
        }
    }

    /// Whether the word at `at` must start a new statement: it follows a word, a configuration
    /// or an output port (after which no statement continues with a word), or it is a keyword
    /// that starts a statement.
    fn starts_statement(&self, at: usize) -> bool {
        let tok = |i: usize| self.tokens.get(i).map(|t| &t.tok);
        let Some(Tok::Word(word)) = tok(at) else { return false };
        if word == "elementclass" || ((word == "require" || word == "define") && matches!(tok(at + 1), Some(Tok::Config(_)))) {
            return true;
        }
        match at.checked_sub(1).and_then(tok) {
            Some(Tok::Word(_) | Tok::Config(_)) => true,
            // `x [1] next` ends x's statement; `-> [1] next` is an input port of next.
            Some(Tok::RightBracket) => {
                matches!(at.checked_sub(3).and_then(tok), Some(Tok::LeftBracket)) && !matches!(at.checked_sub(4).and_then(tok), Some(Tok::Arrow))
            }
            _ => false,
        }
    }

    /// Skips the rest of a failed statement, keeping braces balanced, up to its `;`, the `}`
    /// closing the enclosing compound, or the start of the next statement. The skipped text is
    /// not checked, but what it declares is declared (its connections unknown) and the elements
    /// it names lose their connection checks, so that the one error reported stays alone.
    fn skip_statement(&mut self, scope: &mut Scope) {
        let mut depth = 0usize;
        // The skip ends at the first word of a later line that could start a statement: a word
        // on the failure's own line is taken for more of the same mistake (a line of prose whose
        // '//' was lost is one error).
        let failed_line = self.line_at(self.tokens[self.at.saturating_sub(1)].span.start);
        // The names of a declaration list (`a, b :: Class`) seen so far.
        let mut pending: Vec<(String, Span)> = Vec::new();
        loop {
            let token = self.current();
            match &token.tok {
                Tok::Eof => break,
                Tok::Semicolon if depth == 0 => {
                    self.advance();
                    break;
                }
                Tok::RightBrace if depth == 0 => break,
                Tok::LeftBrace => depth += 1,
                Tok::RightBrace => depth -= 1,
                // Words in brackets are port numbers.
                Tok::Word(word) if depth == 0 && !matches!(self.tokens[self.at.saturating_sub(1)].tok, Tok::LeftBracket) => {
                    // Only a line's first word: one in the middle of a line goes on what came before.
                    let line = self.line_at(token.span.start);
                    let first_on_line = self.at == 0 || self.line_at(self.tokens[self.at - 1].span.start) < line;
                    if self.starts_statement(self.at) && line > failed_line && first_on_line {
                        break;
                    }
                    self.skipped_word(scope, word.clone(), token.span, &mut pending);
                    continue;
                }
                _ => {}
            }
            self.advance();
        }
        for (name, span) in pending {
            self.placeholder(scope, name, span);
        }
    }

    /// One word of skipped text at the statement level (the parser is at it): a declaration is
    /// made, a reference marks its element, an unknown lower-case name becomes a placeholder.
    /// Moves past what it used.
    fn skipped_word(&mut self, scope: &mut Scope, word: String, span: Span, pending: &mut Vec<(String, Span)>) {
        self.advance();
        match self.peek().clone() {
            Tok::Comma => {
                self.advance();
                pending.push((word, span));
            }
            Tok::DoubleColon => {
                self.advance();
                pending.push((word, span));
                let names = std::mem::take(pending);
                let class_token = self.current();
                match class_token.tok {
                    Tok::Word(class) => {
                        self.advance();
                        let config = match self.peek().clone() {
                            Tok::Config(text) => Some((text, self.advance().span)),
                            _ => None,
                        };
                        for (name, span) in names {
                            if scope.find(&name).is_some() {
                                self.placeholder(scope, name, span);
                            } else {
                                let index = self.declare(scope, name, span, class.clone(), class_token.span, config.clone());
                                scope.elements[index].damage.worsen(Damage::Connections);
                            }
                        }
                    }
                    _ => {
                        for (name, span) in names {
                            self.placeholder(scope, name, span);
                        }
                    }
                }
            }
            next => {
                for (name, span) in std::mem::take(pending) {
                    self.placeholder(scope, name, span);
                }
                let anonymous = self.is_class_name(&word) || matches!(next, Tok::Config(_)) || word.starts_with(|c: char| c.is_ascii_uppercase());
                if scope.find(&word).is_some() || !anonymous {
                    self.placeholder(scope, word, span);
                }
            }
        }
    }

    /// Marks `name`'s connections as unknown, declaring it as a placeholder if it is not
    /// declared: a later use finds it without an error, a later declaration replaces it.
    fn placeholder(&mut self, scope: &mut Scope, name: String, span: Span) {
        match scope.find(&name) {
            Some(index) => scope.elements[index].damage.worsen(Damage::Connections),
            None => scope.elements.push(ElementDecl { name, class: String::new(), class_span: span, config: None, span, damage: Damage::Declaration }),
        }
    }

    fn parse_body(&mut self, scope: &mut Scope, in_braces: bool) {
        let mut last_start = usize::MAX;
        // The elements of the statement before, its first new element and its last line, when
        // it ended without a ';'.
        let mut glued: Option<(Vec<usize>, usize, usize)> = None;
        loop {
            // Every statement consumes at least one token, so a failure can never loop forever.
            if last_start != usize::MAX && self.at <= last_start {
                self.at = last_start;
                self.advance();
            }
            last_start = self.at;
            self.statement_start = self.at;
            self.touched.clear();
            let declared_before = scope.elements.len();
            let result = match self.peek().clone() {
                Tok::Eof => {
                    // Text lost to an unterminated construct may have held the '}'.
                    if in_braces && !self.truncated {
                        self.diagnostics.error(self.span(), "missing '}' at end of file");
                    }
                    return;
                }
                Tok::RightBrace if in_braces => return,
                Tok::RightBrace => {
                    let span = self.span();
                    self.advance();
                    self.diagnostics.error(span, "unmatched '}'");
                    continue;
                }
                Tok::Semicolon => {
                    self.advance();
                    continue;
                }
                Tok::Invalid | Tok::Unterminated => {
                    self.advance();
                    Err(Failed)
                }
                Tok::Word(w) if w == "elementclass" => {
                    // A compound's closing brace ends the statement; no ';' is needed.
                    if self.parse_elementclass(scope).is_err() {
                        self.recover_after_failure(scope);
                    }
                    continue;
                }
                Tok::Word(w) if (w == "require" || w == "define") && !matches!(self.peek_at(1), Tok::Config(_) | Tok::DoubleColon | Tok::Arrow | Tok::LeftBracket | Tok::Comma) => {
                    let span = self.advance().span;
                    self.report(span, format!("'{w}' takes its arguments in parentheses: {w}(...)"));
                    if w == "define" {
                        // What it defined is not known.
                        self.defines_unknown = true;
                    }
                    Err(Failed)
                }
                Tok::Word(name) if matches!(self.peek_at(1), Tok::LeftBrace) && name != "elementclass" => {
                    // `Name { ... }`: a compound class without its keyword. Its uses are not
                    // unknown classes too.
                    let name_token = self.advance();
                    let brace = self.advance();
                    self.report(brace.span, format!("'{{' after '{name}': a compound class is written 'elementclass {name} {{ ... }}'"));
                    self.skip_to_closing_brace();
                    self.broken_class(scope, name, name_token.span);
                    continue;
                }
                Tok::Word(w) if (w == "require" || w == "define") && matches!(self.peek_at(1), Tok::Config(_)) => {
                    // Like Click, these need no ';' after them.
                    let result = if w == "require" { self.parse_require() } else { self.parse_define(scope) };
                    if result.is_err() {
                        self.recover_after_failure(scope);
                    }
                    continue;
                }
                _ => self.parse_statement(scope),
            };
            self.after_stray_characters(scope, declared_before);
            let before = glued.take();
            match result {
                // Click lets a statement end without ';' when the next one starts.
                Ok(()) => match self.peek() {
                    Tok::Semicolon => {
                        self.advance();
                    }
                    // A stray character right after a statement is part of it.
                    Tok::Invalid | Tok::Unterminated => {
                        self.advance();
                        self.statement_failed(scope);
                    }
                    _ => {
                        let line = self.line_at(self.tokens[self.at.saturating_sub(1)].span.start);
                        glued = Some((std::mem::take(&mut self.touched), declared_before, line));
                    }
                },
                Err(Failed) => {
                    // A statement that fails at its first word, on the line where the one before
                    // it ended without a ';', is more of that one: a name that was not meant as
                    // a statement (`link 0] -> x`, a line of prose).
                    let first_line = self.line_at(self.tokens[self.statement_start.min(self.tokens.len() - 1)].span.start);
                    if let Some((touched, declared, _)) = before.filter(|(_, _, line)| *line == first_line && self.at <= self.statement_start + 1) {
                        for index in touched {
                            let pseudo = scope.is_compound && index <= OUTPUT_PSEUDO;
                            if let Some(element) = scope.elements.get_mut(index) {
                                element.damage.worsen(if index >= declared && !pseudo { Damage::Declaration } else { Damage::Connections });
                            }
                        }
                    }
                    self.statement_failed(scope);
                }
            }
        }
    }

    fn parse_require(&mut self) -> Parsed<()> {
        self.advance();
        let token = self.advance();
        let Tok::Config(config) = token.tok else { unreachable!("checked by the caller") };
        for arg in split_args(&config) {
            let span = Span::new(token.span.file, token.span.start + arg.start, token.span.start + arg.end);
            let words: Vec<&str> = arg.text.split_whitespace().collect();
            let name = match words.as_slice() {
                ["package", name] => name.trim_matches('"'),
                [name] => name,
                _ => {
                    self.diagnostics.error(span, format!("cannot understand requirement '{}'", arg.text));
                    continue;
                }
            };
            if !(PROVIDED_REQUIREMENTS.contains(&name) || self.catalog.class_by_name(name).is_some()) {
                let mut diagnostic = Diagnostic::error(span, format!("requirement '{name}' is not available in vdp"))
                    .note(format!("vdp provides {} and the element classes of its catalog", PROVIDED_REQUIREMENTS.join(", ")));
                if let Some(left_out) = crate::unsupported::lookup(name) {
                    diagnostic = diagnostic.note(format!("{name} is a Click class vdp does not support: {}", left_out.reason.summary()));
                }
                self.diagnostics.push(diagnostic);
            }
        }
        Ok(())
    }

    fn parse_define(&mut self, scope: &mut Scope) -> Parsed<()> {
        self.advance();
        let token = self.advance();
        let Tok::Config(config) = token.tok else { unreachable!("checked by the caller") };
        for arg in split_args(&config) {
            let span = Span::new(token.span.file, token.span.start + arg.start, token.span.start + arg.end);
            let text = arg.text.as_str();
            let name_end = text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$')).unwrap_or(text.len());
            let name = &text[..name_end];
            let value = text[name_end..].trim();
            if !name.starts_with('$') || name.len() < 2 || name[1..].contains('$') {
                self.diagnostics.error(span, "define takes '$NAME value' arguments");
                // The name meant, if one can be seen, is known to be defined: its uses are not
                // errors too.
                let meant = name.trim_start_matches('$');
                let looks_like_a_name = meant.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && !meant.contains('$');
                if !looks_like_a_name {
                    self.defines_unknown = true;
                } else if !scope.defines.iter().any(|d| d.name == meant) {
                    scope.defines.push(Define { name: meant.to_string(), value: None, span });
                }
                continue;
            }
            let name = name[1..].to_string();
            if let Some(previous) = scope.defines.iter().find(|d| d.name == name) {
                let line = self.line_of(previous.span.start);
                let first = previous.span;
                self.diagnostics.push(
                    Diagnostic::error(span, format!("${name} is already defined on line {line}")).label(first, format!("${name} is first defined here")),
                );
                continue;
            }
            scope.defines.push(Define { name, value: Some(value.to_string()), span });
        }
        Ok(())
    }

    /// Skips a class definition that is not used: `{ ... }` up to its matching `}`, or the
    /// other name of a synonym.
    fn skip_class_definition(&mut self) {
        match self.peek() {
            Tok::Word(_) => {
                self.advance();
            }
            Tok::LeftBrace => {
                self.advance();
                self.skip_to_closing_brace();
            }
            _ => {}
        }
    }

    /// Skips past the `}` that closes a brace already passed.
    fn skip_to_closing_brace(&mut self) {
        let mut depth = 1usize;
        loop {
            match self.advance().tok {
                Tok::Eof => return,
                Tok::LeftBrace => depth += 1,
                Tok::RightBrace => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    /// Records a class whose definition had an error: its instances are placeholders.
    fn broken_class(&mut self, scope: &mut Scope, name: String, span: Span) {
        if let Some(names) = self.class_names.last_mut() {
            names.push(name.clone());
        }
        scope.classes.push(CompoundClass { name, formals: vec![], body: Scope::default(), span, synonym_of: None, broken: true });
    }

    fn parse_elementclass(&mut self, scope: &mut Scope) -> Parsed<()> {
        let keyword = self.advance();
        let name_token = self.advance();
        let Tok::Word(name) = name_token.tok.clone() else {
            let result = self.unexpected(&name_token, "expected a class name after 'elementclass'");
            if name_token.tok == Tok::LeftBrace {
                // The body is the class's: skip it whole.
                self.nameless_class = true;
                self.skip_to_closing_brace();
                return Ok(());
            }
            return result;
        };
        let span = keyword.span.to(name_token.span);
        if self.catalog.class_by_name(&name).is_some() {
            self.report(name_token.span, format!("elementclass '{name}' would hide the built-in class"));
            // The configuration's uses of the name mean this definition.
            self.broken_class(scope, name, span);
            self.skip_class_definition();
            return Ok(());
        }
        if let Some(previous) = scope.classes.iter().find(|c| c.name == name) {
            let line = self.line_of(previous.span.start);
            let first = previous.span;
            self.report_with(
                Diagnostic::error(name_token.span, format!("class '{name}' is already defined on line {line}")).label(first, format!("'{name}' is first defined here")),
            );
            self.skip_class_definition();
            return Ok(());
        }
        let class = match self.peek().clone() {
            // `elementclass A B` names B; a word that goes on into a connection starts a body
            // whose '{' is missing.
            Tok::Word(other) if !matches!(self.peek_at(1), Tok::Arrow | Tok::LeftBracket | Tok::DoubleColon | Tok::Comma | Tok::Bar) => {
                let other_span = self.advance().span;
                CompoundClass { name: name.clone(), formals: vec![], body: Scope::default(), span, synonym_of: Some((other, other_span)), broken: false }
            }
            Tok::LeftBrace => {
                self.advance();
                let Ok(formals) = self.parse_formals() else {
                    self.broken_class(scope, name, span);
                    self.skip_to_closing_brace();
                    return Ok(());
                };
                let mut body = Scope {
                    is_compound: true,
                    elements: ["input", "output"]
                        .iter()
                        .map(|pseudo| ElementDecl {
                            name: pseudo.to_string(),
                            class: pseudo.to_string(),
                            class_span: span,
                            config: None,
                            span,
                            damage: Damage::None,
                        })
                        .collect(),
                    ..Scope::default()
                };
                self.class_names.push(Vec::new());
                self.parse_body(&mut body, true);
                self.class_names.pop();
                if matches!(self.peek(), Tok::RightBrace) {
                    self.advance();
                }
                CompoundClass { name: name.clone(), formals, body, span, synonym_of: None, broken: false }
            }
            _ => {
                let token = self.current();
                let message = format!("expected '{{' or a class name after 'elementclass {name}', found {}", Self::describe(&token.tok));
                self.broken_class(scope, name, span);
                let result = self.unexpected(&token, message);
                // A body whose '{' is missing ends at the '}' that would have closed it.
                if matches!(token.tok, Tok::Variable(_) | Tok::Word(_) | Tok::Bar) && self.tokens[self.at..].iter().any(|t| t.tok == Tok::RightBrace) {
                    self.skip_to_closing_brace();
                    return Ok(());
                }
                return result;
            }
        };
        if let Some(names) = self.class_names.last_mut() {
            names.push(name);
        }
        scope.classes.push(class);
        Ok(())
    }

    /// `$a, $b |` at the start of a compound body, if present.
    fn parse_formals(&mut self) -> Parsed<Vec<(String, Span)>> {
        // A '|' before the body's first statement ends ends the parameters, even if they are
        // malformed.
        let ahead = self.tokens[self.at..]
            .iter()
            .take_while(|t| !matches!(t.tok, Tok::Arrow | Tok::Semicolon | Tok::LeftBrace | Tok::RightBrace | Tok::DoubleColon | Tok::Eof))
            .any(|t| t.tok == Tok::Bar);
        if !matches!(self.peek(), Tok::Variable(_)) && !ahead {
            return Ok(vec![]);
        }
        let mut formals: Vec<(String, Span)> = Vec::new();
        loop {
            let token = self.advance();
            let Tok::Variable(name) = token.tok.clone() else {
                return self.unexpected(&token, "expected a formal parameter like '$name'");
            };
            if formals.iter().any(|(f, _)| *f == name) {
                return self.fail(token.span, format!("formal parameter ${name} appears twice"));
            }
            formals.push((name, token.span));
            match self.peek() {
                Tok::Comma => {
                    self.advance();
                }
                Tok::Bar => {
                    self.advance();
                    return Ok(formals);
                }
                _ => {
                    let token = self.current();
                    let message = format!("expected ',' or '|' after formal parameter, found {}", Self::describe(&token.tok));
                    return self.unexpected(&token, message);
                }
            }
        }
    }

    fn is_class_name(&self, word: &str) -> bool {
        self.catalog.class_by_name(word).is_some() || self.class_names.iter().any(|names| names.iter().any(|n| n == word))
    }

    fn parse_statement(&mut self, scope: &mut Scope) -> Parsed<()> {
        if let (Tok::Word(_), Tok::Comma) = (self.peek(), self.peek_at(1)) {
            return self.parse_multi_declaration(scope);
        }
        if matches!(self.peek(), Tok::LeftBracket) {
            let span = self.advance().span;
            return self.fail(span, "a connection cannot start with an input port");
        }
        let (mut previous, mut previous_port) = self.parse_endpoint(scope)?;
        while matches!(self.peek(), Tok::Arrow) {
            let arrow = self.advance().span;
            let in_port = if matches!(self.peek(), Tok::LeftBracket) { self.parse_port()? } else { 0 };
            let (element, out_port) = self.parse_endpoint(scope)?;
            if scope.is_compound && element == INPUT_PSEUDO {
                return self.fail(arrow, "'input' can only be the source of a connection");
            }
            if scope.is_compound && previous == OUTPUT_PSEUDO {
                return self.fail(arrow, "'output' can only be the target of a connection");
            }
            scope.connections.push(ConnectionDecl { from: previous, from_port: previous_port, to: element, to_port: in_port, span: arrow });
            previous = element;
            previous_port = out_port;
        }
        // `x [1]` names an output to connect: a statement cannot end there.
        let last = self.tokens[self.at.saturating_sub(1)].clone();
        if last.tok == Tok::RightBracket && !matches!(self.peek(), Tok::Invalid | Tok::Unterminated) {
            let name = &scope.elements[previous].name;
            return self.fail(last.span, format!("output [{previous_port}] of '{name}' connects to nothing: '->' expected after it"));
        }
        Ok(())
    }

    fn parse_multi_declaration(&mut self, scope: &mut Scope) -> Parsed<()> {
        let mut names = Vec::new();
        let result = self.parse_multi_declaration_into(scope, &mut names);
        if result.is_err() {
            // The names are declared, as well as the statement tells.
            for (name, span) in names {
                self.placeholder(scope, name, span);
            }
        }
        result
    }

    fn parse_multi_declaration_into(&mut self, scope: &mut Scope, names: &mut Vec<(String, Span)>) -> Parsed<()> {
        loop {
            let token = self.advance();
            let Tok::Word(name) = token.tok.clone() else {
                return self.unexpected(&token, "expected an element name in a declaration list");
            };
            names.push((name, token.span));
            match self.peek() {
                Tok::Comma => {
                    self.advance();
                }
                Tok::DoubleColon => {
                    self.advance();
                    break;
                }
                _ => {
                    let token = self.current();
                    let message = format!("expected ',' or '::' in a declaration list, found {}", Self::describe(&token.tok));
                    return self.unexpected(&token, message);
                }
            }
        }
        let ClassAndConfig { class, class_span, config, lost } = self.parse_class_and_config()?;
        for (name, span) in std::mem::take(names) {
            let index = self.declare(scope, name, span, class.clone(), class_span, config.clone());
            self.touched.push(index);
            if lost {
                scope.elements[index].damage.worsen(Damage::Configuration);
            }
        }
        if lost {
            return Err(Failed);
        }
        Ok(())
    }

    /// `Class` or `Class(config)` after `::`.
    fn parse_class_and_config(&mut self) -> Parsed<ClassAndConfig> {
        let token = self.advance();
        let Tok::Word(class) = token.tok.clone() else {
            let message = format!("expected an element class after '::', found {}", Self::describe(&token.tok));
            return self.unexpected(&token, message);
        };
        let config = match self.peek().clone() {
            Tok::Config(text) => Some((text, self.advance().span)),
            _ => None,
        };
        let lost = config.is_none() && matches!(self.peek(), Tok::Unterminated);
        Ok(ClassAndConfig { class, class_span: token.span, config, lost })
    }

    fn declare(&mut self, scope: &mut Scope, name: String, span: Span, class: String, class_span: Span, config: Option<(String, Span)>) -> usize {
        if let Some(previous) = scope.find(&name) {
            let pseudo = scope.is_compound && previous <= OUTPUT_PSEUDO;
            if !pseudo && scope.elements[previous].damage == Damage::Declaration {
                // Its earlier declaration failed, or it was used before this one (reported
                // then): this declaration is the element; what was connected to it so far is not.
                scope.elements[previous] = ElementDecl { name, class, class_span, config, span, damage: Damage::Connections };
                return previous;
            }
            let diagnostic = if pseudo {
                Diagnostic::error(span, format!("'{name}' is reserved for the compound's ports"))
            } else {
                let first = scope.elements[previous].span;
                let line = self.line_of(first.start);
                Diagnostic::error(span, format!("element '{name}' is already declared on line {line}")).label(first, format!("'{name}' is first declared here"))
            };
            self.diagnostics.push(diagnostic);
            // Which declaration its connections meant is unknown.
            if !pseudo {
                scope.elements[previous].damage.worsen(Damage::Declaration);
            }
            return previous;
        }
        if self.is_class_name(&name) {
            self.diagnostics.push(Diagnostic::warning(span, format!("element name '{name}' is also the name of a class")));
        }
        scope.elements.push(ElementDecl { name, class, class_span, config, span, damage: Damage::None });
        scope.elements.len() - 1
    }

    fn parse_port(&mut self) -> Parsed<u16> {
        let open = self.advance().span;
        let token = self.advance();
        let port = match &token.tok {
            Tok::Word(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => match digits.parse::<u16>() {
                Ok(port) if port < MAX_PORTS => port,
                _ => return self.fail(token.span, format!("port number {digits} is too large (at most {})", MAX_PORTS - 1)),
            },
            other => {
                let message = format!("expected a port number in '[ ]', found {}", Self::describe(other));
                return self.unexpected(&token, message);
            }
        };
        let close = self.advance();
        if close.tok != Tok::RightBracket {
            if matches!(close.tok, Tok::Invalid | Tok::Unterminated) {
                return Err(Failed);
            }
            return self.fail(open.to(close.span), "expected ']' after port number");
        }
        Ok(port)
    }

    /// An element reference, declaration or anonymous element, with its optional output port.
    fn parse_endpoint(&mut self, scope: &mut Scope) -> Parsed<(usize, u16)> {
        let token = self.advance();
        let element = match token.tok.clone() {
            Tok::Word(word) => {
                if matches!(self.peek(), Tok::DoubleColon) {
                    self.advance();
                    let Ok(ClassAndConfig { class, class_span, config, lost }) = self.parse_class_and_config() else {
                        self.placeholder(scope, word, token.span);
                        return Err(Failed);
                    };
                    let index = self.declare(scope, word, token.span, class, class_span, config);
                    self.touched.push(index);
                    if lost {
                        scope.elements[index].damage.worsen(Damage::Configuration);
                        return Err(Failed);
                    }
                    index
                } else if let Some(index) = scope.find(&word) {
                    self.touched.push(index);
                    if let Tok::Config(_) = self.peek() {
                        return self.fail(self.span(), format!("'{word}' is an element, not a class: it takes no configuration here"));
                    }
                    index
                } else if self.is_class_name(&word)
                    || matches!(self.peek(), Tok::Config(_) | Tok::Unterminated)
                    || word.starts_with(|c: char| c.is_ascii_uppercase())
                {
                    let config = match self.peek().clone() {
                        Tok::Config(text) => Some((text, self.advance().span)),
                        _ => None,
                    };
                    let mut number = scope.elements.len() + 1 - if scope.is_compound { 2 } else { 0 };
                    let mut name = format!("{word}@{number}");
                    while scope.find(&name).is_some() {
                        number += 1;
                        name = format!("{word}@{number}");
                    }
                    let lost = config.is_none() && matches!(self.peek(), Tok::Unterminated);
                    let damage = if lost { Damage::Configuration } else { Damage::None };
                    scope.elements.push(ElementDecl { name, class: word, class_span: token.span, config, span: token.span, damage });
                    self.touched.push(scope.elements.len() - 1);
                    if lost {
                        return Err(Failed);
                    }
                    scope.elements.len() - 1
                } else {
                    if !self.names_unknown {
                        self.report(token.span, format!("undeclared element '{word}'"));
                    }
                    // One error for the name: its later uses find the placeholder.
                    self.placeholder(scope, word, token.span);
                    return Err(Failed);
                }
            }
            Tok::DoubleColon => {
                self.report(token.span, "expected an element name before '::'");
                // Its name is lost: later uses of a name never declared may mean it.
                self.names_unknown = true;
                return Err(Failed);
            }
            Tok::LeftBrace => {
                self.report(token.span, "anonymous compound classes ('{ ... }' in a connection) are not supported; declare them with 'elementclass'");
                self.skip_to_closing_brace();
                self.past_block = true;
                return Err(Failed);
            }
            other => {
                // `($X value)` at a statement's start is a define without its keyword: what it
                // defined is not known.
                if let Tok::Config(text) = &other {
                    self.defines_unknown |= text.trim_start().starts_with('$');
                }
                let message = format!("expected an element, found {}", Self::describe(&other));
                return self.unexpected(&token, message);
            }
        };
        let out_port = if matches!(self.peek(), Tok::LeftBracket) { self.parse_port()? } else { 0 };
        Ok((element, out_port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> (Scope, Vec<String>) {
        let mut diagnostics = Diagnostics::default();
        let scope = parse(FileId(0), text, &mut diagnostics);
        (scope, diagnostics.items.into_iter().filter(|d| d.is_error()).map(|d| d.message).collect())
    }

    #[test]
    fn declarations_chains_and_ports() {
        let (scope, errors) = parse_text("a, b :: Counter; src :: InfiniteSource(LIMIT 5) -> a [0] -> [0] b -> Discard;");
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<_> = scope.elements.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "src", "Discard@4"]);
        assert_eq!(scope.connections.len(), 3);
        assert_eq!(scope.elements[2].config.as_ref().unwrap().0, "LIMIT 5");
    }

    #[test]
    fn undeclared_and_duplicate() {
        let (_, errors) = parse_text("x -> Discard;\ny :: Counter; y :: Counter;\nc :: Tee; c(2) -> Discard;");
        assert_eq!(
            errors,
            [
                "undeclared element 'x'",
                "element 'y' is already declared on line 2",
                "'c' is an element, not a class: it takes no configuration here"
            ]
        );
    }

    #[test]
    fn all_errors_of_a_file_are_reported() {
        let (scope, errors) = parse_text("a :: ; b :: Counter [x] -> Discard; Idle -> ]; ok :: Counter;");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(scope.elements.iter().any(|e| e.name == "ok"));
    }

    #[test]
    fn compounds_defines_requires() {
        let text = "define($N 5)\nrequire(vdp, Queue)\nelementclass Box { $cap | input -> q :: Queue($cap) -> output }\nb :: Box($N);";
        let (scope, errors) = parse_text(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(scope.defines[0].name, "N");
        assert_eq!(scope.classes[0].formals.len(), 1);
        assert_eq!(scope.classes[0].body.connections.len(), 2);
        let (_, errors) = parse_text("require(userlevel); require(package \"ns\")");
        assert_eq!(errors.len(), 2);
        let mut diagnostics = Diagnostics::default();
        parse(FileId(0), "require(SATable)", &mut diagnostics);
        assert!(diagnostics.items[0].notes[1].contains("SATable is a Click class vdp does not support: vdp has no IPsec"), "{:?}", diagnostics.items);
    }

    #[test]
    fn recovery_always_moves_forward() {
        for text in ["}[", "}[}[", "{ } ] [", "elementclass X { } } [ ->"] {
            let (_, errors) = parse_text(text);
            assert!(!errors.is_empty() && errors.len() <= text.len(), "{text:?}: {errors:?}");
        }
    }

    #[test]
    fn semicolons_between_statements_are_optional() {
        let (scope, errors) = parse_text("a :: Counter b :: Counter\nIdle -> a -> Discard\nIdle -> b -> Discard");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(scope.elements.len(), 6);
        assert_eq!(scope.connections.len(), 4);
    }
}
