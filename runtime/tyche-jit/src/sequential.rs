//! Static models cut at their observations for SMC
//! ([`tyche_infer::NativeSequential`]).
//!
//! From the traced DAG, each segment (the choices after one observation,
//! up to and including the next) becomes a straight-line program over
//! three kinds of operands: constants, the segment's temporaries, and the
//! particle's *state* — slots for the values a later segment (or the
//! result) reads. Slots are allocated like registers over the segments'
//! live ranges, so a Markov model carries O(1) values per particle however
//! long it runs, and resampling copies only those.
//!
//! A program's operations are the DAG's own [`Op`]s, evaluated with
//! [`Op::apply`] — the scalar functions the interpreter, the kernel
//! interpreter and the JIT share — so weights agree with the interpreter
//! to rounding. Choices are drawn with `tyche_dist::Dist::sample` from the
//! distribution the interpreter would build (Normal inline: `μ + σ·z`,
//! exactly what `Dist::sample` computes; a distribution with constant
//! parameters built once). A discrete choice's value is stored as `f64`
//! (an Int `k` as `k as f64`, a Bool as 0 or 1) and read back as the
//! interpreter's value for results and traces; table lookups
//! ([`Op::Lookup`]) read the graph's tables, and an index that may be out
//! of bounds is checked where the interpreter would index
//! ([`Event::Check`]). A particle that may have met a runtime error there,
//! in a choice's parameters, or in an observation or factor weight of NaN
//! or +∞ (the mark of an invalid parameter, see `dists`) stops the segment;
//! SMC then runs on the interpreter, which reports its error exactly.

use crate::graph::Graph;
use crate::ops::{NodeId, Op};
use crate::trace::{Event, IndexCheck, Template, ValueKind};
use rand_distr::{Distribution, StandardNormal};
// Fx: deterministic and several times faster than SipHash on the node
// ids and ops tracing hashes (a tenth of a short SMC run was hashing).
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;
use tyche_core::Span;
use tyche_dist::{Dist, DistKind, Outcome, Param};
use tyche_infer::rng::InferRng;
use tyche_infer::NativeSequential;
use tyche_vm::{Address, Value};

/// A particle's failure: its index in the batch, the message and where.
type Failure = (usize, String, Span);

/// Where an operand comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Src {
    Const(f64),
    Tmp(u32),
    Slot(u32),
}

#[derive(Clone, Debug)]
enum Ins {
    /// `tmp[dst] = op(args)`.
    Op {
        op: Op,
        args: [Src; 3],
        arity: u8,
        dst: u32,
    },
    /// `tmp[dst] ~ Normal(mu, sigma)`.
    SampleNormal {
        mu: Src,
        sigma: Src,
        dst: u32,
        span: Span,
    },
    /// `tmp[dst] ~ kind(params)` (Categorical: the weights; Binomial: `n`
    /// then `p`).
    Sample {
        kind: DistKind,
        params: Vec<Src>,
        dst: u32,
        span: Span,
    },
    /// `tmp[dst] ~ dist` (constant parameters, validated when tracing).
    SampleFrom {
        dist: Arc<Dist>,
        dst: u32,
        span: Span,
    },
    /// `tmp[dst] ~ kind(params)` where every parameter is a constant or a
    /// lookup at one `index` (`Categorical(trans[z])`, `Normal(mu[z], s)`):
    /// `rows[index]` is the distribution `Dist::new` builds for that row,
    /// built once.
    SampleRow(Box<RowSample>),
    /// Stops a particle whose `index` is not in `0..len`.
    Check { index: Src, len: usize, span: Span },
    /// `state[slot] = tmp[tmp]`.
    Store { tmp: u32, slot: u32 },
    /// The observation: the segment's log weight.
    Weight(Src),
}

/// See [`Ins::SampleRow`].
#[derive(Clone, Debug)]
struct RowSample {
    kind: DistKind,
    index: Src,
    params: Vec<RowParam>,
    rows: Vec<Result<Dist, String>>,
    dst: u32,
    span: Span,
}

/// A parameter of an [`Ins::SampleRow`].
#[derive(Clone, Copy, Debug)]
enum RowParam {
    Const(f64),
    Table(u32),
}

/// Row distributions are built for tables up to this long.
const MAX_ROWS: usize = 4096;

/// The [`Ins::SampleRow`] parts of a choice whose parameters are constants
/// and lookups at one index: the index node, the parameters, the rows.
#[allow(clippy::type_complexity)]
fn row_sample(
    g: &Graph,
    c: &PlanChoice,
) -> Option<(NodeId, Vec<RowParam>, Vec<Result<Dist, String>>)> {
    if c.concrete.is_some() {
        return None;
    }
    let mut index = None;
    let mut params = Vec::with_capacity(c.params.len());
    for &p in &c.params {
        params.push(match *g.op(p) {
            Op::Const(bits) => RowParam::Const(f64::from_bits(bits)),
            Op::Lookup { table, index: i } if *index.get_or_insert(i) == i => {
                RowParam::Table(table)
            }
            _ => return None,
        });
    }
    let index = index?;
    let rows = params
        .iter()
        .filter_map(|p| match p {
            RowParam::Table(t) => Some(g.tables[*t as usize].len()),
            RowParam::Const(_) => None,
        })
        .min()?;
    if rows > MAX_ROWS {
        return None;
    }
    let mut vals = Vec::with_capacity(params.len());
    let dists = (0..rows)
        .map(|r| {
            vals.clear();
            vals.extend(params.iter().map(|p| match *p {
                RowParam::Const(x) => x,
                RowParam::Table(t) => g.tables[t as usize][r],
            }));
            build(c.kind, &vals)
        })
        .collect();
    Some((index, params, dists))
}

