//! Building a [`Dist`]: parameter count, shape and range checks, and the
//! normalising constants precomputed for `log_prob`.

use nalgebra::DMatrix;

use crate::family::{
    self, Bernoulli, Beta, Binomial, Cauchy, Exponential, Gamma, Generic, Geometric, InvGamma,
    LogNormal, Normal, StudentT, Uniform,
};
use crate::math::F64;
use crate::special::ln_gamma;
use crate::{Dist, DistKind, Param, ParamError};

/// `½ ln 2π`.
pub(crate) const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

pub use crate::family::MAX_POISSON_RATE;

/// Relative tolerance for the symmetry of an `MvNormal` covariance matrix.
const SYMMETRY_TOLERANCE: f64 = 1e-9;

/// A number as messages print it: plain decimals for ordinary magnitudes,
/// scientific notation for tiny or huge ones (`1e-300`, not 300 zeros).
pub(crate) fn fmt_num(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || !x.is_finite() || (1e-5..1e16).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// The parameters of one constructor call, with typed accessors that turn
/// every problem into a message naming the distribution and parameter.
pub(crate) struct Args<'p, 'a> {
    kind: DistKind,
    params: &'p [Param<'a>],
}

impl<'a> Args<'_, 'a> {
    pub(crate) fn err(&self, msg: String) -> ParamError {
        ParamError::new(format!(
            "invalid parameter for {}: {}",
            self.kind.name(),
            msg
        ))
    }

    pub(crate) fn name(&self, i: usize) -> &'static str {
        self.kind.param_names()[i]
    }

    pub(crate) fn shape_err(&self, i: usize, want: &str) -> ParamError {
        self.err(format!(
            "{} must be {}, got {}",
            self.name(i),
            want,
            self.params[i].describe()
        ))
    }

    /// A finite real (an `Int` is converted).
    pub(crate) fn real(&self, i: usize) -> Result<f64, ParamError> {
        let x = match self.params[i] {
            Param::Real(x) => x,
            Param::Int(k) => k as f64,
            _ => return Err(self.shape_err(i, "a real number")),
        };
        if !x.is_finite() {
            return Err(self.err(format!(
                "{} must be finite, got {}",
                self.name(i),
                fmt_num(x)
            )));
        }
        Ok(x)
    }

    /// A finite real `> 0`.
    pub(crate) fn positive(&self, i: usize) -> Result<f64, ParamError> {
        let x = self.real(i)?;
        if x <= 0.0 {
            return Err(self.err(format!(
                "{} must be positive, got {}",
                self.name(i),
                fmt_num(x)
            )));
        }
        Ok(x)
    }

    /// A probability in `[0, 1]`.
    pub(crate) fn probability(&self, i: usize) -> Result<f64, ParamError> {
        let x = match self.params[i] {
            Param::Real(x) => x,
            Param::Int(k) => k as f64,
            _ => return Err(self.shape_err(i, "a real number")),
        };
        if !(0.0..=1.0).contains(&x) {
            return Err(self.err(format!(
                "{} must be a probability in [0, 1], got {}",
                self.name(i),
                fmt_num(x)
            )));
        }
        Ok(x)
    }

    /// An integer (a `Real` is accepted if it is an exact integer).
    pub(crate) fn int(&self, i: usize) -> Result<i64, ParamError> {
        match self.params[i] {
            Param::Int(k) => Ok(k),
            // 2^63 is exactly representable; anything below it converts exactly.
            Param::Real(x)
                if x.fract() == 0.0
                    && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&x) =>
            {
                Ok(x as i64)
            }
            Param::Real(x) => Err(self.err(format!(
                "{} must be an integer, got {}",
                self.name(i),
                fmt_num(x)
            ))),
            _ => Err(self.shape_err(i, "an integer")),
        }
    }

    /// A non-empty vector.
    pub(crate) fn vector(&self, i: usize) -> Result<&'a [f64], ParamError> {
        match self.params[i] {
            Param::Vector([]) => Err(self.err(format!("{} must not be empty", self.name(i)))),
            Param::Vector(v) => Ok(v),
            _ => Err(self.shape_err(i, "a vector of reals")),
        }
    }

    pub(crate) fn matrix(&self, i: usize) -> Result<&'a [Vec<f64>], ParamError> {
        match self.params[i] {
            Param::Matrix(m) => Ok(m),
            _ => Err(self.shape_err(i, "a matrix of reals")),
        }
    }
}

