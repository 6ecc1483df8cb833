//! The kernel IR: a log density as straight-line SSA with counted loops,
//! its verifier, its textual form and its reference interpreter.
//!
//! A [`Kernel`] is an arena of pure nodes ([`Op`]) plus a schedule. The
//! top-level schedule is a list of [`Item`]s — nodes and loops, in
//! execution order. A [`Loop`] runs its body `count` times (at least once)
//! with an iteration index `k`; inside the body `Data`, `ParamAt` and
//! `ParamIdx` leaves read per-iteration data and parameters, and `Carried`
//! leaves read loop-carried values (the running log density, for one),
//! which each iteration replaces by its `next` nodes. `LoopOut` nodes after
//! the loop read the final carried values. Loops do not nest.
//!
//! The running total is an ordinary carried value threaded through the
//! terms in the order the model produced them, so a kernel sums its terms
//! in exactly the order the interpreter does.

use crate::ops::{fmt_f64, NodeId, Op, Ty};
use std::fmt;

/// A random choice of the model: one coordinate of θ.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// The address as users see it: `name[k]`.
    pub address: String,
    /// The choice's name (`x` for `let x ~ …`).
    pub name: String,
    /// The occurrence index `k` of the address.
    pub index: u32,
    /// The sample site.
    pub site: tyche_ir::SiteId,
    /// The distribution the choice was drawn from at tracing time (its
    /// parameters may depend on other choices).
    pub dist: tyche_dist::DistKind,
}

/// One step of a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Node(NodeId),
    Loop(u32),
}

/// A value carried around a loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Carry {
    /// Its value before the first iteration (a top-level node).
    pub init: NodeId,
    /// The `Carried(i)` node that reads it inside the body.
    pub phi: NodeId,
    /// Its value for the next iteration (a body node or an outer one).
    pub next: NodeId,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Loop {
    /// The number of iterations (at least 1).
    pub count: u32,
    /// The body's nodes in execution order.
    pub body: Vec<NodeId>,
    pub carried: Vec<Carry>,
}

/// A log-density kernel over θ (one `f64` per [`Choice`]).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Kernel {
    pub nodes: Vec<Op>,
    pub top: Vec<Item>,
    pub loops: Vec<Loop>,
    /// The log density (a top-level node).
    pub result: NodeId,
    /// Per-iteration data of loops (`Data(offset)` reads `data[offset + k]`).
    pub data: Vec<f64>,
    /// Per-iteration parameter indices (`ParamIdx(offset)`).
    pub tables: Vec<u32>,
    /// The layout of θ.
    pub choices: Vec<Choice>,
}

/// Where a node is defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Undefined,
    Top,
    Body(u32),
}

impl Kernel {
    /// The number of parameters (the length of θ).
    pub fn dim(&self) -> usize {
        self.choices.len()
    }

    pub fn op(&self, n: NodeId) -> &Op {
        &self.nodes[n.index()]
    }

    /// The addresses of θ's coordinates, in order.
    /// A hash of the kernel's text (FNV-1a, stable across processes and
    /// builds): two kernels with the same fingerprint compute the same
    /// function, data included. `tyche build` keys ahead-of-time code by it.
    pub fn fingerprint(&self) -> u64 {
        // The text shows at most 16 data values: hash the columns too.
        let text = self.to_string();
        let data = self.data.iter().flat_map(|x| x.to_bits().to_le_bytes());
        let tables = self.tables.iter().flat_map(|t| t.to_le_bytes());
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes().chain(data).chain(tables) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    }

    pub fn addresses(&self) -> Vec<String> {
        self.choices.iter().map(|c| c.address.clone()).collect()
    }

