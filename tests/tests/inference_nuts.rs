//! NUTS against exact answers: every continuous distribution's prior
//! sampled alone (moments and a Kolmogorov–Smirnov statistic against the
//! exact CDF), a conjugate Gaussian regression (posterior mean and
//! covariance), and simulation-based calibration on three small models
//! (one with a positive and one with an interval parameter).
//!
//! Tolerances come from the Monte Carlo error: a mean is within 5 MCSE
//! (sd/√ESS), a variance within 5 of its standard errors (√(2/ESS)
//! relative, for near-Gaussian draws); the KS statistic is below
//! 2/√ESS (the 99.9% point of Kolmogorov's distribution is 1.95/√n).

mod inference_util;
use inference_util::{model_named, model_of, reals};
use tyche_dist::{Dist, DistKind, Outcome, Param};
use tyche_infer::{Method, Model, Options};
use tyche_vm::Value;

/// NUTS on `m` (prepared as `tyche run` prepares it).
fn nuts(
    m: &Model,
    chains: usize,
    warmup: usize,
    samples: usize,
    seed: u64,
) -> tyche_infer::InferResult {
    let opts = Options {
        method: Method::Nuts,
        chains,
        warmup,
        samples,
        seed,
        traces: false,
        ..Options::default()
    };
    tyche_engine::run(tyche_engine::Spec::new(m, opts).method(Some(Method::Nuts)))
        .unwrap_or_else(|d| panic!("nuts failed: {}", d.message))
        .result
}

fn reals_of(r: &tyche_infer::InferResult) -> Vec<f64> {
    r.draws
        .iter()
        .map(|d| d.value.as_number().unwrap())
        .collect()
}

fn chains_of(r: &tyche_infer::InferResult) -> Vec<Vec<f64>> {
    let xs = reals_of(r);
    let c = r.mcmc.as_ref().unwrap().chains;
    xs.chunks(xs.len() / c).map(<[f64]>::to_vec).collect()
}

fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    (
        m,
        xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0),
    )
}

