//! Discrete models with exact answers computed here by brute force: the
//! sprinkler network, two dice, a recursive geometric program, choices
//! inside `map`/`fold` lambdas, and nested inference.

mod inference_util;

use inference_util::*;
use tyche_infer::{infer, Method, Options};
use tyche_vm::Value;

/// Checks every method that applies against exact probabilities of the
/// result values `truth` (and, where given, the log evidence).
fn check_all_methods(src: &str, truth: &[(Value, f64)], log_z: f64, methods: &[Method]) {
    let m = model_of(src);
    let exact = run(&m, Method::Enumerate, 0);
    for (v, p) in truth {
        assert!(
            (exact.prob(v) - p).abs() < 1e-12,
            "Enumerate P({v}) = {} vs {p}",
            exact.prob(v)
        );
    }
    assert!(
        (exact.log_evidence.unwrap() - log_z).abs() < 1e-12,
        "Enumerate log Z"
    );
    for &method in methods {
        let n = match method {
            Method::Mh | Method::Pmmh => 8_000,
            Method::Rejection => 4_000,
            _ => 20_000,
        };
        let opts = Options {
            burn: 200,
            particles: if method == Method::Pmmh { 4 } else { n },
            ..Options::for_method(method, n).with_seed(5)
        };
        let r = run_with(&m, opts);
        // SMC after one resampling: judge by n/4 (see inference_conjugate).
        let ess = match method {
            Method::Smc => n as f64 / 4.0,
            _ => ess_of(&r),
        };
        for (v, p) in truth {
            let est = r.prob(v);
            let sd = (p * (1.0 - p)).sqrt();
            assert_close(&format!("{method} P({v})"), est, *p, sd, ess);
        }
        if matches!(method, Method::Importance | Method::Rejection) {
            let z = log_z.exp();
            // Importance: Var(Ẑ)/Z² ≈ 1/ess − 1/n; rejection: (1 − Z)/n.
            let sd = if method == Method::Importance {
                (1.0 / ess - 1.0 / n as f64).sqrt()
            } else {
                ((1.0 - z) / n as f64).sqrt()
            };
            assert!(
                (r.log_evidence.unwrap() - log_z).abs() < 5.0 * sd,
                "{method} log Z"
            );
        }
    }
}

const SPRINKLER: &str = "
fn model() -> Bool {
    let cloudy ~ Bernoulli(0.5);
    let sprinkler ~ Bernoulli(if cloudy { 0.1 } else { 0.5 });
    let rain ~ Bernoulli(if cloudy { 0.8 } else { 0.2 });
    let p_wet = if sprinkler && rain { 0.99 } else if sprinkler || rain { 0.9 } else { 0.0 };
    observe(Bernoulli(p_wet), false);
    rain
}
";

#[test]
fn sprinkler_rain_given_grass_not_wet() {
    // Brute force over the 8 worlds (the classic Russell–Norvig numbers).
    let (mut z, mut rain) = (0.0, 0.0);
    for cloudy in [false, true] {
        for sprinkler in [false, true] {
            for r in [false, true] {
                let pc = 0.5;
                let ps = if cloudy { 0.1 } else { 0.5 };
                let pr = if cloudy { 0.8 } else { 0.2 };
                let p_wet: f64 = match (sprinkler, r) {
                    (true, true) => 0.99,
                    (false, false) => 0.0,
                    _ => 0.9,
                };
                let w = pc
                    * (if sprinkler { ps } else { 1.0 - ps })
                    * (if r { pr } else { 1.0 - pr })
                    * (1.0 - p_wet);
                z += w;
                if r {
                    rain += w;
                }
            }
        }
    }
    // P(¬wet) = 0.35290, P(rain | ¬wet) = 0.04190 / 0.35290.
    assert!((z - 0.3529).abs() < 1e-12);
    assert!((rain - 0.0419).abs() < 1e-12);
    let p = rain / z;
    let truth = [(Value::Bool(true), p), (Value::Bool(false), 1.0 - p)];
    check_all_methods(
        SPRINKLER,
        &truth,
        z.ln(),
        &[
            Method::Importance,
            Method::Smc,
            Method::Rejection,
            Method::Mh,
            Method::Pmmh,
        ],
    );
}

