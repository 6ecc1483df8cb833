//! Reverse-mode gradients of kernels traced on unconstrained coordinates
//! — interpreted (`tyche_jit::grad`) and compiled with Cranelift
//! (`tyche_jit::gradgen`, which must agree with the interpreted one to
//! 1e-8 relative and compile every model here) — checked against two
//! independent derivatives:
//! forward-mode dual numbers on the kernel (written here, rule by rule, in
//! a different form from `grad::partials`) to 1e-8 relative, and central
//! finite differences. Models: hand-written ones covering every continuous
//! distribution (a support depending on another choice included) and every
//! Real built-in, and randomly generated expression programs.

mod common;
use common::*;
use std::sync::Arc;
use tyche_jit::gradient::GradientModel;
use tyche_jit::kernel::{Item, Kernel};
use tyche_jit::ops::{Bin, Op, Un};

/// A dual number `v + d·ε`.
#[derive(Clone, Copy, Debug, Default)]
struct Dual {
    v: f64,
    d: f64,
}

fn dual_un(u: Un, x: Dual) -> Dual {
    let v = u.apply(x.v);
    let dv = match u {
        Un::Neg => -x.d,
        Un::Abs => x.d * x.v.signum() * f64::from(u8::from(x.v != 0.0)),
        Un::Sqrt => x.d / (2.0 * x.v.sqrt()),
        Un::Floor | Un::Ceil => 0.0,
        Un::Exp => x.d * x.v.exp(),
        Un::Ln => x.d / x.v,
        Un::Log1p => x.d / (x.v + 1.0),
        Un::Expm1 => x.d * x.v.exp(),
        Un::Lgamma => x.d * statrs::function::gamma::digamma(x.v),
        Un::Digamma => {
            // ψ'(x) by its series for x shifted above 6, independent of
            // the library's trigamma.
            let mut y = x.v;
            let mut acc = 0.0;
            while y < 6.0 {
                acc += 1.0 / (y * y);
                y += 1.0;
            }
            let r = 1.0 / y;
            let r2 = r * r;
            acc += r + r2 / 2.0 + r * r2 * (1.0 / 6.0 - r2 * (1.0 / 30.0 - r2 / 42.0));
            x.d * acc
        }
        Un::Erf => x.d * 2.0 / std::f64::consts::PI.sqrt() * (-x.v * x.v).exp(),
        Un::Sin => x.d * x.v.cos(),
        Un::Cos => -x.d * x.v.sin(),
        Un::Tan => x.d / (x.v.cos() * x.v.cos()),
        Un::Atan => x.d / (1.0 + x.v * x.v),
        Un::Tanh => x.d / (x.v.cosh() * x.v.cosh()),
    };
    Dual { v, d: dv }
}

fn dual_bin(o: Bin, a: Dual, b: Dual) -> Dual {
    let v = o.apply(a.v, b.v);
    let d = match o {
        Bin::Add => a.d + b.d,
        Bin::Sub => a.d - b.d,
        Bin::Mul => a.d * b.v + a.v * b.d,
        Bin::Div => (a.d * b.v - a.v * b.d) / (b.v * b.v),
        Bin::Rem => a.d - (a.v / b.v).trunc() * b.d,
        // d(a^b) = a^b (b' ln a + b a'/a)
        Bin::Pow => {
            let lna = if a.v > 0.0 && b.d != 0.0 {
                a.v.ln()
            } else {
                0.0
            };
            let t = if a.d != 0.0 { b.v * a.d / a.v } else { 0.0 };
            v * (b.d * lna + t)
        }
        Bin::Min | Bin::Max => {
            if v.to_bits() == a.v.to_bits() {
                a.d
            } else {
                b.d
            }
        }
        Bin::Bd0 => a.d * (a.v / b.v).ln() + b.d * (1.0 - a.v / b.v),
    };
    Dual { v, d }
}

