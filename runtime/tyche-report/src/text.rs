//! The human-readable summary `tyche run` prints (LANGUAGE.md §1).
//!
//! A header (model, method, seed, evidence, ESS, other run facts), then the
//! result: for numbers mean, sd, quantiles and a histogram; for `Bool`,
//! `Int` and `String` a probability table with bars; for arrays one line
//! per element; for tuples each component in turn. Numbers are shown to a
//! precision matched to their spread. Plain text with Unicode block bars,
//! no colour.

use std::fmt::Write;

use serde_json::Value as J;
use tyche_ir::Type;
use tyche_vm::Value;

use crate::summary::{summarize, table_stats, NumberSummary, Summary};
use crate::{Draws, RunInfo};

/// Table rows shown before "… N more".
const TABLE_ROWS: usize = 15;
/// Array element lines shown before "… N more".
const ELEMENT_ROWS: usize = 20;
/// Partial block characters for 1/8 … 7/8 of a cell.
const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
/// Extra keys shown in the method's parentheses, with their unit.
const METHOD_PARAMS: [(&str, &str); 4] = [
    ("chains", "chains"),
    ("particles", "particles"),
    ("samples", "samples"),
    ("burn", "burn-in"),
];

/// The text summary of a run; bars are sized to fit `width` columns.
pub fn to_text(info: &RunInfo, ty: &Type, draws: &Draws, width: usize) -> String {
    let mut out = String::new();
    header(info, &mut out);
    let n = draws.values.len();
    // MCMC and rejection draws come with equal (zero) log weights: they
    // are plain draws.
    let weighted = draws
        .log_weights
        .is_some_and(|w| w.iter().any(|x| x.to_bits() != w[0].to_bits()));
    let kind = if weighted { "weighted draw" } else { "draw" };
    let _ = writeln!(
        out,
        "result: {ty}   ({n} {kind}{})",
        if n == 1 { "" } else { "s" }
    );
    let summary = summarize(ty, draws);
    if summary == Summary::Empty {
        let why = if n == 0 {
            "the method produced no draws"
        } else {
            "every draw has zero weight (all log weights are -inf), so the observations may be impossible under the model"
        };
        let _ = writeln!(out, "  no result: {why}");
    } else {
        Renderer {
            out: &mut out,
            width,
        }
        .render(&summary, ty, "result", 2);
    }
    out
}

/// Header lines: model, method and seed; then evidence, ESS and the rest.
fn header(info: &RunInfo, out: &mut String) {
    let params: Vec<String> = METHOD_PARAMS
        .iter()
        .filter_map(|(key, unit)| info.extra.get(*key).map(|v| format!("{} {unit}", brief(v))))
        .collect();
    let params = if params.is_empty() {
        String::new()
    } else {
        format!(" ({})", params.join(", "))
    };
    let _ = writeln!(
        out,
        "model: {}   method: {}{params}   seed: {}",
        info.model, info.method, info.seed
    );

    if let Some(J::String(why)) = info.extra.get("method_reason") {
        let _ = writeln!(out, "why: {why}");
    }
    let mut facts = Vec::new();
    if let Some(le) = info.log_evidence {
        facts.push(format!("log evidence: {}", fixed(le, 2)));
    }
    if let Some(ess) = info.ess {
        facts.push(format!("ESS: {}", fixed(ess, 1)));
    }
    if let Some(b) = &info.backend {
        facts.push(format!("backend: {b}"));
    }
    for (k, v) in &info.extra {
        if METHOD_PARAMS.iter().any(|(p, _)| p == k) || SHOWN_APART.contains(&k.as_str()) {
            continue;
        }
        let label = if k == "rhat" {
            "R-hat".to_string()
        } else {
            k.replace('_', " ")
        };
        facts.push(format!("{label}: {}", brief(v)));
    }
    if !facts.is_empty() {
        let _ = writeln!(out, "{}", facts.join("   "));
    }
    diagnostics_table(info, out);
    if let Some(J::Array(ws)) = info.extra.get("warnings") {
        for w in ws.iter().filter_map(|w| w.as_str()) {
            let _ = writeln!(out, "warning: {w}");
        }
    }
    out.push('\n');
}

