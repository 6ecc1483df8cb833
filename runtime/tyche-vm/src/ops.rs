//! Pure operations on values: arithmetic, comparisons and the built-in
//! functions of [`Prim`]. Errors are messages; the machine attaches the
//! source span.

use crate::value::{DistValue, MethodSpec, Value};
use std::sync::Arc;
use tyche_dist::special;
use tyche_ir::{BinOp, MethodKind, Prim, UnOp};

pub type OpResult = Result<Value, String>;

fn real(v: &Value) -> Result<f64, String> {
    match v {
        Value::Real(x) => Ok(*x),
        Value::Int(i) => Ok(*i as f64),
        other => Err(format!("expected a number, found {}", other.type_name())),
    }
}

fn int(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(format!("expected an Int, found {}", other.type_name())),
    }
}

fn array(v: &Value) -> Result<&Arc<Vec<Value>>, String> {
    match v {
        Value::Array(xs) => Ok(xs),
        other => Err(format!("expected an array, found {}", other.type_name())),
    }
}

fn dist(v: &Value) -> Result<&DistValue, String> {
    match v {
        Value::Dist(d) => Ok(d),
        other => Err(format!(
            "expected a distribution, found {}",
            other.type_name()
        )),
    }
}

pub fn unary(op: UnOp, a: &Value) -> OpResult {
    match (op, a) {
        (UnOp::Neg, Value::Int(i)) => i
            .checked_neg()
            .map(Value::Int)
            .ok_or_else(|| "integer overflow in negation".into()),
        (UnOp::Neg, Value::Real(x)) => Ok(Value::Real(-x)),
        (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (_, v) => Err(format!("cannot apply {:?} to {}", op, v.type_name())),
    }
}

fn int_arith(op: BinOp, a: i64, b: i64) -> OpResult {
    let overflow = || format!("integer overflow in `{a} {} {b}`", symbol(op));
    let r = match op {
        BinOp::Add => a.checked_add(b).ok_or_else(overflow)?,
        BinOp::Sub => a.checked_sub(b).ok_or_else(overflow)?,
        BinOp::Mul => a.checked_mul(b).ok_or_else(overflow)?,
        BinOp::Div if b == 0 => return Err("integer division by zero".into()),
        BinOp::Rem if b == 0 => return Err("integer remainder by zero".into()),
        BinOp::Div => a.checked_div(b).ok_or_else(overflow)?,
        BinOp::Rem => a.checked_rem(b).ok_or_else(overflow)?,
        BinOp::Pow => {
            if b < 0 {
                return Err(format!(
                    "negative exponent {b} in integer power (use reals: `real(x) ^ real(y)`)"
                ));
            }
            let e = u32::try_from(b).map_err(|_| overflow())?;
            a.checked_pow(e).ok_or_else(overflow)?
        }
        BinOp::Eq => return Ok(Value::Bool(a == b)),
        BinOp::Ne => return Ok(Value::Bool(a != b)),
        BinOp::Lt => return Ok(Value::Bool(a < b)),
        BinOp::Le => return Ok(Value::Bool(a <= b)),
        BinOp::Gt => return Ok(Value::Bool(a > b)),
        BinOp::Ge => return Ok(Value::Bool(a >= b)),
    };
    Ok(Value::Int(r))
}

fn real_arith(op: BinOp, a: f64, b: f64) -> Value {
    match op {
        BinOp::Add => Value::Real(a + b),
        BinOp::Sub => Value::Real(a - b),
        BinOp::Mul => Value::Real(a * b),
        BinOp::Div => Value::Real(a / b),
        BinOp::Rem => Value::Real(a % b),
        BinOp::Pow => Value::Real(a.powf(b)),
        BinOp::Eq => Value::Bool(a == b),
        BinOp::Ne => Value::Bool(a != b),
        BinOp::Lt => Value::Bool(a < b),
        BinOp::Le => Value::Bool(a <= b),
        BinOp::Gt => Value::Bool(a > b),
        BinOp::Ge => Value::Bool(a >= b),
    }
}

fn symbol(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Rem => "%",
        BinOp::Pow => "^",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
    }
}

