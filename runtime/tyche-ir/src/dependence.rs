//! The dependency graph of a model, computed statically from the IR by a
//! fixed-point taint analysis (drawn by `tyche graph`):
//! fixed-point taint analysis:
//!
//! - **Nodes** are the model's random choices (one per choice *name*, so
//!   every occurrence `z[0]`, `z[1]`, … of a name is one node), its
//!   observations (`observe` statements and choices observed by
//!   `condition`), its `factor`s and `condition(b)`s, and its return value.
//! - **Edges** are data flow: a choice feeds a site when the register that
//!   holds the choice's value flows — through moves, arithmetic, arrays,
//!   tuples, closures' captures, call arguments and results, `map`/`fold`
//!   and friends — into the site's distribution (its parameters) or its
//!   observed value. Implicit flows count as data flow: a register written
//!   under `if c { … }` depends on `c`. A site that merely *executes* under
//!   a branch on `c` (or in a function called there) gets a dashed
//!   **control** edge from `c` instead, e.g. the coin that decides whether
//!   a recursion goes on.
//! - **Surgery** shows: a choice intervened on (`do`, for every
//!   occurrence) is a box `x := value` with no incoming edges — the wires
//!   `do` cuts are gone; a choice observed by `condition` is shaded and
//!   labelled with its value; a choice edited on some occurrences only
//!   (`z[1] := 7.0`) is dashed and lists its edits.
//! - **Nested inference** (`infer(M, m)` inside the model) is a cluster of
//!   its own: the inner model's choices are a different world, and the
//!   posterior it returns is a node the outer model's sites can depend on.
//! - **Counterfactuals** (`counterfactual(m, …)`, `--counterfactual`) are
//!   drawn as a twin network: the code after `Instr::World {
//!   counterfactual: true }` runs in a cluster "counterfactual world",
//!   and dotted undirected edges join each choice to its factual twin
//!   (they share their exogenous noise).
//!
//! The analysis is flow-insensitive per register (registers are mutable
//! slots), context-insensitive per function (one summary per function and
//! world), tracks which functions a register may hold (closure values)
//! and keeps tuple components apart, so it over-approximates: every real
//! dependency is an edge, and a few edges may be spurious (array elements
//! are not told apart, for instance).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::{
    Callee, Edit, EditKind, FuncId, GlobalId, GlobalKind, Instr, Intrinsic, NameId, Program, Reg,
    SiteId, SiteKind,
};

/// A global's value read off its initialiser, when that is a literal
/// (possibly negated); otherwise `…`.
pub fn static_value(program: &Program, g: GlobalId) -> String {
    let Some(global) = program.globals.get(g.index()) else {
        return "…".into();
    };
    let GlobalKind::Const { init } = global.kind else {
        return "…".into();
    };
    let code = &program.func(init).code;
    let Some(Instr::Return { value }) = code
        .iter()
        .rev()
        .find(|i| matches!(i, Instr::Return { .. }))
    else {
        return "…".into();
    };
    let def = |r: Reg| code.iter().rev().find(|i| i.dst() == Some(r));
    match def(*value) {
        Some(Instr::Const { value, .. }) => value.to_string(),
        Some(Instr::Unary {
            op: crate::UnOp::Neg,
            arg,
            ..
        }) => match def(*arg) {
            Some(Instr::Const { value, .. }) => format!("-{value}"),
            _ => "…".into(),
        },
        _ => "…".into(),
    }
}

// ---------------------------------------------------------------------
// The graph
// ---------------------------------------------------------------------

/// How surgery left a random choice (over all its static sites).
#[derive(Clone, Debug, PartialEq)]
pub enum ChoiceStatus {
    /// Drawn from its distribution.
    Random,
    /// `do` on every occurrence: holds the value(s), no incoming edges.
    Intervened(Vec<String>),
    /// `condition` on every occurrence: observed at the value(s).
    Observed(Vec<String>),
    /// Edited on some occurrences only (`z[1] := 7.0`, `z[2] = true`).
    Partial(Vec<String>),
}

/// What a node stands for.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// A random choice, by name.
    Choice { name: String, status: ChoiceStatus },
    /// An `observe(D, v)` statement (its site name, `observe@L:C`).
    Observe { name: String },
    /// A `factor(w)` statement.
    Factor { name: String },
    /// A `condition(b)` statement.
    Condition { name: String },
    /// The value the model (or a nested model) returns.
    Return,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The world (0: the model; others: models run by nested `infer`).
    pub world: usize,
    pub kind: NodeKind,
}

impl Node {
    /// The choice name or site name (`return` for the return value).
    pub fn name(&self) -> &str {
        match &self.kind {
            NodeKind::Choice { name, .. }
            | NodeKind::Observe { name }
            | NodeKind::Factor { name }
            | NodeKind::Condition { name } => name,
            NodeKind::Return => "return",
        }
    }
}

