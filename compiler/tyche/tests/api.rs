//! Round trips through the embedding API: posteriors against closed
//! forms (exact enumeration, and Monte Carlo within a tolerance derived
//! from its standard error), values in and out, reports, determinism.

use tyche::{FromValue, Method, Posterior, Program, Value};

/// Beta(1, 1) prior, Bernoulli observations: the posterior is
/// Beta(1 + heads, 1 + tails).
const COIN: &str = r#"
data flips: [Bool];

fn model() -> Real {
    let p ~ Beta(1.0, 1.0);
    for f in flips { observe(Bernoulli(p), f); }
    p
}
"#;

const FLIPS: [bool; 6] = [true, true, false, true, true, true];

/// Mean and standard deviation of Beta(a, b).
fn beta_moments(a: f64, b: f64) -> (f64, f64) {
    let mean = a / (a + b);
    let var = a * b / ((a + b) * (a + b) * (a + b + 1.0));
    (mean, var.sqrt())
}

fn coin_posterior() -> (f64, f64) {
    let heads = FLIPS.iter().filter(|&&f| f).count() as f64;
    let tails = FLIPS.len() as f64 - heads;
    beta_moments(1.0 + heads, 1.0 + tails)
}

/// Importance sampling (likelihood weighting): one run, and its standard
/// error from the draws themselves.
///
/// With normalised weights `w_i` and estimate `m = Σ w_i x_i`, the delta
/// method gives the self-normalised estimator's variance as
/// `Var(m) ≈ Σ w_i² (x_i − m)²` (Owen, *Monte Carlo theory*, §9.2). The
/// estimator is asymptotically normal, so `|m − μ| < 5·se` fails with
/// probability about 6·10⁻⁷ for a correct sampler. The seed is fixed, so
/// the test is deterministic; the bound says how far off a correct sampler
/// may be, so the seed was not chosen to make it pass. We also check that
/// `se` is small, so the bound is not vacuous.
#[test]
fn beta_bernoulli_importance_within_its_standard_error() {
    let (mu, sd) = coin_posterior();
    let posterior = Program::from_source("coin.ppl", COIN)
        .unwrap()
        .model("model")
        .unwrap()
        .data("flips", FLIPS.to_vec())
        .unwrap()
        .method(Method::Importance)
        .samples(20_000)
        .seed(11)
        .run()
        .unwrap();
    let m = posterior.mean().unwrap();
    let xs: Vec<f64> = posterior.values().unwrap();
    let se = xs
        .iter()
        .zip(posterior.weights())
        .map(|(x, w)| w * w * (x - m) * (x - m))
        .sum::<f64>()
        .sqrt();
    // ESS-based sanity check: se ≈ sd / √ESS.
    let ess = posterior.ess().unwrap();
    assert!(ess > 2_000.0, "ess {ess}");
    assert!(se < 3.0 * sd / ess.sqrt(), "se {se}");
    assert!((m - mu).abs() < 5.0 * se, "mean {m}, exact {mu}, se {se}");
    assert!(se < 0.005, "se {se}");
    // The log evidence: p(flips) = B(6, 2) / B(1, 1) = 5! 1! / 7! = 1/42.
    let z = posterior.log_evidence().unwrap();
    assert!((z - (1.0f64 / 42.0).ln()).abs() < 0.05, "log Z {z}");
}

/// The means of `R` independent runs (seeds 1..=R).
fn replicate_means(run: impl Fn(u64) -> Posterior, r: u64) -> Vec<f64> {
    (1..=r).map(|seed| run(seed).mean().unwrap()).collect()
}

