//! CDFs against `statrs`, and quantile/CDF round trips in both directions,
//! including far tails; discrete quantiles are exact inverses on the
//! support.

mod common;

use common::{assert_close, int, real};
use statrs::distribution::{self as sd, ContinuousCDF, DiscreteCDF};
use tyche_dist::{Dist, Outcome};

fn continuous() -> Vec<Dist> {
    vec![
        Dist::normal(1.0, 2.0).unwrap(),
        Dist::log_normal(0.5, 0.8).unwrap(),
        Dist::uniform(-1.0, 3.0).unwrap(),
        Dist::beta(2.0, 5.0).unwrap(),
        Dist::beta(0.5, 0.5).unwrap(),
        Dist::beta(0.2, 3.0).unwrap(),
        Dist::beta(50.0, 20.0).unwrap(),
        Dist::gamma(3.0, 2.0).unwrap(),
        Dist::gamma(0.3, 1.0).unwrap(),
        Dist::gamma(200.0, 0.5).unwrap(),
        Dist::inv_gamma(3.0, 2.0).unwrap(),
        Dist::inv_gamma(0.7, 0.1).unwrap(),
        Dist::exponential(3.0).unwrap(),
        Dist::cauchy(-1.0, 0.5).unwrap(),
        Dist::student_t(1.0, 0.0, 1.0).unwrap(),
        Dist::student_t(4.5, 2.0, 3.0).unwrap(),
        Dist::student_t(0.7, 0.0, 1.0).unwrap(),
        Dist::student_t(300.0, 0.0, 1.0).unwrap(),
    ]
}

fn cdf_r(d: &Dist, x: f64) -> f64 {
    d.cdf(&real(x)).unwrap()
}

fn q_r(d: &Dist, u: f64) -> f64 {
    match d.quantile(u).unwrap() {
        Outcome::Real(x) => x,
        other => panic!("{other:?}"),
    }
}

#[test]
fn continuous_quantile_then_cdf_round_trips_into_the_tails() {
    let us = [
        1e-300,
        1e-100,
        1e-15,
        1e-9,
        1e-4,
        0.01,
        0.1,
        0.25,
        0.5,
        0.75,
        0.9,
        0.99,
        1.0 - 1e-4,
        1.0 - 1e-9,
    ];
    for d in continuous() {
        for &u in &us {
            let x = q_r(&d, u);
            assert!(!x.is_nan(), "{d:?}: quantile({u}) is NaN");
            let back = cdf_r(&d, x);
            // Where the density is so concentrated that x underflows or
            // rounds (e.g. Beta(0.2, 3) at u = 1e-300), compare via ulps of x.
            let next = cdf_r(&d, x.next_up());
            let prev = cdf_r(&d, x.next_down());
            let ok =
                (back - u).abs() <= 1e-9 * u.min(1.0 - u).max(1e-300) || (prev <= u && u <= next);
            assert!(
                ok,
                "{d:?}: cdf(quantile({u})) = {back} (x = {x}, neighbours {prev}, {next})"
            );
        }
    }
}

#[test]
fn continuous_cdf_then_quantile_round_trips() {
    for d in continuous() {
        for u in [0.001, 0.05, 0.3, 0.5, 0.7, 0.95, 0.999] {
            let x0 = q_r(&d, u);
            let x = q_r(&d, cdf_r(&d, x0));
            assert_close(x, x0, 1e-9, 1e-12, &format!("{d:?}: quantile(cdf({x0}))"));
        }
    }
}

#[test]
fn continuous_quantile_ends_are_the_support_ends() {
    let d = Dist::normal(0.0, 1.0).unwrap();
    assert_eq!(q_r(&d, 0.0), f64::NEG_INFINITY);
    assert_eq!(q_r(&d, 1.0), f64::INFINITY);
    let d = Dist::uniform(2.0, 3.0).unwrap();
    assert_eq!((q_r(&d, 0.0), q_r(&d, 1.0)), (2.0, 3.0));
    let d = Dist::beta(2.0, 3.0).unwrap();
    assert_eq!((q_r(&d, 0.0), q_r(&d, 1.0)), (0.0, 1.0));
    let d = Dist::gamma(2.0, 3.0).unwrap();
    assert_eq!((q_r(&d, 0.0), q_r(&d, 1.0)), (0.0, f64::INFINITY));
    let d = Dist::cauchy(0.0, 1.0).unwrap();
    assert_eq!(
        (q_r(&d, 0.0), q_r(&d, 0.5), q_r(&d, 1.0)),
        (f64::NEG_INFINITY, 0.0, f64::INFINITY)
    );
    for bad in [-0.1, 1.1, f64::NAN] {
        assert_eq!(d.quantile(bad), None);
    }
    assert_eq!(Dist::dirichlet(&[1.0, 2.0]).unwrap().quantile(0.5), None);
    assert_eq!(
        Dist::mv_normal(&[0.0], &[vec![1.0]])
            .unwrap()
            .cdf(&Outcome::Vector(vec![0.0])),
        None
    );
    assert_eq!(d.cdf(&int(0)), None);
    assert_eq!(d.cdf(&real(f64::NAN)), None);
}

