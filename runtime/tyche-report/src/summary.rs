//! Weighted summaries of draws, shaped by the result type.
//!
//! Weights are normalised once ([`normalized_weights`]); draws with zero
//! weight are then dropped and the rest summarised recursively: numbers
//! get moments, quantiles and a histogram, discrete scalars a probability
//! table, arrays (of equal length) and tuples one summary per element.

use std::cmp::Ordering;
use std::collections::HashMap;

use tyche_ir::Type;
use tyche_vm::Value;

use crate::Draws;

/// The probabilities at which quantiles are reported, in order.
pub const QUANTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// Slack for comparing cumulative weights with a quantile's probability,
/// so that e.g. ten weights of 0.1 reach 0.5 after five.
const CUMULATIVE_EPS: f64 = 1e-12;

/// Most histogram bins (rows of the text histogram).
const TARGET_BINS: usize = 12;

/// Weighted statistics of a numeric quantity.
#[derive(Clone, Debug, PartialEq)]
pub struct NumberSummary {
    pub mean: f64,
    /// Square root of the weighted (population) variance.
    pub sd: f64,
    /// Weighted quantiles at the probabilities of [`QUANTILES`], in order:
    /// the smallest value whose cumulative weight reaches the probability.
    pub quantiles: [f64; 5],
    pub min: f64,
    pub max: f64,
    /// Equal-width half-open bins with "nice" edges over the finite
    /// values, at most 12. Probabilities sum to the weight of the
    /// finite values (1 unless some draws are infinite or NaN).
    pub histogram: Vec<Bin>,
}

impl NumberSummary {
    /// The quantile at `p` if `p` is one of [`QUANTILES`].
    pub fn quantile(&self, p: f64) -> Option<f64> {
        QUANTILES
            .iter()
            .position(|&q| q == p)
            .map(|i| self.quantiles[i])
    }
}

/// One histogram bin: `[lo, hi)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bin {
    pub lo: f64,
    pub hi: f64,
    pub prob: f64,
}

/// A weighted summary of a result, following its type.
#[derive(Clone, Debug, PartialEq)]
pub enum Summary {
    /// `Real` results.
    Number(NumberSummary),
    /// `Bool`, `Int` and `String` results: distinct values sorted by value
    /// with probabilities summing to 1. See [`table_stats`] for the numeric
    /// statistics of `Int` and `Bool` tables.
    Table(Vec<(Value, f64)>),
    /// Element-wise, when all draws are arrays of the same length.
    Array(Vec<Summary>),
    Tuple(Vec<Summary>),
    Unit,
    /// Functions, distributions, methods, arrays of differing lengths.
    Opaque,
    /// Nothing to summarise: there are no draws, or no draw has positive
    /// weight (all log weights are `-inf`).
    Empty,
}

/// Weighted summary of `draws`, whose values have type `ty`.
pub fn summarize(ty: &Type, draws: &Draws) -> Summary {
    let Some(weights) = normalized_weights(draws) else {
        return Summary::Empty;
    };
    let (vals, ws): (Vec<&Value>, Vec<f64>) = draws
        .values
        .iter()
        .zip(weights)
        .filter(|(_, w)| *w > 0.0)
        .unzip();
    if vals.is_empty() {
        return Summary::Empty;
    }
    summarize_at(ty, &vals, &ws)
}

/// Normalised weights (one per value, summing to 1), or `None` when there
/// are no draws or no draw has positive weight. NaN and missing log weights
/// count as `-inf`; if some are `+inf`, those share the weight equally.
pub fn normalized_weights(draws: &Draws) -> Option<Vec<f64>> {
    let n = draws.values.len();
    if n == 0 {
        return None;
    }
    let Some(lw) = draws.log_weights else {
        return Some(vec![1.0 / n as f64; n]);
    };
    let log_w = |i: usize| {
        lw.get(i)
            .copied()
            .filter(|x| !x.is_nan())
            .unwrap_or(f64::NEG_INFINITY)
    };
    let max = (0..n).map(log_w).fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return None;
    }
    let mut w: Vec<f64> = (0..n)
        .map(|i| {
            let l = log_w(i);
            if max == f64::INFINITY {
                if l == f64::INFINITY {
                    1.0
                } else {
                    0.0
                }
            } else {
                (l - max).exp()
            }
        })
        .collect();
    // The largest weight is exp(0) = 1, so the total is at least 1.
    let total: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= total);
    Some(w)
}

