//! Unit tests of the building blocks and algorithms on hand-assembled
//! programs. (Source-level tests of whole models live in the workspace's
//! `tests/tests/inference_*.rs`.)
//!
//! Tolerances: a Monte Carlo estimate with effective sample size `ess` of a
//! quantity with posterior standard deviation `sd` has standard error about
//! `sd / sqrt(ess)`; the tests allow 5 standard errors (a two-sided 5σ
//! deviation has probability 6e-7), so with fixed seeds they are
//! deterministic and a failure means a real bias, not bad luck.

use crate::testing::Prog;
use crate::*;
use std::sync::Arc;
use tyche_dist::DistKind;
use tyche_ir::{BinOp, EditKind, Prim};
use tyche_vm::Value;

fn opts(method: Method, n: usize) -> Options {
    Options::for_method(method, n).with_seed(20261126)
}

/// The Bernoulli model: `x ~ Bernoulli(0.3)`.
fn coin() -> Model {
    let mut p = Prog::new();
    let f = p.declare("model", 0, 0);
    let mut b = p.body(f);
    let x = b.draw("x", DistKind::Bernoulli, &[0.3]);
    b.ret(x);
    p.model(f, vec![])
}

#[test]
fn enumerate_a_single_choice() {
    let r = infer(&coin(), &opts(Method::Enumerate, 0)).unwrap();
    assert!(r.exact);
    assert_eq!(r.draws.len(), 2);
    assert!((r.prob(&Value::Bool(true)) - 0.3).abs() < 1e-15);
    // log(0.3 + 0.7), up to rounding.
    assert!(r.log_evidence.unwrap().abs() < 1e-15);
}

/// A model whose structure and supports change with its choices:
/// ```text
/// b ~ Bernoulli(0.4)
/// r = if b { x ~ Categorical([0.2, 0.3, 0.5]); x }
///     else { y ~ DiscreteUniform(0, 3); k ~ DiscreteUniform(0, y); y + k }
/// observe(Poisson(real(r) + 1), 2)
/// r
/// ```
fn structured() -> Model {
    let mut p = Prog::new();
    let f = p.declare("model", 0, 0);
    let mut b = p.body(f);
    let r = b.reg();
    let c = b.draw("b", DistKind::Bernoulli, &[0.4]);
    let (then_l, else_l, join) = (b.label(), b.label(), b.label());
    b.branch(c, then_l, else_l);
    b.place(then_l);
    let ps: Vec<_> = [0.2, 0.3, 0.5].iter().map(|&x| b.real(x)).collect();
    let arr = b.array(&ps);
    let d = b.dist(DistKind::Categorical, &[arr]);
    let x = b.sample("x", d);
    b.mov(r, x);
    b.jump(join);
    b.place(else_l);
    let y = b.draw("y", DistKind::DiscreteUniform, &[0.0, 3.0]);
    let zero = b.int(0);
    let dk = b.dist(DistKind::DiscreteUniform, &[zero, y]);
    let k = b.sample("k", dk);
    let s = b.bin(BinOp::Add, y, k);
    b.mov(r, s);
    b.jump(join);
    b.place(join);
    let rr = b.prim(Prim::Real, &[r]);
    let one = b.real(1.0);
    let rate = b.bin(BinOp::Add, rr, one);
    let pd = b.dist(DistKind::Poisson, &[rate]);
    let two = b.int(2);
    b.observe("obs", pd, two);
    b.ret(r);
    p.model(f, vec![])
}

/// The exact posterior of [`structured`] by brute force: (P(r), Z).
fn structured_truth() -> (Vec<f64>, f64) {
    let poisson2 = |rate: f64| (-rate).exp() * rate * rate / 2.0;
    let mut mass = vec![0.0; 7];
    for (x, px) in [0.2, 0.3, 0.5].iter().enumerate() {
        mass[x] += 0.4 * px * poisson2(x as f64 + 1.0);
    }
    for y in 0..=3usize {
        for k in 0..=y {
            let prior = 0.6 * 0.25 / (y as f64 + 1.0);
            mass[y + k] += prior * poisson2((y + k) as f64 + 1.0);
        }
    }
    let z: f64 = mass.iter().sum();
    (mass.iter().map(|m| m / z).collect(), z)
}

#[test]
fn enumerate_matches_brute_force_on_a_changing_structure() {
    let (truth, z) = structured_truth();
    let r = infer(&structured(), &opts(Method::Enumerate, 0)).unwrap();
    for (v, p) in truth.iter().enumerate() {
        assert!(
            (r.prob(&Value::Int(v as i64)) - p).abs() < 1e-14,
            "P(r = {v})"
        );
    }
    assert!((r.log_evidence.unwrap() - z.ln()).abs() < 1e-13);
}

