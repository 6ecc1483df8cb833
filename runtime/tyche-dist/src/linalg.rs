//! Dense linear algebra written once over [`Math`], so that the
//! interpreter (`tyche_vm::linalg`, with [`F64`](crate::math::F64)) and
//! compiled code (`tyche-jit`, on its traced graph, whose reverse mode
//! gives the gradients) evaluate the same operations in the same order and
//! agree bit for bit, as the densities of [`crate::family`] do.
//!
//! A vector is a slice, a matrix a slice of rows, all rows of one length
//! (callers check shapes and report mismatches).

use crate::math::Math;

/// `Σ x[i] y[i]`, summed left to right from 0 (as the prelude's `dot`).
pub fn dot<M: Math>(m: &mut M, x: &[M::R], y: &[M::R]) -> M::R {
    let mut acc = m.c(0.0);
    for (&a, &b) in x.iter().zip(y) {
        let p = m.mul(a, b);
        acc = m.add(acc, p);
    }
    acc
}

/// The matrix–vector product `A x`.
pub fn mat_vec<M: Math>(m: &mut M, a: &[Vec<M::R>], x: &[M::R]) -> Vec<M::R> {
    a.iter().map(|row| dot(m, row, x)).collect()
}

/// The matrix product `A B`.
pub fn mat_mul<M: Math>(m: &mut M, a: &[Vec<M::R>], b: &[Vec<M::R>]) -> Vec<Vec<M::R>> {
    let cols = b.first().map_or(0, Vec::len);
    a.iter()
        .map(|row| {
            (0..cols)
                .map(|j| {
                    let col: Vec<M::R> = b.iter().map(|r| r[j]).collect();
                    dot(m, row, &col)
                })
                .collect()
        })
        .collect()
}

/// The lower Cholesky factor `L` of the square matrix `a` (only its lower
/// triangle is read), row by row (Cholesky–Banachiewicz), and the pivots
/// `a[j][j] − Σₖ L[j][k]²` whose square roots are `L`'s diagonal: the
/// matrix is positive definite exactly when every pivot is `> 0`. Where
/// one is not, its square root (and what depends on it) is NaN.
pub fn cholesky<M: Math>(m: &mut M, a: &[Vec<M::R>]) -> (Vec<Vec<M::R>>, Vec<M::R>) {
    let n = a.len();
    let zero = m.c(0.0);
    let mut l = vec![vec![zero; n]; n];
    let mut pivots = Vec::with_capacity(n);
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i][j];
            for k in 0..j {
                let p = m.mul(l[i][k], l[j][k]);
                s = m.sub(s, p);
            }
            if i == j {
                pivots.push(s);
                l[i][i] = m.sqrt(s);
            } else {
                l[i][j] = m.div(s, l[j][j]);
            }
        }
    }
    (l, pivots)
}

/// `x` with `L x = b` for the lower triangle of `L` (forward
/// substitution); a zero on the diagonal gives infinities or NaN.
pub fn solve_lower<M: Math>(m: &mut M, l: &[Vec<M::R>], b: &[M::R]) -> Vec<M::R> {
    let mut x: Vec<M::R> = Vec::with_capacity(b.len());
    for i in 0..b.len() {
        let mut s = b[i];
        for (j, &xj) in x.iter().enumerate() {
            let p = m.mul(l[i][j], xj);
            s = m.sub(s, p);
        }
        let xi = m.div(s, l[i][i]);
        x.push(xi);
    }
    x
}

/// The squared-exponential covariance `alpha² exp(−(x[i] − x[j])² /
/// (2 rho²))` (Stan's `gp_exp_quad_cov`).
pub fn cov_exp_quad<M: Math>(m: &mut M, x: &[M::R], alpha: M::R, rho: M::R) -> Vec<Vec<M::R>> {
    let a2 = m.mul(alpha, alpha);
    let r2 = m.mul(rho, rho);
    let two = m.c(2.0);
    let den = m.mul(two, r2);
    x.iter()
        .map(|&xi| {
            x.iter()
                .map(|&xj| {
                    let d = m.sub(xi, xj);
                    let d2 = m.mul(d, d);
                    let nd2 = m.neg(d2);
                    let q = m.div(nd2, den);
                    let e = m.exp(q);
                    m.mul(a2, e)
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::F64;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + b.abs())
    }

    /// Against nalgebra on a fixed positive-definite matrix.
    #[test]
    fn cholesky_and_solve_agree_with_nalgebra() {
        let rows = vec![
            vec![4.0, 1.2, -0.4],
            vec![1.2, 3.0, 0.5],
            vec![-0.4, 0.5, 2.0],
        ];
        let (l, piv) = cholesky(&mut F64, &rows);
        assert!(piv.iter().all(|&p| p > 0.0));
        let a = nalgebra::DMatrix::from_fn(3, 3, |i, j| rows[i][j]);
        let nl = nalgebra::linalg::Cholesky::new(a).unwrap().l();
        for i in 0..3 {
            for j in 0..3 {
                assert!(close(l[i][j], nl[(i, j)]), "L[{i}][{j}]");
            }
        }
        let b = [1.0, -2.0, 0.5];
        let x = solve_lower(&mut F64, &l, &b);
        let nx = nl
            .solve_lower_triangular(&nalgebra::DVector::from_column_slice(&b))
            .unwrap();
        for i in 0..3 {
            assert!(close(x[i], nx[i]), "x[{i}]");
        }
        // Not positive definite: a non-positive pivot.
        let bad = vec![vec![1.0, 2.0], vec![2.0, 1.0]];
        let (_, piv) = cholesky(&mut F64, &bad);
        assert!(piv[1] <= 0.0);
    }
}
