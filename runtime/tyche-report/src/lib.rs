//! Reporting the results of an inference run.
//!
//! Inference produces a set of draws of the model's return value, possibly
//! weighted. This crate turns them into what `tyche run` prints:
//!
//! - [`summarize`]: a weighted [`Summary`] of the draws, following the
//!   result type (numbers get mean, sd, quantiles and a histogram; `Bool`,
//!   `Int` and `String` a probability table; arrays and tuples are
//!   summarised element-wise);
//! - [`to_json`]: the `--format json` object of the language contract (§10);
//! - [`to_text`]: the human-readable summary (§1);
//! - [`write_csv`]: the `--output FILE.csv` table, one row per draw;
//!   [`cmdstan_csvs`]: the same draws as CmdStan CSV files, one per chain;
//! - [`read_draw_files`], [`summarize_parameters`]: `tyche summary`'s
//!   per-parameter table from those files;
//! - [`plot_svg`]: the `--plot FILE.svg` figure (histograms, bar charts,
//!   MCMC trace plots).

mod cmdstan;
mod csv;
mod draw_files;
mod json;
mod plot;
mod summary;
mod text;

pub use cmdstan::{cmdstan_csvs, Adaptation, CmdStanRun, NUTS_COLUMNS};
pub use csv::{write_csv, DrawTable};
pub use draw_files::{
    draws_parameters, read_draw_files, summarize_parameters, summary_json, summary_text, Parameter,
    ParameterSummary,
};
pub use json::{draws_json, to_json, value_to_json};
pub use plot::{
    chain_traces, parameter_names, plot_figure, plot_svg, PlotOptions,
    MAX_COMPONENTS as PLOT_MAX_COMPONENTS,
};
pub use summary::{
    normalized_weights, summarize, table_stats, Bin, NumberSummary, Summary, QUANTILES,
};
pub use text::to_text;

use tyche_vm::Value;

/// The draws of an inference run.
#[derive(Clone, Copy, Debug)]
pub struct Draws<'a> {
    /// The model's return value, one per draw.
    pub values: &'a [Value],
    /// Log weights (unnormalised is fine), or `None` for equally weighted
    /// draws (MCMC, resampled SMC). A missing weight counts as `-inf`.
    pub log_weights: Option<&'a [f64]>,
    /// Per-draw choice addresses and values, for CSV columns: each draw's
    /// list of (address such as `"z[3]"`, value).
    pub traces: Option<&'a [Vec<(String, Value)>]>,
    /// How many chains the draws come from: chain-major, each chain's
    /// draws in iteration order, `values.len() / chains` per chain (MCMC);
    /// 1 for methods without chains.
    pub chains: usize,
    /// The result's type, where known: a record's columns are then named
    /// by its fields (`result.mu`, `result.theta[3]`) instead of positions.
    pub result_type: Option<&'a tyche_ir::Type>,
}

impl<'a> Draws<'a> {
    /// Equally weighted draws without traces.
    pub fn unweighted(values: &'a [Value]) -> Draws<'a> {
        Draws {
            values,
            log_weights: None,
            traces: None,
            chains: 1,
            result_type: None,
        }
    }

    /// Weighted draws without traces.
    pub fn weighted(values: &'a [Value], log_weights: &'a [f64]) -> Draws<'a> {
        Draws {
            values,
            log_weights: Some(log_weights),
            traces: None,
            chains: 1,
            result_type: None,
        }
    }

    /// The same draws, with the result's type (for column names).
    pub fn with_result_type(self, ty: &'a tyche_ir::Type) -> Draws<'a> {
        Draws {
            result_type: Some(ty),
            ..self
        }
    }

    /// The same draws, from `chains` chains of equal length (chain-major).
    pub fn with_chains(self, chains: usize) -> Draws<'a> {
        Draws { chains, ..self }
    }

    /// The (chain, iteration) of draw `i`, both from 0: chain-major with
    /// equal chains; everything in chain 0 when the draws do not divide
    /// evenly into [`Draws::chains`] chains.
    pub fn chain_and_draw(&self, i: usize) -> (usize, usize) {
        let n = self.values.len();
        if self.chains > 1 && n.is_multiple_of(self.chains) {
            let per = n / self.chains;
            (i / per, i % per)
        } else {
            (0, i)
        }
    }

    /// Number of chains as [`Draws::chain_and_draw`] counts them.
    pub fn chain_count(&self) -> usize {
        let n = self.values.len();
        if self.chains > 1 && n.is_multiple_of(self.chains) {
            self.chains
        } else {
            1
        }
    }

    /// The same draws with per-draw traces attached.
    pub fn with_traces(self, traces: &'a [Vec<(String, Value)>]) -> Draws<'a> {
        Draws {
            traces: Some(traces),
            ..self
        }
    }
}

/// What the run was, for the report's header and JSON keys.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    pub model: String,
    pub method: String,
    pub seed: u64,
    pub log_evidence: Option<f64>,
    pub ess: Option<f64>,
    /// The execution backend (`"vm"`, `"jit"`), reported when known.
    pub backend: Option<String>,
    /// Further method-specific keys (`acceptance_rate`, `rhat`, `chains`,
    /// `particles`, `samples`, …), added to the JSON object as they are and
    /// shown in the text header. They never replace a contract key.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// `result.0[3]` as the result's type names it: a record's components by
/// field (`result.mu[3]`). A path that does not fit the type is returned
/// unchanged.
pub fn name_result_path(path: &str, ty: &tyche_ir::Type) -> String {
    use tyche_ir::Type;
    let Some(mut rest) = path.strip_prefix("result") else {
        return path.to_string();
    };
    let mut out = String::from("result");
    let mut ty = ty;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else {
                return path.to_string();
            };
            let Type::Array(e) = ty else {
                return path.to_string();
            };
            out.push_str(&rest[..end + 2]);
            rest = &r[end + 1..];
            ty = e;
        } else if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let Ok(k) = r[..end].parse::<usize>() else {
                return path.to_string();
            };
            match ty {
                Type::Tuple(ts) if k < ts.len() => {
                    out.push_str(&format!(".{k}"));
                    ty = &ts[k];
                }
                Type::Record(fs) if k < fs.len() => {
                    out.push('.');
                    out.push_str(&fs[k].0);
                    ty = &fs[k].1;
                }
                _ => return path.to_string(),
            }
            rest = &r[end..];
        } else {
            return path.to_string();
        }
    }
    out
}

/// Renames the run diagnostics' quantities (and their mentions in the
/// warnings) with [`name_result_path`].
pub fn name_result_quantities<'q>(
    ty: &tyche_ir::Type,
    names: impl Iterator<Item = &'q mut String>,
    warnings: &mut [String],
) {
    for name in names {
        let new = name_result_path(name, ty);
        if new != *name {
            for w in warnings.iter_mut() {
                // Whole names only: `result.1` is not part of `result.10`.
                let mut out = String::new();
                let mut rest = w.as_str();
                while let Some(i) = rest.find(name.as_str()) {
                    let after = &rest[i + name.len()..];
                    out.push_str(&rest[..i]);
                    if after
                        .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '[' || c == '.')
                    {
                        out.push_str(name);
                    } else {
                        out.push_str(&new);
                    }
                    rest = after;
                }
                out.push_str(rest);
                *w = out;
            }
            *name = new;
        }
    }
}