/// The directional derivative of the kernel at θ along `dir`, by dual
/// numbers.
fn forward(k: &Kernel, theta: &[f64], dir: &[f64]) -> Dual {
    let mut vals = vec![Dual::default(); k.nodes.len()];
    let param = |i: usize| Dual {
        v: theta[i],
        d: dir[i],
    };
    let eval = |n: usize, vals: &[Dual], it: usize| -> Dual {
        match k.nodes[n] {
            Op::Param(i) => param(i as usize),
            Op::ParamAt { base, stride } => {
                param((base as i64 + stride as i64 * it as i64) as usize)
            }
            Op::ParamIdx(o) => param(k.tables[o as usize + it] as usize),
            Op::Data(o) => Dual {
                v: k.data[o as usize + it],
                d: 0.0,
            },
            Op::Carried(_) => vals[n],
            Op::LoopOut { lp, index } => {
                vals[k.loops[lp as usize].carried[index as usize].phi.index()]
            }
            Op::Un(u, a) => dual_un(u, vals[a.index()]),
            Op::Bin(o, a, b) => dual_bin(o, vals[a.index()], vals[b.index()]),
            Op::Select(c, a, b) => {
                if vals[c.index()].v != 0.0 {
                    vals[a.index()]
                } else {
                    vals[b.index()]
                }
            }
            ref op => {
                let (args, count) = op.operands();
                let mut a = [0.0; 3];
                for i in 0..count {
                    a[i] = vals[args[i].index()].v;
                }
                Dual {
                    v: op.apply(&a),
                    d: 0.0,
                }
            }
        }
    };
    for item in &k.top {
        match *item {
            Item::Node(n) => vals[n.index()] = eval(n.index(), &vals, 0),
            Item::Loop(l) => {
                let lp = &k.loops[l as usize];
                for c in &lp.carried {
                    vals[c.phi.index()] = vals[c.init.index()];
                }
                for it in 0..lp.count as usize {
                    for &n in &lp.body {
                        vals[n.index()] = eval(n.index(), &vals, it);
                    }
                    let next: Vec<Dual> = lp.carried.iter().map(|c| vals[c.next.index()]).collect();
                    for (c, x) in lp.carried.iter().zip(next) {
                        vals[c.phi.index()] = x;
                    }
                }
            }
        }
    }
    vals[k.result.index()]
}

/// Checks the reverse-mode gradient of `m` at `points` random points.
fn check_model(name: &str, src: &str, data: Option<&str>, points: u64) {
    let m = load(src, data);
    let gm = GradientModel::new(&m.program, &m.globals, m.func)
        .unwrap_or_else(|e| panic!("{name}: not static: {e}"));
    let k = gm.kernel().clone();
    let mut g = gm.gradient();
    if let Err(e) = gm.compiled() {
        panic!("{name}: the gradient does not compile: {e}");
    }
    let mut compiled = gm.evaluator();
    assert!(compiled.is_compiled());
    let dim = k.dim();
    let mut rng = Lcg(0x5eed ^ points);
    let mut grad = vec![0.0; dim];
    let mut gc = vec![0.0; dim];
    let mut checked = 0;
    for _ in 0..points {
        let phi: Vec<f64> = (0..dim).map(|_| rng.next_f64() * 3.0 - 1.5).collect();
        let lp = g.eval(&phi, &mut grad);
        assert_eq!(
            lp.to_bits(),
            k.eval(&phi).to_bits(),
            "{name}: value differs from eval"
        );
        let lc = compiled.eval(&phi, &mut gc);
        assert!(
            lc.to_bits() == lp.to_bits() || (lc.is_nan() && lp.is_nan()),
            "{name}: compiled value {lc} vs interpreted {lp}"
        );
        for i in 0..dim {
            let (a, b) = (gc[i], grad[i]);
            assert!(
                a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-8 * b.abs().max(1.0),
                "{name}: ∂/∂φ[{i}] ({}) compiled {a} vs interpreted {b}",
                k.choices[i].address
            );
        }
        if !lp.is_finite() {
            continue;
        }
        checked += 1;
        for i in 0..dim {
            let mut e = vec![0.0; dim];
            e[i] = 1.0;
            let fwd = forward(&k, &phi, &e);
            assert!(
                (fwd.v - lp).abs() <= 1e-12 * lp.abs().max(1.0),
                "{name}: dual value {} vs {lp}",
                fwd.v
            );
            let tol = 1e-8 * fwd.d.abs().max(1.0);
            assert!(
                (grad[i] - fwd.d).abs() <= tol,
                "{name}: ∂/∂φ[{i}] ({}) reverse {} vs forward {}",
                k.choices[i].address,
                grad[i],
                fwd.d
            );
            // Central differences: error O(h²·f''') + O(ε·|f|/h).
            let h = 1e-5;
            let (mut up, mut dn) = (phi.clone(), phi.clone());
            up[i] += h;
            dn[i] -= h;
            let fd = (k.eval(&up) - k.eval(&dn)) / (2.0 * h);
            let tol = 1e-4 * fd.abs().max(1.0) + 1e-9 * lp.abs() / h;
            assert!(
                (grad[i] - fd).abs() <= tol,
                "{name}: ∂/∂φ[{i}] ({}) reverse {} vs finite difference {fd}",
                k.choices[i].address,
                grad[i]
            );
        }
    }
    assert!(
        checked * 2 >= points,
        "{name}: too few finite points ({checked}/{points})"
    );
}

