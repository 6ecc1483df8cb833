//! Random kernel programs: the kernel interpreter and the JIT agree bit for
//! bit (or are both NaN) on random θ, including programs with loops, data
//! columns, parameter tables, carried values, selects and calls.

use proptest::prelude::*;
use tyche_jit::kernel::{Carry, Item, Kernel, Loop};
use tyche_jit::ops::{Bin, Cmp, NodeId, Op, Ty, Un};

/// A recipe for one node: operation kind and operand picks (indices into
/// the values visible at that point, taken modulo their count).
#[derive(Clone, Debug)]
enum Recipe {
    Const(f64),
    Param(u8),
    Un(u8, u16),
    Bin(u8, u16, u16),
    Cmp(u8, u16, u16),
    Logic(u8, u16, u16),
    Select(u16, u16, u16),
}

fn recipe() -> impl Strategy<Value = Recipe> {
    let special = prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(1.0),
        Just(-1.0),
        Just(0.5),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::NAN),
        Just(1e300),
        Just(1e-300),
        -10.0..10.0f64,
    ];
    prop_oneof![
        2 => special.prop_map(Recipe::Const),
        2 => any::<u8>().prop_map(Recipe::Param),
        3 => (any::<u8>(), any::<u16>()).prop_map(|(o, a)| Recipe::Un(o, a)),
        4 => (any::<u8>(), any::<u16>(), any::<u16>()).prop_map(|(o, a, b)| Recipe::Bin(o, a, b)),
        2 => (any::<u8>(), any::<u16>(), any::<u16>()).prop_map(|(o, a, b)| Recipe::Cmp(o, a, b)),
        1 => (any::<u8>(), any::<u16>(), any::<u16>()).prop_map(|(o, a, b)| Recipe::Logic(o, a, b)),
        2 => (any::<u16>(), any::<u16>(), any::<u16>()).prop_map(|(c, a, b)| Recipe::Select(c, a, b)),
    ]
}

struct Gen {
    k: Kernel,
    /// Values visible in the current scope, by type.
    reals: Vec<NodeId>,
    bools: Vec<NodeId>,
    dim: u32,
    in_loop: Option<(u32, Vec<NodeId>)>,
    count: u32,
}

impl Gen {
    fn push(&mut self, op: Op) -> NodeId {
        let id = NodeId(self.k.nodes.len() as u32);
        self.k.nodes.push(op);
        match &mut self.in_loop {
            Some((_, body)) => body.push(id),
            None => self.k.top.push(Item::Node(id)),
        }
        match op.ty() {
            Ty::F64 => self.reals.push(id),
            Ty::Bool => self.bools.push(id),
        }
        id
    }

    fn real(&mut self, pick: u16) -> NodeId {
        if self.reals.is_empty() {
            return self.push(Op::constant(1.5));
        }
        self.reals[pick as usize % self.reals.len()]
    }

    fn boolean(&mut self, pick: u16) -> NodeId {
        if self.bools.is_empty() {
            let a = self.real(pick);
            let b = self.real(pick / 3 + 1);
            return self.push(Op::Cmp(Cmp::Lt, a, b));
        }
        self.bools[pick as usize % self.bools.len()]
    }

    fn apply(&mut self, r: &Recipe) {
        match *r {
            Recipe::Const(x) => {
                self.push(Op::constant(x));
            }
            Recipe::Param(i) => {
                let i = i as u32 % self.dim;
                let op = match (&self.in_loop, i % 3) {
                    (Some(_), 1) => {
                        // θ[base + stride·k] within bounds.
                        let stride = if self.count > 1 {
                            ((self.dim - 1) / (self.count - 1)).min(1) as i32
                        } else {
                            0
                        };
                        let base = if stride > 0 {
                            i.min(self.dim - 1 - (self.count - 1))
                        } else {
                            i
                        };
                        Op::ParamAt { base, stride }
                    }
                    (Some(_), 2) => {
                        let off = self.k.tables.len() as u32;
                        for j in 0..self.count {
                            self.k.tables.push((i + j * 7) % self.dim);
                        }
                        Op::ParamIdx(off)
                    }
                    (Some(_), _) => {
                        let off = self.k.data.len() as u32;
                        for j in 0..self.count {
                            self.k.data.push((i as f64 + 1.0) * 0.37 * (j as f64 - 2.5));
                        }
                        Op::Data(off)
                    }
                    _ => Op::Param(i),
                };
                self.push(op);
            }
            Recipe::Un(o, a) => {
                let x = self.real(a);
                self.push(Op::Un(Un::ALL[o as usize % Un::ALL.len()], x));
            }
            Recipe::Bin(o, a, b) => {
                let (x, y) = (self.real(a), self.real(b));
                self.push(Op::Bin(Bin::ALL[o as usize % Bin::ALL.len()], x, y));
            }
            Recipe::Cmp(o, a, b) => {
                let (x, y) = (self.real(a), self.real(b));
                self.push(Op::Cmp(Cmp::ALL[o as usize % Cmp::ALL.len()], x, y));
            }
            Recipe::Logic(o, a, b) => {
                let (x, y) = (self.boolean(a), self.boolean(b));
                let op = match o % 3 {
                    0 => Op::And(x, y),
                    1 => Op::Or(x, y),
                    _ => Op::Not(x),
                };
                self.push(op);
            }
            Recipe::Select(c, a, b) => {
                let c = self.boolean(c);
                let (x, y) = (self.real(a), self.real(b));
                self.push(Op::Select(c, x, y));
            }
        }
    }
}

