//! Turning lalrpop's syntax errors into rustc-style diagnostics (codes
//! E0201 "unexpected token" and E0202 "unexpected end of file"), with the
//! expected-token list made readable and `help:` lines for common slips.

use crate::build::RawParseError;
use crate::lexer::{Spanned, Tok};
use lalrpop_util::ParseError;
use tyche_core::{Diagnostic, FileId, Span};

/// Context for describing an error: the file and its tokens.
pub struct ErrorContext<'a> {
    pub file: FileId,
    pub src: &'a str,
    pub toks: &'a [Spanned],
    /// The innermost bracket left open at end of file, if any.
    pub unclosed: Option<(Span, &'static str)>,
    /// Closing brackets that close nothing (offset, explanation).
    pub bad_closers: &'a [(usize, String)],
}

impl ErrorContext<'_> {
    /// Whether the token before `offset` is a `return` reported by
    /// [`return_statements`]: an error right after it is its echo.
    fn after_return(&self, offset: usize) -> bool {
        let before = self.toks.partition_point(|t| t.0 < offset);
        before > 0 && is_return(self, before - 1)
    }

    /// Whether a lexical error precedes `offset` in the same statement: a
    /// syntax error there is most likely its echo (`3 @ 4` leaves `3 4`).
    fn after_lex_error(&self, offset: usize) -> bool {
        let end = self.toks.partition_point(|t| t.0 < offset);
        for t in self.toks[..end].iter().rev() {
            match t.1 {
                Tok::Error => return true,
                Tok::Semi | Tok::LBrace | Tok::RBrace => return false,
                _ => {}
            }
        }
        false
    }
}

/// Tokens that can start an expression; an expected set containing most of
/// them is shown as "expression".
const EXPR_START: &[&str] = &[
    "Ident",
    "IntLit",
    "RealLit",
    "StrLit",
    "LexError",
    "\"true\"",
    "\"false\"",
    "\"(\"",
    "\"[\"",
    "\"{\"",
    "\"-\"",
    "\"!\"",
    "\"|\"",
    "\"||\"",
    "\"if\"",
    "\"for\"",
    "\"do\"",
    "\"condition\"",
    "\"counterfactual\"",
];

/// Binary operators; an expected set containing all of them is shown as
/// "an operator".
const BINARY_OPS: &[&str] = &[
    "\"||\"", "\"&&\"", "\"==\"", "\"!=\"", "\"<\"", "\"<=\"", "\">\"", "\">=\"", "\"+\"", "\"-\"",
    "\"*\"", "\"/\"", "\"%\"", "\"^\"",
];

const COMPARISONS: &[Tok] = &[Tok::EqEq, Tok::Ne, Tok::Lt, Tok::Le, Tok::Gt, Tok::Ge];

/// Converts one syntax error; `None` when it is a consequence of a lexing
/// error that was already reported.
pub fn convert(err: &RawParseError, cx: &ErrorContext) -> Option<Diagnostic> {
    match err {
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            if *tok == Tok::Error || cx.after_lex_error(*l) || cx.after_return(*l) {
                return None;
            }
            Some(unexpected_token(*l, tok, *r, expected, cx))
        }
        ParseError::ExtraToken { token: (l, tok, r) } => {
            if *tok == Tok::Error || cx.after_lex_error(*l) {
                return None;
            }
            Some(unexpected_token(*l, tok, *r, &[], cx))
        }
        ParseError::UnrecognizedEof { location, expected } => {
            Some(unexpected_eof(*location, expected, cx))
        }
        ParseError::InvalidToken { location } => Some(
            Diagnostic::error("invalid token")
                .with_code("E0201")
                .with_primary(Span::new(cx.file, *location, *location), "here"),
        ),
        ParseError::User { error } => match *error {},
    }
}

/// The byte offset where an error sits, for ordering and de-duplication.
pub fn error_offset(err: &RawParseError) -> usize {
    match err {
        ParseError::UnrecognizedToken { token, .. } | ParseError::ExtraToken { token } => token.0,
        ParseError::UnrecognizedEof { location, .. } | ParseError::InvalidToken { location } => {
            *location
        }
        ParseError::User { error } => match *error {},
    }
}

