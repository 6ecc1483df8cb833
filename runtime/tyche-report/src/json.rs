//! The `--format json` object (LANGUAGE.md §10).
//!
//! Contract keys: `model`, `method`, `seed`, `log_evidence`, `result`
//! (`type`, `mean`, `sd`, `quantiles` with `"0.05"`, `"0.5"`, `"0.95"`,
//! `table` for `Bool`/`Int`), `draws`, `ess`. Added keys: quantiles
//! `"0.25"`/`"0.75"`, `min`, `max`, `histogram` (Real results), `table`
//! for `String` results, `message` when there is no result, `backend`, and
//! the run's extra keys. For arrays and tuples the statistics are nested
//! arrays, element by element. Quantiles, `min` and `max` keep the element
//! type (integers for `Int`, booleans for `Bool`). Non-finite numbers
//! become `null`.

use serde_json::{json, Map, Value as J};
use tyche_ir::Type;
use tyche_vm::Value;

use crate::summary::{summarize, table_stats, NumberSummary, Summary, QUANTILES};
use crate::{Draws, RunInfo};

/// The §10 JSON object for a run.
pub fn to_json(info: &RunInfo, ty: &Type, draws: &Draws) -> J {
    let summary = summarize(ty, draws);
    let mut obj = Map::new();
    obj.insert("model".into(), J::from(info.model.as_str()));
    obj.insert("method".into(), J::from(info.method.as_str()));
    obj.insert("seed".into(), J::from(info.seed));
    obj.insert(
        "log_evidence".into(),
        info.log_evidence.map_or(J::Null, J::from),
    );
    obj.insert("result".into(), result_json(ty, &summary));
    obj.insert("draws".into(), J::from(draws.values.len()));
    obj.insert("ess".into(), info.ess.map_or(J::Null, J::from));
    if let Some(backend) = &info.backend {
        obj.insert("backend".into(), J::from(backend.as_str()));
    }
    for (k, v) in &info.extra {
        obj.entry(k.clone()).or_insert_with(|| v.clone());
    }
    J::Object(obj)
}

/// The draws for `--format json --draws` (the `"draw_table"` key): an
/// object of columns, the `--output` CSV's (`chain`, `draw`, `log_weight`,
/// the result's and the choices' columns) in the same order, each an array
/// with one entry per draw (`null` where a draw has no value, and for
/// non-finite numbers).
pub fn draws_json(draws: &Draws) -> J {
    let table = crate::csv::DrawTable::new(draws);
    let mut obj = Map::new();
    let ids: Vec<(usize, usize)> = (0..draws.values.len())
        .map(|i| draws.chain_and_draw(i))
        .collect();
    obj.insert("chain".into(), ids.iter().map(|c| J::from(c.0)).collect());
    obj.insert("draw".into(), ids.iter().map(|c| J::from(c.1)).collect());
    obj.insert(
        "log_weight".into(),
        (0..draws.values.len())
            .map(|i| J::from(crate::csv::log_weight_of(draws, i)))
            .collect(),
    );
    for (k, name) in table.names.iter().enumerate() {
        let column = table
            .rows
            .iter()
            .map(|row| row[k].map_or(J::Null, value_to_json))
            .collect();
        obj.insert(name.clone(), column);
    }
    J::Object(obj)
}

/// A Tyche value as JSON: arrays and tuples as arrays, `()` as `null`,
/// functions and distributions as their printed form.
pub fn value_to_json(v: &Value) -> J {
    match v {
        Value::Unit => J::Null,
        Value::Bool(b) => J::from(*b),
        Value::Int(i) => J::from(*i),
        Value::Real(x) => J::from(*x),
        Value::Str(s) => J::from(&**s),
        Value::Array(xs) => J::Array(xs.iter().map(value_to_json).collect()),
        Value::Tuple(xs) => J::Array(xs.iter().map(value_to_json).collect()),
        Value::Closure(_) | Value::Dist(_) | Value::Method(_) => J::from(v.to_string()),
    }
}

/// The `result` object.
fn result_json(ty: &Type, summary: &Summary) -> J {
    let mut r = Map::new();
    r.insert("type".into(), J::from(ty.to_string()));
    if let Summary::Empty = summary {
        r.insert("mean".into(), J::Null);
        r.insert("sd".into(), J::Null);
        let qs = QUANTILES.iter().map(|q| (q.to_string(), J::Null)).collect();
        r.insert("quantiles".into(), J::Object(qs));
        r.insert("message".into(), J::from("no draw has positive weight"));
        return J::Object(r);
    }
    let stats = Stats::of(summary, ty);
    if stats.has_numbers() {
        r.insert("mean".into(), stats.map(&|n, _| J::from(n.mean)));
        r.insert("sd".into(), stats.map(&|n, _| J::from(n.sd)));
        let qs = QUANTILES
            .iter()
            .enumerate()
            .map(|(i, q)| (q.to_string(), stats.map(&|n, k| k.render(n.quantiles[i]))))
            .collect();
        r.insert("quantiles".into(), J::Object(qs));
        r.insert("min".into(), stats.map(&|n, k| k.render(n.min)));
        r.insert("max".into(), stats.map(&|n, k| k.render(n.max)));
    }
    match summary {
        Summary::Table(t) => {
            let rows = t
                .iter()
                .map(|(v, p)| json!({"value": value_to_json(v), "prob": p}))
                .collect();
            r.insert("table".into(), J::Array(rows));
        }
        Summary::Number(n) => {
            let bins = n
                .histogram
                .iter()
                .map(|b| json!({"lo": b.lo, "hi": b.hi, "prob": b.prob}))
                .collect();
            r.insert("histogram".into(), J::Array(bins));
        }
        _ => {}
    }
    J::Object(r)
}