/// Language equality: structural, with IEEE semantics on reals.
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Real(x), Value::Real(y)) => x == y,
        (Value::Int(i), Value::Real(y)) | (Value::Real(y), Value::Int(i)) => *i as f64 == *y,
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(x, y)| equal(x, y))
        }
        (Value::Tuple(xs), Value::Tuple(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(x, y)| equal(x, y))
        }
        _ => a == b,
    }
}

pub fn binary(op: BinOp, a: &Value, b: &Value) -> OpResult {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => int_arith(op, *x, *y),
        (Value::Real(x), Value::Real(y)) => Ok(real_arith(op, *x, *y)),
        // Mixed only arises from integer literals inside numerically
        // polymorphic code; promote as the literal rule would have.
        (Value::Int(x), Value::Real(y)) => Ok(real_arith(op, *x as f64, *y)),
        (Value::Real(x), Value::Int(y)) => Ok(real_arith(op, *x, *y as f64)),
        _ => match op {
            BinOp::Eq => Ok(Value::Bool(equal(a, b))),
            BinOp::Ne => Ok(Value::Bool(!equal(a, b))),
            _ => Err(format!(
                "cannot apply `{}` to {} and {}",
                symbol(op),
                a.type_name(),
                b.type_name()
            )),
        },
    }
}

fn numeric_fold(xs: &[Value], op: BinOp, unit: i64) -> OpResult {
    if xs.iter().any(|x| matches!(x, Value::Real(_))) {
        let mut acc = unit as f64;
        for x in xs {
            acc = match op {
                BinOp::Add => acc + real(x)?,
                _ => acc * real(x)?,
            };
        }
        Ok(Value::Real(acc))
    } else {
        let mut acc = Value::Int(unit);
        for x in xs {
            acc = int_arith(op, int(&acc)?, int(x)?)?;
        }
        Ok(acc)
    }
}

fn real_fn(args: &[Value], f: fn(f64) -> f64) -> OpResult {
    Ok(Value::Real(f(real(&args[0])?)))
}

fn method(kind: MethodKind, args: &[Value]) -> OpResult {
    let n = match args.first() {
        None => 0,
        Some(v) => {
            let n = int(v)?;
            if n <= 0 {
                return Err(format!(
                    "{}({n}): the number of samples must be positive",
                    kind_label(kind)
                ));
            }
            n as u64
        }
    };
    Ok(Value::Method(MethodSpec { kind, n }))
}

fn kind_label(kind: MethodKind) -> &'static str {
    match kind {
        MethodKind::Enumerate => "Enumerate",
        MethodKind::Rejection => "Rejection",
        MethodKind::Importance => "Importance",
        MethodKind::Smc => "Smc",
        MethodKind::Mh => "Mh",
        MethodKind::Hmc => "Hmc",
        MethodKind::Nuts => "Nuts",
    }
}