/// Numeric statistics of an `Int` or `Bool` probability table (Bool as
/// 0/1, so the mean is P(true)); `None` for other tables.
pub fn table_stats(table: &[(Value, f64)]) -> Option<NumberSummary> {
    if table.is_empty() {
        return None;
    }
    let xs = table
        .iter()
        .map(|(v, _)| match v {
            Value::Int(_) | Value::Bool(_) => v.as_number(),
            _ => None,
        })
        .collect::<Option<Vec<f64>>>()?;
    let ps: Vec<f64> = table.iter().map(|(_, p)| *p).collect();
    Some(number_summary(&xs, &ps))
}

/// Summarises `vals` (all with positive weight `w`, summing to 1) as `ty`.
fn summarize_at(ty: &Type, vals: &[&Value], w: &[f64]) -> Summary {
    match ty {
        Type::Real => {
            let xs: Option<Vec<f64>> = vals
                .iter()
                .map(|v| match v {
                    Value::Real(x) => Some(*x),
                    Value::Int(i) => Some(*i as f64),
                    _ => None,
                })
                .collect();
            xs.map_or(Summary::Opaque, |xs| {
                Summary::Number(number_summary(&xs, w))
            })
        }
        Type::Int | Type::Bool | Type::Str => {
            let fits = |v: &Value| {
                matches!(
                    (ty, v),
                    (Type::Int, Value::Int(_))
                        | (Type::Bool, Value::Bool(_))
                        | (Type::Str, Value::Str(_))
                )
            };
            if vals.iter().all(|v| fits(v)) {
                Summary::Table(table(vals, w))
            } else {
                Summary::Opaque
            }
        }
        Type::Unit => Summary::Unit,
        Type::Array(elem) => {
            let arrays: Option<Vec<&Vec<Value>>> = vals
                .iter()
                .map(|v| match v {
                    Value::Array(xs) => Some(&**xs),
                    _ => None,
                })
                .collect();
            let Some(arrays) = arrays else {
                return Summary::Opaque;
            };
            let len = arrays[0].len();
            if arrays.iter().any(|xs| xs.len() != len) {
                return Summary::Opaque;
            }
            Summary::Array(
                (0..len)
                    .map(|i| {
                        let column: Vec<&Value> = arrays.iter().map(|xs| &xs[i]).collect();
                        summarize_at(elem, &column, w)
                    })
                    .collect(),
            )
        }
        Type::Tuple(elems) => {
            let tuples: Option<Vec<&[Value]>> = vals
                .iter()
                .map(|v| match v {
                    Value::Tuple(xs) if xs.len() == elems.len() => Some(&**xs),
                    _ => None,
                })
                .collect();
            let Some(tuples) = tuples else {
                return Summary::Opaque;
            };
            Summary::Tuple(
                elems
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let column: Vec<&Value> = tuples.iter().map(|xs| &xs[i]).collect();
                        summarize_at(t, &column, w)
                    })
                    .collect(),
            )
        }
        // WIP (records): summarised as the tuple of their fields, unnamed.
        Type::Record(fs) => summarize_at(
            &Type::Tuple(fs.iter().map(|(_, t)| t.clone()).collect()),
            vals,
            w,
        ),
        // Unresolved type: go by the shape of the first value.
        Type::Var(_) => summarize_at(&shape_of(vals[0]), vals, w),
        Type::Fn(..) | Type::Dist(_) | Type::Method => Summary::Opaque,
    }
}

/// A type describing `v`'s shape (for results whose type is a variable).
fn shape_of(v: &Value) -> Type {
    match v {
        Value::Unit => Type::Unit,
        Value::Bool(_) => Type::Bool,
        Value::Int(_) => Type::Int,
        Value::Real(_) => Type::Real,
        Value::Str(_) => Type::Str,
        Value::Array(xs) => Type::array(xs.first().map_or(Type::Var(0), shape_of)),
        Value::Tuple(xs) => Type::Tuple(xs.iter().map(shape_of).collect()),
        Value::Closure(_) | Value::Dist(_) | Value::Method(_) => Type::Method,
    }
}