/// The element type of a numeric leaf, for typed quantiles.
#[derive(Clone, Copy)]
enum Kind {
    Real,
    Int,
    Bool,
}

impl Kind {
    fn render(self, x: f64) -> J {
        match self {
            Kind::Real => J::from(x),
            Kind::Int => J::from(x as i64),
            Kind::Bool => J::from(x != 0.0),
        }
    }
}

/// The numeric statistics of a summary, computed once per leaf.
enum Stats {
    Leaf(NumberSummary, Kind),
    Node(Vec<Stats>),
    /// A record: one statistic per field, as a JSON object.
    Fields(Vec<(String, Stats)>),
    None,
}

impl Stats {
    fn of(s: &Summary, ty: &Type) -> Stats {
        match s {
            Summary::Number(n) => Stats::Leaf(n.clone(), Kind::Real),
            Summary::Table(t) => {
                let kind = if matches!(t.first(), Some((Value::Bool(_), _))) {
                    Kind::Bool
                } else {
                    Kind::Int
                };
                table_stats(t).map_or(Stats::None, |n| Stats::Leaf(n, kind))
            }
            Summary::Tuple(xs) => match ty {
                Type::Record(fs) if fs.len() == xs.len() => Stats::Fields(
                    fs.iter()
                        .zip(xs)
                        .map(|((n, t), x)| (n.clone(), Stats::of(x, t)))
                        .collect(),
                ),
                Type::Tuple(ts) if ts.len() == xs.len() => {
                    Stats::Node(ts.iter().zip(xs).map(|(t, x)| Stats::of(x, t)).collect())
                }
                _ => Stats::Node(xs.iter().map(|x| Stats::of(x, &Type::Var(0))).collect()),
            },
            Summary::Array(xs) => {
                let elem = match ty {
                    Type::Array(e) => (**e).clone(),
                    _ => Type::Var(0),
                };
                Stats::Node(xs.iter().map(|x| Stats::of(x, &elem)).collect())
            }
            Summary::Unit | Summary::Opaque | Summary::Empty => Stats::None,
        }
    }

    /// Whether to emit statistics: some leaf is numeric (or the result is
    /// an array of length zero).
    fn has_numbers(&self) -> bool {
        match self {
            Stats::Leaf(..) => true,
            Stats::Node(xs) => xs.is_empty() || xs.iter().any(Stats::has_numbers),
            Stats::Fields(fs) => fs.iter().any(|(_, x)| x.has_numbers()),
            Stats::None => false,
        }
    }