#[test]
fn two_dice_whose_sum_exceeds_four() {
    let src = "
fn model() -> Int {
    let d1 ~ DiscreteUniform(1, 6);
    let d2 ~ DiscreteUniform(1, 6);
    condition(d1 + d2 > 4);
    d1 + d2
}
";
    // 30 of the 36 outcomes have a sum above 4.
    let truth: Vec<(Value, f64)> = (2..=12)
        .map(|s: i64| {
            let ways = (1..=6).filter(|d1| (1..=6).contains(&(s - d1))).count() as f64;
            (Value::Int(s), if s > 4 { ways / 30.0 } else { 0.0 })
        })
        .collect();
    check_all_methods(
        src,
        &truth,
        (30.0f64 / 36.0).ln(),
        &[Method::Smc, Method::Rejection, Method::Mh],
    );
}

const GEOMETRIC: &str = "
fn geom(p: Real) -> Int {
    let c ~ Bernoulli(p);
    if c { 0 } else { 1 + geom(p) }
}
fn prior() -> Int { geom(0.3) }
fn model() -> Int {
    let g = geom(0.3);
    observe(Poisson(real(g) + 1.0), 3);
    g
}
";

#[test]
fn recursive_geometric_program() {
    // The prior is Geometric(0.3): P(k) = 0.3 · 0.7^k, and a draw makes
    // k + 1 choices c[0..=k].
    let prior = model_named(GEOMETRIC, "prior", &[]);
    let r = run(&prior, Method::Importance, 20_000);
    for k in 0..6 {
        let p = 0.3 * 0.7f64.powi(k);
        assert_close(
            &format!("prior P({k})"),
            r.prob(&Value::Int(k as i64)),
            p,
            (p * (1.0 - p)).sqrt(),
            20_000.0,
        );
    }
    for d in r.draws.iter().take(100) {
        let Value::Int(k) = d.value else { panic!() };
        let names: Vec<String> = d
            .trace
            .iter()
            .map(|(a, _)| a.display(&prior.program))
            .collect();
        let expected: Vec<String> = (0..=k).map(|i| format!("c[{i}]")).collect();
        assert_eq!(names, expected);
    }
    // Unbounded recursion: enumeration gives up with a clear message.
    let e = infer(&prior, &Options::for_method(Method::Enumerate, 0)).unwrap_err();
    assert!(e.message.starts_with("Enumerate gave up"), "{}", e.message);

    // The posterior given a Poisson(g + 1) observation of 3, summed to
    // k = 400 (the tail beyond is below 1e-60).
    let poisson3 = |rate: f64| (-rate).exp() * rate.powi(3) / 6.0;
    let w: Vec<f64> = (0..400)
        .map(|k| 0.3 * 0.7f64.powi(k) * poisson3(k as f64 + 1.0))
        .collect();
    let z: f64 = w.iter().sum();
    let mean: f64 = w.iter().enumerate().map(|(k, w)| k as f64 * w / z).sum();
    let var: f64 = w
        .iter()
        .enumerate()
        .map(|(k, w)| (k as f64 - mean).powi(2) * w / z)
        .sum();
    let m = model_of(GEOMETRIC);
    for method in [
        Method::Importance,
        Method::Smc,
        Method::Rejection,
        Method::Mh,
    ] {
        let n = if method == Method::Mh { 8_000 } else { 10_000 };
        let r = run_with(
            &m,
            Options {
                burn: 200,
                ..Options::for_method(method, n).with_seed(9)
            },
        );
        let ess = if method == Method::Smc {
            n as f64 / 4.0
        } else {
            ess_of(&r)
        };
        assert_close(
            &format!("{method} posterior mean"),
            r.mean().unwrap(),
            mean,
            var.sqrt(),
            ess,
        );
        for k in 0..4 {
            let p = w[k] / z;
            assert_close(
                &format!("{method} P({k})"),
                r.prob(&Value::Int(k as i64)),
                p,
                (p * (1.0 - p)).sqrt(),
                ess,
            );
        }
    }
}

