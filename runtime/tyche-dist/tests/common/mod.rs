//! Shared helpers for the `tyche-dist` integration tests: tolerant float
//! comparison and terse constructors.

#![allow(dead_code)]

use tyche_dist::{Dist, Outcome};

/// Asserts `got` equals `want` to relative tolerance `rel` or absolute
/// tolerance `abs` (whichever is looser); infinities must match exactly.
#[track_caller]
pub fn assert_close(got: f64, want: f64, rel: f64, abs: f64, ctx: &str) {
    assert!(!got.is_nan(), "{ctx}: got NaN, want {want}");
    if got == want {
        return;
    }
    assert!(
        got.is_finite() && want.is_finite(),
        "{ctx}: got {got}, want {want}"
    );
    let err = (got - want).abs();
    assert!(
        err <= abs || err <= rel * want.abs(),
        "{ctx}: got {got:e}, want {want:e}, error {err:e} (rel {:e})",
        err / want.abs()
    );
}

pub fn real(x: f64) -> Outcome {
    Outcome::Real(x)
}

pub fn int(k: i64) -> Outcome {
    Outcome::Int(k)
}

pub fn lp(d: &Dist, x: f64) -> f64 {
    d.log_prob(&Outcome::Real(x))
}

pub fn lpk(d: &Dist, k: i64) -> f64 {
    d.log_prob(&Outcome::Int(k))
}

/// A spread of evaluation points: a symmetric grid in units of `scale`
/// around `center`, from the centre out to the far tails.
pub fn grid(center: f64, scale: f64) -> Vec<f64> {
    let offsets = [
        0.0, 1e-8, 0.1, 0.5, 1.0, 1.7, 2.5, 3.0, 5.0, 8.0, 13.0, 21.0, 40.0, 100.0,
    ];
    let mut v = Vec::new();
    for &o in &offsets {
        v.push(center + o * scale);
        v.push(center - o * scale);
    }
    v
}

/// Points in (0, ∞) on a log scale, from tiny to large.
pub fn positive_grid() -> Vec<f64> {
    [
        1e-10, 1e-6, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.9, 1.0, 1.1, 1.5, 2.0, 3.0, 4.5, 7.0, 10.0, 20.0,
        50.0, 100.0, 1e3, 1e4,
    ]
    .to_vec()
}
