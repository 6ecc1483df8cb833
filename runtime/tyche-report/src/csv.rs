//! The `--output FILE.csv` table: one row per draw.
//!
//! Columns (LANGUAGE.md §10): `chain` and `draw` (the chain, 0 for methods
//! without chains, and the iteration within it, both from 0),
//! `log_weight` (the log weight, or `0` for unweighted draws), the result
//! flattened (`result`, or `result.0`, `result[1]`, `result[0].1`, … for
//! compound values), then one column per choice address in order of first
//! appearance across draws, flattened the same way when a choice is an
//! array. A value absent from a draw (a choice it did not make, a shorter
//! array) is an empty cell. Reals are written in Rust's shortest
//! round-trip form, booleans as `true`/`false`; fields are quoted per
//! RFC 4180 when needed. Lines end with `\n`.
//!
//! [`DrawTable`] is the same table in memory; `--format json --draws` and
//! the CmdStan writer use it too.

use std::collections::HashMap;
use std::io::{self, Write};

use tyche_ir::Type;
use tyche_vm::Value;

use crate::Draws;

/// The draws as a table: the result's and the choices' flattened columns,
/// and per draw the value of each (if any).
pub struct DrawTable<'v> {
    /// Column names: the result's columns, then the choices'.
    pub names: Vec<String>,
    /// How many of `names` are the result's.
    pub result_columns: usize,
    /// One row per draw, one cell per column.
    pub rows: Vec<Vec<Option<&'v Value>>>,
}

impl<'v> DrawTable<'v> {
    /// Flattens `draws` (two passes: the columns, then the rows).
    pub fn new(draws: &Draws<'v>) -> DrawTable<'v> {
        let traces = draws.traces.unwrap_or(&[]);
        let mut result_cols = Columns::default();
        let mut choice_cols = Columns::default();
        let mut cells = Vec::new();
        for v in draws.values {
            cells.clear();
            flatten_typed("result".into(), v, draws.result_type, &mut cells);
            cells.iter().for_each(|(name, _)| result_cols.add(name));
        }
        for trace in traces {
            for (addr, v) in trace {
                cells.clear();
                flatten(addr.clone(), v, &mut cells);
                cells.iter().for_each(|(name, _)| choice_cols.add(name));
            }
        }
        let offset = result_cols.names.len();
        let width = offset + choice_cols.names.len();
        let mut rows = Vec::with_capacity(draws.values.len());
        for (i, v) in draws.values.iter().enumerate() {
            let mut row = vec![None; width];
            cells.clear();
            flatten_typed("result".into(), v, draws.result_type, &mut cells);
            for (name, v) in &cells {
                row[result_cols.index[name]] = Some(*v);
            }
            for (addr, v) in traces.get(i).into_iter().flatten() {
                cells.clear();
                flatten(addr.clone(), v, &mut cells);
                for (name, v) in &cells {
                    row[offset + choice_cols.index[name]] = Some(*v);
                }
            }
            rows.push(row);
        }
        let mut names = result_cols.names;
        names.extend(choice_cols.names);
        DrawTable {
            names,
            result_columns: offset,
            rows,
        }
    }
}

/// Draw `i`'s log weight as written: `0` for unweighted draws.
pub(crate) fn log_weight_of(draws: &Draws, i: usize) -> f64 {
    match draws.log_weights {
        None => 0.0,
        Some(lw) => lw.get(i).copied().unwrap_or(f64::NEG_INFINITY),
    }
}

/// Writes the draws as CSV to `out`.
pub fn write_csv<W: Write>(out: W, draws: &Draws) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    let table = DrawTable::new(draws);
    let header = ["chain", "draw", "log_weight"]
        .into_iter()
        .chain(table.names.iter().map(String::as_str));
    write_row(&mut out, header.map(quote))?;
    let mut row: Vec<String> = Vec::with_capacity(3 + table.names.len());
    for (i, cells) in table.rows.iter().enumerate() {
        row.clear();
        let (chain, draw) = draws.chain_and_draw(i);
        row.push(chain.to_string());
        row.push(draw.to_string());
        row.push(match draws.log_weights {
            None => "0".into(),
            Some(_) => format!("{:?}", log_weight_of(draws, i)),
        });
        row.extend(cells.iter().map(|c| c.map_or_else(String::new, cell)));
        write_row(&mut out, row.iter().map(|c| c.as_str().into()))?;
    }
    out.flush()
}