/// Probability table of discrete values, sorted by value.
fn table(vals: &[&Value], w: &[f64]) -> Vec<(Value, f64)> {
    let mut index: HashMap<&Value, usize> = HashMap::new();
    let mut entries: Vec<(Value, f64)> = Vec::new();
    for (&v, &wi) in vals.iter().zip(w) {
        match index.get(v) {
            Some(&i) => entries[i].1 += wi,
            None => {
                index.insert(v, entries.len());
                entries.push((v.clone(), wi));
            }
        }
    }
    let total: f64 = entries.iter().map(|e| e.1).sum();
    if total > 0.0 {
        entries.iter_mut().for_each(|e| e.1 /= total);
    }
    entries.sort_by(|a, b| cmp_values(&a.0, &b.0));
    entries
}

/// Order of table values: booleans, integers, reals, strings by value.
pub(crate) fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Real(x), Value::Real(y)) => x.total_cmp(y),
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// Weighted statistics of `xs` with weights `w` (positive, summing to ~1).
fn number_summary(xs: &[f64], w: &[f64]) -> NumberSummary {
    let total: f64 = w.iter().sum();
    // A weighted mean lies between the extremes; rounding in the sum must
    // not put it outside them (a constant result has mean = min = max).
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    let mean =
        (xs.iter().zip(w).map(|(x, w)| x * w).sum::<f64>() / total).clamp(lo.min(hi), hi.max(lo));
    let var = xs
        .iter()
        .zip(w)
        .map(|(x, w)| w * (x - mean) * (x - mean))
        .sum::<f64>()
        / total;
    let sd = var.max(0.0).sqrt();

    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut quantiles = [f64::NAN; 5];
    let mut cumulative = 0.0;
    let mut next = 0;
    for &i in &order {
        cumulative += w[i];
        while next < QUANTILES.len() && cumulative >= QUANTILES[next] * total - CUMULATIVE_EPS {
            quantiles[next] = xs[i];
            next += 1;
        }
    }
    // Rounding can leave the top quantiles unassigned: they are the maximum.
    if let Some(&last) = order.last() {
        quantiles[next..].iter_mut().for_each(|q| *q = xs[last]);
    }
    let min = order.first().map_or(f64::NAN, |&i| xs[i]);
    let max = order.last().map_or(f64::NAN, |&i| xs[i]);
    NumberSummary {
        mean,
        sd,
        quantiles,
        min,
        max,
        histogram: histogram(xs, w, total),
    }
}

/// Histogram of the finite values: at most [`TARGET_BINS`] bins of the
/// finest nice width (1, 2, 2.5 or 5 times a power of ten), aligned to
/// multiples of the width, so that labels are round numbers.
fn histogram(xs: &[f64], w: &[f64], total: f64) -> Vec<Bin> {
    histogram_bins(xs, w, total, TARGET_BINS)
}

/// [`histogram`] with at most `target_bins` bins (figures use more than
/// the text report).
pub(crate) fn histogram_bins(xs: &[f64], w: &[f64], total: f64, target_bins: usize) -> Vec<Bin> {
    let target_bins = target_bins.max(1);
    let finite = || xs.iter().zip(w).filter(|(x, _)| x.is_finite());
    let lo = finite().map(|(x, _)| *x).fold(f64::INFINITY, f64::min);
    let hi = finite().map(|(x, _)| *x).fold(f64::NEG_INFINITY, f64::max);
    if lo > hi {
        return Vec::new();
    }
    let mass: f64 = finite().map(|(_, w)| w).sum::<f64>() / total;
    if lo == hi || !(hi - lo).is_finite() {
        return vec![Bin { lo, hi, prob: mass }];
    }
    // The finest nice step giving at most `TARGET_BINS` half-open bins.
    let bin_of = |x: f64, start: f64, step: f64| ((x - start) / step + 1e-9).floor().max(0.0);
    let mut step = nice_step((hi - lo) / target_bins as f64);
    let mut start = (lo / step).floor() * step;
    while bin_of(hi, start, step) + 1.0 > target_bins as f64 && step.is_finite() {
        step = nice_step(step * (1.0 + 1e-6));
        start = (lo / step).floor() * step;
    }
    let n = bin_of(hi, start, step) + 1.0;
    if !(step > 0.0 && n.is_finite() && n <= target_bins as f64) {
        return vec![Bin { lo, hi, prob: mass }];
    }
    let n = n as usize;
    let mut probs = vec![0.0; n];
    for (x, wi) in finite() {
        probs[(bin_of(*x, start, step) as usize).min(n - 1)] += wi / total;
    }
    probs
        .into_iter()
        .enumerate()
        .map(|(i, prob)| Bin {
            lo: start + i as f64 * step,
            hi: start + (i + 1) as f64 * step,
            prob,
        })
        .collect()
}

