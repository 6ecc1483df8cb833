//! Summing out local discrete choices, so that a gradient-based sampler
//! runs on what remains.
//!
//! A mixture's assignment `z ~ Categorical(w)` made per datum and used
//! only by its own observation contributes `ln p(z) + ln p(y | z)` to the
//! log joint; summed over its support this is `ln Σ_k p(z = k) p(y | z =
//! k)`, a smooth function of the continuous choices. [`sum_out`] rewrites
//! an unconstrained trace made with the discrete choices as parameters
//! ([`crate::trace::trace_unconstrained_discrete`]) into one without
//! them: for each discrete choice, the terms its value reaches (its own
//! log probability, its observations) are evaluated once per value of its
//! support — the graph copied with the choice replaced by the constant `k`,
//! where folding resolves the table lookups and selects it drove — and
//! replaced by one term, their log-sum-exp. The compiled gradient of the
//! result then needs nothing new.
//!
//! Locality is read off the traced DAG: a discrete choice can be summed
//! out when every node depending on its value reaches only log-density
//! terms that depend on no other discrete choice, never a continuous
//! choice's value (a transform's bounds), the return value, an index
//! check, or another discrete choice's parameters. Supports must be finite
//! and known when tracing: Bool-valued choices, `Categorical`,
//! `DiscreteUniform` and `Binomial` with a known `n`, at most
//! [`MAX_SUPPORT`] values. Anything else is refused with the first choice
//! that breaks a rule, and the model keeps its other methods.
//!
//! What is lost: the per-draw values of the summed-out choices (a draw's
//! trace lists the continuous choices only); their conditional
//! probabilities given a draw are `p(z = k | rest) ∝ exp(s_k)` with `s_k`
//! the summands, which [`Summed`] can evaluate from a draw's coordinates.

use crate::exprs::Exprs;
use crate::graph::Graph;
use crate::kernel::Choice;
use crate::ops::{NodeId, Op};
use crate::trace::{Event, NotStatic, Template, Trace, ValueKind};
use tyche_dist::{Dist, DistKind};

/// The most values a summed-out choice may take.
pub const MAX_SUPPORT: i64 = 256;

/// On which discrete choices a node depends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dep {
    None,
    One(u32),
    Many,
}

impl Dep {
    fn join(self, other: Dep) -> Dep {
        match (self, other) {
            (Dep::None, d) | (d, Dep::None) => d,
            (Dep::One(a), Dep::One(b)) if a == b => Dep::One(a),
            _ => Dep::Many,
        }
    }
}

/// The choices summed out of a trace, and how to recover their
/// conditional posterior.
#[derive(Clone, Debug, Default)]
pub struct Summed {
    /// Their addresses (`z[0]`, …), in the order the run makes them.
    pub addresses: Vec<String>,
    /// Per choice, its support's values.
    pub supports: Vec<Vec<i64>>,
    /// Per choice, its summands `s_k` as nodes of the new graph.
    summands: Vec<Vec<NodeId>>,
}

impl Summed {
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
    }

    /// The summands as evaluable expressions over the coordinates.
    pub fn exprs(&self, g: &Graph) -> Exprs {
        let all: Vec<NodeId> = self.summands.iter().flatten().copied().collect();
        Exprs::new(g, &all)
    }

    /// From the values of [`Summed::exprs`] at a draw: each summed-out
    /// choice's conditional probabilities over its support.
    pub fn probabilities(&self, values: &[f64]) -> Vec<Vec<f64>> {
        let mut at = 0;
        self.summands
            .iter()
            .map(|s| {
                let xs = &values[at..at + s.len()];
                at += s.len();
                let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = xs.iter().map(|x| (x - m).exp()).collect();
                let total: f64 = e.iter().sum();
                e.iter().map(|x| x / total).collect()
            })
            .collect()
    }
}

fn refuse<T>(t: &Trace, i: usize, why: &str) -> Result<T, NotStatic> {
    Err(NotStatic {
        reason: format!(
            "the discrete choice {} cannot be summed out: {why}",
            t.choices[i].address
        ),
        span: Some(t.dists[i].site_span),
    })
}