/// A choice as the plan needs it.
pub(crate) struct PlanChoice {
    pub kind: DistKind,
    pub params: Vec<NodeId>,
    /// The distribution, when its parameters are constants.
    pub concrete: Option<Dist>,
    pub value: ValueKind,
    /// Where the interpreter reports its invalid parameters.
    pub span: Span,
    pub address: Address,
}

/// The segments' programs and how to read a finished particle.
pub struct Plan {
    segments: Vec<Vec<Ins>>,
    /// Computes the result's leaves from the state (into temporaries).
    end: Vec<Ins>,
    leaves: Vec<Src>,
    template: Template,
    state_len: usize,
    scratch_len: usize,
    /// Per segment: the `(slot, h)` of values only the result (or trace)
    /// reads after it, which SMC moves to the particle's history (see
    /// [`NativeSequential::settled`]).
    settled: Vec<Vec<(u32, u32)>>,
    /// How many values the histories hold (`h` ranges over them).
    history_len: usize,
    /// The tables of [`Op::Lookup`]s.
    tables: Vec<Arc<[f64]>>,
    /// With traces: the run's choices in order.
    trace: Option<Vec<TraceEntry>>,
}

/// A choice in a per-draw trace.
#[derive(Clone, Debug)]
enum TraceEntry {
    /// A random choice: its address, state slot and kind of value.
    Drawn(Address, u32, ValueKind),
    /// A choice fixed by `do`.
    Fixed(Address, Value),
}

/// The programs as text, one instruction per line (`tyche check --emit
/// steps`).
impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Slots past the state are the history (`h`), read by the result.
        let state_len = self.state_len as u32;
        let src = |s: &Src| match s {
            Src::Const(x) => crate::ops::fmt_f64(*x),
            Src::Tmp(i) => format!("t{i}"),
            Src::Slot(i) if *i >= state_len => format!("h{}", i - state_len),
            Src::Slot(i) => format!("s{i}"),
        };
        writeln!(
            f,
            "steps({} segments; state: {} slots; history: {}; scratch: {})",
            self.segments.len(),
            self.state_len,
            self.history_len,
            self.scratch_len
        )?;
        let last = self.segments.len().saturating_sub(1);
        for (k, code) in self
            .segments
            .iter()
            .enumerate()
            .chain([(usize::MAX, &self.end)])
        {
            match k {
                usize::MAX => writeln!(f, "result:")?,
                k if k == last => writeln!(f, "segment {k} (to the end):")?,
                k => writeln!(f, "segment {k}:")?,
            }
            for ins in code.iter() {
                match ins {
                    Ins::Op {
                        op,
                        args,
                        arity,
                        dst,
                    } => {
                        let a: Vec<String> = args[..*arity as usize].iter().map(src).collect();
                        writeln!(f, "  t{dst} = {}({})", op_name(op), a.join(", "))?
                    }
                    Ins::SampleNormal { mu, sigma, dst, .. } => {
                        writeln!(f, "  t{dst} ~ Normal({}, {})", src(mu), src(sigma))?
                    }
                    Ins::Sample {
                        kind, params, dst, ..
                    } => {
                        let a: Vec<String> = params.iter().map(src).collect();
                        let a = if *kind == DistKind::Categorical {
                            format!("[{}]", a.join(", "))
                        } else {
                            a.join(", ")
                        };
                        writeln!(f, "  t{dst} ~ {}({a})", kind.name())?
                    }
                    Ins::SampleFrom { dist, dst, .. } => {
                        writeln!(f, "  t{dst} ~ {}(constant)", dist.kind().name())?
                    }
                    Ins::SampleRow(r) => {
                        let a: Vec<String> = r
                            .params
                            .iter()
                            .map(|p| match p {
                                RowParam::Const(x) => crate::ops::fmt_f64(*x),
                                RowParam::Table(t) => format!("T{t}[{}]", src(&r.index)),
                            })
                            .collect();
                        let a = if r.kind == DistKind::Categorical {
                            format!("[{}]", a.join(", "))
                        } else {
                            a.join(", ")
                        };
                        writeln!(f, "  t{} ~ {}({a}) (by row)", r.dst, r.kind.name())?
                    }
                    Ins::Check { index, len, .. } => {
                        writeln!(f, "  check 0 <= {} < {len}", src(index))?
                    }
                    Ins::Store { tmp, slot } => writeln!(f, "  s{slot} = t{tmp}")?,
                    Ins::Weight(w) => writeln!(f, "  weight {}", src(w))?,
                }
            }
            for (slot, h) in self.settled.get(k).map_or(&[][..], |v| v.as_slice()) {
                writeln!(f, "  settle s{slot} -> h{h}")?;
            }
        }
        let leaves: Vec<String> = self.leaves.iter().map(src).collect();
        writeln!(f, "  return [{}]", leaves.join(", "))?;
        for (i, t) in self.tables.iter().enumerate() {
            let vals: Vec<String> = t.iter().take(16).map(|x| crate::ops::fmt_f64(*x)).collect();
            let more = if t.len() > 16 { ", …" } else { "" };
            writeln!(f, "table T{i} = [{}{more}]", vals.join(", "))?;
        }
        Ok(())
    }
}