/// A kernel: top-level recipes, an optional loop (with `carried` values
/// and its own recipes), then more top-level recipes; the result is the
/// sum of the last few real values.
fn build(dim: u32, pre: &[Recipe], lp: Option<(u32, u8, Vec<Recipe>)>, post: &[Recipe]) -> Kernel {
    let mut g = Gen {
        k: Kernel::default(),
        reals: Vec::new(),
        bools: Vec::new(),
        dim,
        in_loop: None,
        count: 1,
    };
    for d in 0..dim {
        g.k.choices.push(tyche_jit::Choice {
            address: format!("x[{d}]"),
            name: "x".into(),
            index: d,
            site: tyche_ir::SiteId(0),
            dist: tyche_dist::DistKind::Normal,
        });
    }
    g.push(Op::Param(0));
    for r in pre {
        g.apply(r);
    }
    if let Some((count, ncarried, body)) = lp {
        let ncarried = 1 + ncarried as usize % 3;
        let inits: Vec<NodeId> = (0..ncarried).map(|i| g.real(i as u16 * 5 + 1)).collect();
        let l = g.k.loops.len() as u32;
        let (outer_reals, outer_bools) = (g.reals.clone(), g.bools.clone());
        let mut phis = Vec::new();
        for i in 0..ncarried {
            let id = NodeId(g.k.nodes.len() as u32);
            g.k.nodes.push(Op::Carried(i as u32));
            g.reals.push(id);
            phis.push(id);
        }
        g.count = count;
        g.in_loop = Some((l, Vec::new()));
        for r in &body {
            g.apply(r);
        }
        let mut carried = Vec::new();
        for (i, (&init, &phi)) in inits.iter().zip(&phis).enumerate() {
            // Depend on recent body values; keep carried values bounded so
            // long loops do not just overflow.
            let n = g.reals.len();
            let v = g.reals[n - 1 - (i % n.min(3))];
            let t = g.push(Op::Un(Un::Atan, v));
            let next = g.push(Op::Bin(Bin::Add, phi, t));
            carried.push(Carry { init, phi, next });
        }
        let (_, body) = g.in_loop.take().unwrap();
        g.k.loops.push(Loop {
            count,
            body,
            carried: carried.clone(),
        });
        g.k.top.push(Item::Loop(l));
        g.reals = outer_reals;
        g.bools = outer_bools;
        g.count = 1;
        for i in 0..carried.len() {
            g.push(Op::LoopOut {
                lp: l,
                index: i as u32,
            });
        }
    }
    for r in post {
        g.apply(r);
    }
    let n = g.reals.len();
    let mut acc = g.reals[n - 1];
    let outs: Vec<NodeId> = (0..g.k.nodes.len() as u32)
        .map(NodeId)
        .filter(|n| matches!(g.k.nodes[n.index()], Op::LoopOut { .. }))
        .collect();
    for &r in g.reals[n.saturating_sub(4)..n - 1]
        .to_vec()
        .iter()
        .chain(&outs)
    {
        acc = g.push(Op::Bin(Bin::Add, acc, r));
    }
    g.k.result = acc;
    g.k
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn interpreter_and_jit_agree(
        dim in 1u32..48,
        pre in proptest::collection::vec(recipe(), 0..30),
        lp in proptest::option::of((1u32..40, any::<u8>(), proptest::collection::vec(recipe(), 0..30))),
        post in proptest::collection::vec(recipe(), 0..15),
        thetas in proptest::collection::vec(proptest::collection::vec(prop_oneof![
            -5.0..5.0f64, Just(0.0), Just(f64::NAN), Just(f64::INFINITY), Just(-1e300), Just(1e-310)], 48), 1..6),
        branchy in any::<bool>(),
        opt in any::<bool>(),
    ) {
        let k = build(dim, &pre, lp, &post);
        prop_assert!(k.verify().is_ok(), "generator made an invalid kernel: {:?}\n{}", k.verify(), k);
        let opts = tyche_jit::JitOptions {
            opt_level: if opt { "speed" } else { "none" },
            branchy_select: branchy,
        };
        let c = tyche_jit::compile_with(&k, &opts).map_err(|e| TestCaseError::fail(format!("{e}\n{k}")))?;
        for t in &thetas {
            let t = &t[..dim as usize];
            let (a, b) = (k.eval(t), c.log_density(t));
            prop_assert!(same(a, b), "interpreter {a} vs JIT {b} at {t:?}\n{k}");
        }
    }
}

