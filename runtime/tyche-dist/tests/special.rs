//! The `special` module against `statrs` and against identities, with the
//! edge cases (infinities, extreme arguments) that inference runs into.

// Reference values are quoted with all their published digits.
#![allow(clippy::excessive_precision)]

mod common;

use common::assert_close;
use statrs::function as sf;
use tyche_dist::special::*;

#[test]
fn gamma_family_matches_statrs() {
    for x in [
        1e-8, 0.1, 0.5, 1.0, 1.5, 2.0, 3.7, 10.0, 50.5, 171.0, 1e4, 1e10,
    ] {
        assert_close(
            ln_gamma(x),
            sf::gamma::ln_gamma(x),
            1e-13,
            1e-14,
            &format!("ln_gamma({x})"),
        );
        assert_close(
            digamma(x),
            sf::gamma::digamma(x),
            1e-12,
            1e-13,
            &format!("digamma({x})"),
        );
    }
    // Reflection for negative non-integers; poles are NaN.
    for x in [-0.5, -1.5, -2.25, -10.3] {
        assert_close(
            digamma(x),
            sf::gamma::digamma(x),
            1e-11,
            1e-12,
            &format!("digamma({x})"),
        );
    }
    assert!(digamma(0.0).is_nan() && digamma(-3.0).is_nan());
    assert_close(
        digamma(-1e6 - 0.5),
        (1e6f64 + 0.5).ln(),
        1e-6,
        0.0,
        "digamma far negative",
    );
    assert_close(
        trigamma(1.0),
        std::f64::consts::PI.powi(2) / 6.0,
        1e-12,
        0.0,
        "trigamma(1)",
    );
    for (a, b) in [(0.5, 0.5), (2.0, 3.0), (100.0, 0.1), (1e3, 1e3)] {
        assert_close(
            ln_beta(a, b),
            sf::beta::ln_beta(a, b),
            1e-12,
            1e-12,
            &format!("ln_beta({a},{b})"),
        );
    }
    assert_close(ln_choose(10.0, 3.0), 120f64.ln(), 1e-14, 0.0, "ln C(10,3)");
    // Stirling's error is ln Γ(n+1) − ((n+½) ln n − n + ½ ln 2π).
    for n in [1.0f64, 2.5, 7.0, 15.0, 16.0, 40.0, 100.0, 1e3, 1e6] {
        let want = sf::gamma::ln_gamma(n + 1.0)
            - ((n + 0.5) * n.ln() - n + 0.5 * (2.0 * std::f64::consts::PI).ln());
        // The reference cancels: it is only good to a few ulps of ln Γ(n+1).
        let abs = 1e-13 + 8.0 * f64::EPSILON * sf::gamma::ln_gamma(n + 1.0);
        assert_close(stirlerr(n), want, 1e-9, abs, &format!("stirlerr({n})"));
    }
    assert_close(bd0(10.0, 10.0), 0.0, 0.0, 1e-300, "bd0 at x = m");
    assert_close(
        bd0(3.0, 7.0),
        3.0 * (3f64 / 7.0).ln() + 4.0,
        1e-14,
        0.0,
        "bd0(3, 7)",
    );
    assert_close(
        bd0(10.0, 10.5),
        10.0 * (10f64 / 10.5).ln() + 0.5,
        1e-12,
        0.0,
        "bd0(10, 10.5)",
    );
}

