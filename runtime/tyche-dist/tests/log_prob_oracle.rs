//! `log_prob` of every univariate distribution against `statrs` at many
//! parameter settings and points (relative 1e-12, or absolute 1e-12 near
//! zero), plus tail, boundary and wrong-variant cases checked by hand.

mod common;

use common::{assert_close, grid, lp, lpk, positive_grid};
use statrs::distribution::{self as sd, Continuous, Discrete};
use tyche_dist::{Dist, Outcome};

const REL: f64 = 1e-12;
const ABS: f64 = 1e-12;

#[test]
fn normal_matches_statrs() {
    for &(mu, sigma) in &[
        (0.0, 1.0),
        (3.5, 0.01),
        (-20.0, 7.0),
        (1e3, 1e-3),
        (0.0, 1e4),
    ] {
        let d = Dist::normal(mu, sigma).unwrap();
        let o = sd::Normal::new(mu, sigma).unwrap();
        for x in grid(mu, sigma) {
            assert_close(
                lp(&d, x),
                o.ln_pdf(x),
                REL,
                ABS,
                &format!("Normal({mu},{sigma}) at {x}"),
            );
        }
    }
}

#[test]
fn normal_is_exact_far_in_the_tails() {
    let d = Dist::normal(1.0, 2.0).unwrap();
    // At 40 sigmas: −½·40² − ln 2 − ½ ln 2π, with no exp-then-log underflow.
    let want = -800.0 - 2f64.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
    assert_close(lp(&d, 81.0), want, 1e-15, 0.0, "Normal at +40σ");
    assert_close(lp(&d, -79.0), want, 1e-15, 0.0, "Normal at −40σ");
    assert!(lp(&d, 1e200).is_finite() || lp(&d, 1e200) == f64::NEG_INFINITY);
    assert_eq!(lp(&d, f64::INFINITY), f64::NEG_INFINITY);
    assert_eq!(lp(&d, f64::NAN), f64::NEG_INFINITY);
}

#[test]
fn log_normal_matches_statrs() {
    for &(mu, sigma) in &[(0.0, 1.0), (2.0, 0.3), (-1.0, 2.5)] {
        let d = Dist::log_normal(mu, sigma).unwrap();
        let o = sd::LogNormal::new(mu, sigma).unwrap();
        for x in positive_grid() {
            assert_close(
                lp(&d, x),
                o.ln_pdf(x),
                REL,
                ABS,
                &format!("LogNormal({mu},{sigma}) at {x}"),
            );
        }
        for x in [0.0, -1.0, f64::INFINITY] {
            assert_eq!(lp(&d, x), f64::NEG_INFINITY, "LogNormal at {x}");
        }
    }
}

#[test]
fn uniform_matches_statrs_and_is_inclusive() {
    for &(lo, hi) in &[(0.0, 1.0), (-3.0, 5.5), (1e-3, 2e-3)] {
        let d = Dist::uniform(lo, hi).unwrap();
        let o = sd::Uniform::new(lo, hi).unwrap();
        let w = hi - lo;
        for x in [
            lo,
            lo + 0.1 * w,
            lo + 0.5 * w,
            hi - 1e-9 * w,
            hi,
            lo - 1e-9 * w,
            hi + 0.1 * w,
        ] {
            assert_close(
                lp(&d, x),
                o.ln_pdf(x),
                REL,
                ABS,
                &format!("Uniform({lo},{hi}) at {x}"),
            );
        }
        assert_eq!(lp(&d, lo), -(w.ln()));
        assert_eq!(lp(&d, hi), -(w.ln()));
    }
}

