//! Runtime values.
//!
//! Values are immutable; compound ones are behind `Arc` so copying a value
//! (into a register, a closure, another particle) is O(1), and machines can
//! move between threads.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use tyche_dist::{Dist, Outcome};
use tyche_ir::{FuncId, MethodKind};

#[derive(Clone)]
pub enum Value {
    Unit,
    Bool(bool),
    Int(i64),
    Real(f64),
    Str(Arc<str>),
    Array(Arc<Vec<Value>>),
    Tuple(Arc<[Value]>),
    Closure(Arc<Closure>),
    Dist(Arc<DistValue>),
    Method(MethodSpec),
}

/// A function value: code plus the values it captured.
#[derive(Clone, Debug)]
pub struct Closure {
    pub func: FuncId,
    pub captures: Vec<Value>,
}

/// An inference method with its size parameter (`Smc(1000)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MethodSpec {
    pub kind: MethodKind,
    /// Particles, samples or kept draws; 0 for `Enumerate`.
    pub n: u64,
}

/// A distribution value: a primitive one from the standard library, or a
/// posterior computed by `infer`.
#[derive(Clone, Debug)]
pub enum DistValue {
    Prim(Dist),
    Posterior(Posterior),
}

/// A posterior as a finite weighted set of values (exact for `Enumerate`,
/// empirical otherwise). Equal values are merged.
#[derive(Clone, Debug)]
pub struct Posterior {
    /// Distinct values with their probabilities (summing to 1).
    pub values: Vec<Value>,
    pub probs: Vec<f64>,
    cumulative: Vec<f64>,
    index: HashMap<Value, usize>,
    /// The estimate of log p(observations), where the method gives one.
    pub log_evidence: Option<f64>,
    /// True when the probabilities are exact (enumeration).
    pub exact: bool,
    /// The draws in the order the method produced them (for `samples`).
    pub draws: Vec<Value>,
}

impl Posterior {
    /// Builds a posterior from draws and their (unnormalised) log weights.
    pub fn from_weighted(
        draws: Vec<Value>,
        log_weights: &[f64],
        log_evidence: Option<f64>,
        exact: bool,
    ) -> Posterior {
        let max = log_weights
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let mut index: HashMap<Value, usize> = HashMap::new();
        let mut values = Vec::new();
        let mut probs: Vec<f64> = Vec::new();
        for (v, &lw) in draws.iter().zip(log_weights) {
            let w = if max.is_finite() {
                (lw - max).exp()
            } else {
                1.0
            };
            match index.get(v) {
                Some(&i) => probs[i] += w,
                None => {
                    index.insert(v.clone(), values.len());
                    values.push(v.clone());
                    probs.push(w);
                }
            }
        }
        let total: f64 = probs.iter().sum();
        if total > 0.0 {
            probs.iter_mut().for_each(|p| *p /= total);
        }
        let mut acc = 0.0;
        let cumulative = probs
            .iter()
            .map(|p| {
                acc += p;
                acc
            })
            .collect();
        Posterior {
            values,
            probs,
            cumulative,
            index,
            log_evidence,
            exact,
            draws,
        }
    }

    pub fn prob(&self, v: &Value) -> f64 {
        self.index.get(v).map(|&i| self.probs[i]).unwrap_or(0.0)
    }

    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Value {
        let u: f64 =
            rand::RngExt::random::<f64>(rng) * self.cumulative.last().copied().unwrap_or(1.0);
        let i = self
            .cumulative
            .partition_point(|&c| c <= u)
            .min(self.values.len().saturating_sub(1));
        self.values.get(i).cloned().unwrap_or(Value::Unit)
    }

    pub fn mean(&self) -> Option<f64> {
        let mut m = 0.0;
        for (v, p) in self.values.iter().zip(&self.probs) {
            m += v.as_number()? * p;
        }
        Some(m)
    }
}

impl DistValue {
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Value {
        match self {
            DistValue::Prim(d) => Value::from_outcome(d.sample(rng)),
            DistValue::Posterior(p) => p.sample(rng),
        }
    }

    /// log density/mass of `v`; -inf outside the support.
    pub fn log_prob(&self, v: &Value) -> f64 {
        match self {
            DistValue::Prim(d) => match v.to_outcome() {
                Some(o) => d.log_prob(&o),
                None => f64::NEG_INFINITY,
            },
            DistValue::Posterior(p) => p.prob(v).ln(),
        }
    }

    /// The finite support, when there is one (for enumeration).
    pub fn support(&self) -> Option<Vec<Value>> {
        match self {
            DistValue::Prim(d) => d
                .support()
                .map(|s| s.into_iter().map(Value::from_outcome).collect()),
            DistValue::Posterior(p) if p.exact => Some(p.values.clone()),
            DistValue::Posterior(_) => None,
        }
    }

