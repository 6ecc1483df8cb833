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
    read_draw_files, summarize_parameters, summary_json, summary_text, Parameter, ParameterSummary,
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
}

impl<'a> Draws<'a> {
    /// Equally weighted draws without traces.
    pub fn unweighted(values: &'a [Value]) -> Draws<'a> {
        Draws {
            values,
            log_weights: None,
            traces: None,
            chains: 1,
        }
    }

    /// Weighted draws without traces.
    pub fn weighted(values: &'a [Value], log_weights: &'a [f64]) -> Draws<'a> {
        Draws {
            values,
            log_weights: Some(log_weights),
            traces: None,
            chains: 1,
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
