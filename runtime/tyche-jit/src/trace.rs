//! Tracing: run a model's IR once with each random choice replaced by a
//! parameter θᵢ, recording the log joint density as a DAG.
//!
//! This is a small evaluator of `tyche_ir` of its own (not the VM): data
//! and constants are concrete, arithmetic on symbolic reals builds nodes of
//! a [`Graph`], and every `sample`, `observe`, `factor` and `condition`
//! appends one term to the list the log density sums, in execution order —
//! the order in which the interpreter adds the same quantities. Loops,
//! recursion, `map`/`fold` and closures run concretely and are thereby
//! unrolled; [`crate::reroll`] rolls repeated iterations back up.
//!
//! Tracing stops with [`NotStatic`] when the model is not a fixed function
//! of θ: a branch or an integer conversion depending on a random value, a
//! vector-valued choice, nested `infer`, counterfactual worlds, or a
//! runtime error that does not depend on θ.
//!
//! Except after the density is complete: where tracing cannot follow the
//! run (a `filter` with a random predicate, a branch on a random value, …)
//! but a conservative analysis of the code that may still run finds no
//! effect in it (no choice, observation, factor, condition, `do`-fixed
//! choice, nested inference or world switch, for any θ), every run's
//! density is what was traced so far, and the trace is kept with
//! [`Trace::stopped`] set and no result template: the return value is left
//! to the interpreter ([`crate::Replayer::result`]). Tracing follows only
//! paths every θ takes, so every run reaches the point where it stopped.
//! The analysis covers the rest of each frame on the stack (both arms of
//! every branch), every function called directly from there, and every
//! closure such code builds or can read (from registers it reads, globals,
//! intrinsics' state), transitively. Runtime errors that do not depend on
//! θ, and limits (whose frames may be inconsistent), are never recovered.
//!
//! Discrete choices ([`trace_with`] with `discrete`, for SMC's step
//! programs) are parameters too: θᵢ holds the integer `k as f64` (a Bool
//! 0 or 1). A random Int carries conservative bounds ([`TV::SInt`]) so
//! integer arithmetic is traced only where `f64` computes the VM's `i64`
//! result exactly (every value within ±(2⁵³ − 1), no overflow, no division
//! by zero); elsewhere tracing stops. Indexing data by a random Int is a
//! table lookup ([`Op::Lookup`](crate::ops::Op::Lookup)); an index that
//! may be out of bounds adds an [`Event::Check`], where a run stops with
//! the interpreter's error. Without `discrete` (kernels, MH) a discrete
//! choice stops tracing as before: kernels hold Real choices only.

use crate::dists::{self, GraphMath, Params, Val};
use crate::graph::Graph;
use crate::kernel::Choice;
use crate::ops::{Bin, Cmp, NodeId, Op, Un};
use crate::transform;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tyche_core::Span;
use tyche_dist::math::Math;
use tyche_dist::{Dist, DistKind, Outcome};
use tyche_ir::{BinOp, Callee, EditKind, FuncId, Instr, Intrinsic, Prim, Program, Reg, UnOp};
use tyche_vm::{Address, DistValue, Value};

/// Why a model has no kernel: the runtime then falls back to the
/// interpreter.
#[derive(Clone, Debug, PartialEq)]
pub struct NotStatic {
    pub reason: String,
    /// Where in the source, when known.
    pub span: Option<Span>,
}

impl std::fmt::Display for NotStatic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for NotStatic {}

type R<T> = Result<T, NotStatic>;

fn ns<T>(reason: impl Into<String>) -> R<T> {
    Err(NotStatic {
        reason: reason.into(),
        span: None,
    })
}

/// Limits that keep tracing bounded.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Nested (non-tail) calls.
    pub max_depth: usize,
    /// DAG nodes.
    pub max_nodes: usize,
    /// Instructions executed.
    pub max_steps: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 100_000,
            max_nodes: 4_000_000,
            max_steps: 200_000_000,
        }
    }
}

/// A traced value.
#[derive(Clone, Debug)]
enum TV {
    Unit,
    Int(i64),
    Bool(bool),
    Str(Arc<str>),
    /// A real: a node (a constant node when concrete).
    Real(NodeId),
    /// A boolean depending on θ (a node valued 0 or 1).
    SBool(NodeId),
    /// An Int depending on θ: a node holding `k as f64`, with bounds
    /// `lo ≤ k ≤ hi`.
    SInt(NodeId, i64, i64),
    Array(Arc<Vec<TV>>),
    Tuple(Arc<[TV]>),
    /// A concrete compound value (data), converted element by element when
    /// read.
    Data(Value),
    Closure(Arc<(FuncId, Vec<TV>)>),
    Dist(Arc<SDist>),
    /// Values tracing cannot use (methods, posteriors).
    Opaque(&'static str),
}

#[derive(Debug)]
struct SDist {
    kind: DistKind,
    args: Vec<TV>,
    /// The validated distribution, when every parameter is concrete.
    concrete: Option<Dist>,
    /// Where it was built (where the interpreter reports an invalid
    /// parameter).
    span: Span,
}

impl TV {
    fn type_name(&self) -> &'static str {
        match self {
            TV::Unit => "()",
            TV::Int(_) | TV::SInt(..) => "Int",
            TV::Bool(_) | TV::SBool(_) => "Bool",
            TV::Str(_) => "String",
            TV::Real(_) => "Real",
            TV::Array(_) => "array",
            TV::Tuple(_) => "tuple",
            TV::Data(v) => v.type_name(),
            TV::Closure(_) => "function",
            TV::Dist(_) => "distribution",
            TV::Opaque(n) => n,
        }
    }
}

/// The largest magnitude a random Int's arithmetic is traced at: `f64`
/// holds every integer up to it exactly, so sums, products, truncated
/// quotients and remainders of such values are the VM's `i64` results,
/// and comparisons with them are exact.
const EXACT: i64 = (1 << 53) - 1;

/// An Int operand: a node holding `k as f64` and bounds `lo ≤ k ≤ hi`.
#[derive(Clone, Copy, Debug)]
struct SymInt {
    node: NodeId,
    lo: i64,
    hi: i64,
}

impl SymInt {
    fn exact(&self) -> bool {
        -EXACT <= self.lo && self.hi <= EXACT
    }
}

/// Indexing by a random Int reads at most this many elements.
const MAX_CANDIDATES: i64 = 1 << 16;

const TO_NATIVE: Reg = Reg(u32::MAX);

struct CodeFrame {
    func: FuncId,
    pc: usize,
    regs: Vec<TV>,
    ret: Reg,
    /// Branches on random Bools being traced as selects, innermost last.
    spec: Vec<Speculation>,
}

/// A branch on a random Bool, traced as a select (issue: `a && b` on
/// random Booleans used to send whole models to the interpreter): both
/// arms run, one after the other, from the registers at the branch, and
/// at the join every register they left different becomes
/// `select(cond, then, else)`. Only arms that compute values qualify: no
/// choice, observation, factor, call, return or index check (anything else
/// abandons the speculation, the frame goes back to the branch, and
/// tracing stops there as it did before).
struct Speculation {
    /// The branch instruction.
    branch: usize,
    cond: NodeId,
    else_to: usize,
    /// Where both arms meet: the first instruction both reach.
    join: usize,
    /// The registers at the branch.
    entry: Vec<TV>,
    /// The registers the then-arm left, once it has reached the join.
    then_regs: Option<Vec<TV>>,
    /// `events.len()` at the branch: arms must add none.
    events: usize,
    /// `unrecoverable` at the branch: a fault in an arm that may not run
    /// is not the model failing on every run.
    unrecoverable: bool,
}

struct NativeFrame {
    op: Intrinsic,
    f: TV,
    xs: TV,
    i: usize,
    n: usize,
    acc: TV,
    out: Vec<TV>,
    ret: Reg,
    span: Span,
    /// For `fold`: the state before each step, flattened to nodes, while
    /// every state flattens (see [`FoldRecord`]).
    states: Option<Vec<Vec<NodeId>>>,
    /// Terms before the fold started.
    terms_before: usize,
}

/// The states of a `fold` that added no terms: `states[0]` is the initial
/// state and `states[t + 1]` the state after step `t`, each flattened to
/// its real leaves. Loop rerolling turns such recurrences into loops with
/// carried values.
#[derive(Clone, Debug)]
pub struct FoldRecord {
    pub states: Vec<Vec<NodeId>>,
}

enum Frame {
    Code(CodeFrame),
    Native(NativeFrame),
}

/// The result of tracing.
pub struct Trace {
    pub graph: Graph,
    /// The log-density terms in execution order.
    pub terms: Vec<NodeId>,
    pub choices: Vec<Choice>,
    /// Recurrences (`fold`s) worth rolling into loops.
    pub folds: Vec<FoldRecord>,
    /// Per choice, the parameters of the distribution it was drawn from,
    /// as nodes (its conditional prior given earlier choices); `None` when
    /// a parameter is not a real.
    pub priors: Vec<Option<Vec<NodeId>>>,
    /// The model's return value over θ; `None` when it holds something
    /// that is not data (a closure, a distribution) or tracing stopped
    /// before it (see `stopped`).
    pub result: Option<Template>,
    /// Choices, observations and index checks in execution order.
    pub events: Vec<Event>,
    /// Per choice: how to draw it (see [`ChoiceDist`]).
    pub dists: Vec<ChoiceDist>,
    /// The index checks [`Event::Check`] refers to.
    pub checks: Vec<IndexCheck>,
    /// The choices fixed by `do` ([`Event::Fixed`]): address and value.
    pub fixed: Vec<(Address, Value)>,
    /// Why tracing stopped early, when it stopped at a step it cannot
    /// follow after which no run makes a choice, an observation or any
    /// other effect (see the module documentation). The density
    /// (terms, choices, events) is then complete and `result` is `None`:
    /// the return value has to be computed by replaying θ on the
    /// interpreter.
    pub stopped: Option<NotStatic>,
    /// After a stop: where the interpreter can finish the run without
    /// redoing it from the start — the model function's instruction that
    /// was in progress (the stopped one, or the call that led to it when
    /// nothing since that call added a term or a choice), with its
    /// registers. `None` when a register holds a value templates cannot
    /// express.
    pub resume: Option<Resume>,
    /// Traced with [`trace_unconstrained`]: per choice, the node of its
    /// value as a function of the unconstrained θ (a simplex: one node per
    /// component). Empty otherwise.
    pub constrained: Vec<NodeId>,
    /// Traced with [`trace_unconstrained`]: per choice in order, its
    /// coordinates and values (see [`ValueSlot`]). Empty otherwise.
    pub slots: Vec<ValueSlot>,
}

/// A choice's place among the coordinates and the constrained values of
/// an unconstrained trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueSlot {
    pub site: tyche_ir::SiteId,
    pub index: u32,
    /// Its first coordinate (a parameter of the graph).
    pub first: u32,
    /// How many coordinates it takes (`K − 1` for a simplex of `K`).
    pub coords: u32,
    /// `None`: a scalar (one value); `Some(K)`: a simplex of `K` values.
    pub width: Option<usize>,
}

impl Trace {
    /// Why the trace has no kernel (MH's compiled density): its first
    /// choice that is not Real-valued, or a table lookup. `None` when a
    /// kernel can be built.
    pub fn kernel_blocker(&self) -> Option<NotStatic> {
        if let Some(d) = self.dists.iter().find(|d| d.value != ValueKind::Real) {
            return Some(NotStatic {
                reason: discrete_choice_reason(d.kind),
                span: Some(d.site_span),
            });
        }
        let lookup = self
            .graph
            .ops
            .iter()
            .any(|o| matches!(o, Op::Lookup { .. }));
        lookup.then(|| NotStatic {
            reason: "an index depends on a random choice".into(),
            span: None,
        })
    }
}

fn discrete_choice_reason(kind: DistKind) -> String {
    format!(
        "the choice at this site is {}-valued ({}); kernels support Real choices only",
        kind.value_type_name(),
        kind.name()
    )
}

/// A random choice (θ's coordinate), an observation (its log-weight
/// node), an index check (into [`Trace::checks`]) or a choice fixed by
/// `do` (into [`Trace::fixed`]; per-draw traces list it as the
/// interpreter's do), in the order a run meets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Choice(u32),
    Observe(NodeId),
    Check(u32),
    Fixed(u32),
}

/// An index that may be out of bounds: a run whose `index` is not in
/// `0..len` stops there with the interpreter's error.
#[derive(Clone, Debug)]
pub struct IndexCheck {
    pub index: NodeId,
    pub len: usize,
    pub span: Span,
}

/// What a choice's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    Real,
    /// θᵢ holds `k as f64`.
    Int,
    /// θᵢ is 0 or 1.
    Bool,
}

/// How a choice is drawn, besides its parameters ([`Trace::priors`]).
#[derive(Clone, Debug)]
pub struct ChoiceDist {
    pub kind: DistKind,
    pub value: ValueKind,
    /// The distribution when every parameter is concrete (drawn from as
    /// is, exactly what the interpreter builds).
    pub concrete: Option<Dist>,
    /// Where the distribution was built: where the interpreter reports an
    /// invalid parameter.
    pub span: Span,
    /// The sample site's span.
    pub site_span: Span,
}

/// A return value as a function of θ: concrete parts and nodes.
#[derive(Clone, Debug)]
pub enum Template {
    Value(Value),
    Real(NodeId),
    Bool(NodeId),
    /// A node holding `k as f64` for an Int `k`.
    Int(NodeId),
    Array(Vec<Template>),
    Tuple(Vec<Template>),
    /// A closure with its captures (only in a [`Resume`] point's
    /// registers).
    Closure(FuncId, Vec<Template>),
}

/// Where an interpreted run can take over after tracing stopped (see
/// [`Trace::resume`]): instruction `pc` of the model function, with its
/// registers as templates over θ.
#[derive(Clone, Debug)]
pub struct Resume {
    pub func: FuncId,
    pub pc: u32,
    pub regs: Vec<Template>,
}

/// Folds shorter than this are not recorded for rerolling.
const MIN_RECORDED_FOLD: usize = 4;

