//! Native densities: the interface through which inference runs a
//! *static* model (a fixed set of Real choices once the data are known)
//! on compiled code instead of the interpreter.
//!
//! `tyche-jit` implements [`NativeDensity`] (kernel extraction and
//! Cranelift); this crate only consumes it, so it never depends on the
//! compiler. A caller that has one puts it in
//! [`Options::native`](crate::Options::native); the algorithms that can
//! use it (MH on compiled code, through `compiled::NativeChain`) check
//! that it describes the runs they see and otherwise keep the
//! interpreter, and
//! [`InferResult::backend`](crate::InferResult::backend) says which ran.
//!
//! Contract: θ holds the model's random choices in execution order, and
//! for every θ where the interpreter's run has no error, `log_density(θ)`
//! equals the interpreter's `Σ log p(choices) + Σ log p(observations)` to
//! rounding; where the interpreter stops with a runtime error (an invalid
//! distribution parameter, an index out of bounds, a factor of NaN or +∞)
//! [`NativeDensity::checked_log_density`] is that error, so compiled code
//! fails where the interpreter fails.

use std::fmt;
use std::sync::Arc;
use tyche_core::Diagnostic;
use tyche_dist::Dist;
use tyche_ir::SiteId;
use tyche_vm::Value;

/// A static model's log joint density and structure over a flat θ.
pub trait NativeDensity: Send + Sync {
    /// The number of choices (the length of θ).
    fn dim(&self) -> usize;
    /// The sample site and occurrence index of θ[i].
    fn address(&self, i: usize) -> (SiteId, u32);
    /// `log p(θ, data)`: −∞ outside the support, never NaN. Where the
    /// interpreter's run at θ stops with a runtime error this is −∞ too:
    /// a chain that must stop there uses
    /// [`checked_log_density`](Self::checked_log_density).
    fn log_density(&self, theta: &[f64]) -> f64;
    /// [`log_density`](Self::log_density), or the interpreter's runtime
    /// error when its run at θ has one (the same diagnostic). Compiled
    /// code marks such a θ cheaply (its density is NaN or +∞) and the
    /// error is rebuilt by replaying θ on the interpreter, so the common
    /// case costs what `log_density` costs.
    fn checked_log_density(&self, theta: &[f64]) -> Result<f64, Diagnostic> {
        Ok(self.log_density(theta))
    }
    /// The distribution θ[i] is drawn from given the choices before it
    /// (θ's other coordinates are not read), or the message of the
    /// interpreter's invalid-parameter error.
    fn prior(&self, i: usize, theta: &[f64]) -> Result<Dist, String>;
    /// Whether the support of θ[i]'s distribution is the same at every θ
    /// (MH reuses a value only while it stays in its support).
    fn fixed_support(&self, i: usize) -> bool;
    /// The model's return value at θ, or the runtime error the
    /// interpreter stops with computing it. It may cost an interpreted run
    /// (a return value that could not be compiled is replayed), so MH
    /// computes it once per state.
    fn result(&self, theta: &[f64]) -> Result<Value, Diagnostic>;
    /// Where the density's code came from: `"jit"`, `"aot"` (`tyche
    /// build`), `"kernel interpreter"` (a kernel too large to be worth
    /// compiling for a short run) or `"expression programs"` (a model with
    /// discrete choices, which has no kernel).
    fn origin(&self) -> &'static str {
        "jit"
    }
    /// The model cut at its observations, for SMC, when available.
    fn sequential(&self) -> Option<&dyn NativeSequential> {
        None
    }
}

