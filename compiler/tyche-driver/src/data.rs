//! Binding `data` items from JSON (`--data FILE.json`, LANGUAGE.md §10).
//!
//! Conversion is directed by the item's declared type, so `[1, 2]` becomes
//! `[Real]` or `[Int]` as declared. Every problem names the item, and
//! points at the declaration and, where it can, at the offending element
//! of the data file (found again in the text by [`element_span`], since
//! `serde_json::Value` keeps no positions). Keys are unique: a key given
//! twice is an error, not "the last one wins".

use crate::compile::Compiled;
use std::collections::HashMap;
use std::sync::Arc;
use tyche_core::{Diagnostic, FileId, SourceMap, Span};
use tyche_ir::{GlobalId, GlobalKind, Type};
use tyche_vm::Value;

/// Parses a data file's bytes: [`parse_data_file`] after checking that they
/// are UTF-8 (else an error at the first invalid byte, with its offset).
pub fn parse_data_bytes(
    sources: &mut SourceMap,
    name: &str,
    bytes: Vec<u8>,
) -> Result<(FileId, serde_json::Value), Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(text) => parse_data_file(sources, name, &text),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let byte = e.as_bytes()[at];
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = sources.add(name, text);
            // The lossy text matches the bytes up to `at`, where U+FFFD
            // (three bytes) stands for the invalid byte.
            Err(
                Diagnostic::error(format!("data file `{name}` is not UTF-8 text"))
                    .with_code("E0502")
                    .with_primary(
                        Span::new(file, at, at + 3),
                        format!("byte 0x{byte:02X} at offset {at} is not valid UTF-8"),
                    )
                    .with_help("save the file as UTF-8 (JSON text is UTF-8)"),
            )
        }
    }
}

/// Parses a data file, adding it to `sources` so errors can point into it.
/// A key given twice in one object is an error (E0506).
pub fn parse_data_file(
    sources: &mut SourceMap,
    name: &str,
    text: &str,
) -> Result<(FileId, serde_json::Value), Diagnostic> {
    let file = sources.add(name, text);
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v @ serde_json::Value::Object(_)) => match duplicate_key(text) {
            None => Ok((file, v)),
            Some((key, first, second)) => Err(Diagnostic::error(format!(
                "data file `{name}` gives the key \"{key}\" twice"
            ))
            .with_code("E0506")
            .with_primary(Span::new(file, second.0, second.1), "given again here")
            .with_secondary(Span::new(file, first.0, first.1), "first given here")
            .with_help("keep one of them: a data item has one value")),
        },
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

/// One step into a JSON value: an array element or a tuple component, or
/// a record field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Index(usize),
    /// A field of a record (a key of a JSON object).
    Key(String),
}

/// Converts a JSON value to a value of type `ty`; errors name the path
/// inside the value (`ys[3]`). Booleans must be JSON booleans (this is
/// the conversion of `--do`/`--observe` values); see
/// [`data_value_from_json`] for data items.
pub fn value_from_json(ty: &Type, json: &serde_json::Value, path: &str) -> Result<Value, String> {
    convert(ty, json, path, false, &mut Vec::new()).map_err(|(m, _)| m)
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
    convert(ty, json, path, true, &mut Vec::new()).map_err(|(m, _)| m)
}

/// [`data_value_from_json`], also giving the steps from `json` to the
/// element at fault (for [`element_span`]).
pub fn data_value_from_json_at(
    ty: &Type,
    json: &serde_json::Value,
    path: &str,
) -> Result<Value, (String, Vec<Step>)> {
    convert(ty, json, path, true, &mut Vec::new())
}

