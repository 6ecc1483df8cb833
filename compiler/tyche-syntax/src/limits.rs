//! The nesting pre-scan: rejects token streams that would make the parser's
//! stack (and so error recovery, which is linear in it per step) too deep.
//!
//! Brackets are counted exactly against [`MAX_NESTING`]. Constructs that
//! nest without brackets (prefix `-`/`!`, `^`, lambda heads, `else if`,
//! `->`, `<`) are counted per statement, which over-approximates the parser
//! stack they build; real programs stay far below [`MAX_EXPR_DEPTH`].
//! Left-associative chains (`1+1+…`) do not deepen the parser stack and are
//! bounded when the tree is built instead.

use crate::lexer::{Spanned, Tok};
use crate::{MAX_EXPR_DEPTH, MAX_NESTING};
use tyche_core::{Diagnostic, FileId, Span};

/// What the scan learned about a token stream that is not too deep.
pub struct Scan {
    /// The innermost bracket still open at the end of the file.
    pub unclosed: Option<(Span, &'static str)>,
    /// Closing brackets that close nothing, by offset, with an explanation.
    pub bad_closers: Vec<(usize, String)>,
}

pub fn prescan(file: FileId, toks: &[Spanned]) -> Result<Scan, Diagnostic> {
    // For each open bracket: its span, its closing text, and the count of
    // bracket-free nesting before it (restored when it closes).
    let mut open: Vec<(Span, &'static str, usize)> = Vec::new();
    let mut pending = 0usize;
    // Count at the start of the current statement/argument.
    let mut base = 0usize;
    let mut prev: Option<&Tok> = None;
    // Between a lambda's `|` and `|`, commas separate parameters, not
    // statements or arguments, so they must not reset the count.
    let mut in_params = false;
    let mut bad_closers = Vec::new();
    for (s, tok, e) in toks {
        let span = Span::new(file, *s, *e);
        let prefix = !prev.is_some_and(Tok::ends_operand);
        match tok {
            Tok::LParen | Tok::LBracket | Tok::LBrace => {
                let close = match tok {
                    Tok::LParen => ")",
                    Tok::LBracket => "]",
                    _ => "}",
                };
                open.push((span, close, pending));
                base = pending;
                if open.len() > MAX_NESTING {
                    return Err(Diagnostic::error(format!(
                        "nesting too deep (more than {MAX_NESTING} levels)"
                    ))
                    .with_code("E0203")
                    .with_primary(span, "this bracket is too deeply nested")
                    .with_help(
                        "split the expression into smaller parts with `let` bindings or functions",
                    ));
                }
            }
            Tok::RParen | Tok::RBracket | Tok::RBrace => {
                let close = match tok {
                    Tok::RParen => ")",
                    Tok::RBracket => "]",
                    _ => "}",
                };
                // Close the innermost bracket of this kind (brackets opened
                // inside it and left open are abandoned); a closer with no
                // such bracket closes nothing.
                match open.iter().rposition(|o| o.1 == close) {
                    Some(i) => {
                        if let Some(inner) = open.last().filter(|o| o.1 != close) {
                            let why = format!(
                                "`{}` is still open here; close it with `{}` first",
                                opener(inner.1),
                                inner.1
                            );
                            bad_closers.push((*s, why));
                        }
                        pending = open[i].2;
                        open.truncate(i);
                        base = open.last().map_or(0, |o| o.2);
                    }
                    None => {
                        let why = format!("this `{close}` has no matching `{}`", opener(close));
                        bad_closers.push((*s, why));
                    }
                }
            }
            Tok::Comma if in_params => {}
            Tok::Semi | Tok::Comma | Tok::Let | Tok::Fn | Tok::Data => pending = base,
            Tok::Pipe if prefix => {
                in_params = true;
                pending += 1;
            }
            Tok::Pipe => in_params = false,
            Tok::Minus | Tok::Bang | Tok::OrOr if prefix => pending += 1,
            Tok::If if matches!(prev, Some(Tok::Else)) => pending += 1,
            Tok::Caret | Tok::Arrow | Tok::Lt => pending += 1,
            _ => {}
        }
        if pending > MAX_EXPR_DEPTH {
            return Err(Diagnostic::error(format!(
                "expression nested too deeply (more than {MAX_EXPR_DEPTH} levels)"
            ))
            .with_code("E0204")
            .with_primary(span, "too deep here")
            .with_help("split it into smaller parts with `let` bindings or functions"));
        }
        prev = Some(tok);
    }
    Ok(Scan {
        unclosed: open.last().map(|o| (o.0, o.1)),
        bad_closers,
    })
}

fn opener(close: &str) -> &'static str {
    match close {
        ")" => "(",
        "]" => "[",
        _ => "{",
    }
}