/// Checks a sampler's estimate of P(r = v) for every v, and of E[r],
/// within 5 standard errors computed from `ess`.
fn check_structured(r: &InferResult, ess: f64, what: &str) {
    let (truth, _) = structured_truth();
    let mean: f64 = truth.iter().enumerate().map(|(v, p)| v as f64 * p).sum();
    let var: f64 = truth
        .iter()
        .enumerate()
        .map(|(v, p)| (v as f64 - mean).powi(2) * p)
        .sum();
    let m = r.mean().unwrap();
    assert!(
        (m - mean).abs() < 5.0 * (var / ess).sqrt(),
        "{what}: mean {m} vs {mean} (ess {ess})"
    );
    for (v, p) in truth.iter().enumerate() {
        let est = r.prob(&Value::Int(v as i64));
        let se = (p * (1.0 - p) / ess).sqrt();
        assert!(
            (est - p).abs() < 5.0 * se + 1e-9,
            "{what}: P(r = {v}) = {est} vs {p} (se {se})"
        );
    }
}

#[test]
fn importance_and_smc_on_a_changing_structure() {
    let m = structured();
    let (_, z) = structured_truth();
    let r = infer(&m, &opts(Method::Importance, 20_000)).unwrap();
    let ess = r.ess.unwrap();
    check_structured(&r, ess, "importance");
    // log Ẑ: relative variance of Ẑ is about 1/ess − 1/n (module docs).
    let sd = (1.0 / ess - 1.0 / 20_000.0).sqrt();
    assert!(
        (r.log_evidence.unwrap() - z.ln()).abs() < 5.0 * sd,
        "importance evidence"
    );

    let r = infer(&m, &opts(Method::Smc, 20_000)).unwrap();
    // One observation: SMC is importance sampling followed by resampling,
    // which (for systematic resampling) at most doubles the variance.
    let ess = r.ess.unwrap() / 2.0;
    check_structured(&r, ess, "smc");
    assert!(
        (r.log_evidence.unwrap() - z.ln()).abs() < 5.0 * (1.0 / ess).sqrt(),
        "smc evidence"
    );
}

#[test]
fn mh_and_pmmh_on_a_changing_structure() {
    // Exercises the |x| terms, fresh/stale choices and the support rule
    // (k's support shrinks when y does).
    let m = structured();
    let mut o = opts(Method::Mh, 20_000);
    o.burn = 200;
    let r = infer(&m, &o).unwrap();
    let stats = r.mcmc.clone().unwrap();
    assert_eq!(stats.chains, 4);
    assert!(stats.acceptance_rate > 0.1 && stats.acceptance_rate < 1.0);
    assert!(
        (stats.rhat.unwrap() - 1.0).abs() < 0.05,
        "rhat {:?}",
        stats.rhat
    );
    check_structured(&r, stats.ess.unwrap(), "mh");

    // Every choice precedes the only observation, so PMMH's inner SMC is
    // deterministic and PMMH is exact MH on the same chain structure.
    let mut o = opts(Method::Pmmh, 4_000);
    o.particles = 2;
    o.burn = 100;
    let r = infer(&m, &o).unwrap();
    check_structured(&r, r.mcmc.as_ref().unwrap().ess.unwrap(), "pmmh");
}

#[test]
fn resample_move_smc_on_a_changing_structure() {
    let mut o = opts(Method::Smc, 5_000);
    o.rejuvenate = 2;
    let r = infer(&structured(), &o).unwrap();
    // The moves leave the target invariant; after the last resampling the
    // particles are (correlated) draws, so use half the particle count.
    check_structured(&r, 2_500.0, "resample-move");
}

/// Exact E[count_i] of a resampling scheme, integrating over its uniform:
/// every scheme is driven here by one uniform `u` repeated (for the
/// stratified, multinomial and residual schemes the draws are independent,
/// and by linearity of expectation the expected counts are the same as
/// when they are all equal). Counts are piecewise constant in `u` with
/// jumps only at the points listed, so the midpoint rule is exact.
fn expected_counts(scheme: Resampler, probs: &[f64], n: usize) -> Vec<f64> {
    let nf = n as f64;
    let mut cuts = vec![0.0, 1.0];
    let mut c = 0.0;
    let floors: Vec<f64> = probs.iter().map(|p| (nf * p).floor()).collect();
    let residual: Vec<f64> = probs.iter().zip(&floors).map(|(p, f)| nf * p - f).collect();
    let rtotal: f64 = residual.iter().sum();
    let mut rc = 0.0;
    for (p, r) in probs.iter().zip(&residual) {
        c += p;
        rc += r / rtotal;
        cuts.extend([c, (nf * c).fract(), rc]);
    }
    cuts.retain(|x| (0.0..=1.0).contains(x));
    cuts.sort_by(f64::total_cmp);
    let mut expected = vec![0.0; probs.len()];
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b - a < 1e-15 {
            continue;
        }
        let u = 0.5 * (a + b);
        for i in scheme.ancestors_with(probs, n, &mut || u) {
            expected[i] += b - a;
        }
    }
    expected
}

