//! Reverse-mode derivatives of a [`Kernel`]: the log density and its
//! gradient with respect to θ in one forward and one backward sweep.
//!
//! The forward sweep is [`Kernel::eval`]'s, keeping every loop-body value
//! of every iteration on a tape (`count × body` values per loop). The
//! backward sweep walks the schedule in reverse; a loop is walked from its
//! last iteration to its first without unrolling: each iteration's body
//! values are restored from the tape, its body adjoints start at zero, a
//! carried value's adjoint flows from `next` of iteration `k` to the
//! `Carried` leaf of iteration `k + 1` (and from the `LoopOut` nodes into
//! the last iteration, from the first iteration into `init`). Adjoints of
//! outer values used in a body accumulate over iterations.
//!
//! One adjoint rule per operation ([`partials`]); comparisons and boolean
//! operations carry none, a `select` passes its adjoint to the arm it
//! took. A zero adjoint is never multiplied into an operand, so an arm
//! that was not taken, or a term whose derivative is infinite where its
//! weight is zero (`0 · ln 0`), never turns the gradient into NaN.

use crate::kernel::{Item, Kernel};
use crate::ops::{Bin, NodeId, Op, Un};
use tyche_dist::special as sp;

/// `2/√π`.
const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

/// Partial derivatives of a computing node with respect to its operands,
/// given the operands' values `a` and the node's value `y`.
pub fn partials(op: &Op, a: &[f64; 3], y: f64) -> [f64; 3] {
    let x = a[0];
    match *op {
        Op::Un(u, _) => [
            match u {
                Un::Neg => -1.0,
                Un::Abs => {
                    if x > 0.0 {
                        1.0
                    } else if x < 0.0 {
                        -1.0
                    } else {
                        0.0
                    }
                }
                Un::Sqrt => 0.5 / y,
                Un::Floor | Un::Ceil => 0.0,
                Un::Exp => y,
                Un::Ln => 1.0 / x,
                Un::Log1p => 1.0 / (1.0 + x),
                Un::Expm1 => y + 1.0,
                Un::Lgamma => sp::digamma(x),
                Un::Digamma => sp::trigamma(x),
                Un::Erf => TWO_OVER_SQRT_PI * (-x * x).exp(),
                Un::Sin => x.cos(),
                Un::Cos => -x.sin(),
                Un::Tan => 1.0 + y * y,
                Un::Atan => 1.0 / (1.0 + x * x),
                Un::Tanh => 1.0 - y * y,
            },
            0.0,
            0.0,
        ],
        Op::Bin(o, _, _) => {
            let b = a[1];
            match o {
                Bin::Add => [1.0, 1.0, 0.0],
                Bin::Sub => [1.0, -1.0, 0.0],
                Bin::Mul => [b, x, 0.0],
                Bin::Div => [1.0 / b, -y / b, 0.0],
                Bin::Rem => [1.0, -(x / b).trunc(), 0.0],
                Bin::Pow => {
                    let da = if b == 0.0 { 0.0 } else { b * x.powf(b - 1.0) };
                    let db = if x > 0.0 { y * x.ln() } else { 0.0 };
                    [da, db, 0.0]
                }
                // The operand the value came from (the interpreter's NaN
                // rule: a NaN operand is the result).
                Bin::Min | Bin::Max => {
                    if y.to_bits() == x.to_bits() {
                        [1.0, 0.0, 0.0]
                    } else {
                        [0.0, 1.0, 0.0]
                    }
                }
                // bd0(x, m) = x ln(x/m) + m − x.
                Bin::Bd0 => [(x / b).ln(), 1.0 - x / b, 0.0],
            }
        }
        Op::Select(..) => {
            if a[0] != 0.0 {
                [0.0, 1.0, 0.0]
            } else {
                [0.0, 0.0, 1.0]
            }
        }
        _ => [0.0; 3],
    }
}