#[test]
fn choices_inside_map_and_fold_lambdas() {
    // Three fair coins drawn by `map`, exactly two heads: P(z[0]) = 2/3.
    let src = "
fn model() -> Bool {
    let zs = map(range(0, 3), |i| { let z ~ Bernoulli(0.5); z });
    condition(count(zs, |z| z) == 2);
    zs[0]
}
";
    check_all_methods(
        src,
        &[
            (Value::Bool(true), 2.0 / 3.0),
            (Value::Bool(false), 1.0 / 3.0),
        ],
        (3.0f64 / 8.0).ln(),
        &[Method::Smc, Method::Rejection],
    );
    let m = model_of(src);
    // Single-site MH cannot move here: changing one coin breaks the hard
    // condition, so each chain stays where it started. The diagnostics
    // must say so (R-hat = ∞), rather than report a confident answer.
    let r = run_with(
        &m,
        Options {
            burn: 10,
            ..Options::for_method(Method::Mh, 400).with_seed(5)
        },
    );
    let stats = r.mcmc.unwrap();
    assert!(stats.rhat.is_none_or(|r| r > 1.5), "rhat {:?}", stats.rhat);
    let r = run(&m, Method::Importance, 50);
    let names: Vec<String> = r.draws[0]
        .trace
        .iter()
        .map(|(a, _)| a.display(&m.program))
        .collect();
    assert_eq!(names, ["z[0]", "z[1]", "z[2]"]);

    // A random walk by `fold`: four ±1 steps up with probability 0.6,
    // conditioned on not ending below 0 (so single-site MH can reach every
    // allowed end point).
    let src = "
fn model() -> Int {
    let pos = fold([1, 1, 1, 1], 0, |pos, step| {
        let up ~ Bernoulli(0.6);
        if up { pos + step } else { pos - step }
    });
    condition(pos >= 0);
    pos
}
";
    let binom =
        |k: i32| [1.0, 4.0, 6.0, 4.0, 1.0][k as usize] * 0.6f64.powi(k) * 0.4f64.powi(4 - k);
    let z = binom(2) + binom(3) + binom(4);
    let truth: Vec<(Value, f64)> = (0..=4)
        .map(|k| {
            (
                Value::Int(2 * k as i64 - 4),
                if k < 2 { 0.0 } else { binom(k) / z },
            )
        })
        .collect();
    check_all_methods(
        src,
        &truth,
        z.ln(),
        &[Method::Smc, Method::Mh, Method::Importance],
    );
    let m = model_of(src);
    let r = run(&m, Method::Smc, 10);
    let names: Vec<String> = r.draws[0]
        .trace
        .iter()
        .map(|(a, _)| a.display(&m.program))
        .collect();
    assert_eq!(names, ["up[0]", "up[1]", "up[2]", "up[3]"]);
}

#[test]
fn nested_inference() {
    // The inner model depends on an outer choice through its closure.
    // P(bias | h) = 0.5·0.9 / (0.5·0.9 + 0.5·0.5) = 9/14; evidence 0.7.
    let src = "
fn model() -> Bool {
    let bias ~ Bernoulli(0.5);
    let d = infer(METHOD, || {
        let h ~ Bernoulli(if bias { 0.9 } else { 0.5 });
        h
    });
    let heads = sample(d);
    condition(heads);
    bias
}
";
    let p = 9.0 / 14.0;
    let truth = [(Value::Bool(true), p), (Value::Bool(false), 1.0 - p)];
    check_all_methods(
        &src.replace("METHOD", "Enumerate"),
        &truth,
        0.7f64.ln(),
        &[Method::Importance, Method::Smc, Method::Mh],
    );

    // Approximate inner inference: Rejection(400) estimates P(h) with sd
    // ≤ 0.025 independently in every outer run, which moves P(bias | h) by
    // at most about that much (|∂P/∂q| ≤ 1 here) and averages out over
    // runs to first order; allow 0.01 on top of 5 Monte Carlo errors.
    let m = model_of(&src.replace("METHOD", "Rejection(400)"));
    let r = run(&m, Method::Importance, 4_000);
    let est = r.prob(&Value::Bool(true));
    assert!(
        (est - p).abs() < 5.0 * (p * (1.0 - p) / ess_of(&r)).sqrt() + 0.01,
        "{est} vs {p}"
    );
    // …and cannot be enumerated: its posterior has no exact support.
    let e = infer(&m, &Options::for_method(Method::Enumerate, 0)).unwrap_err();
    assert!(
        e.message.starts_with("Enumerate cannot handle the choice"),
        "{}",
        e.message
    );
    assert!(e.message.ends_with("(posterior)"), "{}", e.message);
}

