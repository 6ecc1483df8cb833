//! Every distribution of the registry (`tyche_dist::family`) with a generic
//! log density, generated from the registry so that a new one is covered
//! without editing this file:
//! - its compiled log density (the registry's formula instantiated on the
//!   traced graph, run by the kernel interpreter and by the JIT) equals
//!   the interpreter's `Dist::new(..).log_prob(..)` at random parameter and
//!   value points, bit for bit (the issue asks 1e-12 relative; the shared
//!   operation order gives equality), and is NaN exactly where `Dist::new`
//!   refuses the parameters;
//! - for real-valued ones, its reverse-mode gradient agrees with central
//!   differences.
//!
//! Plus a model over the real-valued families added with the registry,
//! traced on unconstrained coordinates (their supports give the
//! transforms), whose gradient is checked the same way.

mod common;
use common::*;
use std::sync::Arc;
use tyche_dist::family::{self, Arg, Type};
use tyche_dist::{Dist, DistKind, Outcome, Param};
use tyche_jit::dists::GraphMath;
use tyche_jit::gradient::GradientModel;
use tyche_jit::graph::Graph;
use tyche_jit::kernel::{Choice, Item, Kernel};
use tyche_jit::ops::NodeId;

/// A parameter value of type `ty`: typical values, boundaries and a few
/// invalid ones (so that validation is exercised).
fn param(ty: Type, rng: &mut Lcg) -> f64 {
    match ty {
        Type::Int => (rng.next_f64() * 40.0).floor() - 2.0,
        _ => {
            let r = rng.next_f64();
            if r < 0.15 {
                [0.0, 1.0, -1.0, 0.5, 1e-8, 150.0, 1e18, f64::INFINITY]
                    [(rng.next_f64() * 8.0) as usize]
            } else if r < 0.6 {
                rng.next_f64() * 5.0
            } else if r < 0.85 {
                rng.next_f64() * 6.0 - 3.0
            } else {
                (rng.next_f64() * 40.0 - 20.0).exp()
            }
        }
    }
}

/// A value of type `ty` (NaN excluded: compiled code marks it NaN, the
/// interpreter −∞, by design).
fn value(ty: Type, support: family::Support, rng: &mut Lcg) -> f64 {
    if support == family::Support::UnitInterval && rng.next_f64() < 0.8 {
        return rng.next_f64();
    }
    match ty {
        Type::Int => (rng.next_f64() * 50.0).floor() - 3.0,
        Type::Bool => f64::from(u8::from(rng.next_f64() < 0.5)),
        _ => {
            let r = rng.next_f64();
            if r < 0.1 {
                [0.0, 1.0, -1.0, f64::INFINITY][(rng.next_f64() * 4.0) as usize]
            } else if r < 0.7 {
                rng.next_f64() * 4.0
            } else {
                rng.next_f64() * 12.0 - 6.0
            }
        }
    }
}

/// The kernel of `kind`'s checked log density with its real parameters
/// as θ (in order) and, for a real value, the value as θ's last
/// coordinate. Integer parameters (`Binomial`'s n) and an Int or Bool
/// value are the constants `ints` and `x`, as they are in compiled code
/// (a random integer becomes a table lookup, which kernels do not have).
fn kernel(kind: DistKind, x: f64, ints: &[f64]) -> Kernel {
    let f = kind.family();
    let mut g = Graph::new();
    let mut n = 0;
    let p: Vec<NodeId> = f
        .params
        .iter()
        .zip(ints)
        .map(|(q, &v)| match q.ty {
            Type::Int => g.c(v),
            _ => {
                n += 1;
                g.param(n as u32 - 1)
            }
        })
        .collect();
    let (arg, dim) = match f.value {
        Type::Real => (Arg::Real(g.param(n as u32)), n + 1),
        Type::Int => (Arg::Real(g.c(x)), n),
        Type::Bool => {
            let b = g.boolean(x != 0.0);
            (Arg::Bool(b), n)
        }
        _ => unreachable!(),
    };
    let root = family::checked_log_density(&mut GraphMath(&mut g), kind, &p, arg)
        .expect("a generic density");
    let k = Kernel {
        nodes: g.ops.clone(),
        top: (0..g.ops.len())
            .map(|i| Item::Node(NodeId(i as u32)))
            .collect(),
        result: root,
        choices: (0..dim)
            .map(|i| Choice {
                address: format!("θ[{i}]"),
                name: "θ".into(),
                index: i as u32,
                site: tyche_ir::SiteId(0),
                dist: kind,
            })
            .collect(),
        ..Kernel::default()
    };
    k.verify().unwrap_or_else(|e| panic!("{kind}: {e}"));
    k
}

