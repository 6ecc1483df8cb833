//! Binding `data` items from JSON (`--data FILE.json`, LANGUAGE.md §10).
//!
//! Conversion is directed by the item's declared type, so `[1, 2]` becomes
//! `[Real]` or `[Int]` as declared. Every problem names the item, and
//! points at the declaration and, where it can, at the data file.

use crate::compile::Compiled;
use std::collections::HashMap;
use std::sync::Arc;
use tyche_core::{Diagnostic, FileId, SourceMap, Span};
use tyche_ir::{GlobalId, GlobalKind, Type};
use tyche_vm::Value;

/// Parses a data file, adding it to `sources` so errors can point into it.
pub fn parse_data_file(
    sources: &mut SourceMap,
    name: &str,
    text: &str,
) -> Result<(FileId, serde_json::Value), Diagnostic> {
    let file = sources.add(name, text);
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v @ serde_json::Value::Object(_)) => Ok((file, v)),
        Ok(_) => Err(Diagnostic::error(format!("data file `{name}` must hold a JSON object"))
            .with_code("E0501")
            .with_primary(Span::new(file, 0, text.len().min(1)), "expected `{` here")
            .with_help("write an object whose keys are the program's `data` items: {\"ys\": [1.0, 2.0]}")),
        Err(e) => {
            // serde_json reports 1-based line and column.
            let offset = text
                .split_inclusive('\n')
                .take(e.line().saturating_sub(1))
                .map(|l| l.len())
                .sum::<usize>()
                + e.column().saturating_sub(1);
            let offset = offset.min(text.len());
            let end = (offset + 1).min(text.len());
            let msg = e.to_string();
            let short = msg.split(" at line").next().unwrap_or(&msg).to_string();
            Err(Diagnostic::error(format!("invalid JSON in data file `{name}`"))
                .with_code("E0502")
                .with_primary(Span::new(file, offset, end), short))
        }
    }
}

/// Converts a JSON value to a value of type `ty`; errors name the path
/// inside the value (`ys[3]`). Booleans must be JSON booleans (this is
/// the conversion of `--do`/`--observe` values); see
/// [`data_value_from_json`] for data items.
pub fn value_from_json(ty: &Type, json: &serde_json::Value, path: &str) -> Result<Value, String> {
    convert(ty, json, path, false)
}

/// [`value_from_json`] for `data` items: a `Bool` (at any depth of arrays
/// and tuples) also accepts the JSON integers 0 and 1, as Stan data files
/// and `json.dump` of a NumPy 0/1 array write booleans
/// (docs/language.md, "Data").
pub fn data_value_from_json(
    ty: &Type,
    json: &serde_json::Value,
    path: &str,
) -> Result<Value, String> {
    convert(ty, json, path, true)
}

fn convert(
    ty: &Type,
    json: &serde_json::Value,
    path: &str,
    bool_from_01: bool,
) -> Result<Value, String> {
    use serde_json::Value as J;
    let mismatch = || {
        let hint = if bool_from_01 && *ty == Type::Bool {
            " (a Bool is true, false, 1 or 0)"
        } else {
            ""
        };
        format!("`{path}` should be {ty}, found {}{hint}", describe(json))
    };
    Ok(match (ty, json) {
        (Type::Real, J::Number(n)) => Value::Real(n.as_f64().ok_or_else(mismatch)?),
        (Type::Int, J::Number(n)) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => match n.as_f64() {
                Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Value::Int(x as i64),
                _ => return Err(mismatch()),
            },
        },
        (Type::Bool, J::Bool(b)) => Value::Bool(*b),
        (Type::Bool, J::Number(n)) if bool_from_01 => match n.as_u64() {
            Some(0) => Value::Bool(false),
            Some(1) => Value::Bool(true),
            _ => return Err(mismatch()),
        },
        (Type::Str, J::String(s)) => Value::Str(Arc::from(s.as_str())),
        (Type::Unit, J::Null) => Value::Unit,
        (Type::Array(elem), J::Array(xs)) => Value::array(
            xs.iter()
                .enumerate()
                .map(|(i, x)| convert(elem, x, &format!("{path}[{i}]"), bool_from_01))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Tuple(ts), J::Array(xs)) if ts.len() == xs.len() => Value::tuple(
            ts.iter()
                .zip(xs)
                .enumerate()
                .map(|(i, (t, x))| convert(t, x, &format!("{path}.{i}"), bool_from_01))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Tuple(ts), J::Array(xs)) => {
            return Err(format!(
                "`{path}` should be a {}-tuple {ty}, found an array of {} elements",
                ts.len(),
                xs.len()
            ))
        }
        _ => return Err(mismatch()),
    })
}