/// An operation's name in the text form (`lookup T3` names its table).
fn op_name(op: &Op) -> String {
    match *op {
        Op::Un(u, _) => u.name().into(),
        Op::Bin(b, ..) => b.name().into(),
        Op::Cmp(c, ..) => c.name().into(),
        Op::Lookup { table, .. } => format!("lookup T{table}"),
        other => {
            let text = other.to_string();
            text.split(' ').next().unwrap_or("op").to_string()
        }
    }
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("segments", &self.segments.len())
            .field("state_len", &self.state_len)
            .finish()
    }
}

impl Plan {
    /// Cuts the traced model into segments. With `keep_choices` every
    /// choice stays in the state to the end (for per-draw traces).
    pub(crate) fn new(
        g: &Graph,
        events: &[Event],
        checks: &[IndexCheck],
        fixed: &[(Address, Value)],
        choices: &[PlanChoice],
        template: &Template,
        keep_choices: bool,
    ) -> Plan {
        let mut param_node = vec![None; choices.len()];
        for (id, op) in g.ops.iter().enumerate() {
            if let Op::Param(i) = *op {
                param_node[i as usize] = Some(NodeId(id as u32));
            }
        }
        // Segment k: the events up to and including the k-th observation;
        // the last: the events after the last observation.
        let mut segs: Vec<Vec<Event>> = vec![Vec::new()];
        for &e in events {
            segs.last_mut().expect("one segment").push(e);
            if let Event::Observe(_) = e {
                segs.push(Vec::new());
            }
        }
        let end = segs.len() as u32;
        let mut leaf_nodes = Vec::new();
        collect_leaves(template, &mut leaf_nodes);

        // Pass 1: the segment defining each node and the last reading it.
        let mut live = Liveness {
            g,
            def: vec![u32::MAX; g.len()],
            last: vec![0; g.len()],
        };
        for (k, seg) in segs.iter().enumerate() {
            let k = k as u32;
            for &e in seg {
                match e {
                    Event::Choice(i) => {
                        for &p in &choices[i as usize].params {
                            live.visit(p, k);
                        }
                        if let Some(n) = param_node[i as usize] {
                            live.def[n.index()] = k;
                            live.last[n.index()] = k;
                        }
                    }
                    Event::Observe(t) => live.visit(t, k),
                    Event::Check(c) => live.visit(checks[c as usize].index, k),
                    Event::Fixed(_) => {}
                }
            }
        }
        // The last segment reading each node, before the result's reads.
        let seg_last = live.last.clone();
        for &l in &leaf_nodes {
            live.visit(l, end);
        }
        if keep_choices {
            for n in param_node.iter().flatten() {
                live.visit(*n, end);
            }
        }

        // A value the result reads is *settled* after the last segment
        // that reads it: from there on only the result needs it, so it
        // moves to the particle's history (shared by resampled copies)
        // and its slot is free. A model returning a whole path then
        // carries O(1) values per particle, not O(T).
        let settles =
            |n: usize| live.def[n] != u32::MAX && live.def[n] < end && live.last[n] == end;
        let mut history_of: HashMap<NodeId, u32> = HashMap::default();
        let mut settled: Vec<Vec<(NodeId, u32)>> = vec![Vec::new(); segs.len()];
        for n in (0..g.len()).filter(|&n| settles(n)) {
            let h = history_of.len() as u32;
            history_of.insert(NodeId(n as u32), h);
            settled[seg_last[n] as usize].push((NodeId(n as u32), h));
        }

        // Slots: greedy register allocation over [def, last] intervals
        // (settled values: [def, last segment reading them]).
        let mut ranges: Vec<(u32, u32, NodeId)> = (0..g.len())
            .filter(|&n| settles(n) || (live.def[n] != u32::MAX && live.last[n] > live.def[n]))
            .map(|n| {
                let last = if settles(n) {
                    seg_last[n]
                } else {
                    live.last[n]
                };
                (live.def[n], last, NodeId(n as u32))
            })
            .collect();
        ranges.sort_unstable();
        let mut slot_of: HashMap<NodeId, u32> = HashMap::default();
        let mut active: Vec<(u32, u32)> = Vec::new(); // (last, slot)
        let mut free: Vec<u32> = Vec::new();
        let mut state_len = 0u32;
        for (def, last, n) in ranges {
            active.retain(|&(l, s)| {
                if l < def {
                    free.push(s);
                    false
                } else {
                    true
                }
            });
            let s = free.pop().unwrap_or_else(|| {
                state_len += 1;
                state_len - 1
            });
            active.push((last, s));
            slot_of.insert(n, s);
        }

        // Pass 2: the programs.
        let mut scratch_len = 0;
        let mut programs = Vec::with_capacity(segs.len());
        for (k, seg) in segs.iter().enumerate() {
            let mut e = Emit::new(g, &live.def, &slot_of, k as u32);
            for &ev in seg {
                match ev {
                    Event::Choice(i) => {
                        let c = &choices[i as usize];
                        let span = c.span;
                        let ins = if let Some((index, params, rows)) = row_sample(g, c) {
                            // Lookups that a later segment reads still go
                            // to their slots.
                            for &p in &c.params {
                                if slot_of.contains_key(&p) {
                                    e.src(p);
                                }
                            }
                            let index = e.src(index);
                            Ins::SampleRow(Box::new(RowSample {
                                kind: c.kind,
                                index,
                                params,
                                rows,
                                dst: e.tmp(),
                                span,
                            }))
                        } else {
                            let params: Vec<Src> = c.params.iter().map(|&p| e.src(p)).collect();
                            let dst = e.tmp();
                            match (c.kind, params.as_slice(), &c.concrete) {
                                (DistKind::Normal, &[mu, sigma], _) => Ins::SampleNormal {
                                    mu,
                                    sigma,
                                    dst,
                                    span,
                                },
                                (_, _, Some(d)) => Ins::SampleFrom {
                                    dist: Arc::new(d.clone()),
                                    dst,
                                    span,
                                },
                                _ => Ins::Sample {
                                    kind: c.kind,
                                    params,
                                    dst,
                                    span,
                                },
                            }
                        };
                        let dst = match &ins {
                            Ins::SampleRow(r) => r.dst,
                            Ins::SampleNormal { dst, .. }
                            | Ins::SampleFrom { dst, .. }
                            | Ins::Sample { dst, .. } => *dst,
                            _ => unreachable!("a sampling instruction"),
                        };
                        e.code.push(ins);
                        if let Some(n) = param_node[i as usize] {
                            e.avail.insert(n, Src::Tmp(dst));
                            if let Some(&slot) = slot_of.get(&n) {
                                e.code.push(Ins::Store { tmp: dst, slot });
                            }
                        }
                    }
                    Event::Observe(t) => {
                        let w = e.src(t);
                        e.code.push(Ins::Weight(w));
                    }
                    Event::Fixed(_) => {}
                    Event::Check(c) => {
                        let c = &checks[c as usize];
                        let index = e.src(c.index);
                        e.code.push(Ins::Check {
                            index,
                            len: c.len,
                            span: c.span,
                        });
                    }
                }
            }
            let mut code = e.code;
            scratch_len = scratch_len.max(reuse_tmps(&mut code, &mut []));
            programs.push(code);
        }
        // The result and the trace read settled values from the history,
        // which follows the state in the row they are given.
        let mut end_slot_of = slot_of.clone();
        for (&n, &h) in &history_of {
            end_slot_of.insert(n, state_len + h);
        }
        let mut e = Emit::new(g, &live.def, &end_slot_of, end);
        let mut leaves: Vec<Src> = leaf_nodes.iter().map(|&l| e.src(l)).collect();
        let mut end_code = e.code;
        scratch_len = scratch_len.max(reuse_tmps(&mut end_code, &mut leaves));
        let trace = keep_choices.then(|| {
            events
                .iter()
                .filter_map(|e| match *e {
                    Event::Choice(i) => {
                        let c = &choices[i as usize];
                        let n = param_node[i as usize];
                        let slot = n.and_then(|n| end_slot_of.get(&n).copied());
                        Some(TraceEntry::Drawn(
                            c.address,
                            slot.unwrap_or(u32::MAX),
                            c.value,
                        ))
                    }
                    Event::Fixed(j) => {
                        let (a, v) = fixed.get(j as usize)?;
                        Some(TraceEntry::Fixed(*a, v.clone()))
                    }
                    Event::Observe(_) | Event::Check(_) => None,
                })
                .collect()
        });
        Plan {
            segments: programs,
            end: end_code,
            leaves,
            template: template.clone(),
            state_len: state_len as usize,
            scratch_len: scratch_len as usize,
            settled: settled
                .into_iter()
                .map(|v| v.into_iter().map(|(n, h)| (slot_of[&n], h)).collect())
                .collect(),
            history_len: history_of.len(),
            tables: g.tables.clone(),
            trace,
        }
    }
}