    /// θ from a trace of the model (addresses and values, as inference
    /// records them); `None` when an address of the layout is missing or
    /// its value is not a real.
    pub fn theta_from_trace(
        &self,
        program: &tyche_ir::Program,
        trace: &[(tyche_vm::Address, tyche_vm::Value)],
    ) -> Option<Vec<f64>> {
        let index: std::collections::HashMap<(tyche_ir::NameId, u32), usize> = trace
            .iter()
            .enumerate()
            .map(|(i, (a, _))| ((a.name, a.index), i))
            .collect();
        self.choices
            .iter()
            .map(|c| {
                let name = program.site(c.site).name;
                match trace.get(*index.get(&(name, c.index))?)?.1 {
                    tyche_vm::Value::Real(x) => Some(x),
                    _ => None,
                }
            })
            .collect()
    }

    /// Counts of nodes: (top-level, in loop bodies, loops).
    /// Nodes executed by one evaluation: the top level plus each loop's
    /// body times its count.
    pub fn work(&self) -> u64 {
        let (top, _, _) = self.size();
        let loops: u64 = self
            .loops
            .iter()
            .map(|l| l.body.len() as u64 * u64::from(l.count))
            .sum();
        top as u64 + loops
    }

    pub fn size(&self) -> (usize, usize, usize) {
        let top = self
            .top
            .iter()
            .filter(|i| matches!(i, Item::Node(_)))
            .count();
        let body = self.loops.iter().map(|l| l.body.len()).sum();
        (top, body, self.loops.len())
    }

    /// Evaluates the log density at θ (the reference interpreter): −∞
    /// outside the support; NaN or +∞ where the interpreter's run at θ
    /// may stop with a runtime error (an invalid parameter, a factor of
    /// NaN or +∞; see `dists`), or where its own sum is NaN (−∞ + ∞).
    ///
    /// # Panics
    /// If `theta.len()` differs from [`Kernel::dim`].
    pub fn eval(&self, theta: &[f64]) -> f64 {
        assert_eq!(
            theta.len(),
            self.dim(),
            "θ has {} coordinates but the kernel has {} choices",
            theta.len(),
            self.dim()
        );
        let mut vals = vec![0.0f64; self.nodes.len()];
        for item in &self.top {
            match *item {
                Item::Node(n) => vals[n.index()] = self.eval_node(n, &vals, theta, 0),
                Item::Loop(l) => {
                    let lp = &self.loops[l as usize];
                    for c in &lp.carried {
                        vals[c.phi.index()] = vals[c.init.index()];
                    }
                    let mut next = vec![0.0; lp.carried.len()];
                    for k in 0..lp.count as usize {
                        for &n in &lp.body {
                            vals[n.index()] = self.eval_node(n, &vals, theta, k);
                        }
                        for (i, c) in lp.carried.iter().enumerate() {
                            next[i] = vals[c.next.index()];
                        }
                        for (i, c) in lp.carried.iter().enumerate() {
                            vals[c.phi.index()] = next[i];
                        }
                    }
                }
            }
        }
        vals[self.result.index()]
    }

    fn eval_node(&self, n: NodeId, vals: &[f64], theta: &[f64], k: usize) -> f64 {
        match self.nodes[n.index()] {
            Op::Param(i) => theta[i as usize],
            Op::ParamAt { base, stride } => {
                theta[(base as i64 + stride as i64 * k as i64) as usize]
            }
            Op::ParamIdx(o) => theta[self.tables[o as usize + k] as usize],
            Op::Data(o) => self.data[o as usize + k],
            Op::Carried(_) => vals[n.index()],
            Op::LoopOut { lp, index } => {
                let c = self.loops[lp as usize].carried[index as usize];
                vals[c.phi.index()]
            }
            op => {
                let mut a = [0.0; 3];
                for (i, x) in op.args().iter().enumerate() {
                    a[i] = vals[x.index()];
                }
                op.apply(&a)
            }
        }
    }

