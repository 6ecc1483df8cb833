//! The lexer: source text to a vector of [`Tok`]s with byte offsets.
//!
//! logos recognises the raw shapes ([`Raw`]); this module turns them into
//! parser tokens with decoded values and reports lexical problems (codes
//! E01xx) as diagnostics instead of failing, so the parser always gets a
//! complete token stream. A character logos does not know becomes
//! [`Tok::Error`], which the grammar accepts as an error expression so one
//! bad character does not cascade into syntax errors.

use logos::Logos;
use tyche_core::{Diagnostic, FileId, Span};

/// A token as the parser sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    /// Non-negative; whether it fits an `Int` is decided by the parser so
    /// that `-9223372036854775808` works.
    Int(u64),
    Real(f64),
    Str(String),
    Let,
    Fn,
    Data,
    If,
    Else,
    For,
    In,
    True,
    False,
    Do,
    Counterfactual,
    Condition,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Semi,
    Colon,
    Assign,
    Tilde,
    Arrow,
    Dot,
    DotDot,
    Pipe,
    OrOr,
    AndAnd,
    EqEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Bang,
    /// Text that is not a token (already reported by the lexer).
    Error,
    /// Synthetic first token selecting the whole-file grammar.
    StartProgram,
    /// Synthetic first token selecting the REPL-line grammar.
    StartRepl,
}

impl Tok {
    /// Tokens after which a `-`, `!` or `|` is binary / closing rather than
    /// prefix (used by the nesting pre-scan).
    pub(crate) fn ends_operand(&self) -> bool {
        matches!(
            self,
            Tok::Ident(_)
                | Tok::Int(_)
                | Tok::Real(_)
                | Tok::Str(_)
                | Tok::True
                | Tok::False
                | Tok::RParen
                | Tok::RBracket
                | Tok::RBrace
                | Tok::Error
        )
    }

    /// Keyword spelling, if this is a keyword.
    pub(crate) fn keyword(&self) -> Option<&'static str> {
        Some(match self {
            Tok::Let => "let",
            Tok::Fn => "fn",
            Tok::Data => "data",
            Tok::If => "if",
            Tok::Else => "else",
            Tok::For => "for",
            Tok::In => "in",
            Tok::True => "true",
            Tok::False => "false",
            Tok::Do => "do",
            Tok::Counterfactual => "counterfactual",
            Tok::Condition => "condition",
            _ => return None,
        })
    }
}

/// A token with its byte range.
pub type Spanned = (usize, Tok, usize);

/// What logos reports besides tokens.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum RawError {
    #[default]
    UnknownChar,
    UnterminatedComment,
}

/// Raw token shapes; values are decoded in [`lex`].
#[derive(Logos, Clone, Copy, Debug, PartialEq)]
#[logos(error = RawError)]
// Whitespace, including a byte-order mark some editors put first.
#[logos(skip r"[ \t\r\n\x0C\u{FEFF}]+")]
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
#[logos(skip("/\\*", callback = block_comment))]
enum Raw {
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    #[regex(r"[0-9]+")]
    Int,
    #[regex(r"[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?")]
    #[regex(r"[0-9]+[eE][+-]?[0-9]+")]
    Real,
    /// The payload says whether the closing quote was found.
    #[token("\"", string_body)]
    Str(bool),
    #[token("let")]
    Let,
    #[token("fn")]
    Fn,
    #[token("data")]
    Data,
    #[token("if")]
    If,
    #[token("else")]
    Else,
    #[token("for")]
    For,
    #[token("in")]
    In,
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[token("do")]
    Do,
    #[token("counterfactual")]
    Counterfactual,
    #[token("condition")]
    Condition,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token("=")]
    Assign,
    #[token("~")]
    Tilde,
    #[token("->")]
    Arrow,
    #[token(".")]
    Dot,
    #[token("..")]
    DotDot,
    #[token("|")]
    Pipe,
    #[token("||")]
    OrOr,
    #[token("&&")]
    AndAnd,
    #[token("==")]
    EqEq,
    #[token("!=")]
    Ne,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("^")]
    Caret,
    #[token("!")]
    Bang,
}

/// Skips a (nesting) block comment whose `/*` was just matched.
fn block_comment(lex: &mut logos::Lexer<Raw>) -> Result<(), RawError> {
    let rest = lex.remainder().as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while i < rest.len() {
        if rest[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if rest[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                lex.bump(i);
                return Ok(());
            }
        } else {
            i += 1;
        }
    }
    lex.bump(rest.len());
    Err(RawError::UnterminatedComment)
}