/// Renumbers a program's temporaries so that one whose last reader has
/// run is reused: a long segment (a model whose choices all come before
/// its first observation) then needs a few columns, not one per node,
/// and its batch stays in cache. `after` are operands read after the
/// program (the result's leaves). Returns the number of temporaries.
fn reuse_tmps(code: &mut [Ins], after: &mut [Src]) -> u32 {
    fn reads(ins: &mut Ins) -> Vec<&mut u32> {
        fn tmp(s: &mut Src) -> Option<&mut u32> {
            match s {
                Src::Tmp(t) => Some(t),
                _ => None,
            }
        }
        match ins {
            Ins::Op { args, arity, .. } => {
                args[..*arity as usize].iter_mut().filter_map(tmp).collect()
            }
            Ins::SampleNormal { mu, sigma, .. } => {
                [mu, sigma].into_iter().filter_map(tmp).collect()
            }
            Ins::Sample { params, .. } => params.iter_mut().filter_map(tmp).collect(),
            Ins::SampleFrom { .. } => vec![],
            Ins::SampleRow(r) => tmp(&mut r.index).into_iter().collect(),
            Ins::Check { index: s, .. } | Ins::Weight(s) => tmp(s).into_iter().collect(),
            Ins::Store { tmp: t, .. } => vec![t],
        }
    }
    fn write(ins: &mut Ins) -> Option<&mut u32> {
        match ins {
            Ins::Op { dst, .. }
            | Ins::SampleNormal { dst, .. }
            | Ins::Sample { dst, .. }
            | Ins::SampleFrom { dst, .. } => Some(dst),
            Ins::SampleRow(r) => Some(&mut r.dst),
            Ins::Store { .. } | Ins::Weight(_) | Ins::Check { .. } => None,
        }
    }
    let mut last: HashMap<u32, usize> = HashMap::default();
    for (i, ins) in code.iter_mut().enumerate() {
        for t in reads(ins) {
            last.insert(*t, i);
        }
    }
    for s in after.iter() {
        if let Src::Tmp(t) = s {
            last.insert(*t, usize::MAX);
        }
    }
    let mut map: HashMap<u32, u32> = HashMap::default();
    let mut free: Vec<u32> = Vec::new();
    let mut count = 0u32;
    for (i, ins) in code.iter_mut().enumerate() {
        for t in reads(ins) {
            let old = *t;
            *t = map[&old];
            // An operand's column is read before the result is written,
            // particle by particle, so the result may take it over.
            if last.get(&old) == Some(&i) {
                free.push(*t);
                last.remove(&old);
            }
        }
        if let Some(d) = write(ins) {
            let new = free.pop().unwrap_or_else(|| {
                count += 1;
                count - 1
            });
            map.insert(*d, new);
            if !last.contains_key(d) {
                free.push(new);
            }
            *d = new;
        }
    }
    for s in after.iter_mut() {
        if let Src::Tmp(t) = s {
            *t = map[t];
        }
    }
    count
}

