//! Hints for habits brought from Stan and PyMC (issue 16): a statement
//! `y ~ D;` without `let` (E0211) and `return e;` (E0212, in `errors.rs`).
//!
//! `y ~ D;` is parsed only to say what to write instead: where `y` is data
//! or already bound, `observe(D, y);` (what Stan's `y ~ D` means for data);
//! where it is a fresh name, `let y ~ D;`. Whether `y` is bound is decided
//! on the finished tree, by the scopes of the bindings around the
//! statement, because the statement itself is dropped from the tree.

use crate::ast::{Expr, ExprKind, Item, Stmt};
use tyche_core::{Diagnostic, Span};

/// A `TARGET ~ DIST;` statement, as written.
#[derive(Clone, Debug)]
pub struct Tilde {
    /// The variable at the root of the target (`y` in `y`, `y[i]`, `y.0`).
    pub root: Option<String>,
    /// Whether the target is that variable alone.
    pub plain: bool,
    pub target: Span,
    pub dist: Span,
    pub span: Span,
}

impl Tilde {
    pub fn new(target: &Expr, dist: &Expr, span: Span) -> Tilde {
        let mut e = target;
        loop {
            match &e.kind {
                ExprKind::Index(a, _) | ExprKind::Field(a, _, _) | ExprKind::Member(a, _) => e = a,
                _ => break,
            }
        }
        let root = match &e.kind {
            ExprKind::Var(n) => Some(n.clone()),
            _ => None,
        };
        Tilde {
            plain: matches!(target.kind, ExprKind::Var(_)),
            root,
            target: target.span,
            dist: dist.span,
            span,
        }
    }
}

/// Whether the root of a `~` target is bound where the statement stands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    Data,
    Yes,
    No,
    /// Not known (a REPL line, where earlier inputs may bind it).
    Unknown,
}

/// Whether `name` is bound at byte `offset` of the file of `items`: a
/// top-level item, or a local binding whose scope covers the offset.
pub fn bound_at(items: &[Item], name: &str, offset: u32) -> Bound {
    for item in items {
        if item.name().name == name {
            return match item {
                Item::Data { .. } => Bound::Data,
                _ => Bound::Yes,
            };
        }
    }
    let mut scopes = Vec::new();
    for item in items {
        match item {
            Item::Fn(f) => {
                for p in &f.params {
                    scopes.push((p.name.name.as_str(), f.body.span));
                }
                binders(&f.body, &mut scopes);
            }
            Item::Let { value, .. } => binders(value, &mut scopes),
            Item::Data { default, .. } => {
                if let Some(d) = default {
                    binders(d, &mut scopes)
                }
            }
        }
    }
    if scopes
        .iter()
        .any(|(n, s)| *n == name && s.start <= offset && offset < s.end)
    {
        Bound::Yes
    } else {
        Bound::No
    }
}

/// Every local binding under `e` with the span where it is in scope.
fn binders<'a>(e: &'a Expr, out: &mut Vec<(&'a str, Span)>) {
    match &e.kind {
        ExprKind::Block(stmts, tail) => {
            for s in stmts {
                let (names, value, span): (Vec<&str>, &Expr, Span) = match s {
                    Stmt::Let {
                        name, value, span, ..
                    } => (vec![name.name.as_str()], value, *span),
                    Stmt::Sample {
                        name, dist, span, ..
                    } => (vec![name.name.as_str()], dist, *span),
                    Stmt::LetTuple { names, value, span } => (
                        names.iter().map(|n| n.name.as_str()).collect(),
                        value,
                        *span,
                    ),
                    Stmt::Expr(x) => {
                        binders(x, out);
                        continue;
                    }
                };
                binders(value, out);
                let scope = Span::new(span.file, span.end as usize, e.span.end as usize);
                out.extend(names.into_iter().map(|n| (n, scope)));
            }
            if let Some(t) = tail {
                binders(t, out);
            }
        }
        ExprKind::For(x, iter, body) => {
            binders(iter, out);
            out.push((x.name.as_str(), body.span));
            binders(body, out);
        }
        ExprKind::Lambda(params, body) => {
            out.extend(params.iter().map(|p| (p.name.name.as_str(), body.span)));
            binders(body, out);
        }
        ExprKind::If(c, t, f) => {
            binders(c, out);
            binders(t, out);
            if let Some(f) = f {
                binders(f, out);
            }
        }
        ExprKind::Range(a, b) | ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            binders(a, out);
            binders(b, out);
        }
        ExprKind::Field(a, _, _) | ExprKind::Member(a, _) | ExprKind::Unary(_, a) => {
            binders(a, out)
        }
        ExprKind::Record(fs) => fs.iter().for_each(|(_, e)| binders(e, out)),
        ExprKind::Call(f, args) => {
            binders(f, out);
            args.iter().for_each(|a| binders(a, out));
        }
        ExprKind::Array(es) | ExprKind::Tuple(es) => es.iter().for_each(|a| binders(a, out)),
        ExprKind::Surgery(_, m, args) => {
            binders(m, out);
            args.iter().for_each(|a| binders(&a.value, out));
        }
        ExprKind::Int(_)
        | ExprKind::Real(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Unit
        | ExprKind::Var(_)
        | ExprKind::Error => {}
    }
}

/// Source text for a suggestion: one line, not too long.
fn text(src: &str, span: Span, fallback: &str) -> String {
    let t = src
        .get(span.start as usize..span.end as usize)
        .unwrap_or(fallback)
        .trim();
    if t.is_empty() || t.contains('\n') || t.chars().count() > 60 {
        fallback.to_string()
    } else {
        t.to_string()
    }
}

/// The diagnostic for `TARGET ~ DIST;`.
pub fn tilde_diagnostic(t: &Tilde, src: &str, bound: Bound) -> Diagnostic {
    let target = text(src, t.target, "y");
    let dist = text(src, t.dist, "D");
    let observe = format!("observe({dist}, {target});");
    let draw = format!("let {target} ~ {dist};");
    let note = "`let x ~ D;` draws a new random choice `x`; `observe(D, v);` adds the log density of `v` under `D` to the run's weight, as Stan's `v ~ D` does for data";
    let d = Diagnostic::error(format!("`{target} ~ …` without `let` is not a statement"))
        .with_code("E0211");
    let root = t.root.as_deref().unwrap_or(&target);
    match bound {
        Bound::Data | Bound::Yes => {
            let why = if bound == Bound::Data {
                format!("`{root}` is data")
            } else {
                format!("`{root}` is already bound here")
            };
            d.with_primary(t.span, why)
                .with_help(format!(
                    "to condition on the value of `{target}`, write `{observe}`"
                ))
                .with_note(note)
        }
        Bound::No if t.plain => d
            .with_primary(t.span, format!("`{root}` is not bound here"))
            .with_help(format!(
                "to draw a new random choice named `{target}`, write `{draw}`"
            ))
            .with_note(note),
        Bound::No | Bound::Unknown => {
            let mut d = d
                .with_primary(t.span, "neither a binding nor an observation")
                .with_help(format!(
                    "to condition on the value of `{target}`, write `{observe}`"
                ));
            if t.plain {
                d = d.with_help(format!(
                    "to draw a new random choice named `{target}`, write `{draw}`"
                ));
            }
            d.with_note(note)
        }
    }
}
