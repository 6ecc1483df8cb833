//! Free variables of expressions, for closure captures and for ordering
//! globals by what their initialisers read.

use std::collections::HashSet;
use tyche_syntax::ast::{Expr, ExprKind, Stmt};

/// Names used in `e` but not bound inside it, in first-use order.
pub fn free_vars(e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut bound: Vec<String> = Vec::new();
    walk(e, &mut bound, &mut out, &mut seen);
    out
}

fn use_name(name: &str, bound: &[String], out: &mut Vec<String>, seen: &mut HashSet<String>) {
    if !bound.iter().any(|b| b == name) && seen.insert(name.to_string()) {
        out.push(name.to_string());
    }
}

fn walk(e: &Expr, bound: &mut Vec<String>, out: &mut Vec<String>, seen: &mut HashSet<String>) {
    match &e.kind {
        ExprKind::Var(name) => use_name(name, bound, out, seen),
        ExprKind::Int(_)
        | ExprKind::Real(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Unit
        | ExprKind::Error => {}
        ExprKind::Block(stmts, tail) => {
            let depth = bound.len();
            for s in stmts {
                match s {
                    Stmt::Let { name, value, .. } => {
                        walk(value, bound, out, seen);
                        bound.push(name.name.clone());
                    }
                    Stmt::LetTuple { names, value, .. } => {
                        walk(value, bound, out, seen);
                        bound.extend(names.iter().map(|n| n.name.clone()));
                    }
                    Stmt::Sample { name, dist, .. } => {
                        walk(dist, bound, out, seen);
                        bound.push(name.name.clone());
                    }
                    Stmt::Expr(e) => walk(e, bound, out, seen),
                }
            }
            if let Some(t) = tail {
                walk(t, bound, out, seen);
            }
            bound.truncate(depth);
        }
        ExprKind::If(c, t, f) => {
            walk(c, bound, out, seen);
            walk(t, bound, out, seen);
            if let Some(f) = f {
                walk(f, bound, out, seen);
            }
        }
        ExprKind::For(x, iter, body) => {
            walk(iter, bound, out, seen);
            bound.push(x.name.clone());
            walk(body, bound, out, seen);
            bound.pop();
        }
        ExprKind::Lambda(params, body) => {
            let depth = bound.len();
            bound.extend(params.iter().map(|p| p.name.name.clone()));
            walk(body, bound, out, seen);
            bound.truncate(depth);
        }
        ExprKind::Range(a, b) | ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            walk(a, bound, out, seen);
            walk(b, bound, out, seen);
        }
        ExprKind::Call(f, args) => {
            walk(f, bound, out, seen);
            args.iter().for_each(|a| walk(a, bound, out, seen));
        }
        ExprKind::Array(xs) | ExprKind::Tuple(xs) => {
            xs.iter().for_each(|a| walk(a, bound, out, seen))
        }
        ExprKind::Field(a, _, _) | ExprKind::Member(a, _) | ExprKind::Unary(_, a) => {
            walk(a, bound, out, seen)
        }
        ExprKind::Record(fs) => fs.iter().for_each(|(_, e)| walk(e, bound, out, seen)),
        ExprKind::Surgery(_, m, args) => {
            walk(m, bound, out, seen);
            args.iter().for_each(|a| walk(&a.value, bound, out, seen));
        }
    }
}