#[test]
fn beta_matches_statrs() {
    for &(a, b) in &[
        (1.0, 1.0),
        (2.0, 5.0),
        (0.5, 0.5),
        (0.3, 4.0),
        (30.0, 70.0),
        (1.0, 3.0),
        (200.0, 2.0),
    ] {
        let d = Dist::beta(a, b).unwrap();
        let o = sd::Beta::new(a, b).unwrap();
        for x in [
            1e-12,
            1e-6,
            0.001,
            0.05,
            0.2,
            0.3,
            0.5,
            0.7,
            0.9,
            0.999,
            1.0 - 1e-9,
        ] {
            assert_close(
                lp(&d, x),
                o.ln_pdf(x),
                REL,
                ABS,
                &format!("Beta({a},{b}) at {x}"),
            );
        }
    }
}

#[test]
fn beta_boundaries_are_never_nan() {
    // a = 1: density at 0 is b (finite); a > 1: 0; a < 1: a pole (+∞).
    let d = Dist::beta(1.0, 3.0).unwrap();
    assert_close(lp(&d, 0.0), 3f64.ln(), 1e-15, 0.0, "Beta(1,3) at 0");
    assert_eq!(lp(&d, 1.0), f64::NEG_INFINITY);
    let d = Dist::beta(2.0, 1.0).unwrap();
    assert_eq!(lp(&d, 0.0), f64::NEG_INFINITY);
    assert_close(lp(&d, 1.0), 2f64.ln(), 1e-15, 0.0, "Beta(2,1) at 1");
    let d = Dist::beta(1.0, 1.0).unwrap();
    assert_eq!(lp(&d, 0.0), 0.0);
    assert_eq!(lp(&d, 1.0), 0.0);
    let d = Dist::beta(0.5, 0.5).unwrap();
    assert_eq!(lp(&d, 0.0), f64::INFINITY);
    assert_eq!(lp(&d, 1.0), f64::INFINITY);
    for x in [-0.1, 1.1, f64::NAN] {
        assert_eq!(lp(&d, x), f64::NEG_INFINITY);
    }
}

#[test]
fn gamma_matches_statrs_with_rate() {
    for &(shape, rate) in &[
        (1.0, 1.0),
        (2.0, 3.0),
        (0.5, 0.1),
        (9.0, 0.5),
        (150.0, 20.0),
    ] {
        let d = Dist::gamma(shape, rate).unwrap();
        let o = sd::Gamma::new(shape, rate).unwrap();
        for x in positive_grid() {
            assert_close(
                lp(&d, x),
                o.ln_pdf(x),
                REL,
                ABS,
                &format!("Gamma({shape},{rate}) at {x}"),
            );
        }
    }
    // Boundary at 0.
    assert_close(
        lp(&Dist::gamma(1.0, 2.5).unwrap(), 0.0),
        2.5f64.ln(),
        1e-15,
        0.0,
        "Gamma(1,r) at 0",
    );
    assert_eq!(lp(&Dist::gamma(2.0, 1.0).unwrap(), 0.0), f64::NEG_INFINITY);
    assert_eq!(lp(&Dist::gamma(0.5, 1.0).unwrap(), 0.0), f64::INFINITY);
    assert_eq!(lp(&Dist::gamma(2.0, 1.0).unwrap(), -1.0), f64::NEG_INFINITY);
    assert_eq!(
        lp(&Dist::gamma(2.0, 1.0).unwrap(), f64::INFINITY),
        f64::NEG_INFINITY
    );
}

#[test]
fn inv_gamma_matches_statrs_through_the_reciprocal() {
    // If Y ~ Gamma(shape, rate = scale) then X = 1/Y ~ InvGamma(shape, scale),
    // so p_X(x) = p_Y(1/x) / x². (statrs' own InverseGamma computes ln(pdf),
    // which underflows in the tails; the reciprocal route is exact.)
    for &(shape, scale) in &[(1.0, 1.0), (3.0, 2.0), (0.5, 0.1), (10.0, 30.0)] {
        let d = Dist::inv_gamma(shape, scale).unwrap();
        let o = sd::Gamma::new(shape, scale).unwrap();
        let direct = sd::InverseGamma::new(shape, scale).unwrap();
        for x in positive_grid() {
            let want = o.ln_pdf(1.0 / x) - 2.0 * x.ln();
            assert_close(
                lp(&d, x),
                want,
                REL,
                ABS,
                &format!("InvGamma({shape},{scale}) at {x}"),
            );
            let pdf = direct.pdf(x);
            if pdf > 1e-200 && pdf.is_finite() {
                assert_close(
                    lp(&d, x),
                    pdf.ln(),
                    1e-10,
                    1e-10,
                    &format!("InvGamma vs statrs at {x}"),
                );
            }
        }
        assert_eq!(lp(&d, 0.0), f64::NEG_INFINITY);
        assert_eq!(lp(&d, -2.0), f64::NEG_INFINITY);
    }
}