struct Tracer<'p> {
    program: &'p Program,
    globals: &'p [Value],
    g: Graph,
    terms: Vec<NodeId>,
    choices: Vec<Choice>,
    counters: Vec<u32>,
    frames: Vec<Frame>,
    native_input: Option<TV>,
    limits: Limits,
    steps: u64,
    folds: Vec<FoldRecord>,
    priors: Vec<Option<Vec<NodeId>>>,
    result: Option<TV>,
    events: Vec<Event>,
    discrete: bool,
    /// Whether choices are unconstrained coordinates (see
    /// [`trace_unconstrained`]).
    unconstrained: bool,
    constrained: Vec<NodeId>,
    slots: Vec<ValueSlot>,
    dists: Vec<ChoiceDist>,
    checks: Vec<IndexCheck>,
    fixed: Vec<(Address, Value)>,
    /// Set by a failure after which the density cannot be recovered (see
    /// [`Tracer::fatal`]).
    unrecoverable: Cell<bool>,
    /// Terms, choices and fixed choices made before the model function's
    /// latest call (or intrinsic) began, for [`Tracer::resume_point`].
    entered: (usize, usize, usize),
}

/// Traces the zero-argument function `model` with Real choices only (for
/// kernels).
pub fn trace(program: &Program, globals: &[Value], model: FuncId, limits: Limits) -> R<Trace> {
    trace_with(program, globals, model, limits, false)
}

/// Traces the zero-argument function `model`; with `discrete`, Int and
/// Bool choices are parameters too (see the module documentation).
pub fn trace_with(
    program: &Program,
    globals: &[Value],
    model: FuncId,
    limits: Limits,
    discrete: bool,
) -> R<Trace> {
    trace_in(program, globals, model, limits, discrete, false)
}

/// Traces `model` with θ on unconstrained coordinates (for gradient-based
/// samplers): each Real choice `x` is [`transform::constrain`]ed from its
/// coordinate φ, its log-Jacobian is a term right after its log density,
/// and [`Trace::constrained`] holds the nodes of the choices' values.
pub fn trace_unconstrained(
    program: &Program,
    globals: &[Value],
    model: FuncId,
    limits: Limits,
) -> R<Trace> {
    trace_in(program, globals, model, limits, false, true)
}

/// [`trace_unconstrained`] with Int and Bool choices as parameters too
/// (as [`trace_with`] `discrete` makes them): their coordinate holds the
/// value itself, untransformed. For summing them out
/// ([`crate::marginal`]); the trace has no kernel as it is.
pub fn trace_unconstrained_discrete(
    program: &Program,
    globals: &[Value],
    model: FuncId,
    limits: Limits,
) -> R<Trace> {
    trace_in(program, globals, model, limits, true, true)
}

fn trace_in(
    program: &Program,
    globals: &[Value],
    model: FuncId,
    limits: Limits,
    discrete: bool,
    unconstrained: bool,
) -> R<Trace> {
    let mut t = Tracer {
        program,
        globals,
        g: Graph::new(),
        terms: Vec::new(),
        choices: Vec::new(),
        counters: vec![0; program.names.len()],
        frames: Vec::new(),
        native_input: None,
        limits,
        steps: 0,
        folds: Vec::new(),
        priors: Vec::new(),
        result: None,
        events: Vec::new(),
        discrete,
        unconstrained,
        constrained: Vec::new(),
        slots: Vec::new(),
        dists: Vec::new(),
        checks: Vec::new(),
        fixed: Vec::new(),
        unrecoverable: Cell::new(false),
        entered: (0, 0, 0),
    };
    if model.index() >= program.funcs.len() {
        return ns("no such model function");
    }
    if program.func(model).params != 0 {
        return ns("a model takes no arguments");
    }
    t.push_frame(model, Vec::new(), TO_NATIVE, Span::DUMMY)?;
    let stopped = match t.run() {
        Ok(()) => None,
        // Nothing after this point can add a term or a choice, whatever θ:
        // the density is complete, only the return value is missing.
        Err(e) if !t.unrecoverable.get() && t.rest_is_effect_free() => Some(e),
        Err(e) => return Err(e),
    };
    let result = match stopped {
        Some(_) => None,
        None => t.result.take().and_then(|v| t.template(&v)),
    };
    let resume = stopped.as_ref().and_then(|_| t.resume_point());
    Ok(Trace {
        graph: t.g,
        terms: t.terms,
        choices: t.choices,
        folds: t.folds,
        priors: t.priors,
        result,
        events: t.events,
        dists: t.dists,
        checks: t.checks,
        fixed: t.fixed,
        stopped,
        resume,
        constrained: t.constrained,
        slots: t.slots,
    })
}

impl<'p> Tracer<'p> {
    fn lift(&mut self, v: &Value) -> R<TV> {
        Ok(match v {
            Value::Unit => TV::Unit,
            Value::Bool(b) => TV::Bool(*b),
            Value::Int(i) => TV::Int(*i),
            Value::Real(x) => TV::Real(self.g.c(*x)),
            Value::Str(s) => TV::Str(s.clone()),
            Value::Array(_) | Value::Tuple(_) => TV::Data(v.clone()),
            Value::Closure(c) => {
                let caps = c
                    .captures
                    .iter()
                    .map(|x| self.lift(x))
                    .collect::<R<Vec<_>>>()?;
                TV::Closure(Arc::new((c.func, caps)))
            }
            Value::Dist(d) => match &**d {
                DistValue::Prim(d) => TV::Dist(Arc::new(self.sdist_of(d)?)),
                DistValue::Posterior(_) => TV::Opaque("posterior"),
            },
            Value::Method(_) => TV::Opaque("method"),
        })
    }

    /// A concrete distribution's parameters as nodes.
    fn sdist_of(&mut self, d: &Dist) -> R<SDist> {
        let r = |g: &mut Graph, x: f64| TV::Real(g.c(x));
        let g = &mut self.g;
        let args = match d {
            Dist::Normal { mu, sigma, .. } | Dist::LogNormal { mu, sigma, .. } => {
                vec![r(g, *mu), r(g, *sigma)]
            }
            Dist::Uniform { lo, hi, .. } => vec![r(g, *lo), r(g, *hi)],
            Dist::Beta { a, b, .. } => vec![r(g, *a), r(g, *b)],
            Dist::Gamma { shape, rate, .. } => vec![r(g, *shape), r(g, *rate)],
            Dist::InvGamma { shape, scale, .. } => vec![r(g, *shape), r(g, *scale)],
            Dist::Exponential { rate, .. } => vec![r(g, *rate)],
            Dist::Cauchy { loc, scale, .. } => vec![r(g, *loc), r(g, *scale)],
            Dist::StudentT { nu, mu, sigma, .. } => vec![r(g, *nu), r(g, *mu), r(g, *sigma)],
            Dist::Bernoulli { p, .. } | Dist::Geometric { p, .. } => vec![r(g, *p)],
            Dist::Binomial { n, p, .. } => vec![TV::Int(*n), r(g, *p)],
            Dist::Poisson { rate, .. } => vec![r(g, *rate)],
            Dist::DiscreteUniform { lo, hi, .. } => vec![TV::Int(*lo), TV::Int(*hi)],
            // Only used through `concrete`.
            Dist::Categorical { .. }
            | Dist::Dirichlet { .. }
            | Dist::MvNormal { .. }
            | Dist::MvNormalCholesky { .. } => vec![],
            // A registry-only family: its parameters as the registry types them.
            Dist::Family { kind, params, .. } => kind
                .family()
                .params
                .iter()
                .zip(params)
                .map(|(p, &x)| match p.ty {
                    tyche_dist::family::Type::Int => TV::Int(x as i64),
                    _ => r(g, x),
                })
                .collect(),
        };
        Ok(SDist {
            kind: d.kind(),
            args,
            concrete: Some(d.clone()),
            span: Span::DUMMY,
        })
    }

    fn real(&mut self, v: &TV) -> R<NodeId> {
        match v {
            TV::Real(n) => Ok(*n),
            TV::Int(i) => Ok(self.g.c(*i as f64)),
            // Its node holds `k as f64`, the VM's conversion.
            TV::SInt(n, ..) => Ok(*n),
            other => ns(format!("expected a number, found {}", other.type_name())),
        }
    }

    fn bool_tv(&mut self, n: NodeId) -> TV {
        match (self.g.as_bool(n), self.g.as_const(n)) {
            (Some(b), _) => TV::Bool(b),
            (_, Some(x)) => TV::Bool(x != 0.0),
            _ => TV::SBool(n),
        }
    }

    /// An Int with bounds `lo ≤ k ≤ hi` held by node `n`: concrete when
    /// the bounds (or the node) pin it down.
    fn int_tv(&mut self, n: NodeId, lo: i64, hi: i64) -> TV {
        match self.g.as_const(n) {
            Some(x) => TV::Int(x as i64),
            None if lo == hi => TV::Int(lo),
            None => TV::SInt(n, lo, hi),
        }
    }

    /// An Int operand as a node with bounds.
    fn sym_int(&mut self, v: &TV) -> Option<SymInt> {
        match *v {
            TV::Int(k) => Some(SymInt {
                node: self.g.c(k as f64),
                lo: k,
                hi: k,
            }),
            TV::SInt(node, lo, hi) => Some(SymInt { node, lo, hi }),
            _ => None,
        }
    }

    /// `x + 0.0`: turns a `−0.0` (from `0 · −k`, `−0`, `−4 % 2`) into the
    /// `+0.0` the VM's Int 0 converts to; every other value is unchanged.
    fn no_neg_zero(&mut self, x: NodeId) -> NodeId {
        let z = self.g.c(0.0);
        self.g.add2(x, z)
    }

    /// Integer `op` with a random operand, where `f64` computes exactly the
    /// VM's `i64` result; anything it could not mirror (a value beyond
    /// ±(2⁵³ − 1), a possible division by zero) stops tracing.
    fn int_binary(&mut self, op: BinOp, a: SymInt, b: SymInt, span: Span) -> R<TV> {
        let wide = |x: &SymInt| (x.lo as i128, x.hi as i128);
        let ((al, ah), (bl, bh)) = (wide(&a), wide(&b));
        let cmp = match op {
            BinOp::Eq => Some(Cmp::Eq),
            BinOp::Ne => Some(Cmp::Ne),
            BinOp::Lt => Some(Cmp::Lt),
            BinOp::Le => Some(Cmp::Le),
            BinOp::Gt => Some(Cmp::Gt),
            BinOp::Ge => Some(Cmp::Ge),
            _ => None,
        };
        if let Some(c) = cmp {
            // `k as f64` is monotone and exact within ±(2⁵³ − 1): a
            // comparison with such a value is exact whatever the other.
            if !(a.exact() || b.exact()) {
                return self.unsupported(span, "comparing random Ints beyond ±2^53");
            }
            let n = self.g.cmp(c, a.node, b.node);
            return Ok(self.bool_tv(n));
        }
        if !(a.exact() && b.exact()) {
            return self.unsupported(span, "integer arithmetic on a random Int beyond ±2^53");
        }
        let corners = |f: &dyn Fn(i128, i128) -> i128| {
            let v = [f(al, bl), f(al, bh), f(ah, bl), f(ah, bh)];
            (v.iter().copied().min(), v.iter().copied().max())
        };
        let (lo, hi, node) = match op {
            BinOp::Add => (al + bl, ah + bh, self.g.bin(Bin::Add, a.node, b.node)),
            BinOp::Sub => (al - bh, ah - bl, self.g.bin(Bin::Sub, a.node, b.node)),
            BinOp::Mul => {
                let (lo, hi) = corners(&|x, y| x * y);
                let m = self.g.bin(Bin::Mul, a.node, b.node);
                (lo.unwrap_or(0), hi.unwrap_or(0), self.no_neg_zero(m))
            }
            BinOp::Div | BinOp::Rem if bl <= 0 && 0 <= bh => {
                return self.unsupported(span, "integer division by a random Int that may be 0")
            }
            BinOp::Div => {
                // Truncated toward zero; exact: a quotient of integers within
                // ±(2⁵³ − 1) never rounds across an integer.
                let (lo, hi) = corners(&|x, y| x / y);
                let q = self.g.div(a.node, b.node);
                let zero = self.g.c(0.0);
                let neg = self.g.cmp(Cmp::Lt, q, zero);
                let up = self.g.un(Un::Ceil, q);
                let down = self.g.un(Un::Floor, q);
                let t = self.g.select(neg, up, down);
                (lo.unwrap_or(0), hi.unwrap_or(0), self.no_neg_zero(t))
            }
            BinOp::Rem => {
                // `fmod` is exact and takes the dividend's sign, as `i64 %`.
                let m = bl.abs().max(bh.abs()) - 1;
                let lo = if al < 0 { -(-al).min(m) } else { 0 };
                let hi = if ah > 0 { ah.min(m) } else { 0 };
                let r = self.g.bin(Bin::Rem, a.node, b.node);
                (lo, hi, self.no_neg_zero(r))
            }
            _ => return self.unsupported(span, "integer power of a random Int"),
        };
        let exact = |x: i128| (-(EXACT as i128)..=EXACT as i128).contains(&x);
        if !(exact(lo) && exact(hi)) {
            return self.unsupported(span, "integer arithmetic that may exceed ±2^53");
        }
        Ok(self.int_tv(node, lo as i64, hi as i64))
    }

    /// The value as a VM value, when it is fully concrete.
    fn concrete(&self, v: &TV) -> Option<Value> {
        Some(match v {
            TV::Unit => Value::Unit,
            TV::Int(i) => Value::Int(*i),
            TV::Bool(b) => Value::Bool(*b),
            TV::Str(s) => Value::Str(s.clone()),
            TV::Real(n) => Value::Real(self.g.as_const(*n)?),
            TV::Data(v) => v.clone(),
            TV::Array(xs) => Value::array(
                xs.iter()
                    .map(|x| self.concrete(x))
                    .collect::<Option<Vec<_>>>()?,
            ),
            TV::Tuple(xs) => Value::tuple(
                xs.iter()
                    .map(|x| self.concrete(x))
                    .collect::<Option<Vec<_>>>()?,
            ),
            _ => return None,
        })
    }

    /// Records what the run had done when the model function (the only
    /// frame) calls into another.
    fn note_entry(&mut self) {
        if self.frames.len() == 1 {
            self.entered = (self.terms.len(), self.choices.len(), self.fixed.len());
        }
    }

