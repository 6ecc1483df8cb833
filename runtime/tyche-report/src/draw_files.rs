//! `tyche summary FILES…`: reading draws back from Tyche's `--output` CSV
//! or CmdStan CSV files (Tyche's `--output-format cmdstan` or CmdStan's
//! own) and summarising each parameter like CmdStan's `stansummary`: mean,
//! MCSE, sd, 5/50/95% quantiles, bulk and tail ESS and rank-normalised
//! R-hat (`tyche_infer::stats`, ArviZ's definitions).
//!
//! A CmdStan file is one chain (files in the order given); a Tyche file
//! numbers its chains in its `chain` column (chains of later files follow
//! those of earlier ones). Sampler columns (`…__`) are not parameters;
//! `log_weight__` (CmdStan) or `log_weight`/`weight` (Tyche) weigh the
//! draws when they differ: then mean, sd and quantiles are weighted, the
//! ESS is Kish's and there is no tail ESS or R-hat. Booleans count as 0/1;
//! columns holding other text are left out; empty cells and `nan` are
//! missing draws, dropped from their chain.

use std::fmt::Write as _;

use serde_json::{json, Map, Value as J};
use tyche_infer::stats;
use tyche_vm::Value as VmValue;

use crate::csv::{log_weight_of, DrawTable};
use crate::Draws;

/// One parameter's draws, one vector per chain (with the log weights of
/// the same draws when the draws are weighted).
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub chains: Vec<Vec<f64>>,
    pub log_weights: Option<Vec<Vec<f64>>>,
}

/// The summary of one parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterSummary {
    pub name: String,
    pub draws: usize,
    pub chains: usize,
    pub weighted: bool,
    pub mean: f64,
    pub mcse: Option<f64>,
    pub sd: f64,
    pub q5: f64,
    pub q50: f64,
    pub q95: f64,
    pub ess_bulk: Option<f64>,
    pub ess_tail: Option<f64>,
    pub rhat: Option<f64>,
    /// The draws are every execution path weighted by its probability
    /// (enumeration): the statistics are exact, with no Monte Carlo error.
    pub exact: bool,
}

impl ParameterSummary {
    /// The same summary of an exact run: no MCSE or ESS to report.
    pub fn exact(self) -> ParameterSummary {
        ParameterSummary {
            exact: true,
            mcse: None,
            ess_bulk: None,
            ess_tail: None,
            rhat: None,
            ..self
        }
    }
}