    pub fn is_discrete(&self) -> bool {
        match self {
            DistValue::Prim(d) => d.is_discrete(),
            DistValue::Posterior(_) => true,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            DistValue::Prim(d) => d.kind().name(),
            DistValue::Posterior(_) => "posterior",
        }
    }
}

/// Arrays and tuples longer than this stay shared in [`Value::detached`]
/// (copying large data would cost more than sharing it).
const DETACH_MAX: usize = 4096;

impl Value {
    /// A copy that shares no reference counts with `self` (up to
    /// [`DETACH_MAX`] elements per array): closures, small arrays and
    /// tuples are rebuilt. Threads working on detached copies do not
    /// contend for the same counters.
    pub fn detached(&self) -> Value {
        match self {
            Value::Closure(c) => Value::Closure(Arc::new(Closure {
                func: c.func,
                captures: c.captures.iter().map(Value::detached).collect(),
            })),
            Value::Array(xs) if xs.len() <= DETACH_MAX => {
                Value::array(xs.iter().map(Value::detached).collect())
            }
            Value::Tuple(xs) if xs.len() <= DETACH_MAX => {
                Value::tuple(xs.iter().map(Value::detached).collect())
            }
            Value::Dist(d) => Value::Dist(Arc::new(DistValue::clone(d))),
            other => other.clone(),
        }
    }

    pub fn from_outcome(o: Outcome) -> Value {
        match o {
            Outcome::Bool(b) => Value::Bool(b),
            Outcome::Int(i) => Value::Int(i),
            Outcome::Real(x) => Value::Real(x),
            Outcome::Vector(v) => Value::Array(Arc::new(v.into_iter().map(Value::Real).collect())),
        }
    }

    pub fn to_outcome(&self) -> Option<Outcome> {
        Some(match self {
            Value::Bool(b) => Outcome::Bool(*b),
            Value::Int(i) => Outcome::Int(*i),
            Value::Real(x) => Outcome::Real(*x),
            Value::Array(xs) => Outcome::Vector(
                xs.iter()
                    .map(|x| x.as_number())
                    .collect::<Option<Vec<_>>>()?,
            ),
            _ => return None,
        })
    }

    /// Int, Real and Bool as a number (Bool as 0/1), for summaries.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Real(x) => Some(*x),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    pub fn array(values: Vec<Value>) -> Value {
        Value::Array(Arc::new(values))
    }

    pub fn tuple(values: Vec<Value>) -> Value {
        Value::Tuple(values.into())
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Unit => "()",
            Value::Bool(_) => "Bool",
            Value::Int(_) => "Int",
            Value::Real(_) => "Real",
            Value::Str(_) => "String",
            Value::Array(_) => "array",
            Value::Tuple(_) => "tuple",
            Value::Closure(_) => "function",
            Value::Dist(_) => "distribution",
            Value::Method(_) => "method",
        }
    }
}

/// Structural equality with reals compared by bit pattern, so values can
/// key hash maps (merging equal results). The language's `==` on reals is
/// IEEE and lives in the interpreter's operators.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Unit, Unit) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Real(a), Real(b)) => a.to_bits() == b.to_bits(),
            (Str(a), Str(b)) => a == b,
            (Array(a), Array(b)) => a == b,
            (Tuple(a), Tuple(b)) => a == b,
            (Closure(a), Closure(b)) => Arc::ptr_eq(a, b),
            (Dist(a), Dist(b)) => Arc::ptr_eq(a, b),
            (Method(a), Method(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, h: &mut H) {
        use Value::*;
        std::mem::discriminant(self).hash(h);
        match self {
            Unit => {}
            Bool(b) => b.hash(h),
            Int(i) => i.hash(h),
            Real(x) => x.to_bits().hash(h),
            Str(s) => s.hash(h),
            Array(xs) => xs.hash(h),
            Tuple(xs) => xs.hash(h),
            Closure(c) => Arc::as_ptr(c).hash(h),
            Dist(d) => Arc::as_ptr(d).hash(h),
            Method(m) => m.hash(h),
        }
    }
}

fn write_seq(f: &mut fmt::Formatter<'_>, open: &str, xs: &[Value], close: &str) -> fmt::Result {
    write!(f, "{open}")?;
    for (i, x) in xs.iter().enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{x}")?;
    }
    write!(f, "{close}")
}

/// Values print as Tyche literals (reals always with a decimal point).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unit => write!(f, "()"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Real(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s}"),
            Value::Array(xs) => write_seq(f, "[", xs, "]"),
            Value::Tuple(xs) => write_seq(f, "(", xs, ")"),
            Value::Closure(_) => write!(f, "<function>"),
            Value::Dist(d) => write!(f, "<{} distribution>", d.name()),
            Value::Method(m) => write!(f, "<method {}({})>", m.kind.name(), m.n),
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
