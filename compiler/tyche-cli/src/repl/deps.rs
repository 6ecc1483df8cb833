//! Which top-level names a definition or expression reads: the REPL
//! uses it to know which cached constants a redefinition invalidates and
//! which code needs a data item that has no value yet.
//!
//! Scoping follows the checker's: `let` is not recursive; `for`
//! variables, lambda and function parameters scope over their bodies.
//! (The lowering crate has the same walk, but privately.)

use std::collections::HashSet;
use tyche_syntax::ast::{Expr, ExprKind, Item, Stmt};

/// Names used in `e` but not bound inside it, in first-use order.
pub(crate) fn free_vars(e: &Expr) -> Vec<String> {
    let mut w = Walk::default();
    w.expr(e);
    w.out
}

/// Names an item's body reads that it does not bind itself.
pub(crate) fn item_uses(item: &Item) -> Vec<String> {
    match item {
        Item::Let { value, .. } => free_vars(value),
        Item::Data { default, .. } => default.as_ref().map(free_vars).unwrap_or_default(),
        Item::Fn(f) => {
            let mut w = Walk::default();
            w.bound.extend(f.params.iter().map(|p| p.name.name.clone()));
            w.expr(&f.body);
            w.out
        }
    }
}

#[derive(Default)]
struct Walk {
    bound: Vec<String>,
    out: Vec<String>,
    seen: HashSet<String>,
}

impl Walk {
    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Var(name) => {
                if !self.bound.iter().any(|b| b == name) && self.seen.insert(name.clone()) {
                    self.out.push(name.clone());
                }
            }
            ExprKind::Int(_)
            | ExprKind::Real(_)
            | ExprKind::Bool(_)
            | ExprKind::Str(_)
            | ExprKind::Unit
            | ExprKind::Error => {}
            ExprKind::Block(stmts, tail) => {
                let depth = self.bound.len();
                for s in stmts {
                    match s {
                        Stmt::Let { name, value, .. } => {
                            self.expr(value);
                            self.bound.push(name.name.clone());
                        }
                        Stmt::LetTuple { names, value, .. } => {
                            self.expr(value);
                            self.bound.extend(names.iter().map(|n| n.name.clone()));
                        }
                        Stmt::Sample { name, dist, .. } => {
                            self.expr(dist);
                            self.bound.push(name.name.clone());
                        }
                        Stmt::Expr(e) => self.expr(e),
                    }
                }
                if let Some(t) = tail {
                    self.expr(t);
                }
                self.bound.truncate(depth);
            }
            ExprKind::If(c, t, f) => {
                self.expr(c);
                self.expr(t);
                if let Some(f) = f {
                    self.expr(f);
                }
            }
            ExprKind::For(x, iter, body) => {
                self.expr(iter);
                self.bound.push(x.name.clone());
                self.expr(body);
                self.bound.pop();
            }
            ExprKind::Lambda(params, body) => {
                let depth = self.bound.len();
                self.bound
                    .extend(params.iter().map(|p| p.name.name.clone()));
                self.expr(body);
                self.bound.truncate(depth);
            }
            ExprKind::Range(a, b) | ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Call(f, args) => {
                self.expr(f);
                args.iter().for_each(|a| self.expr(a));
            }
            ExprKind::Array(xs) | ExprKind::Tuple(xs) => xs.iter().for_each(|a| self.expr(a)),
            ExprKind::Field(a, _, _) | ExprKind::Unary(_, a) => self.expr(a),
            ExprKind::Surgery(_, m, args) => {
                self.expr(m);
                args.iter().for_each(|a| self.expr(&a.value));
            }
        }
    }
}