/// Column names in order of first appearance.
#[derive(Default)]
struct Columns {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Columns {
    fn add(&mut self, name: &str) {
        if !self.index.contains_key(name) {
            self.index.insert(name.to_string(), self.names.len());
            self.names.push(name.to_string());
        }
    }
}

/// The scalar leaves of `v` with their column names (`name[i]` for array
/// elements, `name.i` for tuple fields). Empty arrays have no leaves.
pub(crate) fn flatten<'v>(name: String, v: &'v Value, out: &mut Vec<(String, &'v Value)>) {
    match v {
        Value::Array(xs) => xs
            .iter()
            .enumerate()
            .for_each(|(i, x)| flatten(format!("{name}[{i}]"), x, out)),
        Value::Tuple(xs) => xs
            .iter()
            .enumerate()
            .for_each(|(i, x)| flatten(format!("{name}.{i}"), x, out)),
        _ => out.push((name, v)),
    }
}

/// [`flatten`] following a type where one is known: a record's fields are
/// named (`result.mu`, `result.theta[3]`), at any depth.
fn flatten_typed<'v>(
    name: String,
    v: &'v Value,
    ty: Option<&Type>,
    out: &mut Vec<(String, &'v Value)>,
) {
    match (v, ty) {
        (Value::Tuple(xs), Some(Type::Record(fs))) if xs.len() == fs.len() => xs
            .iter()
            .zip(fs)
            .for_each(|(x, (f, t))| flatten_typed(format!("{name}.{f}"), x, Some(t), out)),
        (Value::Tuple(xs), Some(Type::Tuple(ts))) if xs.len() == ts.len() => xs
            .iter()
            .zip(ts)
            .enumerate()
            .for_each(|(i, (x, t))| flatten_typed(format!("{name}.{i}"), x, Some(t), out)),
        (Value::Array(xs), Some(Type::Array(t))) => xs
            .iter()
            .enumerate()
            .for_each(|(i, x)| flatten_typed(format!("{name}[{i}]"), x, Some(t), out)),
        _ => flatten(name, v, out),
    }
}

/// A scalar as a (quoted if needed) CSV field.
fn cell(v: &Value) -> String {
    match v {
        Value::Real(x) => format!("{x:?}"),
        Value::Str(s) => quote(s).into_owned(),
        other => quote(&other.to_string()).into_owned(),
    }
}

/// RFC 4180 quoting: fields with a comma, quote or line break are quoted,
/// with quotes doubled.
fn quote(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

fn write_row<'a, W: Write>(
    out: &mut W,
    fields: impl Iterator<Item = std::borrow::Cow<'a, str>>,
) -> io::Result<()> {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(f.as_bytes())?;
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(draws: &Draws) -> String {
        let mut buf = Vec::new();
        write_csv(&mut buf, draws).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn tuple_result_with_traces_and_missing_addresses() {
        let vals = vec![
            Value::tuple(vec![Value::Real(0.1), Value::Bool(true)]),
            Value::tuple(vec![Value::Real(2.0), Value::Bool(false)]),
            Value::tuple(vec![Value::Real(-1e-7), Value::Bool(true)]),
        ];
        let lw = [-0.5, f64::NEG_INFINITY, -1.25];
        let traces = vec![
            vec![
                ("p[0]".to_string(), Value::Real(0.1)),
                ("z[0]".to_string(), Value::Int(3)),
            ],
            vec![("p[0]".to_string(), Value::Real(2.0))],
            vec![
                ("p[0]".to_string(), Value::Real(-1e-7)),
                (
                    "w[0]".to_string(),
                    Value::array(vec![Value::Real(0.25), Value::Real(0.75)]),
                ),
            ],
        ];
        let draws = Draws::weighted(&vals, &lw).with_traces(&traces);
        assert_eq!(
            csv(&draws),
            "chain,draw,log_weight,result.0,result.1,p[0],z[0],w[0][0],w[0][1]\n\
             0,0,-0.5,0.1,true,0.1,3,,\n\
             0,1,-inf,2.0,false,2.0,,,\n\
             0,2,-1.25,-1e-7,true,-1e-7,,0.25,0.75\n"
        );
    }

    #[test]
    fn unweighted_arrays_and_quoting() {
        let vals = vec![
            Value::array(vec![
                Value::Str("a,b".into()),
                Value::Str("say \"hi\"".into()),
            ]),
            Value::array(vec![Value::Str("plain".into())]),
        ];
        assert_eq!(
            csv(&Draws::unweighted(&vals)),
            "chain,draw,log_weight,result[0],result[1]\n0,0,0,\"a,b\",\"say \"\"hi\"\"\"\n0,1,0,plain,\n"
        );
    }

    #[test]
    fn chains_number_their_draws() {
        let vals: Vec<Value> = (0..6).map(|i| Value::Int(i)).collect();
        let out = csv(&Draws::unweighted(&vals).with_chains(3));
        let ids: Vec<&str> = out.lines().skip(1).map(|l| &l[..3]).collect();
        assert_eq!(ids, ["0,0", "0,1", "1,0", "1,1", "2,0", "2,1"]);
        // Draws that do not divide into the chains stay in chain 0.
        let out = csv(&Draws::unweighted(&vals[..5]).with_chains(3));
        assert!(out.lines().skip(1).all(|l| l.starts_with("0,")));
    }

    #[test]
    fn reals_round_trip() {
        let xs = [0.1 + 0.2, 1.0 / 3.0, 1e300, -0.0];
        let vals: Vec<Value> = xs.iter().map(|&x| Value::Real(x)).collect();
        let out = csv(&Draws::unweighted(&vals));
        let parsed: Vec<f64> = out
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
            .collect();
        assert_eq!(
            parsed.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            xs.map(f64::to_bits)
        );
    }
}
