//! Tyche's surface syntax: tokens (logos), grammar (lalrpop) and the AST.
//!
//! The parser never gives up on the first error: [`parse_program`] returns
//! the best tree it could build plus every diagnostic it found.
//!
//! Diagnostic codes (stable; tests and tools match on them):
//! - lexical: E0101 unknown character, E0102 unterminated string, E0103
//!   unterminated block comment, E0104 unknown escape, E0105 integer too
//!   large, E0106 real out of range, E0107 file too large, E0108 too many
//!   lexical errors;
//! - syntactic: E0201 unexpected token, E0202 unexpected end of file, E0203
//!   brackets nested too deeply, E0204 expression nested too deeply, E0205
//!   bad tuple field, E0206 statement at top level, E0207 one-element tuple,
//!   E0208 type argument on a type other than `Dist`, E0209 too many syntax
//!   errors, E0210 nested `fn`, E0211 `y ~ D;` without `let` (a Stan
//!   habit: the hint says `observe(D, y);` or `let y ~ D;`), E0212
//!   `return e;` (the block's final expression is its value).
//!
//! Files: `lexer.rs` (tokens), `grammar.lalrpop` (grammar), `build.rs`
//! (tree construction for the grammar's actions), `limits.rs` (nesting
//! pre-scan), `errors.rs` (syntax error messages), `walk.rs` (id
//! assignment).

pub mod ast;
mod build;
mod errors;
mod habits;
mod lexer;
mod limits;
mod walk;

#[cfg(test)]
mod tests;

lalrpop_util::lalrpop_mod!(
    #[allow(
        clippy::all,
        unused_parens,
        unused_imports,
        unused_variables,
        dead_code,
        unused_mut
    )]
    grammar
);

use build::{Ctx, Parsed};
use lexer::{Spanned, Tok};
use std::cell::Cell;
use std::rc::Rc;
use tyche_core::{Diagnostic, FileId, Span};

/// Bracket nesting limit: more than this many open `(`, `[` or `{` at once
/// is the diagnostic E0203 and nothing of the file is parsed.
pub const MAX_NESTING: usize = 256;

/// Expression depth limit (tree depth, counting every node). A deeper
/// expression is the diagnostic E0204 and is replaced by an
/// [`ast::ExprKind::Error`] node; so every tree the parser returns can be
/// walked recursively by later phases.
pub const MAX_EXPR_DEPTH: usize = 1000;

/// After this many syntax errors the parser stops reading the file.
const MAX_SYNTAX_ERRORS: usize = 50;

/// One REPL line.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplInput {
    /// One or more items. `let x ~ D;` arrives as `let x = sample("x", D);`
    /// and `let (a, b) = e;` as a hidden tuple item plus `let a = t.0;` …
    Items(Vec<ast::Item>),
    /// A single expression (a trailing `;` is allowed).
    Expr(ast::Expr),
}

/// Parses a whole file. Never panics. Returns the best-effort tree plus all
/// diagnostics (sorted by position).
///
/// ExprIds are assigned densely starting at `first_expr_id`;
/// `Program::expr_count` is one past the last id used (so a second file
/// parsed with `first_expr_id = prev.expr_count` gets disjoint ids).
pub fn parse_program(
    file: FileId,
    src: &str,
    first_expr_id: u32,
) -> (ast::Program, Vec<Diagnostic>) {
    let empty = ast::Program {
        items: Vec::new(),
        expr_count: first_expr_id,
    };
    let (parsed, mut diags, tildes) = run(file, src, Tok::StartProgram);
    let mut items = match parsed {
        Some(Parsed::Program(items)) => items,
        _ => return (empty, diags),
    };
    if !tildes.is_empty() {
        for t in &tildes {
            let bound = match &t.root {
                Some(n) => habits::bound_at(&items, n, t.span.start),
                None => habits::Bound::Unknown,
            };
            diags.push(habits::tilde_diagnostic(t, src, bound));
        }
        sort(&mut diags);
    }
    let mut next = first_expr_id;
    let depth = walk::renumber_items(&mut items, &mut next);
    if depth > MAX_EXPR_DEPTH {
        // Unreachable by construction (see build.rs); kept as a guard. The
        // tree is leaked rather than dropped, since dropping it recurses.
        diags.push(Diagnostic::error("expression nested too deeply").with_code("E0204"));
        std::mem::forget(items);
        return (empty, diags);
    }
    (
        ast::Program {
            items,
            expr_count: next,
        },
        diags,
    )
}

/// Parses one REPL line: items (`fn`/`let`/`data`, one or more), a
/// statement `let x = e;` / `let x ~ D;` / `let (a, b) = e;` (which become
/// items), or a single expression optionally followed by `;`. The line's
/// final `;` may be left out (`let x = 1`).
///
/// Returns `None` for a blank line or when there are errors, the next free
/// expression id, and the diagnostics. [`is_incomplete`] tells whether the
/// errors only mean the input stopped too early (for multi-line entry).
pub fn parse_repl(
    file: FileId,
    src: &str,
    first_expr_id: u32,
) -> (Option<ReplInput>, u32, Vec<Diagnostic>) {
    let (parsed, mut diags, tildes) = run(file, src, Tok::StartRepl);
    if !tildes.is_empty() {
        // Earlier inputs may bind the name: offer both readings.
        for t in &tildes {
            diags.push(habits::tilde_diagnostic(t, src, habits::Bound::Unknown));
        }
        sort(&mut diags);
    }
    if diags.iter().any(Diagnostic::is_error) {
        return (None, first_expr_id, diags);
    }
    let mut next = first_expr_id;
    let input = match parsed {
        Some(Parsed::Repl(ReplInput::Items(mut items))) => {
            walk::renumber_items(&mut items, &mut next);
            ReplInput::Items(items)
        }
        Some(Parsed::Repl(ReplInput::Expr(mut e))) => {
            walk::renumber([&mut e], &mut next);
            ReplInput::Expr(e)
        }
        _ => return (None, first_expr_id, diags),
    };
    (Some(input), next, diags)
}

