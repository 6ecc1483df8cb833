//! [`Method`] and [`Options`]: which algorithm to run and its settings.

use crate::population::Resampler;
use std::fmt;
use std::sync::Arc;
use tyche_ir::MethodKind;

/// An inference algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Exact, by enumerating every execution path of a finite-discrete model.
    Enumerate,
    /// Rejection sampling (hard conditions and discrete observations).
    Rejection,
    /// Likelihood weighting: prior runs weighted by their likelihood.
    Importance,
    /// Sequential Monte Carlo (particle filter), optionally resample-move.
    Smc,
    /// Single-site lightweight Metropolis–Hastings.
    Mh,
    /// Particle marginal Metropolis–Hastings: MH over the choices made
    /// before the first observation, SMC for the rest.
    Pmmh,
    /// Static Hamiltonian Monte Carlo on the model's gradient.
    Hmc,
    /// The No-U-Turn sampler on the model's gradient.
    Nuts,
}

impl Method {
    pub const ALL: [Method; 8] = [
        Method::Enumerate,
        Method::Rejection,
        Method::Importance,
        Method::Smc,
        Method::Mh,
        Method::Pmmh,
        Method::Hmc,
        Method::Nuts,
    ];

    /// The lower-case name used on the command line and in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Method::Enumerate => "enumerate",
            Method::Rejection => "rejection",
            Method::Importance => "importance",
            Method::Smc => "smc",
            Method::Mh => "mh",
            Method::Pmmh => "pmmh",
            Method::Hmc => "hmc",
            Method::Nuts => "nuts",
        }
    }

    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether the method's size parameter counts particles (else kept
    /// samples).
    pub fn uses_particles(self) -> bool {
        self == Method::Smc
    }
}