fn convert(
    ty: &Type,
    json: &serde_json::Value,
    path: &str,
    bool_from_01: bool,
    steps: &mut Vec<Step>,
) -> Result<Value, (String, Vec<Step>)> {
    use serde_json::Value as J;
    let fail = |msg: String, steps: &Vec<Step>| Err((msg, steps.clone()));
    let mismatch = || {
        let hint = if bool_from_01 && *ty == Type::Bool {
            " (a Bool is true, false, 1 or 0)"
        } else {
            ""
        };
        format!("`{path}` should be {ty}, found {}{hint}", describe(json))
    };
    Ok(match (ty, json) {
        (Type::Real, J::Number(n)) => match n.as_f64() {
            Some(x) => Value::Real(x),
            None => return fail(mismatch(), steps),
        },
        (Type::Int, J::Number(n)) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => match n.as_f64() {
                Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Value::Int(x as i64),
                // 2^63: beyond every Int.
                Some(x) if x.fract() == 0.0 && x.abs() >= 9.223_372_036_854_775_808e18 => {
                    return fail(
                        format!(
                            "`{path}` should be an Int, but {n} is beyond the range of Int \
                             ({} to {})",
                            i64::MIN,
                            i64::MAX
                        ),
                        steps,
                    )
                }
                Some(x) if x.fract() == 0.0 => {
                    return fail(
                        format!(
                            "`{path}` should be an Int, but {n} is written with a fraction or \
                             exponent and is too large to be exact; write it as an integer"
                        ),
                        steps,
                    )
                }
                _ => return fail(mismatch(), steps),
            },
        },
        (Type::Bool, J::Bool(b)) => Value::Bool(*b),
        (Type::Bool, J::Number(n)) if bool_from_01 => match n.as_u64() {
            Some(0) => Value::Bool(false),
            Some(1) => Value::Bool(true),
            _ => return fail(mismatch(), steps),
        },
        (Type::Str, J::String(s)) => Value::Str(Arc::from(s.as_str())),
        (Type::Unit, J::Null) => Value::Unit,
        (Type::Array(elem), J::Array(xs)) => {
            // A `[[Real]]` is a matrix (docs/language.md, "Vectors and
            // matrices"): its rows must have one length; the first row that
            // differs from row 0 is the error.
            if **elem == Type::Array(Box::new(Type::Real)) {
                let len = |x: &J| match x {
                    J::Array(r) => Some(r.len()),
                    _ => None,
                };
                if let Some(m) = xs.first().and_then(len) {
                    if let Some((i, n)) = xs
                        .iter()
                        .enumerate()
                        .find_map(|(i, x)| len(x).filter(|&n| n != m).map(|n| (i, n)))
                    {
                        steps.push(Step::Index(i));
                        return fail(
                            format!(
                                "`{path}` is a [[Real]], a matrix, but its row `{path}[{i}]` has \
                                 length {n} and row `{path}[0]` length {m}"
                            ),
                            steps,
                        );
                    }
                }
            }
            let mut out = Vec::with_capacity(xs.len());
            for (i, x) in xs.iter().enumerate() {
                steps.push(Step::Index(i));
                out.push(convert(
                    elem,
                    x,
                    &format!("{path}[{i}]"),
                    bool_from_01,
                    steps,
                )?);
                steps.pop();
            }
            Value::array(out)
        }
        (Type::Tuple(ts), J::Array(xs)) if ts.len() == xs.len() => {
            let mut out = Vec::with_capacity(xs.len());
            for (i, (t, x)) in ts.iter().zip(xs).enumerate() {
                steps.push(Step::Index(i));
                out.push(convert(t, x, &format!("{path}.{i}"), bool_from_01, steps)?);
                steps.pop();
            }
            Value::tuple(out)
        }
        (Type::Record(fs), J::Object(m)) => {
            // The first problem: a missing field, else one it does not have.
            if let Some((n, t)) = fs.iter().find(|(n, _)| !m.contains_key(n)) {
                return fail(
                    format!("`{path}` is missing the field `{n}` ({t}) of {ty}"),
                    steps,
                );
            }
            if let Some(k) = m.keys().find(|k| !fs.iter().any(|(n, _)| n == *k)) {
                steps.push(Step::Key(k.clone()));
                let known: Vec<&str> = fs.iter().map(|(n, _)| n.as_str()).collect();
                return fail(
                    format!(
                        "`{path}` has a field `{k}` that {ty} does not have (its fields are {})",
                        known.join(", ")
                    ),
                    steps,
                );
            }
            let mut out = Vec::with_capacity(fs.len());
            for (n, t) in fs {
                steps.push(Step::Key(n.clone()));
                out.push(convert(
                    t,
                    &m[n],
                    &format!("{path}.{n}"),
                    bool_from_01,
                    steps,
                )?);
                steps.pop();
            }
            Value::tuple(out)
        }
        (Type::Tuple(ts), J::Array(xs)) => {
            return fail(
                format!(
                    "`{path}` should be a {}-tuple {ty}, found an array of {} elements",
                    ts.len(),
                    xs.len()
                ),
                steps,
            )
        }
        _ => return fail(mismatch(), steps),
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
            Some(json) => match data_value_from_json_at(&g.ty, json, &g.name) {
                Ok(v) => {
                    bound.insert(GlobalId(i as u32), v);
                }
                Err((msg, steps)) => {
                    let mut d =
                        Diagnostic::error(format!("ill-typed value for data item `{}`", g.name))
                            .with_code("E0503")
                            .with_primary(g.span, format!("declared as {} here", g.ty));
                    if let Some(f) = file {
                        // The element at fault, else the key.
                        let span = element_span(sources.text(f), &g.name, &steps)
                            .map(|(s, e)| Span::new(f, s, e))
                            .unwrap_or_else(|| key_span(sources, f, &g.name));
                        d = d.with_secondary(span, msg.clone());
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

/// A scanner over JSON text that serde_json has already accepted: finds
/// the byte span of a value by path and duplicate object keys. Nesting is
/// bounded by serde_json's own limit (128), so recursion is shallow.
struct Scan<'t> {
    b: &'t [u8],
    i: usize,
}

impl Scan<'_> {
    /// At an object: the offset of the value of its member `key` (the last
    /// one given, as serde_json keeps; duplicates are refused before
    /// binding anyway).
    fn member(&mut self, key: &str) -> Option<usize> {
        let mut none = None;
        self.ws();
        if self.b.get(self.i) != Some(&b'{') {
            return None;
        }
        self.i += 1;
        let mut found = None;
        loop {
            self.ws();
            if self.b.get(self.i) == Some(&b'}') {
                break;
            }
            let k = self.string()?;
            self.ws();
            if self.b.get(self.i) != Some(&b':') {
                return None;
            }
            self.i += 1;
            self.ws();
            let at = self.i;
            self.value(&mut none)?;
            if key_text(&self.b[k.0..k.1]) == key {
                found = Some(at);
            }
            self.ws();
            match *self.b.get(self.i)? {
                b',' => self.i += 1,
                _ => break,
            }
        }
        found
    }
}

impl<'t> Scan<'t> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    /// Skips a string starting at `"`; returns its span (quotes included).
    fn string(&mut self) -> Option<(usize, usize)> {
        let start = self.i;
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some((start, self.i));
                }
                _ => self.i += 1,
            }
        }
        None
    }

    /// Skips one value; returns its span. With `dups`, reports the first
    /// object key given twice: (key, first span, second span).
    fn value(&mut self, dups: &mut Option<Dup>) -> Option<(usize, usize)> {
        self.ws();
        let start = self.i;
        match *self.b.get(self.i)? {
            b'"' => {
                self.string()?;
            }
            b'[' => {
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        self.value(dups)?;
                        self.ws();
                        match *self.b.get(self.i)? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut keys: Vec<(String, (usize, usize))> = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        let k = self.string()?;
                        let key = key_text(&self.b[k.0..k.1]);
                        if dups.is_none() {
                            if let Some((_, first)) = keys.iter().find(|(n, _)| *n == key) {
                                *dups = Some((key.clone(), *first, k));
                            }
                        }
                        keys.push((key, k));
                        self.ws();
                        if self.b.get(self.i) != Some(&b':') {
                            return None;
                        }
                        self.i += 1;
                        self.value(dups)?;
                        self.ws();
                        match *self.b.get(self.i)? {
                            b',' => self.i += 1,
                            b'}' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
            }
            _ => {
                // A number, `true`, `false` or `null`.
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    self.i += 1;
                }
            }
        }
        Some((start, self.i))
    }
}