const EVERY_DISTRIBUTION: &str = r#"
data ys: [Real];
fn model() -> Real {
    let a ~ Normal(0.5, 2.0);
    let b ~ LogNormal(0.1, 0.7);
    let c ~ Uniform(-1.0, 3.0);
    let d ~ Beta(2.0, 3.5);
    let e ~ Gamma(2.5, 1.5);
    let f ~ InvGamma(3.0, 2.0);
    let g ~ Exponential(1.3);
    let h ~ Cauchy(0.2, 1.1);
    let t ~ StudentT(4.0, 0.3, 1.7);
    // A support that depends on other choices.
    let u ~ Uniform(a - 1.0, a + b);
    let v ~ Gamma(e, b);
    for i in 0..len(ys) {
        observe(Normal(a + c * d, b + 0.1), ys[i]);
        observe(StudentT(3.0 + e, h, 1.0 + g), ys[i]);
        observe(Cauchy(t, f), ys[i]);
        observe(LogNormal(u, 1.0 + v), exp(ys[i]));
        observe(Gamma(e + 0.5, f), 1.0 + ys[i] * ys[i]);
        observe(InvGamma(g + 1.0, e), 2.0 + ys[i]);
        observe(Beta(1.0 + b, 1.0 + g), sigmoid(ys[i]));
        observe(Exponential(v + 0.1), abs(ys[i]));
        observe(Uniform(u - 10.0, u + 10.0), ys[i]);
    }
    a
}
"#;

const EVERY_BUILTIN: &str = r#"
fn model() -> Real {
    let x ~ Normal(0.0, 1.0);
    let y ~ Normal(0.5, 1.0);
    let z ~ Gamma(3.0, 2.0);
    factor(exp(-x * x) + log(1.0 + z) + sqrt(1.0 + y * y));
    factor(sigmoid(x) + logit(sigmoid(y)) + lgamma(1.0 + z) + log1p(z) + expm1(-z));
    factor(sin(x) * cos(y) + tan(0.3 * x) + atan(y) + tanh(x * y));
    factor(pow(z, 1.5) + pow(1.0 + x * x, y) + log_sum_exp([x, y, z]));
    factor(min(x, y) + max(x * 2.0, z) + abs(x - y) + floor(z) * x + ceil(y) * y);
    factor(x / (1.0 + z) - y * z);
    observe(Normal(x + y, z), 0.3);
    x
}
"#;

const HIERARCHICAL: &str = r#"
data y: [Real];
data sigma: [Real];
fn model() -> Real {
    let mu ~ Normal(0.0, 5.0);
    let tau ~ Gamma(2.0, 0.5);
    let etas = repeat(len(y), || sample("eta", Normal(0.0, 1.0)));
    for j in 0..len(y) {
        observe(Normal(mu + tau * etas[j], sigma[j]), y[j]);
    }
    mu
}
"#;

const LOGISTIC: &str = r#"
data x: [Real];
data k: [Bool];
fn model() -> Real {
    let a ~ Normal(0.0, 2.0);
    let b ~ Normal(0.0, 2.0);
    for i in 0..len(x) {
        observe(Bernoulli(sigmoid(a + b * x[i])), k[i]);
    }
    b
}
"#;