#[test]
fn normal_quantile_is_exact_for_a_location_scale_shift() {
    // u = F(x) then x' = F'^{-1}(u): the counterfactual coupling of §9. For
    // normals it should reproduce the shifted value to near machine precision.
    let f = Dist::normal(2.0, 1.0).unwrap();
    let g = Dist::normal(0.0, 1.0).unwrap();
    for x in [-3.0, 0.0, 1.5, 2.0, 3.0, 4.5] {
        let u = cdf_r(&f, x);
        assert_close(q_r(&g, u), x - 2.0, 1e-13, 1e-13, &format!("shift of {x}"));
    }
}

#[test]
fn continuous_cdfs_match_statrs() {
    let pts = [
        -50.0, -5.0, -1.0, -0.3, 0.0, 1e-3, 0.2, 0.5, 0.8, 1.0, 1.7, 3.0, 8.0, 40.0, 300.0,
    ];
    let check = |d: &Dist, f: &dyn Fn(f64) -> f64, name: &str| {
        for &x in &pts {
            let want = f(x);
            // statrs' erfc is only good to ~1e-10 relative (its Φ(−3) is off
            // by 4e-11), so this is a check for gross errors; exact values
            // are checked in `cdfs_match_reference_values`.
            assert_close(
                cdf_r(d, x),
                want,
                1e-9,
                1e-14,
                &format!("{name} cdf at {x}"),
            );
        }
    };
    let o = sd::Normal::new(1.0, 2.0).unwrap();
    check(&Dist::normal(1.0, 2.0).unwrap(), &|x| o.cdf(x), "Normal");
    let o = sd::LogNormal::new(0.5, 0.8).unwrap();
    check(
        &Dist::log_normal(0.5, 0.8).unwrap(),
        &|x| o.cdf(x),
        "LogNormal",
    );
    let o = sd::Uniform::new(-1.0, 3.0).unwrap();
    check(&Dist::uniform(-1.0, 3.0).unwrap(), &|x| o.cdf(x), "Uniform");
    for (a, b) in [(2.0, 5.0), (0.5, 0.5), (30.0, 10.0)] {
        let o = sd::Beta::new(a, b).unwrap();
        check(&Dist::beta(a, b).unwrap(), &|x| o.cdf(x), "Beta");
    }
    for (s, r) in [(3.0, 2.0), (0.3, 1.0), (50.0, 4.0)] {
        let o = sd::Gamma::new(s, r).unwrap();
        check(&Dist::gamma(s, r).unwrap(), &|x| o.cdf(x), "Gamma");
    }
    let o = sd::InverseGamma::new(3.0, 2.0).unwrap();
    check(
        &Dist::inv_gamma(3.0, 2.0).unwrap(),
        &|x| o.cdf(x),
        "InvGamma",
    );
    let o = sd::Exp::new(3.0).unwrap();
    check(
        &Dist::exponential(3.0).unwrap(),
        &|x| o.cdf(x),
        "Exponential",
    );
    let o = sd::Cauchy::new(-1.0, 0.5).unwrap();
    check(&Dist::cauchy(-1.0, 0.5).unwrap(), &|x| o.cdf(x), "Cauchy");
    for (nu, mu, s) in [(1.0, 0.0, 1.0), (4.5, 2.0, 3.0), (30.0, -1.0, 0.5)] {
        let o = sd::StudentsT::new(mu, s, nu).unwrap();
        check(
            &Dist::student_t(nu, mu, s).unwrap(),
            &|x| o.cdf(x),
            "StudentT",
        );
    }
}