impl Dist {
    /// Validates the parameters (in `kind.param_names()` order) and builds
    /// the distribution. Every invalid input — wrong count or shape,
    /// non-finite values, `sigma <= 0`, probabilities outside [0, 1],
    /// `lo >= hi` for `Uniform`, a non-positive-definite covariance, … — is
    /// a [`ParamError`] naming the distribution, the parameter and the value.
    pub fn new(kind: DistKind, params: &[Param]) -> Result<Dist, ParamError> {
        let names = kind.param_names();
        if params.len() != names.len() {
            return Err(ParamError::new(format!(
                "wrong number of parameters for {}: expected {} ({}), got {}",
                kind.name(),
                names.len(),
                names.join(", "),
                params.len()
            )));
        }
        let a = Args { kind, params };
        let m = &mut F64;
        if family::is_standalone(kind) {
            let params = family::validate(kind, &a)?;
            let consts = family::consts_f64(kind, &params[..names.len()]);
            return Ok(Dist::Family {
                kind,
                params,
                consts,
            });
        }
        Ok(match kind {
            DistKind::Normal => {
                let mu = a.real(0)?;
                let sigma = a.positive(1)?;
                Dist::Normal {
                    mu,
                    sigma,
                    log_norm: Normal::consts(m, &[mu, sigma])[0],
                }
            }
            DistKind::LogNormal => {
                let mu = a.real(0)?;
                let sigma = a.positive(1)?;
                Dist::LogNormal {
                    mu,
                    sigma,
                    log_norm: LogNormal::consts(m, &[mu, sigma])[0],
                }
            }
            DistKind::Uniform => {
                let lo = a.real(0)?;
                let hi = a.real(1)?;
                if lo >= hi {
                    return Err(a.err(format!(
                        "lo must be less than hi, got lo = {} and hi = {}",
                        fmt_num(lo),
                        fmt_num(hi)
                    )));
                }
                Dist::Uniform {
                    lo,
                    hi,
                    log_norm: Uniform::consts(m, &[lo, hi])[0],
                }
            }
            DistKind::Beta => {
                let alpha = a.positive(0)?;
                let beta = a.positive(1)?;
                Dist::Beta {
                    a: alpha,
                    b: beta,
                    ln_beta: Beta::consts(m, &[alpha, beta])[0],
                }
            }
            DistKind::Gamma => {
                let shape = a.positive(0)?;
                let rate = a.positive(1)?;
                Dist::Gamma {
                    shape,
                    rate,
                    log_norm: Gamma::consts(m, &[shape, rate])[0],
                }
            }
            DistKind::InvGamma => {
                let shape = a.positive(0)?;
                let scale = a.positive(1)?;
                Dist::InvGamma {
                    shape,
                    scale,
                    log_norm: InvGamma::consts(m, &[shape, scale])[0],
                }
            }
            DistKind::Exponential => {
                let rate = a.positive(0)?;
                Dist::Exponential {
                    rate,
                    ln_rate: Exponential::consts(m, &[rate])[0],
                }
            }
            DistKind::Cauchy => {
                let loc = a.real(0)?;
                let scale = a.positive(1)?;
                Dist::Cauchy {
                    loc,
                    scale,
                    log_norm: Cauchy::consts(m, &[loc, scale])[0],
                }
            }
            DistKind::StudentT => {
                let nu = a.positive(0)?;
                let mu = a.real(1)?;
                let sigma = a.positive(2)?;
                let log_norm = StudentT::consts(m, &[nu, mu, sigma])[0];
                Dist::StudentT {
                    nu,
                    mu,
                    sigma,
                    log_norm,
                }
            }
            DistKind::Bernoulli => {
                let p = a.probability(0)?;
                let [ln_p, ln_q, _] = Bernoulli::consts(m, &[p]);
                Dist::Bernoulli { p, ln_p, ln_q }
            }
            DistKind::Binomial => {
                let n = a.int(0)?;
                if n < 0 {
                    return Err(a.err(format!("n must be non-negative, got {n}")));
                }
                let p = a.probability(1)?;
                let [ln_p, ln_q, stirlerr_n] = Binomial::consts(m, &[n as f64, p]);
                Dist::Binomial {
                    n,
                    p,
                    ln_p,
                    ln_q,
                    stirlerr_n,
                }
            }
            DistKind::Poisson => {
                let rate = a.real(0)?;
                if rate < 0.0 {
                    return Err(a.err(format!("rate must be non-negative, got {}", fmt_num(rate))));
                }
                if rate > MAX_POISSON_RATE {
                    return Err(a.err(format!(
                        "rate must be at most {}, got {}",
                        fmt_num(MAX_POISSON_RATE),
                        fmt_num(rate)
                    )));
                }
                Dist::Poisson {
                    rate,
                    ln_rate: rate.ln(),
                }
            }
            DistKind::Geometric => {
                let p = a.probability(0)?;
                if p == 0.0 {
                    return Err(a.err("p must be in (0, 1], got 0".to_string()));
                }
                let [ln_p, ln_q, _] = Geometric::consts(m, &[p]);
                Dist::Geometric { p, ln_p, ln_q }
            }
            DistKind::Categorical => {
                let ws = a.vector(0)?;
                let mut sum = 0.0;
                for (i, &w) in ws.iter().enumerate() {
                    if !(w >= 0.0 && w.is_finite()) {
                        return Err(a.err(format!(
                            "ps must be finite and non-negative, got ps[{i}] = {}",
                            fmt_num(w)
                        )));
                    }
                    sum += w;
                }
                if !(sum > 0.0 && sum.is_finite()) {
                    return Err(a.err(format!(
                        "ps must have a positive finite sum, got {}",
                        fmt_num(sum)
                    )));
                }
                let ps: Vec<f64> = ws.iter().map(|&w| w / sum).collect();
                let ln_ps = ps.iter().map(|p| p.ln()).collect();
                Dist::Categorical { ps, ln_ps }
            }
            DistKind::DiscreteUniform => {
                let lo = a.int(0)?;
                let hi = a.int(1)?;
                if lo > hi {
                    return Err(a.err(format!(
                        "lo must not exceed hi, got lo = {lo} and hi = {hi}"
                    )));
                }
                let count = (hi as i128 - lo as i128 + 1) as f64;
                Dist::DiscreteUniform {
                    lo,
                    hi,
                    log_norm: -count.ln(),
                }
            }
            DistKind::Dirichlet => {
                let alpha = a.vector(0)?;
                let mut sum = 0.0;
                let mut sum_ln_gamma = 0.0;
                for (i, &x) in alpha.iter().enumerate() {
                    if !(x > 0.0 && x.is_finite()) {
                        return Err(a.err(format!(
                            "alphas must be finite and positive, got alphas[{i}] = {}",
                            fmt_num(x)
                        )));
                    }
                    sum += x;
                    sum_ln_gamma += ln_gamma(x);
                }
                Dist::Dirichlet {
                    alpha: alpha.to_vec(),
                    log_norm: ln_gamma(sum) - sum_ln_gamma,
                }
            }
            DistKind::MvNormal => build_mv_normal(&a)?,
            DistKind::MvNormalCholesky => build_mv_normal_cholesky(&a)?,
            _ => unreachable!("{kind} is standalone (handled above)"),
        })
    }