    /// Checks that the kernel is well formed: every node is scheduled once,
    /// operands are defined before use and visible in scope, types match,
    /// loop leaves appear only in loop bodies and index within bounds.
    pub fn verify(&self) -> Result<(), String> {
        let mut scope = vec![Scope::Undefined; self.nodes.len()];
        let dim = self.dim() as i64;
        let check_operands = |n: NodeId, here: Scope, scope: &[Scope]| -> Result<(), String> {
            let op = &self.nodes[n.index()];
            for a in op.args() {
                let s = *scope
                    .get(a.index())
                    .ok_or_else(|| format!("{n}: operand {a} out of range"))?;
                match (s, here) {
                    (Scope::Undefined, _) => {
                        return Err(format!("{n}: operand {a} used before its definition"))
                    }
                    (Scope::Body(l), Scope::Body(h)) if l != h => {
                        return Err(format!("{n}: operand {a} belongs to another loop"))
                    }
                    (Scope::Body(_), Scope::Top) => {
                        return Err(format!("{n}: operand {a} is a loop-body value"))
                    }
                    _ => {}
                }
            }
            let want = |a: NodeId, t: Ty| -> Result<(), String> {
                if self.nodes[a.index()].ty() != t {
                    return Err(format!("{n}: operand {a} should be {t:?}"));
                }
                Ok(())
            };
            match *op {
                Op::Un(_, a) => want(a, Ty::F64)?,
                Op::Bin(_, a, b) | Op::Cmp(_, a, b) => {
                    want(a, Ty::F64)?;
                    want(b, Ty::F64)?
                }
                Op::And(a, b) | Op::Or(a, b) => {
                    want(a, Ty::Bool)?;
                    want(b, Ty::Bool)?
                }
                Op::Not(a) => want(a, Ty::Bool)?,
                Op::Select(c, a, b) => {
                    want(c, Ty::Bool)?;
                    want(a, Ty::F64)?;
                    want(b, Ty::F64)?
                }
                // Tables belong to the traced graph (step programs), not
                // to kernels.
                Op::Lookup { .. } => {
                    return Err(format!("{n}: table lookups are not kernel nodes"))
                }
                _ => {}
            }
            Ok(())
        };
        let define = |n: NodeId, s: Scope, scope: &mut Vec<Scope>| -> Result<(), String> {
            match scope.get(n.index()) {
                None => Err(format!("{n} out of range")),
                Some(Scope::Undefined) => {
                    scope[n.index()] = s;
                    Ok(())
                }
                Some(_) => Err(format!("{n} scheduled twice")),
            }
        };
        let mut seen_loops = vec![false; self.loops.len()];
        for item in &self.top {
            match *item {
                Item::Node(n) => {
                    check_operands(n, Scope::Top, &scope)?;
                    match self.nodes[n.index()] {
                        Op::Param(i) if (i as i64) >= dim => {
                            return Err(format!("{n}: parameter {i} out of range"))
                        }
                        Op::ParamAt { .. } | Op::ParamIdx(_) | Op::Data(_) | Op::Carried(_) => {
                            return Err(format!("{n}: loop leaf outside a loop"))
                        }
                        Op::LoopOut { lp, index } => {
                            if !seen_loops.get(lp as usize).copied().unwrap_or(false) {
                                return Err(format!("{n}: reads loop L{lp} before it runs"));
                            }
                            if index as usize >= self.loops[lp as usize].carried.len() {
                                return Err(format!("{n}: no carried value {index}"));
                            }
                        }
                        _ => {}
                    }
                    define(n, Scope::Top, &mut scope)?;
                }
                Item::Loop(l) => {
                    let lp = self
                        .loops
                        .get(l as usize)
                        .ok_or_else(|| format!("no loop L{l}"))?;
                    if seen_loops[l as usize] {
                        return Err(format!("L{l} scheduled twice"));
                    }
                    seen_loops[l as usize] = true;
                    if lp.count == 0 {
                        return Err(format!("L{l} has no iterations"));
                    }
                    let count = lp.count as i64;
                    for (i, c) in lp.carried.iter().enumerate() {
                        if scope.get(c.init.index()) != Some(&Scope::Top) {
                            return Err(format!("L{l}: init {} is not a top-level value", c.init));
                        }
                        if self.nodes.get(c.phi.index()) != Some(&Op::Carried(i as u32)) {
                            return Err(format!("L{l}: carried {i} is not read by `carried {i}`"));
                        }
                        if self.nodes[c.init.index()].ty() != Ty::F64 {
                            return Err(format!("L{l}: carried {i} is not a real"));
                        }
                        define(c.phi, Scope::Body(l), &mut scope)?;
                    }
                    for &n in &lp.body {
                        check_operands(n, Scope::Body(l), &scope)?;
                        match self.nodes[n.index()] {
                            Op::Param(i) if (i as i64) >= dim => {
                                return Err(format!("{n}: parameter {i} out of range"))
                            }
                            Op::ParamAt { base, stride } => {
                                let last = base as i64 + stride as i64 * (count - 1);
                                if last < 0 || last >= dim || base as i64 >= dim {
                                    return Err(format!("{n}: parameter index out of range"));
                                }
                            }
                            Op::ParamIdx(o) => {
                                let end = o as usize + lp.count as usize;
                                let ok = self
                                    .tables
                                    .get(o as usize..end)
                                    .is_some_and(|t| t.iter().all(|&i| (i as i64) < dim));
                                if !ok {
                                    return Err(format!("{n}: parameter table out of range"));
                                }
                            }
                            Op::Data(o) if o as usize + lp.count as usize > self.data.len() => {
                                return Err(format!("{n}: data column out of range"));
                            }
                            Op::Carried(_) | Op::LoopOut { .. } => {
                                return Err(format!("{n}: misplaced leaf in a loop body"))
                            }
                            _ => {}
                        }
                        define(n, Scope::Body(l), &mut scope)?;
                    }
                    for c in &lp.carried {
                        match scope.get(c.next.index()) {
                            Some(Scope::Top) => {}
                            Some(Scope::Body(b)) if *b == l => {}
                            _ => return Err(format!("L{l}: next {} is not visible", c.next)),
                        }
                        if self.nodes[c.next.index()].ty() != Ty::F64 {
                            return Err(format!("L{l}: next {} is not a real", c.next));
                        }
                    }
                }
            }
        }
        match scope.get(self.result.index()) {
            Some(Scope::Top) => {}
            _ => return Err(format!("result {} is not a top-level value", self.result)),
        }
        if self.nodes[self.result.index()].ty() != Ty::F64 {
            return Err("result is not a real".into());
        }
        Ok(())
    }
}