#[test]
fn incomplete_functions_match_statrs() {
    for (a, b) in [(0.5, 0.5), (2.0, 5.0), (10.0, 1.5), (0.1, 30.0)] {
        for x in [1e-6, 0.01, 0.2, 0.5, 0.8, 0.99] {
            assert_close(
                inc_beta(x, a, b),
                sf::beta::beta_reg(a, b, x),
                1e-11,
                1e-14,
                &format!("I_{x}({a},{b})"),
            );
            // Forward residual (the inverse itself is ill-conditioned where
            // the CDF is flat, e.g. Beta(0.1, 30) at 0.5, where I ≈ 1 − 1e-10).
            let p = inc_beta(x, a, b);
            let back = inc_beta(inv_inc_beta(p, a, b), a, b);
            assert_close(
                back,
                p,
                1e-12,
                1e-15,
                &format!("inv_inc_beta round trip {x} ({a},{b})"),
            );
        }
    }
    assert_eq!(
        (inc_beta(0.0, 2.0, 3.0), inc_beta(1.0, 2.0, 3.0)),
        (0.0, 1.0)
    );
    for a in [0.1, 0.5, 1.0, 3.0, 20.0, 500.0] {
        for x in [1e-8, 0.01, 0.5, 1.0, 2.0, 5.0, 19.0, 30.0, 450.0, 600.0] {
            let (p, q) = gamma_pq(a, x);
            assert_close(
                p,
                sf::gamma::gamma_lr(a, x),
                1e-11,
                1e-14,
                &format!("P({a},{x})"),
            );
            assert_close(
                q,
                sf::gamma::gamma_ur(a, x),
                1e-11,
                1e-14,
                &format!("Q({a},{x})"),
            );
            assert_eq!(p, gamma_p(a, x));
            assert_eq!(q, gamma_q(a, x));
        }
    }
    // Tails are accurate relative, not just absolute: Q(1, x) = e^−x exactly.
    for x in [40.0, 200.0, 700.0] {
        assert_close(
            gamma_q(1.0, x),
            (-x).exp(),
            1e-13,
            0.0,
            &format!("Q(1,{x})"),
        );
        assert_close(
            gamma_p(1.0, 1.0 / x),
            -(-1.0 / x).exp_m1(),
            1e-13,
            0.0,
            &format!("P(1,1/{x})"),
        );
    }
    for a in [0.2, 1.0, 4.0, 100.0] {
        for p in [1e-12, 1e-3, 0.3, 0.5, 0.9, 1.0 - 1e-6] {
            let x = gamma_p_inv(a, p);
            assert_close(gamma_p(a, x), p, 1e-10, 1e-15, &format!("P({a}, P⁻¹({p}))"));
            let x = gamma_q_inv(a, p);
            assert_close(gamma_q(a, x), p, 1e-10, 1e-15, &format!("Q({a}, Q⁻¹({p}))"));
        }
    }
}

#[test]
fn error_and_normal_functions() {
    // statrs' erf is only good to ~1e-11 (its erf(1) is off by 7e-12), so
    // compare loosely with it and tightly with reference values.
    for x in [-5.0f64, -1.0, -0.1, 0.0, 0.3, 1.0, 2.5, 6.0] {
        assert_close(erf(x), sf::erf::erf(x), 1e-10, 1e-16, &format!("erf({x})"));
        assert_close(
            erfc(x),
            sf::erf::erfc(x),
            1e-10,
            1e-300,
            &format!("erfc({x})"),
        );
        assert_close(
            erf(x) + erfc(x),
            1.0,
            1e-15,
            0.0,
            &format!("erf + erfc at {x}"),
        );
    }
    assert_close(erf(1.0), 0.842_700_792_949_714_869_3, 1e-15, 0.0, "erf(1)");
    assert_close(
        erf(0.5),
        0.520_499_877_813_046_537_7,
        1e-15,
        0.0,
        "erf(0.5)",
    );
    assert_close(
        erfc(2.0),
        4.677_734_981_047_265_838e-3,
        1e-15,
        0.0,
        "erfc(2)",
    );
    assert_close(
        erfc(5.0),
        1.537_459_794_428_034_850e-12,
        1e-14,
        0.0,
        "erfc(5)",
    );
    assert_close(
        erfc(10.0),
        2.088_487_583_762_544_757e-45,
        1e-14,
        0.0,
        "erfc(10)",
    );
    // Deep lower tail: Φ(−37.5) ≈ 4.6e-308, relative accuracy kept.
    assert!(normal_cdf(-37.5) > 0.0);
    assert_close(
        normal_cdf(-10.0),
        7.619_853_024_160_527e-24,
        1e-13,
        0.0,
        "Φ(−10)",
    );
    assert_close(
        normal_ccdf(10.0),
        7.619_853_024_160_527e-24,
        1e-13,
        0.0,
        "1 − Φ(10)",
    );
    for z in [
        -37.0, -20.0, -8.0, -3.0, -1.0, -0.2, 0.0, 0.2, 1.0, 3.0, 8.0,
    ] {
        let u = normal_cdf(z);
        if u < 1.0 - 1e-10 {
            let tol = if z < 0.0 { 1e-13 } else { 1e-9 };
            assert_close(normal_quantile(u), z, tol, 1e-14, &format!("Φ⁻¹(Φ({z}))"));
        }
        if normal_ccdf(z) < 1.0 - 1e-10 {
            assert_close(
                normal_quantile_upper(normal_ccdf(z)),
                z,
                1e-12,
                1e-14,
                &format!("upper({z})"),
            );
        }
    }
    assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
    assert_eq!(normal_quantile(1.0), f64::INFINITY);
    assert!(normal_quantile(1.5).is_nan());
    assert_eq!(normal_quantile(0.5), 0.0);
    assert_close(
        normal_quantile(0.975),
        1.959_963_984_540_054,
        1e-15,
        0.0,
        "z_0.975",
    );
}