/// Checks the grand mean of replicate runs against `mu`.
///
/// The runs are independent (distinct seeds derive independent streams),
/// so their means `m_1..m_R` are i.i.d. with the sampler's Monte Carlo
/// variance, whatever it is (SMC's resampling and MH's autocorrelation
/// included). The standard error of their average is `s / √R`, `s` the
/// sample standard deviation, and `(m̄ − μ) / (s / √R)` is approximately
/// Student-t with `R − 1` degrees of freedom: with `R = 10`,
/// `P(|t₉| > 6) ≈ 2·10⁻⁴`. Bias (a wrong posterior) grows the statistic
/// without bound as runs get longer, while a correct sampler stays within
/// it at any size.
fn assert_replicates_agree(means: &[f64], mu: f64, what: &str) {
    let r = means.len() as f64;
    let mbar = means.iter().sum::<f64>() / r;
    let s = (means.iter().map(|m| (m - mbar) * (m - mbar)).sum::<f64>() / (r - 1.0)).sqrt();
    let se = s / r.sqrt();
    assert!(se > 0.0, "{what}: replicates are identical: {means:?}");
    assert!(
        (mbar - mu).abs() < 6.0 * se,
        "{what}: mean {mbar}, exact {mu}, se {se}, runs {means:?}"
    );
    // And the runs are usefully precise.
    assert!(s < 0.05, "{what}: run-to-run sd {s}");
}

#[test]
fn beta_bernoulli_smc_within_replicate_standard_error() {
    let (mu, _) = coin_posterior();
    let query = Program::from_source("coin.ppl", COIN)
        .unwrap()
        .model("model")
        .unwrap()
        .data("flips", FLIPS.to_vec())
        .unwrap()
        .method(Method::Smc)
        .particles(1000);
    let means = replicate_means(|seed| query.clone().seed(seed).run().unwrap(), 10);
    assert_replicates_agree(&means, mu, "smc");
}

#[test]
fn beta_bernoulli_mh_within_replicate_standard_error() {
    let (mu, _) = coin_posterior();
    let query = Program::from_source("coin.ppl", COIN)
        .unwrap()
        .model("model")
        .unwrap()
        .data("flips", FLIPS.to_vec())
        .unwrap()
        .method(Method::Mh)
        .samples(2000)
        .burn(200)
        .chains(2);
    let means = replicate_means(|seed| query.clone().seed(seed).run().unwrap(), 10);
    assert_replicates_agree(&means, mu, "mh");
}

/// A discrete version of the coin: the bias is 0.5 or 0.9, a priori
/// equally likely. Exact enumeration must give Bayes' rule to rounding.
#[test]
fn enumeration_is_exact() {
    let src = r#"
        data flips: [Bool];
        fn model() -> Bool {
            let biased ~ Bernoulli(0.5);
            let p = if biased { 0.9 } else { 0.5 };
            for f in flips { observe(Bernoulli(p), f); }
            biased
        }
    "#;
    let posterior = Program::from_source("biased.ppl", src)
        .unwrap()
        .model("model")
        .unwrap()
        .data("flips", FLIPS.to_vec())
        .unwrap()
        .run()
        .unwrap();
    assert!(posterior.is_exact());
    assert_eq!(posterior.method(), Method::Enumerate);
    let like_biased = 0.9f64.powi(5) * 0.1;
    let like_fair = 0.5f64.powi(6);
    let p = like_biased / (like_biased + like_fair);
    assert!((posterior.prob(true) - p).abs() < 1e-12);
    assert!((posterior.mean().unwrap() - p).abs() < 1e-12);
    let z = 0.5 * (like_biased + like_fair);
    assert!((posterior.log_evidence().unwrap() - z.ln()).abs() < 1e-12);
    let json = posterior.summary_json();
    assert_eq!(json["method"], "enumerate");
    assert_eq!(json["exact"], true);
}

#[test]
fn sprinkler_exact_posterior() {
    let src = "
        fn model() -> Bool {
            let rain ~ Bernoulli(0.2);
            let sprinkler ~ Bernoulli(if rain { 0.01 } else { 0.4 });
            let wet ~ Bernoulli(if rain || sprinkler { 0.9 } else { 0.0 });
            condition(wet);
            rain
        }
    ";
    let posterior = Program::from_source("sprinkler.ppl", src)
        .unwrap()
        .model("model")
        .unwrap()
        .method(Method::Enumerate)
        .run()
        .unwrap();
    // P(wet, rain) = 0.2 · 0.9; P(wet, ¬rain) = 0.8 · 0.4 · 0.9.
    let (a, b) = (0.2 * 0.9, 0.8 * 0.4 * 0.9);
    assert!((posterior.prob(true) - a / (a + b)).abs() < 1e-12);
    assert!((posterior.log_evidence().unwrap() - (a + b).ln()).abs() < 1e-12);
    assert_eq!(posterior.table().len(), 2);
    assert_eq!(posterior.table()[0].0, Value::Bool(false));
}