    /// See [`Trace::resume`].
    fn resume_point(&self) -> Option<Resume> {
        let Some(Frame::Code(f)) = self.frames.first() else {
            return None;
        };
        let done = (self.terms.len(), self.choices.len(), self.fixed.len());
        if self.frames.len() > 1 && self.entered != done {
            return None;
        }
        let pc = f.pc.checked_sub(1)?;
        // Registers the rest of the function cannot read are dead: Unit.
        let reads = self.rest().code(f.func, pc)?;
        let regs = f
            .regs
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if reads.iter().any(|r| r.index() == i) {
                    self.register_template(v)
                } else {
                    Some(Template::Value(Value::Unit))
                }
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Resume {
            func: f.func,
            pc: u32::try_from(pc).ok()?,
            regs,
        })
    }

    /// A register's value as a [`Template`]: as [`Tracer::template`], and
    /// closures too.
    fn register_template(&self, v: &TV) -> Option<Template> {
        match v {
            TV::Closure(c) => Some(Template::Closure(
                c.0,
                c.1.iter()
                    .map(|x| self.register_template(x))
                    .collect::<Option<_>>()?,
            )),
            TV::Array(xs) if self.concrete(v).is_none() => Some(Template::Array(
                xs.iter()
                    .map(|x| self.register_template(x))
                    .collect::<Option<_>>()?,
            )),
            TV::Tuple(xs) if self.concrete(v).is_none() => Some(Template::Tuple(
                xs.iter()
                    .map(|x| self.register_template(x))
                    .collect::<Option<_>>()?,
            )),
            TV::Dist(d) => Some(Template::Value(Value::Dist(Arc::new(
                tyche_vm::DistValue::Prim(d.concrete.clone()?),
            )))),
            _ => self.template(v),
        }
    }

    /// The return value `v` as a [`Template`].
    fn template(&self, v: &TV) -> Option<Template> {
        if let Some(c) = self.concrete(v) {
            return Some(Template::Value(c));
        }
        Some(match v {
            TV::Real(n) => Template::Real(*n),
            TV::SBool(n) => Template::Bool(*n),
            TV::SInt(n, ..) => Template::Int(*n),
            TV::Array(xs) => {
                Template::Array(xs.iter().map(|x| self.template(x)).collect::<Option<_>>()?)
            }
            TV::Tuple(xs) => {
                Template::Tuple(xs.iter().map(|x| self.template(x)).collect::<Option<_>>()?)
            }
            _ => return None,
        })
    }

    fn len(&self, v: &TV) -> R<usize> {
        match v {
            TV::Array(xs) => Ok(xs.len()),
            TV::Data(Value::Array(xs)) => Ok(xs.len()),
            other => ns(format!("expected an array, found {}", other.type_name())),
        }
    }

    fn index(&mut self, v: &TV, i: i64, span: Span) -> R<TV> {
        let n = self.len(v)?;
        let Some(i) = usize::try_from(i).ok().filter(|&i| i < n) else {
            return self.fault(
                span,
                format!("index {i} out of bounds for an array of length {n}"),
            );
        };
        match v {
            TV::Array(xs) => Ok(xs[i].clone()),
            TV::Data(Value::Array(xs)) => {
                let x = xs[i].clone();
                self.lift(&x)
            }
            _ => unreachable!(),
        }
    }

    /// `v[i]` for a random Int `i` (node `node`, `lo ≤ i ≤ hi`): a table
    /// lookup when the candidates are concrete, else a select over them,
    /// after an index check when `i` may be out of bounds.
    fn index_sym(&mut self, v: &TV, node: NodeId, lo: i64, hi: i64, span: Span) -> R<TV> {
        let n = self.len(v)?;
        let (a, b) = (lo.max(0), hi.min(n as i64 - 1));
        if a > b {
            // Out of bounds whatever the choices: every run stops here.
            return self.fault(
                span,
                format!("index out of bounds for an array of length {n}"),
            );
        }
        if b >= MAX_CANDIDATES {
            // Tracing would copy that much of the array per index.
            return self.unsupported(span, "indexing a long array by an unbounded random Int");
        }
        if lo < 0 || hi >= n as i64 {
            let c = self.checks.len() as u32;
            self.checks.push(IndexCheck {
                index: node,
                len: n,
                span,
            });
            self.events.push(Event::Check(c));
        }
        // Elements 0..=b, a table indexed by `i` itself; those below `a`
        // are never read (copies of element `a` keep one shape).
        let elems = (0..=b)
            .map(|i| self.index(v, i.max(a), span))
            .collect::<R<Vec<_>>>()?;
        self.pick(&elems, node, a as usize, span)
    }

    /// `elems[i]` for the random index `node`, known to be at least `a`
    /// wherever the result is used.
    fn pick(&mut self, elems: &[TV], node: NodeId, a: usize, span: Span) -> R<TV> {
        let cands = &elems[a..];
        if cands.len() == 1 {
            return Ok(cands[0].clone());
        }
        let first = &cands[0];
        // Compound elements: pick each component.
        let len_of = |t: &TV| match t {
            TV::Array(xs) => Some(xs.len()),
            TV::Data(Value::Array(xs)) => Some(xs.len()),
            _ => None,
        };
        let width = |t: &TV| match t {
            TV::Tuple(xs) => Some(xs.len()),
            TV::Data(Value::Tuple(xs)) => Some(xs.len()),
            _ => None,
        };
        let shape = |t: &TV| (len_of(t), width(t));
        if matches!(shape(first), (Some(_), _) | (_, Some(_))) {
            if cands.iter().any(|c| shape(c) != shape(first)) {
                return self.unsupported(
                    span,
                    "indexing by a random Int an array whose elements differ in shape",
                );
            }
            let tuple = width(first).is_some();
            let m = len_of(first).or(width(first)).unwrap_or(0);
            let mut out = Vec::with_capacity(m);
            for j in 0..m {
                let mut column = Vec::with_capacity(elems.len());
                for e in elems {
                    column.push(if tuple {
                        self.field(e, j as u32, span)?
                    } else {
                        self.index(e, j as i64, span)?
                    });
                }
                out.push(self.pick(&column, node, a, span)?);
            }
            return Ok(if tuple {
                TV::Tuple(out.into())
            } else {
                TV::Array(Arc::new(out))
            });
        }
        #[derive(PartialEq)]
        enum K {
            Real,
            Int,
            Bool,
        }
        let kind = |t: &TV| match t {
            TV::Real(_) => Some(K::Real),
            TV::Int(_) | TV::SInt(..) => Some(K::Int),
            TV::Bool(_) | TV::SBool(_) => Some(K::Bool),
            _ => None,
        };
        let Some(k) = kind(first) else {
            return self.unsupported(
                span,
                format!("indexing an array of {} by a random Int", first.type_name()),
            );
        };
        if cands.iter().any(|c| kind(c).as_ref() != Some(&k)) {
            return self.fault(span, "an array mixes element types");
        }
        let mut nodes = Vec::with_capacity(elems.len());
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for (i, e) in elems.iter().enumerate() {
            let (n, bounds) = match *e {
                TV::Bool(b) => (self.g.c(if b { 1.0 } else { 0.0 }), None),
                TV::SBool(n) => (n, None),
                // A constant must come back from `f64` unchanged (random
                // Ints already do).
                TV::Int(x) if i >= a && !(-EXACT..=EXACT).contains(&x) => {
                    return self.unsupported(span, "indexing Ints beyond ±2^53 by a random Int")
                }
                TV::Int(x) => (self.g.c(x as f64), Some((x, x))),
                TV::SInt(n, l, h) => (n, Some((l, h))),
                _ => (self.real(e)?, None),
            };
            if let (Some((l, h)), true) = (bounds, i >= a) {
                lo = lo.min(l);
                hi = hi.max(h);
            }
            nodes.push(n);
        }
        let consts: Option<Vec<f64>> = nodes.iter().map(|&n| self.g.as_const(n)).collect();
        let r = match consts {
            Some(values) => {
                let t = self.g.table(&values);
                self.g.lookup(t, node)
            }
            None => {
                let mut acc = nodes[nodes.len() - 1];
                for i in (a..nodes.len() - 1).rev() {
                    let ci = self.g.c(i as f64);
                    let eq = self.g.cmp(Cmp::Eq, node, ci);
                    acc = self.g.select(eq, nodes[i], acc);
                }
                acc
            }
        };
        Ok(match k {
            K::Real => TV::Real(r),
            K::Int => self.int_tv(r, lo, hi),
            K::Bool => self.bool_tv(r),
        })
    }

    fn elems(&mut self, v: &TV) -> R<Vec<TV>> {
        let n = self.len(v)?;
        (0..n)
            .map(|i| self.index(v, i as i64, Span::DUMMY))
            .collect()
    }

    fn field(&mut self, v: &TV, f: u32, span: Span) -> R<TV> {
        match v {
            TV::Tuple(xs) => xs
                .get(f as usize)
                .cloned()
                .map_or_else(|| self.fault(span, format!("no field {f}")), Ok),
            TV::Data(Value::Tuple(xs)) => match xs.get(f as usize) {
                Some(x) => {
                    let x = x.clone();
                    self.lift(&x)
                }
                None => self.fault(span, format!("no field {f}")),
            },
            other => self.fault(span, format!("no field {f} in {}", other.type_name())),
        }
    }

    /// A run-time error that does not depend on θ: the interpreter fails on
    /// every run, so there is no density to compile.
    fn fault<T>(&self, span: Span, msg: impl Into<String>) -> R<T> {
        self.unrecoverable.set(true);
        Err(NotStatic {
            reason: format!("the model fails on every run: {}", msg.into()),
            span: Some(span),
        })
    }

    fn unsupported<T>(&self, span: Span, msg: impl Into<String>) -> R<T> {
        Err(NotStatic {
            reason: msg.into(),
            span: Some(span),
        })
    }

    /// A failure tracing cannot recover from by replaying the rest of the
    /// run: its frames may no longer say what the run does next (a
    /// limit met between instructions, or with a tail call's frame
    /// already gone).
    fn fatal<T>(&self, span: Option<Span>, msg: impl Into<String>) -> R<T> {
        self.unrecoverable.set(true);
        Err(NotStatic {
            reason: msg.into(),
            span,
        })
    }

    fn push_frame(&mut self, func: FuncId, args: Vec<TV>, ret: Reg, span: Span) -> R<()> {
        let code_frames = self.frames.len();
        if code_frames >= self.limits.max_depth {
            return self.fatal(Some(span), "recursion too deep to trace");
        }
        let f = self.program.func(func);
        let mut regs = args;
        regs.resize(f.regs as usize, TV::Unit);
        self.note_entry();
        self.frames.push(Frame::Code(CodeFrame {
            func,
            pc: 0,
            regs,
            ret,
            spec: Vec::new(),
        }));
        Ok(())
    }

    fn push_call(&mut self, callee: &TV, mut args: Vec<TV>, ret: Reg, span: Span) -> R<()> {
        let TV::Closure(c) = callee else {
            return self.fault(
                span,
                format!("cannot call a value of type {}", callee.type_name()),
            );
        };
        let (func, caps) = &**c;
        let f = self.program.func(*func);
        if f.params as usize != args.len() {
            return self.fault(
                span,
                format!("`{}` called with the wrong number of arguments", f.name),
            );
        }
        args.extend(caps.iter().cloned());
        self.push_frame(*func, args, ret, span)
    }

    fn return_value(&mut self, v: TV) -> bool {
        let ret = match self.frames.pop() {
            Some(Frame::Code(f)) => f.ret,
            Some(Frame::Native(n)) => n.ret,
            None => TO_NATIVE,
        };
        if self.frames.is_empty() {
            self.result = Some(v);
            return true;
        }
        self.set(ret, v);
        false
    }

    fn set(&mut self, reg: Reg, v: TV) {
        match self.frames.last_mut() {
            Some(Frame::Code(f)) => f.regs[reg.index()] = v,
            _ => self.native_input = Some(v),
        }
    }

    /// An observation's log weight (observe, factor, condition): a term,
    /// and the point where SMC suspends a run.
    fn observation(&mut self, n: NodeId) -> R<()> {
        self.events.push(Event::Observe(n));
        self.term(n)
    }

    fn term(&mut self, n: NodeId) -> R<()> {
        self.terms.push(n);
        Ok(())
    }

    fn next_index(&mut self, site: tyche_ir::SiteId) -> u32 {
        let name = self.program.site(site).name;
        let c = &mut self.counters[name.index()];
        let i = *c;
        *c += 1;
        i
    }

    /// Runs the model to its end, or until tracing stops. A stop inside a
    /// speculated branch puts the frame back at the branch first, so that
    /// the frames say what the run does next (see [`Speculation`]).
    fn run(&mut self) -> R<()> {
        let result = self.run_steps();
        if let Err(e) = result {
            if let Some(Frame::Code(f)) = self.frames.last_mut() {
                if !f.spec.is_empty() {
                    let outer = f.spec.swap_remove(0);
                    f.spec.clear();
                    f.regs = outer.entry;
                    f.pc = outer.branch + 1;
                    self.unrecoverable.set(outer.unrecoverable);
                    return Err(NotStatic {
                        reason: format!("a branch depends on a random choice ({})", e.reason),
                        span: e.span,
                    });
                }
            }
            return Err(e);
        }
        Ok(())
    }

    /// At the join of the innermost speculated branch of the top frame:
    /// switches to the else-arm, or merges the arms (true: the loop goes
    /// on from the frame's new state). An arm that left its branch's
    /// region stops the speculation.
    fn speculation_step(&mut self) -> R<bool> {
        let Some(Frame::Code(f)) = self.frames.last_mut() else {
            return Ok(false);
        };
        let pc = f.pc;
        let Some(s) = f.spec.last_mut() else {
            return Ok(false);
        };
        if pc != s.join {
            if pc > s.join || pc <= s.branch {
                return ns("an arm of a branch on a random choice leaves the branch");
            }
            return Ok(false);
        }
        if s.then_regs.is_none() {
            let entry = s.entry.clone();
            s.then_regs = Some(std::mem::replace(&mut f.regs, entry));
            f.pc = s.else_to;
            return Ok(true);
        }
        let s = f.spec.pop().expect("checked above");
        let else_regs = std::mem::take(&mut f.regs);
        if self.events.len() != s.events {
            // Put the registers back for the stop's resume point.
            if let Some(Frame::Code(f)) = self.frames.last_mut() {
                f.regs = else_regs;
                f.spec.push(s);
            }
            return ns("an arm of a branch on a random choice checks an index");
        }
        let then_regs = s.then_regs.as_deref().unwrap_or_default();
        let live = self.read_from(func_of_top(&self.frames), s.join);
        let mut merged = Vec::with_capacity(else_regs.len());
        let mut failed = false;
        for (i, (a, b)) in then_regs.iter().zip(&else_regs).enumerate() {
            // A register nothing reads after the join (an arm's
            // temporary) keeps either value.
            if !live.get(i).copied().unwrap_or(true) {
                merged.push(b.clone());
                continue;
            }
            match self.merge(s.cond, a, b) {
                Some(v) => merged.push(v),
                None => {
                    failed = true;
                    break;
                }
            }
        }
        if let Some(Frame::Code(f)) = self.frames.last_mut() {
            if failed {
                f.regs = else_regs;
                f.spec.push(s);
            } else {
                f.regs = merged;
            }
        }
        if failed {
            return ns("the arms of a branch on a random choice compute values that cannot be selected between");
        }
        Ok(true)
    }

    /// `select(c, a, b)` for the values an arm of a speculated branch left
    /// in one register; `None` for values with no select (closures,
    /// distributions, strings or arrays of different lengths that differ).
    fn merge(&mut self, c: NodeId, a: &TV, b: &TV) -> Option<TV> {
        if same(a, b) {
            return Some(a.clone());
        }
        match (a, b) {
            (TV::Real(x), TV::Real(y)) => Some(TV::Real(self.g.select(c, *x, *y))),
            (TV::Bool(_) | TV::SBool(_), TV::Bool(_) | TV::SBool(_)) => {
                let (x, y) = (self.bool_node(a), self.bool_node(b));
                let n = self.g.select(c, x, y);
                Some(self.bool_tv(n))
            }
            (TV::Int(_) | TV::SInt(..), TV::Int(_) | TV::SInt(..)) => {
                let (x, y) = (self.sym_int(a)?, self.sym_int(b)?);
                let n = self.g.select(c, x.node, y.node);
                Some(self.int_tv(n, x.lo.min(y.lo), x.hi.max(y.hi)))
            }
            (TV::Array(xs), TV::Array(ys)) if xs.len() == ys.len() => {
                let v = xs
                    .iter()
                    .zip(ys.iter())
                    .map(|(x, y)| self.merge(c, x, y))
                    .collect::<Option<Vec<_>>>()?;
                Some(TV::Array(Arc::new(v)))
            }
            (TV::Tuple(xs), TV::Tuple(ys)) if xs.len() == ys.len() => {
                let v = xs
                    .iter()
                    .zip(ys.iter())
                    .map(|(x, y)| self.merge(c, x, y))
                    .collect::<Option<Vec<_>>>()?;
                Some(TV::Tuple(v.into()))
            }
            _ => None,
        }
    }

    fn bool_node(&mut self, v: &TV) -> NodeId {
        match v {
            TV::SBool(n) => *n,
            TV::Bool(b) => self.g.c(if *b { 1.0 } else { 0.0 }),
            _ => unreachable!("bool_node of a non-Bool"),
        }
    }

    /// Per register of `func`, whether an instruction reachable from `pc`
    /// reads it.
    fn read_from(&self, func: FuncId, pc: usize) -> Vec<bool> {
        let code = &self.program.func(func).code;
        let mut live = Vec::new();
        let mut seen = vec![false; code.len()];
        let mut stack = vec![pc];
        while let Some(at) = stack.pop() {
            if at >= code.len() || std::mem::replace(&mut seen[at], true) {
                continue;
            }
            let instr = &code[at];
            for r in instr.uses() {
                if live.len() <= r.index() {
                    live.resize(r.index() + 1, false);
                }
                live[r.index()] = true;
            }
            stack.extend(instr.targets().into_iter().map(|t| t as usize));
            if instr.falls_through() {
                stack.push(at + 1);
            }
        }
        live
    }

    /// The instruction after a branch where both arms first meet: the
    /// smallest instruction reachable from both without jumping back to or
    /// before the branch (lowering lays arms out after their branch, so this
    /// is the join of an `if` or of `&&`/`||`). `None` when they never meet
    /// (an arm returns).
    fn join_of(&self, func: FuncId, branch: usize, a: usize, b: usize) -> Option<usize> {
        let code = &self.program.func(func).code;
        let reach = |start: usize| {
            let mut seen = vec![false; code.len()];
            let mut stack = vec![start];
            while let Some(pc) = stack.pop() {
                if pc <= branch || pc >= code.len() || seen[pc] {
                    continue;
                }
                seen[pc] = true;
                let instr = &code[pc];
                stack.extend(instr.targets().into_iter().map(|t| t as usize));
                if instr.falls_through() {
                    stack.push(pc + 1);
                }
            }
            seen
        };
        let (ra, rb) = (reach(a), reach(b));
        (0..code.len()).find(|&pc| ra[pc] && rb[pc])
    }

    fn speculating(&self) -> bool {
        matches!(self.frames.last(), Some(Frame::Code(f)) if !f.spec.is_empty())
    }

    fn run_steps(&mut self) -> R<()> {
        let program = self.program;
        loop {
            self.steps += 1;
            if self.steps > self.limits.max_steps || self.g.len() > self.limits.max_nodes {
                return self.fatal(None, "the model is too large to trace");
            }
            if self.speculation_step()? {
                continue;
            }
            let (func, pc) = match self.frames.last_mut() {
                Some(Frame::Code(f)) => {
                    let pc = f.pc;
                    f.pc += 1;
                    (f.func, pc)
                }
                Some(Frame::Native(_)) => {
                    if self.step_native()? {
                        return Ok(());
                    }
                    continue;
                }
                None => return Ok(()),
            };
            let fun = program.func(func);
            let instr = &fun.code[pc];
            let span = fun.spans[pc];
            if self.speculating() && !computes_only(instr) {
                return self.unsupported(
                    span,
                    "an arm of a branch on a random choice does more than compute a value",
                );
            }
            macro_rules! reg {
                ($r:expr) => {
                    match self.frames.last() {
                        Some(Frame::Code(f)) => f.regs[$r.index()].clone(),
                        _ => unreachable!(),
                    }
                };
            }
            macro_rules! set {
                ($r:expr, $v:expr) => {{
                    let v = $v;
                    match self.frames.last_mut() {
                        Some(Frame::Code(f)) => f.regs[$r.index()] = v,
                        _ => unreachable!(),
                    }
                }};
            }
            match instr {
                Instr::Const { dst, value } => {
                    let v = match value {
                        tyche_ir::Const::Unit => TV::Unit,
                        tyche_ir::Const::Bool(b) => TV::Bool(*b),
                        tyche_ir::Const::Int(i) => TV::Int(*i),
                        tyche_ir::Const::Real(x) => TV::Real(self.g.c(*x)),
                        tyche_ir::Const::Str(s) => TV::Str(Arc::from(&**s)),
                    };
                    set!(dst, v)
                }
                Instr::Move { dst, src } => set!(dst, reg!(src)),
                Instr::Global { dst, global } => {
                    let v = self.globals[global.index()].clone();
                    let v = self.lift(&v)?;
                    set!(dst, v)
                }
                Instr::Closure {
                    dst,
                    func,
                    captures,
                } => {
                    let caps = captures.iter().map(|c| reg!(c)).collect();
                    set!(dst, TV::Closure(Arc::new((*func, caps))))
                }
                Instr::Unary { dst, op, arg } => {
                    let a = reg!(arg);
                    let v = self.unary(*op, &a, span)?;
                    set!(dst, v)
                }
                Instr::Binary { dst, op, lhs, rhs } => {
                    let (a, b) = (reg!(lhs), reg!(rhs));
                    let v = self.binary(*op, &a, &b, span)?;
                    set!(dst, v)
                }
                Instr::Prim { dst, prim, args } => {
                    let argv: Vec<TV> = args.iter().map(|a| reg!(a)).collect();
                    let v = self.prim(*prim, &argv, span)?;
                    set!(dst, v)
                }
                Instr::MakeDist { dst, kind, args } => {
                    let argv: Vec<TV> = args.iter().map(|a| reg!(a)).collect();
                    let d = self.make_dist(*kind, argv, span)?;
                    set!(dst, TV::Dist(Arc::new(d)))
                }
                Instr::Array { dst, elems } => {
                    let xs: Vec<TV> = elems.iter().map(|e| reg!(e)).collect();
                    set!(dst, TV::Array(Arc::new(xs)))
                }
                Instr::Tuple { dst, elems } => {
                    let xs: Vec<TV> = elems.iter().map(|e| reg!(e)).collect();
                    set!(dst, TV::Tuple(xs.into()))
                }
                Instr::Index { dst, array, index } => {
                    let a = reg!(array);
                    let v = match reg!(index) {
                        TV::Int(i) => self.index(&a, i, span)?,
                        TV::SInt(node, lo, hi) => self.index_sym(&a, node, lo, hi, span)?,
                        TV::Real(_) => {
                            return self.unsupported(span, "an index depends on a random choice")
                        }
                        other => {
                            return self
                                .fault(span, format!("cannot index by {}", other.type_name()))
                        }
                    };
                    set!(dst, v)
                }
                Instr::Field { dst, tuple, field } => {
                    let t = reg!(tuple);
                    let v = self.field(&t, *field, span)?;
                    set!(dst, v)
                }
                Instr::Call {
                    dst,
                    callee,
                    args,
                    tail,
                } => {
                    let argv: Vec<TV> = args.iter().map(|a| reg!(a)).collect();
                    let closure = match callee {
                        Callee::Closure(c) => Some(reg!(c)),
                        Callee::Direct(_) => None,
                    };
                    let ret = if *tail {
                        match self.frames.pop() {
                            Some(Frame::Code(f)) => f.ret,
                            _ => unreachable!("current frame is code"),
                        }
                    } else {
                        *dst
                    };
                    match (callee, closure) {
                        (Callee::Direct(f), _) => {
                            if program.func(*f).params as usize != argv.len() {
                                return self.fault(span, "wrong number of arguments");
                            }
                            self.push_frame(*f, argv, ret, span)?
                        }
                        (_, Some(c)) => self.push_call(&c, argv, ret, span)?,
                        _ => unreachable!(),
                    }
                }
                Instr::Intrinsic { dst, op, args } => {
                    let mut argv: Vec<TV> = args.iter().map(|a| reg!(a)).collect();
                    let f = argv.pop().unwrap_or(TV::Unit);
                    let (xs, n, acc) = match op {
                        Intrinsic::Repeat => match argv.first() {
                            Some(TV::Int(n)) if *n >= 0 => (TV::Unit, *n as usize, TV::Unit),
                            Some(TV::Int(n)) => {
                                return self.fault(
                                    span,
                                    format!("repeat count must be non-negative, got {n}"),
                                )
                            }
                            Some(TV::SInt(..)) => {
                                return self
                                    .unsupported(span, "a repeat count depends on a random choice")
                            }
                            _ => return self.fault(span, "repeat count must be an Int"),
                        },
                        _ => {
                            let acc = if argv.len() == 2 {
                                argv.pop().unwrap_or(TV::Unit)
                            } else {
                                TV::Unit
                            };
                            let xs = argv.pop().unwrap_or(TV::Unit);
                            let n = self.len(&xs)?;
                            (xs, n, acc)
                        }
                    };
                    let states = if *op == Intrinsic::Fold && n >= MIN_RECORDED_FOLD {
                        self.flatten(&acc).map(|s0| {
                            let mut v = Vec::with_capacity(n + 1);
                            v.push(s0);
                            v
                        })
                    } else {
                        None
                    };
                    let terms_before = self.terms.len();
                    self.note_entry();
                    self.frames.push(Frame::Native(NativeFrame {
                        op: *op,
                        f,
                        xs,
                        i: 0,
                        n,
                        acc,
                        out: Vec::with_capacity(n),
                        ret: *dst,
                        span,
                        states,
                        terms_before,
                    }));
                }
                Instr::Jump { target } => {
                    if let Some(Frame::Code(f)) = self.frames.last_mut() {
                        f.pc = *target as usize;
                    }
                }
                Instr::Branch {
                    cond,
                    then_to,
                    else_to,
                } => {
                    let to = match reg!(cond) {
                        TV::Bool(true) => *then_to,
                        TV::Bool(false) => *else_to,
                        TV::SBool(c) => {
                            let (then_to, else_to) = (*then_to as usize, *else_to as usize);
                            let Some(join) = self.join_of(func, pc, then_to, else_to) else {
                                return self
                                    .unsupported(span, "a branch depends on a random choice");
                            };
                            let (events, unrecoverable) =
                                (self.events.len(), self.unrecoverable.get());
                            if let Some(Frame::Code(f)) = self.frames.last_mut() {
                                let entry = f.regs.clone();
                                f.spec.push(Speculation {
                                    branch: pc,
                                    cond: c,
                                    else_to,
                                    join,
                                    entry,
                                    then_regs: None,
                                    events,
                                    unrecoverable,
                                });
                            }
                            then_to as u32
                        }
                        _ => return self.fault(span, "condition is not a Bool"),
                    };
                    if let Some(Frame::Code(f)) = self.frames.last_mut() {
                        f.pc = to as usize;
                    }
                }
                Instr::Return { value } => {
                    let v = reg!(value);
                    if self.return_value(v) {
                        return Ok(());
                    }
                }
                Instr::Sample { dst, site, dist } => {
                    let d = reg!(dist);
                    let v = self.sample(*site, &d, span)?;
                    set!(dst, v)
                }
                Instr::SampleEdited {
                    dst,
                    site,
                    dist,
                    edits,
                } => {
                    // Peek at the occurrence index without consuming it.
                    let name = program.site(*site).name;
                    let occ = self.counters[name.index()];
                    match edits.iter().find(|e| e.matches(occ)) {
                        Some(e) if e.kind == EditKind::Do => {
                            let index = self.next_index(*site);
                            let v = self.globals[e.value.index()].clone();
                            let j = self.fixed.len() as u32;
                            let address = Address { name, index };
                            self.fixed.push((address, v.clone()));
                            self.events.push(Event::Fixed(j));
                            let v = self.lift(&v)?;
                            set!(dst, v)
                        }
                        Some(e) => {
                            self.next_index(*site);
                            let d = reg!(dist);
                            let v = self.globals[e.value.index()].clone();
                            let v = self.lift(&v)?;
                            self.observe(&d, &v, span)?;
                            set!(dst, v)
                        }
                        None => {
                            let d = reg!(dist);
                            let v = self.sample(*site, &d, span)?;
                            set!(dst, v)
                        }
                    }
                }
                Instr::Observe { site, dist, value } => {
                    self.next_index(*site);
                    let (d, v) = (reg!(dist), reg!(value));
                    self.observe(&d, &v, span)?;
                }
                Instr::Factor { site, weight } => {
                    self.next_index(*site);
                    let w = match reg!(weight) {
                        TV::Real(n) | TV::SInt(n, ..) => n,
                        TV::Int(i) => self.g.c(i as f64),
                        _ => return self.fault(span, "factor needs a Real"),
                    };
                    match self.g.as_const(w) {
                        Some(x) if x.is_nan() => return self.fault(span, "factor weight is NaN"),
                        Some(f64::INFINITY) => return self.fault(span, "factor weight is +inf"),
                        _ => {}
                    }
                    self.observation(w)?;
                }
                Instr::Condition { site, cond } => {
                    self.next_index(*site);
                    let t = match reg!(cond) {
                        TV::Bool(b) => self.g.c(if b { 0.0 } else { f64::NEG_INFINITY }),
                        TV::SBool(c) => {
                            let (z, ni) = (self.g.c(0.0), self.g.c(f64::NEG_INFINITY));
                            self.g.select(c, z, ni)
                        }
                        _ => self.g.c(f64::NEG_INFINITY),
                    };
                    self.observation(t)?;
                }
                Instr::Infer { .. } => {
                    return self.unsupported(span, "nested inference is not supported in kernels")
                }
                Instr::World { .. } => {
                    return self
                        .unsupported(span, "counterfactual queries are not supported in kernels")
                }
                Instr::Nop => {}
                Instr::Foreign { .. } => {
                    return self.unsupported(
                        span,
                        "calls to host (Rust) functions are not supported in kernels",
                    )
                }
                // Instructions added to the IR after this tracer was written.
                #[allow(unreachable_patterns)]
                _ => return self.unsupported(span, "an instruction kernels do not support"),
            }
        }
    }

    /// Advances the native frame on top; true when the whole run is done.
    fn step_native(&mut self) -> R<bool> {
        let input = self.native_input.take();
        let Some(Frame::Native(n)) = self.frames.last_mut() else {
            unreachable!()
        };
        if let Some(v) = input {
            match n.op {
                Intrinsic::Map | Intrinsic::Repeat => n.out.push(v),
                Intrinsic::Filter => match v {
                    TV::Bool(true) => {
                        let (xs, i) = (n.xs.clone(), n.i);
                        let x = self.index(&xs, i as i64, Span::DUMMY)?;
                        let Some(Frame::Native(n)) = self.frames.last_mut() else {
                            unreachable!()
                        };
                        n.out.push(x);
                    }
                    TV::Bool(false) => {}
                    TV::SBool(_) => {
                        let span = n.span;
                        return self
                            .unsupported(span, "a filter predicate depends on a random choice");
                    }
                    _ => {
                        let span = n.span;
                        return self.fault(span, "filter predicate must return a Bool");
                    }
                },
                Intrinsic::Fold => {
                    let flat = n.states.as_ref().and_then(|_| flatten_tv(&self.g, &v));
                    let Some(Frame::Native(n)) = self.frames.last_mut() else {
                        unreachable!()
                    };
                    match (flat, &mut n.states) {
                        (Some(f), Some(st)) if f.len() == st[0].len() => st.push(f),
                        _ => n.states = None,
                    }
                    n.acc = v;
                }
                Intrinsic::Scan => {
                    n.out.push(v.clone());
                    n.acc = v;
                }
            }
            let Some(Frame::Native(n)) = self.frames.last_mut() else {
                unreachable!()
            };
            n.i += 1;
        }
        let Some(Frame::Native(n)) = self.frames.last_mut() else {
            unreachable!()
        };
        if n.i < n.n {
            let (op, xs, i, acc, f, span) =
                (n.op, n.xs.clone(), n.i, n.acc.clone(), n.f.clone(), n.span);
            let args = match op {
                Intrinsic::Map | Intrinsic::Filter => vec![self.index(&xs, i as i64, span)?],
                Intrinsic::Fold | Intrinsic::Scan => vec![acc, self.index(&xs, i as i64, span)?],
                Intrinsic::Repeat => vec![],
            };
            self.push_call(&f, args, TO_NATIVE, span)?;
            return Ok(false);
        }
        let result = match n.op {
            Intrinsic::Fold => std::mem::replace(&mut n.acc, TV::Unit),
            _ => TV::Array(Arc::new(std::mem::take(&mut n.out))),
        };
        if let Some(states) = n.states.take() {
            let no_terms = self.terms.len() == n.terms_before;
            if no_terms && !states[0].is_empty() && states.len() == n.n + 1 {
                self.folds.push(FoldRecord { states });
            }
        }
        Ok(self.return_value(result))
    }

    fn flatten(&self, v: &TV) -> Option<Vec<NodeId>> {
        flatten_tv(&self.g, v)
    }

    fn sample(&mut self, site: tyche_ir::SiteId, d: &TV, span: Span) -> R<TV> {
        let TV::Dist(d) = d else {
            return self.fault(
                span,
                format!("expected a distribution, found {}", d.type_name()),
            );
        };
        if self.unconstrained && d.kind == DistKind::Dirichlet {
            return self.sample_simplex(site, d, span);
        }
        let value = match d.kind.value_type_name() {
            "Real" => ValueKind::Real,
            "Int" if self.discrete => ValueKind::Int,
            "Bool" if self.discrete => ValueKind::Bool,
            _ if !self.discrete => return self.unsupported(span, discrete_choice_reason(d.kind)),
            _ => {
                return self.unsupported(
                    span,
                    format!(
                    "the choice at this site is {}-valued ({}); only scalar choices are supported",
                    d.kind.value_type_name(),
                    d.kind.name()
                ),
                )
            }
        };
        // The parameters as nodes (Categorical: its weights) and, for an
        // Int choice, bounds on its value.
        let (params, bounds) = self.choice_params(d, span)?;
        let index = self.next_index(site);
        let i = self.choices.len() as u32;
        let s = self.program.site(site);
        let name = self.program.name(s.name).to_string();
        self.choices.push(Choice {
            address: format!("{name}[{index}]"),
            name,
            index,
            site,
            dist: d.kind,
        });
        self.priors.push(params);
        self.dists.push(ChoiceDist {
            kind: d.kind,
            value,
            concrete: d.concrete.clone(),
            span: if d.span == Span::DUMMY { span } else { d.span },
            site_span: span,
        });
        self.events.push(Event::Choice(i));
        let mut theta = self.g.param(i);
        let mut jacobian = None;
        if self.unconstrained {
            self.slots.push(ValueSlot {
                site,
                index,
                first: i,
                coords: 1,
                width: None,
            });
        }
        if self.unconstrained && value != ValueKind::Real {
            // Summed out later (`marginal`): the coordinate is the value.
            self.constrained.push(theta);
        } else if self.unconstrained {
            let Some(support) = transform::support(d.kind) else {
                return self.unsupported(span, discrete_choice_reason(d.kind));
            };
            let Some(params) = self.priors[i as usize].clone() else {
                return self.unsupported(span, "a choice whose parameters are not reals");
            };
            let (x, jac) = transform::constrain(&mut self.g, support, &params, theta);
            theta = x;
            jacobian = Some(jac);
            self.constrained.push(x);
        }
        let (x, tv) = match value {
            ValueKind::Real => (Val::Real(theta), TV::Real(theta)),
            ValueKind::Int => {
                let (lo, hi) = bounds.unwrap_or((i64::MIN, i64::MAX));
                (Val::SInt(theta), TV::SInt(theta, lo, hi))
            }
            ValueKind::Bool => (Val::Bool(theta), TV::SBool(theta)),
        };
        let lp = self.log_density(d, x, span)?;
        self.term(lp)?;
        if let Some(jac) = jacobian {
            self.term(jac)?;
        }
        Ok(tv)
    }

    /// A `Dirichlet` choice on unconstrained coordinates: `K − 1`
    /// coordinates (each listed as a choice at the same address), mapped
    /// onto the simplex by [`transform::stick_breaking`]; its log density
    /// then its log-Jacobian are the terms.
    fn sample_simplex(&mut self, site: tyche_ir::SiteId, d: &SDist, span: Span) -> R<TV> {
        let Some(Dist::Dirichlet {
            alpha, log_norm, ..
        }) = &d.concrete
        else {
            return self.unsupported(span, "Dirichlet with random parameters");
        };
        let (alpha, log_norm) = (alpha.clone(), *log_norm);
        let k = alpha.len();
        let index = self.next_index(site);
        let s = self.program.site(site);
        let name = self.program.name(s.name).to_string();
        let first = self.choices.len() as u32;
        let mut phi = Vec::with_capacity(k.saturating_sub(1));
        for j in 0..k.saturating_sub(1) {
            let i = self.choices.len() as u32;
            self.choices.push(Choice {
                address: format!("{name}[{index}] φ{j}"),
                name: name.clone(),
                index,
                site,
                dist: d.kind,
            });
            self.priors.push(None);
            self.dists.push(ChoiceDist {
                kind: d.kind,
                value: ValueKind::Real,
                concrete: d.concrete.clone(),
                span: if d.span == Span::DUMMY { span } else { d.span },
                site_span: span,
            });
            self.events.push(Event::Choice(i));
            phi.push(self.g.param(i));
        }
        self.slots.push(ValueSlot {
            site,
            index,
            first,
            coords: phi.len() as u32,
            width: Some(k),
        });
        let (logs, jac) = transform::stick_breaking(&mut self.g, &phi);
        let mut lp = self.g.c(log_norm);
        for (&a, &lx) in alpha.iter().zip(&logs) {
            // (α − 1)·ln x, left out where α = 1 (as `mul_ln` makes it 0).
            if a != 1.0 {
                let am1 = self.g.c(a - 1.0);
                let t = self.g.mul(am1, lx);
                lp = self.g.add2(lp, t);
            }
        }
        let xs: Vec<NodeId> = logs.iter().map(|&l| self.g.un(Un::Exp, l)).collect();
        self.constrained.extend(&xs);
        self.term(lp)?;
        self.term(jac)?;
        Ok(TV::Array(Arc::new(xs.into_iter().map(TV::Real).collect())))
    }

    /// A choice's parameters as nodes (`None` when one is not a number)
    /// and, for an Int-valued one, bounds on its value; stops where the
    /// step programs could not draw it exactly.
    #[allow(clippy::type_complexity)]
    fn choice_params(
        &mut self,
        d: &SDist,
        span: Span,
    ) -> R<(Option<Vec<NodeId>>, Option<(i64, i64)>)> {
        let reals = |t: &mut Self| -> Option<Vec<NodeId>> {
            d.args.iter().map(|a| t.real(a).ok()).collect()
        };
        Ok(match d.kind {
            DistKind::Categorical => {
                let ws = match &d.concrete {
                    Some(Dist::Categorical { ps, .. }) => {
                        ps.iter().map(|&p| self.g.c(p)).collect::<Vec<_>>()
                    }
                    _ => {
                        let xs = self.elems(&d.args[0])?;
                        xs.iter().map(|x| self.real(x)).collect::<R<Vec<_>>>()?
                    }
                };
                if ws.is_empty() {
                    return self.fault(
                        span,
                        "invalid parameter for Categorical: ps must not be empty",
                    );
                }
                let n = ws.len() as i64;
                (Some(ws), Some((0, n - 1)))
            }
            DistKind::Binomial => {
                let n = match (&d.concrete, &d.args[0]) {
                    (Some(Dist::Binomial { n, .. }), _) => *n,
                    (_, TV::Int(n)) => *n,
                    _ => return self.unsupported(span, "Binomial with a random n"),
                };
                if !(0..=EXACT).contains(&n) {
                    return self.unsupported(span, "a Binomial choice with n beyond 2^53");
                }
                let nf = self.g.c(n as f64);
                let p = self.real(&d.args[1].clone())?;
                (Some(vec![nf, p]), Some((0, n)))
            }
            DistKind::DiscreteUniform => match &d.concrete {
                Some(Dist::DiscreteUniform { lo, hi, .. }) if -EXACT <= *lo && *hi <= EXACT => {
                    let (lo, hi) = (*lo, *hi);
                    let (a, b) = (self.g.c(lo as f64), self.g.c(hi as f64));
                    (Some(vec![a, b]), Some((lo, hi)))
                }
                Some(_) => {
                    return self
                        .unsupported(span, "a DiscreteUniform choice with bounds beyond 2^53")
                }
                None => return self.unsupported(span, "DiscreteUniform with random parameters"),
            },
            // Counts: unbounded above (the step programs check that each
            // draw converts to f64 exactly).
            DistKind::Poisson | DistKind::Geometric => (reals(self), Some((0, i64::MAX))),
            _ => (reals(self), None),
        })
    }

    fn observe(&mut self, d: &TV, v: &TV, span: Span) -> R<()> {
        let TV::Dist(d) = d else {
            return self.fault(
                span,
                format!("expected a distribution, found {}", d.type_name()),
            );
        };
        let lp = self.log_prob(d, v, span)?;
        self.observation(lp)
    }

    /// `log_prob(d, v)` as a node.
    fn log_prob(&mut self, d: &SDist, v: &TV, span: Span) -> R<NodeId> {
        // Fully concrete: ask tyche-dist.
        if let (Some(dist), Some(value)) = (&d.concrete, self.concrete(v)) {
            let lp = match value.to_outcome() {
                Some(o) => dist.log_prob(&o),
                None => f64::NEG_INFINITY,
            };
            return Ok(self.g.c(lp));
        }
        if d.kind == DistKind::MvNormalCholesky {
            return self.mv_normal_cholesky(d, v, span);
        }
        let x = match (d.kind.value_type_name(), v) {
            ("Real", TV::Real(n)) => Val::Real(*n),
            // An Int observed by a real distribution is a wrong-variant
            // outcome: −∞, as in the interpreter.
            ("Real", TV::Int(_) | TV::SInt(..) | TV::Bool(_)) => {
                return Ok(self.g.c(f64::NEG_INFINITY))
            }
            ("Bool", TV::Bool(b)) => Val::Bool(self.g.boolean(*b)),
            ("Bool", TV::SBool(n)) => Val::Bool(*n),
            ("Int", TV::Int(k)) => Val::Int(*k),
            ("Int", TV::SInt(n, ..)) => Val::SInt(*n),
            (_, TV::Real(_)) | (_, TV::SBool(_)) => {
                return self.unsupported(
                    span,
                    format!("a random value observed from {}", d.kind.name()),
                )
            }
            _ => return Ok(self.g.c(f64::NEG_INFINITY)),
        };
        self.log_density(d, x, span)
    }

    fn log_density(&mut self, d: &SDist, x: Val, span: Span) -> R<NodeId> {
        let params = match d.kind {
            DistKind::Binomial => {
                let n = match (&d.args[0], &d.concrete) {
                    (_, Some(Dist::Binomial { n, .. })) => *n,
                    (TV::Int(n), _) => *n,
                    _ => return self.unsupported(span, "Binomial with a random n"),
                };
                let p = self.real(&d.args[1].clone())?;
                Params::Binomial(n, p)
            }
            DistKind::Categorical => match &d.concrete {
                Some(Dist::Categorical { ps, ln_ps, .. }) => {
                    // Already normalised; renormalising could change bits,
                    // so use the precomputed logs.
                    match x {
                        Val::Int(k) => {
                            let lp = dist_log_prob(d.concrete.as_ref(), &Outcome::Int(k));
                            return Ok(self.g.c(lp));
                        }
                        Val::SInt(_) => Params::CategoricalLogs(self.g.table(ln_ps), ln_ps.len()),
                        _ => Params::Categorical(ps.iter().map(|p| self.g.c(*p)).collect()),
                    }
                }
                _ => {
                    let xs = self.elems(&d.args[0].clone())?;
                    if xs.is_empty() {
                        return self.fault(
                            span,
                            "invalid parameter for Categorical: ps must not be empty",
                        );
                    }
                    let ws = xs.iter().map(|x| self.real(x)).collect::<R<Vec<_>>>()?;
                    Params::Categorical(ws)
                }
            },
            DistKind::DiscreteUniform => match (&d.concrete, x) {
                // Comparing `k as f64` with bounds within ±2⁵³ is exact.
                (
                    Some(Dist::DiscreteUniform {
                        lo, hi, log_norm, ..
                    }),
                    Val::SInt(_),
                ) if -EXACT <= *lo && *hi <= EXACT => Params::DiscreteUniform {
                    lo: *lo as f64,
                    hi: *hi as f64,
                    log_norm: *log_norm,
                },
                _ => {
                    return self
                        .unsupported(span, "DiscreteUniform with random parameters or value")
                }
            },
            DistKind::Dirichlet | DistKind::MvNormal | DistKind::MvNormalCholesky => {
                return self.unsupported(
                    span,
                    format!("{} with random parameters or value", d.kind.name()),
                )
            }
            _ => {
                // An integer parameter (`BinomialLogit`'s n) must be known:
                // the formulas' Stirling terms of a random one would be
                // table lookups, which kernels do not have.
                let f = d.kind.family();
                for (p, a) in f.params.iter().zip(&d.args) {
                    if p.ty == tyche_dist::family::Type::Int && !matches!(a, TV::Int(_)) {
                        return self.unsupported(
                            span,
                            format!("{} with a random {}", d.kind.name(), p.name),
                        );
                    }
                }
                let ps = d
                    .args
                    .clone()
                    .iter()
                    .map(|a| self.real(a))
                    .collect::<R<Vec<_>>>()?;
                Params::Reals(ps)
            }
        };
        dists::log_density(&mut self.g, d.kind, &params, x).map_err(|m| NotStatic {
            reason: m,
            span: Some(span),
        })
    }

    fn make_dist(&mut self, kind: DistKind, args: Vec<TV>, span: Span) -> R<SDist> {
        // All concrete: validate now, exactly as the interpreter would.
        let concrete: Option<Vec<Value>> = args.iter().map(|a| self.concrete(a)).collect();
        if let Some(vals) = concrete {
            let d = tyche_vm::make_dist(kind, vals.iter()).or_else(|m| self.fault(span, m))?;
            return Ok(SDist {
                kind,
                args,
                concrete: Some(d),
                span,
            });
        }
        if kind.param_names().len() != args.len() {
            return self.fault(
                span,
                format!("wrong number of parameters for {}", kind.name()),
            );
        }
        Ok(SDist {
            kind,
            args,
            concrete: None,
            span,
        })
    }

    fn unary(&mut self, op: UnOp, a: &TV, span: Span) -> R<TV> {
        Ok(match (op, a) {
            (UnOp::Neg, TV::Int(i)) => match i.checked_neg() {
                Some(v) => TV::Int(v),
                None => return self.fault(span, "integer overflow in negation"),
            },
            (UnOp::Neg, TV::Real(n)) => TV::Real(self.g.neg(*n)),
            // Negation is exact on `k as f64`; only `i64::MIN` overflows.
            (UnOp::Neg, &TV::SInt(n, lo, hi)) if lo > i64::MIN => {
                let m = self.g.neg(n);
                let m = self.no_neg_zero(m);
                self.int_tv(m, -hi, -lo)
            }
            (UnOp::Neg, TV::SInt(..)) => {
                return self.unsupported(span, "negating a random Int that may be i64::MIN")
            }
            (UnOp::Not, TV::Bool(b)) => TV::Bool(!b),
            (UnOp::Not, TV::SBool(n)) => {
                let r = self.g.not(*n);
                self.bool_tv(r)
            }
            (_, v) => return self.fault(span, format!("cannot apply {op:?} to {}", v.type_name())),
        })
    }

    fn binary(&mut self, op: BinOp, a: &TV, b: &TV, span: Span) -> R<TV> {
        match (a, b) {
            (TV::Int(x), TV::Int(y)) => int_arith(op, *x, *y).or_else(|m| self.fault(span, m)),
            (TV::Int(_) | TV::SInt(..), TV::Int(_) | TV::SInt(..)) => {
                let (Some(x), Some(y)) = (self.sym_int(a), self.sym_int(b)) else {
                    unreachable!("Int operands")
                };
                self.int_binary(op, x, y, span)
            }
            (TV::SBool(_) | TV::Bool(_), TV::SBool(_) | TV::Bool(_))
                if matches!(op, BinOp::Eq | BinOp::Ne) =>
            {
                // Booleans compare as booleans (`a == b` is `a && b || !a && !b`).
                let node = |t: &mut Self, v: &TV| match *v {
                    TV::Bool(x) => t.g.boolean(x),
                    TV::SBool(n) => n,
                    _ => unreachable!("Bool operands"),
                };
                let (x, y) = (node(self, a), node(self, b));
                let both = self.g.and(x, y);
                let (nx, ny) = (self.g.not(x), self.g.not(y));
                let neither = self.g.and(nx, ny);
                let eq = self.g.or(both, neither);
                let r = if op == BinOp::Eq { eq } else { self.g.not(eq) };
                Ok(self.bool_tv(r))
            }
            (TV::Real(_) | TV::Int(_) | TV::SInt(..), TV::Real(_) | TV::Int(_) | TV::SInt(..)) => {
                let (x, y) = (self.real(a)?, self.real(b)?);
                let bin = |o| Some(o);
                let (arith, cmp) = match op {
                    BinOp::Add => (bin(Bin::Add), None),
                    BinOp::Sub => (bin(Bin::Sub), None),
                    BinOp::Mul => (bin(Bin::Mul), None),
                    BinOp::Div => (bin(Bin::Div), None),
                    BinOp::Rem => (bin(Bin::Rem), None),
                    BinOp::Pow => (bin(Bin::Pow), None),
                    BinOp::Eq => (None, Some(Cmp::Eq)),
                    BinOp::Ne => (None, Some(Cmp::Ne)),
                    BinOp::Lt => (None, Some(Cmp::Lt)),
                    BinOp::Le => (None, Some(Cmp::Le)),
                    BinOp::Gt => (None, Some(Cmp::Gt)),
                    BinOp::Ge => (None, Some(Cmp::Ge)),
                };
                if let Some(o) = arith {
                    Ok(TV::Real(self.g.bin(o, x, y)))
                } else {
                    let c = self.g.cmp(cmp.unwrap_or(Cmp::Eq), x, y);
                    Ok(self.bool_tv(c))
                }
            }
            _ => match op {
                BinOp::Eq | BinOp::Ne => {
                    let (Some(x), Some(y)) = (self.concrete(a), self.concrete(b)) else {
                        return self.unsupported(
                            span,
                            "comparing compound values that depend on a random choice",
                        );
                    };
                    let eq = equal(&x, &y);
                    Ok(TV::Bool(if op == BinOp::Eq { eq } else { !eq }))
                }
                _ => self.fault(
                    span,
                    format!(
                        "cannot apply {op:?} to {} and {}",
                        a.type_name(),
                        b.type_name()
                    ),
                ),
            },
        }
    }

    fn un_real(&mut self, u: Un, a: &TV) -> R<TV> {
        let x = self.real(a)?;
        Ok(TV::Real(self.g.un(u, x)))
    }

    fn prim(&mut self, p: Prim, args: &[TV], span: Span) -> R<TV> {
        use Prim::*;
        Ok(match p {
            Len => TV::Int(self.len(&args[0])? as i64),
            Sum | Product => {
                let xs = self.elems(&args[0])?;
                let is_sum = p == Sum;
                if xs.iter().any(|x| matches!(x, TV::Real(_))) {
                    let mut acc = self.g.c(if is_sum { 0.0 } else { 1.0 });
                    for x in &xs {
                        let v = self.real(x)?;
                        acc = self.g.bin(if is_sum { Bin::Add } else { Bin::Mul }, acc, v);
                    }
                    TV::Real(acc)
                } else {
                    // The VM's integer fold from 0 (or 1).
                    let mut acc = TV::Int(if is_sum { 0 } else { 1 });
                    let op = if is_sum { BinOp::Add } else { BinOp::Mul };
                    for x in &xs {
                        if !matches!(x, TV::Int(_) | TV::SInt(..)) {
                            return self
                                .fault(span, format!("expected an Int, found {}", x.type_name()));
                        }
                        acc = self.binary(op, &acc, x, span)?;
                    }
                    acc
                }
            }
            Min | Max => match (&args[0], &args[1]) {
                (TV::Int(a), TV::Int(b)) => TV::Int(if p == Min { *a.min(b) } else { *a.max(b) }),
                (a @ (TV::Int(_) | TV::SInt(..)), b @ (TV::Int(_) | TV::SInt(..))) => {
                    // Exact on `k as f64` (monotone, no NaN).
                    let (Some(x), Some(y)) = (self.sym_int(a), self.sym_int(b)) else {
                        unreachable!("Int operands")
                    };
                    let (o, lo, hi) = if p == Min {
                        (Bin::Min, x.lo.min(y.lo), x.hi.min(y.hi))
                    } else {
                        (Bin::Max, x.lo.max(y.lo), x.hi.max(y.hi))
                    };
                    let n = self.g.bin(o, x.node, y.node);
                    self.int_tv(n, lo, hi)
                }
                (a, b) => {
                    let (x, y) = (self.real(a)?, self.real(b)?);
                    TV::Real(self.g.bin(if p == Min { Bin::Min } else { Bin::Max }, x, y))
                }
            },
            Abs => match &args[0] {
                TV::Int(i) => match i.checked_abs() {
                    Some(v) => TV::Int(v),
                    None => return self.fault(span, "integer overflow in abs"),
                },
                &TV::SInt(n, lo, hi) if lo > i64::MIN => {
                    let a = self.g.un(Un::Abs, n);
                    let (lo, hi) = if lo >= 0 {
                        (lo, hi)
                    } else if hi <= 0 {
                        (-hi, -lo)
                    } else {
                        (0, hi.max(-lo))
                    };
                    self.int_tv(a, lo, hi)
                }
                TV::SInt(..) => {
                    return self.unsupported(span, "abs of a random Int that may be i64::MIN")
                }
                v => self.un_real(Un::Abs, v)?,
            },
            Real => TV::Real(self.real(&args[0])?),
            Int => {
                let x = self.real(&args[0])?;
                let Some(x) = self.g.as_const(x) else {
                    return self.unsupported(span, "int() of a random value");
                };
                if !x.is_finite() || x.abs() >= 9.2e18 {
                    return self.fault(span, format!("cannot convert {x} to Int"));
                }
                TV::Int(x.trunc() as i64)
            }
            Exp => self.un_real(Un::Exp, &args[0])?,
            Log => self.un_real(Un::Ln, &args[0])?,
            Sqrt => self.un_real(Un::Sqrt, &args[0])?,
            Floor => self.un_real(Un::Floor, &args[0])?,
            Ceil => self.un_real(Un::Ceil, &args[0])?,
            Lgamma => self.un_real(Un::Lgamma, &args[0])?,
            Log1p => self.un_real(Un::Log1p, &args[0])?,
            Expm1 => self.un_real(Un::Expm1, &args[0])?,
            Sin => self.un_real(Un::Sin, &args[0])?,
            Cos => self.un_real(Un::Cos, &args[0])?,
            Tan => self.un_real(Un::Tan, &args[0])?,
            Atan => self.un_real(Un::Atan, &args[0])?,
            Tanh => self.un_real(Un::Tanh, &args[0])?,
            Sigmoid => {
                let x = self.real(&args[0])?;
                TV::Real(self.g.sigmoid(x))
            }
            Logit => {
                let x = self.real(&args[0])?;
                let g = &mut self.g;
                let l = g.ln(x);
                let nx = g.neg(x);
                let l1 = g.un(Un::Log1p, nx);
                TV::Real(g.sub(l, l1))
            }
            Pow => {
                let (a, b) = (self.real(&args[0])?, self.real(&args[1])?);
                TV::Real(self.g.bin(Bin::Pow, a, b))
            }
            LogSumExp => {
                let xs = self.elems(&args[0])?;
                let xs = xs.iter().map(|x| self.real(x)).collect::<R<Vec<_>>>()?;
                TV::Real(log_sum_exp(&mut self.g, &xs))
            }
            Range => {
                if matches!((&args[0], &args[1]), (TV::SInt(..), _) | (_, TV::SInt(..))) {
                    return self.unsupported(span, "a range bound depends on a random choice");
                }
                let (TV::Int(a), TV::Int(b)) = (&args[0], &args[1]) else {
                    return self.fault(span, "range needs Ints");
                };
                if b.saturating_sub(*a) > 100_000_000 {
                    return self.fault(span, format!("range {a}..{b} is too large"));
                }
                TV::Data(Value::array((*a..*b).map(Value::Int).collect()))
            }
            Zip => {
                if let (Some(x), Some(y)) = (self.concrete(&args[0]), self.concrete(&args[1])) {
                    if let (Value::Array(xs), Value::Array(ys)) = (&x, &y) {
                        return Ok(TV::Data(Value::array(
                            xs.iter()
                                .zip(ys.iter())
                                .map(|(a, b)| Value::tuple(vec![a.clone(), b.clone()]))
                                .collect(),
                        )));
                    }
                }
                let xs = self.elems(&args[0])?;
                let ys = self.elems(&args[1])?;
                TV::Array(Arc::new(
                    xs.into_iter()
                        .zip(ys)
                        .map(|(a, b)| TV::Tuple(vec![a, b].into()))
                        .collect(),
                ))
            }
            // Data stays data: long arrays are not lifted element by element.
            Concat => match (self.concrete(&args[0]), self.concrete(&args[1])) {
                (Some(Value::Array(xs)), Some(Value::Array(ys))) => {
                    TV::Data(Value::array(xs.iter().chain(ys.iter()).cloned().collect()))
                }
                _ => {
                    let mut xs = self.elems(&args[0])?;
                    xs.extend(self.elems(&args[1])?);
                    TV::Array(Arc::new(xs))
                }
            },
            Reverse => match self.concrete(&args[0]) {
                Some(Value::Array(xs)) => {
                    TV::Data(Value::array(xs.iter().rev().cloned().collect()))
                }
                _ => {
                    let mut xs = self.elems(&args[0])?;
                    xs.reverse();
                    TV::Array(Arc::new(xs))
                }
            },
            Print => TV::Unit,
            LogProb => {
                let TV::Dist(d) = &args[0] else {
                    return self.unsupported(span, "log_prob of a posterior");
                };
                let d = d.clone();
                TV::Real(self.log_prob(&d, &args[1], span)?)
            }
            Prob => {
                let TV::Dist(d) = &args[0] else {
                    return self.unsupported(span, "prob of a posterior");
                };
                if !d.kind.is_discrete() {
                    return self.fault(
                        span,
                        format!(
                            "prob needs a discrete distribution; {} is continuous",
                            d.kind.name()
                        ),
                    );
                }
                let d = d.clone();
                let lp = self.log_prob(&d, &args[1], span)?;
                TV::Real(self.g.un(Un::Exp, lp))
            }
            Mean => match &args[0] {
                TV::Dist(d) => match &d.concrete {
                    Some(dist) => match dist.mean() {
                        Some(o) => match o.as_f64() {
                            Some(m) => TV::Real(self.g.c(m)),
                            None => return self.fault(span, "mean is not a number"),
                        },
                        None => return self.fault(span, format!("{} has no mean", d.kind.name())),
                    },
                    None => {
                        return self
                            .unsupported(span, "mean of a distribution with random parameters")
                    }
                },
                _ => return self.unsupported(span, "mean of a posterior"),
            },
            LogEvidence | Samples | Enumerate | Rejection | Importance | Smc | Mh | Hmc | Nuts => {
                return self.unsupported(
                    span,
                    format!("`{}` (inference) is not supported in kernels", p.name()),
                )
            }
            // The linear-algebra built-ins (`Prim::is_linalg`).
            _ => return self.linalg(p, args, span),
        })
    }

    /// A linear-algebra built-in. On concrete operands it is the
    /// interpreter's own function (data stays data). Otherwise shapes are
    /// checked by running that function on stand-ins with the operands'
    /// shapes (so a mismatch fails as the interpreter does, with its
    /// message), and the result is `tyche_dist::linalg`'s formulas on the
    /// graph: the interpreter's operations in its order, whose reverse
    /// mode is the gradient. A `cholesky` of a matrix that is not positive
    /// definite at some θ leaves NaN there (the square root of a
    /// non-positive pivot); the interpreter then reports the error, and
    /// NUTS counts such a point as a divergence (`gradient.rs`).
    fn linalg(&mut self, p: Prim, args: &[TV], span: Span) -> R<TV> {
        use tyche_dist::linalg as la;
        if let Some(vals) = args
            .iter()
            .map(|a| self.concrete(a))
            .collect::<Option<Vec<_>>>()
        {
            return match tyche_vm::linalg::prim(p, &vals) {
                Ok(v @ Value::Array(_)) => Ok(TV::Data(v)),
                Ok(v) => self.lift(&v),
                Err(m) => self.fault(span, m),
            };
        }
        let standins = args
            .iter()
            .map(|a| self.standin(a, span))
            .collect::<R<Vec<_>>>()?;
        match tyche_vm::linalg::prim(p, &standins) {
            Err(m) if m != tyche_vm::linalg::NOT_POSITIVE_DEFINITE => return self.fault(span, m),
            _ => {}
        }
        let vector = |t: &mut Self, v: &TV| -> R<Vec<NodeId>> {
            let xs = t.elems(v)?;
            xs.iter().map(|x| t.real(x)).collect()
        };
        let matrix = |t: &mut Self, v: &TV| -> R<Vec<Vec<NodeId>>> {
            let rows = t.elems(v)?;
            rows.iter().map(|r| vector(t, r)).collect()
        };
        let vec_tv = |xs: Vec<NodeId>| TV::Array(Arc::new(xs.into_iter().map(TV::Real).collect()));
        let mat_tv = |a: Vec<Vec<NodeId>>| TV::Array(Arc::new(a.into_iter().map(vec_tv).collect()));
        use Prim::*;
        Ok(match p {
            VecAdd | VecSub | VecMul => {
                let (x, y) = (vector(self, &args[0])?, vector(self, &args[1])?);
                let b = match p {
                    VecAdd => Bin::Add,
                    VecSub => Bin::Sub,
                    _ => Bin::Mul,
                };
                vec_tv(
                    x.iter()
                        .zip(&y)
                        .map(|(&a, &c)| self.g.bin(b, a, c))
                        .collect(),
                )
            }
            VecScale => {
                let c = self.real(&args[0])?;
                let x = vector(self, &args[1])?;
                vec_tv(x.iter().map(|&a| self.g.mul(c, a)).collect())
            }
            MatAdd | MatSub => {
                let (a, b) = (matrix(self, &args[0])?, matrix(self, &args[1])?);
                let o = if p == MatAdd { Bin::Add } else { Bin::Sub };
                mat_tv(
                    a.iter()
                        .zip(&b)
                        .map(|(r, q)| {
                            r.iter()
                                .zip(q)
                                .map(|(&x, &y)| self.g.bin(o, x, y))
                                .collect()
                        })
                        .collect(),
                )
            }
            MatScale => {
                let c = self.real(&args[0])?;
                let a = matrix(self, &args[1])?;
                mat_tv(
                    a.iter()
                        .map(|r| r.iter().map(|&x| self.g.mul(x, c)).collect())
                        .collect(),
                )
            }
            AddDiag => {
                let mut a = matrix(self, &args[0])?;
                let c = self.real(&args[1])?;
                for (i, r) in a.iter_mut().enumerate() {
                    r[i] = self.g.add2(r[i], c);
                }
                mat_tv(a)
            }
            MatVec => {
                let (a, x) = (matrix(self, &args[0])?, vector(self, &args[1])?);
                vec_tv(la::mat_vec(&mut GraphMath(&mut self.g), &a, &x))
            }
            MatMul => {
                let (a, b) = (matrix(self, &args[0])?, matrix(self, &args[1])?);
                mat_tv(la::mat_mul(&mut GraphMath(&mut self.g), &a, &b))
            }
            Transpose => {
                let a = matrix(self, &args[0])?;
                let cols = a.first().map_or(0, Vec::len);
                mat_tv(
                    (0..cols)
                        .map(|j| a.iter().map(|r| r[j]).collect())
                        .collect(),
                )
            }
            Cholesky => {
                let a = matrix(self, &args[0])?;
                mat_tv(la::cholesky(&mut GraphMath(&mut self.g), &a).0)
            }
            SolveLower => {
                let (l, b) = (matrix(self, &args[0])?, vector(self, &args[1])?);
                vec_tv(la::solve_lower(&mut GraphMath(&mut self.g), &l, &b))
            }
            Diag => {
                let x = vector(self, &args[0])?;
                let z = self.g.c(0.0);
                let n = x.len();
                mat_tv(
                    (0..n)
                        .map(|i| (0..n).map(|j| if i == j { x[i] } else { z }).collect())
                        .collect(),
                )
            }
            Diagonal => {
                let a = matrix(self, &args[0])?;
                vec_tv(a.iter().enumerate().map(|(i, r)| r[i]).collect())
            }
            Col => {
                let a = matrix(self, &args[0])?;
                let TV::Int(j) = args[1] else {
                    return self.unsupported(span, "`col` with a random column index");
                };
                vec_tv(a.iter().map(|r| r[j as usize]).collect())
            }
            CovExpQuad => {
                let x = vector(self, &args[0])?;
                let (alpha, rho) = (self.real(&args[1])?, self.real(&args[2])?);
                mat_tv(la::cov_exp_quad(
                    &mut GraphMath(&mut self.g),
                    &x,
                    alpha,
                    rho,
                ))
            }
            _ => {
                return self.unsupported(
                    span,
                    format!("`{}` of a matrix that depends on random choices", p.name()),
                )
            }
        })
    }

    /// `log_prob(MvNormalCholesky(mu, L), x)` with random `mu` or `L`: the
    /// family's formula on the graph, NaN where the interpreter would
    /// refuse the parameters (as compiled code marks invalid runs). Shapes
    /// are validated by the interpreter's constructor on stand-ins (`mu`
    /// zeros, `L` the identity), with its messages.
    fn mv_normal_cholesky(&mut self, d: &SDist, v: &TV, span: Span) -> R<NodeId> {
        use tyche_dist::family::mv_normal_cholesky as mvn;
        let mu_s = self.standin(&d.args[0], span)?;
        let l_s = match self.standin(&d.args[1], span)? {
            Value::Array(rows) => Value::array(
                rows.iter()
                    .enumerate()
                    .map(|(i, r)| match r {
                        Value::Array(xs) => Value::array(
                            (0..xs.len())
                                .map(|j| Value::Real(if i == j { 1.0 } else { 0.0 }))
                                .collect(),
                        ),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            other => other,
        };
        if let Err(m) = tyche_vm::make_dist(d.kind, [mu_s, l_s].iter()) {
            return self.fault(d.span, m);
        }
        let reals = |t: &mut Self, v: &TV| -> R<Vec<NodeId>> {
            let xs = t.elems(v)?;
            xs.iter().map(|x| t.real(x)).collect()
        };
        let mu = reals(self, &d.args[0])?;
        let rows = self.elems(&d.args[1])?;
        let l = rows.iter().map(|r| reals(self, r)).collect::<R<Vec<_>>>()?;
        // A value of another length has density zero, as in the
        // interpreter; so has one with a non-finite element.
        let x = match v {
            TV::Array(_) | TV::Data(Value::Array(_)) if self.len(v)? == mu.len() => reals(self, v)?,
            _ => return Ok(self.g.c(f64::NEG_INFINITY)),
        };
        let mut m = GraphMath(&mut self.g);
        let ok = mvn::valid(&mut m, &mu, &l);
        let lp = mvn::log_density(&mut m, &mu, &l, &x);
        let mut finite = m.boolean(true);
        for &xi in &x {
            let f = m.is_finite(xi);
            finite = m.and(finite, f);
        }
        let ninf = self.g.c(f64::NEG_INFINITY);
        let lp = self.g.select(finite, lp, ninf);
        let nan = self.g.c(f64::NAN);
        Ok(self.g.select(ok, lp, nan))
    }

    /// A value of `v`'s shape with every random number replaced by 0 (for
    /// checking shapes with the interpreter's function).
    fn standin(&mut self, v: &TV, span: Span) -> R<Value> {
        Ok(match v {
            TV::Real(n) => Value::Real(self.g.as_const(*n).unwrap_or(0.0)),
            TV::Int(i) => Value::Int(*i),
            TV::SInt(..) => return self.unsupported(span, "a random Int in linear algebra"),
            TV::Data(d) => d.clone(),
            TV::Array(xs) => Value::array(
                xs.iter()
                    .map(|x| self.standin(x, span))
                    .collect::<R<Vec<_>>>()?,
            ),
            other => {
                return ns(format!(
                    "expected a number or an array, found {}",
                    other.type_name()
                ))
            }
        })
    }
}

impl Tracer<'_> {
    /// Whether the rest of the run, from the state tracing stopped in,
    /// cannot make a choice, an observation, a factor, a condition, a
    /// `do`-fixed choice, nested inference or a world switch, whatever θ
    /// (host function calls count as unknown, hence as effects).
    ///
    /// Tracing follows only paths every θ takes, so it stops at the same
    /// point on every run; if nothing reachable from there is an effect,
    /// every run's density terms are the ones traced so far. A static
    /// over-approximation of what may still run: the code of each frame
    /// from where it resumes (the stopped instruction for the top frame,
    /// the instruction after the call for the others) with both arms of
    /// every branch, plus the whole code of every function that may be
    /// called — a direct callee, a closure built by that code, or a
    /// closure inside a value that code can read (a register it reads, a
    /// global it loads, an intrinsic's state, and their captures and
    /// elements).
    fn rest_is_effect_free(&self) -> bool {
        let mut rest = self.rest();
        let top = self.frames.len().saturating_sub(1);
        for (depth, frame) in self.frames.iter().enumerate() {
            let ok = match frame {
                Frame::Code(f) => {
                    let pc = if depth == top {
                        f.pc.saturating_sub(1)
                    } else {
                        f.pc
                    };
                    match rest.code(f.func, pc) {
                        Some(reads) => reads
                            .iter()
                            .all(|r| f.regs.get(r.index()).is_none_or(|v| rest.tv(v))),
                        None => false,
                    }
                }
                Frame::Native(n) => {
                    rest.tv(&n.f)
                        && rest.tv(&n.xs)
                        && rest.tv(&n.acc)
                        && n.out.iter().all(|v| rest.tv(v))
                }
            };
            if !ok {
                return false;
            }
        }
        if self.native_input.as_ref().is_some_and(|v| !rest.tv(v)) {
            return false;
        }
        while let Some(f) = rest.queue.pop() {
            if rest.code(f, 0).is_none() {
                return false;
            }
        }
        true
    }
}

impl Tracer<'_> {
    fn rest(&self) -> Rest<'_> {
        Rest {
            program: self.program,
            globals: self.globals,
            funcs: vec![false; self.program.funcs.len()],
            queue: Vec::new(),
            globals_read: vec![false; self.globals.len()],
            seen: HashSet::new(),
            regions: HashMap::new(),
        }
    }
}