    /// One statistic, nested like the result; `null` for non-numeric leaves.
    fn map(&self, f: &dyn Fn(&NumberSummary, Kind) -> J) -> J {
        match self {
            Stats::Leaf(n, k) => f(n, *k),
            Stats::Node(xs) => J::Array(xs.iter().map(|x| x.map(f)).collect()),
            Stats::Fields(fs) => J::Object(fs.iter().map(|(n, x)| (n.clone(), x.map(f))).collect()),
            Stats::None => J::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> RunInfo {
        RunInfo {
            model: "model".into(),
            method: "smc".into(),
            seed: 42,
            ..RunInfo::default()
        }
    }

    fn keys(v: &J) -> Vec<&str> {
        let mut ks: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        ks.sort();
        ks
    }

    #[test]
    fn real_result_has_the_contract_keys() {
        let vals: Vec<Value> = [0.5, 0.25, 1.0, 0.75].map(Value::Real).to_vec();
        let mut info = info();
        info.log_evidence = Some(-12.34);
        info.ess = Some(3.5);
        info.extra.insert("particles".into(), J::from(4));
        // Extra keys never replace contract keys.
        info.extra.insert("seed".into(), J::from("nope"));
        let text = to_json(&info, &Type::Real, &Draws::unweighted(&vals)).to_string();
        let v: J = serde_json::from_str(&text).unwrap();
        assert_eq!(
            keys(&v),
            [
                "draws",
                "ess",
                "log_evidence",
                "method",
                "model",
                "particles",
                "result",
                "seed"
            ]
        );
        assert_eq!(v["model"], "model");
        assert_eq!(v["method"], "smc");
        assert_eq!(v["seed"], 42);
        assert_eq!(v["log_evidence"], -12.34);
        assert_eq!(v["draws"], 4);
        assert_eq!(v["ess"], 3.5);
        let r = &v["result"];
        assert_eq!(r["type"], "Real");
        assert_eq!(r["mean"], 0.625);
        assert!((r["sd"].as_f64().unwrap() - 0.078125f64.sqrt()).abs() < 1e-12);
        assert_eq!(r["quantiles"]["0.05"], 0.25);
        assert_eq!(r["quantiles"]["0.5"], 0.5);
        assert_eq!(r["quantiles"]["0.95"], 1.0);
        assert!(r.get("table").is_none());
    }

    #[test]
    fn draw_table_has_the_csv_columns() {
        let vals: Vec<Value> = [0.5, 0.25, 1.0, 0.75].map(Value::Real).to_vec();
        let traces: Vec<Vec<(String, Value)>> = vals
            .iter()
            .map(|v| vec![("x[0]".to_string(), v.clone())])
            .collect();
        let d = Draws::unweighted(&vals).with_traces(&traces).with_chains(2);
        let v = draws_json(&d);
        assert_eq!(keys(&v), ["chain", "draw", "log_weight", "result", "x[0]"]);
        assert_eq!(v["chain"], json!([0, 0, 1, 1]));
        assert_eq!(v["draw"], json!([0, 1, 0, 1]));
        assert_eq!(v["log_weight"], json!([0.0, 0.0, 0.0, 0.0]));
        assert_eq!(v["x[0]"], json!([0.5, 0.25, 1.0, 0.75]));
    }

    #[test]
    fn nulls_when_absent() {
        let vals = vec![Value::Real(1.0)];
        let v = to_json(&info(), &Type::Real, &Draws::unweighted(&vals));
        assert!(v["log_evidence"].is_null() && v["ess"].is_null());
        assert!(v.get("backend").is_none());
        let mut i = info();
        i.backend = Some("vm".into());
        i.log_evidence = Some(f64::NEG_INFINITY);
        let v = to_json(&i, &Type::Real, &Draws::unweighted(&vals));
        assert_eq!(v["backend"], "vm");
        assert!(v["log_evidence"].is_null());
    }

    #[test]
    fn bool_and_int_results_have_tables() {
        let vals: Vec<Value> = [true, false, true, true].map(Value::Bool).to_vec();
        let v = to_json(&info(), &Type::Bool, &Draws::unweighted(&vals));
        let r = &v["result"];
        assert_eq!(r["type"], "Bool");
        assert_eq!(r["mean"], 0.75);
        assert_eq!(
            r["table"],
            json!([{"value": false, "prob": 0.25}, {"value": true, "prob": 0.75}])
        );

        let vals: Vec<Value> = [3, 1, 3, 2].map(Value::Int).to_vec();
        let v = to_json(&info(), &Type::Int, &Draws::unweighted(&vals));
        let r = &v["result"];
        assert_eq!(r["mean"], 2.25);
        assert_eq!(r["quantiles"]["0.5"], 2);
        assert_eq!(r["quantiles"]["0.95"], 3);
        assert_eq!(
            r["table"],
            json!([{"value": 1, "prob": 0.25}, {"value": 2, "prob": 0.25}, {"value": 3, "prob": 0.5}])
        );
    }

    #[test]
    fn compound_results_are_element_wise() {
        let draw = |a: f64, b: f64, n: i64| {
            Value::tuple(vec![
                Value::array(vec![Value::Real(a), Value::Real(b)]),
                Value::Int(n),
            ])
        };
        let vals = vec![draw(1.0, 10.0, 1), draw(3.0, 30.0, 3)];
        let ty = Type::Tuple(vec![Type::array(Type::Real), Type::Int]);
        let v = to_json(&info(), &ty, &Draws::unweighted(&vals));
        let r = &v["result"];
        assert_eq!(r["type"], "([Real], Int)");
        assert_eq!(r["mean"], json!([[2.0, 20.0], 2.0]));
        assert_eq!(r["sd"], json!([[1.0, 10.0], 1.0]));
        assert_eq!(r["quantiles"]["0.05"], json!([[1.0, 10.0], 1]));
        assert_eq!(r["quantiles"]["0.95"], json!([[3.0, 30.0], 3]));
        assert!(r.get("table").is_none());
    }

    #[test]
    fn zero_weight_runs_report_null_statistics() {
        let vals: Vec<Value> = [1.0, 2.0].map(Value::Real).to_vec();
        let lw = [f64::NEG_INFINITY; 2];
        let text = to_json(&info(), &Type::Real, &Draws::weighted(&vals, &lw)).to_string();
        let v: J = serde_json::from_str(&text).unwrap();
        assert!(v["result"]["mean"].is_null());
        assert!(v["result"]["quantiles"]["0.5"].is_null());
        assert_eq!(v["draws"], 2);
    }

    #[test]
    fn non_finite_values_stay_valid_json() {
        let vals: Vec<Value> = [1.0, f64::INFINITY, f64::NAN].map(Value::Real).to_vec();
        let text = to_json(&info(), &Type::Real, &Draws::unweighted(&vals)).to_string();
        let v: J = serde_json::from_str(&text).unwrap();
        assert!(v["result"]["mean"].is_null());
    }
}