/// Reads the parameters of draw files given as (name, text) pairs. An
/// error names the file and line of what cannot be read.
pub fn read_draw_files(files: &[(String, String)]) -> Result<Vec<Parameter>, String> {
    let mut params: Vec<Parameter> = Vec::new();
    let mut chain_base = 0;
    for (file, text) in files {
        let parsed = read_one(file, text)?;
        let weighted = parsed
            .weights
            .iter()
            .any(|w| w.to_bits() != parsed.weights[0].to_bits());
        let chains = parsed.chain_ids.iter().copied().max().map_or(0, |c| c + 1);
        for (k, name) in parsed.names.iter().enumerate() {
            if parsed.text_columns[k] {
                continue;
            }
            let at = match params.iter().position(|p| &p.name == name) {
                Some(i) => i,
                None => {
                    params.push(Parameter {
                        name: name.clone(),
                        chains: Vec::new(),
                        log_weights: None,
                    });
                    params.len() - 1
                }
            };
            let p = &mut params[at];
            p.chains.resize(chain_base + chains, Vec::new());
            if weighted {
                let lw = p.log_weights.get_or_insert_with(Vec::new);
                lw.resize(chain_base + chains, Vec::new());
            }
            for (r, row) in parsed.rows.iter().enumerate() {
                if let Some(x) = row[k].filter(|x| !x.is_nan()) {
                    let c = chain_base + parsed.chain_ids[r];
                    p.chains[c].push(x);
                    if let Some(lw) = &mut p.log_weights {
                        lw.resize(chain_base + chains, Vec::new());
                        lw[c].push(parsed.weights[r]);
                    }
                }
            }
        }
        chain_base += chains;
    }
    for p in &mut params {
        p.chains.resize(chain_base, Vec::new());
        let keep: Vec<bool> = p.chains.iter().map(|c| !c.is_empty()).collect();
        let mut i = 0;
        p.chains.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        if let Some(lw) = &mut p.log_weights {
            lw.resize(chain_base, Vec::new());
            let mut i = 0;
            lw.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
    }
    params.retain(|p| !p.chains.is_empty());
    Ok(params)
}

/// The parameters of a run's draws, as `--params all` summarises them:
/// every numeric column of the [`DrawTable`] (the result's components,
/// then each choice address), one vector per chain. Booleans count as 0/1;
/// text, functions and distributions are left out. The draws are weighted
/// when their log weights differ (importance, enumeration).
pub fn draws_parameters(draws: &Draws) -> Vec<Parameter> {
    let table = DrawTable::new(draws);
    let chains = draws.chain_count();
    let weights: Option<Vec<f64>> = draws.log_weights.and_then(|lw| {
        let differ = lw.iter().any(|w| w.to_bits() != lw[0].to_bits());
        differ.then(|| {
            (0..table.rows.len())
                .map(|i| log_weight_of(draws, i))
                .collect()
        })
    });
    let number = |v: &VmValue| match v {
        VmValue::Real(x) => Some(*x),
        VmValue::Int(n) => Some(*n as f64),
        VmValue::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    };
    let mut params = Vec::new();
    for (k, name) in table.names.iter().enumerate() {
        let mut values = vec![Vec::new(); chains];
        let mut log_weights = weights.as_ref().map(|_| vec![Vec::new(); chains]);
        let mut numeric = true;
        for (i, row) in table.rows.iter().enumerate() {
            let Some(v) = row[k] else { continue };
            let Some(x) = number(v) else {
                numeric = false;
                break;
            };
            let (c, _) = draws.chain_and_draw(i);
            values[c].push(x);
            if let (Some(lw), Some(w)) = (&mut log_weights, &weights) {
                lw[c].push(w[i]);
            }
        }
        // A chain that never made this choice is not a chain of it.
        let keep: Vec<bool> = values.iter().map(|c| !c.is_empty()).collect();
        let mut kept = keep.iter();
        values.retain(|_| *kept.next().unwrap_or(&false));
        if let Some(lw) = &mut log_weights {
            let mut kept = keep.iter();
            lw.retain(|_| *kept.next().unwrap_or(&false));
        }
        if numeric && !values.is_empty() {
            params.push(Parameter {
                name: name.clone(),
                chains: values,
                log_weights,
            });
        }
    }
    params
}

/// One file's columns and rows.
struct Parsed {
    names: Vec<String>,
    text_columns: Vec<bool>,
    rows: Vec<Vec<Option<f64>>>,
    chain_ids: Vec<usize>,
    weights: Vec<f64>,
}

fn read_one(file: &str, text: &str) -> Result<Parsed, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(format!("{file}: no header line (is it a CSV of draws?)"));
    };
    let header = split_csv(header);
    let cmdstan = header.iter().any(|h| h.ends_with("__"));
    let tyche = header.iter().any(|h| h == "log_weight" || h == "weight");
    if !cmdstan && !tyche {
        return Err(format!(
            "{file}: neither a Tyche CSV (no `log_weight` column) nor a CmdStan CSV (no `lp__` column)"
        ));
    }
    let chain_col = header.iter().position(|h| h == "chain" && tyche);
    let weight_col = header
        .iter()
        .position(|h| h == "log_weight__" || (tyche && (h == "log_weight" || h == "weight")));
    let special = |i: usize| {
        Some(i) == chain_col
            || Some(i) == weight_col
            || (tyche && header[i] == "draw")
            || header[i].ends_with("__")
    };
    let params: Vec<usize> = (0..header.len()).filter(|&i| !special(i)).collect();
    let mut parsed = Parsed {
        names: params.iter().map(|&i| header[i].clone()).collect(),
        text_columns: vec![false; params.len()],
        rows: Vec::new(),
        chain_ids: Vec::new(),
        weights: Vec::new(),
    };
    for (line_no, line) in lines {
        let cells = split_csv(line);
        if cells.len() != header.len() {
            return Err(format!(
                "{file}:{}: {} fields where the header has {}",
                line_no + 1,
                cells.len(),
                header.len()
            ));
        }
        let num = |i: usize| -> Result<f64, String> {
            cells[i].trim().parse::<f64>().map_err(|_| {
                format!(
                    "{file}:{}: `{}` is not a number ({})",
                    line_no + 1,
                    cells[i],
                    header[i]
                )
            })
        };
        let chain = match chain_col {
            Some(i) => {
                let c = num(i)?;
                if c < 0.0 || c.fract() != 0.0 || c > 1e6 {
                    return Err(format!(
                        "{file}:{}: bad chain number `{}`",
                        line_no + 1,
                        cells[i]
                    ));
                }
                c as usize
            }
            None => 0,
        };
        parsed.chain_ids.push(chain);
        parsed.weights.push(match weight_col {
            Some(i) => num(i)?,
            None => 0.0,
        });
        let mut row = Vec::with_capacity(params.len());
        for (k, &i) in params.iter().enumerate() {
            let cell = cells[i].trim();
            row.push(match cell {
                "" => None,
                "true" => Some(1.0),
                "false" => Some(0.0),
                _ => match cell.parse::<f64>() {
                    Ok(x) => Some(x),
                    Err(_) => {
                        parsed.text_columns[k] = true;
                        None
                    }
                },
            });
        }
        parsed.rows.push(row);
    }
    Ok(parsed)
}