#[test]
fn cdfs_match_reference_values() {
    // Reference values from the closed forms, evaluated to 17+ digits.
    let n = Dist::normal(0.0, 1.0).unwrap();
    assert_close(
        cdf_r(&n, -3.0),
        1.349_898_031_630_094_5e-3,
        1e-14,
        0.0,
        "Φ(−3)",
    );
    assert_close(
        cdf_r(&n, -10.0),
        7.619_853_024_160_527e-24,
        1e-13,
        0.0,
        "Φ(−10)",
    );
    assert_close(cdf_r(&n, 1.0), 0.841_344_746_068_542_9, 1e-15, 0.0, "Φ(1)");
    // Exponential and Cauchy have elementary CDFs.
    let e = Dist::exponential(2.0).unwrap();
    assert_close(
        cdf_r(&e, 1e-10),
        -(-2e-10f64).exp_m1(),
        1e-15,
        0.0,
        "Exp cdf tiny",
    );
    let c = Dist::cauchy(0.0, 1.0).unwrap();
    assert_close(
        cdf_r(&c, -1e10),
        1.0 / (std::f64::consts::PI * 1e10),
        1e-12,
        0.0,
        "Cauchy far tail",
    );
    // Gamma(1, rate) is Exponential(rate); Gamma(k, 1) has the Poisson-sum CDF.
    let g = Dist::gamma(1.0, 2.0).unwrap();
    assert_close(
        cdf_r(&g, 0.7),
        -(-1.4f64).exp_m1(),
        1e-14,
        0.0,
        "Gamma(1,2) cdf",
    );
    let g = Dist::gamma(3.0, 1.0).unwrap();
    let x: f64 = 2.5;
    let want = 1.0 - (-x).exp() * (1.0 + x + x * x / 2.0);
    assert_close(cdf_r(&g, x), want, 1e-14, 0.0, "Gamma(3,1) cdf");
    // Beta(a, 1) has CDF x^a; Beta(1, 1) is uniform.
    let b = Dist::beta(2.5, 1.0).unwrap();
    assert_close(
        cdf_r(&b, 0.3),
        0.3f64.powf(2.5),
        1e-14,
        0.0,
        "Beta(2.5,1) cdf",
    );
    assert_close(cdf_r(&b, 1e-6), 1e-15, 1e-12, 0.0, "Beta(2.5,1) cdf tiny");
    // StudentT(1) is Cauchy; StudentT(2) has CDF 1/2 + t / (2 √(2 + t²)).
    let t1 = Dist::student_t(1.0, 0.0, 1.0).unwrap();
    for x in [-20.0, -1.0, 0.3, 4.0] {
        assert_close(
            cdf_r(&t1, x),
            cdf_r(&c, x),
            1e-13,
            0.0,
            &format!("t1 vs Cauchy at {x}"),
        );
    }
    let t2 = Dist::student_t(2.0, 0.0, 1.0).unwrap();
    for x in [-1e3f64, -3.0, -0.5, 0.0, 0.5, 3.0] {
        let want = 0.5 + x / (2.0 * (2.0 + x * x).sqrt());
        assert_close(cdf_r(&t2, x), want, 1e-12, 1e-16, &format!("t2 cdf at {x}"));
    }
}

#[test]
fn normal_quantile_matches_statrs() {
    let o = sd::Normal::new(0.0, 1.0).unwrap();
    let d = Dist::normal(0.0, 1.0).unwrap();
    for u in [
        1e-10,
        1e-5,
        0.01,
        0.07,
        0.2,
        0.5,
        0.8,
        0.93,
        0.99,
        1.0 - 1e-5,
    ] {
        assert_close(
            q_r(&d, u),
            o.inverse_cdf(u),
            1e-12,
            1e-14,
            &format!("Φ⁻¹({u})"),
        );
    }
}

fn discrete() -> Vec<Dist> {
    vec![
        Dist::bernoulli(0.3).unwrap(),
        Dist::bernoulli(0.0).unwrap(),
        Dist::bernoulli(1.0).unwrap(),
        Dist::binomial(12, 0.4).unwrap(),
        Dist::binomial(300, 0.02).unwrap(),
        Dist::binomial(5, 0.0).unwrap(),
        Dist::binomial(5, 1.0).unwrap(),
        Dist::poisson(0.0).unwrap(),
        Dist::poisson(2.5).unwrap(),
        Dist::poisson(500.0).unwrap(),
        Dist::geometric(0.3).unwrap(),
        Dist::geometric(1.0).unwrap(),
        Dist::geometric(1e-4).unwrap(),
        Dist::categorical(&[0.0, 2.0, 0.0, 1.0, 1.0, 0.0]).unwrap(),
        Dist::discrete_uniform(-5, 5).unwrap(),
    ]
}

