//! `--output-format cmdstan`: one CSV per chain in CmdStan's layout, which
//! `arviz.from_cmdstan`, `cmdstanpy.from_csv` and R's
//! `posterior::read_cmdstan_csv` read.
//!
//! A file is: `#` comment lines with the run's settings in CmdStan's
//! `key = value` form (`model`, `method = sample`, `num_samples`,
//! `num_warmup`, `thin`, `algorithm`, `id`, `data`/`file`, `random`/`seed`,
//! and Tyche's own `tyche_*` keys; `num_warmup` is at least 1, because
//! cmdstanpy refuses 0, and `tyche_warmup` is the true count); the header; for NUTS/HMC the
//! adaptation block (`# Adaptation terminated`, step size, diagonal of the
//! inverse metric); one row per kept draw; a timing block.
//!
//! Columns: the sampler's, in CmdStan's order (`lp__`, `accept_stat__`,
//! then `stepsize__`, `treedepth__`, `n_leapfrog__`, `divergent__`,
//! `energy__` when the run recorded them; `lp__` and `accept_stat__` are
//! written as 0 when it did not, as CmdStan's `fixed_param` sampler does),
//! `log_weight__` for weighted draws whose weights differ, then the
//! parameters: the result's columns and each choice's, named the CmdStan
//! way. An array index `[i]` becomes `.{i+1}` and a tuple field `.i`
//! becomes `:{i+1}` (CmdStan's tuple syntax), so `result.0` is `result:1`
//! and `result[2]` is `result.3`; a choice name that occurs once per run
//! drops its occurrence index (`mu[0]` is `mu`), one that recurs keeps it
//! (`eta[3]` is `eta.4`). Booleans are 1/0; a draw without a value has
//! `nan`; string-valued columns are left out (a comment says which).
//!
//! Methods without chains write one file (chain 1) with `algorithm =
//! fixed_param`; so does MH, whose draws are MCMC but which has no
//! CmdStan algorithm of its own (`tyche_method = mh` says what ran).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use tyche_vm::Value;

use crate::csv::DrawTable;
use crate::{Draws, RunInfo};

/// CmdStan's sampler columns after `lp__` and `accept_stat__`, in its
/// order (names without the trailing `__`).
pub const NUTS_COLUMNS: [&str; 5] = ["stepsize", "treedepth", "n_leapfrog", "divergent", "energy"];

/// NUTS/HMC adaptation results, for the block after the header.
#[derive(Clone, Debug, PartialEq)]
pub struct Adaptation {
    pub step_size: f64,
    /// Diagonal of the inverse mass matrix, on unconstrained coordinates.
    pub inv_metric: Vec<f64>,
}

/// What a CmdStan file says about its run besides the draws.
#[derive(Clone, Debug, Default)]
pub struct CmdStanRun<'a> {
    pub info: Option<&'a RunInfo>,
    /// Kept draws per chain, warm-up (burn-in) iterations per chain, thin.
    pub num_samples: usize,
    pub num_warmup: usize,
    pub thin: usize,
    pub data_file: Option<String>,
    /// The output file name of each chain (for the `output`/`file` line).
    pub output_files: Vec<String>,
    /// Per-draw sampler statistics over all draws (chain-major, like the
    /// draws), by CmdStan name without `__`: `lp`, `accept_stat`, and for
    /// NUTS/HMC [`NUTS_COLUMNS`].
    pub sampler: Vec<(String, Vec<f64>)>,
    /// Present for NUTS/HMC runs: the file says `algorithm = hmc`.
    pub adaptation: Option<Vec<Adaptation>>,
    /// NUTS's maximum tree depth (CmdStan's `max_depth`).
    pub max_depth: Option<usize>,
    /// Further settings written as `# tyche_KEY = VALUE` lines.
    pub settings: Vec<(String, String)>,
    /// Wall-clock seconds of the whole run, for the timing block.
    pub seconds: Option<f64>,
}

