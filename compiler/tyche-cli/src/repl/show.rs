//! How the REPL prints values: Tyche literals (strings quoted, reals with
//! a decimal point), distributions as their constructor call, long arrays
//! cut short, and posteriors as `tyche_report` summaries with bars.

use std::fmt::Write;
use tyche_dist::Dist;
use tyche_ir::Type;
use tyche_vm::{DistValue, Posterior, Value};

/// Array elements printed before `… (N more)`.
const MAX_ELEMS: usize = 50;
/// Width of the summary bars.
const BAR_WIDTH: usize = 60;

/// A value on one line.
pub(crate) fn value(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v);
    out
}

/// [`value`] following the value's type: a record (a tuple at run time)
/// prints as `{mu: 1.0, tau: 2.0}`, at any depth.
pub(crate) fn typed_value(v: &Value, ty: &Type) -> String {
    let mut out = String::new();
    write_typed(&mut out, v, ty);
    out
}

fn write_typed(out: &mut String, v: &Value, ty: &Type) {
    match (v, ty) {
        (Value::Tuple(xs), Type::Record(fs)) if xs.len() == fs.len() => {
            out.push('{');
            for (i, (x, (n, t))) in xs.iter().zip(fs).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(n);
                out.push_str(": ");
                write_typed(out, x, t);
            }
            out.push('}');
        }
        (Value::Tuple(xs), Type::Tuple(ts)) if xs.len() == ts.len() => {
            out.push('(');
            for (i, (x, t)) in xs.iter().zip(ts).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_typed(out, x, t);
            }
            out.push(')');
        }
        (Value::Array(xs), Type::Array(t)) if xs.len() <= MAX_ELEMS && has_record(t) => {
            out.push('[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_typed(out, x, t);
            }
            out.push(']');
        }
        _ => write_value(out, v),
    }
}

fn has_record(t: &Type) -> bool {
    match t {
        Type::Record(_) => true,
        Type::Array(e) => has_record(e),
        Type::Tuple(ts) => ts.iter().any(has_record),
        _ => false,
    }
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Str(s) => write_str_literal(out, s),
        Value::Array(xs) => write_seq(out, "[", xs, "]"),
        Value::Tuple(xs) => write_seq(out, "(", xs, ")"),
        Value::Dist(d) => match &**d {
            DistValue::Prim(d) => out.push_str(&dist(d)),
            DistValue::Posterior(p) => {
                let _ = write!(
                    out,
                    "<posterior over {} value{}>",
                    p.values.len(),
                    plural(p.values.len())
                );
            }
        },
        Value::Method(m) if m.n == 0 => out.push_str(&method_name(m.kind.name())),
        Value::Method(m) => {
            let _ = write!(out, "{}({})", method_name(m.kind.name()), m.n);
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// `smc` → `Smc`: methods print as the constructors that make them.
fn method_name(lower: &str) -> String {
    let mut cs = lower.chars();
    cs.next()
        .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
        .unwrap_or_default()
}

fn write_seq(out: &mut String, open: &str, xs: &[Value], close: &str) {
    out.push_str(open);
    for (i, x) in xs.iter().take(MAX_ELEMS).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_value(out, x);
    }
    if xs.len() > MAX_ELEMS {
        let _ = write!(out, ", … ({} more)", xs.len() - MAX_ELEMS);
    }
    if open == "(" && xs.len() == 1 {
        out.push(',');
    }
    out.push_str(close);
}

fn write_str_literal(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn real(x: f64) -> String {
    format!("{x:?}")
}

fn reals(xs: &[f64]) -> String {
    format!(
        "[{}]",
        xs.iter().map(|x| real(*x)).collect::<Vec<_>>().join(", ")
    )
}

/// A primitive distribution as the constructor call that makes it.
pub(crate) fn dist(d: &Dist) -> String {
    let args = match d {
        Dist::Normal { mu, sigma, .. } | Dist::LogNormal { mu, sigma, .. } => {
            vec![real(*mu), real(*sigma)]
        }
        Dist::Uniform { lo, hi, .. } => vec![real(*lo), real(*hi)],
        Dist::Beta { a, b, .. } => vec![real(*a), real(*b)],
        Dist::Gamma { shape, rate, .. } => vec![real(*shape), real(*rate)],
        Dist::InvGamma { shape, scale, .. } => vec![real(*shape), real(*scale)],
        Dist::Exponential { rate, .. } | Dist::Poisson { rate, .. } => vec![real(*rate)],
        Dist::Cauchy { loc, scale, .. } => vec![real(*loc), real(*scale)],
        Dist::StudentT { nu, mu, sigma, .. } => vec![real(*nu), real(*mu), real(*sigma)],
        Dist::Bernoulli { p, .. } | Dist::Geometric { p, .. } => vec![real(*p)],
        Dist::Binomial { n, p, .. } => vec![n.to_string(), real(*p)],
        Dist::Categorical { ps, .. } => vec![reals(ps)],
        Dist::DiscreteUniform { lo, hi, .. } => vec![lo.to_string(), hi.to_string()],
        Dist::Dirichlet { alpha, .. } => vec![reals(alpha)],
        Dist::MvNormal { mu, cov, .. } => {
            let rows: Vec<String> = (0..cov.nrows())
                .map(|i| reals(&(0..cov.ncols()).map(|j| cov[(i, j)]).collect::<Vec<_>>()))
                .collect();
            vec![reals(mu), format!("[{}]", rows.join(", "))]
        }
        Dist::MvNormalCholesky { mu, chol, .. } => {
            let rows: Vec<String> = chol.iter().map(|r| reals(r)).collect();
            vec![reals(mu), format!("[{}]", rows.join(", "))]
        }
        // A registry-only family: its parameters as the registry types them.
        Dist::Family { kind, params, .. } => kind
            .family()
            .params
            .iter()
            .zip(params)
            .map(|(p, &x)| match p.ty {
                tyche_dist::family::Type::Int => (x as i64).to_string(),
                _ => real(x),
            })
            .collect(),
    };
    format!("{}({})", d.kind().name(), args.join(", "))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The posterior `p` of values of type `elem` as a multi-line summary:
/// a heading, then mean, sd, quantiles and a histogram for numbers, or a
/// probability table with bars for `Bool`, `Int` and `String`.
pub(crate) fn posterior(p: &Posterior, elem: &Type, ty_text: &str) -> String {
    let lws: Vec<f64> = p.probs.iter().map(|w| w.ln()).collect();
    let draws = tyche_report::Draws::weighted(&p.values, &lws);
    let text = tyche_report::to_text(&tyche_report::RunInfo::default(), elem, &draws, BAR_WIDTH);
    let mut facts = Vec::new();
    if p.exact {
        facts.push("exact".to_string());
    } else {
        facts.push(format!("{} draw{}", p.draws.len(), plural(p.draws.len())));
    }
    if let Some(le) = p.log_evidence {
        facts.push(format!("log evidence {le:.2}"));
    }
    let mut out = format!("posterior : {ty_text}   ({})\n", facts.join(", "));
    // Drop the run header `to_text` writes for `tyche run`: keep what
    // follows its `result:` line.
    for line in text
        .lines()
        .skip_while(|l| !l.starts_with("result:"))
        .skip(1)
    {
        out.push_str(line);
        out.push('\n');
    }
    out
}