struct Liveness<'g> {
    g: &'g Graph,
    def: Vec<u32>,
    last: Vec<u32>,
}

impl Liveness<'_> {
    /// Records that segment `k` reads node `n` (computing it there, with
    /// its operands, unless an earlier segment did). Iterative: DAGs of
    /// long models are deep.
    fn visit(&mut self, n: NodeId, k: u32) {
        let mut stack = vec![n];
        while let Some(n) = stack.pop() {
            let i = n.index();
            if self.g.op(n).is_const() {
                continue;
            }
            if self.def[i] != u32::MAX {
                self.last[i] = self.last[i].max(k);
                continue;
            }
            self.def[i] = k;
            self.last[i] = k;
            stack.extend(self.g.op(n).args());
        }
    }
}

/// Code generation for one segment.
struct Emit<'a> {
    g: &'a Graph,
    def: &'a [u32],
    slot_of: &'a HashMap<NodeId, u32>,
    k: u32,
    avail: HashMap<NodeId, Src>,
    code: Vec<Ins>,
    tmps: u32,
}

impl<'a> Emit<'a> {
    fn new(g: &'a Graph, def: &'a [u32], slot_of: &'a HashMap<NodeId, u32>, k: u32) -> Self {
        Emit {
            g,
            def,
            slot_of,
            k,
            avail: HashMap::default(),
            code: Vec::new(),
            tmps: 0,
        }
    }

    fn tmp(&mut self) -> u32 {
        self.tmps += 1;
        self.tmps - 1
    }

    /// The operand for node `n`, emitting its computation if this segment
    /// is the first to need it.
    fn src(&mut self, n: NodeId) -> Src {
        let mut stack = vec![(n, false)];
        while let Some((m, expanded)) = stack.pop() {
            if self.known(m).is_some() {
                continue;
            }
            let op = *self.g.op(m);
            if !expanded {
                stack.push((m, true));
                stack.extend(op.args().into_iter().map(|a| (a, false)));
                continue;
            }
            let mut args = [Src::Const(0.0); 3];
            let list = op.args();
            for (slot, a) in args.iter_mut().zip(&list) {
                *slot = self.known(*a).expect("operands first");
            }
            if let Some(same) = identity(&op, &args).filter(|_| !self.slot_of.contains_key(&m)) {
                self.avail.insert(m, same);
                continue;
            }
            let dst = self.tmp();
            self.code.push(Ins::Op {
                op,
                args,
                arity: list.len() as u8,
                dst,
            });
            self.avail.insert(m, Src::Tmp(dst));
            if let Some(&slot) = self.slot_of.get(&m) {
                self.code.push(Ins::Store { tmp: dst, slot });
            }
        }
        self.known(n).expect("just computed")
    }

    /// The operand for `n` if it needs no code here.
    fn known(&self, n: NodeId) -> Option<Src> {
        match *self.g.op(n) {
            Op::Const(bits) => return Some(Src::Const(f64::from_bits(bits))),
            Op::Bool(b) => return Some(Src::Const(if b { 1.0 } else { 0.0 })),
            _ => {}
        }
        if self.def[n.index()] < self.k {
            return self.slot_of.get(&n).map(|&s| Src::Slot(s));
        }
        self.avail.get(&n).copied()
    }
}

