//! Dependency order of top-level items: which names each item uses, and
//! the strongly connected components of that graph, dependencies first.
//!
//! Top-level items may appear in any order, so the checker must see a
//! function's generalised type before checking its callers, and mutually
//! recursive functions together (one component, generalised at once).

use std::collections::HashSet;
use tyche_syntax::ast::{Expr, ExprKind, Item, Stmt};

/// Names an item's body uses that no local binding in it shadows.
pub(crate) fn item_free_names(item: &Item) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut bound = Vec::new();
    match item {
        Item::Let { value, .. } => free_names(value, &mut bound, &mut out),
        Item::Data { default, .. } => {
            if let Some(d) = default {
                free_names(d, &mut bound, &mut out)
            }
        }
        Item::Fn(f) => {
            bound.extend(f.params.iter().map(|p| p.name.name.clone()));
            free_names(&f.body, &mut bound, &mut out);
        }
    }
    out
}

/// Names an expression uses that no binding inside it shadows.
pub(crate) fn expr_free_names(e: &Expr) -> HashSet<String> {
    let mut out = HashSet::new();
    free_names(e, &mut Vec::new(), &mut out);
    out
}

/// Scoping here must match the checker's: `let` is not recursive, a `for`
/// variable and lambda parameters scope over their body only.
fn free_names(e: &Expr, bound: &mut Vec<String>, out: &mut HashSet<String>) {
    match &e.kind {
        ExprKind::Var(n) => {
            if !bound.iter().any(|b| b == n) {
                out.insert(n.clone());
            }
        }
        ExprKind::Int(_)
        | ExprKind::Real(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Unit
        | ExprKind::Error => {}
        ExprKind::Block(stmts, tail) => {
            let mark = bound.len();
            for s in stmts {
                match s {
                    Stmt::Let { name, value, .. } => {
                        free_names(value, bound, out);
                        bound.push(name.name.clone());
                    }
                    Stmt::LetTuple { names, value, .. } => {
                        free_names(value, bound, out);
                        bound.extend(names.iter().map(|n| n.name.clone()));
                    }
                    Stmt::Sample { name, dist, .. } => {
                        free_names(dist, bound, out);
                        bound.push(name.name.clone());
                    }
                    Stmt::Expr(e) => free_names(e, bound, out),
                }
            }
            if let Some(t) = tail {
                free_names(t, bound, out);
            }
            bound.truncate(mark);
        }
        ExprKind::If(c, t, f) => {
            free_names(c, bound, out);
            free_names(t, bound, out);
            if let Some(f) = f {
                free_names(f, bound, out);
            }
        }
        ExprKind::For(x, iter, body) => {
            free_names(iter, bound, out);
            bound.push(x.name.clone());
            free_names(body, bound, out);
            bound.pop();
        }
        ExprKind::Range(a, b) | ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            free_names(a, bound, out);
            free_names(b, bound, out);
        }
        ExprKind::Lambda(params, body) => {
            let mark = bound.len();
            bound.extend(params.iter().map(|p| p.name.name.clone()));
            free_names(body, bound, out);
            bound.truncate(mark);
        }
        ExprKind::Call(f, args) => {
            free_names(f, bound, out);
            args.iter().for_each(|a| free_names(a, bound, out));
        }
        ExprKind::Array(es) | ExprKind::Tuple(es) => {
            es.iter().for_each(|a| free_names(a, bound, out))
        }
        ExprKind::Field(e, _, _) | ExprKind::Member(e, _) | ExprKind::Unary(_, e) => {
            free_names(e, bound, out)
        }
        ExprKind::Record(fs) => fs.iter().for_each(|(_, e)| free_names(e, bound, out)),
        ExprKind::Surgery(_, m, args) => {
            free_names(m, bound, out);
            args.iter().for_each(|a| free_names(&a.value, bound, out));
        }
    }
}

/// Tarjan's algorithm, iteratively (item counts are unbounded input).
/// Returns components so that every component comes after the ones it
/// depends on; `edges[i]` are the nodes `i` uses. Roots are tried in index
/// order, so independent items keep source order.
pub(crate) fn sccs(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge position)
        let mut work = vec![(root, 0usize)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut pos)) = work.last_mut() {
            if *pos < edges[v].len() {
                let w = edges[v][*pos];
                *pos += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    loop {
                        let w = stack.pop().expect("tarjan stack");
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comp.sort_unstable();
                    out.push(comp);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_dependencies_first() {
        // 0 -> 1, 1 -> 2, 2 -> 1, 3 alone
        let edges = vec![vec![1], vec![2], vec![1], vec![]];
        assert_eq!(sccs(&edges), vec![vec![1, 2], vec![0], vec![3]]);
    }

    #[test]
    fn long_chain_does_not_overflow() {
        let n = 200_000;
        let edges: Vec<Vec<usize>> = (0..n)
            .map(|i| if i + 1 < n { vec![i + 1] } else { vec![] })
            .collect();
        let c = sccs(&edges);
        assert_eq!(c.len(), n);
        assert_eq!(c[0], vec![n - 1]);
    }
}