/// Scratch memory for [`Gradient::eval`]: node values, adjoints, tapes.
#[derive(Clone, Debug, Default)]
struct Scratch {
    vals: Vec<f64>,
    adj: Vec<f64>,
    /// Per loop: `count × (carried + body)` values, iteration-major: the
    /// carried values read at the start of the iteration, then the body's.
    tapes: Vec<Vec<f64>>,
    /// Carried values between iterations.
    next: Vec<f64>,
}

/// A kernel prepared for gradients, with its own scratch memory (one per
/// thread: chains each own one).
#[derive(Clone, Debug)]
pub struct Gradient {
    kernel: std::sync::Arc<Kernel>,
    /// Per loop, per carried value: the `LoopOut` nodes that read it.
    outs: Vec<Vec<Vec<NodeId>>>,
    scratch: Scratch,
}

impl Gradient {
    pub fn new(kernel: std::sync::Arc<Kernel>) -> Gradient {
        let mut outs: Vec<Vec<Vec<NodeId>>> = kernel
            .loops
            .iter()
            .map(|l| vec![Vec::new(); l.carried.len()])
            .collect();
        for item in &kernel.top {
            if let Item::Node(n) = *item {
                if let Op::LoopOut { lp, index } = *kernel.op(n) {
                    outs[lp as usize][index as usize].push(n);
                }
            }
        }
        let scratch = Scratch {
            vals: vec![0.0; kernel.nodes.len()],
            adj: vec![0.0; kernel.nodes.len()],
            tapes: kernel
                .loops
                .iter()
                .map(|l| vec![0.0; l.count as usize * (l.carried.len() + l.body.len())])
                .collect(),
            next: Vec::new(),
        };
        Gradient {
            kernel,
            outs,
            scratch,
        }
    }

    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    pub fn dim(&self) -> usize {
        self.kernel.dim()
    }

    /// The log density at θ (as [`Kernel::eval`]: −∞ where it is NaN) and,
    /// into `grad`, its gradient. The gradient is meaningful only where
    /// the density is finite.
    ///
    /// # Panics
    /// If `theta` or `grad` do not have [`Kernel::dim`] coordinates.
    pub fn eval(&mut self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let k = &*self.kernel;
        assert_eq!(theta.len(), k.dim(), "θ has the wrong length");
        assert_eq!(grad.len(), k.dim(), "the gradient has the wrong length");
        let Scratch {
            vals,
            adj,
            tapes,
            next,
        } = &mut self.scratch;
        // Forward, recording loop bodies.
        for item in &k.top {
            match *item {
                Item::Node(n) => vals[n.index()] = node_value(k, n, vals, theta, 0),
                Item::Loop(l) => {
                    let lp = &k.loops[l as usize];
                    let tape = &mut tapes[l as usize];
                    let width = lp.carried.len() + lp.body.len();
                    for c in &lp.carried {
                        vals[c.phi.index()] = vals[c.init.index()];
                    }
                    for it in 0..lp.count as usize {
                        let row = &mut tape[it * width..(it + 1) * width];
                        for (j, c) in lp.carried.iter().enumerate() {
                            row[j] = vals[c.phi.index()];
                        }
                        for (j, &n) in lp.body.iter().enumerate() {
                            let v = node_value(k, n, vals, theta, it);
                            vals[n.index()] = v;
                            row[lp.carried.len() + j] = v;
                        }
                        // Every `next` is read before any carried value changes.
                        next.clear();
                        next.extend(lp.carried.iter().map(|c| vals[c.next.index()]));
                        for (c, &x) in lp.carried.iter().zip(next.iter()) {
                            vals[c.phi.index()] = x;
                        }
                    }
                }
            }
        }
        let value = vals[k.result.index()];
        grad.iter_mut().for_each(|g| *g = 0.0);
        if value.is_nan() {
            return f64::NEG_INFINITY;
        }
        // Backward.
        adj.iter_mut().for_each(|a| *a = 0.0);
        adj[k.result.index()] = 1.0;
        for item in k.top.iter().rev() {
            match *item {
                Item::Node(n) => {
                    let a = adj[n.index()];
                    if a != 0.0 {
                        propagate(k, n, a, vals, adj, grad, 0);
                    }
                }
                Item::Loop(l) => {
                    let lp = &k.loops[l as usize];
                    let tape = &tapes[l as usize];
                    let width = lp.carried.len() + lp.body.len();
                    let nc = lp.carried.len();
                    let mut carry: Vec<f64> = self.outs[l as usize]
                        .iter()
                        .map(|ns| ns.iter().map(|n| adj[n.index()]).sum())
                        .collect();
                    for it in (0..lp.count as usize).rev() {
                        let row = &tape[it * width..(it + 1) * width];
                        for (j, c) in lp.carried.iter().enumerate() {
                            vals[c.phi.index()] = row[j];
                            adj[c.phi.index()] = 0.0;
                        }
                        for (j, &n) in lp.body.iter().enumerate() {
                            vals[n.index()] = row[nc + j];
                            adj[n.index()] = 0.0;
                        }
                        for (j, c) in lp.carried.iter().enumerate() {
                            adj[c.next.index()] += carry[j];
                        }
                        for &n in lp.body.iter().rev() {
                            let a = adj[n.index()];
                            if a != 0.0 {
                                propagate(k, n, a, vals, adj, grad, it);
                            }
                        }
                        for (j, c) in lp.carried.iter().enumerate() {
                            carry[j] = adj[c.phi.index()];
                        }
                    }
                    for (j, c) in lp.carried.iter().enumerate() {
                        adj[c.init.index()] += carry[j];
                    }
                }
            }
        }
        value
    }
}