/// The code that may still run after tracing stopped (see
/// [`Tracer::rest_is_effect_free`]).
struct Rest<'a> {
    program: &'a Program,
    globals: &'a [Value],
    /// Functions that may run, and those whose code is still to check.
    funcs: Vec<bool>,
    queue: Vec<FuncId>,
    globals_read: Vec<bool>,
    /// Compound values already scanned, by address (all stay alive
    /// during the scan, so addresses are not reused).
    seen: HashSet<usize>,
    /// The registers read from `(function, pc)` on, for regions already
    /// found effect-free (deep recursion repeats them).
    regions: HashMap<(FuncId, usize), Arc<[Reg]>>,
}

/// A value whose closures [`Rest`] still has to collect.
enum Pending {
    T(TV),
    V(Value),
}

impl Rest<'_> {
    /// Notes that `f` may run; false for an id the program lacks.
    fn func(&mut self, f: FuncId) -> bool {
        match self.funcs.get_mut(f.index()) {
            Some(seen) => {
                if !*seen {
                    *seen = true;
                    self.queue.push(f);
                }
                true
            }
            None => false,
        }
    }

    /// The registers read by the instructions of `f` reachable from `pc`,
    /// or `None` when one of them may make an effect (or reads a global
    /// holding a value tracing cannot see into).
    fn code(&mut self, f: FuncId, pc: usize) -> Option<Arc<[Reg]>> {
        if let Some(r) = self.regions.get(&(f, pc)) {
            return Some(r.clone());
        }
        let program = self.program;
        let code = &program.funcs.get(f.index())?.code;
        let mut visited = vec![false; code.len()];
        let mut stack = vec![pc];
        let mut reads = Vec::new();
        while let Some(at) = stack.pop() {
            let Some(instr) = code.get(at) else {
                continue;
            };
            if std::mem::replace(&mut visited[at], true) {
                continue;
            }
            // Exhaustive, so that a new instruction must be classified.
            let ok = match instr {
                Instr::Sample { .. }
                | Instr::SampleEdited { .. }
                | Instr::Observe { .. }
                | Instr::Factor { .. }
                | Instr::Condition { .. }
                | Instr::Infer { .. }
                | Instr::World { .. } => false,
                // A host function could return a closure of any function:
                // what it may lead to is unknown.
                Instr::Foreign { .. } => false,
                Instr::Call { callee, .. } => match callee {
                    Callee::Direct(g) => self.func(*g),
                    // The closure is a value read from a register.
                    Callee::Closure(_) => true,
                },
                Instr::Closure { func, .. } => self.func(*func),
                Instr::Global { global, .. } => self.global(global.index()),
                Instr::Const { .. }
                | Instr::Move { .. }
                | Instr::Unary { .. }
                | Instr::Binary { .. }
                | Instr::Prim { .. }
                | Instr::MakeDist { .. }
                | Instr::Array { .. }
                | Instr::Tuple { .. }
                | Instr::Index { .. }
                | Instr::Field { .. }
                | Instr::Intrinsic { .. }
                | Instr::Jump { .. }
                | Instr::Branch { .. }
                | Instr::Return { .. }
                | Instr::Nop => true,
            };
            if !ok {
                return None;
            }
            reads.extend(instr.uses());
            stack.extend(instr.targets().into_iter().map(|t| t as usize));
            if instr.falls_through() {
                stack.push(at + 1);
            }
        }
        reads.sort_unstable();
        reads.dedup();
        let reads: Arc<[Reg]> = reads.into();
        self.regions.insert((f, pc), reads.clone());
        Some(reads)
    }

    fn global(&mut self, g: usize) -> bool {
        match self.globals_read.get_mut(g) {
            Some(true) => true,
            Some(read) => {
                *read = true;
                let globals = self.globals;
                globals
                    .get(g)
                    .is_none_or(|v| self.scan(Pending::V(v.clone())))
            }
            None => false,
        }
    }

    fn tv(&mut self, v: &TV) -> bool {
        self.scan(Pending::T(v.clone()))
    }

    /// Notes the functions of every closure in `v`; false when `v` holds
    /// something whose closures tracing cannot see (a posterior, a
    /// method). Iterative: values may nest deeply.
    fn scan(&mut self, v: Pending) -> bool {
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            match v {
                Pending::T(t) => match t {
                    TV::Unit
                    | TV::Int(_)
                    | TV::Bool(_)
                    | TV::Str(_)
                    | TV::Real(_)
                    | TV::SBool(_)
                    | TV::SInt(..) => {}
                    TV::Array(xs) => {
                        if self.seen.insert(Arc::as_ptr(&xs) as *const u8 as usize) {
                            stack.extend(xs.iter().cloned().map(Pending::T));
                        }
                    }
                    TV::Tuple(xs) => {
                        if self.seen.insert(Arc::as_ptr(&xs) as *const u8 as usize) {
                            stack.extend(xs.iter().cloned().map(Pending::T));
                        }
                    }
                    TV::Closure(c) => {
                        if self.seen.insert(Arc::as_ptr(&c) as *const u8 as usize) {
                            if !self.func(c.0) {
                                return false;
                            }
                            stack.extend(c.1.iter().cloned().map(Pending::T));
                        }
                    }
                    TV::Dist(d) => stack.extend(d.args.iter().cloned().map(Pending::T)),
                    TV::Data(v) => stack.push(Pending::V(v)),
                    TV::Opaque(_) => return false,
                },
                Pending::V(v) => match v {
                    Value::Unit
                    | Value::Bool(_)
                    | Value::Int(_)
                    | Value::Real(_)
                    | Value::Str(_) => {}
                    Value::Array(xs) => {
                        if self.seen.insert(Arc::as_ptr(&xs) as *const u8 as usize) {
                            // Only compound elements can hold closures.
                            stack.extend(
                                xs.iter()
                                    .filter(|x| is_compound(x))
                                    .cloned()
                                    .map(Pending::V),
                            );
                        }
                    }
                    Value::Tuple(xs) => {
                        if self.seen.insert(Arc::as_ptr(&xs) as *const u8 as usize) {
                            stack.extend(
                                xs.iter()
                                    .filter(|x| is_compound(x))
                                    .cloned()
                                    .map(Pending::V),
                            );
                        }
                    }
                    Value::Closure(c) => {
                        if self.seen.insert(Arc::as_ptr(&c) as *const u8 as usize) {
                            if !self.func(c.func) {
                                return false;
                            }
                            stack.extend(c.captures.iter().cloned().map(Pending::V));
                        }
                    }
                    Value::Dist(d) => {
                        if matches!(&*d, DistValue::Posterior(_)) {
                            return false;
                        }
                    }
                    Value::Method(_) => return false,
                },
            }
        }
        true
    }
}

