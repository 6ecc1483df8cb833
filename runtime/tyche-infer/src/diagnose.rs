//! What a run's own diagnostics say about its answer.
//!
//! After every run, [`diagnose`] computes, for MCMC, the rank-normalised
//! split R-hat and bulk and tail ESS (`stats`) of each numeric component
//! of the result and of each choice recorded in the draws' traces, and
//! turns what looks wrong into plain-language warnings (LANGUAGE.md §8):
//!
//! | check | warns when |
//! |---|---|
//! | R-hat | above 1.01 for any quantity |
//! | bulk ESS | below 100 per chain for any quantity |
//! | divergences | any (NUTS, HMC) |
//! | tree depth | any transition hit the maximum (NUTS) |
//! | E-BFMI | below 0.3 in any chain (NUTS, HMC) |
//! | MH acceptance | outside 5–95% |
//! | SMC population | fewer than 10% distinct particles, or the last weighting left an ESS below 10% |
//!
//! SMC's reported ESS never claims more than the population's distinct
//! particles: a population of copies of a few particles is that few.

use crate::options::Method;
use crate::result::InferResult;
use crate::stats::{ess_bulk, ess_tail, rhat};
use std::collections::HashMap;
use tyche_ir::Program;
use tyche_vm::Value;

/// R-hat above this is a warning (Vehtari et al. 2021).
pub const RHAT_LIMIT: f64 = 1.01;
/// Bulk ESS per chain below this is a warning.
pub const ESS_PER_CHAIN: f64 = 100.0;
/// E-BFMI below this is a warning (Betancourt 2016).
pub const EBFMI_LIMIT: f64 = 0.3;

/// Convergence diagnostics of one quantity over MCMC chains.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    /// `result`, `result.0`, `result[3]`, or a choice's address `mu[0]`.
    pub name: String,
    pub rhat: Option<f64>,
    pub ess_bulk: Option<f64>,
    pub ess_tail: Option<f64>,
}

/// The diagnostics of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnosis {
    /// Per quantity (MCMC only): the result's numeric components, then the
    /// choices.
    pub quantities: Vec<Quantity>,
    pub warnings: Vec<String>,
}

/// The numeric leaves of a value, named as the report names them.
fn leaves(name: &str, v: &Value, out: &mut Vec<(String, f64)>) {
    match v {
        Value::Real(x) => out.push((name.to_string(), *x)),
        Value::Int(k) => out.push((name.to_string(), *k as f64)),
        Value::Bool(b) => out.push((name.to_string(), f64::from(u8::from(*b)))),
        Value::Tuple(xs) => {
            for (i, x) in xs.iter().enumerate() {
                leaves(&format!("{name}.{i}"), x, out);
            }
        }
        Value::Array(xs) => {
            for (i, x) in xs.iter().enumerate() {
                leaves(&format!("{name}[{i}]"), x, out);
            }
        }
        _ => {}
    }
}

/// Per quantity, per chain, its draws: the result's numeric leaves and
/// the traced choices, each only where every draw has it.
fn chains_of(
    result: &InferResult,
    program: &Program,
    lengths: &[usize],
) -> Vec<(String, Vec<Vec<f64>>)> {
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut series: Vec<Vec<Vec<f64>>> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    let mut start = 0;
    let mut scratch = Vec::new();
    for (c, &len) in lengths.iter().enumerate() {
        for d in &result.draws[start..start + len] {
            scratch.clear();
            leaves("result", &d.value, &mut scratch);
            for (a, v) in &d.trace {
                if let Some(x) = v.as_number().or(match v {
                    Value::Bool(b) => Some(f64::from(u8::from(*b))),
                    _ => None,
                }) {
                    scratch.push((a.display(program), x));
                }
            }
            for (name, x) in scratch.drain(..) {
                let i = *index.entry(name.clone()).or_insert_with(|| {
                    names.push(name);
                    series.push(vec![Vec::new(); lengths.len()]);
                    counts.push(0);
                    series.len() - 1
                });
                series[i][c].push(x);
                counts[i] += 1;
            }
        }
        start += len;
    }
    let total: usize = lengths.iter().sum();
    names
        .into_iter()
        .zip(series)
        .zip(counts)
        .filter(|(_, n)| *n == total)
        .map(|(q, _)| q)
        .collect()
}