#[test]
fn nested_posteriors_are_values() {
    // prob, mean and log_evidence of an exact inner posterior.
    let src = "
fn coin() -> Bool {
    let fair ~ Bernoulli(0.5);
    let heads ~ Bernoulli(if fair { 0.5 } else { 0.9 });
    condition(heads);
    fair
}
fn model() -> (Real, Real) {
    let d = infer(Enumerate, coin);
    (prob(d, true), log_evidence(d))
}
";
    let m = model_of(src);
    let r = run(&m, Method::Enumerate, 0);
    assert_eq!(r.draws.len(), 1);
    let Value::Tuple(t) = &r.draws[0].value else {
        panic!()
    };
    let (Value::Real(p), Value::Real(lz)) = (&t[0], &t[1]) else {
        panic!()
    };
    assert!((p - 0.25 / 0.7).abs() < 1e-14);
    assert!((lz - 0.7f64.ln()).abs() < 1e-14);
}

/// Four dice whose sum exceeds 8: 1,296 paths, wide enough for Enumerate
/// to split the tree and walk subtrees in parallel. The answer must be
/// exact, and bit for bit the same on one thread and on four — including
/// an approximate inference nested in every path, whose randomness comes
/// from the subtree's stream.
#[test]
fn wide_enumeration_is_exact_and_independent_of_threads() {
    let src = r#"
fn model() -> (Int, Real) {
    let a = sample(DiscreteUniform(1, 6));
    let b = sample(DiscreteUniform(1, 6));
    let c = sample(DiscreteUniform(1, 6));
    let d = sample(DiscreteUniform(1, 6));
    condition(a + b + c + d > 8);
    let m = mean(infer(Importance(5), || sample(Normal(real(d), 1.0))));
    (a + b + c + d, m)
}
"#;
    let m = model_of(src);
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| run(&m, Method::Enumerate, 0))
    };
    let (one, four) = (on(1), on(4));
    assert_eq!(one.draws.len(), four.draws.len());
    for (x, y) in one.draws.iter().zip(&four.draws) {
        assert_eq!(x.value, y.value);
        assert_eq!(x.log_weight.to_bits(), y.log_weight.to_bits());
    }
    assert_eq!(
        one.log_evidence.map(f64::to_bits),
        four.log_evidence.map(f64::to_bits)
    );
    // Exact: P(sum = s | sum > 8) by brute force over the 1,296 paths.
    let mut count = [0u32; 25];
    for a in 1..=6 {
        for b in 1..=6 {
            for c in 1..=6 {
                for d in 1..=6 {
                    count[a + b + c + d] += 1;
                }
            }
        }
    }
    let kept: u32 = count[9..].iter().sum();
    assert!((one.log_evidence.unwrap() - (kept as f64 / 1296.0).ln()).abs() < 1e-12);
    for s in 9..=24 {
        let p: f64 = one
            .draws
            .iter()
            .filter(|d| matches!(&d.value, Value::Tuple(t) if t[0] == Value::Int(s as i64)))
            .map(|d| d.log_weight.exp())
            .sum();
        let truth = count[s] as f64 / kept as f64;
        assert!((p - truth).abs() < 1e-12, "P(sum = {s}) = {p} vs {truth}");
    }
}