#[test]
fn exponential_matches_statrs() {
    for &rate in &[1.0, 0.01, 7.5, 1e3] {
        let d = Dist::exponential(rate).unwrap();
        let o = sd::Exp::new(rate).unwrap();
        for x in positive_grid().into_iter().chain([0.0, -1.0]) {
            assert_close(
                lp(&d, x),
                o.ln_pdf(x),
                REL,
                ABS,
                &format!("Exponential({rate}) at {x}"),
            );
        }
    }
}

#[test]
fn cauchy_matches_statrs() {
    for &(loc, scale) in &[(0.0, 1.0), (-2.0, 0.5), (10.0, 30.0)] {
        let d = Dist::cauchy(loc, scale).unwrap();
        let o = sd::Cauchy::new(loc, scale).unwrap();
        for x in grid(loc, scale) {
            assert_close(
                lp(&d, x),
                o.ln_pdf(x),
                REL,
                ABS,
                &format!("Cauchy({loc},{scale}) at {x}"),
            );
        }
    }
    // Far beyond where z² overflows the density is still finite.
    let d = Dist::cauchy(0.0, 1.0).unwrap();
    let want = -std::f64::consts::PI.ln() - 2.0 * 1e200f64.ln();
    assert_close(lp(&d, 1e200), want, 1e-14, 0.0, "Cauchy at 1e200");
}

#[test]
fn student_t_matches_statrs() {
    for &(nu, mu, sigma) in &[
        (1.0, 0.0, 1.0),
        (3.0, 1.0, 2.0),
        (0.5, -1.0, 0.3),
        (30.0, 0.0, 1.0),
        (250.0, 5.0, 4.0),
        (1e5, 0.0, 1.0),
    ] {
        let d = Dist::student_t(nu, mu, sigma).unwrap();
        let o = sd::StudentsT::new(mu, sigma, nu).unwrap();
        for x in grid(mu, sigma) {
            // statrs computes ln Γ((ν+1)/2) − ln Γ(ν/2) directly, which loses
            // about ν·1e-16·ln ν absolutely for large ν; allow for that.
            let abs = ABS.max(2e-16 * nu * nu.ln());
            assert_close(
                lp(&d, x),
                o.ln_pdf(x),
                REL,
                abs,
                &format!("StudentT({nu},{mu},{sigma}) at {x}"),
            );
        }
    }
}

#[test]
fn student_t_approaches_normal_for_huge_nu() {
    let t = Dist::student_t(1e12, 0.5, 2.0).unwrap();
    let n = Dist::normal(0.5, 2.0).unwrap();
    for x in [-3.0, 0.5, 1.0, 4.0] {
        assert_close(
            lp(&t, x),
            lp(&n, x),
            1e-10,
            1e-10,
            &format!("StudentT(1e12) at {x}"),
        );
    }
}