/// What the interpreter says: `Dist::new(..).log_prob(x)`, NaN where the
/// parameters are refused.
fn interpreter(kind: DistKind, ps: &[f64], x: f64) -> f64 {
    let f = kind.family();
    let params: Vec<Param> = f
        .params
        .iter()
        .zip(ps)
        .map(|(p, &v)| match p.ty {
            Type::Int => Param::Int(v as i64),
            _ => Param::Real(v),
        })
        .collect();
    let Ok(d) = Dist::new(kind, &params) else {
        return f64::NAN;
    };
    let o = match f.value {
        Type::Real => Outcome::Real(x),
        Type::Int => Outcome::Int(x as i64),
        Type::Bool => Outcome::Bool(x != 0.0),
        _ => unreachable!(),
    };
    d.log_prob(&o)
}

fn generic_kinds() -> impl Iterator<Item = DistKind> {
    DistKind::ALL
        .into_iter()
        .filter(|&k| family::has_generic_density(k))
}

#[test]
fn compiled_log_densities_are_the_interpreters() {
    let mut rng = Lcg(0x7e91);
    let mut kinds = 0;
    for kind in generic_kinds() {
        kinds += 1;
        let f = kind.family();
        let (mut compared, mut finite) = (0, 0);
        for _ in 0..40 {
            let x = value(f.value, f.support, &mut rng);
            let ints: Vec<f64> = f.params.iter().map(|p| param(p.ty, &mut rng)).collect();
            let k = kernel(kind, x, &ints);
            let c = tyche_jit::compile(&k).unwrap_or_else(|e| panic!("{kind}: {e}"));
            for _ in 0..25 {
                let ps: Vec<f64> = f
                    .params
                    .iter()
                    .zip(&ints)
                    .map(|(p, &i)| {
                        if p.ty == Type::Int {
                            i
                        } else {
                            param(p.ty, &mut rng)
                        }
                    })
                    .collect();
                let mut theta: Vec<f64> = f
                    .params
                    .iter()
                    .zip(&ps)
                    .filter(|(p, _)| p.ty != Type::Int)
                    .map(|(_, &v)| v)
                    .collect();
                if f.value == Type::Real {
                    theta.push(x);
                }
                let want = interpreter(kind, &ps, x);
                for (how, got) in [("kernel", k.eval(&theta)), ("JIT", c.log_density(&theta))] {
                    assert!(
                        got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                        "{kind}{ps:?} at {x}: {how} {got}, interpreter {want}"
                    );
                }
                compared += 1;
                finite += usize::from(want.is_finite());
            }
        }
        assert!(
            finite * 20 >= compared,
            "{kind}: too few finite points ({finite}/{compared})"
        );
    }
    assert_eq!(
        kinds,
        DistKind::ALL.len() - 4,
        "every family but the four exceptions (MvNormalCholesky's density is \
         compiled through its own signature, tests/tests/linalg.rs)"
    );
}