/// The function of the top frame (a code frame while speculating).
fn func_of_top(frames: &[Frame]) -> FuncId {
    match frames.last() {
        Some(Frame::Code(f)) => f.func,
        _ => unreachable!("speculation happens in code frames"),
    }
}

/// Whether an instruction only computes a value in its frame: what the arm
/// of a speculated branch may do.
fn computes_only(instr: &Instr) -> bool {
    match instr {
        Instr::Prim { prim, .. } => *prim != Prim::Print,
        Instr::Const { .. }
        | Instr::Move { .. }
        | Instr::Global { .. }
        | Instr::Closure { .. }
        | Instr::Unary { .. }
        | Instr::Binary { .. }
        | Instr::MakeDist { .. }
        | Instr::Array { .. }
        | Instr::Tuple { .. }
        | Instr::Index { .. }
        | Instr::Field { .. }
        | Instr::Jump { .. }
        | Instr::Branch { .. }
        | Instr::Nop => true,
        _ => false,
    }
}

/// Whether two traced values are the same value (the same nodes): a
/// register an arm did not change.
fn same(a: &TV, b: &TV) -> bool {
    match (a, b) {
        (TV::Unit, TV::Unit) => true,
        (TV::Int(x), TV::Int(y)) => x == y,
        (TV::Bool(x), TV::Bool(y)) => x == y,
        (TV::Str(x), TV::Str(y)) => x == y,
        (TV::Real(x), TV::Real(y)) | (TV::SBool(x), TV::SBool(y)) => x == y,
        (TV::SInt(x, l, h), TV::SInt(y, m, k)) => (x, l, h) == (y, m, k),
        (TV::Array(x), TV::Array(y)) => {
            Arc::ptr_eq(x, y)
                || (x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same(a, b)))
        }
        (TV::Tuple(x), TV::Tuple(y)) => {
            Arc::ptr_eq(x, y)
                || (x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same(a, b)))
        }
        (TV::Data(x), TV::Data(y)) => equal(x, y),
        (TV::Closure(x), TV::Closure(y)) => Arc::ptr_eq(x, y),
        (TV::Dist(x), TV::Dist(y)) => Arc::ptr_eq(x, y),
        (TV::Opaque(x), TV::Opaque(y)) => x == y,
        _ => false,
    }
}