    /// `Normal(mu, sigma)`.
    pub fn normal(mu: f64, sigma: f64) -> Result<Dist, ParamError> {
        Dist::new(DistKind::Normal, &[Param::Real(mu), Param::Real(sigma)])
    }
    /// `LogNormal(mu, sigma)`.
    pub fn log_normal(mu: f64, sigma: f64) -> Result<Dist, ParamError> {
        Dist::new(DistKind::LogNormal, &[Param::Real(mu), Param::Real(sigma)])
    }
    /// `Uniform(lo, hi)`.
    pub fn uniform(lo: f64, hi: f64) -> Result<Dist, ParamError> {
        Dist::new(DistKind::Uniform, &[Param::Real(lo), Param::Real(hi)])
    }
    /// `Beta(a, b)`.
    pub fn beta(a: f64, b: f64) -> Result<Dist, ParamError> {
        Dist::new(DistKind::Beta, &[Param::Real(a), Param::Real(b)])
    }
    /// `Gamma(shape, rate)`.
    pub fn gamma(shape: f64, rate: f64) -> Result<Dist, ParamError> {
        Dist::new(DistKind::Gamma, &[Param::Real(shape), Param::Real(rate)])
    }
    /// `InvGamma(shape, scale)`.
    pub fn inv_gamma(shape: f64, scale: f64) -> Result<Dist, ParamError> {
        Dist::new(
            DistKind::InvGamma,
            &[Param::Real(shape), Param::Real(scale)],
        )
    }
    /// `Exponential(rate)`.
    pub fn exponential(rate: f64) -> Result<Dist, ParamError> {
        Dist::new(DistKind::Exponential, &[Param::Real(rate)])
    }
    /// `Cauchy(loc, scale)`.
    pub fn cauchy(loc: f64, scale: f64) -> Result<Dist, ParamError> {
        Dist::new(DistKind::Cauchy, &[Param::Real(loc), Param::Real(scale)])
    }
    /// `StudentT(nu, mu, sigma)`.
    pub fn student_t(nu: f64, mu: f64, sigma: f64) -> Result<Dist, ParamError> {
        Dist::new(
            DistKind::StudentT,
            &[Param::Real(nu), Param::Real(mu), Param::Real(sigma)],
        )
    }
    /// `Bernoulli(p)`.
    pub fn bernoulli(p: f64) -> Result<Dist, ParamError> {
        Dist::new(DistKind::Bernoulli, &[Param::Real(p)])
    }
    /// `Binomial(n, p)`.
    pub fn binomial(n: i64, p: f64) -> Result<Dist, ParamError> {
        Dist::new(DistKind::Binomial, &[Param::Int(n), Param::Real(p)])
    }
    /// `Poisson(rate)`.
    pub fn poisson(rate: f64) -> Result<Dist, ParamError> {
        Dist::new(DistKind::Poisson, &[Param::Real(rate)])
    }
    /// `Geometric(p)`.
    pub fn geometric(p: f64) -> Result<Dist, ParamError> {
        Dist::new(DistKind::Geometric, &[Param::Real(p)])
    }
    /// `Categorical(ps)` (normalised here).
    pub fn categorical(ps: &[f64]) -> Result<Dist, ParamError> {
        Dist::new(DistKind::Categorical, &[Param::Vector(ps)])
    }
    /// `DiscreteUniform(lo, hi)`.
    pub fn discrete_uniform(lo: i64, hi: i64) -> Result<Dist, ParamError> {
        Dist::new(DistKind::DiscreteUniform, &[Param::Int(lo), Param::Int(hi)])
    }
    /// `Dirichlet(alphas)`.
    pub fn dirichlet(alphas: &[f64]) -> Result<Dist, ParamError> {
        Dist::new(DistKind::Dirichlet, &[Param::Vector(alphas)])
    }
    /// `MvNormal(mu, cov)`, `cov` given as rows.
    pub fn mv_normal(mu: &[f64], cov: &[Vec<f64>]) -> Result<Dist, ParamError> {
        Dist::new(DistKind::MvNormal, &[Param::Vector(mu), Param::Matrix(cov)])
    }
}