/// True when the diagnostics of [`parse_repl`] only say that the input
/// ended too early (an unexpected end of file, or an unterminated string
/// or comment), so a REPL should read another line.
pub fn is_incomplete(diags: &[Diagnostic]) -> bool {
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    !errors.is_empty()
        && errors
            .iter()
            .all(|d| matches!(d.code.as_deref(), Some("E0202" | "E0102" | "E0103")))
}

/// Lexes, pre-scans and parses; `None` when nothing could be parsed (too
/// deep, blank REPL input, or an unrecoverable error).
fn run(
    file: FileId,
    src: &str,
    start: Tok,
) -> (Option<Parsed>, Vec<Diagnostic>, Vec<habits::Tilde>) {
    if u32::try_from(src.len()).is_err() {
        let d = Diagnostic::error("source file too large (more than 4 GiB)").with_code("E0107");
        return (None, vec![d], Vec::new());
    }
    let (toks, mut diags) = lexer::lex(file, src);
    let scan = match limits::prescan(file, &toks) {
        Ok(scan) => scan,
        Err(d) => {
            diags.push(d);
            sort(&mut diags);
            return (None, diags, Vec::new());
        }
    };
    let repl = start == Tok::StartRepl;
    if repl && toks.is_empty() {
        return (None, diags, Vec::new());
    }

    let error_count = Rc::new(Cell::new(0usize));
    let mut ctx = Ctx::new(file, error_count.clone());
    let stream = TokenStream {
        toks: &toks,
        pos: 0,
        start: Some(start),
        errors: error_count.clone(),
        capped: false,
    };
    let result = grammar::StartParser::new().parse(&mut ctx, stream);
    ctx.finish();

    let cx = errors::ErrorContext {
        file,
        src,
        toks: &toks,
        unclosed: scan.unclosed,
        bad_closers: &scan.bad_closers,
    };
    let mut raw = std::mem::take(&mut ctx.syntax_errors);
    let parsed = match result {
        Ok(p) => Some(p),
        Err(e) => {
            raw.push(e);
            None
        }
    };
    // One message per position: recovery can report the same spot twice.
    raw.sort_by_key(errors::error_offset);
    raw.dedup_by_key(|e| errors::error_offset(e));
    let capped = error_count.get() >= MAX_SYNTAX_ERRORS;
    // An unterminated string or comment swallowed the rest of the file, or
    // the input was cut short on purpose: its "end" is not news.
    let swallowed = diags
        .iter()
        .any(|d| matches!(d.code.as_deref(), Some("E0102" | "E0103")));
    if capped || swallowed {
        raw.retain(|e| !matches!(e, lalrpop_util::ParseError::UnrecognizedEof { .. }));
    }
    // At the REPL a line may omit its final `;` (`let x = 1`): where the
    // file ends and a `;` would do, the parser already assumed one.
    if repl && parsed.is_some() {
        raw.retain(|e| match e {
            lalrpop_util::ParseError::UnrecognizedEof { expected, .. } => {
                !expected.iter().any(|t| t == "\";\"")
            }
            _ => true,
        });
    }
    diags.extend(raw.iter().filter_map(|e| errors::convert(e, &cx)));
    diags.extend(errors::return_statements(&cx));
    diags.append(&mut ctx.diags);
    if capped {
        let at = raw.last().map_or(0, errors::error_offset);
        diags.push(
            Diagnostic::error(format!(
                "too many syntax errors (more than {MAX_SYNTAX_ERRORS}); stopped here"
            ))
            .with_code("E0209")
            .with_primary(Span::new(file, at, at), "parsing stopped here"),
        );
    }
    sort(&mut diags);
    (parsed, diags, std::mem::take(&mut ctx.tildes))
}

/// Diagnostics in source order (stable, so related ones stay together).
fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| d.primary_span().map_or(u32::MAX, |s| s.start));
}

/// Feeds the tokens to lalrpop, after the synthetic start token; stops
/// early once too many errors were recovered from.
struct TokenStream<'a> {
    toks: &'a [Spanned],
    pos: usize,
    start: Option<Tok>,
    errors: Rc<Cell<usize>>,
    capped: bool,
}

impl Iterator for TokenStream<'_> {
    type Item = Result<Spanned, build::NoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(start) = self.start.take() {
            return Some(Ok((0, start, 0)));
        }
        if self.capped || self.errors.get() >= MAX_SYNTAX_ERRORS {
            self.capped = true;
            return None;
        }
        let t = self.toks.get(self.pos)?.clone();
        self.pos += 1;
        Some(Ok(t))
    }
}