/// A dependency between two nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    /// `from` feeds `to`'s distribution or observed value (solid).
    Data,
    /// `from` decides whether `to` runs at all (dashed).
    Control,
    /// The same choice in the factual and the counterfactual world: they
    /// share their exogenous noise (dotted, undirected).
    Noise,
}

/// A set of nodes drawn together: the model itself (world 0), a model run
/// by nested inference, or the counterfactual world of a twin network.
#[derive(Clone, Debug, PartialEq)]
pub struct World {
    pub label: String,
    pub parent: Option<usize>,
    pub kind: WorldKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorldKind {
    Model,
    Infer,
    Counterfactual,
}

/// The dependency graph of a model.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub worlds: Vec<World>,
}

impl Graph {
    /// The node of the choice (or site) `name` in world 0.
    pub fn node(&self, name: &str) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.world == 0 && n.name() == name)
    }

    /// Names of the nodes with a data or control edge into `name` (world 0).
    pub fn parents(&self, name: &str) -> BTreeSet<String> {
        let Some(to) = self.node(name) else {
            return BTreeSet::new();
        };
        self.edges
            .iter()
            .filter(|e| e.to == to && e.kind != EdgeKind::Noise)
            .map(|e| self.nodes[e.from].name().to_string())
            .collect()
    }

    /// Names of the nodes with a data (solid) edge into `name` (world 0).
    pub fn data_parents(&self, name: &str) -> BTreeSet<String> {
        let Some(to) = self.node(name) else {
            return BTreeSet::new();
        };
        self.edges
            .iter()
            .filter(|e| e.to == to && e.kind == EdgeKind::Data)
            .map(|e| self.nodes[e.from].name().to_string())
            .collect()
    }
}

// ---------------------------------------------------------------------
// The analysis
// ---------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Choice(usize, NameId),
    Site(usize, SiteId),
    Return(usize),
}

/// What a register may hold: values derived from these nodes, closures
/// of these functions, and — for tuples (and arrays of tuples) — the same
/// per component, so `let (a, b) = f();` keeps `a` and `b` apart.
/// `taint` and `funcs` always summarise the whole value, components
/// included.
#[derive(Clone, Debug, Default, PartialEq)]
struct Val {
    taint: BTreeSet<usize>,
    funcs: BTreeSet<FuncId>,
    shape: Shape,
}

#[derive(Clone, Debug, Default, PartialEq)]
enum Shape {
    /// No tuple seen (yet): a component is the whole value.
    #[default]
    Flat,
    /// A tuple (or an array of tuples) with these components.
    Tuple(Vec<Val>),
    /// Tuples of different arities met (polymorphic code): components are
    /// not tracked.
    Mixed,
}

/// Tuples nested deeper than this are not tracked per component.
const MAX_SHAPE_DEPTH: usize = 6;

impl Val {
    /// Joins `other` into `self`; whether anything grew.
    fn join(&mut self, other: &Val) -> bool {
        let (a, b) = (self.taint.len(), self.funcs.len());
        self.taint.extend(other.taint.iter().copied());
        self.funcs.extend(other.funcs.iter().copied());
        let grew = self.taint.len() != a || self.funcs.len() != b;
        let shape_grew = match (&mut self.shape, &other.shape) {
            (_, Shape::Flat) | (Shape::Mixed, _) => false,
            (mine @ Shape::Flat, theirs) => {
                *mine = theirs.clone();
                true
            }
            (mine @ Shape::Tuple(_), Shape::Mixed) => {
                *mine = Shape::Mixed;
                true
            }
            (Shape::Tuple(xs), Shape::Tuple(ys)) if xs.len() == ys.len() => {
                let mut g = false;
                for (x, y) in xs.iter_mut().zip(ys) {
                    g |= x.join(y);
                }
                g
            }
            (mine @ Shape::Tuple(_), Shape::Tuple(_)) => {
                *mine = Shape::Mixed;
                true
            }
        };
        grew || shape_grew
    }

    fn taint(t: &BTreeSet<usize>) -> Val {
        Val {
            taint: t.clone(),
            ..Val::default()
        }
    }

    /// Adds `t` to the value and every component of it (an implicit flow
    /// taints all of a value).
    fn deep(&mut self, t: &BTreeSet<usize>) {
        if t.is_empty() {
            return;
        }
        self.taint.extend(t.iter().copied());
        if let Shape::Tuple(xs) = &mut self.shape {
            for x in xs {
                x.deep(t);
            }
        }
    }

    /// A tuple of these components.
    fn tuple(elems: Vec<Val>) -> Val {
        let mut v = Val::default();
        for e in &elems {
            v.taint.extend(e.taint.iter().copied());
            v.funcs.extend(e.funcs.iter().copied());
        }
        v.shape = if elems.iter().any(|e| e.depth() >= MAX_SHAPE_DEPTH) {
            Shape::Mixed
        } else {
            Shape::Tuple(elems)
        };
        v
    }