/// At most this many quantities are named in one warning.
const NAMED: usize = 5;

fn list(names: &[String]) -> String {
    let mut s = names
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > NAMED {
        s.push_str(&format!(" and {} more", names.len() - NAMED));
    }
    s
}

/// Diagnoses `result` (see the module documentation); for SMC it also
/// caps the reported ESS at the number of distinct particles.
pub fn diagnose(result: &mut InferResult, program: &Program) -> Diagnosis {
    let mut d = Diagnosis::default();
    match result.method {
        Method::Mh | Method::Pmmh | Method::Nuts | Method::Hmc => mcmc(result, program, &mut d),
        Method::Smc | Method::Importance => population(result, &mut d),
        _ => {}
    }
    d
}

fn mcmc(result: &InferResult, program: &Program, d: &mut Diagnosis) {
    let Some(stats) = &result.mcmc else { return };
    let chains = stats.chains.max(1);
    let lengths = if stats.draws_per_chain.len() == chains {
        stats.draws_per_chain.clone()
    } else {
        let n = result.draws.len();
        (0..chains)
            .map(|c| n / chains + usize::from(c < n % chains))
            .collect()
    };
    for (name, cs) in chains_of(result, program, &lengths) {
        // A quantity that never changes (a constant, a do-fixed choice) has
        // no R-hat or ESS to speak of.
        let first = cs.iter().flatten().next().copied();
        let constant = cs.iter().flatten().all(|x| Some(*x) == first);
        d.quantities.push(Quantity {
            name,
            rhat: (!constant).then(|| rhat(&cs)).flatten(),
            ess_bulk: (!constant).then(|| ess_bulk(&cs)).flatten(),
            ess_tail: (!constant).then(|| ess_tail(&cs)).flatten(),
        });
    }
    // A quantity constant in every draw has no R-hat or ESS to worry about.
    let high_rhat: Vec<String> = d
        .quantities
        .iter()
        .filter(|q| q.rhat.is_some_and(|r| r > RHAT_LIMIT))
        .map(|q| q.name.clone())
        .collect();
    if !high_rhat.is_empty() {
        let worst = d
            .quantities
            .iter()
            .filter_map(|q| q.rhat)
            .fold(f64::NEG_INFINITY, f64::max);
        // MH and PMMH warm up by burn-in; NUTS and HMC by adaptation.
        let longer = match result.method {
            Method::Mh | Method::Pmmh => "--burn, --samples",
            _ => "--warmup, --samples",
        };
        d.warnings.push(format!(
            "R-hat is above {RHAT_LIMIT} (up to {worst:.3}) for {}: the chains disagree, \
             so the draws may not represent the posterior; run longer ({longer}) \
             or reparameterise",
            list(&high_rhat)
        ));
    }
    let min_ess = ESS_PER_CHAIN * chains as f64;
    let low_ess: Vec<String> = d
        .quantities
        .iter()
        .filter(|q| q.ess_bulk.is_some_and(|e| e < min_ess))
        .map(|q| q.name.clone())
        .collect();
    if !low_ess.is_empty() {
        let worst = d
            .quantities
            .iter()
            .filter_map(|q| q.ess_bulk)
            .fold(f64::INFINITY, f64::min);
        d.warnings.push(format!(
            "bulk ESS is below {ESS_PER_CHAIN} per chain (as low as {worst:.0} over {chains} \
             chains) for {}: posterior summaries are unreliable; draw more samples",
            list(&low_ess)
        ));
    }
    let s = &stats.sampler;
    if !s.is_empty() {
        let divergent = s.iter().filter(|x| x.divergent).count();
        if divergent > 0 {
            d.warnings.push(format!(
                "{divergent} of {} transitions after warm-up were divergent: the sampler \
                 could not follow the posterior's curvature, so the draws may be biased; \
                 raise --target-accept (e.g. 0.95) or reparameterise (non-centred form)",
                s.len()
            ));
        }
        if result.method == Method::Nuts {
            let max = s.iter().map(|x| x.tree_depth).max().unwrap_or(0);
            let saturated = s.iter().filter(|x| x.tree_depth == max).count();
            if stats.max_depth.is_some_and(|m| max >= m) && saturated > 0 {
                d.warnings.push(format!(
                    "{saturated} of {} transitions hit the maximum tree depth ({max}): \
                     the sampler was cut short, which costs efficiency; raise --max-depth",
                    s.len()
                ));
            }
        }
        let mut low = Vec::new();
        for c in 0..chains {
            let e: Vec<f64> = s
                .iter()
                .filter(|x| x.chain as usize == c)
                .map(|x| x.energy)
                .collect();
            if let Some(b) = ebfmi(&e) {
                if b < EBFMI_LIMIT {
                    low.push(format!("chain {c}: {b:.2}"));
                }
            }
        }
        if !low.is_empty() {
            d.warnings.push(format!(
                "E-BFMI is below {EBFMI_LIMIT} ({}): the momentum resampling explores the \
                 energy poorly, typical of heavy tails or funnels; reparameterise",
                low.join(", ")
            ));
        }
    } else if result.method == Method::Mh || result.method == Method::Pmmh {
        let a = stats.acceptance_rate;
        if !(0.05..=0.95).contains(&a) {
            d.warnings.push(format!(
                "the MH acceptance rate is {:.1}%, outside 5–95%: the chain {} and its draws \
                 are strongly autocorrelated; {}",
                a * 100.0,
                if a < 0.05 {
                    "rarely moves"
                } else {
                    "takes tiny steps"
                },
                "for continuous models use --method nuts"
            ));
        }
    }
}