/// The smallest of 1, 2, 2.5, 5 (times a power of ten) at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let base = 10f64.powf(raw.log10().floor());
    let m = raw / base;
    let nice = [1.0, 2.0, 2.5, 5.0]
        .into_iter()
        .find(|&c| m <= c * (1.0 + 1e-9))
        .unwrap_or(10.0);
    nice * base
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn reals(xs: &[f64]) -> Vec<Value> {
        xs.iter().map(|&x| Value::Real(x)).collect()
    }

    fn number(s: Summary) -> NumberSummary {
        match s {
            Summary::Number(n) => n,
            other => panic!("expected a number summary, got {other:?}"),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn unweighted_moments_and_quantiles() {
        let vals = reals(&[3.0, 1.0, 4.0, 2.0]);
        let n = number(summarize(&Type::Real, &Draws::unweighted(&vals)));
        assert!(close(n.mean, 2.5));
        assert!(close(n.sd, 1.25f64.sqrt()));
        assert_eq!(n.quantiles, [1.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!((n.min, n.max), (1.0, 4.0));
        assert_eq!(n.quantile(0.5), Some(2.0));
        let mass: f64 = n.histogram.iter().map(|b| b.prob).sum();
        assert!(close(mass, 1.0));
    }

    #[test]
    fn ten_equal_weights_reach_the_median_at_the_fifth() {
        let vals = reals(&(1..=10).map(f64::from).collect::<Vec<_>>());
        let n = number(summarize(&Type::Real, &Draws::unweighted(&vals)));
        assert_eq!(n.quantiles, [1.0, 3.0, 5.0, 8.0, 10.0]);
    }

    #[test]
    fn weighted_moments_and_quantiles() {
        let vals = reals(&[1.0, 2.0]);
        let lw = [1.0f64.ln() - 7.0, 3.0f64.ln() - 7.0];
        let n = number(summarize(&Type::Real, &Draws::weighted(&vals, &lw)));
        assert!(close(n.mean, 1.75));
        assert!(close(n.sd, 0.1875f64.sqrt()));
        assert_eq!(n.quantiles, [1.0, 1.0, 2.0, 2.0, 2.0]);
    }

    #[test]
    fn equal_weights_agree_with_unweighted() {
        let vals = reals(&[0.3, -1.2, 5.5, 2.25, 0.0, 7.0, 1.5]);
        let lw = [-3.7; 7];
        let a = number(summarize(&Type::Real, &Draws::unweighted(&vals)));
        let b = number(summarize(&Type::Real, &Draws::weighted(&vals, &lw)));
        assert!(close(a.mean, b.mean) && close(a.sd, b.sd));
        assert_eq!(a.quantiles, b.quantiles);
        assert_eq!(a.histogram.len(), b.histogram.len());
        for (x, y) in a.histogram.iter().zip(&b.histogram) {
            assert!(x.lo == y.lo && close(x.prob, y.prob));
        }
    }

    #[test]
    fn zero_weight_draws_are_ignored_and_all_zero_is_empty() {
        let vals = reals(&[1.0, 100.0, 3.0]);
        let lw = [0.0, f64::NEG_INFINITY, 0.0];
        let n = number(summarize(&Type::Real, &Draws::weighted(&vals, &lw)));
        assert!(close(n.mean, 2.0) && n.max == 3.0);
        let none = [f64::NEG_INFINITY; 3];
        assert_eq!(
            summarize(&Type::Real, &Draws::weighted(&vals, &none)),
            Summary::Empty
        );
        assert_eq!(
            summarize(&Type::Real, &Draws::unweighted(&[])),
            Summary::Empty
        );
    }

    #[test]
    fn bool_and_int_tables() {
        let vals: Vec<Value> = [true, false, true, true].map(Value::Bool).to_vec();
        let s = summarize(&Type::Bool, &Draws::unweighted(&vals));
        assert_eq!(
            s,
            Summary::Table(vec![(Value::Bool(false), 0.25), (Value::Bool(true), 0.75)])
        );
        let Summary::Table(t) = s else { unreachable!() };
        assert!(close(table_stats(&t).unwrap().mean, 0.75));

        let vals: Vec<Value> = [3, 1, 3, 2].map(Value::Int).to_vec();
        let lw = [0.0, 0.0, 0.0, 1.0f64.ln()];
        let Summary::Table(t) = summarize(&Type::Int, &Draws::weighted(&vals, &lw)) else {
            panic!()
        };
        assert_eq!(
            t,
            vec![
                (Value::Int(1), 0.25),
                (Value::Int(2), 0.25),
                (Value::Int(3), 0.5)
            ]
        );
        let stats = table_stats(&t).unwrap();
        assert!(close(stats.mean, 2.25));
        assert_eq!(stats.quantiles, [1.0, 1.0, 2.0, 3.0, 3.0]);
    }

    #[test]
    fn arrays_and_tuples_are_element_wise() {
        let arr = |xs: &[f64]| Value::array(reals(xs));
        let vals = vec![
            Value::tuple(vec![arr(&[1.0, 10.0]), Value::Int(1)]),
            Value::tuple(vec![arr(&[3.0, 30.0]), Value::Int(2)]),
        ];
        let ty = Type::Tuple(vec![Type::array(Type::Real), Type::Int]);
        let Summary::Tuple(parts) = summarize(&ty, &Draws::unweighted(&vals)) else {
            panic!()
        };
        let Summary::Array(elems) = &parts[0] else {
            panic!()
        };
        assert!(close(number(elems[0].clone()).mean, 2.0));
        assert!(close(number(elems[1].clone()).mean, 20.0));
        assert!(matches!(&parts[1], Summary::Table(t) if t.len() == 2));
    }

    #[test]
    fn ragged_arrays_and_functions_are_opaque() {
        let vals = vec![
            Value::array(reals(&[1.0])),
            Value::array(reals(&[1.0, 2.0])),
        ];
        let d = Draws::unweighted(&vals);
        assert_eq!(summarize(&Type::array(Type::Real), &d), Summary::Opaque);
        let f = Value::Closure(Arc::new(tyche_vm::Closure {
            func: tyche_ir::FuncId(0),
            captures: vec![],
        }));
        let fs = vec![f];
        assert_eq!(
            summarize(&Type::func(vec![], Type::Int), &Draws::unweighted(&fs)),
            Summary::Opaque
        );
    }

    #[test]
    fn type_variables_follow_the_values() {
        let vals = vec![Value::Int(2), Value::Int(2)];
        assert_eq!(
            summarize(&Type::Var(0), &Draws::unweighted(&vals)),
            Summary::Table(vec![(Value::Int(2), 1.0)])
        );
    }

    #[test]
    fn histogram_has_nice_edges() {
        let vals = reals(&[0.23, 0.31, 0.47, 0.5, 0.94]);
        let n = number(summarize(&Type::Real, &Draws::unweighted(&vals)));
        let h = &n.histogram;
        assert!(close(h[0].lo, 0.2) && close(h[0].hi - h[0].lo, 0.1));
        assert!(h.len() == 8, "{h:?}");
        assert!(close(h.iter().map(|b| b.prob).sum(), 1.0));
        assert!(close(h[7].prob, 0.2));
    }
}
