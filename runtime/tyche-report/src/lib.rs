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
//! - [`plot_svg`]: the `--plot FILE.svg` figure (histograms, bar charts,
//!   MCMC trace plots).

mod csv;
mod json;
mod plot;
mod summary;
mod text;

pub use csv::write_csv;
pub use json::{to_json, value_to_json};
pub use plot::{chain_traces, plot_svg, MAX_COMPONENTS as PLOT_MAX_COMPONENTS};
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
}

impl<'a> Draws<'a> {
    /// Equally weighted draws without traces.
    pub fn unweighted(values: &'a [Value]) -> Draws<'a> {
        Draws {
            values,
            log_weights: None,
            traces: None,
        }
    }

    /// Weighted draws without traces.
    pub fn weighted(values: &'a [Value], log_weights: &'a [f64]) -> Draws<'a> {
        Draws {
            values,
            log_weights: Some(log_weights),
            traces: None,
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
