//! Dirichlet and MvNormal densities against values computed by hand, and
//! their means.

mod common;

use std::f64::consts::PI;

use common::assert_close;
use tyche_dist::{Dist, Outcome};

fn v(xs: &[f64]) -> Outcome {
    Outcome::Vector(xs.to_vec())
}

#[test]
fn mv_normal_2d_by_hand() {
    // cov = [[2, .5], [.5, 1]]: det = 1.75, inverse = [[1, −.5], [−.5, 2]] / 1.75.
    // At x = 0, d = x − mu = (−1, −2): dᵀ Σ⁻¹ d = (1 − 2 + 8) / 1.75 = 4.
    let d = Dist::mv_normal(&[1.0, 2.0], &[vec![2.0, 0.5], vec![0.5, 1.0]]).unwrap();
    let want = -(2.0 * PI).ln() - 0.5 * 1.75f64.ln() - 2.0;
    assert_close(
        d.log_prob(&v(&[0.0, 0.0])),
        want,
        1e-14,
        0.0,
        "MvNormal 2d at 0",
    );
    // At the mean only the normaliser remains.
    let want = -(2.0 * PI).ln() - 0.5 * 1.75f64.ln();
    assert_close(
        d.log_prob(&v(&[1.0, 2.0])),
        want,
        1e-14,
        0.0,
        "MvNormal 2d at mu",
    );
    assert_eq!(d.mean(), Some(v(&[1.0, 2.0])));
    assert_eq!(d.variance(), None);
    assert_eq!(d.log_prob(&v(&[0.0])), f64::NEG_INFINITY);
    assert_eq!(d.log_prob(&Outcome::Real(0.0)), f64::NEG_INFINITY);
}

#[test]
fn mv_normal_diagonal_is_a_product_of_normals() {
    let mu = [0.5, -1.0, 3.0, 0.0];
    let sd = [1.0, 0.1, 3.0, 2.0];
    let cov: Vec<Vec<f64>> = (0..4)
        .map(|i| {
            (0..4)
                .map(|j| if i == j { sd[i] * sd[i] } else { 0.0 })
                .collect()
        })
        .collect();
    let d = Dist::mv_normal(&mu, &cov).unwrap();
    let x = [1.0, -1.3, -2.0, 0.25];
    let want: f64 = (0..4)
        .map(|i| {
            Dist::normal(mu[i], sd[i])
                .unwrap()
                .log_prob(&Outcome::Real(x[i]))
        })
        .sum();
    assert_close(d.log_prob(&v(&x)), want, 1e-13, 0.0, "diagonal MvNormal");
}

#[test]
fn mv_normal_high_dimension_uses_the_heap_path() {
    // 20 dimensions (above the 16-element stack buffer), identity covariance.
    let k = 20;
    let mu = vec![0.0; k];
    let cov: Vec<Vec<f64>> = (0..k)
        .map(|i| (0..k).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    let d = Dist::mv_normal(&mu, &cov).unwrap();
    let x: Vec<f64> = (0..k).map(|i| i as f64 * 0.1).collect();
    let quad: f64 = x.iter().map(|a| a * a).sum();
    let want = -(k as f64) * 0.5 * (2.0 * PI).ln() - 0.5 * quad;
    assert_close(d.log_prob(&v(&x)), want, 1e-13, 0.0, "20-d MvNormal");
}

#[test]
fn dirichlet_by_hand() {
    // Dirichlet(2, 3, 4) at (.2, .3, .5):
    // Γ(9)/(Γ(2)Γ(3)Γ(4)) · .2¹ · .3² · .5³ = 40320/12 · .2 · .09 · .125 = 7.56.
    let d = Dist::dirichlet(&[2.0, 3.0, 4.0]).unwrap();
    assert_close(
        d.log_prob(&v(&[0.2, 0.3, 0.5])),
        7.56f64.ln(),
        1e-13,
        0.0,
        "Dirichlet(2,3,4)",
    );
    // Dirichlet(1, 1, 1) is uniform on the simplex with density Γ(3) = 2.
    let d = Dist::dirichlet(&[1.0, 1.0, 1.0]).unwrap();
    assert_close(
        d.log_prob(&v(&[0.1, 0.6, 0.3])),
        2f64.ln(),
        1e-14,
        0.0,
        "flat Dirichlet",
    );
    assert_close(
        d.log_prob(&v(&[0.0, 1.0, 0.0])),
        2f64.ln(),
        1e-14,
        0.0,
        "flat Dirichlet at a vertex",
    );
    assert_eq!(d.mean(), Some(v(&[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0])));
}

#[test]
fn dirichlet_outside_the_simplex_or_at_a_zero_is_handled() {
    let d = Dist::dirichlet(&[2.0, 3.0]).unwrap();
    assert_eq!(
        d.log_prob(&v(&[0.5, 0.6])),
        f64::NEG_INFINITY,
        "does not sum to 1"
    );
    assert_eq!(
        d.log_prob(&v(&[-0.1, 1.1])),
        f64::NEG_INFINITY,
        "negative coordinate"
    );
    assert_eq!(d.log_prob(&v(&[0.5])), f64::NEG_INFINITY, "wrong length");
    assert_eq!(
        d.log_prob(&v(&[0.0, 1.0])),
        f64::NEG_INFINITY,
        "zero where alpha > 1"
    );
    // A pole at one coordinate and a zero at another: the zero wins, not NaN.
    let d = Dist::dirichlet(&[0.5, 2.0, 1.0]).unwrap();
    assert_eq!(d.log_prob(&v(&[0.0, 0.0, 1.0])), f64::NEG_INFINITY);
    assert_eq!(d.log_prob(&v(&[0.0, 0.5, 0.5])), f64::INFINITY);
}