#[test]
fn bernoulli_matches_statrs_and_handles_certain_p() {
    for &p in &[0.5, 0.1, 0.999, 1e-12, 1.0 - 1e-12] {
        let d = Dist::bernoulli(p).unwrap();
        let o = sd::Bernoulli::new(p).unwrap();
        assert_close(
            d.log_prob(&Outcome::Bool(true)),
            o.ln_pmf(1),
            REL,
            ABS,
            &format!("Bernoulli({p}) true"),
        );
        assert_close(
            d.log_prob(&Outcome::Bool(false)),
            o.ln_pmf(0),
            1e-10,
            ABS,
            &format!("Bernoulli({p}) false"),
        );
    }
    // ln(1 − p) for tiny p is computed with ln1p: exact to the last digit.
    let d = Dist::bernoulli(1e-20).unwrap();
    assert_eq!(d.log_prob(&Outcome::Bool(false)), -1e-20);
    assert_close(
        d.log_prob(&Outcome::Bool(true)),
        -20.0 * 10f64.ln(),
        1e-15,
        0.0,
        "ln 1e-20",
    );
    let d = Dist::bernoulli(0.0).unwrap();
    assert_eq!(d.log_prob(&Outcome::Bool(false)), 0.0);
    assert_eq!(d.log_prob(&Outcome::Bool(true)), f64::NEG_INFINITY);
    let d = Dist::bernoulli(1.0).unwrap();
    assert_eq!(d.log_prob(&Outcome::Bool(true)), 0.0);
    assert_eq!(d.log_prob(&Outcome::Bool(false)), f64::NEG_INFINITY);
}

#[test]
fn binomial_matches_statrs() {
    for &(n, p) in &[
        (10i64, 0.3),
        (1, 0.5),
        (50, 0.01),
        (200, 0.75),
        (1000, 0.5),
        (0, 0.4),
    ] {
        let d = Dist::binomial(n, p).unwrap();
        let o = sd::Binomial::new(p, n as u64).unwrap();
        for k in 0..=n {
            assert_close(
                lpk(&d, k),
                o.ln_pmf(k as u64),
                REL,
                1e-11,
                &format!("Binomial({n},{p}) at {k}"),
            );
        }
        assert_eq!(lpk(&d, -1), f64::NEG_INFINITY);
        assert_eq!(lpk(&d, n + 1), f64::NEG_INFINITY);
    }
    // p = 0 and p = 1 are point masses, with no 0·(−∞) NaN.
    let d = Dist::binomial(5, 0.0).unwrap();
    assert_eq!(lpk(&d, 0), 0.0);
    assert_eq!(lpk(&d, 1), f64::NEG_INFINITY);
    let d = Dist::binomial(5, 1.0).unwrap();
    assert_eq!(lpk(&d, 5), 0.0);
    assert_eq!(lpk(&d, 4), f64::NEG_INFINITY);
}

#[test]
fn poisson_matches_statrs() {
    for &rate in &[0.5, 1.0, 3.7, 40.0, 1234.5] {
        let d = Dist::poisson(rate).unwrap();
        let o = sd::Poisson::new(rate).unwrap();
        let top = (rate * 3.0 + 30.0) as i64;
        for k in 0..=top {
            assert_close(
                lpk(&d, k),
                o.ln_pmf(k as u64),
                REL,
                1e-11,
                &format!("Poisson({rate}) at {k}"),
            );
        }
        assert_eq!(lpk(&d, -1), f64::NEG_INFINITY);
    }
    let d = Dist::poisson(0.0).unwrap();
    assert_eq!(lpk(&d, 0), 0.0);
    assert_eq!(lpk(&d, 3), f64::NEG_INFINITY);
}

#[test]
fn geometric_counts_failures_before_the_first_success() {
    for &p in &[0.5, 0.1, 0.9, 1e-3, 1.0] {
        let d = Dist::geometric(p).unwrap();
        // statrs' Geometric counts trials (support 1, 2, …): shift by one.
        let o = sd::Geometric::new(p).unwrap();
        for k in 0..200 {
            assert_close(
                lpk(&d, k),
                o.ln_pmf(k as u64 + 1),
                REL,
                ABS,
                &format!("Geometric({p}) at {k}"),
            );
        }
        assert_eq!(lpk(&d, -1), f64::NEG_INFINITY);
    }
    // P(k) = (1 − p)^k p by hand.
    let d = Dist::geometric(0.25).unwrap();
    assert_close(
        lpk(&d, 3),
        (0.75f64.powi(3) * 0.25).ln(),
        1e-15,
        0.0,
        "Geometric(0.25) at 3",
    );
}