/// The textual form: one node per line, loops as indented blocks.
impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "kernel(θ: {}", self.dim())?;
        if !self.choices.is_empty() {
            let names: Vec<&str> = self.choices.iter().map(|c| c.address.as_str()).collect();
            write!(f, " = [{}]", names.join(", "))?;
        }
        writeln!(
            f,
            "; data: {}; tables: {})",
            self.data.len(),
            self.tables.len()
        )?;
        for item in &self.top {
            match *item {
                Item::Node(n) => writeln!(f, "  {n} = {}", self.nodes[n.index()])?,
                Item::Loop(l) => {
                    let lp = &self.loops[l as usize];
                    let inits: Vec<String> = lp
                        .carried
                        .iter()
                        .map(|c| format!("{} = {}", c.phi, c.init))
                        .collect();
                    writeln!(
                        f,
                        "  loop L{l} k in 0..{} carry({}) {{",
                        lp.count,
                        inits.join(", ")
                    )?;
                    for &n in &lp.body {
                        writeln!(f, "    {n} = {}", self.nodes[n.index()])?;
                    }
                    let nexts: Vec<String> = lp
                        .carried
                        .iter()
                        .map(|c| format!("{} <- {}", c.phi, c.next))
                        .collect();
                    writeln!(f, "    next {}", nexts.join(", "))?;
                    writeln!(f, "  }}")?;
                }
            }
        }
        writeln!(f, "  return {}", self.result)?;
        if !self.data.is_empty() && self.data.len() <= 16 {
            let d: Vec<String> = self.data.iter().map(|x| fmt_f64(*x)).collect();
            writeln!(f, "  data [{}]", d.join(", "))?;
        }
        Ok(())
    }
}
