//! From a trace to a kernel: loop rerolling and scheduling.
//!
//! Tracing unrolls every loop of the model, so a regression over N data
//! points gives N terms of one shape. This pass finds *runs*: a block of P
//! consecutive terms repeated K times with the same DAG shape (shape =
//! operations with constants and parameter indices abstracted). For each
//! run it *anti-unifies* the K instances into one loop body:
//!
//! - a position where all K instances are the same node is loop-invariant
//!   and computed once before the loop (normalising constants, `ln σ`);
//! - constants that differ become a data column (`data[offset + k]`);
//! - parameters that differ become `θ[base + stride·k]` when the indices
//!   are affine in `k`, else an index table;
//! - equal operations recurse into their operands.
//!
//! The running total is the loop's carried value, and each iteration adds
//! its P terms in order, so the summation order is the trace's. Runs that
//! do not anti-unify (and short ones) stay unrolled. Computations the model
//! did in an earlier loop (`let mus = map(xs, …)`) are recomputed inside
//! the body that uses them, which is sound because nodes are pure.

use crate::graph::Graph;
use crate::kernel::{Carry, Item, Kernel, Loop};
use crate::ops::{NodeId, Op, Ty};
use crate::trace::Trace;
// Fx: deterministic and several times faster than SipHash on the node
// ids and ops tracing hashes (a tenth of a short SMC run was hashing).
use rustc_hash::FxHashMap as HashMap;

/// How the kernel builder rerolls loops.
#[derive(Clone, Debug)]
pub struct RerollOptions {
    /// Roll runs of at least this many iterations (0 disables rerolling).
    pub min_trip: usize,
    /// The longest iteration, in terms, that is looked for.
    pub max_period: usize,
}

impl Default for RerollOptions {
    fn default() -> RerollOptions {
        RerollOptions {
            min_trip: 16,
            max_period: 64,
        }
    }
}

/// Deepest operand nesting anti-unification follows in one iteration.
const MAX_TEMPLATE_DEPTH: usize = 2_000;