type Dup = (String, (usize, usize), (usize, usize));

/// A key's text with escapes decoded (so `"a"` and `"\u0061"` are the same key).
fn key_text(quoted: &[u8]) -> String {
    let raw = String::from_utf8_lossy(quoted);
    serde_json::from_str::<String>(&raw).unwrap_or_else(|_| raw.into_owned())
}

/// The first key given twice in an object of `text` (valid JSON).
fn duplicate_key(text: &str) -> Option<Dup> {
    let mut dups = None;
    Scan {
        b: text.as_bytes(),
        i: 0,
    }
    .value(&mut dups)?;
    dups
}

/// The byte span, in a data file's `text` (a valid JSON object), of the
/// value of `key` followed down `steps` (array indices).
pub fn element_span(text: &str, key: &str, steps: &[Step]) -> Option<(usize, usize)> {
    let mut s = Scan {
        b: text.as_bytes(),
        i: 0,
    };
    let mut none = None;
    s.i = s.member(key)?;
    for step in steps {
        s.ws();
        match step {
            Step::Index(n) => {
                if s.b.get(s.i) != Some(&b'[') {
                    return None;
                }
                s.i += 1;
                for _ in 0..*n {
                    s.value(&mut none)?;
                    s.ws();
                    if s.b.get(s.i) != Some(&b',') {
                        return None;
                    }
                    s.i += 1;
                }
            }
            Step::Key(want) => s.i = s.member(want)?,
        }
        s.ws();
    }
    s.value(&mut none)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_spans_follow_the_path() {
        let text = r#"{"a": 1, "ys": [[1, 2], [3, "x", 5]], "b": {"c": [true]}}"#;
        let span = |k: &str, p: &[usize]| {
            let steps: Vec<Step> = p.iter().map(|&i| Step::Index(i)).collect();
            element_span(text, k, &steps).map(|(s, e)| &text[s..e])
        };
        assert_eq!(span("ys", &[1, 1]), Some("\"x\""));
        assert_eq!(span("ys", &[0]), Some("[1, 2]"));
        assert_eq!(span("a", &[]), Some("1"));
        assert_eq!(span("b", &[]), Some(r#"{"c": [true]}"#));
        assert_eq!(span("ys", &[7]), None);
        assert_eq!(span("zz", &[]), None);
    }

    #[test]
    fn duplicate_keys_are_found_at_any_depth() {
        assert_eq!(duplicate_key(r#"{"a": 1, "b": 2}"#), None);
        let text = r#"{"a": 1, "b": [{"x": 1}], "a": 2}"#;
        let (k, first, second) = duplicate_key(text).unwrap();
        assert_eq!((k.as_str(), first, second), ("a", (1, 4), (26, 29)));
        let (k, ..) = duplicate_key(r#"{"a": {"q": 1, "\u0071": 2}}"#).unwrap();
        assert_eq!(k, "q");
    }

    #[test]
    fn ints_beyond_i64_say_so() {
        for text in ["1e20", "18446744073709551615", "-1e19"] {
            let json: serde_json::Value = serde_json::from_str(text).unwrap();
            let e = value_from_json(&Type::Int, &json, "n").unwrap_err();
            assert!(e.contains("beyond the range of Int"), "{text}: {e}");
        }
        let json: serde_json::Value = serde_json::from_str("1.5").unwrap();
        let e = value_from_json(&Type::Int, &json, "n").unwrap_err();
        assert!(e.contains("found the number 1.5"), "{e}");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_located() {
        let mut sources = SourceMap::new();
        let d =
            parse_data_bytes(&mut sources, "d.json", b"{\"a\": \"\xff\"}".to_vec()).unwrap_err();
        assert!(d.message.contains("not UTF-8"), "{d:?}");
        assert_eq!(d.primary_span().map(|s| s.start), Some(7));
        assert!(d.labels[0].message.contains("0xFF at offset 7"), "{d:?}");
    }
}