fn describe(json: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match json {
        J::Null => "null".into(),
        J::Bool(b) => format!("the boolean {b}"),
        J::Number(n) if n.is_i64() || n.is_u64() => format!("the integer {n}"),
        J::Number(n) => format!("the number {n}"),
        J::String(s) => format!("the string {s:?}"),
        J::Array(xs) => format!("an array of {} elements", xs.len()),
        J::Object(_) => "an object".into(),
    }
}

/// The span of `"key"` in a data file's text, for pointing at it.
fn key_span(sources: &SourceMap, file: FileId, key: &str) -> Span {
    let text = sources.text(file);
    let quoted = format!("\"{key}\"");
    match text.find(&quoted) {
        Some(i) => Span::new(file, i, i + quoted.len()),
        None => Span::new(file, 0, 0),
    }
}

/// Binds every `data` item that the JSON object supplies. Items without a
/// value must have a default; keys matching no item are errors.
pub fn bind_data(
    compiled: &Compiled,
    sources: &SourceMap,
    data: Option<(FileId, &serde_json::Value)>,
) -> Result<HashMap<GlobalId, Value>, Vec<Diagnostic>> {
    let ir = &compiled.ir;
    let empty = serde_json::Map::new();
    let (file, object) = match data {
        Some((file, serde_json::Value::Object(m))) => (Some(file), m),
        _ => (None, &empty),
    };
    let mut bound = HashMap::new();
    let mut diags = Vec::new();
    for (i, g) in ir.globals.iter().enumerate() {
        let GlobalKind::Data { default } = &g.kind else {
            continue;
        };
        match object.get(&g.name) {
            Some(json) => match data_value_from_json(&g.ty, json, &g.name) {
                Ok(v) => {
                    bound.insert(GlobalId(i as u32), v);
                }
                Err(msg) => {
                    let mut d =
                        Diagnostic::error(format!("ill-typed value for data item `{}`", g.name))
                            .with_code("E0503")
                            .with_primary(g.span, format!("declared as {} here", g.ty));
                    if let Some(f) = file {
                        d = d.with_secondary(key_span(sources, f, &g.name), msg.clone());
                    }
                    diags.push(d.with_note(msg));
                }
            },
            None if default.is_none() => diags.push(
                Diagnostic::error(format!(
                    "missing value for data item `{}: {}`",
                    g.name, g.ty
                ))
                .with_code("E0504")
                .with_primary(g.span, "declared here without a default")
                .with_help(match file {
                    Some(f) => format!("add a key \"{}\" to {}", g.name, sources.name(f)),
                    None => format!(
                        "pass a JSON file with a key \"{}\": `--data FILE.json`",
                        g.name
                    ),
                }),
            ),
            None => {}
        }
    }
    let known: Vec<&str> = ir
        .globals
        .iter()
        .filter(|g| matches!(g.kind, GlobalKind::Data { .. }))
        .map(|g| g.name.as_str())
        .collect();
    for key in object.keys() {
        if !known.contains(&key.as_str()) {
            let file = file.expect("keys come from a file");
            let mut d = Diagnostic::error(format!(
                "data file has a value `{key}` that matches no `data` item"
            ))
            .with_code("E0505")
            .with_primary(key_span(sources, file, key), "not declared in the program");
            d = match known.is_empty() {
                true => d.with_help(format!("declare it in the program: `data {key}: TYPE;`")),
                false => d.with_note(format!(
                    "the program's data items are: {}",
                    known.join(", ")
                )),
            };
            diags.push(d);
        }
    }
    if diags.is_empty() {
        Ok(bound)
    } else {
        Err(diags)
    }
}