/// An operand equal to `op(args)` bit for bit, when there is one: the
/// taken arm of a `select` on a constant (the DAG keeps those for loop
/// rerolling), `x · 1`, `1 · x` and `x / 1` (exact in IEEE 754).
fn identity(op: &Op, args: &[Src; 3]) -> Option<Src> {
    use crate::ops::Bin;
    match *op {
        Op::Select(..) => match args[0] {
            Src::Const(c) => Some(if c != 0.0 { args[1] } else { args[2] }),
            _ => None,
        },
        Op::Bin(Bin::Mul, ..) if args[1] == Src::Const(1.0) => Some(args[0]),
        Op::Bin(Bin::Mul, ..) if args[0] == Src::Const(1.0) => Some(args[1]),
        Op::Bin(Bin::Div, ..) if args[1] == Src::Const(1.0) => Some(args[0]),
        _ => None,
    }
}

pub(crate) fn collect_leaves(t: &Template, out: &mut Vec<NodeId>) {
    match t {
        Template::Value(_) => {}
        Template::Real(n) | Template::Bool(n) | Template::Int(n) => out.push(*n),
        Template::Array(xs) | Template::Tuple(xs) | Template::Closure(_, xs) => {
            xs.iter().for_each(|x| collect_leaves(x, out))
        }
    }
}

/// Operand `s` of particle `p` in a batch of `m`.
#[inline(always)]
fn get(s: Src, p: usize, rows: &[f64], width: usize, tmp: &[f64], m: usize) -> f64 {
    match s {
        Src::Const(x) => x,
        Src::Tmp(i) => tmp[i as usize * m + p],
        Src::Slot(i) => rows[p * width + i as usize],
    }
}

/// `tmp[d + p] = f(x[p], y[p])` for the batch, with the operand kinds
/// matched once outside the loop. The destination column may be an
/// operand's (temporaries are reused): each `p` reads before it writes.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn bin_loop(
    f: impl Fn(f64, f64) -> f64,
    x: Src,
    y: Src,
    d: usize,
    rows: &[f64],
    width: usize,
    tmp: &mut [f64],
    m: usize,
) {
    match (x, y) {
        (Src::Const(a), Src::Tmp(j)) => {
            let j = j as usize * m;
            for p in 0..m {
                tmp[d + p] = f(a, tmp[j + p]);
            }
        }
        (Src::Tmp(i), Src::Const(b)) => {
            let i = i as usize * m;
            for p in 0..m {
                tmp[d + p] = f(tmp[i + p], b);
            }
        }
        (Src::Tmp(i), Src::Tmp(j)) => {
            let (i, j) = (i as usize * m, j as usize * m);
            for p in 0..m {
                tmp[d + p] = f(tmp[i + p], tmp[j + p]);
            }
        }
        (Src::Const(a), Src::Slot(j)) => {
            for p in 0..m {
                tmp[d + p] = f(a, rows[p * width + j as usize]);
            }
        }
        _ => {
            for p in 0..m {
                let a = get(x, p, rows, width, tmp, m);
                let b = get(y, p, rows, width, tmp, m);
                tmp[d + p] = f(a, b);
            }
        }
    }
}