/// Whether the compiled gradient component `c` agrees with the
/// interpreter's `i`: equal, or within rounding where a branchy select's
/// arm adds into an adjoint shared with code outside it in another order.
fn grad_agrees(c: f64, i: f64, branchy: bool) -> bool {
    if c == i || (c.is_nan() && i.is_nan()) {
        return true;
    }
    branchy && (c - i).abs() <= 1e-8 * c.abs().max(i.abs()).max(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// The compiled gradient (`gradgen`) against the interpreted one
    /// (`grad`, itself checked against dual numbers in `tests/gradient.rs`):
    /// the same value bit for bit, the same gradient (a NaN component of the
    /// raw compiled code, where the interpreter skips a `0 · ∞`, is what the
    /// evaluator recomputes on the interpreter, so it gives the
    /// interpreter's numbers exactly).
    #[test]
    fn compiled_and_interpreted_gradients_agree(
        dim in 1u32..48,
        pre in proptest::collection::vec(recipe(), 0..30),
        lp in proptest::option::of((1u32..40, any::<u8>(), proptest::collection::vec(recipe(), 0..30))),
        post in proptest::collection::vec(recipe(), 0..15),
        thetas in proptest::collection::vec(proptest::collection::vec(prop_oneof![
            4 => -3.0..3.0f64, 1 => Just(0.0), 1 => Just(f64::NAN), 1 => Just(f64::INFINITY), 1 => Just(1e-310)], 48), 1..6),
        branchy in any::<bool>(),
        opt in any::<bool>(),
    ) {
        use std::sync::Arc;
        let k = build(dim, &pre, lp, &post);
        prop_assert!(k.verify().is_ok(), "generator made an invalid kernel: {:?}\n{}", k.verify(), k);
        let opts = tyche_jit::JitOptions {
            opt_level: if opt { "speed" } else { "none" },
            branchy_select: branchy,
        };
        let c = Arc::new(tyche_jit::compile_gradient_with(&k, &opts)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{k}")))?);
        let k = Arc::new(k);
        let mut interp = tyche_jit::grad::Gradient::new(Arc::clone(&k));
        let mut eval = tyche_jit::gradient::Evaluator::new(Arc::clone(&k), Some(Arc::clone(&c)));
        let mut tape = c.tape();
        let d = dim as usize;
        let (mut gc, mut gi, mut ge) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        for t in &thetas {
            let t = &t[..d];
            let vc = c.eval(t, &mut gc, &mut tape);
            let vi = interp.eval(t, &mut gi);
            let ve = eval.eval(t, &mut ge);
            prop_assert!(same(vc, vi), "value: compiled {vc} vs interpreter {vi} at {t:?}\n{k}");
            prop_assert!(same(ve, vi));
            for j in 0..d {
                prop_assert!(
                    gc[j].is_nan() || grad_agrees(gc[j], gi[j], branchy),
                    "∂/∂θ[{j}]: compiled {} vs interpreter {} at {t:?} (value {vi})\n{k}", gc[j], gi[j]
                );
                prop_assert!(
                    grad_agrees(ge[j], gi[j], branchy),
                    "∂/∂θ[{j}]: evaluator {} vs interpreter {} at {t:?} (value {vi})\n{k}", ge[j], gi[j]
                );
            }
        }
    }
}