#[test]
fn resampling_an_enumerated_population_is_exactly_unbiased() {
    // An exact population: the enumerated posterior of `structured`.
    let r = infer(&structured(), &opts(Method::Enumerate, 0)).unwrap();
    let probs = r.probabilities();
    assert_eq!(probs.len(), 7);
    for scheme in [
        Resampler::Systematic,
        Resampler::Stratified,
        Resampler::Multinomial,
        Resampler::Residual,
    ] {
        for n in [1, 5, 7, 16, 100] {
            let e = expected_counts(scheme, &probs, n);
            for (i, p) in probs.iter().enumerate() {
                // E[empirical probability of particle i] = E[count_i]/n.
                assert!(
                    (e[i] / n as f64 - p).abs() < 1e-12,
                    "{scheme:?} n={n} i={i}: {} vs {p}",
                    e[i] / n as f64
                );
            }
        }
    }
}

#[test]
fn resamplers_draw_sorted_valid_ancestors() {
    use rand::SeedableRng;
    let probs = [0.0, 0.5, 0.0, 0.25, 0.25, 0.0];
    let mut rng = rng::InferRng::seed_from_u64(3);
    for scheme in [
        Resampler::Systematic,
        Resampler::Stratified,
        Resampler::Multinomial,
        Resampler::Residual,
    ] {
        for n in [1, 3, 8, 1000] {
            let a = scheme.ancestors(&probs, n, &mut rng);
            assert_eq!(a.len(), n);
            assert!(a.windows(2).all(|w| w[0] <= w[1]), "{scheme:?} sorted");
            assert!(
                a.iter().all(|&i| probs[i] > 0.0),
                "{scheme:?} never picks a zero-weight particle"
            );
        }
    }
    // Systematic resampling of weights that are multiples of 1/n is exact.
    let a = Resampler::Systematic.ancestors(&[0.5, 0.25, 0.25], 4, &mut rng);
    assert_eq!(a, vec![0, 0, 1, 2]);
}

#[test]
fn systematic_resampling_takes_the_points_k_plus_u_over_n() {
    // The contract, walked point by point: ancestor k is the first index
    // whose cumulative weight exceeds (k + u)·total/n, or the last index
    // of positive weight.
    use rand::{RngExt, SeedableRng};
    let mut rng = rng::InferRng::seed_from_u64(5);
    for len in [1, 2, 7, 100, 1000] {
        for n in [1, 3, len, 2 * len + 1] {
            let probs: Vec<f64> = (0..len)
                .map(|_| {
                    let p: f64 = rng.random();
                    if p < 0.2 {
                        0.0
                    } else {
                        p
                    }
                })
                .collect();
            let total: f64 = probs.iter().sum();
            if total == 0.0 {
                continue;
            }
            let last = probs.iter().rposition(|&p| p > 0.0).unwrap();
            for u in [0.0, rng.random(), 0.999_999] {
                let mut expected = Vec::new();
                for k in 0..n {
                    let target = (k as f64 + u) * total / n as f64;
                    let mut upper = 0.0;
                    let i = (0..last)
                        .find(|&i| {
                            upper += probs[i];
                            upper > target
                        })
                        .unwrap_or(last);
                    expected.push(i);
                }
                let got = Resampler::Systematic.ancestors_with(&probs, n, &mut || u);
                assert_eq!(got, expected, "len={len} n={n} u={u}");
            }
        }
    }
}

#[test]
fn resampling_in_place_moves_no_survivor() {
    // Extra copies fill the slots of particles without offspring, both in
    // increasing order.
    let mut pop = Population::new(vec!['a', 'b', 'c', 'd', 'e', 'f']);
    pop.replace_by(&[1, 1, 1, 1, 1, 3]);
    assert_eq!(pop.particles, vec!['b', 'b', 'b', 'd', 'b', 'b']);
    let mut pop = Population::new(vec!['a', 'b', 'c', 'd', 'e']);
    pop.replace_by(&[0, 2, 2, 2, 4]);
    assert_eq!(pop.particles, vec!['a', 'c', 'c', 'c', 'e']);
}

#[test]
fn population_evidence_survives_resampling() {
    use rand::SeedableRng;
    let mut pop = Population::from_weighted(vec!['a', 'b', 'c'], vec![0.0, 1.0, -2.0]);
    let before = pop.log_evidence();
    let direct = ((1.0 + 1f64.exp() + (-2f64).exp()) / 3.0).ln();
    assert!((before - direct).abs() < 1e-14);
    pop.resample(Resampler::Systematic, &mut rng::InferRng::seed_from_u64(1));
    assert!((pop.log_evidence() - before).abs() < 1e-14);
    assert!(pop.log_weights.iter().all(|&w| w == 0.0));
    assert!((pop.ess() - 3.0).abs() < 1e-12);
}