/// The values choice `i` of `t` takes, when finite and known.
fn support(t: &Trace, i: usize) -> Result<Vec<i64>, NotStatic> {
    let d = &t.dists[i];
    let range = |lo: i64, hi: i64| -> Result<Vec<i64>, NotStatic> {
        if hi < lo || hi - lo >= MAX_SUPPORT {
            return refuse(t, i, &format!("it takes more than {MAX_SUPPORT} values"));
        }
        Ok((lo..=hi).collect())
    };
    if d.value == ValueKind::Bool {
        return Ok(vec![0, 1]);
    }
    match d.kind {
        DistKind::Categorical => match &t.priors[i] {
            Some(ws) => range(0, ws.len() as i64 - 1),
            None => refuse(t, i, "its number of categories is not known"),
        },
        DistKind::DiscreteUniform => match &d.concrete {
            Some(Dist::DiscreteUniform { lo, hi, .. }) => range(*lo, *hi),
            _ => refuse(t, i, "its bounds are random"),
        },
        DistKind::Binomial => match t.priors[i].as_ref().and_then(|p| t.graph.as_const(p[0])) {
            Some(n) => range(0, n as i64),
            None => refuse(t, i, "its number of trials is random"),
        },
        _ => refuse(
            t,
            i,
            &format!("{} has no finite support known here", d.kind.name()),
        ),
    }
}

/// Copies nodes of one graph into another, parameters renumbered and, in
/// a substitution, one discrete parameter replaced by a constant.
struct Copier<'a> {
    old: &'a Graph,
    new: Graph,
    /// Old node → new node, for nodes depending on no discrete choice.
    base: Vec<Option<NodeId>>,
    /// Old parameter → new parameter (`None` for a summed-out one).
    params: Vec<Option<u32>>,
}

impl Copier<'_> {
    fn leaf(&mut self, op: &Op) -> NodeId {
        match *op {
            Op::Param(i) => {
                let j = self.params[i as usize].expect("a kept parameter");
                self.new.param(j)
            }
            Op::Const(b) => self.new.c(f64::from_bits(b)),
            Op::Bool(b) => self.new.boolean(b),
            other => self.new.intern(other),
        }
    }

    /// Adds `op` with its operands mapped by `map`.
    fn add(&mut self, op: &Op, args: &[NodeId]) -> NodeId {
        match *op {
            Op::Lookup { table, .. } => {
                let t = self.new.table(&self.old.tables[table as usize].clone());
                self.new.lookup(t, args[0])
            }
            _ => self.new.add(op.with_args(args)),
        }
    }
}