    fn depth(&self) -> usize {
        match &self.shape {
            Shape::Tuple(xs) => 1 + xs.iter().map(Val::depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// Component `i` (the whole value when components are not tracked).
    fn field(&self, i: usize) -> Val {
        match &self.shape {
            Shape::Tuple(xs) if i < xs.len() => xs[i].clone(),
            _ => Val {
                taint: self.taint.clone(),
                funcs: self.funcs.clone(),
                shape: Shape::Mixed,
            },
        }
    }
}

/// The summary of one function in one world.
struct State {
    world: usize,
    func: FuncId,
    regs: Vec<Val>,
    ret: Val,
    /// Nodes deciding whether this function runs at all.
    ctx: BTreeSet<usize>,
}

struct Analysis<'p> {
    program: &'p Program,
    states: Vec<State>,
    index: HashMap<(usize, FuncId), usize>,
    /// Captured values per function (shared by every world).
    captures: HashMap<FuncId, Vec<Val>>,
    /// Per function: for each instruction, the branches it is control
    /// dependent on, and those whose outcome its result carries.
    cdeps: HashMap<FuncId, Arc<Control>>,
    keys: Vec<Key>,
    key_index: HashMap<Key, usize>,
    worlds: Vec<World>,
    /// The world an `infer` or a `World { counterfactual: true }` opens,
    /// by its instruction.
    world_of: HashMap<(FuncId, u32), usize>,
    /// Entry functions of each world.
    entries: Vec<BTreeSet<FuncId>>,
    changed: bool,
}

/// Computes the dependency graph of the model `root` of `program`.
/// `value` renders the value of a surgery edit's global.
pub fn analyze(program: &Program, root: FuncId, value: &dyn Fn(GlobalId) -> String) -> Graph {
    let mut a = Analysis {
        program,
        states: Vec::new(),
        index: HashMap::new(),
        captures: HashMap::new(),
        cdeps: HashMap::new(),
        keys: Vec::new(),
        key_index: HashMap::new(),
        worlds: vec![World {
            label: program.func(root).name.clone(),
            parent: None,
            kind: WorldKind::Model,
        }],
        world_of: HashMap::new(),
        entries: vec![BTreeSet::from([root])],
        changed: true,
    };
    a.state(0, root);
    a.node(Key::Return(0));
    // Every transfer only grows finite sets, so this terminates.
    while a.changed {
        a.changed = false;
        let mut i = 0;
        while i < a.states.len() {
            a.step(i);
            i += 1;
        }
    }
    a.finish(value)
}

impl<'p> Analysis<'p> {
    fn node(&mut self, key: Key) -> usize {
        if let Some(&i) = self.key_index.get(&key) {
            return i;
        }
        self.keys.push(key);
        self.key_index.insert(key, self.keys.len() - 1);
        self.keys.len() - 1
    }

    fn state(&mut self, world: usize, func: FuncId) -> usize {
        if let Some(&i) = self.index.get(&(world, func)) {
            return i;
        }
        let f = self.program.func(func);
        self.states.push(State {
            world,
            func,
            regs: vec![Val::default(); f.regs as usize],
            ret: Val::default(),
            ctx: BTreeSet::new(),
        });
        self.index.insert((world, func), self.states.len() - 1);
        self.cdeps
            .entry(func)
            .or_insert_with(|| Arc::new(Control::of(f)));
        self.changed = true;
        self.states.len() - 1
    }

    fn join_reg(&mut self, s: usize, r: Reg, v: &Val) {
        if let Some(slot) = self.states[s].regs.get_mut(r.index()) {
            if slot.join(v) {
                self.changed = true;
            }
        }
    }

    fn join_ret(&mut self, s: usize, v: &Val) {
        if self.states[s].ret.join(v) {
            self.changed = true;
        }
    }

    fn join_ctx(&mut self, s: usize, t: &BTreeSet<usize>) {
        let ctx = &mut self.states[s].ctx;
        let n = ctx.len();
        ctx.extend(t.iter().copied());
        if ctx.len() != n {
            self.changed = true;
        }
    }

    fn reg(&self, s: usize, r: Reg) -> Val {
        self.states[s]
            .regs
            .get(r.index())
            .cloned()
            .unwrap_or_default()
    }

    /// Nodes that decide whether instruction `pc` of state `s` runs.
    fn ctrl(&self, s: usize, pc: usize) -> BTreeSet<usize> {
        let mut t = self.branch_taint(s, &self.cdeps[&self.states[s].func].deps[pc]);
        t.extend(self.states[s].ctx.iter().copied());
        t
    }

    /// Nodes whose values decide which value instruction `pc` writes (an
    /// implicit flow: the register is written under a branch and read
    /// after it).
    fn implicit(&self, s: usize, pc: usize) -> Val {
        Val::taint(&self.branch_taint(s, &self.cdeps[&self.states[s].func].escapes[pc]))
    }

    fn branch_taint(&self, s: usize, branches: &[u32]) -> BTreeSet<usize> {
        let st = &self.states[s];
        let mut t = BTreeSet::new();
        let code = &self.program.func(st.func).code;
        for &b in branches {
            if let Some(Instr::Branch { cond, .. }) = code.get(b as usize) {
                if let Some(v) = st.regs.get(cond.index()) {
                    t.extend(v.taint.iter().copied());
                }
            }
        }
        t
    }

    /// Binds a call's arguments and context in callee `g` (world `w`);
    /// returns the callee's state.
    fn enter(&mut self, w: usize, g: FuncId, args: &[Val], ctx: &BTreeSet<usize>) -> usize {
        let t = self.state(w, g);
        let params = self.program.func(g).params as usize;
        if args.len() == params {
            for (i, v) in args.iter().enumerate() {
                self.join_reg(t, Reg(i as u32), v);
            }
        }
        self.join_ctx(t, ctx);
        t
    }

    /// The world opened by the instruction at `pc` of `func`.
    fn child_world(&mut self, func: FuncId, pc: u32, parent: usize, kind: WorldKind) -> usize {
        if let Some(&w) = self.world_of.get(&(func, pc)) {
            return w;
        }
        self.worlds.push(World {
            label: String::new(),
            parent: Some(parent),
            kind,
        });
        self.entries.push(BTreeSet::new());
        let w = self.worlds.len() - 1;
        self.world_of.insert((func, pc), w);
        if kind != WorldKind::Counterfactual {
            self.node(Key::Return(w));
        }
        self.changed = true;
        w
    }

    fn step(&mut self, s: usize) {
        let (home, func) = (self.states[s].world, self.states[s].func);
        let program = self.program;
        let f = program.func(func);
        // Captured values arrive through the closures that were built.
        if let Some(caps) = self.captures.get(&func).cloned() {
            for (i, v) in caps.iter().enumerate() {
                self.join_reg(s, Reg(f.params + i as u32), v);
            }
        }
        let switches = Arc::clone(&self.cdeps[&func]);
        for (pc, instr) in f.code.iter().enumerate() {
            let ctrl = self.ctrl(s, pc);
            let implicit = self.implicit(s, pc);
            // After `World { counterfactual: true }` (a twin network's
            // second half), calls run the counterfactual world.
            let world = match switches.world_switch[pc] {
                Some(at) => self.child_world(func, at, home, WorldKind::Counterfactual),
                None => home,
            };
            match instr {
                Instr::Sample { dst, site, .. } | Instr::SampleEdited { dst, site, .. } => {
                    let n = self.node(Key::Choice(home, program.site(*site).name));
                    self.join_reg(
                        s,
                        *dst,
                        &Val {
                            taint: BTreeSet::from([n]),
                            ..Val::default()
                        },
                    );
                }
                Instr::Observe { site, .. }
                | Instr::Factor { site, .. }
                | Instr::Condition { site, .. } => {
                    self.node(Key::Site(home, *site));
                }
                Instr::Closure {
                    dst,
                    func: g,
                    captures,
                } => {
                    let mut v = implicit.clone();
                    v.funcs.insert(*g);
                    self.join_reg(s, *dst, &v);
                    let vals: Vec<Val> = captures.iter().map(|r| self.reg(s, *r)).collect();
                    let entry = self
                        .captures
                        .entry(*g)
                        .or_insert_with(|| vec![Val::default(); vals.len()]);
                    for (slot, v) in entry.iter_mut().zip(&vals) {
                        if slot.join(v) {
                            self.changed = true;
                        }
                    }
                }
                Instr::Move { dst, src } => {
                    let mut v = self.reg(s, *src);
                    v.deep(&implicit.taint);
                    self.join_reg(s, *dst, &v);
                }
                Instr::Array { dst, elems } => {
                    // An array is summarised by its elements' join.
                    let mut v = Val::default();
                    for e in elems {
                        v.join(&self.reg(s, *e));
                    }
                    v.deep(&implicit.taint);
                    self.join_reg(s, *dst, &v);
                }
                Instr::Tuple { dst, elems } => {
                    let mut v = Val::tuple(elems.iter().map(|e| self.reg(s, *e)).collect());
                    v.deep(&implicit.taint);
                    self.join_reg(s, *dst, &v);
                }
                Instr::Index { dst, array, index } => {
                    let mut v = self.reg(s, *array);
                    v.deep(&self.reg(s, *index).taint);
                    v.deep(&implicit.taint);
                    self.join_reg(s, *dst, &v);
                }
                Instr::Field { dst, tuple, field } => {
                    let mut v = self.reg(s, *tuple).field(*field as usize);
                    v.deep(&implicit.taint);
                    self.join_reg(s, *dst, &v);
                }
                Instr::Call {
                    dst,
                    callee,
                    args,
                    tail,
                } => {
                    let argv: Vec<Val> = args.iter().map(|r| self.reg(s, *r)).collect();
                    let (targets, mut cctx) = match callee {
                        Callee::Direct(g) => (vec![*g], ctrl.clone()),
                        Callee::Closure(r) => {
                            let v = self.reg(s, *r);
                            let mut c = ctrl.clone();
                            c.extend(v.taint.iter().copied());
                            (v.funcs.into_iter().collect(), c)
                        }
                    };
                    cctx.extend(self.states[s].ctx.iter().copied());
                    let mut result = Val::default();
                    for g in targets {
                        let t = self.enter(world, g, &argv, &cctx);
                        result.join(&self.states[t].ret.clone());
                    }
                    result.deep(&implicit.taint);
                    if *tail {
                        self.join_ret(s, &result);
                    } else {
                        self.join_reg(s, *dst, &result);
                    }
                }
                Instr::Intrinsic { dst, op, args } => {
                    let Some(fr) = args.last() else { continue };
                    let fv = self.reg(s, *fr);
                    let first = args.first().map(|r| self.reg(s, *r)).unwrap_or_default();
                    let init = if args.len() == 3 {
                        self.reg(s, args[1])
                    } else {
                        Val::default()
                    };
                    let mut cctx = ctrl.clone();
                    cctx.extend(fv.taint.iter().copied());
                    if *op == Intrinsic::Repeat {
                        cctx.extend(first.taint.iter().copied());
                    }
                    let mut result = Val::default();
                    for g in fv.funcs.iter().copied().collect::<Vec<_>>() {
                        let t = self.state(world, g);
                        let ret = self.states[t].ret.clone();
                        let argv: Vec<Val> = match op {
                            Intrinsic::Map | Intrinsic::Filter => vec![first.clone()],
                            Intrinsic::Fold | Intrinsic::Scan => {
                                let mut acc = init.clone();
                                acc.join(&ret);
                                vec![acc, first.clone()]
                            }
                            Intrinsic::Repeat => vec![],
                        };
                        self.enter(world, g, &argv, &cctx);
                        match op {
                            Intrinsic::Filter => result.taint.extend(ret.taint.iter().copied()),
                            _ => {
                                result.join(&ret);
                            }
                        }
                    }
                    match op {
                        Intrinsic::Filter => {
                            result.join(&first);
                        }
                        Intrinsic::Fold | Intrinsic::Scan => {
                            result.join(&init);
                        }
                        Intrinsic::Map | Intrinsic::Repeat => {}
                    }
                    result.deep(&implicit.taint);
                    self.join_reg(s, *dst, &result);
                }
                Instr::Return { value } => {
                    let mut v = self.reg(s, *value);
                    v.deep(&implicit.taint);
                    self.join_ret(s, &v);
                }
                Instr::Infer { dst, method, model } => {
                    let w = self.child_world(func, pc as u32, world, WorldKind::Infer);
                    let mv = self.reg(s, *model);
                    let mut result = implicit.clone();
                    result.taint.extend(self.reg(s, *method).taint);
                    result.taint.extend(mv.taint.iter().copied());
                    result.taint.insert(self.node(Key::Return(w)));
                    for g in mv.funcs.iter().copied() {
                        if self.entries[w].insert(g) {
                            self.changed = true;
                        }
                        self.enter(w, g, &[], &BTreeSet::new());
                    }
                    self.join_reg(s, *dst, &result);
                }
                other => {
                    // Everything else computes its result from its operands
                    // (constants, globals, arithmetic, built-ins, dists).
                    if let Some(dst) = other.dst() {
                        let mut v = implicit.clone();
                        for u in other.uses() {
                            v.taint.extend(self.reg(s, u).taint);
                        }
                        self.join_reg(s, dst, &v);
                    }
                }
            }
        }
    }

    fn finish(mut self, value: &dyn Fn(GlobalId) -> String) -> Graph {
        let program = self.program;
        let mut edges: BTreeSet<Edge> = BTreeSet::new();
        // Per choice node: the status of each static site of it.
        let mut statuses: BTreeMap<usize, Vec<SiteStatus>> = BTreeMap::new();
        for s in 0..self.states.len() {
            let (world, func) = (self.states[s].world, self.states[s].func);
            let f = program.func(func);
            for (pc, instr) in f.code.iter().enumerate() {
                let ctrl = self.ctrl(s, pc);
                let (to, data, cut) = match instr {
                    Instr::Sample { site, dist, .. } => {
                        let to = self.node(Key::Choice(world, program.site(*site).name));
                        statuses.entry(to).or_default().push(SiteStatus::Random);
                        (to, self.reg(s, *dist).taint, false)
                    }
                    Instr::SampleEdited {
                        site, dist, edits, ..
                    } => {
                        let to = self.node(Key::Choice(world, program.site(*site).name));
                        let status = classify(edits);
                        let cut = matches!(status, SiteStatus::All(EditKind::Do, _));
                        statuses.entry(to).or_default().push(status);
                        (to, self.reg(s, *dist).taint, cut)
                    }
                    Instr::Observe { site, dist, value } => {
                        let to = self.node(Key::Site(world, *site));
                        let mut t = self.reg(s, *dist).taint;
                        t.extend(self.reg(s, *value).taint);
                        (to, t, false)
                    }
                    Instr::Factor {
                        site, weight: r, ..
                    }
                    | Instr::Condition { site, cond: r } => (
                        self.node(Key::Site(world, *site)),
                        self.reg(s, *r).taint,
                        false,
                    ),
                    _ => continue,
                };
                if cut {
                    continue;
                }
                for &from in &data {
                    edges.insert(Edge {
                        from,
                        to,
                        kind: EdgeKind::Data,
                    });
                }
                for &from in ctrl.difference(&data) {
                    edges.insert(Edge {
                        from,
                        to,
                        kind: EdgeKind::Control,
                    });
                }
            }
        }
        // Return values.
        for w in 0..self.worlds.len() {
            match self.worlds[w].kind {
                WorldKind::Model => {
                    self.worlds[0].label = model_label(&self.worlds[0].label);
                }
                WorldKind::Infer => {
                    let names: Vec<String> = self.entries[w]
                        .iter()
                        .map(|g| model_label(&program.func(*g).name))
                        .collect();
                    self.worlds[w].label = format!("infer({})", names.join(" | "));
                }
                WorldKind::Counterfactual => {
                    self.worlds[w].label = "counterfactual world".into();
                    continue;
                }
            }
            let to = self.node(Key::Return(w));
            let mut data = BTreeSet::new();
            for g in self.entries[w].clone() {
                if let Some(&s) = self.index.get(&(w, g)) {
                    data.extend(self.states[s].ret.taint.iter().copied());
                }
            }
            for from in data {
                edges.insert(Edge {
                    from,
                    to,
                    kind: EdgeKind::Data,
                });
            }
        }
        // Twin networks: a choice of the counterfactual world shares its
        // noise with the same choice of the factual one.
        for (i, key) in self.keys.clone().into_iter().enumerate() {
            let Key::Choice(w, name) = key else { continue };
            let Some(parent) = self.worlds[w]
                .parent
                .filter(|_| self.worlds[w].kind == WorldKind::Counterfactual)
            else {
                continue;
            };
            if let Some(&f) = self.key_index.get(&Key::Choice(parent, name)) {
                edges.insert(Edge {
                    from: f,
                    to: i,
                    kind: EdgeKind::Noise,
                });
            }
        }
        // A fully intervened choice has no incoming edges at all, even
        // when another site of the same name would have had some.
        let mut nodes = Vec::with_capacity(self.keys.len());
        for (i, key) in self.keys.iter().enumerate() {
            let node = match *key {
                Key::Choice(world, name) => {
                    let status =
                        choice_status(statuses.get(&i).map(|v| v.as_slice()).unwrap_or(&[]), value);
                    Node {
                        world,
                        kind: NodeKind::Choice {
                            name: program.name(name).to_string(),
                            status,
                        },
                    }
                }
                Key::Site(world, site) => {
                    let info = program.site(site);
                    let name = program.name(info.name).to_string();
                    let kind = match info.kind {
                        SiteKind::Observe => NodeKind::Observe { name },
                        SiteKind::Factor => NodeKind::Factor { name },
                        SiteKind::Condition => NodeKind::Condition { name },
                        SiteKind::Sample => NodeKind::Choice {
                            name,
                            status: ChoiceStatus::Random,
                        },
                    };
                    Node { world, kind }
                }
                Key::Return(world) => Node {
                    world,
                    kind: NodeKind::Return,
                },
            };
            nodes.push(node);
        }
        let intervened: BTreeSet<usize> = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                matches!(
                    n.kind,
                    NodeKind::Choice {
                        status: ChoiceStatus::Intervened(_),
                        ..
                    }
                )
            })
            .map(|(i, _)| i)
            .collect();
        let cut = |e: &Edge| {
            intervened.contains(&e.to)
                || (e.kind == EdgeKind::Noise && intervened.contains(&e.from))
        };
        edges.retain(|e| !cut(e));
        // Observation sites of the same name in one world (a site copied
        // by surgery, say) are one node; renumber in a stable order:
        // by world, then choices before other sites, then name.
        let mut order: Vec<usize> = (0..nodes.len()).collect();
        let rank = |n: &Node| match n.kind {
            NodeKind::Choice { .. } => 0,
            NodeKind::Observe { .. } | NodeKind::Factor { .. } | NodeKind::Condition { .. } => 1,
            NodeKind::Return => 2,
        };
        order.sort_by(|&a, &b| {
            let (na, nb) = (&nodes[a], &nodes[b]);
            (na.world, rank(na), na.name())
                .cmp(&(nb.world, rank(nb), nb.name()))
                .then(a.cmp(&b))
        });
        let mut new_index = vec![0; nodes.len()];
        let mut out_nodes: Vec<Node> = Vec::new();
        for &old in &order {
            let n = &nodes[old];
            match out_nodes.iter().position(|m| m == n) {
                Some(j) => new_index[old] = j,
                None => {
                    new_index[old] = out_nodes.len();
                    out_nodes.push(n.clone());
                }
            }
        }
        let edges: BTreeSet<Edge> = edges
            .into_iter()
            .map(|e| Edge {
                from: new_index[e.from],
                to: new_index[e.to],
                kind: e.kind,
            })
            .collect();
        // A data edge makes a control edge between the same nodes redundant.
        let edges: Vec<Edge> = edges
            .iter()
            .copied()
            .filter(|e| {
                e.kind != EdgeKind::Control
                    || !edges.contains(&Edge {
                        kind: EdgeKind::Data,
                        ..*e
                    })
            })
            .collect();
        Graph {
            nodes: out_nodes,
            edges,
            worlds: self.worlds,
        }
    }
}