#[test]
fn smc_evidence_is_unbiased() {
    // Ẑ is unbiased on the natural scale for any particle count: average
    // exp(log Ẑ) over many seeds with few particles. Each Ẑ lies in
    // (0, max_r P(obs | r)] ⊂ (0, 0.28), so its sd is below 0.14 and the
    // mean of 400 has standard error below 0.007; allow 5 of those.
    let m = structured();
    let (_, z) = structured_truth();
    let runs = 400;
    let mut sum = 0.0;
    let mut sum2 = 0.0;
    for seed in 0..runs {
        let o = Options {
            seed,
            ..opts(Method::Smc, 4)
        };
        let zhat = infer(&m, &o).unwrap().log_evidence.unwrap().exp();
        sum += zhat;
        sum2 += zhat * zhat;
    }
    let mean = sum / runs as f64;
    let se = ((sum2 / runs as f64 - mean * mean) / runs as f64).sqrt();
    assert!(
        (mean - z).abs() < 5.0 * se,
        "E[Ẑ] = {mean} vs Z = {z} (se {se})"
    );
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let m = structured();
    let run = |threads: usize, method: Method, n: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut o = opts(method, n);
        o.rejuvenate = usize::from(method == Method::Smc);
        pool.install(|| infer(&m, &o).unwrap())
    };
    for (method, n) in [
        (Method::Smc, 1000),
        (Method::Importance, 1000),
        (Method::Mh, 400),
        (Method::Rejection, 300),
    ] {
        let a = run(1, method, n);
        let b = run(4, method, n);
        assert_eq!(a.draws.len(), b.draws.len());
        for (x, y) in a.draws.iter().zip(&b.draws) {
            assert_eq!(x.value, y.value);
            assert_eq!(x.log_weight.to_bits(), y.log_weight.to_bits());
            assert_eq!(x.trace, y.trace);
        }
        assert_eq!(
            a.log_evidence.map(f64::to_bits),
            b.log_evidence.map(f64::to_bits)
        );
    }
}

#[test]
fn progress_reports_do_not_change_results() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let m = structured();
    for (method, n) in [
        (Method::Smc, 500),
        (Method::Mh, 300),
        (Method::Importance, 400),
    ] {
        let mut o = opts(method, n);
        o.chains = 3;
        o.burn = 50;
        let plain = infer(&m, &o).unwrap();
        let calls = Arc::new(AtomicU64::new(0));
        let last = Arc::new(AtomicU64::new(0));
        let (c, l) = (Arc::clone(&calls), Arc::clone(&last));
        o.progress = Some(crate::Progress::new(move |done, total| {
            c.fetch_add(1, Ordering::Relaxed);
            l.fetch_max(done, Ordering::Relaxed);
            assert!(total == 0 || done <= total, "{done} of {total}");
        }));
        let reported = infer(&m, &o).unwrap();
        assert_eq!(plain.draws.len(), reported.draws.len());
        for (x, y) in plain.draws.iter().zip(&reported.draws) {
            assert_eq!(x.value, y.value, "{method}");
            assert_eq!(x.log_weight.to_bits(), y.log_weight.to_bits());
            assert_eq!(x.trace, y.trace);
        }
        assert_eq!(
            plain.log_evidence.map(f64::to_bits),
            reported.log_evidence.map(f64::to_bits)
        );
        assert!(
            calls.load(Ordering::Relaxed) > 0,
            "{method}: never reported"
        );
        if method == Method::Importance {
            // Every run is counted once; the last report is the total.
            assert_eq!(last.load(Ordering::Relaxed), 400);
            assert!(calls.load(Ordering::Relaxed) <= 200 + 1);
        }
        if method == Method::Mh {
            // Every iteration of every chain is counted once.
            assert_eq!(last.load(Ordering::Relaxed), (3 * 50 + 300) as u64);
            assert!(calls.load(Ordering::Relaxed) <= 200 + 3);
        }
    }
}

#[test]
fn pmmh_reports_progress_without_changing_results() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let m = normal_model(1.0);
    let mut o = opts(Method::Pmmh, 60);
    o.particles = 20;
    o.chains = 2;
    o.burn = 10;
    let plain = infer(&m, &o).unwrap();
    let last = Arc::new(AtomicU64::new(0));
    let l = Arc::clone(&last);
    o.progress = Some(crate::Progress::new(move |done, total| {
        assert_eq!(total, 2 * 10 + 60, "iterations over all chains");
        l.fetch_max(done, Ordering::Relaxed);
    }));
    let reported = infer(&m, &o).unwrap();
    for (x, y) in plain.draws.iter().zip(&reported.draws) {
        assert_eq!(x.value, y.value);
        assert_eq!(x.log_weight.to_bits(), y.log_weight.to_bits());
    }
    // Every iteration of every chain is counted once.
    assert_eq!(last.load(Ordering::Relaxed), 2 * 10 + 60);
}