/// Runs straight-line code over a batch, one instruction at a time for
/// every particle (temporaries are columns of `tmp`), so dispatch costs
/// once per instruction and batch rather than per particle.
fn run_batch(
    code: &[Ins],
    tables: &[Arc<[f64]>],
    rows: &mut [f64],
    width: usize,
    lws: &mut [f64],
    rngs: &mut [InferRng],
    tmp: &mut [f64],
) -> Result<(), Failure> {
    let m = lws.len();
    let mut failed: Option<Failure> = None;
    // A draw's value; an error kills particle `p` (its later instructions
    // must not report again) and keeps the lowest particle's, with 0.0 as
    // the dead particle's value.
    let mut value_or_fail = |p: usize, r: Result<f64, (String, Span)>, lws: &mut [f64]| -> f64 {
        r.unwrap_or_else(|e| {
            if failed.as_ref().is_none_or(|f| p < f.0) {
                failed = Some((p, e.0, e.1));
            }
            lws[p] = f64::NEG_INFINITY;
            0.0
        })
    };
    // Categorical weights, gathered per particle.
    let mut buf: Vec<f64> = Vec::new();
    for ins in code {
        match *ins {
            Ins::Op {
                op,
                args,
                arity,
                dst,
            } => {
                let d = dst as usize * m;
                match op {
                    Op::Bin(b, ..) => {
                        use crate::ops::Bin;
                        let (x, y) = (args[0], args[1]);
                        // The arithmetic that dominates step programs gets
                        // loops specialised by operation and operand kind.
                        match b {
                            Bin::Add => bin_loop(|x, y| x + y, x, y, d, rows, width, tmp, m),
                            Bin::Sub => bin_loop(|x, y| x - y, x, y, d, rows, width, tmp, m),
                            Bin::Mul => bin_loop(|x, y| x * y, x, y, d, rows, width, tmp, m),
                            Bin::Div => bin_loop(|x, y| x / y, x, y, d, rows, width, tmp, m),
                            _ => bin_loop(|x, y| b.apply(x, y), x, y, d, rows, width, tmp, m),
                        }
                    }
                    Op::Un(u, _) => {
                        for p in 0..m {
                            let x = get(args[0], p, rows, width, tmp, m);
                            tmp[d + p] = u.apply(x);
                        }
                    }
                    Op::Lookup { table, .. } => {
                        let t: &[f64] = &tables[table as usize];
                        for p in 0..m {
                            let x = get(args[0], p, rows, width, tmp, m);
                            tmp[d + p] = crate::ops::lookup(t, x);
                        }
                    }
                    _ => {
                        for p in 0..m {
                            let mut a = [0.0; 3];
                            for (v, s) in a.iter_mut().zip(&args[..arity as usize]) {
                                *v = get(*s, p, rows, width, tmp, m);
                            }
                            tmp[d + p] = op.apply(&a);
                        }
                    }
                }
            }
            Ins::SampleNormal {
                mu,
                sigma,
                dst,
                span,
            } => {
                let d = dst as usize * m;
                for p in 0..m {
                    if lws[p] == f64::NEG_INFINITY {
                        continue;
                    }
                    let mu = get(mu, p, rows, width, tmp, m);
                    let sigma = get(sigma, p, rows, width, tmp, m);
                    tmp[d + p] = if mu.is_finite() && sigma.is_finite() && sigma > 0.0 {
                        let z: f64 = StandardNormal.sample(&mut rngs[p]);
                        mu + sigma * z
                    } else {
                        value_or_fail(
                            p,
                            draw(DistKind::Normal, &[mu, sigma], span, &mut rngs[p]),
                            lws,
                        )
                    };
                }
            }
            Ins::Sample {
                kind,
                ref params,
                dst,
                span,
            } => {
                let d = dst as usize * m;
                for p in 0..m {
                    if lws[p] == f64::NEG_INFINITY {
                        continue;
                    }
                    buf.clear();
                    buf.extend(params.iter().map(|s| get(*s, p, rows, width, tmp, m)));
                    tmp[d + p] = value_or_fail(p, draw(kind, &buf, span, &mut rngs[p]), lws);
                }
            }
            Ins::SampleFrom {
                ref dist,
                dst,
                span,
            } => {
                let d = dst as usize * m;
                for p in 0..m {
                    if lws[p] == f64::NEG_INFINITY {
                        continue;
                    }
                    tmp[d + p] = value_or_fail(p, stored(dist.sample(&mut rngs[p]), span), lws);
                }
            }
            Ins::SampleRow(ref r) => {
                let d = r.dst as usize * m;
                for p in 0..m {
                    if lws[p] == f64::NEG_INFINITY {
                        continue;
                    }
                    let x = get(r.index, p, rows, width, tmp, m);
                    let drawn = if x >= 0.0 && x < r.rows.len() as f64 {
                        match &r.rows[x as usize] {
                            Ok(dist) => stored(dist.sample(&mut rngs[p]), r.span),
                            Err(msg) => Err((msg.clone(), r.span)),
                        }
                    } else {
                        // Past a table's end: the lookups' values (NaN).
                        buf.clear();
                        buf.extend(r.params.iter().map(|q| match *q {
                            RowParam::Const(c) => c,
                            RowParam::Table(t) => crate::ops::lookup(&tables[t as usize], x),
                        }));
                        draw(r.kind, &buf, r.span, &mut rngs[p])
                    };
                    tmp[d + p] = value_or_fail(p, drawn, lws);
                }
            }
            Ins::Check { index, len, span } => {
                for p in 0..m {
                    if lws[p] == f64::NEG_INFINITY {
                        continue;
                    }
                    let x = get(index, p, rows, width, tmp, m);
                    if !(x >= 0.0 && x < len as f64) {
                        // The VM's message; `x` holds the Int `i as f64`.
                        let msg = format!(
                            "index {} out of bounds for an array of length {len}",
                            x as i64
                        );
                        value_or_fail(p, Err((msg, span)), lws);
                    }
                }
            }
            Ins::Store { tmp: t, slot } => {
                let t = t as usize * m;
                for p in 0..m {
                    rows[p * width + slot as usize] = tmp[t + p];
                }
            }
            Ins::Weight(s) => {
                for p in 0..m {
                    if lws[p] > f64::NEG_INFINITY {
                        let w = get(s, p, rows, width, tmp, m);
                        if w.is_nan() || w == f64::INFINITY {
                            // The mark of a fault (an invalid parameter,
                            // a factor of NaN or +∞; see `dists`): the
                            // interpreter decides.
                            let msg = format!("observation weight {w}");
                            value_or_fail(p, Err((msg, Span::default())), lws);
                        } else {
                            lws[p] += w;
                        }
                    }
                }
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

/// A draw from `kind(params)`, built as the interpreter builds it: a
/// Categorical's weights are its vector parameter, a Binomial's `n` an
/// Int (exact: the tracer keeps `n` within 2⁵³).
fn draw(
    kind: DistKind,
    params: &[f64],
    span: Span,
    rng: &mut InferRng,
) -> Result<f64, (String, Span)> {
    let d = build(kind, params).map_err(|m| (m, span))?;
    stored(d.sample(rng), span)
}

/// `Dist::new` on parameters as the interpreter passes them (see [`draw`]).
fn build(kind: DistKind, params: &[f64]) -> Result<Dist, String> {
    let built = if kind == DistKind::Categorical {
        Dist::new(kind, &[Param::Vector(params)])
    } else {
        let mut ps = [Param::Real(0.0); 4];
        for (p, &x) in ps.iter_mut().zip(params) {
            *p = Param::Real(x);
        }
        if kind == DistKind::Binomial {
            ps[0] = Param::Int(params.first().copied().unwrap_or(0.0) as i64);
        }
        Dist::new(kind, &ps[..params.len().min(4)])
    };
    built.map_err(|e| e.message)
}

/// A drawn value as a state holds it: a real as is, an Int `k` as
/// `k as f64`, a Bool as 0 or 1. An Int that `f64` cannot hold exactly
/// (beyond 2⁵³: a Geometric draw with `p` below ~1e-13) stops the run
/// rather than continuing with a different value.
fn stored(o: Outcome, span: Span) -> Result<f64, (String, Span)> {
    match o {
        Outcome::Real(x) => Ok(x),
        Outcome::Bool(b) => Ok(if b { 1.0 } else { 0.0 }),
        Outcome::Int(k) if (k as f64) as i64 == k => Ok(k as f64),
        Outcome::Int(k) => Err((
            format!(
                "the native backend cannot hold the Int draw {k} exactly (use `--backend interp`)"
            ),
            span,
        )),
        Outcome::Vector(_) => Err(("a vector-valued draw in a step program".into(), span)),
    }
}

/// The interpreter's value of a stored choice.
fn value_of(kind: ValueKind, x: f64) -> Value {
    match kind {
        ValueKind::Real => Value::Real(x),
        ValueKind::Int => Value::Int(x as i64),
        ValueKind::Bool => Value::Bool(x != 0.0),
    }
}

pub(crate) fn fill(t: &Template, leaves: &mut std::slice::Iter<'_, f64>) -> Value {
    let kind = match t {
        Template::Value(v) => return v.clone(),
        Template::Array(xs) => return Value::array(xs.iter().map(|x| fill(x, leaves)).collect()),
        Template::Tuple(xs) => return Value::tuple(xs.iter().map(|x| fill(x, leaves)).collect()),
        Template::Closure(func, xs) => {
            return Value::Closure(std::sync::Arc::new(tyche_vm::Closure {
                func: *func,
                captures: xs.iter().map(|x| fill(x, leaves)).collect(),
            }))
        }
        Template::Real(_) => ValueKind::Real,
        Template::Int(_) => ValueKind::Int,
        Template::Bool(_) => ValueKind::Bool,
    };
    value_of(kind, leaves.next().copied().unwrap_or(f64::NAN))
}

impl NativeSequential for Plan {
    fn segments(&self) -> usize {
        self.segments.len()
    }

    fn state_len(&self) -> usize {
        self.state_len
    }

    fn run_segment(
        &self,
        k: usize,
        rows: &mut [f64],
        log_weights: &mut [f64],
        rng: &(dyn Fn(usize) -> InferRng + Sync),
    ) -> Result<(), Failure> {
        let m = log_weights.len();
        let width = rows.len() / m.max(1);
        let mut rngs: Vec<InferRng> = (0..m).map(rng).collect();
        let mut tmp = vec![0.0; self.scratch_len * m];
        run_batch(
            &self.segments[k],
            &self.tables,
            rows,
            width,
            log_weights,
            &mut rngs,
            &mut tmp,
        )
    }

    fn result(&self, state: &[f64]) -> Value {
        let mut row = state.to_vec();
        row.push(0.0); // at least one value per row
        let width = row.len();
        let mut tmp = vec![0.0; self.scratch_len];
        // The result program draws nothing: any generator will do.
        let mut rngs = [<InferRng as rand::SeedableRng>::seed_from_u64(0)];
        let _ = run_batch(
            &self.end,
            &self.tables,
            &mut row,
            width,
            &mut [0.0],
            &mut rngs,
            &mut tmp,
        );
        let vals: Vec<f64> = self
            .leaves
            .iter()
            .map(|&s| get(s, 0, &row, width, &tmp, 1))
            .collect();
        fill(&self.template, &mut vals.iter())
    }

    fn keeps_choices(&self) -> bool {
        self.trace.is_some()
    }

    fn settled(&self, k: usize) -> &[(u32, u32)] {
        self.settled.get(k).map_or(&[], |v| v.as_slice())
    }

    fn history_len(&self) -> usize {
        self.history_len
    }

    fn trace(&self, state: &[f64]) -> Option<Vec<(Address, Value)>> {
        let t = self.trace.as_ref()?;
        Some(
            t.iter()
                .map(|e| match e {
                    TraceEntry::Drawn(a, s, kind) => {
                        let x = state.get(*s as usize).copied().unwrap_or(f64::NAN);
                        (*a, value_of(*kind, x))
                    }
                    TraceEntry::Fixed(a, v) => (*a, v.clone()),
                })
                .collect(),
        )
    }
}