/// A multivariate normal's parameters: `mu` finite, and the matrix
/// parameter (named `what`) square with `mu`'s length. Returns both.
fn mean_and_square<'a>(
    a: &Args<'_, 'a>,
    what: &str,
) -> Result<(&'a [f64], &'a [Vec<f64>]), ParamError> {
    let mu = a.vector(0)?;
    for (i, &m) in mu.iter().enumerate() {
        if !m.is_finite() {
            return Err(a.err(format!("mu must be finite, got mu[{i}] = {}", fmt_num(m))));
        }
    }
    let k = mu.len();
    let rows = a.matrix(1)?;
    if rows.len() != k {
        return Err(a.err(format!(
            "{what} must be {k}×{k} to match the length of mu, got {} rows",
            rows.len()
        )));
    }
    for (i, row) in rows.iter().enumerate() {
        if row.len() != k {
            return Err(a.err(format!(
                "{what} must be {k}×{k} to match the length of mu, got row {i} of length {}",
                row.len()
            )));
        }
    }
    Ok((mu, rows))
}

fn build_mv_normal_cholesky(a: &Args) -> Result<Dist, ParamError> {
    let (mu, rows) = mean_and_square(a, "L")?;
    for (i, row) in rows.iter().enumerate() {
        for (j, &c) in row.iter().enumerate().take(i) {
            if !c.is_finite() {
                return Err(a.err(format!(
                    "L must be finite, got L[{i}][{j}] = {}",
                    fmt_num(c)
                )));
            }
        }
        if !(row[i] > 0.0 && row[i].is_finite()) {
            return Err(a.err(format!(
                "L must have a finite positive diagonal, got L[{i}][{i}] = {}",
                fmt_num(row[i])
            )));
        }
    }
    Ok(Dist::MvNormalCholesky {
        mu: mu.to_vec(),
        chol: rows.to_vec(),
    })
}