/// `t` with its discrete choices summed out (see the module
/// documentation), and which they were; `t` unchanged when it has none.
pub fn sum_out(t: Trace) -> Result<(Trace, Summed), NotStatic> {
    let discrete: Vec<usize> = (0..t.dists.len())
        .filter(|&i| t.dists[i].value != ValueKind::Real)
        .collect();
    if discrete.is_empty() {
        return Ok((t, Summed::default()));
    }
    let first = discrete[0];
    if t.stopped.is_some() || t.result.is_none() {
        return refuse(&t, first, "the model's return value could not be traced");
    }
    let is_discrete = |p: u32| t.dists[p as usize].value != ValueKind::Real;
    // Which discrete choices each node depends on (ids are topological).
    let g = &t.graph;
    let mut dep = vec![Dep::None; g.len()];
    for (n, op) in g.ops.iter().enumerate() {
        dep[n] = match *op {
            Op::Param(i) if is_discrete(i) => Dep::One(i),
            _ => op
                .args()
                .iter()
                .fold(Dep::None, |d, a| d.join(dep[a.index()])),
        };
    }
    let dep_of = |n: NodeId| dep[n.index()];
    let name = |d: Dep| match d {
        Dep::One(i) => i as usize,
        _ => first,
    };
    // What must not depend on a discrete value.
    let mut continuous_values = Vec::new();
    let mut at = 0usize;
    for s in &t.slots {
        let n = s.width.unwrap_or(1);
        if !is_discrete(s.first) {
            continuous_values.extend_from_slice(&t.constrained[at..at + n]);
        }
        at += n;
    }
    for &n in &continuous_values {
        if dep_of(n) != Dep::None {
            return refuse(&t, name(dep_of(n)), "its value reaches a continuous choice");
        }
    }
    for c in &t.checks {
        if dep_of(c.index) != Dep::None {
            return refuse(
                &t,
                name(dep_of(c.index)),
                "it indexes an array out of bounds",
            );
        }
    }
    let mut leaves = Vec::new();
    if let Some(r) = &t.result {
        crate::sequential::collect_leaves(r, &mut leaves);
    }
    for &n in &leaves {
        if dep_of(n) != Dep::None {
            return refuse(&t, name(dep_of(n)), "its value reaches the return value");
        }
    }
    for &i in &discrete {
        for &n in t.priors[i].iter().flatten() {
            if dep_of(n) != Dep::None {
                return refuse(
                    &t,
                    name(dep_of(n)),
                    "its value reaches another discrete choice's parameters",
                );
            }
        }
    }
    for &n in &t.terms {
        if dep_of(n) == Dep::Many {
            return refuse(
                &t,
                first,
                "a log-density term depends on two discrete choices",
            );
        }
    }
    let supports = discrete
        .iter()
        .map(|&i| support(&t, i))
        .collect::<Result<Vec<_>, _>>()?;
    // Parameters renumbered without the discrete ones.
    let mut params = vec![None; t.choices.len()];
    let mut next = 0u32;
    for (i, p) in params.iter_mut().enumerate() {
        if t.dists[i].value == ValueKind::Real {
            *p = Some(next);
            next += 1;
        }
    }
    let mut cp = Copier {
        old: g,
        new: Graph::new(),
        base: vec![None; g.len()],
        params,
    };
    for (n, op) in g.ops.iter().enumerate() {
        if dep[n] != Dep::None {
            continue;
        }
        let args = op.args();
        cp.base[n] = Some(if args.is_empty() {
            cp.leaf(op)
        } else {
            let mapped: Vec<NodeId> = args.iter().map(|a| cp.base[a.index()].unwrap()).collect();
            cp.add(op, &mapped)
        });
    }
    // Nodes per discrete choice, in topological order.
    let slot_of: std::collections::HashMap<u32, usize> = discrete
        .iter()
        .enumerate()
        .map(|(j, &i)| (i as u32, j))
        .collect();
    let mut cones: Vec<Vec<usize>> = vec![Vec::new(); discrete.len()];
    for (n, d) in dep.iter().enumerate() {
        if let Dep::One(i) = d {
            cones[slot_of[i]].push(n);
        }
    }
    // Each choice's terms, in order.
    let mut groups: Vec<Vec<NodeId>> = vec![Vec::new(); discrete.len()];
    for &n in &t.terms {
        if let Dep::One(i) = dep_of(n) {
            groups[slot_of[&i]].push(n);
        }
    }
    for (j, &i) in discrete.iter().enumerate() {
        if groups[j].is_empty() {
            return refuse(&t, i, "no term of the log density depends on it");
        }
    }
    let mut summed_terms = Vec::with_capacity(discrete.len());
    let mut summands = Vec::with_capacity(discrete.len());
    for (j, &i) in discrete.iter().enumerate() {
        let bool_valued = t.dists[i].value == ValueKind::Bool;
        let mut sk = Vec::with_capacity(supports[j].len());
        for &k in &supports[j] {
            let mut sub: std::collections::HashMap<usize, NodeId> = Default::default();
            for &n in &cones[j] {
                let op = &g.ops[n];
                let v = match *op {
                    Op::Param(_) if bool_valued => cp.new.boolean(k != 0),
                    Op::Param(_) => cp.new.c(k as f64),
                    _ => {
                        let mapped: Vec<NodeId> = op
                            .args()
                            .iter()
                            .map(|a| match cp.base[a.index()] {
                                Some(b) => b,
                                None => sub[&a.index()],
                            })
                            .collect();
                        cp.add(op, &mapped)
                    }
                };
                sub.insert(n, v);
            }
            let mut s = cp.new.c(0.0);
            for (m, &term) in groups[j].iter().enumerate() {
                let v = sub[&term.index()];
                s = if m == 0 { v } else { cp.new.add2(s, v) };
            }
            sk.push(s);
        }
        summed_terms.push(crate::trace::log_sum_exp(&mut cp.new, &sk));
        summands.push(sk);
    }
    // The terms in order, each group's sum where its first term was.
    let mut terms = Vec::with_capacity(t.terms.len());
    let mut events = Vec::with_capacity(t.events.len());
    let mut emitted = vec![false; discrete.len()];
    for &n in &t.terms {
        match dep_of(n) {
            Dep::One(i) => {
                let j = slot_of[&i];
                if !emitted[j] {
                    emitted[j] = true;
                    terms.push(summed_terms[j]);
                }
            }
            _ => terms.push(cp.base[n.index()].unwrap()),
        }
    }
    for e in &t.events {
        match *e {
            Event::Choice(i) => {
                if let Some(j) = cp.params[i as usize] {
                    events.push(Event::Choice(j));
                }
            }
            Event::Observe(n) => {
                if let Some(b) = cp.base[n.index()] {
                    events.push(Event::Observe(b));
                }
            }
            other => events.push(other),
        }
    }
    let keep = |i: usize| t.dists[i].value == ValueKind::Real;
    let choices: Vec<Choice> = (0..t.choices.len())
        .filter(|&i| keep(i))
        .map(|i| t.choices[i].clone())
        .collect();
    let priors = (0..t.choices.len())
        .filter(|&i| keep(i))
        .map(|i| {
            t.priors[i]
                .as_ref()
                .and_then(|p| p.iter().map(|n| cp.base[n.index()]).collect())
        })
        .collect();
    let dists = (0..t.choices.len())
        .filter(|&i| keep(i))
        .map(|i| t.dists[i].clone())
        .collect();
    let mut checks = t.checks.clone();
    for c in &mut checks {
        c.index = cp.base[c.index.index()].unwrap();
    }
    let result = t.result.as_ref().map(|r| map_template(r, &cp.base));
    // Values and slots of the kept choices.
    let mut constrained = Vec::new();
    let mut slots = Vec::new();
    let mut at = 0usize;
    for s in &t.slots {
        let n = s.width.unwrap_or(1);
        let values = &t.constrained[at..at + n];
        at += n;
        if !keep(s.first as usize) {
            continue;
        }
        constrained.extend(values.iter().map(|v| cp.base[v.index()].unwrap()));
        let mut s = *s;
        s.first = cp.params[s.first as usize].unwrap_or(0);
        slots.push(s);
    }
    let summed = Summed {
        addresses: discrete
            .iter()
            .map(|&i| t.choices[i].address.clone())
            .collect(),
        supports,
        summands,
    };
    let out = Trace {
        graph: cp.new,
        terms,
        choices,
        folds: Vec::new(),
        priors,
        result,
        events,
        dists,
        checks,
        fixed: t.fixed.clone(),
        stopped: None,
        resume: None,
        constrained,
        slots,
    };
    Ok((out, summed))
}

fn map_template(t: &Template, base: &[Option<NodeId>]) -> Template {
    let m = |n: &NodeId| base[n.index()].expect("checked: no discrete dependence");
    match t {
        Template::Value(v) => Template::Value(v.clone()),
        Template::Real(n) => Template::Real(m(n)),
        Template::Bool(n) => Template::Bool(m(n)),
        Template::Int(n) => Template::Int(m(n)),
        Template::Array(xs) => Template::Array(xs.iter().map(|x| map_template(x, base)).collect()),
        Template::Tuple(xs) => Template::Tuple(xs.iter().map(|x| map_template(x, base)).collect()),
        Template::Closure(f, xs) => {
            Template::Closure(*f, xs.iter().map(|x| map_template(x, base)).collect())
        }
    }
}