fn is_compound(v: &Value) -> bool {
    !matches!(
        v,
        Value::Unit | Value::Bool(_) | Value::Int(_) | Value::Real(_) | Value::Str(_)
    )
}

/// The real leaves of a state made of reals, arrays and tuples (None for
/// anything else: an Int or Bool in the state makes the iterations differ
/// in more than their values).
fn flatten_tv(_g: &Graph, v: &TV) -> Option<Vec<NodeId>> {
    fn go(v: &TV, out: &mut Vec<NodeId>) -> Option<()> {
        match v {
            TV::Real(n) => out.push(*n),
            TV::Array(xs) => xs.iter().try_for_each(|x| go(x, out))?,
            TV::Tuple(xs) => xs.iter().try_for_each(|x| go(x, out))?,
            _ => return None,
        }
        Some(())
    }
    let mut out = Vec::new();
    go(v, &mut out)?;
    (out.len() <= 64).then_some(out)
}

/// `tyche_dist::special::log_sum_exp` as nodes.
pub(crate) fn log_sum_exp(g: &mut Graph, xs: &[NodeId]) -> NodeId {
    let mut m = g.c(f64::NEG_INFINITY);
    let mut any_nan = g.boolean(false);
    for &x in xs {
        let nan = g.is_nan(x);
        any_nan = g.or(any_nan, nan);
        let gt = g.cmp(Cmp::Gt, x, m);
        m = g.select(gt, x, m);
    }
    let mut s = g.c(-0.0);
    for &x in xs {
        let d = g.sub(x, m);
        let e = g.un(Un::Exp, d);
        s = g.add2(s, e);
    }
    let ls = g.ln(s);
    let r = g.add2(m, ls);
    let am = g.un(Un::Abs, m);
    let inf = g.c(f64::INFINITY);
    let is_inf = g.cmp(Cmp::Eq, am, inf);
    let r = g.select(is_inf, m, r);
    let nan = g.c(f64::NAN);
    g.select(any_nan, nan, r)
}

