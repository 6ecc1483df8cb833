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
//! exactly what `Dist::sample` computes).

use crate::graph::Graph;
use crate::ops::{NodeId, Op};
use crate::trace::{Event, Template};
use rand_distr::{Distribution, StandardNormal};
use std::collections::HashMap;
use tyche_dist::{Dist, DistKind, Outcome, Param};
use tyche_infer::rng::InferRng;
use tyche_infer::NativeSequential;
use tyche_ir::SiteId;
use tyche_vm::{Address, Value};

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
        site: SiteId,
    },
    /// `tmp[dst] ~ kind(params)`.
    Sample {
        kind: DistKind,
        params: Vec<Src>,
        dst: u32,
        site: SiteId,
    },
    /// `state[slot] = tmp[tmp]`.
    Store { tmp: u32, slot: u32 },
    /// The observation: the segment's log weight.
    Weight(Src),
}

/// A choice as the plan needs it.
pub(crate) struct PlanChoice {
    pub kind: DistKind,
    pub params: Vec<NodeId>,
    pub site: SiteId,
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
    /// With traces: each choice's address and slot.
    trace: Option<Vec<(Address, u32)>>,
}

/// The programs as text, one instruction per line (`tyche check --emit
/// steps`).
impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let src = |s: &Src| match s {
            Src::Const(x) => crate::ops::fmt_f64(*x),
            Src::Tmp(i) => format!("t{i}"),
            Src::Slot(i) => format!("s{i}"),
        };
        writeln!(
            f,
            "steps({} segments; state: {} slots; scratch: {})",
            self.segments.len(),
            self.state_len,
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
                        let name = format!("{op}");
                        let name = name.split('(').next().unwrap_or("op");
                        writeln!(f, "  t{dst} = {name}({})", a.join(", "))?
                    }
                    Ins::SampleNormal { mu, sigma, dst, .. } => {
                        writeln!(f, "  t{dst} ~ Normal({}, {})", src(mu), src(sigma))?
                    }
                    Ins::Sample {
                        kind, params, dst, ..
                    } => {
                        let a: Vec<String> = params.iter().map(src).collect();
                        writeln!(f, "  t{dst} ~ {}({})", kind.name(), a.join(", "))?
                    }
                    Ins::Store { tmp, slot } => writeln!(f, "  s{slot} = t{tmp}")?,
                    Ins::Weight(w) => writeln!(f, "  weight {}", src(w))?,
                }
            }
        }
        let leaves: Vec<String> = self.leaves.iter().map(src).collect();
        writeln!(f, "  return [{}]", leaves.join(", "))
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
                }
            }
        }
        for &l in &leaf_nodes {
            live.visit(l, end);
        }
        if keep_choices {
            for n in param_node.iter().flatten() {
                live.visit(*n, end);
            }
        }

        // Slots: greedy register allocation over [def, last] intervals.
        let mut ranges: Vec<(u32, u32, NodeId)> = (0..g.len())
            .filter(|&n| live.def[n] != u32::MAX && live.last[n] > live.def[n])
            .map(|n| (live.def[n], live.last[n], NodeId(n as u32)))
            .collect();
        ranges.sort_unstable();
        let mut slot_of: HashMap<NodeId, u32> = HashMap::new();
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
                        let params: Vec<Src> = c.params.iter().map(|&p| e.src(p)).collect();
                        let dst = e.tmp();
                        e.code.push(match (c.kind, params.as_slice()) {
                            (DistKind::Normal, &[mu, sigma]) => Ins::SampleNormal {
                                mu,
                                sigma,
                                dst,
                                site: c.site,
                            },
                            _ => Ins::Sample {
                                kind: c.kind,
                                params,
                                dst,
                                site: c.site,
                            },
                        });
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
                }
            }
            let mut code = e.code;
            scratch_len = scratch_len.max(reuse_tmps(&mut code, &mut []));
            programs.push(code);
        }
        let mut e = Emit::new(g, &live.def, &slot_of, end);
        let mut leaves: Vec<Src> = leaf_nodes.iter().map(|&l| e.src(l)).collect();
        let mut end_code = e.code;
        scratch_len = scratch_len.max(reuse_tmps(&mut end_code, &mut leaves));
        let trace = keep_choices.then(|| {
            choices
                .iter()
                .zip(&param_node)
                .map(|(c, n)| {
                    (
                        c.address,
                        n.and_then(|n| slot_of.get(&n).copied()).unwrap_or(u32::MAX),
                    )
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
            Ins::Store { tmp: t, .. } => vec![t],
            Ins::Weight(s) => tmp(s).into_iter().collect(),
        }
    }
    fn write(ins: &mut Ins) -> Option<&mut u32> {
        match ins {
            Ins::Op { dst, .. } | Ins::SampleNormal { dst, .. } | Ins::Sample { dst, .. } => {
                Some(dst)
            }
            Ins::Store { .. } | Ins::Weight(_) => None,
        }
    }
    let mut last: HashMap<u32, usize> = HashMap::new();
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
    let mut map: HashMap<u32, u32> = HashMap::new();
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
            avail: HashMap::new(),
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

fn collect_leaves(t: &Template, out: &mut Vec<NodeId>) {
    match t {
        Template::Value(_) => {}
        Template::Real(n) | Template::Bool(n) => out.push(*n),
        Template::Array(xs) | Template::Tuple(xs) => xs.iter().for_each(|x| collect_leaves(x, out)),
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

/// Runs straight-line code over a batch, one instruction at a time for
/// every particle (temporaries are columns of `tmp`), so dispatch costs
/// once per instruction and batch rather than per particle.
fn run_batch(
    code: &[Ins],
    rows: &mut [f64],
    width: usize,
    lws: &mut [f64],
    rngs: &mut [InferRng],
    tmp: &mut [f64],
) -> Result<(), (usize, String, SiteId)> {
    let m = lws.len();
    let mut failed: Option<(usize, String, SiteId)> = None;
    let mut fail = |p: usize, e: (String, SiteId), lws: &mut [f64]| {
        if failed.as_ref().is_none_or(|f| p < f.0) {
            failed = Some((p, e.0, e.1));
        }
        // Its later instructions must not report again.
        lws[p] = f64::NEG_INFINITY;
    };
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
                        for p in 0..m {
                            let x = get(args[0], p, rows, width, tmp, m);
                            let y = get(args[1], p, rows, width, tmp, m);
                            tmp[d + p] = b.apply(x, y);
                        }
                    }
                    Op::Un(u, _) => {
                        for p in 0..m {
                            let x = get(args[0], p, rows, width, tmp, m);
                            tmp[d + p] = u.apply(x);
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
                site,
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
                        match draw(DistKind::Normal, &[mu, sigma], site, &mut rngs[p]) {
                            Ok(x) => x,
                            Err(e) => {
                                fail(p, e, lws);
                                0.0
                            }
                        }
                    };
                }
            }
            Ins::Sample {
                kind,
                ref params,
                dst,
                site,
            } => {
                let d = dst as usize * m;
                for p in 0..m {
                    if lws[p] == f64::NEG_INFINITY {
                        continue;
                    }
                    let mut ps = [0.0; 4];
                    for (v, s) in ps.iter_mut().zip(params) {
                        *v = get(*s, p, rows, width, tmp, m);
                    }
                    tmp[d + p] = match draw(kind, &ps[..params.len()], site, &mut rngs[p]) {
                        Ok(x) => x,
                        Err(e) => {
                            fail(p, e, lws);
                            0.0
                        }
                    };
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
                        lws[p] += if w.is_nan() { f64::NEG_INFINITY } else { w };
                    }
                }
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

fn draw(
    kind: DistKind,
    params: &[f64],
    site: SiteId,
    rng: &mut InferRng,
) -> Result<f64, (String, SiteId)> {
    let mut ps = [Param::Real(0.0); 4];
    for (p, &x) in ps.iter_mut().zip(params) {
        *p = Param::Real(x);
    }
    let d = Dist::new(kind, &ps[..params.len()]).map_err(|e| (e.message, site))?;
    match d.sample(rng) {
        Outcome::Real(x) => Ok(x),
        _ => Err((format!("{} is not Real-valued", kind.name()), site)),
    }
}

fn fill(t: &Template, leaves: &mut std::slice::Iter<'_, f64>) -> Value {
    match t {
        Template::Value(v) => v.clone(),
        Template::Real(_) => Value::Real(leaves.next().copied().unwrap_or(f64::NAN)),
        Template::Bool(_) => Value::Bool(leaves.next().is_some_and(|&b| b != 0.0)),
        Template::Array(xs) => Value::array(xs.iter().map(|x| fill(x, leaves)).collect()),
        Template::Tuple(xs) => Value::tuple(xs.iter().map(|x| fill(x, leaves)).collect()),
    }
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
    ) -> Result<(), (usize, String, SiteId)> {
        let m = log_weights.len();
        let width = rows.len() / m.max(1);
        let mut rngs: Vec<InferRng> = (0..m).map(rng).collect();
        let mut tmp = vec![0.0; self.scratch_len * m];
        run_batch(
            &self.segments[k],
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
        let _ = run_batch(&self.end, &mut row, width, &mut [0.0], &mut rngs, &mut tmp);
        let vals: Vec<f64> = self
            .leaves
            .iter()
            .map(|&s| get(s, 0, &row, width, &tmp, 1))
            .collect();
        fill(&self.template, &mut vals.iter())
    }

    fn trace(&self, state: &[f64]) -> Option<Vec<(Address, Value)>> {
        let t = self.trace.as_ref()?;
        Some(
            t.iter()
                .map(|&(a, s)| {
                    (
                        a,
                        Value::Real(state.get(s as usize).copied().unwrap_or(f64::NAN)),
                    )
                })
                .collect(),
        )
    }
}