/// How one static sample site was edited.
#[derive(Clone, Debug, PartialEq)]
enum SiteStatus {
    Random,
    /// Every occurrence edited the same way (the value's global).
    All(EditKind, GlobalId),
    /// Some occurrences edited: (occurrence or all, kind, value).
    Some(Vec<(Option<u32>, EditKind, GlobalId)>),
}

/// The first matching edit applies (see `Instr::SampleEdited`): a site is
/// wholly edited by kind K when an all-occurrence edit of kind K comes
/// before any edit of another kind.
fn classify(edits: &[Edit]) -> SiteStatus {
    for (i, e) in edits.iter().enumerate() {
        if e.index.is_none() {
            if edits[..i].iter().all(|p| p.kind == e.kind) {
                return SiteStatus::All(e.kind, e.value);
            }
            break;
        }
    }
    // The edits that can apply: indexed ones not shadowed by an earlier
    // edit of the same occurrence, up to the first all-occurrence edit.
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for e in edits {
        match e.index {
            Some(i) => {
                if seen.insert(i) {
                    out.push((Some(i), e.kind, e.value));
                }
            }
            None => {
                out.push((None, e.kind, e.value));
                break;
            }
        }
    }
    if out.is_empty() {
        SiteStatus::Random
    } else {
        SiteStatus::Some(out)
    }
}