#[test]
fn every_method_stops_when_cancelled() {
    // A cancelled token stops each method at its first check, with E0773
    // (Enumerate had none: it ran to the end).
    let stop = crate::Stop::new();
    stop.cancel();
    for method in [
        Method::Enumerate,
        Method::Rejection,
        Method::Importance,
        Method::Smc,
        Method::Mh,
        Method::Pmmh,
    ] {
        let m = if method == Method::Enumerate {
            structured()
        } else {
            normal_model(1.0)
        };
        let mut o = opts(method, 50);
        o.particles = 50;
        o.stop = Some(stop.clone());
        let e = infer(&m, &o).unwrap_err();
        assert_eq!(e.code.as_deref(), Some("E0773"), "{method}: {}", e.message);
    }
}

#[test]
fn a_cancelled_smc_step_returns_promptly() {
    // Cancelled from another thread in the middle of a run whose steps
    // each take far longer than the second allowed: the check per
    // particle ends it.
    let m = normal_model(1.0);
    let mut o = opts(Method::Smc, 3_000_000);
    let stop = crate::Stop::new();
    o.stop = Some(stop.clone());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        stop.cancel();
        std::time::Instant::now()
    });
    let e = infer(&m, &o).unwrap_err();
    let returned = std::time::Instant::now();
    let cancelled = canceller.join().unwrap();
    assert_eq!(e.code.as_deref(), Some("E0773"), "{}", e.message);
    let took = returned.duration_since(cancelled);
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
}

/// `mu ~ Normal(0, 1); observe(Normal(mu, sigma), 0.5); mu`.
fn normal_model(sigma: f64) -> Model {
    let mut p = Prog::new();
    let f = p.declare("model", 0, 0);
    let mut b = p.body(f);
    let mu = b.draw("mu", DistKind::Normal, &[0.0, 1.0]);
    let s = b.real(sigma);
    let d = b.dist(DistKind::Normal, &[mu, s]);
    let y = b.real(0.5);
    b.observe("y", d, y);
    b.ret(mu);
    p.model(f, vec![])
}

#[test]
fn enumerate_names_the_continuous_choice() {
    let m = normal_model(1.0);
    let e = infer(&m, &opts(Method::Enumerate, 0)).unwrap_err();
    assert_eq!(
        e.message,
        "Enumerate cannot handle the continuous choice `mu` (Normal)"
    );
    let mu_site = m
        .program
        .sites
        .iter()
        .find(|s| m.program.name(s.name) == "mu")
        .unwrap();
    assert_eq!(e.primary_span(), Some(mu_site.span));
}

#[test]
fn enumerate_rejects_an_infinite_support() {
    let mut p = Prog::new();
    let f = p.declare("model", 0, 0);
    let mut b = p.body(f);
    let k = b.draw("k", DistKind::Poisson, &[2.0]);
    b.ret(k);
    let e = infer(&p.model(f, vec![]), &opts(Method::Enumerate, 0)).unwrap_err();
    assert_eq!(
        e.message,
        "Enumerate cannot handle the choice `k` (Poisson)"
    );
    assert_eq!(e.labels[0].message, "its support is infinite");
}

#[test]
fn enumerate_gives_up_on_unbounded_recursion() {
    // fn geom() { if flip(0.5) { 0 } else { 1 + geom() } }
    let mut p = Prog::new();
    let g = p.declare("geom", 0, 0);
    let mut b = p.body(g);
    let c = b.draw("c", DistKind::Bernoulli, &[0.5]);
    let (stop, go) = (b.label(), b.label());
    b.branch(c, stop, go);
    b.place(stop);
    let zero = b.int(0);
    b.early_return(zero);
    b.place(go);
    let rest = b.call(g, &[]);
    let one = b.int(1);
    let s = b.bin(BinOp::Add, rest, one);
    b.ret(s);
    let m = p.model(g, vec![]);
    let e = infer(&m, &opts(Method::Enumerate, 0)).unwrap_err();
    assert!(e.message.contains("Enumerate gave up"), "{}", e.message);
    // Sampling methods handle it: Geometric(0.5) has mean 1, variance 2.
    let r = infer(&m, &opts(Method::Importance, 10_000)).unwrap();
    let mean = r.mean().unwrap();
    assert!(
        (mean - 1.0).abs() < 5.0 * (2.0f64 / 10_000.0).sqrt(),
        "mean {mean}"
    );
}

#[test]
fn rejection_refuses_densities_above_one() {
    let m = normal_model(0.1); // density up to 3.99 at the observation
    let e = infer(&m, &opts(Method::Rejection, 10)).unwrap_err();
    assert_eq!(
        e.message,
        "Rejection needs observations with probability at most 1"
    );
    let y_site = m
        .program
        .sites
        .iter()
        .find(|s| m.program.name(s.name) == "y")
        .unwrap();
    assert_eq!(e.primary_span(), Some(y_site.span));
}

#[test]
fn rejection_on_a_discrete_model_and_its_evidence() {
    let (truth, z) = structured_truth();
    let n = 4000;
    let r = infer(&structured(), &opts(Method::Rejection, n)).unwrap();
    assert_eq!(r.draws.len(), n);
    check_structured(&r, n as f64, "rejection");
    // log Ẑ = log(n / attempts); attempts ~ NegBin(n, Z): relative sd of
    // Ẑ about sqrt((1 − Z)/n).
    let sd = ((1.0 - z) / n as f64).sqrt();
    assert!((r.log_evidence.unwrap() - z.ln()).abs() < 5.0 * sd);
    let _ = truth;
}