/// The CmdStan CSV text of each chain of `draws` (one string per chain,
/// chain 1 first).
pub fn cmdstan_csvs(run: &CmdStanRun, draws: &Draws) -> Vec<String> {
    let table = DrawTable::new(draws);
    let columns = cmdstan_columns(&table);
    let chains = draws.chain_count();
    let n = draws.values.len();
    let per = n.checked_div(chains).unwrap_or(0);
    let weighted = draws.log_weights.is_some_and(|lw| {
        lw.iter()
            .take(n)
            .any(|w| w.to_bits() != lw.first().copied().unwrap_or(0.0).to_bits())
    });
    let stat = |name: &str| {
        run.sampler
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_slice())
    };
    let nuts: Vec<(&str, &[f64])> = NUTS_COLUMNS
        .iter()
        .filter_map(|&k| stat(k).map(|v| (k, v)))
        .collect();
    let hmc = run.adaptation.is_some();

    let mut header: Vec<String> = vec!["lp__".into(), "accept_stat__".into()];
    header.extend(nuts.iter().map(|(k, _)| format!("{k}__")));
    if weighted {
        header.push("log_weight__".into());
    }
    header.extend(columns.iter().map(|c| c.name.clone()));

    (0..chains)
        .map(|c| {
            let mut s = String::new();
            config_comments(&mut s, run, c, hmc);
            let skipped: BTreeSet<&str> = columns
                .iter()
                .filter(|col| col.strings)
                .map(|col| col.tyche.as_str())
                .collect();
            let _ = writeln!(s, "{}", header.join(","));
            if !skipped.is_empty() {
                // Reported after the header so that readers counting
                // configuration lines are not confused.
                let names: Vec<&str> = skipped.into_iter().collect();
                let _ = writeln!(s, "# string-valued columns left out: {}", names.join(", "));
            }
            if let Some(adapt) = run.adaptation.as_ref().and_then(|a| a.get(c)) {
                let _ = writeln!(s, "# Adaptation terminated");
                let _ = writeln!(s, "# Step size = {}", number(adapt.step_size));
                let _ = writeln!(s, "# Diagonal elements of inverse mass matrix:");
                let diag: Vec<String> = adapt.inv_metric.iter().map(|&x| number(x)).collect();
                let _ = writeln!(s, "# {}", diag.join(", "));
            }
            for i in c * per..(c + 1) * per {
                let mut row: Vec<String> = Vec::with_capacity(header.len());
                row.push(number(
                    stat("lp").and_then(|v| v.get(i)).copied().unwrap_or(0.0),
                ));
                row.push(number(
                    stat("accept_stat")
                        .and_then(|v| v.get(i))
                        .copied()
                        .unwrap_or(0.0),
                ));
                for (k, v) in &nuts {
                    let x = v.get(i).copied().unwrap_or(f64::NAN);
                    // Counts and flags are integers in CmdStan's files.
                    row.push(if *k != "stepsize" && *k != "energy" && x.fract() == 0.0 {
                        format!("{}", x as i64)
                    } else {
                        number(x)
                    });
                }
                if weighted {
                    row.push(number(crate::csv::log_weight_of(draws, i)));
                }
                for col in columns.iter().filter(|c| !c.strings) {
                    row.push(match table.rows[i][col.index] {
                        Some(Value::Bool(b)) => u8::from(*b).to_string(),
                        Some(Value::Int(k)) => k.to_string(),
                        Some(Value::Real(x)) => number(*x),
                        _ => "nan".into(),
                    });
                }
                let _ = writeln!(s, "{}", row.join(","));
            }
            let secs = run.seconds.unwrap_or(0.0);
            let _ = writeln!(s, "# ");
            let _ = writeln!(s, "#  Elapsed Time: 0 seconds (Warm-up)");
            let _ = writeln!(s, "#                {secs:.3} seconds (Sampling)");
            let _ = writeln!(s, "#                {secs:.3} seconds (Total)");
            let _ = writeln!(s, "# ");
            s
        })
        .collect()
}

/// The configuration comments, in CmdStan's nesting.
fn config_comments(s: &mut String, run: &CmdStanRun, chain: usize, hmc: bool) {
    let info = run.info;
    let model = info.map_or("model", |i| i.model.as_str());
    let _ = writeln!(s, "# model = {model}");
    let _ = writeln!(s, "# method = sample (Default)");
    let _ = writeln!(s, "#   sample");
    let thin = run.thin.max(1);
    // CmdStan counts iterations before thinning: it keeps num_samples/thin.
    let _ = writeln!(s, "#     num_samples = {}", run.num_samples * thin);
    // cmdstanpy's `from_csv` refuses `num_warmup = 0` (it assumes
    // adaptation was on): a run without warm-up says 1, and
    // `tyche_warmup` below gives the true count.
    let _ = writeln!(s, "#     num_warmup = {}", run.num_warmup.max(1));
    let _ = writeln!(s, "#     save_warmup = false");
    let _ = writeln!(s, "#     thin = {thin}");
    let _ = writeln!(s, "#     adapt");
    let _ = writeln!(
        s,
        "#       engaged = {}",
        if hmc { "true" } else { "false" }
    );
    if hmc {
        let _ = writeln!(s, "#     algorithm = hmc");
        let _ = writeln!(s, "#       hmc");
        let _ = writeln!(s, "#         engine = nuts");
        let _ = writeln!(s, "#           nuts");
        let _ = writeln!(
            s,
            "#             max_depth = {}",
            run.max_depth.unwrap_or(10)
        );
        let _ = writeln!(s, "#         metric = diag_e");
    } else {
        let _ = writeln!(s, "#     algorithm = fixed_param");
    }
    let _ = writeln!(s, "#     num_chains = 1 (Default)");
    let _ = writeln!(s, "# id = {}", chain + 1);
    let _ = writeln!(s, "# data");
    let _ = writeln!(s, "#   file = {}", run.data_file.as_deref().unwrap_or(""));
    let _ = writeln!(s, "# random");
    let _ = writeln!(s, "#   seed = {}", info.map_or(0, |i| i.seed));
    let _ = writeln!(s, "# output");
    let file = run
        .output_files
        .get(chain)
        .map_or("output.csv", String::as_str);
    let _ = writeln!(s, "#   file = {file}");
    let _ = writeln!(s, "# tyche_version = {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(s, "# tyche_warmup = {}", run.num_warmup);
    if let Some(i) = info {
        let _ = writeln!(s, "# tyche_method = {}", i.method);
        if let Some(b) = &i.backend {
            let _ = writeln!(s, "# tyche_backend = {b}");
        }
    }
    for (k, v) in &run.settings {
        let _ = writeln!(s, "# tyche_{k} = {v}");
    }
}

/// A number as CmdStan readers parse it: shortest round-trip form, `inf`,
/// `-inf`, `nan`.
fn number(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:?}")
    }
}