fn choice_status(sites: &[SiteStatus], value: &dyn Fn(GlobalId) -> String) -> ChoiceStatus {
    let dedup = |mut v: Vec<String>| {
        let mut seen = BTreeSet::new();
        v.retain(|x| seen.insert(x.clone()));
        v
    };
    let all_of = |kind: EditKind| -> Option<Vec<String>> {
        if sites.is_empty() {
            return None;
        }
        sites
            .iter()
            .map(|s| match s {
                SiteStatus::All(k, g) if *k == kind => Some(value(*g)),
                _ => None,
            })
            .collect()
    };
    if let Some(vs) = all_of(EditKind::Do) {
        return ChoiceStatus::Intervened(dedup(vs));
    }
    if let Some(vs) = all_of(EditKind::Observe) {
        return ChoiceStatus::Observed(dedup(vs));
    }
    let mut notes = Vec::new();
    for s in sites {
        let edits: Vec<(Option<u32>, EditKind, GlobalId)> = match s {
            SiteStatus::Random => continue,
            SiteStatus::All(k, g) => vec![(None, *k, *g)],
            SiteStatus::Some(es) => es.clone(),
        };
        for (i, k, g) in edits {
            let at = i.map(|i| format!("[{i}]")).unwrap_or_else(|| "[*]".into());
            let op = if k == EditKind::Do { ":=" } else { "=" };
            notes.push(format!("{at} {op} {}", value(g)));
        }
    }
    if notes.is_empty() {
        ChoiceStatus::Random
    } else {
        ChoiceStatus::Partial(dedup(notes))
    }
}