#[test]
fn gradient_methods_need_a_gradient() {
    for m in [Method::Hmc, Method::Nuts] {
        let e = infer(&coin(), &opts(m, 10)).unwrap_err();
        assert_eq!(e.code.as_deref(), Some("E0745"), "{}", e.message);
    }
}

#[test]
fn all_zero_weights_are_a_clear_error() {
    // condition(false) after a draw.
    let mut p = Prog::new();
    let f = p.declare("model", 0, 0);
    let mut b = p.body(f);
    let x = b.draw("x", DistKind::Normal, &[0.0, 1.0]);
    let no = b.bool(false);
    b.condition(no);
    b.ret(x);
    let m = p.model(f, vec![]);
    for method in [Method::Importance, Method::Smc] {
        let e = infer(&m, &opts(method, 50)).unwrap_err();
        assert!(
            e.message.contains("have zero weight"),
            "{method}: {}",
            e.message
        );
    }
    let e = infer(&m, &opts(Method::Rejection, 1)).unwrap_err();
    assert!(
        e.message.contains("Rejection accepted only 0 of 1 draws"),
        "{}",
        e.message
    );
}

#[test]
fn intervened_choices_are_recorded_without_weight() {
    // x ~ Normal(0, 1) fixed by do(x = 2.0); observe(Normal(x, 1), 2.5).
    let mut p = Prog::new();
    let f = p.declare("model", 0, 0);
    let g = p.data("x_value");
    let mut b = p.body(f);
    let (z, one) = (b.real(0.0), b.real(1.0));
    let d = b.dist(DistKind::Normal, &[z, one]);
    let x = b.sample_edited("x", d, EditKind::Do, g, None);
    let d2 = b.dist(DistKind::Normal, &[x, one]);
    let y = b.real(2.5);
    b.observe("y", d2, y);
    b.ret(x);
    let m = p.model(f, vec![Value::Real(2.0)]);
    let r = infer(&m, &opts(Method::Importance, 10)).unwrap();
    let x_name = m.program.name_id("x").unwrap();
    for d in &r.draws {
        assert_eq!(d.value, Value::Real(2.0));
        assert_eq!(
            d.trace,
            vec![(
                tyche_vm::Address {
                    name: x_name,
                    index: 0
                },
                Value::Real(2.0)
            )]
        );
    }
    // Only the observation weighs: log N(2.5; 2, 1).
    let expected = -0.5 * 0.25 - 0.5 * (2.0 * std::f64::consts::PI).ln();
    assert!((r.log_evidence.unwrap() - expected).abs() < 1e-12);
    // MH has nothing to propose: every state is the same.
    let r = infer(&m, &opts(Method::Mh, 10)).unwrap();
    assert_eq!(r.mcmc.unwrap().acceptance_rate, 1.0);
}

#[test]
fn mh_drift_proposal_on_a_normal_model() {
    // Posterior of mu given y = 0.5 with sigma = 1: N(0.25, 1/2).
    let m = normal_model(1.0);
    let mut o = opts(Method::Mh, 8_000);
    o.proposal = Proposal::Drift { scale: 1.0 };
    o.burn = 100;
    let r = infer(&m, &o).unwrap();
    let ess = r.mcmc.as_ref().unwrap().ess.unwrap();
    let mean = r.mean().unwrap();
    assert!(
        (mean - 0.25).abs() < 5.0 * (0.5 / ess).sqrt(),
        "mean {mean} (ess {ess})"
    );
    let var = r
        .expectation(|v| v.as_number().map(|x| (x - mean) * (x - mean)))
        .unwrap();
    // Var of the sample variance of a normal: 2σ⁴/ess.
    assert!(
        (var - 0.5).abs() < 5.0 * (2.0 * 0.25 / ess).sqrt(),
        "var {var}"
    );
}