#[test]
fn log_space_helpers_are_stable() {
    assert_close(
        log_sum_exp(&[1000.0, 1000.0]),
        1000.0 + 2f64.ln(),
        1e-15,
        0.0,
        "lse big",
    );
    assert_close(
        log_sum_exp(&[-1000.0, -1000.0]),
        -1000.0 + 2f64.ln(),
        1e-15,
        0.0,
        "lse small",
    );
    assert_eq!(
        log_sum_exp(&[f64::NEG_INFINITY, f64::NEG_INFINITY]),
        f64::NEG_INFINITY
    );
    assert_eq!(log_sum_exp(&[]), f64::NEG_INFINITY);
    assert_eq!(log_sum_exp(&[f64::NEG_INFINITY, 3.0]), 3.0);
    assert_eq!(log_sum_exp(&[f64::INFINITY, 3.0]), f64::INFINITY);
    assert!(log_sum_exp(&[f64::NAN, 3.0]).is_nan());
    assert_close(log_add_exp(0.0, 0.0), 2f64.ln(), 1e-15, 0.0, "lae");
    assert_eq!(log_add_exp(f64::NEG_INFINITY, -5.0), -5.0);
    assert_eq!(
        log_add_exp(f64::NEG_INFINITY, f64::NEG_INFINITY),
        f64::NEG_INFINITY
    );

    assert_eq!(sigmoid(1000.0), 1.0);
    assert_eq!(sigmoid(-1000.0), 0.0);
    assert_close(
        sigmoid(-700.0),
        (-700f64).exp(),
        1e-14,
        0.0,
        "sigmoid(−700)",
    );
    assert_eq!(sigmoid(0.0), 0.5);
    for x in [-30.0, -3.0, 0.0, 0.7, 12.0] {
        assert_close(
            logit(sigmoid(x)),
            x,
            1e-9,
            1e-12,
            &format!("logit(sigmoid({x}))"),
        );
    }
    assert_eq!(logit(0.0), f64::NEG_INFINITY);
    assert_eq!(logit(1.0), f64::INFINITY);
    assert_close(
        log1p_exp(-50.0),
        (-50f64).exp(),
        1e-15,
        0.0,
        "softplus(−50)",
    );
    assert_close(log1p_exp(0.0), 2f64.ln(), 1e-15, 0.0, "softplus(0)");
    assert_close(
        log1p_exp(25.0),
        25.0 + (-25f64).exp(),
        1e-15,
        0.0,
        "softplus(25)",
    );
    assert_eq!(log1p_exp(1000.0), 1000.0);
    assert_close(log_sigmoid(-800.0), -800.0, 1e-15, 0.0, "log_sigmoid(−800)");
    assert_close(log1p(1e-20), 1e-20, 1e-15, 0.0, "log1p");
    assert_close(expm1(1e-20), 1e-20, 1e-15, 0.0, "expm1");
}
