//! MH's default proposal (`Proposal::Adaptive`): a random walk per
//! continuous choice, its scale tuned during burn-in, and iterations that
//! are sweeps over the choices. Checked against a closed-form Gaussian
//! posterior, and for efficiency: prior proposals on the same budget are
//! what the regression that issue 15 measured (acceptance under 1%).

mod inference_util;

use inference_util::*;
use tyche_infer::{Method, Options, Proposal};

/// A regression with known noise whose x's are not centred, so intercept
/// and slope are strongly correlated a posteriori (ρ ≈ −0.88): the hard
/// case for single-site moves.
const XS: [f64; 10] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
const YS: [f64; 10] = [2.9, 5.2, 6.8, 9.1, 11.0, 13.2, 14.8, 17.1, 19.2, 20.8];

fn regression(returns: &str) -> String {
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "let xs = [{}];\nlet ys = [{}];\n\
         fn model() -> Real {{\n\
             let a ~ Normal(0.0, 10.0);\n\
             let b ~ Normal(0.0, 10.0);\n\
             for p in zip(xs, ys) {{ let (x, y) = p; observe(Normal(a + b * x, 1.0), y); }}\n\
             {returns}\n\
         }}",
        list(&XS),
        list(&YS)
    )
}

/// The exact posterior of (a, b): mean and covariance, from the 2×2
/// precision `XᵀX + I/100`.
fn posterior() -> ([f64; 2], [[f64; 2]; 2]) {
    let (n, sx, sxx) = (
        XS.len() as f64,
        XS.iter().sum::<f64>(),
        XS.iter().map(|x| x * x).sum::<f64>(),
    );
    let (sy, sxy) = (
        YS.iter().sum::<f64>(),
        XS.iter().zip(YS).map(|(x, y)| x * y).sum::<f64>(),
    );
    let p = [[n + 0.01, sx], [sx, sxx + 0.01]];
    let det = p[0][0] * p[1][1] - p[0][1] * p[1][0];
    let cov = [
        [p[1][1] / det, -p[0][1] / det],
        [-p[1][0] / det, p[0][0] / det],
    ];
    let mean = [
        cov[0][0] * sy + cov[0][1] * sxy,
        cov[1][0] * sy + cov[1][1] * sxy,
    ];
    (mean, cov)
}

fn mh(proposal: Proposal, src: &str) -> tyche_infer::InferResult {
    let opts = Options {
        burn: 500,
        chains: 4,
        proposal,
        ..Options::for_method(Method::Mh, 4_000).with_seed(7)
    };
    run_with(&model_of(src), opts)
}

#[test]
fn adaptive_random_walk_recovers_a_correlated_gaussian_posterior() {
    let (mean, cov) = posterior();
    assert!(
        cov[0][1] / (cov[0][0] * cov[1][1]).sqrt() < -0.8,
        "the hard case"
    );
    for (i, returns) in ["a", "b"].into_iter().enumerate() {
        let r = mh(Proposal::default(), &regression(returns));
        let stats = r.mcmc.as_ref().expect("mcmc stats");
        let ess = stats.ess.expect("ess");
        let sd = cov[i][i].sqrt();
        assert_close(returns, r.mean().unwrap(), mean[i], sd, ess);
        // Var of a sample variance is 2σ⁴/ess for a normal posterior.
        let v = variance(&r);
        assert!(
            (v - sd * sd).abs() < 5.0 * (2.0 / ess).sqrt() * sd * sd,
            "{returns}: variance {v} vs {}",
            sd * sd
        );
        assert!(
            stats.rhat.unwrap() < 1.05,
            "{returns}: R-hat {:?}",
            stats.rhat
        );
        // Tuned toward 0.44 during burn-in; fixed afterwards.
        assert!(
            (0.3..0.6).contains(&stats.acceptance_rate),
            "{returns}: acceptance {}",
            stats.acceptance_rate
        );
        // 4,000 sweeps of two moves on a ρ = −0.88 posterior: an ESS of
        // about 100 (measured: 102 and 105 at seed 7). Prior proposals
        // (N(0, 10²) for a posterior sd of 0.1–0.6) get about 5 on the
        // same budget (next test).
        assert!(ess > 50.0, "{returns}: ESS {ess}");
    }
}

#[test]
fn prior_proposals_remain_available_and_are_what_adaptation_fixes() {
    let r = mh(Proposal::Prior, &regression("b"));
    let stats = r.mcmc.as_ref().unwrap();
    assert!(stats.acceptance_rate < 0.05, "{}", stats.acceptance_rate);
    assert!(stats.ess.unwrap() < 25.0, "{:?}", stats.ess);
}

/// A random-walk step out of a choice's support (a negative scale) is
/// rejected without running the model there, where the model is not even
/// defined (`Normal(…, −0.3)` is an error); so is the same step on
/// compiled code. Before, such a step stopped the chain with E0601.
#[test]
fn steps_out_of_support_are_rejected_not_errors() {
    let src = "
fn model() -> Real {
    let sigma ~ Exponential(1.0);
    for y in [0.1, -0.2, 0.05, 0.3, -0.1] { observe(Normal(0.0, sigma), y); }
    sigma
}";
    let r = mh(Proposal::Adaptive, src);
    assert!(r.mean().unwrap() > 0.0);
    assert!(r.mcmc.as_ref().unwrap().rhat.unwrap() < 1.05);
}

/// `--samples`, `--burn` and `--thin` count sweeps: one iteration moves
/// every choice once (in random order), so consecutive kept states of a
/// two-choice model often differ in both choices; single-site iterations
/// could change only one.
#[test]
fn iterations_are_sweeps() {
    let src = regression("(a, b)").replace("-> Real", "-> (Real, Real)");
    let opts = Options {
        burn: 100,
        chains: 1,
        ..Options::for_method(Method::Mh, 200).with_seed(1)
    };
    let r = run_with(&model_of(&src), opts);
    let pairs: Vec<(f64, f64)> = r
        .draws
        .iter()
        .map(|d| match &d.value {
            tyche_vm::Value::Tuple(t) => (t[0].as_number().unwrap(), t[1].as_number().unwrap()),
            v => panic!("{v:?}"),
        })
        .collect();
    let both = pairs
        .windows(2)
        .filter(|w| w[0].0 != w[1].0 && w[0].1 != w[1].1)
        .count();
    // Each move is accepted with probability about 0.44, so both move in
    // about a fifth of the iterations.
    assert!(both > 10, "{both} of 199 transitions moved both choices");
}