#[test]
fn gradients_of_every_distribution() {
    check_model(
        "every distribution",
        EVERY_DISTRIBUTION,
        Some(r#"{"ys": [0.3, -1.2, 0.8, 2.1]}"#),
        40,
    );
}

#[test]
fn gradients_of_every_builtin() {
    check_model("every builtin", EVERY_BUILTIN, None, 60);
}

#[test]
fn gradients_through_rolled_loops() {
    let data = r#"{"y": [28, 8, -3, 7, -1, 1, 18, 12], "sigma": [15, 10, 16, 11, 9, 11, 10, 18]}"#;
    check_model("hierarchical", HIERARCHICAL, Some(data), 30);
    let mut r = Lcg(3);
    let x: Vec<f64> = (0..200).map(|_| r.next_f64() * 4.0 - 2.0).collect();
    let k: Vec<bool> = x
        .iter()
        .map(|&x| r.next_f64() < 1.0 / (1.0 + (-x).exp()))
        .collect();
    let data = serde_json::json!({"x": x, "k": k}).to_string();
    let m = load(LOGISTIC, Some(&data));
    let gm = GradientModel::new(&m.program, &m.globals, m.func).unwrap();
    assert!(
        !gm.kernel().loops.is_empty(),
        "the logistic regression should roll into a loop"
    );
    check_model("logistic", LOGISTIC, Some(&data), 20);
}

/// A random expression over the choices `x0…x3` (all on the real line or
/// positive), of depth at most `depth`.
fn expr(r: &mut Lcg, depth: u32) -> String {
    let leaf = |r: &mut Lcg| -> String {
        if r.next_f64() < 0.7 {
            format!("x{}", (r.next_f64() * 4.0) as u32)
        } else {
            format!("{:.3}", r.next_f64() * 4.0 - 2.0)
        }
    };
    if depth == 0 || r.next_f64() < 0.25 {
        return leaf(r);
    }
    let a = expr(r, depth - 1);
    let b = expr(r, depth - 1);
    match (r.next_f64() * 16.0) as u32 {
        0 => format!("({a} + {b})"),
        1 => format!("({a} - {b})"),
        2 => format!("({a} * {b})"),
        3 => format!("({a} / (1.5 + {b} * {b}))"),
        4 => format!("exp(-({a}) * ({a}))"),
        5 => format!("log1p({a} * {a})"),
        6 => format!("tanh({a})"),
        7 => format!("atan({a})"),
        8 => format!("sin({a})"),
        9 => format!("sigmoid({a})"),
        10 => format!("sqrt(1.0 + {a} * {a})"),
        11 => format!("lgamma(1.0 + {a} * {a})"),
        12 => format!("pow(1.0 + {a} * {a}, {b} / (1.0 + abs({b})))"),
        13 => format!("log_sum_exp([{a}, {b}])"),
        14 => format!("max({a}, {b})"),
        _ => format!("cos({a})"),
    }
}

#[test]
fn gradients_of_random_programs() {
    let mut r = Lcg(20261207);
    for case in 0..60 {
        let src = format!(
            "fn model() -> Real {{
                let x0 ~ Normal(0.0, 1.0);
                let x1 ~ Gamma(2.0, 1.0);
                let x2 ~ Beta(2.0, 2.0);
                let x3 ~ Uniform(x0 - 1.0, x0 + x1);
                factor({});
                let s = {};
                observe(Normal({}, 1.0 + s * s), 0.5);
                x0
            }}",
            expr(&mut r, 4),
            expr(&mut r, 2),
            expr(&mut r, 3),
        );
        check_model(&format!("random program {case}:\n{src}"), &src, None, 8);
    }
}

#[test]
fn gradient_evaluators_are_independent() {
    let m = load(EVERY_BUILTIN, None);
    let gm = Arc::new(GradientModel::new(&m.program, &m.globals, m.func).unwrap());
    let (mut a, mut b) = (gm.gradient(), gm.gradient());
    let (mut ga, mut gb) = (vec![0.0; 3], vec![0.0; 3]);
    let la = a.eval(&[0.1, 0.2, 0.3], &mut ga);
    b.eval(&[1.1, -0.2, 0.0], &mut gb);
    let la2 = a.eval(&[0.1, 0.2, 0.3], &mut gb);
    assert_eq!(la.to_bits(), la2.to_bits());
    assert_eq!(ga, gb);
}