fn build_mv_normal(a: &Args) -> Result<Dist, ParamError> {
    let (mu, rows) = mean_and_square(a, "cov")?;
    let k = mu.len();
    for (i, row) in rows.iter().enumerate() {
        for (j, &c) in row.iter().enumerate() {
            if !c.is_finite() {
                return Err(a.err(format!(
                    "cov must be finite, got cov[{i}][{j}] = {}",
                    fmt_num(c)
                )));
            }
        }
    }
    let max_diag = (0..k).map(|i| rows[i][i].abs()).fold(0.0, f64::max);
    for (i, row) in rows.iter().enumerate() {
        for (j, &x) in row.iter().enumerate().take(i) {
            let y = rows[j][i];
            let scale = x.abs().max(y.abs()).max(max_diag);
            if (x - y).abs() > SYMMETRY_TOLERANCE * scale {
                return Err(a.err(format!(
                    "cov must be symmetric, got cov[{i}][{j}] = {} and cov[{j}][{i}] = {}",
                    fmt_num(x),
                    fmt_num(y)
                )));
            }
        }
    }
    let cov = DMatrix::from_fn(k, k, |i, j| 0.5 * (rows[i][j] + rows[j][i]));
    let chol = match nalgebra::linalg::Cholesky::new(cov.clone()) {
        Some(c) => c.unpack(),
        None => return Err(a.err("cov must be positive definite".to_string())),
    };
    let mut half_ln_det = 0.0;
    for i in 0..k {
        let d = chol[(i, i)];
        if !(d > 0.0 && d.is_finite()) {
            return Err(a.err("cov must be positive definite".to_string()));
        }
        half_ln_det += d.ln();
    }
    let log_norm = -(k as f64) * HALF_LN_2PI - half_ln_det;
    Ok(Dist::MvNormal {
        mu: mu.to_vec(),
        cov,
        chol,
        log_norm,
    })
}