#[test]
fn gradients_of_real_valued_densities_agree_with_finite_differences() {
    let mut rng = Lcg(0x9ad);
    for kind in generic_kinds().filter(|k| k.family().value == Type::Real) {
        let f = kind.family();
        let k = Arc::new(kernel(kind, 0.0, &vec![0.0; f.params.len()]));
        let mut grad_eval = tyche_jit::grad::Gradient::new(k.clone());
        let dim = k.dim();
        let mut grad = vec![0.0; dim];
        let mut checked = 0;
        for _ in 0..400 {
            let mut theta: Vec<f64> = f
                .params
                .iter()
                .map(|_| 0.3 + rng.next_f64() * 3.0)
                .collect();
            let u = 0.05 + rng.next_f64() * 0.9;
            theta.push(u);
            // A value inside an interval support.
            if let family::Support::Interval(i, j) = f.support {
                theta[j] = theta[i] + 0.5 + rng.next_f64();
                theta[dim - 1] = theta[i] + u * (theta[j] - theta[i]);
            }
            let lp = grad_eval.eval(&theta, &mut grad);
            assert_eq!(lp.to_bits(), k.eval(&theta).to_bits(), "{kind}: value");
            if !lp.is_finite() {
                continue;
            }
            checked += 1;
            for i in 0..dim {
                // Central differences: error O(h²·f''') + O(ε·|f|/h).
                let h = 1e-6;
                let (mut up, mut dn) = (theta.clone(), theta.clone());
                up[i] += h;
                dn[i] -= h;
                let fd = (k.eval(&up) - k.eval(&dn)) / (2.0 * h);
                let tol = 1e-4 * fd.abs().max(1.0) + 1e-9 * lp.abs() / h;
                assert!(
                    (grad[i] - fd).abs() <= tol,
                    "{kind} at {theta:?}: ∂/∂θ[{i}] reverse {} vs finite difference {fd}",
                    grad[i]
                );
            }
        }
        assert!(checked >= 100, "{kind}: too few finite points ({checked})");
    }
}

/// The real-valued families added with the registry in one model, traced
/// on unconstrained coordinates: the kernel is finite everywhere (each
/// support got its transform) and its gradient matches central
/// differences.
#[test]
fn new_families_trace_on_unconstrained_coordinates() {
    let src = r#"
data ys: [Real];
fn model() -> Real {
    let a ~ HalfNormal(1.5);
    let b ~ HalfCauchy(0.8);
    let c ~ Laplace(0.2, 1.1);
    let d ~ Logistic(-0.3, 0.7);
    let e ~ Weibull(1.7, 2.0);
    let s ~ HalfStudentT(3.0, 1.2);
    for i in 0..len(ys) {
        observe(Laplace(c, a + 0.1), ys[i]);
        observe(Logistic(d, b + 0.1), ys[i]);
        observe(Weibull(e, s + 0.5), 1.0 + ys[i] * ys[i]);
        observe(HalfNormal(a + b), abs(ys[i]));
        observe(HalfStudentT(2.0 + e, s), abs(ys[i]));
        observe(HalfCauchy(c * c + 0.1), abs(ys[i]));
        observe(BernoulliLogit(c + d * ys[i]), ys[i] > 0.0);
        observe(PoissonLog(c + 0.3 * ys[i]), 2);
        observe(BinomialLogit(10, d * ys[i]), 4);
        observe(NegativeBinomial(a + 1.0, s + 0.5), 3);
    }
    a
}
"#;
    let m = load(src, Some(r#"{"ys": [0.3, -1.2, 0.8, 2.1]}"#));
    let gm = GradientModel::new(&m.program, &m.globals, m.func)
        .unwrap_or_else(|e| panic!("not static: {e}"));
    let k = gm.kernel().clone();
    let mut g = gm.gradient();
    let dim = k.dim();
    assert_eq!(dim, 6);
    let mut rng = Lcg(0x51);
    let mut grad = vec![0.0; dim];
    for _ in 0..40 {
        let phi: Vec<f64> = (0..dim).map(|_| rng.next_f64() * 3.0 - 1.5).collect();
        let lp = g.eval(&phi, &mut grad);
        assert!(lp.is_finite(), "log density {lp} at φ = {phi:?}");
        for i in 0..dim {
            let h = 1e-5;
            let (mut up, mut dn) = (phi.clone(), phi.clone());
            up[i] += h;
            dn[i] -= h;
            let fd = (k.eval(&up) - k.eval(&dn)) / (2.0 * h);
            let tol = 1e-4 * fd.abs().max(1.0) + 1e-9 * lp.abs() / h;
            assert!(
                (grad[i] - fd).abs() <= tol,
                "∂/∂φ[{i}] ({}) reverse {} vs finite difference {fd}",
                k.choices[i].address,
                grad[i]
            );
        }
    }
}