/// Extra keys with a presentation of their own.
const SHOWN_APART: [&str; 3] = ["method_reason", "warnings", "diagnostics"];

/// At most this many quantities get a row in the diagnostics table.
const DIAGNOSTIC_ROWS: usize = 12;

/// R-hat and ESS per quantity (MCMC), worst R-hat first.
fn diagnostics_table(info: &RunInfo, out: &mut String) {
    let Some(J::Array(qs)) = info.extra.get("diagnostics") else {
        return;
    };
    let num = |q: &J, k: &str| q.get(k).and_then(J::as_f64);
    let mut rows: Vec<&J> = qs.iter().collect();
    rows.sort_by(|a, b| {
        let (x, y) = (num(a, "rhat").unwrap_or(0.0), num(b, "rhat").unwrap_or(0.0));
        y.total_cmp(&x)
    });
    let width = rows
        .iter()
        .take(DIAGNOSTIC_ROWS)
        .filter_map(|q| q.get("name").and_then(J::as_str))
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let _ = writeln!(
        out,
        "  {:<width$}  {:>6}  {:>8}  {:>8}",
        "quantity", "R-hat", "ESS bulk", "ESS tail"
    );
    let cell =
        |x: Option<f64>, digits: usize| x.map_or("-".to_string(), |v| format!("{v:.digits$}"));
    for q in rows.iter().take(DIAGNOSTIC_ROWS) {
        let name = q.get("name").and_then(J::as_str).unwrap_or("?");
        let _ = writeln!(
            out,
            "  {name:<width$}  {:>6}  {:>8}  {:>8}",
            cell(num(q, "rhat"), 3),
            cell(num(q, "ess_bulk"), 0),
            cell(num(q, "ess_tail"), 0)
        );
    }
    if rows.len() > DIAGNOSTIC_ROWS {
        let _ = writeln!(
            out,
            "  … {} more (all in --format json's \"diagnostics\")",
            rows.len() - DIAGNOSTIC_ROWS
        );
    }
}

/// A JSON extra value in a few characters.
fn brief(v: &J) -> String {
    match v {
        J::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if x != 0.0 && x.abs() < 1e-3 {
                format!("{x:.3e}")
            } else {
                fixed(x, 3)
            }
        }
        J::String(s) => s.clone(),
        J::Array(xs) => format!("[{}]", xs.iter().map(brief).collect::<Vec<_>>().join(", ")),
        J::Null => "-".into(),
        other => other.to_string(),
    }
}

struct Renderer<'o> {
    out: &'o mut String,
    width: usize,
}

