//! Discrete distributions: the mass over the support sums to one, supports
//! are listed in ascending order, and the support-related queries agree.

mod common;

use common::assert_close;
use tyche_dist::{Dist, DistKind, Outcome};

fn total_mass(d: &Dist, values: impl IntoIterator<Item = Outcome>) -> f64 {
    values.into_iter().map(|x| d.log_prob(&x).exp()).sum()
}

#[test]
fn finite_supports_sum_to_one() {
    let dists = [
        Dist::bernoulli(0.3).unwrap(),
        Dist::bernoulli(0.0).unwrap(),
        Dist::bernoulli(1.0).unwrap(),
        Dist::binomial(0, 0.3).unwrap(),
        Dist::binomial(1, 0.3).unwrap(),
        Dist::binomial(17, 0.42).unwrap(),
        Dist::binomial(500, 0.01).unwrap(),
        Dist::binomial(2000, 0.6).unwrap(),
        Dist::binomial(10, 0.0).unwrap(),
        Dist::binomial(10, 1.0).unwrap(),
        Dist::categorical(&[1.0, 2.0, 3.0, 0.0, 4.0]).unwrap(),
        Dist::categorical(&[1e-300, 1e-300]).unwrap(),
        Dist::categorical(&[7.0]).unwrap(),
        Dist::discrete_uniform(-3, 3).unwrap(),
        Dist::discrete_uniform(5, 5).unwrap(),
    ];
    for d in &dists {
        let support = d.support().expect("finite support");
        assert_eq!(support.len() as u64, d.support_size().unwrap());
        assert_close(total_mass(d, support), 1.0, 1e-12, 0.0, &format!("{d:?}"));
    }
}

#[test]
fn infinite_supports_sum_to_one() {
    for rate in [0.0, 0.3, 1.0, 12.5, 300.0, 1e6] {
        let d = Dist::poisson(rate).unwrap();
        assert!(d.support().is_none() && d.support_size().is_none());
        let top = (rate + 40.0 * rate.sqrt() + 50.0) as i64;
        assert_close(
            total_mass(&d, (0..=top).map(Outcome::Int)),
            1.0,
            1e-12,
            0.0,
            &format!("Poisson({rate})"),
        );
    }
    for p in [1.0, 0.5, 0.05] {
        let d = Dist::geometric(p).unwrap();
        assert!(d.support().is_none());
        // Tail mass beyond `top` is (1 − p)^(top + 1) < 1e-16.
        let top = (40.0 / p) as i64;
        assert_close(
            total_mass(&d, (0..=top).map(Outcome::Int)),
            1.0,
            1e-12,
            0.0,
            &format!("Geometric({p})"),
        );
    }
}

#[test]
fn supports_are_ascending_and_typed() {
    assert_eq!(
        Dist::bernoulli(0.5).unwrap().support().unwrap(),
        vec![Outcome::Bool(false), Outcome::Bool(true)]
    );
    assert_eq!(
        Dist::binomial(3, 0.5).unwrap().support().unwrap(),
        (0..=3).map(Outcome::Int).collect::<Vec<_>>()
    );
    assert_eq!(
        Dist::categorical(&[1.0, 0.0, 1.0])
            .unwrap()
            .support()
            .unwrap(),
        (0..3).map(Outcome::Int).collect::<Vec<_>>()
    );
    assert_eq!(
        Dist::discrete_uniform(-1, 2).unwrap().support().unwrap(),
        (-1..=2).map(Outcome::Int).collect::<Vec<_>>()
    );
    for d in [
        Dist::normal(0.0, 1.0).unwrap(),
        Dist::dirichlet(&[1.0, 1.0]).unwrap(),
    ] {
        assert!(d.support().is_none() && d.support_size().is_none());
    }
}

#[test]
fn huge_supports_report_their_size_but_are_not_materialised() {
    let d = Dist::discrete_uniform(0, 1_000_000_000_000).unwrap();
    assert_eq!(d.support_size(), Some(1_000_000_000_001));
    assert!(d.support().is_none());
    let d = Dist::discrete_uniform(i64::MIN, i64::MAX).unwrap();
    assert_eq!(d.support_size(), Some(u64::MAX));
}

#[test]
fn kinds_know_discreteness_and_value_types() {
    for kind in DistKind::ALL {
        assert_eq!(DistKind::from_name(kind.name()), Some(kind));
    }
    assert_eq!(DistKind::from_name("normal"), None);
    assert_eq!(DistKind::Normal.param_names(), &["mu", "sigma"]);
    assert_eq!(DistKind::Gamma.param_names(), &["shape", "rate"]);
    assert_eq!(DistKind::InvGamma.param_names(), &["shape", "scale"]);
    assert_eq!(DistKind::StudentT.param_names(), &["nu", "mu", "sigma"]);
    let d = Dist::bernoulli(0.5).unwrap();
    assert!(d.is_discrete());
    assert_eq!(d.value_type_name(), "Bool");
    assert_eq!(Dist::poisson(1.0).unwrap().value_type_name(), "Int");
    assert_eq!(Dist::normal(0.0, 1.0).unwrap().value_type_name(), "Real");
    assert!(!Dist::normal(0.0, 1.0).unwrap().is_discrete());
    assert_eq!(Dist::dirichlet(&[1.0]).unwrap().value_type_name(), "[Real]");
    assert_eq!(
        Dist::mv_normal(&[0.0], &[vec![1.0]])
            .unwrap()
            .value_type_name(),
        "[Real]"
    );
}