/// `let d = infer(Enumerate, inner); let x = sample(d); observe(Bernoulli(x ? 0.9 : 0.1), true); x`
/// with `inner = || { a ~ Bernoulli(0.5); b ~ Bernoulli(0.5); condition(a || b); a }`.
fn nested(method: Prim, n: i64) -> Model {
    let mut p = Prog::new();
    let outer = p.declare("model", 0, 0);
    let inner = p.declare("inner", 0, 0);
    {
        let mut b = p.body(inner);
        let a = b.draw("a", DistKind::Bernoulli, &[0.5]);
        let c = b.draw("b", DistKind::Bernoulli, &[0.5]);
        // a || b as (a != false) || ... : use max via branches.
        let either = b.reg();
        let (t, e, j) = (b.label(), b.label(), b.label());
        b.branch(a, t, e);
        b.place(t);
        let tr = b.bool(true);
        b.mov(either, tr);
        b.jump(j);
        b.place(e);
        b.mov(either, c);
        b.jump(j);
        b.place(j);
        b.condition(either);
        b.ret(a);
    }
    {
        let mut b = p.body(outer);
        let meth = if method == Prim::Enumerate {
            b.prim(Prim::Enumerate, &[])
        } else {
            let k = b.int(n);
            b.prim(method, &[k])
        };
        let clo = b.closure(inner, &[]);
        let d = b.infer(meth, clo);
        let x = b.sample("x", d);
        let pr = b.reg();
        let (t, e, j) = (b.label(), b.label(), b.label());
        b.branch(x, t, e);
        b.place(t);
        let hi = b.real(0.9);
        b.mov(pr, hi);
        b.jump(j);
        b.place(e);
        let lo = b.real(0.1);
        b.mov(pr, lo);
        b.jump(j);
        b.place(j);
        let bd = b.dist(DistKind::Bernoulli, &[pr]);
        let yes = b.bool(true);
        b.observe("y", bd, yes);
        b.ret(x);
    }
    p.model(outer, vec![])
}

#[test]
fn nested_exact_inference() {
    // P(a | a ∨ b) = 2/3; outer posterior P(x) ∝ (2/3)(0.9) vs (1/3)(0.1).
    let truth = 0.6 / (0.6 + 0.1 / 3.0);
    let z: f64 = 0.6 + 0.1 / 3.0;
    let m = nested(Prim::Enumerate, 0);
    let r = infer(&m, &opts(Method::Enumerate, 0)).unwrap();
    assert!((r.prob(&Value::Bool(true)) - truth).abs() < 1e-14);
    assert!((r.log_evidence.unwrap() - z.ln()).abs() < 1e-14);
    let n = 20_000;
    let r = infer(&m, &opts(Method::Importance, n)).unwrap();
    let ess = r.ess.unwrap();
    let p = r.prob(&Value::Bool(true));
    assert!(
        (p - truth).abs() < 5.0 * (truth * (1.0 - truth) / ess).sqrt(),
        "{p} vs {truth}"
    );
}

#[test]
fn nested_approximate_inference_cannot_be_enumerated() {
    let m = nested(Prim::Rejection, 100);
    let e = infer(&m, &opts(Method::Enumerate, 0)).unwrap_err();
    assert_eq!(
        e.message,
        "Enumerate cannot handle the choice `x` (posterior)"
    );
    // Sampling over it works: with 2000 inner draws the inner P(a) is
    // 2/3 ± 0.011, which moves the outer answer by at most ±0.002.
    let truth = 0.6 / (0.6 + 0.1 / 3.0);
    let r = infer(&m, &opts(Method::Importance, 2000)).unwrap();
    let p = r.prob(&Value::Bool(true));
    let ess = r.ess.unwrap();
    assert!(
        (p - truth).abs() < 5.0 * (truth * (1.0 - truth) / ess).sqrt() + 0.01,
        "{p} vs {truth}"
    );
}

#[test]
fn runaway_nested_inference_is_diagnosed() {
    // fn model() { sample(infer(Enumerate, model)) }
    let mut p = Prog::new();
    let f = p.declare("model", 0, 0);
    let mut b = p.body(f);
    let meth = b.prim(Prim::Enumerate, &[]);
    let clo = b.closure(f, &[]);
    let d = b.infer(meth, clo);
    let x = b.sample("x", d);
    b.ret(x);
    let e = infer(&p.model(f, vec![]), &opts(Method::Enumerate, 0)).unwrap_err();
    assert!(e.message.contains("nested more than"), "{}", e.message);
}

/// The state-space model of LANGUAGE.md §7 over `ys`:
/// `fold(ys, 0.0, |x_prev, y| { x ~ Normal(0.9 x_prev, 1); observe(Normal(x, 0.5), y); x })`.
pub(crate) fn state_space(ys: &[f64]) -> Model {
    let mut p = Prog::new();
    let f = p.declare("model", 0, 0);
    let step = p.declare("model$lambda0", 2, 0);
    let g = p.data("ys");
    {
        let mut b = p.body(step);
        let (x_prev, y) = (b.param(0), b.param(1));
        let a = b.real(0.9);
        let mean = b.bin(BinOp::Mul, a, x_prev);
        let one = b.real(1.0);
        let d = b.dist(DistKind::Normal, &[mean, one]);
        let x = b.sample("x", d);
        let half = b.real(0.5);
        let od = b.dist(DistKind::Normal, &[x, half]);
        b.observe("y", od, y);
        b.ret(x);
    }
    {
        let mut b = p.body(f);
        let xs = b.global(g);
        let init = b.real(0.0);
        let clo = b.closure(step, &[]);
        let out = b.intrinsic(tyche_ir::Intrinsic::Fold, &[xs, init, clo]);
        b.ret(out);
    }
    p.model(
        f,
        vec![Value::array(ys.iter().map(|&y| Value::Real(y)).collect())],
    )
}