/// `full$do$condition` → `condition(do(full))`; `m$lambda@3:5` → `lambda@3:5`.
pub fn model_label(name: &str) -> String {
    let mut parts = name.split('$');
    let mut label = parts.next().unwrap_or("").to_string();
    for p in parts {
        match p {
            "do" | "condition" | "counterfactual" => label = format!("{p}({label})"),
            "world" => {}
            other => label = other.to_string(),
        }
    }
    label
}

/// For each instruction, the branches (instruction indices) it is control
/// dependent on: `i` depends on branch `b` when one of `b`'s successors
/// leads to `i` on every path while the other need not (Ferrante, Ottenstein
/// and Warren), computed from the post-dominator tree (Cooper, Harvey and
/// Kennedy's algorithm on the reversed graph).
fn control_dependences(f: &crate::Function) -> Vec<Vec<u32>> {
    let n = f.code.len();
    let exit = n;
    let succ: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            let instr = &f.code[i];
            let mut s: Vec<usize> = instr
                .targets()
                .into_iter()
                .map(|t| (t as usize).min(exit))
                .collect();
            if instr.falls_through() {
                s.push((i + 1).min(exit));
            }
            if s.is_empty() {
                s.push(exit);
            }
            s.dedup();
            s
        })
        .collect();
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); n + 1];
    for (i, ss) in succ.iter().enumerate() {
        for &s in ss {
            pred[s].push(i);
        }
    }
    // Post-order of a DFS from the exit over reversed edges (iterative).
    const NONE: usize = usize::MAX;
    let mut post = vec![NONE; n + 1];
    let mut order = Vec::with_capacity(n + 1);
    let mut visited = vec![false; n + 1];
    let mut stack: Vec<(usize, usize)> = vec![(exit, 0)];
    visited[exit] = true;
    while let Some(top) = stack.last_mut() {
        let (v, k) = *top;
        if k < pred[v].len() {
            let p = pred[v][k];
            top.1 += 1;
            if !visited[p] {
                visited[p] = true;
                stack.push((p, 0));
            }
        } else {
            post[v] = order.len();
            order.push(v);
            stack.pop();
        }
    }
    let mut ipdom = vec![NONE; n + 1];
    ipdom[exit] = exit;
    let mut changed = true;
    while changed {
        changed = false;
        for &v in order.iter().rev() {
            if v == exit {
                continue;
            }
            let mut new = NONE;
            for &s in &succ[v] {
                if ipdom[s] == NONE {
                    continue;
                }
                new = if new == NONE {
                    s
                } else {
                    let (mut a, mut b) = (new, s);
                    while a != b {
                        while post[a] < post[b] {
                            a = ipdom[a];
                        }
                        while post[b] < post[a] {
                            b = ipdom[b];
                        }
                    }
                    a
                };
            }
            if new != NONE && ipdom[v] != new {
                ipdom[v] = new;
                changed = true;
            }
        }
    }
    let mut deps: Vec<Vec<u32>> = vec![Vec::new(); n];
    let forward_from = |start: usize, deps: &mut Vec<Vec<u32>>, b: usize| {
        // Conservative for code that never reaches the exit: everything
        // reachable from `start` depends on `b`.
        let mut seen = vec![false; n + 1];
        let mut stack = vec![start];
        while let Some(v) = stack.pop() {
            if v >= n || std::mem::replace(&mut seen[v], true) {
                continue;
            }
            deps[v].push(b as u32);
            stack.extend(succ[v].iter().copied());
        }
    };
    for b in 0..n {
        if !matches!(f.code[b], Instr::Branch { .. }) || succ[b].len() < 2 {
            continue;
        }
        let stop = ipdom[b];
        for &s in &succ[b] {
            if stop == NONE {
                forward_from(s, &mut deps, b);
                continue;
            }
            let mut x = s;
            while x != stop && x < n {
                if ipdom[x] == NONE {
                    forward_from(x, &mut deps, b);
                    break;
                }
                deps[x].push(b as u32);
                x = ipdom[x];
            }
        }
    }
    for d in &mut deps {
        d.sort_unstable();
        d.dedup();
    }
    deps
}