fn dist_log_prob(d: Option<&Dist>, o: &Outcome) -> f64 {
    d.map_or(f64::NEG_INFINITY, |d| d.log_prob(o))
}

/// The interpreter's structural equality (IEEE on reals).
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Real(x), Value::Real(y)) => x == y,
        (Value::Int(i), Value::Real(y)) | (Value::Real(y), Value::Int(i)) => *i as f64 == *y,
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(x, y)| equal(x, y))
        }
        (Value::Tuple(xs), Value::Tuple(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(x, y)| equal(x, y))
        }
        _ => a == b,
    }
}

fn int_arith(op: BinOp, a: i64, b: i64) -> Result<TV, String> {
    let overflow = || format!("integer overflow in {op:?} of {a} and {b}");
    let r = match op {
        BinOp::Add => a.checked_add(b).ok_or_else(overflow)?,
        BinOp::Sub => a.checked_sub(b).ok_or_else(overflow)?,
        BinOp::Mul => a.checked_mul(b).ok_or_else(overflow)?,
        BinOp::Div | BinOp::Rem if b == 0 => return Err("integer division by zero".into()),
        BinOp::Div => a.checked_div(b).ok_or_else(overflow)?,
        BinOp::Rem => a.checked_rem(b).ok_or_else(overflow)?,
        BinOp::Pow => {
            if b < 0 {
                return Err(format!("negative exponent {b} in integer power"));
            }
            let e = u32::try_from(b).map_err(|_| overflow())?;
            a.checked_pow(e).ok_or_else(overflow)?
        }
        BinOp::Eq => return Ok(TV::Bool(a == b)),
        BinOp::Ne => return Ok(TV::Bool(a != b)),
        BinOp::Lt => return Ok(TV::Bool(a < b)),
        BinOp::Le => return Ok(TV::Bool(a <= b)),
        BinOp::Gt => return Ok(TV::Bool(a > b)),
        BinOp::Ge => return Ok(TV::Bool(a >= b)),
    };
    Ok(TV::Int(r))
}