/// One CSV line's fields (RFC 4180 quoting).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(ch) = chars.next() {
        match (ch, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => out.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    out.push(field);
    out
}

/// The summary of every parameter.
pub fn summarize_parameters(params: &[Parameter]) -> Vec<ParameterSummary> {
    params.iter().filter_map(summarize_parameter).collect()
}

fn summarize_parameter(p: &Parameter) -> Option<ParameterSummary> {
    let draws: usize = p.chains.iter().map(Vec::len).sum();
    if draws == 0 {
        return None;
    }
    if let Some(lw) = &p.log_weights {
        let xs: Vec<f64> = p.chains.iter().flatten().copied().collect();
        let lws: Vec<f64> = lw.iter().flatten().copied().collect();
        let (mean, sd, qs) = weighted_stats(&xs, &lws);
        let ess = stats::kish_ess(&lws);
        return Some(ParameterSummary {
            name: p.name.clone(),
            draws,
            chains: p.chains.len(),
            weighted: true,
            mean,
            mcse: (ess > 0.0).then(|| sd / ess.sqrt()),
            sd,
            q5: qs[0],
            q50: qs[1],
            q95: qs[2],
            ess_bulk: Some(ess),
            ess_tail: None,
            rhat: None,
            exact: false,
        });
    }
    // Diagnostics need chains of equal length: those of a parameter some
    // draws lack are truncated to the shortest, as in `stats`.
    let d = stats::diagnostics(&p.chains)?;
    let all: Vec<f64> = p.chains.iter().flatten().copied().collect();
    let n = all.len() as f64;
    let mean = all.iter().sum::<f64>() / n;
    let sd = (all.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt();
    let qs = stats::quantiles(&p.chains, &[0.05, 0.5, 0.95]);
    Some(ParameterSummary {
        name: p.name.clone(),
        draws,
        chains: p.chains.len(),
        weighted: false,
        mean,
        mcse: d.mcse_mean,
        sd,
        q5: qs[0],
        q50: qs[1],
        q95: qs[2],
        ess_bulk: d.ess_bulk,
        ess_tail: d.ess_tail,
        rhat: d.rhat,
        exact: false,
    })
}

/// Weighted mean, sd (population) and the 5/50/95% quantiles (the smallest
/// value whose cumulative weight reaches the probability).
fn weighted_stats(xs: &[f64], lws: &[f64]) -> (f64, f64, [f64; 3]) {
    let max = lws.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ws: Vec<f64> = lws.iter().map(|l| (l - max).exp()).collect();
    let total: f64 = ws.iter().sum();
    let mean = xs.iter().zip(&ws).map(|(x, w)| x * w).sum::<f64>() / total;
    let var = xs
        .iter()
        .zip(&ws)
        .map(|(x, w)| w * (x - mean) * (x - mean))
        .sum::<f64>()
        / total;
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut qs = [f64::NAN; 3];
    let probs = [0.05, 0.5, 0.95];
    let mut cum = 0.0;
    let mut next = 0;
    for &i in &order {
        cum += ws[i] / total;
        while next < 3 && cum >= probs[next] - 1e-12 {
            qs[next] = xs[i];
            next += 1;
        }
    }
    if let Some(&last) = order.last() {
        qs[next..].iter_mut().for_each(|q| *q = xs[last]);
    }
    (mean, var.max(0.0).sqrt(), qs)
}

/// The stansummary-like table.
pub fn summary_text(rows: &[ParameterSummary]) -> String {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(9);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<width$} {:>10} {:>9} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9} {:>7}",
        "parameter", "mean", "mcse", "sd", "5%", "50%", "95%", "ess_bulk", "ess_tail", "r_hat"
    );
    let opt = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map_or_else(|| "-".into(), f);
    for r in rows {
        let _ = writeln!(
            s,
            "{:<width$} {:>10} {:>9} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9} {:>7}",
            r.name,
            sig(r.mean),
            opt(r.mcse, &sig),
            sig(r.sd),
            sig(r.q5),
            sig(r.q50),
            sig(r.q95),
            opt(r.ess_bulk, &|x| format!("{x:.0}")),
            opt(r.ess_tail, &|x| format!("{x:.0}")),
            opt(r.rhat, &|x| format!("{x:.3}")),
        );
    }
    if let Some(r) = rows.first().filter(|r| r.exact) {
        let _ = writeln!(
            s,
            "\nExact: {} execution paths weighted by their probabilities; no Monte Carlo error.",
            r.draws
        );
    } else if let Some(r) = rows.first() {
        let _ = writeln!(
            s,
            "\n{} chain{} of {} draws{}. ESS and R-hat as in Vehtari et al. (2021): rank-normalised,\nsplit chains; R-hat above 1.01 or ESS below 100 per chain means the draws cannot be trusted yet.",
            r.chains,
            if r.chains == 1 { "" } else { "s" },
            r.draws / r.chains.max(1),
            if r.weighted { " (weighted: Kish's ESS, no R-hat)" } else { " each" }
        );
    }
    s
}