impl Renderer<'_> {
    fn line(&mut self, indent: usize, s: &str) {
        let _ = writeln!(self.out, "{:indent$}{s}", "");
    }

    /// Renders a (non-empty) summary of type `ty` at `indent`; `path` names
    /// it (`result`, `result.1`) in component headings.
    fn render(&mut self, s: &Summary, ty: &Type, path: &str, indent: usize) {
        match s {
            Summary::Number(n) => {
                self.moments(n, indent, false);
                self.histogram(n, indent);
            }
            Summary::Table(t) => {
                if let (Some((Value::Int(_), _)), Some(n)) = (t.first(), table_stats(t)) {
                    self.moments(&n, indent, true);
                }
                self.table(t, indent);
            }
            Summary::Array(xs) if xs.is_empty() => self.line(indent, "always the empty array"),
            Summary::Array(_) => self.elements(s, ty, indent),
            Summary::Tuple(xs) => {
                for (i, x) in xs.iter().enumerate() {
                    let t = component(ty, i);
                    let p = format!("{path}.{}", component_label(ty, i));
                    self.line(indent, &format!("{p}: {t}"));
                    self.render(x, &t, &p, indent + 2);
                }
            }
            Summary::Unit => self.line(indent, "always ()"),
            Summary::Opaque => self.line(indent, opaque_note(ty)),
            Summary::Empty => self.line(indent, "no result"),
        }
    }

    /// `mean … sd …` and the quantile line.
    fn moments(&mut self, n: &NumberSummary, indent: usize, int: bool) {
        let d = decimals(n);
        self.line(
            indent,
            &format!("mean {}   sd {}", num(n.mean, d), num(n.sd, d)),
        );
        let q = |x: f64| if int { fixed(x, 0) } else { num(x, d) };
        let labels = ["5%", "25%", "50%", "75%", "95%"];
        let parts: Vec<String> = labels
            .iter()
            .zip(n.quantiles)
            .map(|(l, x)| format!("{l:<4}{}", q(x)))
            .collect();
        self.line(indent, &parts.join("   "));
    }

    /// Vertical-bin histogram: lower edge, probability, bar.
    fn histogram(&mut self, n: &NumberSummary, indent: usize) {
        if n.histogram.len() < 2 {
            return;
        }
        let step = n.histogram[0].hi - n.histogram[0].lo;
        let d = step_decimals(step);
        let labels: Vec<String> = n.histogram.iter().map(|b| num(b.lo, d)).collect();
        let probs: Vec<f64> = n.histogram.iter().map(|b| b.prob).collect();
        self.bars(&labels, &probs, indent, true);
    }

    /// Probability table, the most probable rows if there are many.
    fn table(&mut self, t: &[(Value, f64)], indent: usize) {
        let mut shown: Vec<&(Value, f64)> = t.iter().collect();
        if t.len() > TABLE_ROWS {
            shown.sort_by(|a, b| b.1.total_cmp(&a.1));
            shown.truncate(TABLE_ROWS);
            shown.sort_by(|a, b| crate::summary::cmp_values(&a.0, &b.0));
        }
        let labels: Vec<String> = shown
            .iter()
            .map(|(v, _)| match v {
                Value::Str(s) => format!("{:?}", clip(s)),
                other => clip(&other.to_string()),
            })
            .collect();
        let probs: Vec<f64> = shown.iter().map(|e| e.1).collect();
        let right = matches!(t.first(), Some((Value::Int(_), _)));
        self.bars(&labels, &probs, indent, right);
        if t.len() > TABLE_ROWS {
            let rest = 1.0 - probs.iter().sum::<f64>();
            let more = t.len() - TABLE_ROWS;
            self.line(
                indent,
                &format!(
                    "… {more} more values (total probability {})",
                    fixed(rest.max(0.0), 3)
                ),
            );
        }
    }

    /// Rows `label  prob  bar`, bars relative to the largest probability.
    fn bars(&mut self, labels: &[String], probs: &[f64], indent: usize, right: bool) {
        let lw = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let bw = self.width.saturating_sub(indent + lw + 9).clamp(10, 40);
        let top = probs.iter().copied().fold(0.0, f64::max);
        for (l, &p) in labels.iter().zip(probs) {
            let label = pad(l, lw, right);
            let b = bar(if top > 0.0 { p / top } else { 0.0 }, bw);
            self.line(indent, format!("{label}  {}  {b}", fixed(p, 3)).trim_end());
        }
    }

    /// One line per scalar element (first [`ELEMENT_ROWS`]), as columns.
    fn elements(&mut self, s: &Summary, ty: &Type, indent: usize) {
        let mut leaves = Vec::new();
        let total = collect_leaves(s, ty, String::new(), &mut leaves);
        let rows: Vec<(String, Row)> = leaves
            .into_iter()
            .map(|(label, s, t)| (label, row(s, &t)))
            .collect();
        let lw = rows
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        let heads = ["mean", "sd", "5%", "50%", "95%"];
        let mut cw = heads.map(str::len);
        for (_, r) in &rows {
            if let Row::Stats(cells) = r {
                for (w, c) in cw.iter_mut().zip(cells) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
        let join = |cells: &[String; 5]| {
            cells
                .iter()
                .zip(cw)
                .map(|(c, w)| pad(c, w, true))
                .collect::<Vec<_>>()
                .join("  ")
        };
        self.line(
            indent,
            &format!("{}  {}", pad("", lw, false), join(&heads.map(String::from))),
        );
        for (label, r) in &rows {
            let body = match r {
                Row::Stats(cells) => join(cells),
                Row::Note(note) => note.clone(),
            };
            self.line(indent, &format!("{}  {body}", pad(label, lw, false)));
        }
        if total > rows.len() {
            self.line(indent, &format!("… {} more", total - rows.len()));
        }
    }
}

/// The longest value label a table shows, in characters: longer ones
/// (a `String` result of any length) are cut with `…`.
const MAX_LABEL: usize = 60;

/// `label` cut to [`MAX_LABEL`] characters.
fn clip(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL {
        return label.to_string();
    }
    let mut cut: String = label.chars().take(MAX_LABEL - 1).collect();
    cut.push('…');
    cut
}

/// `s` padded with spaces to `width` characters (on the left when
/// `right`-aligned). Not `format!("{s:>width$}")`: a width argument
/// beyond 65,535 panics in `std::fmt`.
fn pad(s: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(s.chars().count()));
    if right {
        fill + s
    } else {
        format!("{s}{fill}")
    }
}