impl From<MethodKind> for Method {
    fn from(kind: MethodKind) -> Method {
        match kind {
            MethodKind::Enumerate => Method::Enumerate,
            MethodKind::Rejection => Method::Rejection,
            MethodKind::Importance => Method::Importance,
            MethodKind::Smc => Method::Smc,
            MethodKind::Mh => Method::Mh,
            MethodKind::Hmc => Method::Hmc,
            MethodKind::Nuts => Method::Nuts,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The default inner SMC size of `Pmmh` (its estimate only needs to be
/// unbiased; the chain does the rest).
pub const PMMH_PARTICLES: usize = 100;

/// How MH proposes a new value for the choice it picked.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Proposal {
    /// For real-valued continuous choices, a Gaussian random walk whose
    /// scale, one per choice (address), is tuned during `Mh`'s burn-in
    /// toward an acceptance rate of 0.44 and then fixed; other choices are
    /// redrawn from the prior (the default). Where there is no burn-in to
    /// tune in (resample-move SMC's moves, PMMH's parameter move) it is
    /// [`Proposal::Prior`].
    #[default]
    Adaptive,
    /// Redraw it from its prior distribution (always valid).
    Prior,
    /// For real-valued continuous choices, a Gaussian random walk
    /// `x' = x + scale · N(0, 1)`; other choices are redrawn from the prior.
    Drift { scale: f64 },
}

impl Proposal {
    /// The proposal of a move with nothing to tune it: `Adaptive` becomes
    /// `Prior`.
    pub fn untuned(self) -> Proposal {
        match self {
            Proposal::Adaptive => Proposal::Prior,
            p => p,
        }
    }
}

/// Settings of an inference run. Fields a method does not use are ignored.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub method: Method,
    /// SMC particles (also the inner SMC of `Pmmh`).
    pub particles: usize,
    /// Draws: accepted runs (`Rejection`), prior runs (`Importance`), kept
    /// states over all chains (`Mh`, `Pmmh`).
    pub samples: usize,
    /// MCMC iterations discarded at the start of each chain.
    pub burn: usize,
    /// Keep every `thin`-th MCMC state (1 keeps all).
    pub thin: usize,
    /// Independent MCMC chains, run in parallel (`Mh`, `Pmmh`).
    pub chains: usize,
    pub seed: u64,
    pub resampler: Resampler,
    /// SMC resamples when the effective sample size falls below
    /// `threshold · particles`; `None` resamples after every observation.
    pub ess_threshold: Option<f64>,
    /// SMC: MH moves applied to every particle after each resampling
    /// (resample-move SMC); 0 for a plain particle filter.
    pub rejuvenate: usize,
    /// MH proposal for the picked choice. `Mh`'s `burn`, `samples` and
    /// `thin` count sweeps: one sweep is as many single-site moves as the
    /// chain's first state has random choices.
    pub proposal: Proposal,
    /// Whether draws carry their traces ([`Draw::trace`](crate::Draw)).
    /// Nested inference turns this off: only the values matter there, and
    /// recording costs time and memory.
    pub traces: bool,
    /// Told how far a long run has got (SMC steps, MH iterations); `None`
    /// (the default, and always for nested inference) reports nothing.
    /// Reporting never touches a random stream: results are the same with
    /// and without it.
    pub progress: Option<Progress>,
    /// The model's density as native code, for the methods that can use
    /// it (see [`crate::NativeDensity`]); `None` (the default, and always
    /// for nested inference) interprets.
    pub native: Option<crate::Native>,
    /// The model as native code for exact enumeration (see
    /// [`crate::NativePaths`]); `None` (the default, and always for nested
    /// inference) interprets.
    pub native_paths: Option<crate::NativeEnumeration>,
    /// NUTS/HMC: warm-up iterations per chain (step size and metric
    /// adaptation; not kept).
    pub warmup: usize,
    /// NUTS/HMC: the acceptance statistic step-size adaptation aims at.
    pub target_accept: f64,
    /// NUTS: the maximum tree depth (at most `2^max_depth` leapfrog steps
    /// per transition).
    pub max_depth: u32,
    /// HMC: leapfrog steps per transition.
    pub hmc_steps: usize,
    /// The model's log density with its gradient on unconstrained
    /// coordinates, for NUTS and HMC (see [`crate::NativeGradient`]).
    pub gradient: Option<crate::NativeGrad>,
    /// Stops the run with an error when raised (a time limit); checked
    /// between model runs, MCMC iterations and SMC steps. `None` (the
    /// default, and always for nested inference) never stops.
    pub stop: Option<crate::Stop>,
    /// Enumerate: one draw per execution path, with its choices as the
    /// trace and its own normalised log weight, instead of one per distinct
    /// result (`tyche run --output`); walked on the interpreter. Default
    /// `false`.
    pub enumerate_paths: bool,
}

/// A progress callback, `f(done, total)`: `total` is the work of the whole
/// run (MH, PMMH, NUTS, HMC: iterations over all chains; Importance and
/// Rejection: runs; each reported about 200 times), or 0 when it is not
/// known in advance (SMC: reported once per observation step; Enumerate:
/// complete paths, every 4096). It may be called from several threads at
/// once.
#[derive(Clone)]
pub struct Progress(Arc<dyn Fn(u64, u64) + Send + Sync>);

impl Progress {
    pub fn new(f: impl Fn(u64, u64) + Send + Sync + 'static) -> Progress {
        Progress(Arc::new(f))
    }

    /// Reports `done` units of `total` (0: unknown).
    pub fn report(&self, done: u64, total: u64) {
        (self.0)(done, total)
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Progress(..)")
    }
}

/// Two callbacks are equal when they are the same one.
impl PartialEq for Progress {
    fn eq(&self, other: &Progress) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            method: Method::Smc,
            particles: 1000,
            samples: 1000,
            burn: 500,
            thin: 1,
            chains: 4,
            seed: 0,
            resampler: Resampler::Systematic,
            ess_threshold: None,
            rejuvenate: 0,
            proposal: Proposal::Adaptive,
            traces: true,
            progress: None,
            native: None,
            native_paths: None,
            warmup: 1000,
            target_accept: 0.8,
            max_depth: 10,
            hmc_steps: 16,
            gradient: None,
            stop: None,
            enumerate_paths: false,
        }
    }
}

impl Options {
    /// Defaults for `method` with size parameter `n` (particles for `Smc`,
    /// samples otherwise), as in `Smc(n)`.
    pub fn for_method(method: Method, n: usize) -> Options {
        let mut o = Options {
            method,
            ..Options::default()
        };
        if method == Method::Pmmh {
            // An SMC run per MH step: fewer particles than a lone SMC.
            o.particles = PMMH_PARTICLES;
        }
        o.set_size(n);
        o
    }

    /// Sets the method's size parameter (particles or samples).
    pub fn set_size(&mut self, n: usize) {
        if self.method.uses_particles() {
            self.particles = n;
        } else {
            self.samples = n;
        }
    }

    /// The options of a nested `infer(Method(n), …)`: defaults, one chain,
    /// no traces.
    pub fn nested(method: Method, n: usize, seed: u64) -> Options {
        let mut o = Options::for_method(method, n);
        o.seed = seed;
        o.chains = 1;
        o.traces = false;
        o
    }

    pub fn with_seed(mut self, seed: u64) -> Options {
        self.seed = seed;
        self
    }
}