#[test]
fn nuts_samples_every_continuous_prior() {
    use DistKind::*;
    let cases: &[(DistKind, &[f64])] = &[
        (Normal, &[1.0, 2.0]),
        (Normal, &[-30.0, 0.01]),
        (LogNormal, &[0.0, 0.5]),
        (LogNormal, &[2.0, 1.0]),
        (Uniform, &[-1.0, 3.0]),
        (Beta, &[0.5, 0.5]),
        (Beta, &[2.0, 5.0]),
        (Gamma, &[0.5, 1.0]),
        (Gamma, &[5.0, 2.0]),
        (InvGamma, &[3.0, 2.0]),
        (Exponential, &[1.5]),
        (Cauchy, &[0.0, 1.0]),
        (StudentT, &[5.0, 1.0, 2.0]),
    ];
    let mut problems = Vec::new();
    for (i, (kind, ps)) in cases.iter().enumerate() {
        let args: Vec<String> = ps.iter().map(|p| format!("{p:?}")).collect();
        let src = format!(
            "fn model() -> Real {{ let x ~ {}({}); x }}",
            kind.name(),
            args.join(", ")
        );
        let m = model_of(&src);
        let r = nuts(&m, 4, 1000, 1000, 100 + i as u64);
        let label = format!("{}({})", kind.name(), args.join(", "));
        let cs = chains_of(&r);
        let ess = tyche_infer::stats::ess_bulk(&cs).unwrap();
        let tail = tyche_infer::stats::ess_tail(&cs).unwrap();
        let params: Vec<Param> = ps.iter().map(|&p| Param::Real(p)).collect();
        let dist = Dist::new(*kind, &params).unwrap();
        let mut xs = reals_of(&r);
        let (m_hat, v_hat) = mean_var(&xs);
        let var = dist.variance().filter(|v| v.is_finite());
        if let (Some(Outcome::Real(mu)), Some(v)) = (dist.mean(), var) {
            let mcse = (v / ess).sqrt();
            if (m_hat - mu).abs() > 5.0 * mcse {
                problems.push(format!("{label}: mean {m_hat} vs {mu} (MCSE {mcse:.3e})"));
            }
            // Heavy tails (InvGamma's fourth moment) make the variance's
            // error larger than the Gaussian √(2/ESS): check only where the
            // kurtosis is moderate.
            if !matches!(kind, InvGamma | LogNormal | StudentT)
                && ((v_hat / v) - 1.0).abs() > 5.0 * (2.0 / ess).sqrt()
            {
                problems.push(format!("{label}: variance {v_hat} vs {v} (ESS {ess:.0})"));
            }
        }
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        let d = xs
            .iter()
            .enumerate()
            .map(|(j, &x)| {
                let f = dist.cdf(&Outcome::Real(x)).unwrap();
                (f - j as f64 / n).abs().max(((j + 1) as f64 / n - f).abs())
            })
            .fold(0.0, f64::max);
        let limit = 2.0 / ess.min(tail).sqrt();
        if d > limit {
            problems.push(format!(
                "{label}: KS {d:.4} above {limit:.4} (ESS {ess:.0}, tail {tail:.0})"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn nuts_gets_a_conjugate_gaussian_regression_exactly() {
    // y = a + b x + e, e ~ N(0, 0.5²), a, b ~ N(0, 2²): the posterior is
    // Gaussian with precision P = X'X/σ² + I/τ² and mean P⁻¹ X'y/σ².
    let xs: Vec<f64> = (0..20).map(|i| i as f64 / 4.0 - 2.0).collect();
    let ys: Vec<f64> = xs
        .iter()
        .enumerate()
        .map(|(i, x)| 1.0 - 0.7 * x + 0.3 * ((i * 7 % 5) as f64 - 2.0) / 2.0)
        .collect();
    let src = "data x: [Real]; data y: [Real];
        fn model() -> (Real, Real) {
            let a ~ Normal(0.0, 2.0);
            let b ~ Normal(0.0, 2.0);
            for i in 0..len(x) { observe(Normal(a + b * x[i], 0.5), y[i]); }
            (a, b)
        }";
    let m = model_named(src, "model", &[("x", reals(&xs)), ("y", reals(&ys))]);
    let (s2, t2) = (0.25, 4.0);
    let (mut p00, mut p01, mut p11, mut r0, mut r1) = (1.0 / t2, 0.0, 1.0 / t2, 0.0, 0.0);
    for (x, y) in xs.iter().zip(&ys) {
        p00 += 1.0 / s2;
        p01 += x / s2;
        p11 += x * x / s2;
        r0 += y / s2;
        r1 += x * y / s2;
    }
    let det = p00 * p11 - p01 * p01;
    let (c00, c01, c11) = (p11 / det, -p01 / det, p00 / det);
    let (m0, m1) = (c00 * r0 + c01 * r1, c01 * r0 + c11 * r1);
    let r = nuts(&m, 4, 1000, 1000, 7);
    let draws: Vec<(f64, f64)> = r
        .draws
        .iter()
        .map(|d| match &d.value {
            Value::Tuple(v) => (v[0].as_number().unwrap(), v[1].as_number().unwrap()),
            other => panic!("{other:?}"),
        })
        .collect();
    let n = draws.len() as f64;
    let (a_hat, b_hat) = draws
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let cov = |f: &dyn Fn(&(f64, f64)) -> f64| draws.iter().map(f).sum::<f64>() / (n - 1.0);
    let v00 = cov(&|(a, _)| (a - a_hat) * (a - a_hat));
    let v01 = cov(&|(a, b)| (a - a_hat) * (b - b_hat));
    let v11 = cov(&|(_, b)| (b - b_hat) * (b - b_hat));
    let chains = r.mcmc.as_ref().unwrap().chains;
    let per = draws.len() / chains;
    let ess = |k: usize| {
        let cs: Vec<Vec<f64>> = draws
            .chunks(per)
            .map(|c| c.iter().map(|p| if k == 0 { p.0 } else { p.1 }).collect())
            .collect();
        tyche_infer::stats::ess_bulk(&cs).unwrap()
    };
    let (ea, eb) = (ess(0), ess(1));
    assert!(
        (a_hat - m0).abs() < 5.0 * (c00 / ea).sqrt(),
        "a: {a_hat} vs {m0}"
    );
    assert!(
        (b_hat - m1).abs() < 5.0 * (c11 / eb).sqrt(),
        "b: {b_hat} vs {m1}"
    );
    let e = ea.min(eb);
    assert!(
        (v00 / c00 - 1.0).abs() < 5.0 * (2.0 / e).sqrt(),
        "var a: {v00} vs {c00}"
    );
    assert!(
        (v11 / c11 - 1.0).abs() < 5.0 * (2.0 / e).sqrt(),
        "var b: {v11} vs {c11}"
    );
    // The correlation's standard error is about (1 − ρ²)/√ESS.
    let (rho_hat, rho) = (v01 / (v00 * v11).sqrt(), c01 / (c00 * c11).sqrt());
    assert!(
        (rho_hat - rho).abs() < 5.0 * (1.0 - rho * rho) / e.sqrt(),
        "corr: {rho_hat} vs {rho}"
    );
}

/// The simulations' generator: the project's SplitMix64 (independent of
/// the sampler's streams, which derive from the run's seed).
struct Sim(tyche_infer::rng::SplitMix64);

impl Sim {
    fn new(seed: u64) -> Sim {
        Sim(tyche_infer::rng::SplitMix64::new(seed))
    }

    fn uniform(&mut self) -> f64 {
        use rand::RngExt;
        self.0.random::<f64>()
    }

    fn draw(&mut self, d: &Dist) -> f64 {
        match d.quantile(self.uniform()).unwrap() {
            Outcome::Real(x) => x,
            Outcome::Int(k) => k as f64,
            Outcome::Bool(b) => f64::from(u8::from(b)),
            Outcome::Vector(_) => unreachable!(),
        }
    }
}

/// Simulation-based calibration (Talts et al. 2018): for `reps` draws of
/// the parameter from its prior and data from the model, the rank of the
/// true value among `L = 99` thinned posterior draws is uniform on
/// 0..=99 exactly when the sampler is right. Ranks are pooled into 10
/// bins and tested with Pearson's chi-square (9 degrees of freedom; the
/// 0.1% critical value is 27.88).
fn sbc(
    name: &str,
    src: &str,
    prior: Dist,
    data: impl Fn(f64, &mut Sim) -> Vec<(&'static str, Value)>,
) {
    const REPS: usize = 200;
    const L: usize = 99;
    const THIN: usize = 3;
    let mut sim = Sim::new(0x5bc0 ^ name.len() as u64);
    let mut bins = [0usize; 10];
    let cases: Vec<(f64, Vec<(&'static str, Value)>)> = (0..REPS)
        .map(|_| {
            let truth = sim.draw(&prior);
            let d = data(truth, &mut sim);
            (truth, d)
        })
        .collect();
    let ranks: Vec<usize> = rayon_map(&cases, |(truth, d)| {
        let m = model_named(src, "model", d);
        let r = nuts(&m, 1, 200, L * THIN, 11);
        let xs = reals_of(&r);
        xs.iter().step_by(THIN).filter(|&&x| x < *truth).count()
    });
    for k in ranks {
        bins[k * 10 / (L + 1)] += 1;
    }
    let expected = REPS as f64 / 10.0;
    let chi2: f64 = bins
        .iter()
        .map(|&o| (o as f64 - expected).powi(2) / expected)
        .sum();
    assert!(
        chi2 < 27.88,
        "{name}: rank histogram {bins:?} (chi-square {chi2:.1})"
    );
}

fn rayon_map<T: Sync, R: Send>(xs: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    use rayon::prelude::*;
    xs.par_iter().map(f).collect()
}

#[test]
fn sbc_normal_mean() {
    let prior = Dist::new(DistKind::Normal, &[Param::Real(0.0), Param::Real(1.0)]).unwrap();
    sbc(
        "normal mean",
        "data y: [Real]; fn model() -> Real { let mu ~ Normal(0.0, 1.0); for i in 0..len(y) { observe(Normal(mu, 1.0), y[i]); } mu }",
        prior,
        |mu, sim| {
            let d = Dist::new(DistKind::Normal, &[Param::Real(mu), Param::Real(1.0)]).unwrap();
            vec![("y", reals(&(0..5).map(|_| sim.draw(&d)).collect::<Vec<_>>()))]
        },
    );
}

#[test]
fn sbc_positive_scale() {
    let prior = Dist::new(DistKind::Gamma, &[Param::Real(3.0), Param::Real(2.0)]).unwrap();
    sbc(
        "positive scale",
        "data y: [Real]; fn model() -> Real { let s ~ Gamma(3.0, 2.0); for i in 0..len(y) { observe(Normal(0.0, s), y[i]); } s }",
        prior,
        |s, sim| {
            let d = Dist::new(DistKind::Normal, &[Param::Real(0.0), Param::Real(s)]).unwrap();
            vec![("y", reals(&(0..5).map(|_| sim.draw(&d)).collect::<Vec<_>>()))]
        },
    );
}

#[test]
fn sbc_interval_probability() {
    let prior = Dist::new(DistKind::Beta, &[Param::Real(2.0), Param::Real(3.0)]).unwrap();
    sbc(
        "interval probability",
        "data k: [Bool]; fn model() -> Real { let p ~ Beta(2.0, 3.0); for i in 0..len(k) { observe(Bernoulli(p), k[i]); } p }",
        prior,
        |p, sim| {
            let ks: Vec<Value> = (0..8).map(|_| Value::Bool(sim.uniform() < p)).collect();
            vec![("k", Value::array(ks))]
        },
    );
}

#[test]
fn nuts_runs_are_reproducible() {
    let m = model_of("fn model() -> Real { let x ~ Gamma(2.0, 1.0); let y ~ Normal(x, 1.0); y }");
    let a = reals_of(&nuts(&m, 2, 100, 50, 3));
    let b = reals_of(&nuts(&m, 2, 100, 50, 3));
    let c = reals_of(&nuts(&m, 2, 100, 50, 4));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

/// A density piecewise in a random value (`if x > 0 { 2x } else { x }`)
/// is traced as a select, not refused as "a branch depends on a random
/// choice", so NUTS runs it (issue 15 item 7); its posterior matches
/// quadrature.
#[test]
fn nuts_runs_a_piecewise_density() {
    let m = model_of(
        "fn model() -> Real {
            let x ~ Normal(0.0, 1.0);
            let y = if x > 0.0 { x * 2.0 } else { x };
            observe(Normal(y, 1.0), 1.0);
            x
        }",
    );
    let r = nuts(&m, 4, 1000, 1000, 3);
    assert_eq!(r.backend, tyche_infer::Backend::Jit);
    // Quadrature on [-10, 10] (the mass outside is below 1e-20).
    let (mut z, mut s1, mut s2) = (0.0, 0.0, 0.0);
    for i in 0..=200_000 {
        let x = -10.0 + i as f64 * 1e-4;
        let y = if x > 0.0 { 2.0 * x } else { x };
        let w = (-x * x / 2.0 - (1.0 - y) * (1.0 - y) / 2.0).exp();
        (z, s1, s2) = (z + w, s1 + w * x, s2 + w * x * x);
    }
    let (exact_mean, exact_sd) = (s1 / z, (s2 / z - (s1 / z).powi(2)).sqrt());
    let (mean, var) = mean_var(&reals_of(&r));
    let ess = r.mcmc.as_ref().unwrap().ess.unwrap();
    assert!(
        (mean - exact_mean).abs() < 5.0 * exact_sd / ess.sqrt(),
        "mean {mean} vs {exact_mean} (ess {ess})"
    );
    assert!(
        (var.sqrt() - exact_sd).abs() < 5.0 * exact_sd / (2.0 * ess).sqrt(),
        "sd {} vs {exact_sd}",
        var.sqrt()
    );
}

/// NUTS on the compiled gradient and on the interpreted one (the
/// reference): the same draws for a seed. The two gradients agree to
/// rounding (`tyche-jit/tests/proptest_kernels.rs`); on these models they
/// agree bit for bit, so the chains do too.
#[test]
fn nuts_draws_are_the_same_with_compiled_and_interpreted_gradients() {
    use std::sync::Arc;
    use tyche_jit::gradient::GradientModel;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/posteriordb");
    for name in ["kidscore_momiq", "arK", "eight_schools_noncentered"] {
        let src = std::fs::read_to_string(root.join(format!("{name}.ppl"))).unwrap();
        let data = std::fs::read_to_string(root.join(format!("{name}.data.json"))).unwrap();
        let m = model_with_data(&src, &data);
        let Value::Closure(c) = &m.entry else {
            panic!("{name}: the model is not a closure")
        };
        let mut draws = Vec::new();
        for compile in [true, false] {
            let g = GradientModel::new_with(&m.program, &m.globals, c.func, compile).unwrap();
            assert_eq!(
                tyche_infer::NativeGradient::origin(&g),
                if compile { "jit" } else { "kernel interpreter" }
            );
            let opts = Options {
                method: Method::Nuts,
                chains: 2,
                warmup: 150,
                samples: 100,
                seed: 11,
                traces: true,
                gradient: Some(tyche_infer::NativeGrad(Arc::new(g))),
                ..Options::default()
            };
            let r =
                tyche_infer::infer(&m, &opts).unwrap_or_else(|d| panic!("{name}: {}", d.message));
            draws.push(
                r.draws
                    .iter()
                    .flat_map(|d| {
                        d.trace
                            .iter()
                            .map(|(_, v)| v.as_number().unwrap().to_bits())
                    })
                    .collect::<Vec<u64>>(),
            );
        }
        assert!(!draws[0].is_empty());
        assert!(
            draws[0] == draws[1],
            "{name}: compiled and interpreted gradients gave different draws"
        );
    }
}

/// Compiles `src` with its data file's text bound.
fn model_with_data(src: &str, data: &str) -> Model {
    let mut sources = tyche_core::SourceMap::new();
    let render = |d: &[tyche_core::Diagnostic], s: &tyche_core::SourceMap| {
        tyche_core::render_all(d, s, false)
    };
    let compiled = tyche_driver::compile_source(&mut sources, "test.ppl", src)
        .unwrap_or_else(|d| panic!("{}", render(&d, &sources)));
    let (file, value) = tyche_driver::parse_data_file(&mut sources, "data.json", data)
        .unwrap_or_else(|d| panic!("{}", render(&[d], &sources)));
    let bound = tyche_driver::bind_data(&compiled, &sources, Some((file, &value)))
        .unwrap_or_else(|d| panic!("{}", render(&d, &sources)));
    let globals = tyche_driver::evaluate_globals(&compiled.ir, &bound)
        .unwrap_or_else(|d| panic!("{}", render(&[d], &sources)));
    let func = tyche_driver::model(&compiled, &sources, "model")
        .unwrap_or_else(|d| panic!("{}", render(&[d], &sources)));
    Model::for_function(compiled.ir.clone(), globals, func)
}

/// A Dirichlet prior alone, on the stick-breaking transform, in several
/// regimes (flat, sparse below 1, concentrated, uneven): every
/// component's mean and variance against the exact ones, and the first
/// component's marginal, Beta(α₀, Σα − α₀), by a KS statistic.
#[test]
fn nuts_samples_dirichlet_priors() {
    let cases: &[&[f64]] = &[
        &[1.0, 1.0],
        &[0.5, 0.5, 0.5],
        &[2.0, 3.0, 5.0],
        &[10.0, 1.0, 0.3, 4.0],
    ];
    let mut problems = Vec::new();
    for (i, alpha) in cases.iter().enumerate() {
        let args: Vec<String> = alpha.iter().map(|a| format!("{a:?}")).collect();
        let label = format!("Dirichlet([{}])", args.join(", "));
        let src = format!(
            "fn model() -> [Real] {{ let w ~ Dirichlet([{}]); w }}",
            args.join(", ")
        );
        let r = nuts(&model_of(&src), 4, 1000, 1000, 200 + i as u64);
        let chains = r.mcmc.as_ref().unwrap().chains;
        let total: f64 = alpha.iter().sum();
        let component = |k: usize| -> Vec<f64> {
            r.draws
                .iter()
                .map(|d| match &d.value {
                    Value::Array(xs) => {
                        assert_eq!(xs.len(), alpha.len());
                        xs[k].as_number().unwrap()
                    }
                    other => panic!("{other:?}"),
                })
                .collect()
        };
        for (k, &a) in alpha.iter().enumerate() {
            let xs = component(k);
            let cs: Vec<Vec<f64>> = xs.chunks(xs.len() / chains).map(<[f64]>::to_vec).collect();
            let ess = tyche_infer::stats::ess_bulk(&cs).unwrap();
            let mu = a / total;
            let v = mu * (1.0 - mu) / (total + 1.0);
            let (m_hat, v_hat) = mean_var(&xs);
            let mcse = (v / ess).sqrt();
            if (m_hat - mu).abs() > 5.0 * mcse {
                problems.push(format!(
                    "{label}[{k}]: mean {m_hat} vs {mu} (MCSE {mcse:.3e})"
                ));
            }
            // A Beta's kurtosis is moderate except with a parameter below 1.
            if a >= 1.0 && total - a >= 1.0 && ((v_hat / v) - 1.0).abs() > 5.0 * (2.0 / ess).sqrt()
            {
                problems.push(format!(
                    "{label}[{k}]: variance {v_hat} vs {v} (ESS {ess:.0})"
                ));
            }
        }
        let mut xs = component(0);
        let cs: Vec<Vec<f64>> = xs.chunks(xs.len() / chains).map(<[f64]>::to_vec).collect();
        let ess = tyche_infer::stats::ess_bulk(&cs).unwrap();
        let tail = tyche_infer::stats::ess_tail(&cs).unwrap();
        let beta = Dist::new(
            DistKind::Beta,
            &[Param::Real(alpha[0]), Param::Real(total - alpha[0])],
        )
        .unwrap();
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        let d = xs
            .iter()
            .enumerate()
            .map(|(j, &x)| {
                let f = beta.cdf(&Outcome::Real(x)).unwrap();
                (f - j as f64 / n).abs().max(((j + 1) as f64 / n - f).abs())
            })
            .fold(0.0, f64::max);
        let limit = 2.0 / ess.min(tail).sqrt();
        if d > limit {
            problems.push(format!(
                "{label}[0]: KS {d:.4} above {limit:.4} (ESS {ess:.0}, tail {tail:.0})"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Simulation-based calibration of NUTS on a simplex: `w ~
/// Dirichlet([2, 2, 2])`, eight Categorical observations, the rank of
/// `w[0]`. The truth is drawn by stick-breaking: `w[0] ~ Beta(2, 4)`, then
/// `w[1] = (1 − w[0])·Beta(2, 2)`.
#[test]
fn sbc_simplex_probability() {
    let prior = Dist::new(DistKind::Beta, &[Param::Real(2.0), Param::Real(4.0)]).unwrap();
    let stick = Dist::new(DistKind::Beta, &[Param::Real(2.0), Param::Real(2.0)]).unwrap();
    sbc(
        "simplex probability",
        "data k: [Int]; fn model() -> Real { let w ~ Dirichlet([2.0, 2.0, 2.0]); for i in 0..len(k) { observe(Categorical(w), k[i]); } w[0] }",
        prior,
        move |w0, sim| {
            let w1 = (1.0 - w0) * sim.draw(&stick);
            let ks: Vec<Value> = (0..8)
                .map(|_| {
                    let u = sim.uniform();
                    Value::Int(if u < w0 { 0 } else if u < w0 + w1 { 1 } else { 2 })
                })
                .collect();
            vec![("k", Value::array(ks))]
        },
    );
}

/// `examples/gaussian_mixture.ppl` under the automatic choice: the
/// assignments are summed out and NUTS runs on the weights and the means.
/// The reference is quadrature: the weight integrated exactly (the
/// likelihood is a polynomial of degree 10 in it, the Dirichlet([1, 1])
/// prior flat), the two means on a grid over (−8, 8)² with mu0 < mu1.
#[test]
fn nuts_gets_the_gaussian_mixture_right_by_default() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let src = std::fs::read_to_string(root.join("gaussian_mixture.ppl")).unwrap();
    let m = model_of(&src);
    let opts = Options {
        seed: 5,
        ..Options::default()
    };
    let run = tyche_engine::run(tyche_engine::Spec::new(&m, opts)).unwrap();
    match &run.choice {
        Some(tyche_engine::Choice::NutsSummedOut {
            coordinates: 3,
            summed_out,
            ..
        }) => assert_eq!(summed_out.len(), 10),
        other => panic!("{other:?}"),
    }
    let reason = run.reason().unwrap();
    assert!(
        reason.contains("z[0], z[1], …, z[9] (10 choices) are summed out"),
        "{reason}"
    );
    assert!(
        run.diagnosis.warnings.is_empty(),
        "{:?}",
        run.diagnosis.warnings
    );

    let ys = [-2.1, -1.7, -2.4, -1.9, 2.2, 1.8, 2.5, 2.0, 1.6, -2.2];
    let h = 0.04;
    let grid: Vec<f64> = (0..=400).map(|i| -8.0 + h * i as f64).collect();
    let mut pts = Vec::new();
    for (i, &m0) in grid.iter().enumerate() {
        for &m1 in &grid[i + 1..] {
            // ∫₀¹ Π (w aᵢ + (1 − w) bᵢ) dw, each factor scaled by its max.
            let mut poly = vec![1.0];
            let mut log_scale = 0.0;
            for &y in &ys {
                let la = -0.5 * ((y - m0) / 0.5_f64).powi(2);
                let lb = -0.5 * ((y - m1) / 0.5_f64).powi(2);
                let top = la.max(lb);
                log_scale += top;
                let (a, b) = ((la - top).exp(), (lb - top).exp());
                let mut next = vec![0.0; poly.len() + 1];
                for (j, c) in poly.iter().enumerate() {
                    next[j] += c * b;
                    next[j + 1] += c * (a - b);
                }
                poly = next;
            }
            let integral: f64 = poly
                .iter()
                .enumerate()
                .map(|(j, c)| c / (j + 1) as f64)
                .sum();
            let prior = -0.5 * (m0 / 5.0).powi(2) - 0.5 * (m1 / 5.0).powi(2);
            pts.push((m0, m1, log_scale + integral.ln() + prior));
        }
    }
    let top = pts.iter().map(|p| p.2).fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = pts.iter().map(|p| (p.2 - top).exp()).sum();
    let moment = |f: &dyn Fn(f64, f64) -> f64| {
        pts.iter()
            .map(|p| f(p.0, p.1) * (p.2 - top).exp())
            .sum::<f64>()
            / z
    };
    let means = [moment(&|a, _| a), moment(&|_, b| b)];
    let vars = [
        moment(&|a, _| (a - means[0]).powi(2)),
        moment(&|_, b| (b - means[1]).powi(2)),
    ];
    let r = &run.result;
    let chains = r.mcmc.as_ref().unwrap().chains;
    for k in 0..2 {
        let xs: Vec<f64> = r
            .draws
            .iter()
            .map(|d| match &d.value {
                Value::Tuple(v) => v[k].as_number().unwrap(),
                other => panic!("{other:?}"),
            })
            .collect();
        let cs: Vec<Vec<f64>> = xs.chunks(xs.len() / chains).map(<[f64]>::to_vec).collect();
        let ess = tyche_infer::stats::ess_bulk(&cs).unwrap();
        let (m_hat, v_hat) = mean_var(&xs);
        let mcse = (vars[k] / ess).sqrt();
        eprintln!(
            "mu{k}: mean {m_hat:.4} sd {:.4} (ESS {ess:.0}, MCSE {mcse:.4}); quadrature {:.4} sd {:.4}",
            v_hat.sqrt(),
            means[k],
            vars[k].sqrt()
        );
        assert!(
            (m_hat - means[k]).abs() < 5.0 * mcse,
            "mu{k}: mean {m_hat} vs quadrature {} (MCSE {mcse:.4})",
            means[k]
        );
        assert!(
            (v_hat / vars[k] - 1.0).abs() < 5.0 * (2.0 / ess).sqrt(),
            "mu{k}: variance {v_hat} vs quadrature {} (ESS {ess:.0})",
            vars[k]
        );
    }
    // `--method nuts` runs it too.
    let forced = nuts(&m, 2, 200, 200, 9);
    assert_eq!(forced.draws.len(), 400);
}