/// An element line: five statistics, or a note for non-numeric elements.
enum Row {
    Stats([String; 5]),
    Note(String),
}

fn row(s: &Summary, ty: &Type) -> Row {
    match s {
        Summary::Number(n) => {
            let d = decimals(n);
            Row::Stats(
                [n.mean, n.sd, n.quantiles[0], n.quantiles[2], n.quantiles[4]].map(|x| num(x, d)),
            )
        }
        Summary::Table(t) => match (t.first(), table_stats(t)) {
            (Some((Value::Bool(_), _)), Some(n)) => {
                let b = |x: f64| (x != 0.0).to_string();
                Row::Stats([
                    fixed(n.mean, 3),
                    fixed(n.sd, 3),
                    b(n.quantiles[0]),
                    b(n.quantiles[2]),
                    b(n.quantiles[4]),
                ])
            }
            (_, Some(n)) => {
                let d = decimals(&n);
                let i = |x: f64| fixed(x, 0);
                Row::Stats([
                    num(n.mean, d),
                    num(n.sd, d),
                    i(n.quantiles[0]),
                    i(n.quantiles[2]),
                    i(n.quantiles[4]),
                ])
            }
            (_, None) => match t.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
                Some((Value::Str(v), p)) => {
                    Row::Note(format!("most likely {:?} ({})", &**v, fixed(*p, 3)))
                }
                Some((v, p)) => Row::Note(format!("most likely {v} ({})", fixed(*p, 3))),
                None => Row::Note("-".into()),
            },
        },
        Summary::Unit => Row::Note("always ()".into()),
        Summary::Array(_) => Row::Note("always the empty array".into()),
        _ => Row::Note(opaque_note(ty).into()),
    }
}

/// Collects the first [`ELEMENT_ROWS`] scalar leaves of an array/tuple
/// summary with labels like `[2].1`; returns the total number of leaves.
fn collect_leaves<'s>(
    s: &'s Summary,
    ty: &Type,
    label: String,
    out: &mut Vec<(String, &'s Summary, Type)>,
) -> usize {
    match s {
        Summary::Array(xs) | Summary::Tuple(xs) if !xs.is_empty() => {
            let is_array = matches!(s, Summary::Array(_));
            let mut total = 0;
            for (i, x) in xs.iter().enumerate() {
                let (l, t) = if is_array {
                    (format!("{label}[{i}]"), element(ty))
                } else {
                    (
                        format!("{label}.{}", component_label(ty, i)),
                        component(ty, i),
                    )
                };
                total += collect_leaves(x, &t, l, out);
            }
            total
        }
        _ => {
            if out.len() < ELEMENT_ROWS {
                out.push((label, s, ty.clone()));
            }
            1
        }
    }
}

fn element(ty: &Type) -> Type {
    match ty {
        Type::Array(t) => (**t).clone(),
        _ => Type::Var(0),
    }
}

fn component(ty: &Type, i: usize) -> Type {
    match ty {
        Type::Tuple(ts) => ts.get(i).cloned().unwrap_or(Type::Var(0)),
        Type::Record(fs) => fs.get(i).map_or(Type::Var(0), |(_, t)| t.clone()),
        _ => Type::Var(0),
    }
}

/// A component's name after `.`: a record's field name, else its position.
fn component_label(ty: &Type, i: usize) -> String {
    match ty {
        Type::Record(fs) => fs.get(i).map_or_else(|| i.to_string(), |(n, _)| n.clone()),
        _ => i.to_string(),
    }
}