/// A static model cut at its observations, for SMC. Segment `k < K` runs
/// the choices after observation `k − 1` and ends with observation `k`;
/// segment `K` (the last) runs the choices after the last observation.
/// A particle carries a fixed-size state (`state_len` values: the
/// choices and intermediate values later segments or the result still
/// read) from segment to segment.
///
/// Contract: segment `k` draws its choices, in execution order, with
/// `Dist::sample` on the given generator from the distributions the
/// interpreter would build, so a particle's run consumes the same random
/// numbers as the interpreter's; its log weight is the interpreter's
/// observation log weight to rounding. Where the interpreter's particle
/// stops with a runtime error the segment fails (see
/// [`run_segment`](Self::run_segment)).
pub trait NativeSequential: Send + Sync {
    /// `K + 1`.
    fn segments(&self) -> usize;
    /// The length of a particle's state.
    fn state_len(&self) -> usize;
    /// Runs segment `k` for a batch of particles: `rows` holds their
    /// states (`state_len` values each, at least one), `log_weights` their
    /// weights; `rng(i)` is the generator of the batch's `i`-th particle.
    /// Particles with weight −∞ are dead: their rows may change but their
    /// weights stay −∞ and their errors are ignored. Each live particle's
    /// weight grows by its observation's log weight (none in the last
    /// segment). A live particle that may have met a runtime error (an
    /// invalid distribution parameter, an index out of bounds, an
    /// observation or factor weight of NaN or +∞) stops the batch: the
    /// particle's index in the batch, a message and where in the source
    /// (the lowest such index). SMC then runs on the interpreter from the
    /// start, which reports the interpreter's error exactly (or, where the
    /// mark was a NaN weight the interpreter accepts, its result).
    fn run_segment(
        &self,
        k: usize,
        rows: &mut [f64],
        log_weights: &mut [f64],
        rng: &(dyn Fn(usize) -> crate::rng::InferRng + Sync),
    ) -> Result<(), (usize, String, tyche_core::Span)>;
    /// The model's return value from a finished particle's state
    /// followed by its history (`state_len() + history_len()` values).
    fn result(&self, state: &[f64]) -> Value;
    /// Whether the state keeps every choice (the plan was built for
    /// per-draw traces).
    fn keeps_choices(&self) -> bool;
    /// The choices (address and value) of a finished particle (its state
    /// followed by its history), when
    /// [`keeps_choices`](Self::keeps_choices), else `None`.
    fn trace(&self, state: &[f64]) -> Option<Vec<(tyche_vm::Address, Value)>>;
    /// Values that only the result (or the trace) reads after segment
    /// `k`, as `(slot, h)`: SMC moves `state[slot]` to entry `h` of the
    /// particle's history after running segment `k`. Histories are shared
    /// by a particle's resampled copies, so resampling copies only what
    /// later segments read; a model returning a whole path stays O(n · T).
    fn settled(&self, _k: usize) -> &[(u32, u32)] {
        &[]
    }
    /// The number of history entries (see [`settled`](Self::settled)).
    fn history_len(&self) -> usize {
        0
    }
}

/// A shared [`NativeDensity`], as [`Options`](crate::Options) holds it.
#[derive(Clone)]
pub struct Native(pub Arc<dyn NativeDensity>);

impl fmt::Debug for Native {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Native(dim {})", self.0.dim())
    }
}

/// Two are equal when they are the same one.
impl PartialEq for Native {
    fn eq(&self, other: &Native) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A model compiled to native code that exact enumeration re-executes
/// from its start, replaying a prefix of choices (see `enumerate`).
///
/// Contract: a run makes the interpreter's choices, observations and
/// factors in the interpreter's order, with the same values and log
/// probabilities. A choice whose support has one value with nonzero
/// probability is taken silently (its log probability added); none ends
/// the run as [`PathEnd::Dead`]; two or more make a *branch point*, whose
/// options are those values in support order. The `k`-th branch point of
/// a run takes option `prefix[k]`. Log weights add up in the interpreter's
/// order, so a path's weight is the interpreter's bit for bit, and a run
/// ends `Dead` exactly where the interpreter's path would (a factor making
/// the weight −∞, an observation making it −∞ or NaN).
pub trait NativePaths: Send + Sync {
    /// A runner with its own scratch memory, for one thread; `None` when
    /// the model cannot run natively after all (an implementation may
    /// compile on first use), and the interpreter walks.
    fn runner(&self) -> Option<Box<dyn PathRunner + '_>>;
    /// Whether native code should walk the whole tree (`--backend jit`),
    /// not only the subtrees of a tree large enough to split.
    fn eager(&self) -> bool {
        false
    }
}

/// Runs whole executions of a [`NativePaths`] model.
pub trait PathRunner {
    /// Runs the model from its start under `prefix`. Past the prefix, with
    /// `extend` every new branch point is pushed to `branches` and takes
    /// option 0; without it the run stops at the first one
    /// ([`PathEnd::Branch`]).
    fn run(&mut self, prefix: &[u32], extend: bool, branches: &mut Vec<BranchPoint>) -> PathEnd;
    /// After a run that ended [`PathEnd::Unsupported`] at a branch point
    /// too wide to re-execute once per option: how many branch points
    /// preceded it. Enumeration then walks that branch point's other
    /// subtrees on the interpreter without trying native code first.
    fn gave_up_wide(&self) -> Option<usize> {
        None
    }
}

/// A branch point met past the prefix: how many options it has and the
/// path's log weight just before it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BranchPoint {
    pub options: u32,
    pub log_weight: f64,
}

/// How a native run ended.
#[derive(Clone, Debug)]
pub enum PathEnd {
    /// The model returned this value; the path's log weight.
    Done(Value, f64),
    /// The path has probability zero.
    Dead,
    /// Stopped at the first branch point past the prefix (no `extend`).
    Branch(BranchPoint),
    /// The native code cannot follow this run (a runtime error, a
    /// recursion deeper than its stack allows, an infinite support): the
    /// interpreter walks this part of the tree instead, and reports the
    /// error exactly.
    Unsupported,
}

/// A shared [`NativePaths`], as [`Options`](crate::Options) holds it.
#[derive(Clone)]
pub struct NativeEnumeration(pub Arc<dyn NativePaths>);

impl fmt::Debug for NativeEnumeration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NativeEnumeration(..)")
    }
}