/// Consumes a string literal's body after its opening quote; escapes are
/// decoded later. Returns whether the closing quote was found.
fn string_body(lex: &mut logos::Lexer<Raw>) -> bool {
    let rest = lex.remainder();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                lex.bump(i + 1);
                return true;
            }
            '\\' => {
                chars.next();
            }
            _ => {}
        }
    }
    lex.bump(rest.len());
    false
}

/// Lexes a whole file. Never fails: problems become diagnostics (and
/// [`Tok::Error`] tokens where something had to stand in the stream).
pub fn lex(file: FileId, src: &str) -> (Vec<Spanned>, Vec<Diagnostic>) {
    let mut toks: Vec<Spanned> = Vec::new();
    let mut diags = Vec::new();
    let sp = |s: usize, e: usize| Span::new(file, s, e);
    let mut lexer = Raw::lexer(src);
    while let Some(raw) = lexer.next() {
        let range = lexer.span();
        let (s, e) = (range.start, range.end);
        let text = &src[s..e];
        let tok = match raw {
            Err(RawError::UnterminatedComment) => {
                diags.push(
                    Diagnostic::error("unterminated block comment")
                        .with_code("E0103")
                        .with_primary(sp(s, (s + 2).min(e)), "comment starts here")
                        .with_note("block comments nest: every `/*` needs its own `*/`"),
                );
                continue;
            }
            Err(RawError::UnknownChar) => {
                // A run of unknown characters is one error.
                if let Some((_, Tok::Error, prev_end)) = toks.last_mut() {
                    if *prev_end == s {
                        *prev_end = e;
                        let last = diags
                            .last_mut()
                            .filter(|d| d.code.as_deref() == Some("E0101"));
                        if let Some(label) = last.and_then(|d| d.labels.first_mut()) {
                            let start = label.span.start as usize;
                            label.span = sp(start, e);
                            let run: String =
                                src[start..e].chars().flat_map(char::escape_debug).collect();
                            diags.last_mut().expect("just seen").message =
                                format!("unknown characters `{run}`");
                        }
                        continue;
                    }
                }
                let c = text.chars().next().unwrap_or('\u{FFFD}');
                let shown: String = c.escape_debug().collect();
                let mut d = Diagnostic::error(format!("unknown character `{shown}`"))
                    .with_code("E0101")
                    .with_primary(sp(s, e), "not part of any token");
                if c == '&' {
                    d = d.with_help("logical and is written `&&`");
                } else if c == '\'' {
                    d = d.with_help("strings use double quotes: `\"text\"`");
                }
                diags.push(d);
                Tok::Error
            }
            Ok(Raw::Ident) => Tok::Ident(text.to_string()),
            Ok(Raw::Int) => match text.parse::<u64>() {
                Ok(v) => Tok::Int(v),
                Err(_) => {
                    diags.push(int_too_large(sp(s, e)));
                    Tok::Int(0)
                }
            },
            Ok(Raw::Real) => {
                // `t.0.1` lexes `0.1` as a real; after a `.` it is two field
                // indices, so split it into `0`, `.`, `1`.
                if matches!(toks.last(), Some((_, Tok::Dot, _))) {
                    if let Some(dot) = text.find('.').filter(|_| !text.contains(['e', 'E'])) {
                        for (a, b) in [(s, s + dot), (s + dot + 1, e)] {
                            let v = match src[a..b].parse::<u64>() {
                                Ok(v) => v,
                                Err(_) => {
                                    diags.push(int_too_large(sp(a, b)));
                                    0
                                }
                            };
                            toks.push((a, Tok::Int(v), b));
                            if b != e {
                                toks.push((b, Tok::Dot, b + 1));
                            }
                        }
                        continue;
                    }
                }
                match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => Tok::Real(v),
                    _ => {
                        diags.push(
                            Diagnostic::error("real literal out of range")
                                .with_code("E0106")
                                .with_primary(sp(s, e), "does not fit in a 64-bit float"),
                        );
                        Tok::Real(0.0)
                    }
                }
            }
            Ok(Raw::Str(closed)) => {
                if !closed {
                    diags.push(
                        Diagnostic::error("unterminated string literal")
                            .with_code("E0102")
                            .with_primary(sp(s, s + 1), "string starts here"),
                    );
                }
                let body_end = if closed { e - 1 } else { e };
                Tok::Str(unescape(file, src, s + 1, body_end, &mut diags))
            }
            Ok(Raw::Let) => Tok::Let,
            Ok(Raw::Fn) => Tok::Fn,
            Ok(Raw::Data) => Tok::Data,
            Ok(Raw::If) => Tok::If,
            Ok(Raw::Else) => Tok::Else,
            Ok(Raw::For) => Tok::For,
            Ok(Raw::In) => Tok::In,
            Ok(Raw::True) => Tok::True,
            Ok(Raw::False) => Tok::False,
            Ok(Raw::Do) => Tok::Do,
            Ok(Raw::Counterfactual) => Tok::Counterfactual,
            Ok(Raw::Condition) => Tok::Condition,
            Ok(Raw::LParen) => Tok::LParen,
            Ok(Raw::RParen) => Tok::RParen,
            Ok(Raw::LBracket) => Tok::LBracket,
            Ok(Raw::RBracket) => Tok::RBracket,
            Ok(Raw::LBrace) => Tok::LBrace,
            Ok(Raw::RBrace) => Tok::RBrace,
            Ok(Raw::Comma) => Tok::Comma,
            Ok(Raw::Semi) => Tok::Semi,
            Ok(Raw::Colon) => Tok::Colon,
            Ok(Raw::Assign) => Tok::Assign,
            Ok(Raw::Tilde) => Tok::Tilde,
            Ok(Raw::Arrow) => Tok::Arrow,
            Ok(Raw::Dot) => Tok::Dot,
            Ok(Raw::DotDot) => Tok::DotDot,
            Ok(Raw::Pipe) => Tok::Pipe,
            Ok(Raw::OrOr) => Tok::OrOr,
            Ok(Raw::AndAnd) => Tok::AndAnd,
            Ok(Raw::EqEq) => Tok::EqEq,
            Ok(Raw::Ne) => Tok::Ne,
            Ok(Raw::Lt) => Tok::Lt,
            Ok(Raw::Le) => Tok::Le,
            Ok(Raw::Gt) => Tok::Gt,
            Ok(Raw::Ge) => Tok::Ge,
            Ok(Raw::Plus) => Tok::Plus,
            Ok(Raw::Minus) => Tok::Minus,
            Ok(Raw::Star) => Tok::Star,
            Ok(Raw::Slash) => Tok::Slash,
            Ok(Raw::Percent) => Tok::Percent,
            Ok(Raw::Caret) => Tok::Caret,
            Ok(Raw::Bang) => Tok::Bang,
        };
        toks.push((s, tok, e));
    }
    if diags.len() > MAX_LEX_ERRORS {
        let at = diags[MAX_LEX_ERRORS].primary_span().unwrap_or(sp(0, 0));
        diags.truncate(MAX_LEX_ERRORS);
        diags.push(
            Diagnostic::error(format!(
                "too many lexical errors (more than {MAX_LEX_ERRORS}); not all are shown"
            ))
            .with_code("E0108")
            .with_primary(at, "further errors not shown")
            .with_note("is this a Tyche source file?"),
        );
    }
    (toks, diags)
}

/// Beyond this many lexical errors only a summary is reported.
const MAX_LEX_ERRORS: usize = 50;

pub(crate) fn int_too_large(span: Span) -> Diagnostic {
    Diagnostic::error("integer literal is too large")
        .with_code("E0105")
        .with_primary(span, "does not fit in a 64-bit `Int`")
        .with_note(format!("the largest `Int` is {}", i64::MAX))
}

/// Decodes the escapes of the string body `src[start..end]`.
fn unescape(
    file: FileId,
    src: &str,
    start: usize,
    end: usize,
    diags: &mut Vec<Diagnostic>,
) -> String {
    let body = &src[start..end];
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, '0')) => out.push('\0'),
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((j, other)) => {
                let shown: String = other.escape_debug().collect();
                diags.push(
                    Diagnostic::error(format!("unknown escape `\\{shown}` in string"))
                        .with_code("E0104")
                        .with_primary(
                            Span::new(file, start + i, start + j + other.len_utf8()),
                            "unknown escape",
                        )
                        .with_help("the escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r` and `\\0`"),
                );
                out.push(other);
            }
            // A lone backslash at the end of an unterminated string.
            None => out.push('\\'),
        }
    }
    out
}
