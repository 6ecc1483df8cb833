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

/// `dy/dx` of `y = u(x)`.
#[inline]
pub fn d_un(u: Un, x: f64, y: f64) -> f64 {
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
    }
}

/// `(∂y/∂a, ∂y/∂b)` of `y = o(a, b)`.
#[inline]
pub fn d_bin(o: Bin, a: f64, b: f64, y: f64) -> (f64, f64) {
    match o {
        Bin::Add => (1.0, 1.0),
        Bin::Sub => (1.0, -1.0),
        Bin::Mul => (b, a),
        Bin::Div => (1.0 / b, -y / b),
        Bin::Rem => (1.0, -(a / b).trunc()),
        Bin::Pow => {
            let da = if b == 0.0 { 0.0 } else { b * a.powf(b - 1.0) };
            let db = if a > 0.0 { y * a.ln() } else { 0.0 };
            (da, db)
        }
        // The operand the value came from (the interpreter's NaN rule: a
        // NaN operand is the result).
        Bin::Min | Bin::Max => {
            if y.to_bits() == a.to_bits() {
                (1.0, 0.0)
            } else {
                (0.0, 1.0)
            }
        }
        // bd0(a, m) = a ln(a/m) + m − a.
        Bin::Bd0 => ((a / b).ln(), 1.0 - a / b),
    }
}