/// Timing check (run with `cargo test --release -p tyche-infer -- --ignored
/// --nocapture perf`): SMC on the 100-step state-space model with 1,000 and
/// 10,000 particles (`PERF_NS=1000,2000,…` picks the sizes), and
/// likelihood weighting with 10,000 runs.
#[test]
#[ignore]
fn perf_smc_state_space() {
    let ys: Vec<f64> = (0..100).map(|t| (t as f64 * 0.3).sin() * 2.0).collect();
    let m = state_space(&ys);
    let sizes: Vec<usize> = match std::env::var("PERF_NS") {
        Ok(v) => v
            .split(',')
            .map(|x| x.parse().expect("PERF_NS: comma-separated sizes"))
            .collect(),
        Err(_) => vec![1_000, 10_000],
    };
    for n in sizes {
        let t = std::time::Instant::now();
        let r = infer(&m, &opts(Method::Smc, n)).unwrap();
        eprintln!(
            "smc {n} x 100: {:?}, log Z {:?}",
            t.elapsed(),
            r.log_evidence
        );
    }
    let t = std::time::Instant::now();
    let r = infer(
        &m,
        &Options {
            traces: false,
            ..opts(Method::Smc, 10_000)
        },
    )
    .unwrap();
    eprintln!(
        "smc 10000 x 100 without traces: {:?}, log Z {:?}",
        t.elapsed(),
        r.log_evidence
    );
    let t = std::time::Instant::now();
    let r = infer(&m, &opts(Method::Importance, 10_000)).unwrap();
    eprintln!(
        "importance 10000 x 100: {:?}, log Z {:?}",
        t.elapsed(),
        r.log_evidence
    );
}

#[test]
fn trace_recording_does_not_change_results() {
    // Recording consumes no randomness, so turning it off (as nested
    // inference does) changes nothing but the traces.
    let m = structured();
    for method in [
        Method::Smc,
        Method::Importance,
        Method::Rejection,
        Method::Mh,
        Method::Pmmh,
    ] {
        let a = infer(&m, &opts(method, 300)).unwrap();
        let b = infer(
            &m,
            &Options {
                traces: false,
                ..opts(method, 300)
            },
        )
        .unwrap();
        assert_eq!(a.draws.len(), b.draws.len());
        for (x, y) in a.draws.iter().zip(&b.draws) {
            assert_eq!(x.value, y.value);
            assert_eq!(x.log_weight.to_bits(), y.log_weight.to_bits());
            assert!(!x.trace.is_empty() && y.trace.is_empty(), "{method}");
        }
    }
}

/// The crate's modules form no cycle through `crate::` paths in code (doc
/// comments excluded): algorithms sit above the model interface and its
/// two implementations (issue 13 found mh ↔ mh_native, smc ↔ smc_native
/// and mh ↔ smc). The crate root declares the modules and is left out.
#[test]
fn modules_form_no_cycle() {
    use std::collections::{BTreeMap, BTreeSet};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("src") {
        let path = entry.expect("entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if path.extension().is_some_and(|e| e == "rs")
            && !["lib", "tests", "testing"].contains(&name)
        {
            let text = std::fs::read_to_string(&path).expect("read");
            sources.insert(name.to_string(), text);
        }
    }
    assert!(sources.contains_key("mh") && sources.contains_key("smc"));
    let mut deps: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, text) in &sources {
        let code = text.lines().filter(|l| !l.trim_start().starts_with("//"));
        let mut set = BTreeSet::new();
        for line in code {
            for part in line.split("crate::").skip(1) {
                let module: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if let Some((m, _)) = sources.get_key_value(&module) {
                    if m != name {
                        set.insert(m.as_str());
                    }
                }
            }
            // `use crate::{a::X, b}` names modules after the brace too.
            if let Some(group) = line.split("crate::{").nth(1) {
                for item in group.split(',') {
                    let module = item
                        .trim()
                        .split("::")
                        .next()
                        .unwrap_or("")
                        .trim_end_matches('}');
                    if let Some((m, _)) = sources.get_key_value(module) {
                        if m != name {
                            set.insert(m.as_str());
                        }
                    }
                }
            }
        }
        deps.insert(name.as_str(), set);
    }
    // Depth-first search for a back edge.
    fn visit<'a>(
        m: &'a str,
        deps: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        state: &mut BTreeMap<&'a str, bool>,
        path: &mut Vec<&'a str>,
    ) {
        match state.get(m) {
            Some(true) => return,
            Some(false) => {
                let from = path.iter().position(|p| *p == m).unwrap_or(0);
                panic!("module cycle: {} -> {m}", path[from..].join(" -> "));
            }
            None => {}
        }
        state.insert(m, false);
        path.push(m);
        for d in &deps[m] {
            visit(d, deps, state, path);
        }
        path.pop();
        state.insert(m, true);
    }
    let mut state = BTreeMap::new();
    for m in deps.keys() {
        visit(m, &deps, &mut state, &mut Vec::new());
    }
}