/// Two are equal when they are the same one.
impl PartialEq for NativeEnumeration {
    fn eq(&self, other: &NativeEnumeration) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What computed a run's densities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// The interpreter throughout.
    #[default]
    Interpreter,
    /// Compiled kernels for every density evaluation after the start
    /// (MH's first state always comes from interpreted prior runs).
    Jit,
    /// Some chains or parts compiled, others interpreted.
    Mixed,
}

impl Backend {
    /// The name in JSON output: `"interpreter"`, `"jit"` or `"mixed"`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Interpreter => "interpreter",
            Backend::Jit => "jit",
            Backend::Mixed => "mixed",
        }
    }

    /// The backend of a run made of parts that ran on these.
    pub fn combine(parts: impl IntoIterator<Item = Backend>) -> Backend {
        let mut it = parts.into_iter();
        let Some(first) = it.next() else {
            return Backend::Interpreter;
        };
        it.fold(first, |a, b| if a == b { a } else { Backend::Mixed })
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A static model with only continuous choices, as gradient-based samplers
/// see it: its log density on unconstrained coordinates φ (one per
/// Real choice, `k − 1` per Dirichlet simplex of `k` components; see
/// `tyche_jit::transform`), log-Jacobians included, with its
/// gradient; the map back to the choices' values; and the model on those
/// values ([`NativeDensity`]: return value, addresses).
///
/// Contract: with θ = `constrain(φ)`, `log_density_gradient(φ)` equals
/// the interpreter's log joint density of the run whose choices take θ's
/// values, plus `Σ log |dθᵢ/dφᵢ|`; −∞ where that is not finite.
pub trait NativeGradient: Send + Sync {
    /// The number of coordinates.
    fn dim(&self) -> usize;
    /// An evaluator with its own scratch memory (one per chain).
    fn evaluator(&self) -> Box<dyn GradientEvaluator + '_>;
    /// The choices' values θ at φ.
    fn constrain(&self, phi: &[f64], theta: &mut Vec<f64>);
    /// The sample site and occurrence index of θ[i].
    fn address(&self, i: usize) -> (SiteId, u32);
    /// The model's return value at φ (whose choices' values are θ), or
    /// the runtime error the interpreter stops with computing it.
    fn result(&self, phi: &[f64], theta: &[f64]) -> Result<Value, Diagnostic>;
    /// What computes the gradient (`"kernel interpreter"` or `"jit"`).
    fn origin(&self) -> &'static str;
    /// How θ is laid out over the model's choices, in order: each choice's
    /// address and how many entries of θ hold its value (`None`: one
    /// Real; `Some(k)`: an array of `k` Reals, a Dirichlet's simplex,
    /// whose `k − 1` coordinates are stick-breaking fractions). By default
    /// one Real choice per coordinate, at [`NativeGradient::address`].
    fn slots(&self) -> Vec<Slot> {
        (0..self.dim())
            .map(|i| {
                let (site, index) = self.address(i);
                Slot {
                    site,
                    index,
                    width: None,
                }
            })
            .collect()
    }
    /// Where the density is NaN or +∞ (the mark compiled code leaves where
    /// the interpreter stops: an invalid distribution parameter, a factor
    /// of NaN or +∞), the interpreter's error at these values, if it has
    /// one.
    fn fault(&self, _phi: &[f64], _theta: &[f64]) -> Option<Diagnostic> {
        None
    }
    /// The first site (sample, observation, factor) whose log probability
    /// is −∞ or NaN at these values: why a point has no density.
    fn impossible(&self, _phi: &[f64], _theta: &[f64]) -> Option<SiteId> {
        None
    }
}

/// One choice's place in θ (see [`NativeGradient::slots`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub site: SiteId,
    pub index: u32,
    /// `None`: a Real (one entry of θ); `Some(k)`: an array of `k` Reals.
    pub width: Option<usize>,
}

impl Slot {
    /// How many entries of θ hold this choice's value.
    pub fn len(&self) -> usize {
        self.width.unwrap_or(1)
    }

    /// The choice's value from its entries of θ.
    pub fn value(&self, xs: &[f64]) -> Value {
        match self.width {
            None => Value::Real(xs[0]),
            Some(_) => Value::array(xs.iter().map(|&x| Value::Real(x)).collect()),
        }
    }
}

/// Evaluates a [`NativeGradient`]'s log density and gradient.
pub trait GradientEvaluator {
    /// `log p(φ)` (−∞ outside the support), and its gradient into `grad`.
    fn log_density_gradient(&mut self, phi: &[f64], grad: &mut [f64]) -> f64;
}

/// A shared [`NativeGradient`], as [`Options`](crate::Options) holds it.
#[derive(Clone)]
pub struct NativeGrad(pub Arc<dyn NativeGradient>);

impl fmt::Debug for NativeGrad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NativeGrad(dim {})", self.0.dim())
    }
}

/// Two are equal when they are the same one.
impl PartialEq for NativeGrad {
    fn eq(&self, other: &NativeGrad) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