fn unexpected_token(
    l: usize,
    tok: &Tok,
    r: usize,
    expected: &[String],
    cx: &ErrorContext,
) -> Diagnostic {
    let span = Span::new(cx.file, l, r);
    let found = describe(tok, &cx.src[l..r]);
    let list = expected_list(expected);
    let has = |t: &str| expected.iter().any(|e| e == t);
    let prev = cx
        .toks
        .iter()
        .rev()
        .find(|t| t.2 <= l && !matches!(t.1, Tok::StartProgram | Tok::StartRepl));

    // A missing `;` before a new line is the most common slip: say so.
    let newline_before = prev.is_some_and(|p| cx.src[p.2..l].contains('\n'));
    if has("\";\"") && newline_before {
        let p = prev.expect("checked above");
        return Diagnostic::error(format!("expected `;`, found {found}"))
            .with_code("E0201")
            .with_primary(span, "unexpected token")
            .with_secondary(Span::new(cx.file, p.0, p.2), "expected `;` after this")
            .with_help("add `;` at the end of the previous statement");
    }

    let message = match list.len() {
        0 => format!("unexpected {found}"),
        1 => format!("expected {}, found {found}", list[0]),
        _ => format!("expected one of {}, found {found}", list.join(", ")),
    };
    let label = match list.len() {
        0 => "unexpected token".to_string(),
        1 => format!("expected {}", list[0]),
        _ if list.len() <= 4 => format!("expected one of {}", list.join(", ")),
        _ => "unexpected token".to_string(),
    };
    let mut d = Diagnostic::error(message)
        .with_code("E0201")
        .with_primary(span, label);

    if *tok == Tok::Assign && has("\"==\"") {
        d = d.with_help("to compare two values, use `==`");
    } else if *tok == Tok::EqEq && has("\"=\"") {
        d = d.with_help("surgery arguments and bindings use `=`: `name = value`");
    } else if COMPARISONS.contains(tok) && !has(&format!("\"{}\"", &cx.src[l..r])) {
        d = d.with_help("comparison operators cannot be chained: use `a < b && b < c`");
    } else if *tok == Tok::Fn && !has("\"fn\"") {
        d = d.with_help(
            "functions are defined at top level; inside an expression use a lambda `|x| …`",
        );
    } else if matches!(tok, Tok::Ident(_)) && has("\"fn\"") && has("\"data\"") && !has("Ident") {
        d = d.with_help("a file holds `let`, `data` and `fn` items; put statements inside a function such as `fn model() { … }`");
    } else if matches!(tok, Tok::Ident(_)) && expected == ["IntLit"] {
        d = d.with_help("tuple fields are numbered: `t.0`, `t.1`, …");
    } else if let Some((_, why)) = cx.bad_closers.iter().find(|c| c.0 == l) {
        d = d.with_help(why.clone());
    }
    d
}

/// Whether the token at `offset` starts a statement (follows `;`, `{`,
/// `}` or nothing).
fn statement_start(cx: &ErrorContext, offset: usize) -> bool {
    let before = cx.toks.partition_point(|t| t.0 < offset);
    cx.toks[..before]
        .iter()
        .rev()
        .find(|t| !matches!(t.1, Tok::StartProgram | Tok::StartRepl))
        .is_none_or(|t| matches!(t.1, Tok::Semi | Tok::LBrace | Tok::RBrace))
}

/// Whether token `i` is the identifier `return` starting a statement.
fn is_return(cx: &ErrorContext, i: usize) -> bool {
    let t = &cx.toks[i];
    matches!(t.1, Tok::Ident(_)) && &cx.src[t.0..t.2] == "return" && statement_start(cx, t.0)
}

/// E0212 for every statement that starts with `return` (not a keyword:
/// `return;` and `return (a, b);` would parse as a variable and a call).
pub fn return_statements(cx: &ErrorContext) -> Vec<Diagnostic> {
    (0..cx.toks.len())
        .filter(|&i| is_return(cx, i))
        .map(|i| {
            let (rl, rr) = (cx.toks[i].0, cx.toks[i].2);
            let value = cx.toks.get(i + 1).map_or(rr, |t| t.0);
            return_diagnostic(rl, rr, value, cx)
        })
        .collect()
}