/// The values to check: the support if finite, otherwise a long prefix.
fn values(d: &Dist) -> Vec<Outcome> {
    d.support()
        .unwrap_or_else(|| (0..3000).map(Outcome::Int).collect())
}

#[test]
fn discrete_quantile_inverts_cdf_on_the_support() {
    for d in discrete() {
        for x in values(&d) {
            if d.log_prob(&x) == f64::NEG_INFINITY {
                continue;
            }
            let u = d.cdf(&x).unwrap();
            // Only where the CDF step is representable (not rounded to 1).
            let below = match &x {
                Outcome::Int(k) => d.cdf(&Outcome::Int(k - 1)).unwrap(),
                Outcome::Bool(true) => d.cdf(&Outcome::Bool(false)).unwrap(),
                _ => 0.0,
            };
            if below < u {
                assert_eq!(
                    d.quantile(u),
                    Some(x.clone()),
                    "{d:?}: quantile(cdf({x:?}) = {u})"
                );
            }
        }
    }
}

#[test]
fn discrete_quantile_is_the_smallest_value_reaching_u() {
    for d in discrete() {
        for i in 0..=200 {
            let u = i as f64 / 200.0;
            let q = d.quantile(u).unwrap();
            assert!(
                d.log_prob(&q) > f64::NEG_INFINITY,
                "{d:?}: quantile({u}) = {q:?} has no mass"
            );
            assert!(
                d.cdf(&q).unwrap() >= u || u == 1.0,
                "{d:?}: cdf(quantile({u})) < u"
            );
            let prev = match &q {
                Outcome::Int(k) => Some(Outcome::Int(k - 1)),
                Outcome::Bool(true) => Some(Outcome::Bool(false)),
                _ => None,
            };
            if let Some(p) = prev {
                let c = d.cdf(&p).unwrap();
                // quantile(0) is the smallest value of positive probability.
                let target = u.max(f64::MIN_POSITIVE);
                assert!(
                    c < target,
                    "{d:?}: quantile({u}) = {q:?} but cdf({p:?}) = {c} already reaches u"
                );
            }
        }
        assert_eq!(d.quantile(1.5), None);
    }
}

#[test]
fn discrete_cdfs_match_statrs() {
    for (n, p) in [(12u64, 0.4), (300, 0.02), (40, 0.97)] {
        let d = Dist::binomial(n as i64, p).unwrap();
        let o = sd::Binomial::new(p, n).unwrap();
        for k in 0..=n {
            assert_close(
                d.cdf(&int(k as i64)).unwrap(),
                o.cdf(k),
                1e-10,
                1e-14,
                &format!("Binomial({n},{p}) cdf at {k}"),
            );
        }
    }
    for rate in [0.5, 2.5, 80.0] {
        let d = Dist::poisson(rate).unwrap();
        let o = sd::Poisson::new(rate).unwrap();
        for k in 0..300u64 {
            assert_close(
                d.cdf(&int(k as i64)).unwrap(),
                o.cdf(k),
                1e-10,
                1e-14,
                &format!("Poisson({rate}) cdf at {k}"),
            );
        }
    }
    let d = Dist::geometric(0.3).unwrap();
    let o = sd::Geometric::new(0.3).unwrap();
    for k in 0..100u64 {
        assert_close(
            d.cdf(&int(k as i64)).unwrap(),
            o.cdf(k + 1),
            1e-12,
            1e-15,
            &format!("Geometric cdf at {k}"),
        );
    }
    let d = Dist::discrete_uniform(-5, 5).unwrap();
    let o = sd::DiscreteUniform::new(-5, 5).unwrap();
    for k in -7..=7 {
        assert_close(
            d.cdf(&int(k)).unwrap(),
            o.cdf(k),
            1e-12,
            1e-15,
            &format!("DiscreteUniform cdf at {k}"),
        );
    }
    let d = Dist::bernoulli(0.3).unwrap();
    assert_close(
        d.cdf(&Outcome::Bool(false)).unwrap(),
        0.7,
        1e-15,
        0.0,
        "Bernoulli cdf(false)",
    );
    assert_eq!(d.cdf(&Outcome::Bool(true)), Some(1.0));
    assert_eq!(d.cdf(&int(0)), None);
}