/// Partial derivatives of a computing node with respect to its operands,
/// given the operands' values `a` and the node's value `y`.
pub fn partials(op: &Op, a: &[f64; 3], y: f64) -> [f64; 3] {
    match *op {
        Op::Un(u, _) => [d_un(u, a[0], y), 0.0, 0.0],
        Op::Bin(o, _, _) => {
            let (da, db) = d_bin(o, a[0], a[1], y);
            [da, db, 0.0]
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

/// One node of the flattened program [`Gradient`] runs: what it computes,
/// with its operands as indices into the value array.
#[derive(Clone, Copy, Debug)]
enum Step {
    Param(u32),
    ParamAt {
        base: i64,
        stride: i64,
    },
    ParamIdx(u32),
    Data(u32),
    /// A `LoopOut` (or anything reading another slot's value).
    Copy(u32),
    Un(Un, u32),
    Bin(Bin, u32, u32),
    Select(u32, u32, u32),
    /// Comparisons and boolean operations (no adjoint).
    Logic(Op),
    /// A carried value or constant: set elsewhere.
    Nothing,
}

impl Step {
    fn of(k: &Kernel, n: NodeId) -> Step {
        match *k.op(n) {
            Op::Param(i) => Step::Param(i),
            Op::ParamAt { base, stride } => Step::ParamAt {
                base: base as i64,
                stride: stride as i64,
            },
            Op::ParamIdx(o) => Step::ParamIdx(o),
            Op::Data(o) => Step::Data(o),
            Op::LoopOut { lp, index } => {
                Step::Copy(k.loops[lp as usize].carried[index as usize].phi.0)
            }
            Op::Un(u, a) => Step::Un(u, a.0),
            Op::Bin(o, a, b) => Step::Bin(o, a.0, b.0),
            Op::Select(c, a, b) => Step::Select(c.0, a.0, b.0),
            Op::Carried(_) | Op::Const(_) | Op::Bool(_) => Step::Nothing,
            op => Step::Logic(op),
        }
    }

    /// Whether an adjoint can flow through it.
    fn differentiable(&self) -> bool {
        !matches!(self, Step::Logic(_) | Step::Nothing | Step::Data(_))
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

/// A schedule flattened: `(node, step)` pairs, constants left out (their
/// values are set once).
type Program = Vec<(u32, Step)>;

/// One loop, flattened.
#[derive(Clone, Debug)]
struct FlatLoop {
    count: usize,
    body: Program,
    /// The differentiable body nodes, in reverse order.
    reverse: Program,
    /// `(init, phi, next)` of each carried value.
    carried: Vec<(u32, u32, u32)>,
    /// Per carried value: the `LoopOut` nodes that read it.
    outs: Vec<Vec<u32>>,
}

#[derive(Clone, Debug)]
enum Part {
    Nodes { forward: Program, reverse: Program },
    Loop(FlatLoop),
}

/// A kernel prepared for gradients, with its own scratch memory (one per
/// thread: chains each own one).
#[derive(Clone, Debug)]
pub struct Gradient {
    kernel: std::sync::Arc<Kernel>,
    parts: Vec<Part>,
    scratch: Scratch,
}

impl Gradient {
    pub fn new(kernel: std::sync::Arc<Kernel>) -> Gradient {
        let k = &*kernel;
        let mut vals = vec![0.0; k.nodes.len()];
        for (i, op) in k.nodes.iter().enumerate() {
            match *op {
                Op::Const(b) => vals[i] = f64::from_bits(b),
                Op::Bool(b) => vals[i] = f64::from(u8::from(b)),
                _ => {}
            }
        }
        let flat = |ns: &mut dyn Iterator<Item = NodeId>| -> Program {
            ns.map(|n| (n.0, Step::of(k, n)))
                .filter(|(_, s)| !matches!(s, Step::Nothing))
                .collect()
        };
        let reversed = |p: &Program| -> Program {
            p.iter()
                .rev()
                .filter(|(_, s)| s.differentiable())
                .copied()
                .collect()
        };
        let mut parts = Vec::new();
        let mut run: Vec<NodeId> = Vec::new();
        let flush = |run: &mut Vec<NodeId>, parts: &mut Vec<Part>| {
            if !run.is_empty() {
                let forward = flat(&mut run.drain(..));
                let reverse = reversed(&forward);
                parts.push(Part::Nodes { forward, reverse });
            }
        };
        for item in &k.top {
            match *item {
                Item::Node(n) => run.push(n),
                Item::Loop(l) => {
                    flush(&mut run, &mut parts);
                    let lp = &k.loops[l as usize];
                    let body = flat(&mut lp.body.iter().copied());
                    let mut outs = vec![Vec::new(); lp.carried.len()];
                    for it in &k.top {
                        if let Item::Node(n) = *it {
                            if let Op::LoopOut { lp: o, index } = *k.op(n) {
                                if o == l {
                                    outs[index as usize].push(n.0);
                                }
                            }
                        }
                    }
                    parts.push(Part::Loop(FlatLoop {
                        count: lp.count as usize,
                        reverse: reversed(&body),
                        body,
                        carried: lp
                            .carried
                            .iter()
                            .map(|c| (c.init.0, c.phi.0, c.next.0))
                            .collect(),
                        outs,
                    }));
                }
            }
        }
        flush(&mut run, &mut parts);
        let tapes = parts
            .iter()
            .filter_map(|p| match p {
                Part::Loop(l) => Some(vec![0.0; l.count * (l.carried.len() + l.body.len())]),
                Part::Nodes { .. } => None,
            })
            .collect();
        let scratch = Scratch {
            adj: vec![0.0; k.nodes.len()],
            vals,
            tapes,
            next: Vec::new(),
        };
        Gradient {
            kernel,
            parts,
            scratch,
        }
    }

    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    pub fn dim(&self) -> usize {
        self.kernel.dim()
    }

    /// The log density at θ (as [`Kernel::eval`], NaN or +∞ marking an
    /// interpreter error) and, into `grad`, its gradient. The gradient is
    /// meaningful only where the density is finite.
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
        let mut tape_of = tapes.iter_mut();
        for part in &self.parts {
            match part {
                Part::Nodes { forward, .. } => {
                    for &(n, step) in forward {
                        vals[n as usize] = forward_step(k, step, vals, theta, 0);
                    }
                }
                Part::Loop(l) => {
                    let tape = tape_of.next().expect("a tape per loop");
                    let nc = l.carried.len();
                    let width = nc + l.body.len();
                    for &(init, phi, _) in &l.carried {
                        vals[phi as usize] = vals[init as usize];
                    }
                    for it in 0..l.count {
                        let row = &mut tape[it * width..(it + 1) * width];
                        for (j, &(_, phi, _)) in l.carried.iter().enumerate() {
                            row[j] = vals[phi as usize];
                        }
                        for (j, &(n, step)) in l.body.iter().enumerate() {
                            let v = forward_step(k, step, vals, theta, it);
                            vals[n as usize] = v;
                            row[nc + j] = v;
                        }
                        // Every `next` is read before any carried value changes.
                        next.clear();
                        next.extend(l.carried.iter().map(|&(_, _, nx)| vals[nx as usize]));
                        for (&(_, phi, _), &x) in l.carried.iter().zip(next.iter()) {
                            vals[phi as usize] = x;
                        }
                    }
                }
            }
        }
        let value = vals[k.result.index()];
        grad.iter_mut().for_each(|g| *g = 0.0);
        // NaN (or +∞) marks a point where the interpreter stops with an
        // error: the caller asks the interpreter which.
        if value.is_nan() {
            return value;
        }
        // Backward.
        adj.iter_mut().for_each(|a| *a = 0.0);
        adj[k.result.index()] = 1.0;
        let mut tape_of = tapes.iter().rev();
        for part in self.parts.iter().rev() {
            match part {
                Part::Nodes { reverse, .. } => {
                    for &(n, step) in reverse {
                        let g = adj[n as usize];
                        if g != 0.0 {
                            backward_step(k, step, n, g, vals, adj, grad, 0);
                        }
                    }
                }
                Part::Loop(l) => {
                    let tape = tape_of.next().expect("a tape per loop");
                    let nc = l.carried.len();
                    let width = nc + l.body.len();
                    let mut carry: Vec<f64> = l
                        .outs
                        .iter()
                        .map(|ns| ns.iter().map(|&n| adj[n as usize]).sum())
                        .collect();
                    for it in (0..l.count).rev() {
                        let row = &tape[it * width..(it + 1) * width];
                        for (j, &(_, phi, _)) in l.carried.iter().enumerate() {
                            vals[phi as usize] = row[j];
                            adj[phi as usize] = 0.0;
                        }
                        for (j, &(n, _)) in l.body.iter().enumerate() {
                            vals[n as usize] = row[nc + j];
                            adj[n as usize] = 0.0;
                        }
                        for (j, &(_, _, nx)) in l.carried.iter().enumerate() {
                            adj[nx as usize] += carry[j];
                        }
                        for &(n, step) in &l.reverse {
                            let g = adj[n as usize];
                            if g != 0.0 {
                                backward_step(k, step, n, g, vals, adj, grad, it);
                            }
                        }
                        for (j, &(_, phi, _)) in l.carried.iter().enumerate() {
                            carry[j] = adj[phi as usize];
                        }
                    }
                    for (j, &(init, _, _)) in l.carried.iter().enumerate() {
                        adj[init as usize] += carry[j];
                    }
                }
            }
        }
        value
    }
}

/// The value of a step in iteration `it` (0 outside loops).
#[inline]
fn forward_step(k: &Kernel, step: Step, vals: &[f64], theta: &[f64], it: usize) -> f64 {
    match step {
        Step::Bin(Bin::Add, a, b) => vals[a as usize] + vals[b as usize],
        Step::Bin(Bin::Sub, a, b) => vals[a as usize] - vals[b as usize],
        Step::Bin(Bin::Mul, a, b) => vals[a as usize] * vals[b as usize],
        Step::Bin(Bin::Div, a, b) => vals[a as usize] / vals[b as usize],
        Step::Bin(o, a, b) => o.apply(vals[a as usize], vals[b as usize]),
        Step::Un(u, a) => u.apply(vals[a as usize]),
        Step::Select(c, a, b) => {
            if vals[c as usize] != 0.0 {
                vals[a as usize]
            } else {
                vals[b as usize]
            }
        }
        Step::Param(i) => theta[i as usize],
        Step::ParamAt { base, stride } => theta[(base + stride * it as i64) as usize],
        Step::ParamIdx(o) => theta[k.tables[o as usize + it] as usize],
        Step::Data(o) => k.data[o as usize + it],
        Step::Copy(n) => vals[n as usize],
        Step::Logic(op) => {
            let (args, count) = op.operands();
            let mut a = [0.0; 3];
            for i in 0..count {
                a[i] = vals[args[i].index()];
            }
            op.apply(&a)
        }
        Step::Nothing => 0.0,
    }
}

/// Adds node `n`'s adjoint `g` into its operands' (or θ's) adjoints.
#[allow(clippy::too_many_arguments)]
#[inline]
fn backward_step(
    k: &Kernel,
    step: Step,
    n: u32,
    g: f64,
    vals: &[f64],
    adj: &mut [f64],
    grad: &mut [f64],
    it: usize,
) {
    match step {
        Step::Param(i) => grad[i as usize] += g,
        Step::ParamAt { base, stride } => grad[(base + stride * it as i64) as usize] += g,
        Step::ParamIdx(o) => grad[k.tables[o as usize + it] as usize] += g,
        Step::Bin(Bin::Add, a, b) => {
            adj[a as usize] += g;
            adj[b as usize] += g;
        }
        Step::Bin(Bin::Sub, a, b) => {
            adj[a as usize] += g;
            adj[b as usize] -= g;
        }
        Step::Bin(o, a, b) => {
            let (da, db) = d_bin(o, vals[a as usize], vals[b as usize], vals[n as usize]);
            if da != 0.0 {
                adj[a as usize] += g * da;
            }
            if db != 0.0 {
                adj[b as usize] += g * db;
            }
        }
        Step::Un(u, a) => {
            let d = d_un(u, vals[a as usize], vals[n as usize]);
            if d != 0.0 {
                adj[a as usize] += g * d;
            }
        }
        Step::Select(c, a, b) => {
            if vals[c as usize] != 0.0 {
                adj[a as usize] += g
            } else {
                adj[b as usize] += g
            }
        }
        // The adjoint of a loop's output is read by the loop itself.
        Step::Copy(_) | Step::Data(_) | Step::Logic(_) | Step::Nothing => {}
    }
}
