//! The values crossing the crate boundary: parameters as the interpreter
//! passes them, outcomes in a distribution's support, and parameter errors.

use std::fmt;

/// A parameter value as the interpreter passes it. A real parameter also
/// accepts `Int`; an integer parameter accepts a `Real` only if it is an
/// exact integer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Param<'a> {
    /// A real number.
    Real(f64),
    /// An integer.
    Int(i64),
    /// A vector of reals (`[Real]`).
    Vector(&'a [f64]),
    /// A matrix of reals as a slice of rows (`[[Real]]`).
    Matrix(&'a [Vec<f64>]),
}

impl Param<'_> {
    /// How the value is described in error messages ("a real number", …).
    pub fn describe(&self) -> &'static str {
        match self {
            Param::Real(_) => "a real number",
            Param::Int(_) => "an integer",
            Param::Vector(_) => "a vector",
            Param::Matrix(_) => "a matrix",
        }
    }
}

/// A value in a distribution's support.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A Bernoulli draw.
    Bool(bool),
    /// A draw from an integer-valued distribution.
    Int(i64),
    /// A draw from a univariate continuous distribution.
    Real(f64),
    /// A draw from a multivariate distribution (Dirichlet, MvNormal).
    Vector(Vec<f64>),
}

impl Outcome {
    /// The real number this outcome holds, converting `Int` and `Bool`
    /// (as 0/1); `None` for vectors.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Outcome::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            Outcome::Int(k) => Some(k as f64),
            Outcome::Real(x) => Some(x),
            Outcome::Vector(_) => None,
        }
    }
}

/// An invalid distribution parameter (or a wrong number or shape of
/// parameters). The message names the distribution, the parameter and the
/// offending value, e.g. "invalid parameter for Normal: sigma must be
/// positive, got -1".
#[derive(Clone, Debug, PartialEq)]
pub struct ParamError {
    /// The complete, user-facing message.
    pub message: String,
}

impl ParamError {
    /// An error with the given message.
    pub fn new(message: impl Into<String>) -> ParamError {
        ParamError {
            message: message.into(),
        }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParamError {}