/// The value of node `n` in iteration `it` (0 outside loops).
fn node_value(k: &Kernel, n: NodeId, vals: &[f64], theta: &[f64], it: usize) -> f64 {
    match *k.op(n) {
        Op::Param(i) => theta[i as usize],
        Op::ParamAt { base, stride } => theta[(base as i64 + stride as i64 * it as i64) as usize],
        Op::ParamIdx(o) => theta[k.tables[o as usize + it] as usize],
        Op::Data(o) => k.data[o as usize + it],
        Op::Carried(_) => vals[n.index()],
        Op::LoopOut { lp, index } => {
            let c = k.loops[lp as usize].carried[index as usize];
            vals[c.phi.index()]
        }
        ref op => {
            let (args, count) = op.operands();
            let mut a = [0.0; 3];
            for i in 0..count {
                a[i] = vals[args[i].index()];
            }
            op.apply(&a)
        }
    }
}

/// Adds node `n`'s adjoint `a` into its operands' (or θ's) adjoints.
fn propagate(
    k: &Kernel,
    n: NodeId,
    a: f64,
    vals: &[f64],
    adj: &mut [f64],
    grad: &mut [f64],
    it: usize,
) {
    match *k.op(n) {
        Op::Param(i) => grad[i as usize] += a,
        Op::ParamAt { base, stride } => {
            grad[(base as i64 + stride as i64 * it as i64) as usize] += a
        }
        Op::ParamIdx(o) => grad[k.tables[o as usize + it] as usize] += a,
        // The adjoint of a loop's output is read by the loop itself.
        Op::LoopOut { .. } | Op::Carried(_) | Op::Data(_) | Op::Const(_) | Op::Bool(_) => {}
        ref op => {
            let (args, count) = op.operands();
            let mut x = [0.0; 3];
            for i in 0..count {
                x[i] = vals[args[i].index()];
            }
            let d = partials(op, &x, vals[n.index()]);
            for i in 0..count {
                if d[i] != 0.0 {
                    adj[args[i].index()] += a * d[i];
                }
            }
        }
    }
}
