//! The linear-algebra built-ins on values (docs/language.md, "Vectors and
//! matrices"): a vector is a `[Real]`, a matrix a rectangular `[[Real]]`
//! given as its rows. Shapes are checked here, and a mismatch is an error
//! naming both shapes (the machine attaches the call's span).
//!
//! The arithmetic is `tyche_dist::linalg`'s, written once over `Math`:
//! `tyche-jit` traces the same functions on its graph, so compiled code
//! (and its gradient) computes the same operations in the same order as
//! the interpreter. `log_determinant`, which compiled code does not trace
//! on random matrices, is nalgebra's LU decomposition.

use crate::value::Value;
use nalgebra::{DMatrix, DVector};
use std::sync::Arc;
use tyche_dist::linalg as la;
use tyche_dist::math::F64;
use tyche_ir::Prim;

type Res<T> = Result<T, String>;

fn num(v: &Value, what: &str) -> Res<f64> {
    match v {
        Value::Real(x) => Ok(*x),
        Value::Int(i) => Ok(*i as f64),
        other => Err(format!(
            "{what}: expected a number, found {}",
            other.type_name()
        )),
    }
}

/// A `[Real]` as a vector.
pub fn vector(v: &Value, what: &str) -> Res<Vec<f64>> {
    match v {
        Value::Array(xs) => xs.iter().map(|x| num(x, what)).collect(),
        other => Err(format!(
            "{what}: expected a vector ([Real]), found {}",
            other.type_name()
        )),
    }
}

/// A rectangular `[[Real]]` as a matrix; a ragged one names its first row
/// whose length differs from row 0's.
pub fn matrix(v: &Value, what: &str) -> Res<DMatrix<f64>> {
    let Value::Array(rows) = v else {
        return Err(format!(
            "{what}: expected a matrix ([[Real]]), found {}",
            v.type_name()
        ));
    };
    let rows = rows
        .iter()
        .map(|r| vector(r, what))
        .collect::<Res<Vec<_>>>()?;
    let n = rows.len();
    let m = rows.first().map_or(0, Vec::len);
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != m) {
        return Err(format!(
            "{what}: not a matrix: row {i} has length {} but row 0 length {m}",
            r.len()
        ));
    }
    Ok(DMatrix::from_fn(n, m, |i, j| rows[i][j]))
}

/// `r × c`, as messages write a shape.
pub fn shape(r: usize, c: usize) -> String {
    format!("{r}×{c}")
}

fn vec_value(xs: impl IntoIterator<Item = f64>) -> Value {
    Value::Array(Arc::new(xs.into_iter().map(Value::Real).collect()))
}

fn mat_value(a: &DMatrix<f64>) -> Value {
    Value::array(
        (0..a.nrows())
            .map(|i| vec_value((0..a.ncols()).map(|j| a[(i, j)])))
            .collect(),
    )
}

fn rows(a: &DMatrix<f64>) -> Vec<Vec<f64>> {
    (0..a.nrows())
        .map(|i| (0..a.ncols()).map(|j| a[(i, j)]).collect())
        .collect()
}

fn rows_value(a: Vec<Vec<f64>>) -> Value {
    Value::array(a.into_iter().map(vec_value).collect())
}

fn same_len(what: &str, x: &[f64], y: &[f64]) -> Res<()> {
    if x.len() != y.len() {
        return Err(format!(
            "{what}: vectors of different lengths, {} and {}",
            x.len(),
            y.len()
        ));
    }
    Ok(())
}

fn square(what: &str, a: &DMatrix<f64>) -> Res<()> {
    if a.nrows() != a.ncols() {
        return Err(format!(
            "{what}: needs a square matrix, found {}",
            shape(a.nrows(), a.ncols())
        ));
    }
    Ok(())
}

/// The message of a `cholesky` whose argument is not positive definite
/// (also what the tracer reports for a concrete one).
pub const NOT_POSITIVE_DEFINITE: &str = "cholesky: the matrix is not positive definite";