/// Values of every shape go in as data and come back out unchanged.
#[test]
fn values_round_trip() {
    let src = "
        data r: Real;
        data n: Int;
        data s: String;
        data xs: [Real];
        data t: ([Int], (Bool, String));
        fn model() { (r, n, s, xs, t) }
    ";
    let t = (vec![1, 2, 3], (true, "inner".to_string()));
    let posterior = Program::from_source("values.ppl", src)
        .unwrap()
        .model("model")
        .unwrap()
        .data("r", 2.5)
        .unwrap()
        .data("n", -7)
        .unwrap()
        .data("s", "text")
        .unwrap()
        .data("xs", [1.0, 2.0])
        .unwrap()
        .data("t", t.clone())
        .unwrap()
        .run()
        .unwrap();
    type Out = (f64, i64, String, Vec<f64>, (Vec<i64>, (bool, String)));
    let out: Out = posterior.draws()[0].get().unwrap();
    assert_eq!(out, (2.5, -7, "text".to_string(), vec![1.0, 2.0], t));
    assert_eq!(
        posterior.result_type().to_string(),
        "(Real, Int, String, [Real], ([Int], (Bool, String)))"
    );
    // Wrong Rust type out: a Conversion error.
    let err = posterior.draws()[0].get::<(f64, f64)>().unwrap_err();
    assert_eq!(err.kind(), tyche::ErrorKind::Conversion);
}

#[test]
fn the_same_seed_gives_the_same_draws() {
    let query = Program::from_source("coin.ppl", COIN)
        .unwrap()
        .model("model")
        .unwrap()
        .data("flips", FLIPS.to_vec())
        .unwrap()
        .method(Method::Smc)
        .particles(200);
    let a: Vec<f64> = query.clone().seed(5).run().unwrap().values().unwrap();
    let b: Vec<f64> = query.clone().seed(5).run().unwrap().values().unwrap();
    let c: Vec<f64> = query.seed(6).run().unwrap().values().unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn json_summary_has_the_contract_keys() {
    let posterior = Program::from_source("coin.ppl", COIN)
        .unwrap()
        .model("model")
        .unwrap()
        .data("flips", FLIPS.to_vec())
        .unwrap()
        .method(Method::Smc)
        .particles(300)
        .seed(42)
        .run()
        .unwrap();
    let json = posterior.summary_json();
    for key in [
        "model",
        "method",
        "seed",
        "log_evidence",
        "result",
        "draws",
        "ess",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["model"], "model");
    assert_eq!(json["method"], "smc");
    assert_eq!(json["seed"], 42);
    assert_eq!(json["draws"], 300);
    assert_eq!(json["result"]["type"], "Real");
    let mean = json["result"]["mean"].as_f64().unwrap();
    assert!((mean - posterior.mean().unwrap()).abs() < 1e-9);
    for q in ["0.05", "0.5", "0.95"] {
        let v = json["result"]["quantiles"][q].as_f64().unwrap();
        let p: f64 = q.parse().unwrap();
        assert_eq!(Some(v), posterior.quantile(p), "quantile {q}");
    }
    assert!(posterior.to_string().contains("mean"));
}

/// Per-address values: a state-space model's hidden states, by address.
#[test]
fn values_at_addresses() {
    let src = "
        data ys: [Real];
        fn model() -> Real {
            fold(ys, 0.0, |x_prev, y| {
                let x ~ Normal(0.9 * x_prev, 1.0);
                observe(Normal(x, 0.5), y);
                x
            })
        }
    ";
    let posterior = Program::from_source("ssm.ppl", src)
        .unwrap()
        .model("model")
        .unwrap()
        .data("ys", vec![1.0, 2.0, 3.0])
        .unwrap()
        .method(Method::Importance)
        .samples(500)
        .seed(3)
        .run()
        .unwrap();
    for k in 0..3 {
        let at = posterior.values_at(&format!("x[{k}]"));
        assert_eq!(at.len(), 500);
        let mass: f64 = at.iter().map(|(_, w)| w).sum();
        assert!((mass - 1.0).abs() < 1e-9);
    }
    assert!(posterior.values_at("x[3]").is_empty());
    assert_eq!(posterior.mean_at("x[3]"), None);
    // The model returns the last state, so its mean is x[2]'s.
    let last = posterior.mean_at("x[2]").unwrap();
    assert!((last - posterior.mean().unwrap()).abs() < 1e-9);
    // The bare name is the first occurrence.
    assert_eq!(posterior.mean_at("x"), posterior.mean_at("x[0]"));
    let draw = &posterior.draws()[0];
    let names: Vec<&str> = draw.choices().iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(names, ["x[0]", "x[1]", "x[2]"]);
    assert_eq!(
        f64::from_value(draw.choice("x[2]").unwrap()).unwrap(),
        draw.get::<f64>().unwrap()
    );
}

#[test]
fn programs_queries_and_posteriors_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Program>();
    send_sync::<tyche::Query>();
    send_sync::<Posterior>();
    send_sync::<tyche::Error>();
    let program = Program::from_source("coin.ppl", COIN).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|seed| {
            let program = program.clone();
            std::thread::spawn(move || {
                program
                    .model("model")
                    .unwrap()
                    .data("flips", FLIPS.to_vec())
                    .unwrap()
                    .method(Method::Importance)
                    .samples(100)
                    .seed(seed)
                    .run()
                    .unwrap()
                    .mean()
                    .unwrap()
            })
        })
        .collect();
    for h in handles {
        let m = h.join().unwrap();
        assert!(m > 0.4 && m < 1.0);
    }
}

