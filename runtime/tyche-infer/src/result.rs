//! What inference returns: draws with weights and traces, the evidence
//! estimate and sampler diagnostics.

use crate::options::Method;
use crate::stats::log_sum_exp;
use tyche_vm::{Address, Posterior, Value};

/// One draw from the (approximate) posterior.
#[derive(Clone, Debug)]
pub struct Draw {
    /// The model's return value.
    pub value: Value,
    /// The draw's log weight, *relative*: its probability is
    /// `exp(log_weight) / Σ exp(log_weight)`. Weighted methods (Enumerate,
    /// Importance, Smc) report normalised log weights (`Σ exp = 1`);
    /// unweighted ones (Rejection, Mh, Pmmh) report 0 for every draw.
    pub log_weight: f64,
    /// The choices of the execution that produced it, in execution order,
    /// `do`-fixed ones included. Empty for Enumerate, which merges all
    /// executions with equal results into one draw (unless
    /// `Options::enumerate_paths`: one draw per path, with its choices).
    pub trace: Vec<(Address, Value)>,
}

/// Diagnostics of an MCMC run.
#[derive(Clone, Debug, PartialEq)]
pub struct McmcStats {
    /// Accepted / proposed transitions after burn-in, over all chains (1
    /// when nothing could be proposed: a trace without random choices).
    pub acceptance_rate: f64,
    /// Rank-normalised split R-hat of the result (numeric results, ≥ 4
    /// draws per chain; `stats::rhat`).
    pub rhat: Option<f64>,
    /// Bulk effective sample size of the result (numeric results;
    /// `stats::ess_bulk`).
    pub ess: Option<f64>,
    pub chains: usize,
    /// Kept draws of each chain (draws are stored chain after chain).
    pub draws_per_chain: Vec<usize>,
    /// NUTS: the maximum tree depth it ran with.
    pub max_depth: Option<u32>,
    /// Per kept draw, in draw order, the statistics of a gradient-based
    /// sampler's transition (NUTS, HMC; empty for MH and PMMH).
    pub sampler: Vec<SamplerDraw>,
    /// NUTS/HMC, per chain: the adapted step size and the diagonal of the
    /// inverse metric on unconstrained coordinates.
    pub adaptation: Vec<(f64, Vec<f64>)>,
}

/// The transition that produced one draw of NUTS or HMC (CmdStan's
/// sampler columns).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamplerDraw {
    pub chain: u32,
    /// The log density on unconstrained coordinates, Jacobians included
    /// (CmdStan's `lp__`).
    pub lp: f64,
    pub accept_stat: f64,
    pub step_size: f64,
    pub tree_depth: u32,
    pub n_leapfrog: u32,
    pub divergent: bool,
    /// The Hamiltonian at the draw.
    pub energy: f64,
}

/// The outcome of [`infer`](crate::infer).
#[derive(Clone, Debug)]
pub struct InferResult {
    pub method: Method,
    pub draws: Vec<Draw>,
    /// Estimate of `log p(observations)`: exact for Enumerate, unbiased (on
    /// the natural scale) for Importance, Smc and Rejection; `None` for
    /// MCMC.
    pub log_evidence: Option<f64>,
    /// Effective sample size: Kish's for weighted draws (for Smc, of the
    /// last weighting before the end, or before the last resampling if
    /// nothing weighted the particles after it); the MCMC estimate for
    /// Mh/Pmmh; `None` for Enumerate.
    pub ess: Option<f64>,
    /// True when the draws are the exact posterior (Enumerate).
    pub exact: bool,
    pub mcmc: Option<McmcStats>,
    /// What computed the densities.
    pub backend: crate::Backend,
}

impl InferResult {
    /// The draws' normalised probabilities.
    pub fn probabilities(&self) -> Vec<f64> {
        let lws: Vec<f64> = self.draws.iter().map(|d| d.log_weight).collect();
        let lse = log_sum_exp(&lws);
        lws.iter().map(|lw| (lw - lse).exp()).collect()
    }

    /// The posterior mean of a numeric result (Bool counts as 0/1).
    pub fn mean(&self) -> Option<f64> {
        self.expectation(|v| v.as_number())
    }

    /// The posterior expectation of `f(result)`, if `f` is defined on every
    /// draw.
    pub fn expectation(&self, f: impl Fn(&Value) -> Option<f64>) -> Option<f64> {
        let ps = self.probabilities();
        let mut m = 0.0;
        for (d, p) in self.draws.iter().zip(ps) {
            m += p * f(&d.value)?;
        }
        Some(m)
    }

    /// The posterior probability that the result equals `v`.
    pub fn prob(&self, v: &Value) -> f64 {
        self.draws
            .iter()
            .zip(self.probabilities())
            .filter(|(d, _)| &d.value == v)
            .map(|(_, p)| p)
            .sum()
    }

    /// The result as a distribution value (equal values merged), as
    /// `infer` returns it inside a program.
    pub fn to_posterior(&self) -> Posterior {
        let values: Vec<Value> = self.draws.iter().map(|d| d.value.clone()).collect();
        let lws: Vec<f64> = self.draws.iter().map(|d| d.log_weight).collect();
        Posterior::from_weighted(values, &lws, self.log_evidence, self.exact)
    }
}