fn opaque_note(ty: &Type) -> &'static str {
    match ty {
        Type::Array(_) => "arrays of different lengths: not summarised element-wise",
        Type::Fn(..) => "functions are not summarised",
        Type::Dist(_) => "distributions are not summarised",
        _ => "not summarised",
    }
}

/// A bar `frac` (0…1) of `width` cells long, in eighths; never empty for
/// a positive fraction.
fn bar(frac: f64, width: usize) -> String {
    let mut eighths = (frac.clamp(0.0, 1.0) * (width * 8) as f64).round() as usize;
    if frac > 0.0 && eighths == 0 {
        eighths = 1;
    }
    let mut s = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        s.push(EIGHTHS[eighths % 8]);
    }
    s
}

/// Decimals for a number summary: three significant digits of the sd (or
/// of the mean when the sd is zero).
fn decimals(n: &NumberSummary) -> usize {
    let scale = if n.sd > 0.0 && n.sd.is_finite() {
        n.sd
    } else {
        n.mean.abs()
    };
    if !(scale > 0.0 && scale.is_finite()) {
        return 2;
    }
    (2 - scale.log10().floor() as i64).clamp(0, 6) as usize
}

/// Decimals that show histogram edges `step` apart exactly.
fn step_decimals(step: f64) -> usize {
    if !(step > 0.0 && step.is_finite()) {
        return 2;
    }
    let k = (step.log10() + 1e-9).floor() as i64;
    let m = step / 10f64.powi(k as i32);
    let extra = usize::from((m - 2.5).abs() < 1e-6);
    ((-k).max(0) as usize + extra).min(12)
}

/// `x` with `d` decimals, or in scientific notation when very large or
/// too small for `d` decimals.
fn num(x: f64, d: usize) -> String {
    let a = x.abs();
    if x != 0.0 && x.is_finite() && (a >= 1e7 || a < 0.5 * 10f64.powi(-(d as i32))) {
        format!("{x:.3e}")
    } else {
        fixed(x, d)
    }
}

