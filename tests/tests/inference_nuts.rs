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