/// Applies a linear-algebra built-in ([`Prim::is_linalg`]).
pub fn prim(p: Prim, args: &[Value]) -> Result<Value, String> {
    use Prim::*;
    let what = p.name();
    match p {
        VecAdd | VecSub | VecMul => {
            let (x, y) = (vector(&args[0], what)?, vector(&args[1], what)?);
            same_len(what, &x, &y)?;
            Ok(vec_value(x.iter().zip(&y).map(|(a, b)| match p {
                VecAdd => a + b,
                VecSub => a - b,
                _ => a * b,
            })))
        }
        VecScale => {
            let c = num(&args[0], what)?;
            Ok(vec_value(
                vector(&args[1], what)?.into_iter().map(|x| c * x),
            ))
        }
        MatAdd | MatSub => {
            let (a, b) = (matrix(&args[0], what)?, matrix(&args[1], what)?);
            if a.shape() != b.shape() {
                return Err(format!(
                    "{what}: matrices of different shapes, {} and {}",
                    shape(a.nrows(), a.ncols()),
                    shape(b.nrows(), b.ncols())
                ));
            }
            Ok(mat_value(&if p == MatAdd { a + b } else { a - b }))
        }
        MatScale => {
            let c = num(&args[0], what)?;
            Ok(mat_value(&(matrix(&args[1], what)? * c)))
        }
        AddDiag => {
            let mut a = matrix(&args[0], what)?;
            square(what, &a)?;
            let c = num(&args[1], what)?;
            for i in 0..a.nrows() {
                a[(i, i)] += c;
            }
            Ok(mat_value(&a))
        }
        MatVec => {
            let a = matrix(&args[0], what)?;
            let x = vector(&args[1], what)?;
            if a.ncols() != x.len() {
                return Err(format!(
                    "{what}: a {} matrix times a vector of length {}",
                    shape(a.nrows(), a.ncols()),
                    x.len()
                ));
            }
            Ok(vec_value(la::mat_vec(&mut F64, &rows(&a), &x)))
        }
        MatMul => {
            let (a, b) = (matrix(&args[0], what)?, matrix(&args[1], what)?);
            if a.ncols() != b.nrows() {
                return Err(format!(
                    "{what}: a {} matrix times a {} matrix",
                    shape(a.nrows(), a.ncols()),
                    shape(b.nrows(), b.ncols())
                ));
            }
            Ok(rows_value(la::mat_mul(&mut F64, &rows(&a), &rows(&b))))
        }
        Transpose => Ok(mat_value(&matrix(&args[0], what)?.transpose())),
        Cholesky => {
            let a = matrix(&args[0], what)?;
            square(what, &a)?;
            let (l, pivots) = la::cholesky(&mut F64, &rows(&a));
            // `!(p > 0)` also catches a NaN pivot.
            if pivots.iter().any(|p| !(*p > 0.0)) {
                return Err(NOT_POSITIVE_DEFINITE.into());
            }
            Ok(rows_value(l))
        }
        SolveLower => {
            let l = matrix(&args[0], what)?;
            square(what, &l)?;
            let b = vector(&args[1], what)?;
            if l.nrows() != b.len() {
                return Err(format!(
                    "{what}: a {} matrix and a right-hand side of length {}",
                    shape(l.nrows(), l.ncols()),
                    b.len()
                ));
            }
            // The upper triangle is not read; a zero on the diagonal gives
            // infinities, as Stan's `mdivide_left_tri_low`.
            Ok(vec_value(la::solve_lower(&mut F64, &rows(&l), &b)))
        }
        LogDeterminant => {
            let a = matrix(&args[0], what)?;
            square(what, &a)?;
            // log |det A| from the LU factors.
            let lu = a.lu();
            let u = lu.u();
            Ok(Value::Real(
                (0..u.nrows()).map(|i| u[(i, i)].abs().ln()).sum(),
            ))
        }
        Diag => {
            let x = vector(&args[0], what)?;
            Ok(mat_value(&DMatrix::from_diagonal(&DVector::from_vec(x))))
        }
        Diagonal => {
            let a = matrix(&args[0], what)?;
            square(what, &a)?;
            Ok(vec_value(a.diagonal().iter().copied()))
        }
        Col => {
            let a = matrix(&args[0], what)?;
            let j = match &args[1] {
                Value::Int(j) => *j,
                other => {
                    return Err(format!(
                        "{what}: expected an Int, found {}",
                        other.type_name()
                    ))
                }
            };
            match usize::try_from(j).ok().filter(|&j| j < a.ncols()) {
                Some(j) => Ok(vec_value(a.column(j).iter().copied())),
                None => Err(format!(
                    "{what}: column {j} out of bounds for a {} matrix",
                    shape(a.nrows(), a.ncols())
                )),
            }
        }
        CovExpQuad => {
            let x = vector(&args[0], what)?;
            let (alpha, rho) = (num(&args[1], what)?, num(&args[2], what)?);
            Ok(rows_value(la::cov_exp_quad(&mut F64, &x, alpha, rho)))
        }
        _ => Err(format!("{what} is not a linear-algebra built-in")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[f64]) -> Value {
        vec_value(xs.iter().copied())
    }

    fn m(rows: &[&[f64]]) -> Value {
        Value::array(rows.iter().map(|r| v(r)).collect())
    }

    fn close(a: &DMatrix<f64>, b: &DMatrix<f64>) {
        assert_eq!(a.shape(), b.shape());
        for (x, y) in a.iter().zip(b.iter()) {
            assert!((x - y).abs() <= 1e-12 * (1.0 + y.abs()), "{a} vs {b}");
        }
    }

    fn as_matrix(x: &Value) -> DMatrix<f64> {
        matrix(x, "test").unwrap()
    }

    fn as_column(x: &Value) -> DMatrix<f64> {
        let xs = vector(x, "test").unwrap();
        DMatrix::from_column_slice(xs.len(), 1, &xs)
    }

    /// Each built-in against nalgebra called directly.
    #[test]
    fn built_ins_agree_with_nalgebra() {
        let a = m(&[&[4.0, 1.2, -0.4], &[1.2, 3.0, 0.5], &[-0.4, 0.5, 2.0]]);
        let b = m(&[&[1.0, -2.0], &[0.5, 0.25], &[3.0, 1.5]]);
        let x = v(&[1.0, -2.0, 0.5]);
        let na = as_matrix(&a);
        let nb = as_matrix(&b);
        let nx = as_column(&x);
        let call = |p: Prim, args: &[Value]| prim(p, args).unwrap();
        close(
            &as_column(&call(Prim::MatVec, &[a.clone(), x.clone()])),
            &(&na * &nx),
        );
        close(
            &as_matrix(&call(Prim::MatMul, &[a.clone(), b.clone()])),
            &(&na * &nb),
        );
        close(
            &as_matrix(&call(Prim::Transpose, &[b.clone()])),
            &nb.transpose(),
        );
        let l = call(Prim::Cholesky, &[a.clone()]);
        close(
            &as_matrix(&l),
            &nalgebra::linalg::Cholesky::new(na.clone()).unwrap().l(),
        );
        close(
            &as_column(&call(Prim::SolveLower, &[l.clone(), x.clone()])),
            &as_matrix(&l).solve_lower_triangular(&nx).unwrap(),
        );
        let Value::Real(ld) = call(Prim::LogDeterminant, &[a.clone()]) else {
            panic!()
        };
        assert!((ld - na.determinant().ln()).abs() < 1e-12);
        close(
            &as_matrix(&call(Prim::AddDiag, &[a.clone(), Value::Real(0.5)])),
            &(&na + DMatrix::identity(3, 3) * 0.5),
        );
        close(
            &as_matrix(&call(Prim::MatScale, &[Value::Real(2.0), a.clone()])),
            &(&na * 2.0),
        );
        close(
            &as_matrix(&call(Prim::Diag, &[x.clone()])),
            &DMatrix::from_diagonal(&DVector::from_column_slice(&[1.0, -2.0, 0.5])),
        );
        close(
            &as_column(&call(Prim::Col, &[b.clone(), Value::Int(1)])),
            &DMatrix::from_column_slice(3, 1, nb.column(1).as_slice()),
        );
        let k = call(
            Prim::CovExpQuad,
            &[x.clone(), Value::Real(1.5), Value::Real(0.7)],
        );
        let nk = DMatrix::from_fn(3, 3, |i, j| {
            let d = nx[i] - nx[j];
            2.25 * (-d * d / (2.0 * 0.49)).exp()
        });
        close(&as_matrix(&k), &nk);
    }

    #[test]
    fn shape_errors_name_both_shapes() {
        let a = m(&[&[1.0, 2.0], &[3.0, 4.0], &[5.0, 6.0]]);
        assert_eq!(
            prim(Prim::MatMul, &[a.clone(), a.clone()]).unwrap_err(),
            "mat_mul: a 3×2 matrix times a 3×2 matrix"
        );
        assert_eq!(
            prim(Prim::VecAdd, &[v(&[1.0]), v(&[1.0, 2.0])]).unwrap_err(),
            "vec_add: vectors of different lengths, 1 and 2"
        );
        assert_eq!(
            prim(Prim::Cholesky, &[a]).unwrap_err(),
            "cholesky: needs a square matrix, found 3×2"
        );
        let ragged = m(&[&[1.0, 2.0], &[3.0]]);
        assert_eq!(
            prim(Prim::Transpose, &[ragged]).unwrap_err(),
            "transpose: not a matrix: row 1 has length 1 but row 0 length 2"
        );
        assert_eq!(
            prim(Prim::Cholesky, &[m(&[&[1.0, 2.0], &[2.0, 1.0]])]).unwrap_err(),
            NOT_POSITIVE_DEFINITE
        );
    }
}