/// Dirichlet choices on the stick-breaking transform (K − 1 coordinates
/// each), their components used by observations, a Categorical and a
/// factor.
const SIMPLEX: &str = r#"
fn model() -> Real {
    let w ~ Dirichlet([0.7, 2.0, 3.5, 1.0]);
    let v ~ Dirichlet([1.0, 1.0]);
    let s ~ Gamma(2.0, 2.0);
    observe(Normal(w[0] - w[2], s), 0.1);
    observe(Categorical(w), 2);
    factor(log(v[0]) * 2.0 + w[3]);
    w[1]
}
"#;

/// Local discrete choices (a Categorical per datum, a Bernoulli, a
/// DiscreteUniform), summed out of the density.
const MIXTURE: &str = r#"
data ys: [Real];
fn model() -> Real {
    let w ~ Dirichlet([1.5, 1.0, 2.0]);
    let mu0 ~ Normal(0.0, 3.0);
    let mu1 ~ Normal(1.0, 3.0);
    let mu2 ~ Normal(-1.0, 3.0);
    let s ~ Gamma(2.0, 2.0);
    let means = [mu0, mu1, mu2];
    for i in 0..len(ys) {
        let z ~ Categorical(w);
        observe(Normal(means[z], s), ys[i]);
    }
    let b ~ Bernoulli(0.3);
    observe(Normal(if b { mu0 } else { 0.0 }, 1.0), 0.5);
    let d ~ DiscreteUniform(0, 2);
    observe(Normal(means[d], 1.0), 0.2);
    mu0
}
"#;

/// [`MIXTURE`] with the sums written out by hand.
const MIXTURE_BY_HAND: &str = r#"
data ys: [Real];
fn model() -> Real {
    let w ~ Dirichlet([1.5, 1.0, 2.0]);
    let mu0 ~ Normal(0.0, 3.0);
    let mu1 ~ Normal(1.0, 3.0);
    let mu2 ~ Normal(-1.0, 3.0);
    let s ~ Gamma(2.0, 2.0);
    let means = [mu0, mu1, mu2];
    for i in 0..len(ys) {
        factor(log_sum_exp([
            log(w[0]) + log_prob(Normal(mu0, s), ys[i]),
            log(w[1]) + log_prob(Normal(mu1, s), ys[i]),
            log(w[2]) + log_prob(Normal(mu2, s), ys[i])]));
    }
    factor(log_sum_exp([log(0.3) + log_prob(Normal(mu0, 1.0), 0.5),
                        log(0.7) + log_prob(Normal(0.0, 1.0), 0.5)]));
    factor(log_sum_exp([log_prob(Normal(mu0, 1.0), 0.2), log_prob(Normal(mu1, 1.0), 0.2),
                        log_prob(Normal(mu2, 1.0), 0.2)]) - log(3.0));
    mu0
}
"#;

const MIXTURE_DATA: &str = r#"{"ys": [-2.1, 0.4, 1.9, 2.3, -0.7, 0.1]}"#;

#[test]
fn gradients_through_the_simplex_transform() {
    check_model("simplex", SIMPLEX, None, 40);
}