/// Applies a pure built-in. `Print` is handled by the machine.
pub fn prim(p: Prim, args: &[Value]) -> OpResult {
    use Prim::*;
    match p {
        Len => Ok(Value::Int(array(&args[0])?.len() as i64)),
        Sum => numeric_fold(array(&args[0])?, BinOp::Add, 0),
        Product => numeric_fold(array(&args[0])?, BinOp::Mul, 1),
        Min | Max => {
            let less = match binary(BinOp::Lt, &args[0], &args[1])? {
                Value::Bool(b) => b,
                _ => unreachable!("comparison returns Bool"),
            };
            let pick_first = if p == Min { less } else { !less };
            // NaN propagates rather than being silently dropped.
            if let (Value::Real(a), Value::Real(b)) = (&args[0], &args[1]) {
                if a.is_nan() || b.is_nan() {
                    return Ok(Value::Real(f64::NAN));
                }
            }
            Ok(if pick_first {
                args[0].clone()
            } else {
                args[1].clone()
            })
        }
        Abs => match &args[0] {
            Value::Int(i) => i
                .checked_abs()
                .map(Value::Int)
                .ok_or_else(|| "integer overflow in abs".into()),
            v => Ok(Value::Real(real(v)?.abs())),
        },
        Real => Ok(Value::Real(real(&args[0])?)),
        Int => {
            let x = real(&args[0])?;
            if !x.is_finite() || x.abs() >= 9.2e18 {
                return Err(format!("cannot convert {x} to Int"));
            }
            Ok(Value::Int(x.trunc() as i64))
        }
        Exp => real_fn(args, f64::exp),
        Log => real_fn(args, f64::ln),
        Sqrt => real_fn(args, f64::sqrt),
        Floor => real_fn(args, f64::floor),
        Ceil => real_fn(args, f64::ceil),
        Sigmoid => real_fn(args, special::sigmoid),
        Logit => real_fn(args, special::logit),
        Lgamma => real_fn(args, special::ln_gamma),
        Log1p => real_fn(args, special::log1p),
        Expm1 => real_fn(args, special::expm1),
        Sin => real_fn(args, f64::sin),
        Cos => real_fn(args, f64::cos),
        Tan => real_fn(args, f64::tan),
        Atan => real_fn(args, f64::atan),
        Tanh => real_fn(args, f64::tanh),
        Pow => Ok(Value::Real(real(&args[0])?.powf(real(&args[1])?))),
        LogSumExp => {
            let xs = array(&args[0])?
                .iter()
                .map(real)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Real(special::log_sum_exp(&xs)))
        }
        Range => {
            let (a, b) = (int(&args[0])?, int(&args[1])?);
            if b.saturating_sub(a) > 100_000_000 {
                return Err(format!("range {a}..{b} is too large"));
            }
            Ok(Value::array((a..b).map(Value::Int).collect()))
        }
        Zip => {
            let (xs, ys) = (array(&args[0])?, array(&args[1])?);
            Ok(Value::array(
                xs.iter()
                    .zip(ys.iter())
                    .map(|(x, y)| Value::tuple(vec![x.clone(), y.clone()]))
                    .collect(),
            ))
        }
        Concat => {
            let (xs, ys) = (array(&args[0])?, array(&args[1])?);
            let mut out = Vec::with_capacity(xs.len() + ys.len());
            out.extend_from_slice(xs);
            out.extend_from_slice(ys);
            Ok(Value::array(out))
        }
        Reverse => Ok(Value::array(
            array(&args[0])?.iter().rev().cloned().collect(),
        )),
        Print => Ok(Value::Unit),
        LogProb => Ok(Value::Real(dist(&args[0])?.log_prob(&args[1]))),
        Prob => {
            let d = dist(&args[0])?;
            if !d.is_discrete() {
                return Err(format!(
                    "prob needs a discrete distribution; {} is continuous (use log_prob)",
                    d.name()
                ));
            }
            Ok(Value::Real(d.log_prob(&args[1]).exp()))
        }
        Mean => match dist(&args[0])? {
            DistValue::Prim(d) => match d.mean() {
                Some(o) => {
                    let v = Value::from_outcome(o);
                    v.as_number()
                        .map(Value::Real)
                        .ok_or_else(|| format!("mean of {} is not a number", d.kind().name()))
                }
                None => Err(format!("{} has no mean", d.kind().name())),
            },
            DistValue::Posterior(p) => p
                .mean()
                .map(Value::Real)
                .ok_or_else(|| "mean of a non-numeric posterior".into()),
        },
        LogEvidence => match dist(&args[0])? {
            DistValue::Posterior(p) => match p.log_evidence {
                Some(z) => Ok(Value::Real(z)),
                None => Err("this inference method gives no evidence estimate".into()),
            },
            DistValue::Prim(_) => Ok(Value::Real(0.0)),
        },
        Samples => match dist(&args[0])? {
            DistValue::Posterior(p) => Ok(Value::array(p.draws.clone())),
            DistValue::Prim(d) => Err(format!(
                "samples needs a posterior from infer, not {}",
                d.kind().name()
            )),
        },
        Enumerate => method(MethodKind::Enumerate, args),
        Rejection => method(MethodKind::Rejection, args),
        Importance => method(MethodKind::Importance, args),
        Smc => method(MethodKind::Smc, args),
        Mh => method(MethodKind::Mh, args),
        Hmc => method(MethodKind::Hmc, args),
        Nuts => method(MethodKind::Nuts, args),
        // The linear-algebra built-ins (`Prim::is_linalg`).
        _ => crate::linalg::prim(p, args),
    }
}
