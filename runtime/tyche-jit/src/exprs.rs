//! [`Exprs`]: straight-line programs cut from a traced DAG, evaluating
//! some of its nodes at θ without compiling them (a model's choice
//! parameters, its return value's leaves, the terms of a density that has
//! no kernel). `native`, `replay`, `gradient` and `marginal` evaluate them.

use crate::graph::Graph;
use crate::ops::{NodeId, Op};
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

/// Straight-line code evaluating some nodes of a DAG at θ: the nodes the
/// roots depend on, in topological order, with operands renumbered to
/// positions in this program.
#[derive(Clone, Debug, Default)]
pub struct Exprs {
    ops: Vec<Op>,
    pub(crate) roots: Vec<u32>,
    /// The graph's tables, for [`Op::Lookup`].
    tables: Vec<Arc<[f64]>>,
}

impl Exprs {
    /// The program computing `roots` of `g`.
    pub fn new(g: &Graph, roots: &[NodeId]) -> Exprs {
        let mut needed = Vec::new();
        let mut seen = HashMap::default();
        let mut stack: Vec<NodeId> = roots.to_vec();
        while let Some(n) = stack.pop() {
            if seen.insert(n, 0u32).is_none() {
                needed.push(n);
                stack.extend(g.op(n).args());
            }
        }
        // Node ids grow in creation order, which is topological.
        needed.sort_unstable();
        let mut ops = Vec::with_capacity(needed.len());
        for (pos, &n) in needed.iter().enumerate() {
            seen.insert(n, pos as u32);
            let args: Vec<NodeId> = g.op(n).args().iter().map(|a| NodeId(seen[a])).collect();
            ops.push(g.op(n).with_args(&args));
        }
        let lookups = ops.iter().any(|o| matches!(o, Op::Lookup { .. }));
        Exprs {
            ops,
            roots: roots.iter().map(|r| seen[r]).collect(),
            tables: if lookups {
                g.tables.clone()
            } else {
                Vec::new()
            },
        }
    }

    /// The range of root `i` over every θ, when it is a constant or a
    /// lookup in a table (the smallest and largest entry); `None` for
    /// anything computed from θ.
    pub(crate) fn root_range(&self, i: usize) -> Option<(f64, f64)> {
        match self.ops[self.roots[i] as usize] {
            Op::Const(bits) => Some((f64::from_bits(bits), f64::from_bits(bits))),
            Op::Lookup { table, .. } => {
                let t = &self.tables[table as usize];
                let lo = t.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = t.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (!t.is_empty() && !t.iter().any(|x| x.is_nan())).then_some((lo, hi))
            }
            _ => None,
        }
    }

    /// The roots' values at θ (booleans as 0/1), appended to `out`.
    pub fn eval(&self, theta: &[f64], out: &mut Vec<f64>) {
        self.with_values(theta, |vals| {
            out.extend(self.roots.iter().map(|&r| vals[r as usize]));
        })
    }

    /// The sum of the roots at θ, in order from 0 (the kernel's sum).
    pub fn sum(&self, theta: &[f64]) -> f64 {
        self.with_values(theta, |vals| {
            self.roots
                .iter()
                .fold(0.0, |acc, &r| acc + vals[r as usize])
        })
    }

    /// The sum of the roots at θ but the last `lens.len()` (as
    /// [`Exprs::sum`]), which are indexes that must lie in `0..lens[i]`:
    /// NaN (the mark of a fault, see `dists`) when one does not.
    pub(crate) fn sum_checked(&self, theta: &[f64], lens: &[usize]) -> f64 {
        let terms = self.roots.len() - lens.len();
        self.with_values(theta, |vals| {
            let (sum, checks) = self.roots.split_at(terms);
            let inside = checks.iter().zip(lens).all(|(&r, &len)| {
                let i = vals[r as usize];
                i >= 0.0 && i < len as f64
            });
            if !inside {
                return f64::NAN;
            }
            sum.iter().fold(0.0, |acc, &r| acc + vals[r as usize])
        })
    }

    /// Calls `f` with every node's value at θ. MH evaluates these every
    /// step: the values live in a per-thread buffer instead of a fresh
    /// allocation.
    fn with_values<T>(&self, theta: &[f64], f: impl FnOnce(&[f64]) -> T) -> T {
        thread_local! {
            static VALS: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        VALS.with_borrow_mut(|vals| {
            vals.clear();
            self.eval_into(theta, vals);
            f(vals)
        })
    }

    fn eval_into(&self, theta: &[f64], vals: &mut Vec<f64>) {
        for op in &self.ops {
            let v = match *op {
                Op::Param(i) => theta[i as usize],
                Op::Lookup { table, index } => {
                    crate::ops::lookup(&self.tables[table as usize], vals[index.index()])
                }
                _ => {
                    // No allocation here: MH evaluates these every step.
                    let (args, n) = op.operands();
                    let mut a = [0.0; 3];
                    for (slot, arg) in a.iter_mut().zip(&args[..n]) {
                        *slot = vals[arg.index()];
                    }
                    op.apply(&a)
                }
            };
            vals.push(v);
        }
    }
}
