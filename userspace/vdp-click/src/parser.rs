//! Parses Click text into scopes of declarations and connections.
//!
//! Names are resolved while parsing, in order, as Click does: an element used before its
//! declaration is an error. Each statement that fails is reported and skipped up to the next `;`,
//! so one run reports every error in the file.

use crate::args::split_args;
use crate::lexer::{tokenize, Tok, Token};
use crate::source::{Diagnostic, Diagnostics, FileId, Span};
use vdp_core::catalog::{Catalog, MAX_PORTS};

/// Index of the `input` pseudo-element in a compound's scope.
pub const INPUT_PSEUDO: usize = 0;
/// Index of the `output` pseudo-element in a compound's scope.
pub const OUTPUT_PSEUDO: usize = 1;

#[derive(Clone, Debug)]
pub struct ElementDecl {
    pub name: String,
    pub class: String,
    pub class_span: Span,
    /// Raw configuration text and its span.
    pub config: Option<(String, Span)>,
    pub span: Span,
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
}

#[derive(Clone, Debug)]
pub struct Define {
    pub name: String,
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub elements: Vec<ElementDecl>,
    pub connections: Vec<ConnectionDecl>,
    pub classes: Vec<CompoundClass>,
    pub defines: Vec<Define>,
    pub is_compound: bool,
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
    let mut parser = Parser { tokens, at: 0, text, diagnostics, class_names: vec![Vec::new()], catalog };
    let mut scope = Scope::default();
    parser.parse_body(&mut scope, false);
    scope
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    text: &'a str,
    diagnostics: &'a mut Diagnostics,
    /// Compound class names visible in each enclosing scope, innermost last.
    class_names: Vec<Vec<String>>,
    /// The classes configurations may name.
    catalog: Catalog,
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
        self.diagnostics.error(span, message);
        Err(Failed)
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
            Tok::Eof => "end of file".into(),
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.text.get(..offset).map_or(0, |t| t.matches('\n').count()) + 1
    }

    /// Skips to the end of the failed statement, keeping braces balanced.
    fn recover_after_failure(&mut self) {
        // The failing token may itself have ended the statement or the enclosing compound.
        match self.at.checked_sub(1).map(|last| &self.tokens[last].tok) {
            Some(Tok::Semicolon) => {}
            Some(Tok::RightBrace) => self.at -= 1,
            _ => self.skip_statement(),
        }
    }

    fn skip_statement(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                Tok::Eof => return,
                Tok::Semicolon if depth == 0 => {
                    self.advance();
                    return;
                }
                Tok::RightBrace if depth == 0 => return,
                Tok::LeftBrace => depth += 1,
                Tok::RightBrace => depth -= 1,
                _ => {}
            }
            self.advance();
        }
    }

    fn parse_body(&mut self, scope: &mut Scope, in_braces: bool) {
        let mut last_start = usize::MAX;
        loop {
            // Every statement consumes at least one token, so a failure can never loop forever.
            if last_start != usize::MAX && self.at <= last_start {
                self.at = last_start;
                self.advance();
            }
            last_start = self.at;
            let result = match self.peek().clone() {
                Tok::Eof => {
                    if in_braces {
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
                Tok::Word(w) if w == "elementclass" => {
                    // A compound's closing brace ends the statement; no ';' is needed.
                    if self.parse_elementclass(scope).is_err() {
                        self.recover_after_failure();
                    }
                    continue;
                }
                Tok::Word(w) if (w == "require" || w == "define") && matches!(self.peek_at(1), Tok::Config(_)) => {
                    // Like Click, these need no ';' after them.
                    let result = if w == "require" { self.parse_require() } else { self.parse_define(scope) };
                    if result.is_err() {
                        self.recover_after_failure();
                    }
                    continue;
                }
                _ => self.parse_statement(scope),
            };
            match result {
                // Click lets a statement end without ';' when the next one starts.
                Ok(()) => {
                    if matches!(self.peek(), Tok::Semicolon) {
                        self.advance();
                    }
                }
                Err(Failed) => self.recover_after_failure(),
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
                self.diagnostics.push(
                    Diagnostic::error(span, format!("requirement '{name}' is not available in vdp"))
                        .note(format!(
                            "vdp provides {} and the element classes of its catalog",
                            PROVIDED_REQUIREMENTS.join(", ")
                        )),
                );
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
                continue;
            }
            let name = name[1..].to_string();
            if let Some(previous) = scope.defines.iter().find(|d| d.name == name) {
                let line = self.line_of(previous.span.start);
                self.diagnostics.error(span, format!("${name} is already defined on line {line}"));
                continue;
            }
            scope.defines.push(Define { name, value: value.to_string(), span });
        }
        Ok(())
    }

    fn parse_elementclass(&mut self, scope: &mut Scope) -> Parsed<()> {
        let keyword = self.advance();
        let name_token = self.advance();
        let Tok::Word(name) = name_token.tok else {
            return self.fail(name_token.span, "expected a class name after 'elementclass'");
        };
        if self.catalog.class_by_name(&name).is_some() {
            return self.fail(name_token.span, format!("elementclass '{name}' would hide the built-in class"));
        }
        if let Some(previous) = scope.classes.iter().find(|c| c.name == name) {
            let line = self.line_of(previous.span.start);
            return self.fail(name_token.span, format!("class '{name}' is already defined on line {line}"));
        }
        let span = keyword.span.to(name_token.span);
        let class = match self.peek().clone() {
            Tok::Word(other) => {
                let other_span = self.advance().span;
                CompoundClass { name: name.clone(), formals: vec![], body: Scope::default(), span, synonym_of: Some((other, other_span)) }
            }
            Tok::LeftBrace => {
                self.advance();
                let formals = self.parse_formals()?;
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
                CompoundClass { name: name.clone(), formals, body, span, synonym_of: None }
            }
            other => {
                let message = format!("expected '{{' or a class name after 'elementclass {name}', found {}", Self::describe(&other));
                return self.fail(self.span(), message);
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
        if !matches!(self.peek(), Tok::Variable(_)) {
            return Ok(vec![]);
        }
        let mut formals: Vec<(String, Span)> = Vec::new();
        loop {
            let token = self.advance();
            let Tok::Variable(name) = token.tok else {
                return self.fail(token.span, "expected a formal parameter like '$name'");
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
                other => {
                    let message = format!("expected ',' or '|' after formal parameter, found {}", Self::describe(other));
                    return self.fail(self.span(), message);
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
        Ok(())
    }

    fn parse_multi_declaration(&mut self, scope: &mut Scope) -> Parsed<()> {
        let mut names = Vec::new();
        loop {
            let token = self.advance();
            let Tok::Word(name) = token.tok else {
                return self.fail(token.span, "expected an element name in a declaration list");
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
                other => {
                    let message = format!("expected ',' or '::' in a declaration list, found {}", Self::describe(other));
                    return self.fail(self.span(), message);
                }
            }
        }
        let (class, class_span, config) = self.parse_class_and_config()?;
        for (name, span) in names {
            self.declare(scope, name, span, class.clone(), class_span, config.clone());
        }
        Ok(())
    }

    fn parse_class_and_config(&mut self) -> Parsed<(String, Span, Option<(String, Span)>)> {
        let token = self.advance();
        let Tok::Word(class) = token.tok else {
            let message = format!("expected an element class after '::', found {}", Self::describe(&token.tok));
            return self.fail(token.span, message);
        };
        let config = match self.peek().clone() {
            Tok::Config(text) => Some((text, self.advance().span)),
            _ => None,
        };
        Ok((class, token.span, config))
    }

    fn declare(&mut self, scope: &mut Scope, name: String, span: Span, class: String, class_span: Span, config: Option<(String, Span)>) -> usize {
        if let Some(previous) = scope.find(&name) {
            let what = if scope.is_compound && previous <= OUTPUT_PSEUDO {
                format!("'{name}' is reserved for the compound's ports")
            } else {
                let line = self.line_of(scope.elements[previous].span.start);
                format!("element '{name}' is already declared on line {line}")
            };
            self.diagnostics.error(span, what);
            return previous;
        }
        if self.is_class_name(&name) {
            self.diagnostics.push(Diagnostic::warning(span, format!("element name '{name}' is also the name of a class")));
        }
        scope.elements.push(ElementDecl { name, class, class_span, config, span });
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
                return self.fail(token.span, message);
            }
        };
        let close = self.advance();
        if close.tok != Tok::RightBracket {
            return self.fail(open.to(close.span), "expected ']' after port number");
        }
        Ok(port)
    }

    /// An element reference, declaration or anonymous element, with its optional output port.
    fn parse_endpoint(&mut self, scope: &mut Scope) -> Parsed<(usize, u16)> {
        let token = self.advance();
        let element = match token.tok {
            Tok::Word(word) => {
                if matches!(self.peek(), Tok::DoubleColon) {
                    self.advance();
                    let (class, class_span, config) = self.parse_class_and_config()?;
                    self.declare(scope, word, token.span, class, class_span, config)
                } else if let Some(index) = scope.find(&word) {
                    if let Tok::Config(_) = self.peek() {
                        return self.fail(self.span(), format!("'{word}' is an element, not a class: it takes no configuration here"));
                    }
                    index
                } else if self.is_class_name(&word)
                    || matches!(self.peek(), Tok::Config(_))
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
                    scope.elements.push(ElementDecl { name, class: word, class_span: token.span, config, span: token.span });
                    scope.elements.len() - 1
                } else {
                    return self.fail(token.span, format!("undeclared element '{word}'"));
                }
            }
            Tok::LeftBrace => return self.fail(token.span, "anonymous compound classes ('{ ... }' in a connection) are not supported; declare them with 'elementclass'"),
            other => {
                let message = format!("expected an element, found {}", Self::describe(&other));
                return self.fail(token.span, message);
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