/// Four significant digits, switching to scientific notation for very
/// large or small magnitudes.
fn sig(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        return format!("{x:.3e}");
    }
    let decimals = if a == 0.0 {
        3
    } else {
        (3 - a.log10().floor() as i32).clamp(0, 6) as usize
    };
    format!("{x:.decimals$}")
}

/// The same as JSON: `{"parameters": [{"name", "mean", …}, …]}`, full
/// precision, `null` where a statistic is undefined.
pub fn summary_json(rows: &[ParameterSummary]) -> J {
    let num = |x: f64| J::from(x);
    let opt = |x: Option<f64>| x.map_or(J::Null, J::from);
    let params: Vec<J> = rows
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("name".into(), J::from(r.name.as_str()));
            m.insert("draws".into(), J::from(r.draws));
            m.insert("chains".into(), J::from(r.chains));
            m.insert("weighted".into(), J::from(r.weighted));
            m.insert("mean".into(), num(r.mean));
            m.insert("mcse".into(), opt(r.mcse));
            m.insert("sd".into(), num(r.sd));
            m.insert(
                "quantiles".into(),
                json!({"0.05": num(r.q5), "0.5": num(r.q50), "0.95": num(r.q95)}),
            );
            m.insert("ess_bulk".into(), opt(r.ess_bulk));
            m.insert("ess_tail".into(), opt(r.ess_tail));
            m.insert("rhat".into(), opt(r.rhat));
            J::Object(m)
        })
        .collect();
    json!({ "parameters": params })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tyche_csv_chains_and_text_columns() {
        let text = "chain,draw,log_weight,result,name,flag\n\
                    0,0,0,1.0,\"a,b\",true\n0,1,0,2.0,x,false\n0,2,0,3.0,y,true\n0,3,0,4.0,z,true\n\
                    1,0,0,5.0,a,false\n1,1,0,6.0,b,true\n1,2,0,7.0,c,true\n1,3,0,8.0,d,false\n";
        let ps = read_draw_files(&[("t.csv".into(), text.into())]).unwrap();
        let names: Vec<&str> = ps.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["result", "flag"]);
        assert_eq!(
            ps[0].chains,
            [vec![1.0, 2.0, 3.0, 4.0], vec![5.0, 6.0, 7.0, 8.0]]
        );
        assert_eq!(ps[1].chains[0], [1.0, 0.0, 1.0, 1.0]);
        let rows = summarize_parameters(&ps);
        assert_eq!(rows[0].mean, 4.5);
        assert_eq!(rows[0].rhat, stats::rhat(&ps[0].chains));
    }

    #[test]
    fn cmdstan_files_are_chains_and_weights_weigh() {
        let f = |xs: &str| format!("# model = m\nlp__,accept_stat__,mu\n{xs}# \n");
        let files = vec![
            ("a.csv".to_string(), f("0,0,1\n0,0,2\n0,0,3\n0,0,4\n")),
            ("b.csv".to_string(), f("0,0,5\n0,0,6\n0,0,7\n0,0,8\n")),
        ];
        let ps = read_draw_files(&files).unwrap();
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].chains.len(), 2);
        let w = "lp__,accept_stat__,log_weight__,mu\n0,0,0.0,1\n0,0,-inf,100\n";
        let ps = read_draw_files(&[("w.csv".into(), w.into())]).unwrap();
        let rows = summarize_parameters(&ps);
        assert_eq!((rows[0].mean, rows[0].rhat), (1.0, None));
    }

    #[test]
    fn unreadable_files_are_errors() {
        assert!(read_draw_files(&[("x.csv".into(), "a,b\n1,2\n".into())]).is_err());
        let e = read_draw_files(&[("x.csv".into(), "chain,draw,log_weight,r\n0,0,0\n".into())]);
        assert!(e.unwrap_err().contains("x.csv:2"));
    }
}