/// Control structure of one function.
struct Control {
    /// For each instruction, the branches it is control dependent on.
    deps: Vec<Vec<u32>>,
    /// For each instruction, the branches whose outcome flows into what it
    /// writes: those it depends on while some reader of its destination
    /// does not (the value leaves the branch), and all of them for a
    /// return (the caller reads it after the function's branches).
    escapes: Vec<Vec<u32>>,
    /// For each instruction, the `World { counterfactual: true }` it
    /// follows (in code order, with no `World { counterfactual: false }`
    /// in between), if any.
    world_switch: Vec<Option<u32>>,
}

impl Control {
    fn of(f: &crate::Function) -> Control {
        let deps = control_dependences(f);
        let mut readers: HashMap<Reg, Vec<usize>> = HashMap::new();
        for (pc, instr) in f.code.iter().enumerate() {
            for r in instr.uses() {
                readers.entry(r).or_default().push(pc);
            }
        }
        let escapes = f
            .code
            .iter()
            .enumerate()
            .map(|(pc, instr)| {
                let returns =
                    matches!(instr, Instr::Return { .. } | Instr::Call { tail: true, .. });
                if returns {
                    return deps[pc].clone();
                }
                let Some(dst) = instr.dst() else {
                    return Vec::new();
                };
                let readers = readers.get(&dst).map(|v| v.as_slice()).unwrap_or(&[]);
                deps[pc]
                    .iter()
                    .copied()
                    .filter(|b| readers.iter().any(|&u| !deps[u].contains(b)))
                    .collect()
            })
            .collect();
        let mut current = None;
        let world_switch = f
            .code
            .iter()
            .enumerate()
            .map(|(pc, instr)| {
                let here = current;
                if let Instr::World { counterfactual } = instr {
                    current = counterfactual.then_some(pc as u32);
                }
                here
            })
            .collect();
        Control {
            deps,
            escapes,
            world_switch,
        }
    }
}