/// E0212: `return VALUE;` where the block's final expression is meant.
/// `rl..rr` is the `return`, `value` where its value starts.
fn return_diagnostic(rl: usize, rr: usize, value: usize, cx: &ErrorContext) -> Diagnostic {
    // The value runs to the `;` or `}` that ends the statement.
    let mut depth = 0i32;
    let mut end = value;
    for t in cx.toks.iter().filter(|t| t.0 >= value) {
        match t.1 {
            Tok::LParen | Tok::LBracket | Tok::LBrace => depth += 1,
            Tok::RParen | Tok::RBracket => depth -= 1,
            Tok::RBrace if depth == 0 => break,
            Tok::RBrace => depth -= 1,
            Tok::Semi if depth == 0 => break,
            _ => {}
        }
        end = t.2;
    }
    let text = cx.src[value..end].trim();
    let help = if text.is_empty() {
        "end the block with its value, without `return` and without `;` (a block without a final expression has value `()`)".to_string()
    } else if text.contains('\n') || text.chars().count() > 60 {
        "end the block with the value, without `return` and without `;`".to_string()
    } else {
        format!("end the block with `{text}`, without `return` and without `;`")
    };
    Diagnostic::error("Tyche has no `return`: a block's value is its final expression")
        .with_code("E0212")
        .with_primary(Span::new(cx.file, rl, rr), "not a keyword in Tyche")
        .with_help(help)
        .with_note("there is no early return; choose a value with `if c { a } else { b }`")
}

fn unexpected_eof(location: usize, expected: &[String], cx: &ErrorContext) -> Diagnostic {
    let list = expected_list(expected);
    let end = location.min(cx.src.len());
    let label = match list.len() {
        0 => "the file ends here".to_string(),
        1 => format!("expected {}", list[0]),
        _ if list.len() <= 4 => format!("expected one of {}", list.join(", ")),
        _ => "the file ends here".to_string(),
    };
    let mut d = Diagnostic::error("unexpected end of file")
        .with_code("E0202")
        .with_primary(Span::new(cx.file, end, end), label);
    if let Some((span, close)) = cx.unclosed {
        d = d.with_secondary(
            span,
            format!("unclosed delimiter; expected a matching `{close}`"),
        );
    }
    d
}

/// How a token is named in "found …".
fn describe(tok: &Tok, text: &str) -> String {
    match tok {
        Tok::Ident(_) => format!("identifier `{text}`"),
        Tok::Int(_) | Tok::Real(_) => format!("number `{text}`"),
        Tok::Str(_) => {
            let short: String = text.chars().take(30).collect();
            if short.len() < text.len() {
                format!("string {short}…")
            } else {
                format!("string {text}")
            }
        }
        Tok::StartProgram | Tok::StartRepl => "start of input".to_string(),
        t => match t.keyword() {
            Some(k) => format!("keyword `{k}`"),
            None => format!("`{text}`"),
        },
    }
}

/// The readable expected list: quoted terminals as `x`, token classes by
/// name, expression starters and binary operators collapsed.
fn expected_list(expected: &[String]) -> Vec<String> {
    let mut set: Vec<&str> = expected.iter().map(String::as_str).collect();
    set.retain(|t| !matches!(*t, "LexError" | "StartProgram" | "StartRepl"));
    // After an expression statement the grammar accepts `~` only to
    // explain Stan's `y ~ D;` (E0211): not something to suggest.
    if set.contains(&"\";\"") {
        set.retain(|t| *t != "\"~\"");
    }
    let mut tail = Vec::new();
    if set.contains(&"Ident") && set.contains(&"IntLit") && set.contains(&"\"(\"") {
        set.retain(|t| !EXPR_START.contains(t));
        tail.push("expression".to_string());
    }
    if BINARY_OPS
        .iter()
        .filter(|op| **op != "\"-\"" && **op != "\"||\"")
        .all(|op| set.contains(op))
    {
        set.retain(|t| !BINARY_OPS.contains(t));
        tail.push("an operator".to_string());
    }
    let mut out: Vec<String> = set
        .iter()
        .map(|t| match *t {
            "Ident" => "identifier".to_string(),
            "IntLit" => "integer".to_string(),
            "RealLit" => "number".to_string(),
            "StrLit" => "string".to_string(),
            q => format!("`{}`", q.trim_matches('"')),
        })
        .collect();
    // Punctuation first, then words; each in code-point order of the text.
    out.sort_by_key(|s| {
        (
            s.starts_with(|c: char| c.is_alphabetic()),
            s.trim_matches('`').to_string(),
        )
    });
    out.dedup();
    out.extend(tail);
    out
}