#[test]
fn bad_settings_are_option_errors() {
    let query = Program::from_source("coin.ppl", COIN)
        .unwrap()
        .model("model")
        .unwrap()
        .data("flips", FLIPS.to_vec())
        .unwrap();
    for q in [
        query.clone().particles(0),
        query.clone().samples(0),
        query.clone().chains(0),
        query.clone().thin(0),
        query.clone().ess_threshold(Some(1.5)),
        query
            .clone()
            .proposal(tyche::Proposal::Drift { scale: -1.0 }),
    ] {
        assert_eq!(q.run().unwrap_err().kind(), tyche::ErrorKind::Options);
    }
}

#[test]
fn runtime_faults_are_run_errors_with_locations() {
    let src = "
        data xs: [Real];
        fn model() -> Real { let i ~ DiscreteUniform(0, 3); xs[i] }
    ";
    let err = Program::from_source("oob.ppl", src)
        .unwrap()
        .model("model")
        .unwrap()
        .data("xs", vec![1.0, 2.0])
        .unwrap()
        .run()
        .unwrap_err();
    assert_eq!(err.kind(), tyche::ErrorKind::Run);
    assert!(err.to_string().contains("out of bounds"), "{err}");
    assert!(err.to_string().contains("oob.ppl:3:"), "{err}");
}

#[test]
fn constants_and_defaults_are_evaluated() {
    let src = "
        data scale: Real = 2.0;
        let offset = scale * 10.0;
        fn model() -> Real { offset + scale }
    ";
    let program = Program::from_source("c.ppl", src).unwrap();
    let default = program.model("model").unwrap().run().unwrap();
    assert_eq!(default.mean(), Some(22.0));
    let bound = program
        .model("model")
        .unwrap()
        .data("scale", 3)
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(bound.mean(), Some(33.0));
}

#[test]
fn program_metadata() {
    let program = Program::from_source(
        "m.ppl",
        "data ys: [Real]; fn helper(x: Real) -> Real { x } fn model() -> Real { helper(1.0) } fn other() -> Int { 1 }",
    )
    .unwrap();
    assert_eq!(
        program.models(),
        vec!["model".to_string(), "other".to_string()]
    );
    assert_eq!(program.data_items().len(), 1);
    assert_eq!(
        program.item_type("helper").unwrap().to_string(),
        "(Real) -> Real"
    );
    let err = program.model("helper").unwrap_err();
    assert_eq!(err.code(), Some("E0405"));
}