#[test]
fn categorical_matches_statrs_and_normalises() {
    let weights = [2.0, 0.0, 5.0, 3.0];
    let d = Dist::categorical(&weights).unwrap();
    let o = sd::Categorical::new(&weights).unwrap();
    for k in 0..4 {
        assert_close(
            lpk(&d, k),
            o.ln_pmf(k as u64),
            REL,
            ABS,
            &format!("Categorical at {k}"),
        );
    }
    assert_close(lpk(&d, 2), 0.5f64.ln(), 1e-15, 0.0, "Categorical at 2");
    assert_eq!(lpk(&d, 1), f64::NEG_INFINITY);
    assert_eq!(lpk(&d, 4), f64::NEG_INFINITY);
    assert_eq!(lpk(&d, -1), f64::NEG_INFINITY);
}

#[test]
fn discrete_uniform_matches_statrs_and_is_inclusive() {
    for &(lo, hi) in &[(0i64, 0i64), (1, 6), (-10, 10), (5, 1_000_000)] {
        let d = Dist::discrete_uniform(lo, hi).unwrap();
        let o = sd::DiscreteUniform::new(lo, hi).unwrap();
        for k in [lo - 1, lo, lo + 1, (lo + hi) / 2, hi - 1, hi, hi + 1] {
            assert_close(
                lpk(&d, k),
                o.ln_pmf(k),
                REL,
                ABS,
                &format!("DiscreteUniform({lo},{hi}) at {k}"),
            );
        }
    }
    // The full i64 range does not overflow.
    let d = Dist::discrete_uniform(i64::MIN, i64::MAX).unwrap();
    assert_close(lpk(&d, 0), -64.0 * 2f64.ln(), 1e-15, 0.0, "full range");
}

#[test]
fn wrong_variants_and_nan_give_negative_infinity() {
    let cases: Vec<(Dist, Outcome)> = vec![
        (Dist::normal(0.0, 1.0).unwrap(), Outcome::Int(0)),
        (Dist::normal(0.0, 1.0).unwrap(), Outcome::Bool(true)),
        (Dist::normal(0.0, 1.0).unwrap(), Outcome::Vector(vec![0.0])),
        (Dist::poisson(1.0).unwrap(), Outcome::Real(1.0)),
        (Dist::bernoulli(0.5).unwrap(), Outcome::Int(1)),
        (Dist::categorical(&[1.0, 1.0]).unwrap(), Outcome::Real(0.0)),
        (Dist::dirichlet(&[1.0, 1.0]).unwrap(), Outcome::Real(0.5)),
        (
            Dist::dirichlet(&[1.0, 1.0]).unwrap(),
            Outcome::Vector(vec![0.5, 0.25, 0.25]),
        ),
        (
            Dist::mv_normal(&[0.0], &[vec![1.0]]).unwrap(),
            Outcome::Vector(vec![0.0, 1.0]),
        ),
        (
            Dist::mv_normal(&[0.0], &[vec![1.0]]).unwrap(),
            Outcome::Vector(vec![f64::NAN]),
        ),
    ];
    for (d, x) in cases {
        assert_eq!(d.log_prob(&x), f64::NEG_INFINITY, "{:?} at {x:?}", d.kind());
    }
    for d in [
        Dist::log_normal(0.0, 1.0),
        Dist::uniform(0.0, 1.0),
        Dist::beta(2.0, 2.0),
        Dist::gamma(2.0, 1.0),
        Dist::inv_gamma(2.0, 1.0),
        Dist::exponential(1.0),
        Dist::cauchy(0.0, 1.0),
        Dist::student_t(3.0, 0.0, 1.0),
    ] {
        let d = d.unwrap();
        assert_eq!(
            d.log_prob(&Outcome::Real(f64::NAN)),
            f64::NEG_INFINITY,
            "{:?} at NaN",
            d.kind()
        );
    }
}