/// Energy Bayesian fraction of missing information (Betancourt 2016).
pub fn ebfmi(energy: &[f64]) -> Option<f64> {
    if energy.len() < 3 {
        return None;
    }
    let n = energy.len() as f64;
    let mean = energy.iter().sum::<f64>() / n;
    let var = energy.iter().map(|e| (e - mean) * (e - mean)).sum::<f64>() / n;
    let num = energy
        .windows(2)
        .map(|w| (w[1] - w[0]).powi(2))
        .sum::<f64>()
        / n;
    (var > 0.0).then(|| num / var)
}

/// A value as a hashable key (reals by their bits).
fn key(v: &Value, out: &mut Vec<u64>) {
    match v {
        Value::Real(x) => out.push(x.to_bits()),
        Value::Int(k) => out.push(*k as u64),
        Value::Bool(b) => out.push(u64::from(*b)),
        Value::Tuple(xs) => xs.iter().for_each(|x| key(x, out)),
        Value::Array(xs) => {
            out.push(xs.len() as u64);
            xs.iter().for_each(|x| key(x, out))
        }
        _ => out.push(u64::MAX),
    }
}

fn has_real(v: &Value) -> bool {
    match v {
        Value::Real(_) => true,
        Value::Tuple(xs) => xs.iter().any(has_real),
        Value::Array(xs) => xs.iter().any(has_real),
        _ => false,
    }
}

fn population(result: &mut InferResult, d: &mut Diagnosis) {
    let n = result.draws.len();
    if n == 0 {
        return;
    }
    // Distinct particles, told apart by their (real-valued) results: a
    // discrete result repeats legitimately.
    if result.method == Method::Smc && result.draws.iter().all(|x| has_real(&x.value)) {
        let mut seen = std::collections::HashSet::new();
        let mut k = Vec::new();
        for x in &result.draws {
            k.clear();
            key(&x.value, &mut k);
            seen.insert(k.clone());
        }
        let distinct = seen.len();
        if let Some(ess) = result.ess.as_mut() {
            *ess = ess.min(distinct as f64);
        }
        if distinct * 10 < n {
            d.warnings.push(format!(
                "only {distinct} of {n} particles are distinct: resampling collapsed the \
                 population onto a few ancestors, so the posterior is badly under-represented \
                 (its sd too small); move particles more after resampling (--rejuvenate \
                 with more moves than this run made), or use MCMC, whose chains report \
                 R-hat: --method mh, or --method nuts if every choice is continuous"
            ));
            return;
        }
    }
    if let Some(ess) = result.ess {
        if ess < 0.1 * n as f64 {
            d.warnings.push(format!(
                "the effective sample size is {ess:.1} of {n} draws: a few draws carry \
                 almost all the weight, so the answer rests on them; use more particles, \
                 or --method nuts for a static continuous model"
            ));
        }
    }
}