fn mix(h: u64, x: u64) -> u64 {
    // splitmix64 finaliser over a running combination.
    let mut z = h ^ x
        .wrapping_add(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(h << 6)
        .wrapping_add(h >> 2);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Structural hashes of every node (operands before users: ids are
/// topological).
fn shapes(g: &Graph) -> Vec<u64> {
    let mut s = vec![0u64; g.len()];
    for (i, op) in g.ops.iter().enumerate() {
        let mut h = mix(0, op.shape());
        for a in op.args() {
            h = mix(h, s[a.index()]);
        }
        s[i] = h;
    }
    s
}

/// A loop body node before lowering: template ids index `Template::nodes`.
#[derive(Clone, Copy, Debug)]
enum TNode {
    /// The same graph node in every iteration.
    Outer(NodeId),
    /// A real per iteration: `data[offset + k]`.
    Data(u32),
    /// A boolean per iteration, stored as 0/1 in `data`.
    BoolData(u32),
    ParamAt(u32, i32),
    ParamIdx(u32),
    /// A recurrence's carried value number `i` (its state at the start of
    /// the iteration).
    Carried(u32),
    /// An operation whose operands are template ids (as `NodeId`s).
    Op(Op),
}

struct Template<'g> {
    g: &'g Graph,
    nodes: Vec<TNode>,
    memo: HashMap<Vec<NodeId>, u32>,
    data: Vec<f64>,
    tables: Vec<u32>,
    /// For recurrences: the instances of each carried value at the start
    /// of the iterations.
    carried: HashMap<Vec<NodeId>, u32>,
}

impl<'g> Template<'g> {
    fn new(g: &'g Graph) -> Template<'g> {
        Template {
            g,
            nodes: Vec::new(),
            memo: HashMap::default(),
            data: Vec::new(),
            tables: Vec::new(),
            carried: HashMap::default(),
        }
    }

    fn unify(&mut self, inst: &[NodeId], depth: usize) -> Option<u32> {
        if let Some(&t) = self.memo.get(inst) {
            return Some(t);
        }
        if let Some(&j) = self.carried.get(inst) {
            let id = self.nodes.len() as u32;
            self.nodes.push(TNode::Carried(j));
            self.memo.insert(inst.to_vec(), id);
            return Some(id);
        }
        if depth > MAX_TEMPLATE_DEPTH {
            return None;
        }
        let g = self.g;
        let first = inst[0];
        let node = if inst.iter().all(|&n| n == first) {
            TNode::Outer(first)
        } else {
            let op0 = *g.op(first);
            match op0 {
                Op::Const(_) => {
                    let mut vals = Vec::with_capacity(inst.len());
                    for &n in inst {
                        vals.push(g.as_const(n)?);
                    }
                    let off = self.data.len() as u32;
                    self.data.extend(vals);
                    TNode::Data(off)
                }
                Op::Bool(_) => {
                    let mut vals = Vec::with_capacity(inst.len());
                    for &n in inst {
                        vals.push(if g.as_bool(n)? { 1.0 } else { 0.0 });
                    }
                    let off = self.data.len() as u32;
                    self.data.extend(vals);
                    TNode::BoolData(off)
                }
                Op::Param(_) => {
                    let mut idx = Vec::with_capacity(inst.len());
                    for &n in inst {
                        match g.op(n) {
                            Op::Param(i) => idx.push(*i),
                            _ => return None,
                        }
                    }
                    let base = idx[0];
                    let stride = idx[1] as i64 - idx[0] as i64;
                    let affine = i32::try_from(stride).is_ok()
                        && idx
                            .iter()
                            .enumerate()
                            .all(|(k, &i)| i as i64 == base as i64 + stride * k as i64);
                    if affine {
                        TNode::ParamAt(base, stride as i32)
                    } else {
                        let off = self.tables.len() as u32;
                        self.tables.extend(idx);
                        TNode::ParamIdx(off)
                    }
                }
                op if op.args().is_empty() => return None,
                op => {
                    let shape = op.shape();
                    if inst.iter().any(|&n| g.op(n).shape() != shape) {
                        return None;
                    }
                    let arity = op.args().len();
                    let mut targs = Vec::with_capacity(arity);
                    for j in 0..arity {
                        let child: Vec<NodeId> = inst.iter().map(|&n| g.op(n).args()[j]).collect();
                        targs.push(NodeId(self.unify(&child, depth + 1)?));
                    }
                    TNode::Op(op.with_args(&targs))
                }
            }
        };
        let id = self.nodes.len() as u32;
        self.nodes.push(node);
        self.memo.insert(inst.to_vec(), id);
        Some(id)
    }
}

/// One piece of the schedule of terms.
enum Segment {
    Term(NodeId),
    Loop {
        count: u32,
        period: usize,
        template: Vec<TNode>,
        roots: Vec<u32>,
        data: Vec<f64>,
        tables: Vec<u32>,
    },
}

/// Splits the terms into unrolled terms and rerolled loops.
fn segment(g: &Graph, terms: &[NodeId], opts: &RerollOptions) -> Vec<Segment> {
    let mut out = Vec::new();
    if opts.min_trip < 2 {
        return terms.iter().map(|&t| Segment::Term(t)).collect();
    }
    let sh = shapes(g);
    let s: Vec<u64> = terms.iter().map(|t| sh[t.index()]).collect();
    let m = s.len();
    let mut i = 0;
    while i < m {
        // The best (period, trips) starting at i.
        let mut best: Option<(usize, usize)> = None;
        let max_p = opts.max_period.min((m - i) / 2);
        for p in 1..=max_p {
            let mut k = 1;
            while i + (k + 1) * p <= m && s[i + k * p..i + (k + 1) * p] == s[i..i + p] {
                k += 1;
            }
            if k >= opts.min_trip && best.is_none_or(|(bp, bk)| k * p > bp * bk) {
                best = Some((p, k));
            }
        }
        if let Some((p, k)) = best {
            let mut t = Template::new(g);
            let mut roots = Vec::with_capacity(p);
            let mut ok = true;
            for j in 0..p {
                let inst: Vec<NodeId> = (0..k).map(|it| terms[i + it * p + j]).collect();
                match t.unify(&inst, 0) {
                    Some(r) => roots.push(r),
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                out.push(Segment::Loop {
                    count: k as u32,
                    period: p,
                    template: t.nodes,
                    roots,
                    data: t.data,
                    tables: t.tables,
                });
                i += k * p;
                continue;
            }
        }
        out.push(Segment::Term(terms[i]));
        i += 1;
    }
    out
}

/// Builds kernel nodes with folding, hash-consing per scope and hoisting.
struct Builder<'g> {
    g: &'g Graph,
    k: Kernel,
    /// Graph node → top-level kernel node.
    lowered: HashMap<NodeId, NodeId>,
    top_memo: HashMap<Op, NodeId>,
    /// While building a loop body: its index, nodes and memo.
    body: Option<(u32, Vec<NodeId>, HashMap<Op, NodeId>)>,
    /// Which kernel nodes are top-level.
    is_top: Vec<bool>,
    /// Rolled recurrences, emitted when their final state is first used.
    recs: Vec<Option<Recurrence>>,
    /// Final-state graph node → (recurrence, carried index).
    rec_map: HashMap<NodeId, (usize, u32)>,
}

/// A `fold` rolled into a loop: iterations `start..` of its recurrence.
struct Recurrence {
    count: u32,
    template: Vec<TNode>,
    /// The next state's template node per carried value.
    roots: Vec<u32>,
    data: Vec<f64>,
    tables: Vec<u32>,
    /// The state entering the loop (graph nodes).
    init: Vec<NodeId>,
    /// The state after the loop (graph nodes).
    finals: Vec<NodeId>,
}

/// Anti-unifies the iterations of a recorded fold, skipping up to two
/// leading iterations that differ (an initial state of constants folds).
fn recurrence(
    g: &Graph,
    rec: &crate::trace::FoldRecord,
    opts: &RerollOptions,
) -> Option<Recurrence> {
    let st = &rec.states;
    let n = st.len() - 1;
    let width = st[0].len();
    let finals = st[n].clone();
    if opts.min_trip < 2 || finals.iter().any(|f| g.op(*f).args().is_empty()) {
        return None;
    }
    for s in 0..=2usize.min(n) {
        let k = n - s;
        if k < opts.min_trip {
            break;
        }
        let mut t = Template::new(g);
        #[allow(clippy::needless_range_loop)]
        for j in 0..width {
            let cin: Vec<NodeId> = (0..k).map(|it| st[s + it][j]).collect();
            t.carried.entry(cin).or_insert(j as u32);
        }
        let mut roots = Vec::with_capacity(width);
        #[allow(clippy::needless_range_loop)]
        for j in 0..width {
            let inst: Vec<NodeId> = (0..k).map(|it| st[s + 1 + it][j]).collect();
            match t.unify(&inst, 0) {
                Some(r) => roots.push(r),
                None => break,
            }
        }
        if roots.len() == width {
            return Some(Recurrence {
                count: k as u32,
                template: t.nodes,
                roots,
                data: t.data,
                tables: t.tables,
                init: st[s].clone(),
                finals,
            });
        }
    }
    None
}

impl<'g> Builder<'g> {
    fn konst(&self, n: NodeId) -> Option<f64> {
        match self.k.nodes[n.index()] {
            Op::Const(b) => Some(f64::from_bits(b)),
            Op::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    fn push(&mut self, op: Op, top: bool) -> NodeId {
        let id = NodeId(self.k.nodes.len() as u32);
        self.k.nodes.push(op);
        self.is_top.push(top);
        if top {
            self.k.top.push(Item::Node(id));
            self.top_memo.insert(op, id);
        } else if let Some((_, nodes, memo)) = &mut self.body {
            nodes.push(id);
            memo.insert(op, id);
        }
        id
    }

    /// Adds a computing node (operands are kernel nodes), folding constants
    /// and hoisting it to the top level when all operands are top-level.
    fn node(&mut self, op: Op) -> NodeId {
        let args = op.args();
        if !args.is_empty() && args.iter().all(|a| self.konst(*a).is_some()) {
            let vals: Vec<f64> = args.iter().map(|a| self.konst(*a).unwrap_or(0.0)).collect();
            let r = op.apply(&vals);
            return match op.ty() {
                Ty::F64 => self.leaf(Op::constant(r)),
                Ty::Bool => self.leaf(Op::Bool(r != 0.0)),
            };
        }
        let b = |s: &Self, n: NodeId| match s.k.nodes[n.index()] {
            Op::Bool(b) => Some(b),
            _ => None,
        };
        // Identities that are exact in IEEE arithmetic (for every x,
        // including ±0, ±∞ and NaN). Applied only here, after rerolling,
        // where they can no longer make iterations differ in shape.
        let is =
            |s: &Self, n: NodeId, v: f64| s.konst(n).is_some_and(|c| c.to_bits() == v.to_bits());
        match op {
            Op::Bin(crate::ops::Bin::Sub, x, y) if is(self, y, 0.0) => return x,
            Op::Bin(crate::ops::Bin::Mul, x, y) if is(self, y, 1.0) => return x,
            Op::Bin(crate::ops::Bin::Mul, x, y) if is(self, x, 1.0) => return y,
            Op::Bin(crate::ops::Bin::Div, x, y) if is(self, y, 1.0) => return x,
            Op::Un(crate::ops::Un::Neg, x) => {
                if let Op::Un(crate::ops::Un::Neg, y) = self.k.nodes[x.index()] {
                    return y;
                }
            }
            _ => {}
        }
        match op {
            Op::Select(c, x, y) => {
                if x == y {
                    return x;
                }
                if let Some(c) = b(self, c) {
                    return if c { x } else { y };
                }
            }
            Op::And(x, y) => match (b(self, x), b(self, y)) {
                (Some(true), _) => return y,
                (_, Some(true)) => return x,
                (Some(false), _) | (_, Some(false)) => return self.leaf(Op::Bool(false)),
                _ => {}
            },
            Op::Or(x, y) => match (b(self, x), b(self, y)) {
                (Some(false), _) => return y,
                (_, Some(false)) => return x,
                (Some(true), _) | (_, Some(true)) => return self.leaf(Op::Bool(true)),
                _ => {}
            },
            _ => {}
        }
        let top = self.body.is_none() || args.iter().all(|a| self.is_top[a.index()]);
        self.find_or_push(op, top)
    }

    /// A top-level leaf (constant, parameter).
    fn leaf(&mut self, op: Op) -> NodeId {
        self.find_or_push(op, true)
    }

    fn find_or_push(&mut self, op: Op, top: bool) -> NodeId {
        if top {
            if let Some(&n) = self.top_memo.get(&op) {
                return n;
            }
        } else if let Some((_, _, memo)) = &self.body {
            if let Some(&n) = memo.get(&op) {
                return n;
            }
        }
        self.push(op, top)
    }

    /// A loop-body leaf (never hoisted or shared between loops).
    fn body_leaf(&mut self, op: Op) -> NodeId {
        self.find_or_push(op, false)
    }

    /// Lowers a graph node at top level (iteratively: traced DAGs can be
    /// deep). Only the taken arm of a `select` whose condition folds is
    /// lowered.
    fn lower_top(&mut self, root: NodeId) -> NodeId {
        let g = self.g;
        let mut stack: Vec<(NodeId, u8)> = vec![(root, 0)];
        while let Some((n, state)) = stack.pop() {
            if self.lowered.contains_key(&n) {
                continue;
            }
            if let Some(&(r, _)) = self.rec_map.get(&n) {
                if self.recs[r].is_some() {
                    self.emit_recurrence(r);
                    if self.lowered.contains_key(&n) {
                        continue;
                    }
                }
            }
            let op = *g.op(n);
            if let Op::Select(c, a, b) = op {
                match state {
                    0 => {
                        stack.push((n, 1));
                        if !self.lowered.contains_key(&c) {
                            stack.push((c, 0));
                        }
                        continue;
                    }
                    1 => {
                        let kc = self.lowered[&c];
                        let arms: Vec<NodeId> = match self.k.nodes[kc.index()] {
                            Op::Bool(true) => vec![a],
                            Op::Bool(false) => vec![b],
                            _ => vec![a, b],
                        };
                        stack.push((n, 2));
                        for arm in arms {
                            if !self.lowered.contains_key(&arm) {
                                stack.push((arm, 0));
                            }
                        }
                        continue;
                    }
                    _ => {
                        let kc = self.lowered[&c];
                        let r = match self.k.nodes[kc.index()] {
                            Op::Bool(true) => self.lowered[&a],
                            Op::Bool(false) => self.lowered[&b],
                            _ => {
                                let (ka, kb) = (self.lowered[&a], self.lowered[&b]);
                                self.node(Op::Select(kc, ka, kb))
                            }
                        };
                        self.lowered.insert(n, r);
                        continue;
                    }
                }
            }
            let args = op.args();
            if state == 0 {
                stack.push((n, 1));
                for a in args.iter().rev() {
                    if !self.lowered.contains_key(a) {
                        stack.push((*a, 0));
                    }
                }
                continue;
            }
            let r = match op {
                Op::Const(_) | Op::Bool(_) | Op::Param(_) => self.leaf(op),
                _ => {
                    let kargs: Vec<NodeId> = args.iter().map(|a| self.lowered[a]).collect();
                    self.node(op.with_args(&kargs))
                }
            };
            self.lowered.insert(n, r);
        }
        self.lowered[&root]
    }

    /// Lowers template node `t` into the current loop body.
    fn lower_t(
        &mut self,
        tpl: &[TNode],
        t: u32,
        memo: &mut HashMap<u32, NodeId>,
        data_off: u32,
        table_off: u32,
        phis: &[NodeId],
    ) -> NodeId {
        if let Some(&n) = memo.get(&t) {
            return n;
        }
        let r = match tpl[t as usize] {
            TNode::Outer(n) => self.lower_top(n),
            TNode::Data(o) => self.body_leaf(Op::Data(o + data_off)),
            TNode::BoolData(o) => {
                let d = self.body_leaf(Op::Data(o + data_off));
                let z = self.leaf(Op::constant(0.0));
                self.node(Op::Cmp(crate::ops::Cmp::Ne, d, z))
            }
            TNode::ParamAt(base, stride) => self.body_leaf(Op::ParamAt { base, stride }),
            TNode::ParamIdx(o) => self.body_leaf(Op::ParamIdx(o + table_off)),
            TNode::Carried(j) => phis[j as usize],
            TNode::Op(op) => match op {
                Op::Select(c, a, b) => {
                    let kc = self.lower_t(tpl, c.0, memo, data_off, table_off, phis);
                    match self.k.nodes[kc.index()] {
                        Op::Bool(true) => self.lower_t(tpl, a.0, memo, data_off, table_off, phis),
                        Op::Bool(false) => self.lower_t(tpl, b.0, memo, data_off, table_off, phis),
                        _ => {
                            let ka = self.lower_t(tpl, a.0, memo, data_off, table_off, phis);
                            let kb = self.lower_t(tpl, b.0, memo, data_off, table_off, phis);
                            self.node(Op::Select(kc, ka, kb))
                        }
                    }
                }
                op => {
                    let kargs: Vec<NodeId> = op
                        .args()
                        .iter()
                        .map(|a| self.lower_t(tpl, a.0, memo, data_off, table_off, phis))
                        .collect();
                    self.node(op.with_args(&kargs))
                }
            },
        };
        memo.insert(t, r);
        r
    }
}

impl<'g> Builder<'g> {
    /// Emits recurrence `r` as a loop (at top level, before its first use)
    /// and maps its final state to the loop's outputs.
    fn emit_recurrence(&mut self, r: usize) {
        let Some(rec) = self.recs[r].take() else {
            return;
        };
        let inits: Vec<NodeId> = rec.init.iter().map(|&n| self.lower_top(n)).collect();
        let saved = self.body.take();
        let data_off = self.k.data.len() as u32;
        let table_off = self.k.tables.len() as u32;
        self.k.data.extend(&rec.data);
        self.k.tables.extend(&rec.tables);
        let lp = self.k.loops.len() as u32;
        self.k.loops.push(Loop {
            count: rec.count,
            body: Vec::new(),
            carried: Vec::new(),
        });
        let mut phis = Vec::new();
        for j in 0..rec.roots.len() {
            let phi = NodeId(self.k.nodes.len() as u32);
            self.k.nodes.push(Op::Carried(j as u32));
            self.is_top.push(false);
            phis.push(phi);
        }
        self.body = Some((lp, Vec::new(), HashMap::default()));
        let mut memo = HashMap::default();
        let nexts: Vec<NodeId> = rec
            .roots
            .iter()
            .map(|&t| self.lower_t(&rec.template, t, &mut memo, data_off, table_off, &phis))
            .collect();
        let (_, body, _) = self.body.take().expect("in a loop");
        self.body = saved;
        let l = &mut self.k.loops[lp as usize];
        l.body = body;
        for j in 0..phis.len() {
            l.carried.push(Carry {
                init: inits[j],
                phi: phis[j],
                next: nexts[j],
            });
        }
        self.k.top.push(Item::Loop(lp));
        for (j, &f) in rec.finals.iter().enumerate() {
            let out = self.push(
                Op::LoopOut {
                    lp,
                    index: j as u32,
                },
                true,
            );
            self.lowered.entry(f).or_insert(out);
        }
    }
}

/// Builds the kernel of a trace.
pub fn build(trace: Trace, opts: &RerollOptions) -> Kernel {
    let g = &trace.graph;
    let segments = segment(g, &trace.terms, opts);
    let mut b = Builder {
        g,
        k: Kernel {
            choices: trace.choices.clone(),
            ..Kernel::default()
        },
        lowered: HashMap::default(),
        top_memo: HashMap::default(),
        body: None,
        is_top: Vec::new(),
        recs: Vec::new(),
        rec_map: HashMap::default(),
    };
    for f in &trace.folds {
        if let Some(rec) = recurrence(g, f, opts) {
            let r = b.recs.len();
            for (j, &fin) in rec.finals.iter().enumerate() {
                b.rec_map.entry(fin).or_insert((r, j as u32));
            }
            b.recs.push(Some(rec));
        }
    }
    let mut total = b.leaf(Op::constant(0.0));
    for seg in segments {
        match seg {
            Segment::Term(t) => {
                let kt = b.lower_top(t);
                total = b.node(Op::Bin(crate::ops::Bin::Add, total, kt));
            }
            Segment::Loop {
                count,
                period,
                template,
                roots,
                data,
                tables,
            } => {
                let data_off = b.k.data.len() as u32;
                let table_off = b.k.tables.len() as u32;
                b.k.data.extend(data);
                b.k.tables.extend(tables);
                let lp = b.k.loops.len() as u32;
                b.k.loops.push(Loop {
                    count,
                    body: Vec::new(),
                    carried: Vec::new(),
                });
                // The carried total's phi is not part of the body list.
                let phi = NodeId(b.k.nodes.len() as u32);
                b.k.nodes.push(Op::Carried(0));
                b.is_top.push(false);
                b.body = Some((lp, Vec::new(), HashMap::default()));
                let mut memo = HashMap::default();
                let mut running = phi;
                debug_assert_eq!(roots.len(), period);
                for r in roots {
                    let t = b.lower_t(&template, r, &mut memo, data_off, table_off, &[]);
                    running = b.node(Op::Bin(crate::ops::Bin::Add, running, t));
                }
                let (_, body, _) = b.body.take().expect("in a loop");
                let l = &mut b.k.loops[lp as usize];
                l.body = body;
                l.carried.push(Carry {
                    init: total,
                    phi,
                    next: running,
                });
                b.k.top.push(Item::Loop(lp));
                total = b.push(Op::LoopOut { lp, index: 0 }, true);
            }
        }
    }
    // The total as summed: NaN (or +∞) marks a θ where the interpreter's
    // run may stop with an error (see `dists`), which the caller asks the
    // interpreter about.
    b.k.result = total;
    b.k
}
