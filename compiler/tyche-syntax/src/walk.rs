//! Non-recursive passes over a freshly parsed tree: assigning the final
//! [`ExprId`]s and checking the depth bound.
//!
//! Both use an explicit stack so they are safe whatever the input; the
//! depth check is a second line of defence behind the construction-time
//! limit in `build.rs`.

use crate::ast::*;

/// The direct sub-expressions of a node, in source order.
fn children_mut(kind: &mut ExprKind) -> Vec<&mut Expr> {
    let mut out: Vec<&mut Expr> = Vec::new();
    match kind {
        ExprKind::Int(_)
        | ExprKind::Real(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Unit
        | ExprKind::Var(_)
        | ExprKind::Error => {}
        ExprKind::Block(stmts, tail) => {
            for s in stmts {
                out.push(match s {
                    Stmt::Let { value, .. } | Stmt::LetTuple { value, .. } => value,
                    Stmt::Sample { dist, .. } => dist,
                    Stmt::Expr(e) => e,
                });
            }
            if let Some(t) = tail {
                out.push(t);
            }
        }
        ExprKind::If(c, t, e) => {
            out.push(c);
            out.push(t);
            if let Some(e) = e {
                out.push(e);
            }
        }
        ExprKind::For(_, a, b)
        | ExprKind::Range(a, b)
        | ExprKind::Index(a, b)
        | ExprKind::Binary(_, a, b) => {
            out.push(a);
            out.push(b);
        }
        ExprKind::Lambda(_, b)
        | ExprKind::Field(b, _, _)
        | ExprKind::Member(b, _)
        | ExprKind::Unary(_, b) => out.push(b),
        ExprKind::Record(fs) => out.extend(fs.iter_mut().map(|(_, e)| e)),
        ExprKind::Call(f, args) => {
            out.push(f);
            out.extend(args.iter_mut());
        }
        ExprKind::Array(es) | ExprKind::Tuple(es) => out.extend(es.iter_mut()),
        ExprKind::Surgery(_, m, args) => {
            out.push(m);
            out.extend(args.iter_mut().map(|a| &mut a.value));
        }
    }
    out
}

/// The root expressions of an item, in source order.
fn item_roots(item: &mut Item) -> Vec<&mut Expr> {
    match item {
        Item::Let { value, .. } => vec![value],
        Item::Data { default, .. } => default.iter_mut().collect(),
        Item::Fn(f) => vec![&mut f.body],
    }
}

/// Gives every expression under `roots` a fresh id in pre-order, starting
/// at `*next`, and returns the greatest depth seen.
pub fn renumber<'a>(roots: impl IntoIterator<Item = &'a mut Expr>, next: &mut u32) -> usize {
    let mut stack: Vec<(&mut Expr, usize)> = Vec::new();
    let mut max_depth = 0;
    let mut roots: Vec<&mut Expr> = roots.into_iter().collect();
    roots.reverse();
    stack.extend(roots.into_iter().map(|e| (e, 1)));
    while let Some((e, depth)) = stack.pop() {
        max_depth = max_depth.max(depth);
        e.id = ExprId(*next);
        *next = next.saturating_add(1);
        let mut kids = children_mut(&mut e.kind);
        kids.reverse();
        stack.extend(kids.into_iter().map(|k| (k, depth + 1)));
    }
    max_depth
}

/// Renumbers all items; returns the greatest expression depth.
pub fn renumber_items(items: &mut [Item], next: &mut u32) -> usize {
    items
        .iter_mut()
        .map(|i| renumber(item_roots(i), next))
        .max()
        .unwrap_or(0)
}