/// `x` with `d` decimals, without a minus sign on a rounded zero.
fn fixed(x: f64, d: usize) -> String {
    let s = format!("{x:.d$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> RunInfo {
        let mut info = RunInfo {
            model: "model".into(),
            method: "smc".into(),
            seed: 42,
            ..RunInfo::default()
        };
        info.log_evidence = Some(-12.3412);
        info.ess = Some(812.54);
        info.extra.insert("particles".into(), J::from(1000));
        info
    }

    #[test]
    fn real_result_snapshot() {
        let xs = [0.61, 0.72, 0.43, 0.95, 0.68, 0.71, 0.83, 0.77, 0.52, 0.66];
        let vals: Vec<Value> = xs.iter().map(|&x| Value::Real(x)).collect();
        let text = to_text(&info(), &Type::Real, &Draws::unweighted(&vals), 60);
        let expected = "\
model: model   method: smc (1000 particles)   seed: 42
log evidence: -12.34   ESS: 812.5

result: Real   (10 draws)
  mean 0.688   sd 0.141
  5%  0.430   25% 0.610   50% 0.680   75% 0.770   95% 0.950
  0.40  0.100  ████████████████████
  0.45  0.000
  0.50  0.100  ████████████████████
  0.55  0.000
  0.60  0.100  ████████████████████
  0.65  0.200  ████████████████████████████████████████
  0.70  0.200  ████████████████████████████████████████
  0.75  0.100  ████████████████████
  0.80  0.100  ████████████████████
  0.85  0.000
  0.90  0.000
  0.95  0.100  ████████████████████
";
        assert_eq!(text, expected, "\n{text}");
    }

    #[test]
    fn bool_result_snapshot() {
        let vals: Vec<Value> = [true, false, true, true, false].map(Value::Bool).to_vec();
        let lw = [0.0, 0.0, 0.0, 0.0, f64::NEG_INFINITY];
        let info = RunInfo {
            model: "coin".into(),
            method: "importance".into(),
            seed: 7,
            ..RunInfo::default()
        };
        let text = to_text(&info, &Type::Bool, &Draws::weighted(&vals, &lw), 41);
        let expected = "\
model: coin   method: importance   seed: 7

result: Bool   (5 weighted draws)
  false  0.250  ████████▍
  true   0.750  █████████████████████████
";
        assert_eq!(text, expected, "\n{text}");
    }

    #[test]
    fn int_tables_show_the_most_probable_values() {
        let vals: Vec<Value> = (0..40)
            .flat_map(|i| vec![Value::Int(i); 1 + (i as usize % 3)])
            .collect();
        let text = to_text(
            &RunInfo::default(),
            &Type::Int,
            &Draws::unweighted(&vals),
            80,
        );
        assert!(text.contains("mean "), "{text}");
        assert!(
            text.contains("… 25 more values (total probability "),
            "{text}"
        );
        let rows = text.lines().filter(|l| l.contains('█')).count();
        assert_eq!(rows, 15, "{text}");
    }

    #[test]
    fn arrays_have_one_line_per_element() {
        let vals: Vec<Value> = (0..4)
            .map(|d| {
                Value::array(
                    (0..25)
                        .map(|i| Value::Real(f64::from(i) + f64::from(d) * 0.5))
                        .collect(),
                )
            })
            .collect();
        let text = to_text(
            &RunInfo::default(),
            &Type::array(Type::Real),
            &Draws::unweighted(&vals),
            80,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines.iter().any(|l| l.trim_start().starts_with("[0] ")),
            "{text}"
        );
        assert!(
            lines.iter().any(|l| l.trim_start().starts_with("[19]")),
            "{text}"
        );
        assert!(!text.contains("[20]"), "{text}");
        assert!(text.contains("… 5 more"), "{text}");
        assert!(
            lines
                .iter()
                .any(|l| l.contains("mean") && l.contains("95%")),
            "{text}"
        );
    }

    #[test]
    fn tuples_render_each_component() {
        let vals = vec![
            Value::tuple(vec![Value::Real(1.0), Value::Bool(true)]),
            Value::tuple(vec![Value::Real(2.0), Value::Bool(false)]),
        ];
        let ty = Type::Tuple(vec![Type::Real, Type::Bool]);
        let text = to_text(&RunInfo::default(), &ty, &Draws::unweighted(&vals), 80);
        assert!(
            text.contains(
                "result: (Real, Bool)   (2 draws)\n  result.0: Real\n    mean 1.500   sd 0.500\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  result.1: Bool\n    false  0.500  "),
            "{text}"
        );
    }

    /// Issue 14 item 4: a `String` result of 70,000 characters (from a
    /// `data s: String;` item) panicked in `format!` ("Formatting argument
    /// out of range"); its label is cut to [`MAX_LABEL`] characters.
    #[test]
    fn very_long_string_results_are_cut() {
        let long: Value = Value::Str("x".repeat(70_000).into());
        let vals = vec![long, Value::Str("short".into())];
        let text = to_text(&info(), &Type::Str, &Draws::unweighted(&vals), 60);
        let longest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(longest < 120, "a line of {longest} characters:\n{text}");
        assert!(text.contains("xxx…\""), "{text}");
        assert!(text.contains("\"short\""), "{text}");
    }

    #[test]
    fn zero_weight_runs_say_so() {
        let vals = vec![Value::Real(1.0)];
        let lw = [f64::NEG_INFINITY];
        let text = to_text(
            &RunInfo::default(),
            &Type::Real,
            &Draws::weighted(&vals, &lw),
            80,
        );
        assert!(
            text.contains("no result: every draw has zero weight"),
            "{text}"
        );
    }

    #[test]
    fn number_formatting() {
        assert_eq!(fixed(-0.0001, 3), "0.000");
        assert_eq!(num(1.5e9, 2), "1.500e9");
        assert_eq!(num(2e-9, 3), "2.000e-9");
        assert_eq!(step_decimals(0.1), 1);
        assert_eq!(step_decimals(0.025), 3);
        assert_eq!(step_decimals(50.0), 0);
        assert_eq!(bar(1.0, 3), "███");
        assert_eq!(bar(0.5, 3), "█▌");
        assert_eq!(bar(1e-9, 3), "▏");
    }
}