/// A parameter column: its Tyche name, CmdStan name, index in the table,
/// and whether it holds strings (left out).
struct Column {
    tyche: String,
    name: String,
    index: usize,
    strings: bool,
}

/// The table's columns with their CmdStan names.
fn cmdstan_columns(table: &DrawTable) -> Vec<Column> {
    // Choice names whose every column is occurrence 0: `mu[0]` → `mu`.
    let mut recurs: HashMap<&str, bool> = HashMap::new();
    for name in &table.names[table.result_columns..] {
        if let Some((base, occurrence, _)) = split_address(name) {
            *recurs.entry(base).or_insert(false) |= occurrence != 0;
        }
    }
    table
        .names
        .iter()
        .enumerate()
        .map(|(index, tyche)| {
            let name = if index < table.result_columns {
                cmdstan_path("result", &tyche["result".len()..])
            } else {
                match split_address(tyche) {
                    Some((base, occurrence, rest)) if !recurs[base] => {
                        let _ = occurrence;
                        cmdstan_path(base, rest)
                    }
                    Some((base, _, _)) => cmdstan_path(base, &tyche[base.len()..]),
                    None => cmdstan_path(tyche, ""),
                }
            };
            let strings = table
                .rows
                .iter()
                .any(|row| matches!(row[index], Some(Value::Str(_) | Value::Unit)));
            Column {
                tyche: tyche.clone(),
                name,
                index,
                strings,
            }
        })
        .collect()
}

/// Tyche-style display names of the table's columns: the result's as they
/// are, a choice's without its occurrence index when its name is drawn
/// only once per run (`mu[0]` → `mu`, `w[0][1]` → `w[1]`).
pub(crate) fn display_names(table: &DrawTable) -> Vec<String> {
    let mut recurs: HashMap<&str, bool> = HashMap::new();
    for name in &table.names[table.result_columns..] {
        if let Some((base, occurrence, _)) = split_address(name) {
            *recurs.entry(base).or_insert(false) |= occurrence != 0;
        }
    }
    table
        .names
        .iter()
        .enumerate()
        .map(|(i, name)| match split_address(name) {
            Some((base, _, rest)) if i >= table.result_columns && !recurs[base] => {
                format!("{base}{rest}")
            }
            _ => name.clone(),
        })
        .collect()
}

/// `name[k]rest` → (`name`, k, `rest`) for a choice column.
fn split_address(col: &str) -> Option<(&str, usize, &str)> {
    let open = col.find('[')?;
    let close = open + col[open..].find(']')?;
    let k = col[open + 1..close].parse().ok()?;
    Some((&col[..open], k, &col[close + 1..]))
}

/// `base` followed by Tyche's index suffixes (`[i]`, `.i`) in CmdStan's
/// form (`.{i+1}`, `:{i+1}`).
fn cmdstan_path(base: &str, mut rest: &str) -> String {
    let mut out = base.to_string();
    while !rest.is_empty() {
        let (sep, body) = if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or(r.len());
            let k = &r[..end];
            rest = r.get(end + 1..).unwrap_or("");
            ('.', k)
        } else if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let k = &r[..end];
            rest = &r[end..];
            (':', k)
        } else {
            out.push_str(rest);
            break;
        };
        match body.parse::<usize>() {
            Ok(k) => {
                let _ = write!(out, "{sep}{}", k + 1);
            }
            Err(_) => {
                let _ = write!(out, "{sep}{body}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_cmdstan() {
        assert_eq!(cmdstan_path("result", ""), "result");
        assert_eq!(cmdstan_path("result", ".0"), "result:1");
        assert_eq!(cmdstan_path("result", "[2]"), "result.3");
        assert_eq!(cmdstan_path("result", "[0].1"), "result.1:2");
        assert_eq!(cmdstan_path("w", "[0][1]"), "w.1.2");
        assert_eq!(split_address("eta[3]"), Some(("eta", 3, "")));
        assert_eq!(split_address("w[0][1]"), Some(("w", 0, "[1]")));
    }
}