#[test]
fn gradients_with_local_discrete_choices_summed_out() {
    check_model("mixture", MIXTURE, Some(MIXTURE_DATA), 40);
    let m = load(MIXTURE, Some(MIXTURE_DATA));
    let gm = GradientModel::new(&m.program, &m.globals, m.func).unwrap();
    let summed = gm.summed_out();
    let names: Vec<&str> = summed.addresses.iter().map(String::as_str).collect();
    assert_eq!(
        names,
        ["z[0]", "z[1]", "z[2]", "z[3]", "z[4]", "z[5]", "b[0]", "d[0]"]
    );
    assert_eq!(summed.supports[0], [0, 1, 2]);
    assert_eq!(summed.supports[6], [0, 1]);
    // 2 simplex coordinates, 3 means, a scale.
    assert_eq!(gm.kernel().dim(), 6);
    // The conditional posterior of `d` (uniform on 0..=2, observed through
    // Normal(means[d], 1) at 0.2) given the means φ[2..5].
    let phi = [0.3, -0.2, -1.0, 0.5, 1.5, 0.1];
    let probs = gm.summed_probabilities(&phi);
    assert_eq!(probs.len(), 8);
    let like: Vec<f64> = phi[2..5]
        .iter()
        .map(|m| (-0.5 * (0.2 - m) * (0.2 - m)).exp())
        .collect();
    let total: f64 = like.iter().sum();
    for (p, l) in probs[7].iter().zip(&like) {
        assert!((p - l / total).abs() < 1e-12, "{:?} vs {like:?}", probs[7]);
    }
    for p in &probs {
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}

/// The summed-out density is the hand-written marginal, point by point
/// (both include the same Jacobians), and so is its gradient.
#[test]
fn summed_out_density_is_the_marginal() {
    let data = Some(MIXTURE_DATA);
    let (a, b) = (load(MIXTURE, data), load(MIXTURE_BY_HAND, data));
    let ga = GradientModel::new(&a.program, &a.globals, a.func).unwrap();
    let gb = GradientModel::new(&b.program, &b.globals, b.func).unwrap();
    assert!(gb.summed_out().is_empty());
    let (mut ea, mut eb) = (ga.evaluator(), gb.evaluator());
    let dim = ga.kernel().dim();
    assert_eq!(dim, gb.kernel().dim());
    let mut rng = Lcg(0x3a12);
    let (mut da, mut db) = (vec![0.0; dim], vec![0.0; dim]);
    for _ in 0..50 {
        let phi: Vec<f64> = (0..dim).map(|_| rng.next_f64() * 4.0 - 2.0).collect();
        let (la, lb) = (ea.eval(&phi, &mut da), eb.eval(&phi, &mut db));
        assert!(
            (la - lb).abs() <= 1e-10 * lb.abs().max(1.0),
            "at {phi:?}: summed out {la} vs by hand {lb}"
        );
        for i in 0..dim {
            assert!(
                (da[i] - db[i]).abs() <= 1e-8 * db[i].abs().max(1.0),
                "∂/∂φ[{i}] at {phi:?}: summed out {} vs by hand {}",
                da[i],
                db[i]
            );
        }
    }
}

/// What cannot be summed out keeps the model from NUTS, with the first
/// reason (the discrete choice's site): a choice returned, one with an
/// infinite support, two choices meeting in one observation.
#[test]
fn non_local_discrete_choices_are_not_summed_out() {
    for src in [
        "fn model() -> Bool { let x ~ Normal(0.0, 1.0); let b ~ Bernoulli(0.5); observe(Normal(if b { x } else { 0.0 }, 1.0), 0.3); b }",
        "fn model() -> Real { let x ~ Gamma(2.0, 1.0); let k ~ Poisson(x); observe(Normal(real(k), 1.0), 0.3); x }",
        "fn model() -> Real { let x ~ Normal(0.0, 1.0); let b ~ Bernoulli(0.5); let c ~ Bernoulli(0.5); observe(Normal(if b && c { x } else { 0.0 }, 1.0), 0.3); x }",
        "fn model() -> Real { let b ~ Bernoulli(0.5); let x ~ Uniform(0.0, if b { 1.0 } else { 2.0 }); x }",
    ] {
        let m = load(src, None);
        let e = GradientModel::new(&m.program, &m.globals, m.func).unwrap_err();
        assert!(e.reason.contains("Real choices only"), "{src}: {}", e.reason);
        assert!(e.span.is_some(), "{src}");
    }
    // …while each of these alone is local.
    let m = load(
        "fn model() -> Real { let x ~ Normal(0.0, 1.0); let b ~ Bernoulli(0.5); observe(Normal(if b { x } else { 0.0 }, 1.0), 0.3); x }",
        None,
    );
    let g = GradientModel::new(&m.program, &m.globals, m.func).unwrap();
    assert_eq!(g.summed_out().addresses, ["b[0]"]);
}
