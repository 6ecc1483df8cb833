//! Gradient-based MCMC on a [`NativeGradient`]: the No-U-Turn sampler
//! (multinomial, with the generalised no-U-turn criterion, as in Stan
//! since 2.21: Betancourt, "A Conceptual Introduction to Hamiltonian
//! Monte Carlo", 2017, appendix A) and static HMC.
//!
//! Both run on unconstrained coordinates φ with a diagonal metric.
//! Warm-up follows Stan: a dual-averaging step size toward the target
//! acceptance statistic (Hoffman and Gelman 2014, γ = 0.05, t₀ = 10,
//! κ = 0.75), and the inverse metric estimated from the draws of doubling
//! windows (75 iterations of initial buffer, a first window of 25, 50 of
//! terminal buffer; proportionally less for short warm-ups), regularised
//! toward 10⁻³ as Stan does. After each window the step size is found
//! again by Stan's heuristic and its averaging restarts.
//!
//! Chains start at φ drawn uniformly in (−2, 2), redrawn (up to 100
//! times) where the density or its gradient is not finite. Each chain has
//! its own random stream, so a seed fixes the run whatever the thread
//! count. A transition whose energy error exceeds 1000 is divergent (the
//! trajectory stops there).

use crate::interpreted::initial_state;
use crate::mh::ChainOutput;
use crate::model::Model;
use crate::native::{GradientEvaluator, NativeGrad, NativeGradient};
use crate::nested::Ctx;
use crate::options::{Method, Options};
use crate::par;
use crate::result::{Draw, SamplerDraw};
use crate::rng::standard_normal;
use crate::rng::{InferRng, Purpose, Seed};
use crate::stats::log_sum_exp2;
use rand::RngExt;
use std::sync::atomic::{AtomicU64, Ordering};
use tyche_core::Diagnostic;
use tyche_vm::{Address, Value};

/// An energy error beyond this makes a transition divergent (Stan's).
const MAX_DELTA_H: f64 = 1000.0;
/// Initial points tried per chain.
const MAX_INIT_TRIES: usize = 100;

/// A point of phase space: position, momentum, log density and gradient.
#[derive(Clone, Debug)]
struct Point {
    q: Vec<f64>,
    p: Vec<f64>,
    logp: f64,
    grad: Vec<f64>,
}

/// The Hamiltonian system of one chain: the density, the metric, and a
/// count of gradient evaluations.
struct System<'a> {
    model: &'a dyn NativeGradient,
    eval: Box<dyn GradientEvaluator + 'a>,
    /// The interpreter's error at the first point whose density was marked
    /// faulty (NaN or +∞): the run stops with it.
    fault: Option<Diagnostic>,
    /// The diagonal of the inverse metric (the posterior variances).
    inv_metric: Vec<f64>,
    /// Scratch vectors of NUTS's tree building, one set per depth, kept
    /// across transitions so that building a tree allocates nothing.
    levels: Vec<Level>,
}

/// The vectors one level of [`Tree::build`] keeps while its two halves
/// are built (Stan's locals of `build_tree`).
#[derive(Clone, Debug, Default)]
struct Level {
    p_init_end: Vec<f64>,
    p_sharp_init_end: Vec<f64>,
    rho_init: Vec<f64>,
    z_propose_final: Option<Point>,
    p_final_beg: Vec<f64>,
    p_sharp_final_beg: Vec<f64>,
    rho_final: Vec<f64>,
    /// ρ of the subtree, then the extended ρs of the criterion.
    rho_tmp: Vec<f64>,
}

/// `out = a + b`, elementwise.
fn add_into(out: &mut [f64], a: &[f64], b: &[f64]) {
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x + y;
    }
}

/// Sets `v` to `n` zeros (allocating only the first time).
fn zeros(v: &mut Vec<f64>, n: usize) {
    v.clear();
    v.resize(n, 0.0);
}

impl System<'_> {
    fn update(&mut self, z: &mut Point) {
        z.logp = self.eval.log_density_gradient(&z.q, &mut z.grad);
        if (z.logp.is_nan() || z.logp == f64::INFINITY) && self.fault.is_none() {
            let mut theta = Vec::new();
            self.model.constrain(&z.q, &mut theta);
            self.fault = self.model.fault(&z.q, &theta);
        }
        if !z.logp.is_finite() || z.grad.iter().any(|g| !g.is_finite()) {
            z.logp = f64::NEG_INFINITY;
        }
    }

    fn kinetic(&self, p: &[f64]) -> f64 {
        0.5 * p
            .iter()
            .zip(&self.inv_metric)
            .map(|(p, m)| p * p * m)
            .sum::<f64>()
    }

    /// `H = −log p(q) + K(p)`; +∞ where the density is not finite.
    fn hamiltonian(&self, z: &Point) -> f64 {
        let h = -z.logp + self.kinetic(&z.p);
        if h.is_nan() {
            f64::INFINITY
        } else {
            h
        }
    }

    /// `∂H/∂p`: the velocity `M⁻¹ p`.
    fn p_sharp(&self, z: &Point, out: &mut [f64]) {
        for ((o, p), m) in out.iter_mut().zip(&z.p).zip(&self.inv_metric) {
            *o = p * m;
        }
    }

    fn sample_momentum(&self, z: &mut Point, rng: &mut InferRng) {
        for (p, m) in z.p.iter_mut().zip(&self.inv_metric) {
            *p = standard_normal(rng) / m.sqrt();
        }
    }

    /// One leapfrog step of size `eps` (negative: backward in time).
    fn leapfrog(&mut self, z: &mut Point, eps: f64) {
        for (p, g) in z.p.iter_mut().zip(&z.grad) {
            *p += 0.5 * eps * g;
        }
        for ((q, p), m) in z.q.iter_mut().zip(&z.p).zip(&self.inv_metric) {
            *q += eps * m * p;
        }
        self.update(z);
        if z.logp == f64::NEG_INFINITY {
            return;
        }
        for (p, g) in z.p.iter_mut().zip(&z.grad) {
            *p += 0.5 * eps * g;
        }
    }
}

fn criterion(p_sharp_minus: &[f64], p_sharp_plus: &[f64], rho: &[f64]) -> bool {
    dot(p_sharp_plus, rho) > 0.0 && dot(p_sharp_minus, rho) > 0.0
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Statistics of one transition.
#[derive(Clone, Copy, Debug, Default)]
struct Transition {
    accept_stat: f64,
    depth: u32,
    n_leapfrog: u32,
    divergent: bool,
    energy: f64,
}

/// State of one NUTS tree build, shared by its recursion.
struct Tree<'s, 'a> {
    sys: &'s mut System<'a>,
    rng: &'s mut InferRng,
    eps: f64,
    h0: f64,
    n_leapfrog: u32,
    sum_metro_prob: f64,
    divergent: bool,
}

impl Tree<'_, '_> {
    /// Stan's `base_nuts::build_tree`: extends the trajectory from `z` by
    /// `2^depth` steps in direction `sign`, choosing a proposal among them
    /// multinomially; false when the subtree diverged or turned.
    #[allow(clippy::too_many_arguments)]
    fn build(
        &mut self,
        depth: u32,
        z: &mut Point,
        z_propose: &mut Point,
        p_sharp_beg: &mut [f64],
        p_sharp_end: &mut [f64],
        rho: &mut [f64],
        p_beg: &mut [f64],
        p_end: &mut [f64],
        sign: f64,
        log_sum_weight: &mut f64,
    ) -> bool {
        if depth == 0 {
            self.sys.leapfrog(z, sign * self.eps);
            self.n_leapfrog += 1;
            let h = self.sys.hamiltonian(z);
            if h - self.h0 > MAX_DELTA_H {
                self.divergent = true;
            }
            *log_sum_weight = log_sum_exp2(*log_sum_weight, self.h0 - h);
            self.sum_metro_prob += if self.h0 - h > 0.0 {
                1.0
            } else {
                (self.h0 - h).exp()
            };
            z_propose.clone_from(z);
            self.sys.p_sharp(z, p_sharp_beg);
            p_sharp_end.copy_from_slice(p_sharp_beg);
            for (r, p) in rho.iter_mut().zip(&z.p) {
                *r += p;
            }
            p_beg.copy_from_slice(&z.p);
            p_end.copy_from_slice(&z.p);
            return !self.divergent;
        }
        // This level's vectors, taken out while its halves (which use the
        // levels below) are built, and put back after.
        let mut lv = std::mem::take(&mut self.sys.levels[depth as usize]);
        let ok = self.build_halves(
            depth,
            &mut lv,
            z,
            z_propose,
            p_sharp_beg,
            p_sharp_end,
            rho,
            p_beg,
            p_end,
            sign,
            log_sum_weight,
        );
        self.sys.levels[depth as usize] = lv;
        ok
    }

    /// [`Tree::build`] at `depth > 0`: the two halves and the choice and
    /// criterion between them.
    #[allow(clippy::too_many_arguments)]
    fn build_halves(
        &mut self,
        depth: u32,
        lv: &mut Level,
        z: &mut Point,
        z_propose: &mut Point,
        p_sharp_beg: &mut [f64],
        p_sharp_end: &mut [f64],
        rho: &mut [f64],
        p_beg: &mut [f64],
        p_end: &mut [f64],
        sign: f64,
        log_sum_weight: &mut f64,
    ) -> bool {
        let n = z.q.len();
        let Level {
            p_init_end,
            p_sharp_init_end,
            rho_init,
            z_propose_final,
            p_final_beg,
            p_sharp_final_beg,
            rho_final,
            rho_tmp,
        } = lv;
        for v in [
            &mut *p_init_end,
            &mut *p_sharp_init_end,
            &mut *rho_init,
            &mut *p_final_beg,
            &mut *p_sharp_final_beg,
            &mut *rho_final,
            &mut *rho_tmp,
        ] {
            zeros(v, n);
        }
        // The first half.
        let mut log_sum_weight_init = f64::NEG_INFINITY;
        if !self.build(
            depth - 1,
            z,
            z_propose,
            p_sharp_beg,
            p_sharp_init_end,
            rho_init,
            p_beg,
            p_init_end,
            sign,
            &mut log_sum_weight_init,
        ) {
            return false;
        }
        // The second half.
        let z_propose_final = match z_propose_final {
            Some(w) => {
                w.clone_from(z);
                w
            }
            None => z_propose_final.insert(z.clone()),
        };
        let mut log_sum_weight_final = f64::NEG_INFINITY;
        if !self.build(
            depth - 1,
            z,
            z_propose_final,
            p_sharp_final_beg,
            p_sharp_end,
            rho_final,
            p_final_beg,
            p_end,
            sign,
            &mut log_sum_weight_final,
        ) {
            return false;
        }
        // Multinomial choice between the halves.
        let log_sum_weight_subtree = log_sum_exp2(log_sum_weight_init, log_sum_weight_final);
        *log_sum_weight = log_sum_exp2(*log_sum_weight, log_sum_weight_subtree);
        if log_sum_weight_final > log_sum_weight_subtree {
            std::mem::swap(z_propose, z_propose_final);
        } else {
            let accept = (log_sum_weight_final - log_sum_weight_subtree).exp();
            if self.rng.random::<f64>() < accept {
                std::mem::swap(z_propose, z_propose_final);
            }
        }
        let rho_subtree = rho_tmp;
        add_into(rho_subtree, rho_init, rho_final);
        for (r, s) in rho.iter_mut().zip(rho_subtree.iter()) {
            *r += s;
        }
        // The generalised no-U-turn criterion across the whole subtree and
        // between its halves.
        let mut persist = criterion(p_sharp_beg, p_sharp_end, rho_subtree);
        let rho_extended = rho_subtree;
        add_into(rho_extended, rho_init, p_final_beg);
        persist &= criterion(p_sharp_beg, p_sharp_final_beg, rho_extended);
        add_into(rho_extended, rho_final, p_init_end);
        persist &= criterion(p_sharp_init_end, p_sharp_end, rho_extended);
        persist
    }
}

/// One NUTS transition from `z` (Stan's `base_nuts::transition`).
fn nuts_transition(
    sys: &mut System<'_>,
    z: &mut Point,
    eps: f64,
    max_depth: u32,
    rng: &mut InferRng,
) -> Transition {
    let n = z.q.len();
    sys.sample_momentum(z, rng);
    let mut z_fwd = z.clone();
    let mut z_bck = z.clone();
    let mut z_sample = z.clone();
    let mut z_propose = z.clone();
    let mut p_sharp = vec![0.0; n];
    sys.p_sharp(z, &mut p_sharp);
    let (mut p_fwd_fwd, mut p_fwd_bck) = (z.p.clone(), z.p.clone());
    let (mut p_bck_fwd, mut p_bck_bck) = (z.p.clone(), z.p.clone());
    let (mut ps_fwd_fwd, mut ps_fwd_bck) = (p_sharp.clone(), p_sharp.clone());
    let (mut ps_bck_fwd, mut ps_bck_bck) = (p_sharp.clone(), p_sharp);
    let mut rho = z.p.clone();
    let mut log_sum_weight = 0.0;
    let h0 = sys.hamiltonian(z);
    if sys.levels.len() < max_depth as usize {
        sys.levels.resize_with(max_depth as usize, Level::default);
    }
    let mut tree = Tree {
        sys,
        rng,
        eps,
        h0,
        n_leapfrog: 0,
        sum_metro_prob: 0.0,
        divergent: false,
    };
    let mut depth = 0;
    let (mut rho_fwd, mut rho_bck, mut rho_extended) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    while depth < max_depth {
        rho_fwd.iter_mut().for_each(|r| *r = 0.0);
        rho_bck.iter_mut().for_each(|r| *r = 0.0);
        let mut log_sum_weight_subtree = f64::NEG_INFINITY;
        let valid = if tree.rng.random::<f64>() > 0.5 {
            rho_bck.copy_from_slice(&rho);
            p_bck_fwd.copy_from_slice(&p_fwd_bck);
            ps_bck_fwd.copy_from_slice(&ps_fwd_bck);
            tree.build(
                depth,
                &mut z_fwd,
                &mut z_propose,
                &mut ps_fwd_bck,
                &mut ps_fwd_fwd,
                &mut rho_fwd,
                &mut p_fwd_bck,
                &mut p_fwd_fwd,
                1.0,
                &mut log_sum_weight_subtree,
            )
        } else {
            rho_fwd.copy_from_slice(&rho);
            p_fwd_bck.copy_from_slice(&p_bck_fwd);
            ps_fwd_bck.copy_from_slice(&ps_bck_fwd);
            tree.build(
                depth,
                &mut z_bck,
                &mut z_propose,
                &mut ps_bck_fwd,
                &mut ps_bck_bck,
                &mut rho_bck,
                &mut p_bck_fwd,
                &mut p_bck_bck,
                -1.0,
                &mut log_sum_weight_subtree,
            )
        };
        if !valid {
            break;
        }
        depth += 1;
        if log_sum_weight_subtree > log_sum_weight {
            z_sample.clone_from(&z_propose);
        } else {
            let accept = (log_sum_weight_subtree - log_sum_weight).exp();
            if tree.rng.random::<f64>() < accept {
                z_sample.clone_from(&z_propose);
            }
        }
        log_sum_weight = log_sum_exp2(log_sum_weight, log_sum_weight_subtree);
        add_into(&mut rho, &rho_bck, &rho_fwd);
        let mut persist = criterion(&ps_bck_bck, &ps_fwd_fwd, &rho);
        add_into(&mut rho_extended, &rho_bck, &p_fwd_bck);
        persist &= criterion(&ps_bck_bck, &ps_fwd_bck, &rho_extended);
        add_into(&mut rho_extended, &rho_fwd, &p_bck_fwd);
        persist &= criterion(&ps_bck_fwd, &ps_fwd_fwd, &rho_extended);
        if !persist {
            break;
        }
    }
    let stats = Transition {
        accept_stat: if tree.n_leapfrog == 0 {
            0.0
        } else {
            tree.sum_metro_prob / f64::from(tree.n_leapfrog)
        },
        depth,
        n_leapfrog: tree.n_leapfrog,
        divergent: tree.divergent,
        energy: 0.0,
    };
    let sys = tree.sys;
    *z = z_sample;
    Transition {
        energy: sys.hamiltonian(z),
        ..stats
    }
}

/// One static HMC transition: `steps` leapfrog steps and a Metropolis
/// correction.
fn hmc_transition(
    sys: &mut System<'_>,
    z: &mut Point,
    eps: f64,
    steps: u32,
    rng: &mut InferRng,
) -> Transition {
    sys.sample_momentum(z, rng);
    let h0 = sys.hamiltonian(z);
    let mut w = z.clone();
    let mut divergent = false;
    let mut n = 0;
    for _ in 0..steps {
        sys.leapfrog(&mut w, eps);
        n += 1;
        if sys.hamiltonian(&w) - h0 > MAX_DELTA_H {
            divergent = true;
            break;
        }
    }
    let h = sys.hamiltonian(&w);
    let accept_stat = if divergent {
        0.0
    } else {
        (h0 - h).exp().min(1.0)
    };
    if rng.random::<f64>() < accept_stat {
        *z = w;
    }
    Transition {
        accept_stat,
        depth: 0,
        n_leapfrog: n,
        divergent,
        energy: sys.hamiltonian(z),
    }
}

/// Dual averaging of the log step size (Stan's `stepsize_adaptation`).
#[derive(Clone, Debug)]
struct StepSizeAdapter {
    mu: f64,
    target: f64,
    counter: f64,
    s_bar: f64,
    x_bar: f64,
}

impl StepSizeAdapter {
    const GAMMA: f64 = 0.05;
    const T0: f64 = 10.0;
    const KAPPA: f64 = 0.75;

    fn new(eps: f64, target: f64) -> StepSizeAdapter {
        StepSizeAdapter {
            mu: (10.0 * eps).ln(),
            target,
            counter: 0.0,
            s_bar: 0.0,
            x_bar: 0.0,
        }
    }

    /// The next step size after a transition with this acceptance
    /// statistic.
    fn learn(&mut self, accept_stat: f64) -> f64 {
        self.counter += 1.0;
        let a = accept_stat.min(1.0);
        let eta = 1.0 / (self.counter + Self::T0);
        self.s_bar = (1.0 - eta) * self.s_bar + eta * (self.target - a);
        let x = self.mu - self.s_bar * self.counter.sqrt() / Self::GAMMA;
        let x_eta = self.counter.powf(-Self::KAPPA);
        self.x_bar = (1.0 - x_eta) * self.x_bar + x_eta * x;
        x.exp()
    }

    /// The step size to sample with.
    fn finish(&self) -> f64 {
        self.x_bar.exp()
    }
}

/// Stan's windowed schedule for estimating the metric during warm-up.
#[derive(Clone, Debug)]
struct Windows {
    warmup: usize,
    init_buffer: usize,
    term_buffer: usize,
    window_size: usize,
    next_window: usize,
    counter: usize,
    /// Welford accumulators of the current window.
    n: usize,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl Windows {
    fn new(warmup: usize, dim: usize) -> Windows {
        let (mut init, mut term, mut base) = (75, 50, 25);
        if warmup < 20 {
            // Too short to estimate a metric: step size only.
            (init, term, base) = (warmup, 0, 0);
        } else if init + term + base > warmup {
            init = (0.15 * warmup as f64) as usize;
            term = (0.1 * warmup as f64) as usize;
            base = warmup - (init + term);
        }
        Windows {
            warmup,
            init_buffer: init,
            term_buffer: term,
            window_size: base,
            next_window: (init + base).saturating_sub(1),
            counter: 0,
            n: 0,
            mean: vec![0.0; dim],
            m2: vec![0.0; dim],
        }
    }

    fn in_window(&self) -> bool {
        self.window_size > 0
            && self.counter >= self.init_buffer
            && self.counter < self.warmup - self.term_buffer
            && self.counter != self.warmup
    }

    fn end_of_window(&self) -> bool {
        self.window_size > 0 && self.counter == self.next_window && self.counter != self.warmup
    }

    fn compute_next_window(&mut self) {
        let last = self.warmup - self.term_buffer - 1;
        if self.next_window == last {
            return;
        }
        self.window_size *= 2;
        self.next_window = self.counter + self.window_size;
        if self.next_window != last && self.next_window + 2 * self.window_size >= last + 1 {
            self.next_window = last;
        }
    }

    /// Adds a warm-up draw; at the end of a window, the regularised
    /// variances of its draws.
    fn learn(&mut self, q: &[f64]) -> Option<Vec<f64>> {
        if self.in_window() {
            self.n += 1;
            for ((m, s), x) in self.mean.iter_mut().zip(self.m2.iter_mut()).zip(q) {
                let d = x - *m;
                *m += d / self.n as f64;
                *s += d * (x - *m);
            }
        }
        let out = if self.end_of_window() {
            self.compute_next_window();
            let n = self.n as f64;
            let var = self
                .m2
                .iter()
                .map(|s| {
                    let v = if n > 1.0 { s / (n - 1.0) } else { 1.0 };
                    (n / (n + 5.0)) * v + 1e-3 * (5.0 / (n + 5.0))
                })
                .collect();
            self.n = 0;
            self.mean.iter_mut().for_each(|m| *m = 0.0);
            self.m2.iter_mut().for_each(|m| *m = 0.0);
            Some(var)
        } else {
            None
        };
        self.counter += 1;
        out
    }
}

/// Stan's heuristic for a first step size: double or halve it until the
/// acceptance probability of one leapfrog step crosses 0.8.
fn find_step_size(sys: &mut System<'_>, z: &Point, mut eps: f64, rng: &mut InferRng) -> f64 {
    let delta = |sys: &mut System<'_>, eps: f64, rng: &mut InferRng| {
        let mut w = z.clone();
        sys.sample_momentum(&mut w, rng);
        let h0 = sys.hamiltonian(&w);
        sys.leapfrog(&mut w, eps);
        h0 - sys.hamiltonian(&w)
    };
    let threshold = 0.8f64.ln();
    let up = delta(sys, eps, rng) > threshold;
    for _ in 0..100 {
        let d = delta(sys, eps, rng);
        if (up && !(d > threshold)) || (!up && !(d < threshold)) {
            break;
        }
        eps = if up { eps * 2.0 } else { eps / 2.0 };
        if !(1e-12..=1e7).contains(&eps) {
            break;
        }
    }
    eps.clamp(1e-12, 1e7)
}

/// A chain's first point: φ uniform in (−2, 2) where the density and its
/// gradient are finite.
fn initial_point(sys: &mut System<'_>, dim: usize, rng: &mut InferRng) -> Result<Point, Vec<f64>> {
    let mut last = vec![0.0; dim];
    for _ in 0..MAX_INIT_TRIES {
        let mut z = Point {
            q: (0..dim).map(|_| rng.random::<f64>() * 4.0 - 2.0).collect(),
            p: vec![0.0; dim],
            logp: 0.0,
            grad: vec![0.0; dim],
        };
        sys.update(&mut z);
        if z.logp.is_finite() {
            return Ok(z);
        }
        last = z.q;
    }
    Err(last)
}

/// Runs NUTS or static HMC (`opts.method`) on `opts.gradient`.
pub(crate) fn nuts(
    ctx: &Ctx,
    model: &Model,
    opts: &Options,
) -> Result<crate::InferResult, Diagnostic> {
    let method = opts.method;
    let Some(grad) = opts.gradient.clone() else {
        return Err(Diagnostic::error(format!(
            "{} needs the model's gradient, which only compiled code provides",
            if method == Method::Hmc { "Hmc" } else { "Nuts" }
        ))
        .with_code("E0745")
        .with_help("run it with `--backend auto` or `jit`, or use Mh or Smc"));
    };
    if opts.samples == 0 {
        return Err(Diagnostic::error("Nuts needs at least one sample").with_code("E0741"));
    }
    let chains = opts.chains.max(1);
    let total = (chains * (opts.warmup + opts.samples)) as u64;
    let done = AtomicU64::new(0);
    let tick = |n: u64| {
        if let Some(p) = &opts.progress {
            p.report(done.fetch_add(n, Ordering::Relaxed) + n, total);
        }
    };
    let outputs = par::map_tasks(chains, |c| run_chain(ctx, model, opts, &grad, c, &tick));
    let mut outs = Vec::with_capacity(chains);
    let mut sampler = Vec::new();
    let mut adaptation = Vec::with_capacity(chains);
    for o in outputs {
        let (out, stats, adapted) = o?;
        outs.push(out);
        sampler.extend(stats);
        adaptation.push(adapted);
    }
    let mut result = crate::mh::mcmc_result(method, outs);
    if let Some(m) = result.mcmc.as_mut() {
        // The mean acceptance statistic (Stan's `accept_stat__`).
        m.acceptance_rate =
            sampler.iter().map(|s| s.accept_stat).sum::<f64>() / sampler.len().max(1) as f64;
        m.sampler = sampler;
        m.adaptation = adaptation;
        m.max_depth = (method == Method::Nuts).then_some(opts.max_depth);
    }
    Ok(result)
}

type ChainRun = Result<(ChainOutput, Vec<SamplerDraw>, (f64, Vec<f64>)), Diagnostic>;

fn run_chain(
    ctx: &Ctx,
    model: &Model,
    opts: &Options,
    grad: &NativeGrad,
    chain: usize,
    tick: &(dyn Fn(u64) + Sync),
) -> ChainRun {
    let g = &*grad.0;
    let dim = g.dim();
    // θ's entries per choice (a Dirichlet's simplex takes several).
    let slots = g.slots();
    let values = |theta: &[f64]| -> Vec<Value> {
        let mut at = 0;
        slots
            .iter()
            .map(|s| {
                let v = s.value(&theta[at..at + s.len()]);
                at += s.len();
                v
            })
            .collect()
    };
    let mut rng = Seed(opts.seed).stream(Purpose::Nuts, chain as u64).rng();
    // The trace layout of draws: an interpreted prior run (its own stream).
    let template = if opts.traces {
        let mut init_rng = Seed(opts.seed)
            .stream(Purpose::NutsInit, chain as u64)
            .rng();
        let state = initial_state(ctx, model, &mut init_rng)?;
        let t = state.exec.trace;
        let random_at: Vec<usize> = t
            .choices
            .iter()
            .enumerate()
            .filter(|(_, c)| c.random)
            .map(|(i, _)| i)
            .collect();
        let layout_ok = random_at.len() == slots.len()
            && random_at.iter().zip(&slots).all(|(&pos, s)| {
                let c = &t.choices[pos];
                (s.site, s.index) == (c.site, c.addr.index)
            });
        layout_ok.then(|| (t.assignments(), random_at))
    } else {
        None
    };
    let addresses: Vec<Address> = slots
        .iter()
        .map(|s| Address {
            name: model.program.site(s.site).name,
            index: s.index,
        })
        .collect();
    let mut sys = System {
        model: g,
        fault: None,
        eval: g.evaluator(),
        inv_metric: vec![1.0; dim],
        levels: Vec::new(),
    };
    let start = initial_point(&mut sys, dim, &mut rng);
    if let Some(d) = sys.fault.take() {
        return Err(d);
    }
    let mut z = match start {
        Ok(z) => z,
        Err(last) => {
            let d = Diagnostic::error(format!(
                "{} found no point where the log density and its gradient are finite \
                 in {MAX_INIT_TRIES} tries",
                opts.method.name()
            ))
            .with_code("E0740")
            .with_note("initial values are drawn uniformly in (-2, 2) on unconstrained coordinates")
            .with_help("check that the observations are possible under the prior");
            // Where the last point tried had no density.
            let mut theta = Vec::new();
            g.constrain(&last, &mut theta);
            return Err(match g.impossible(&last, &theta) {
                Some(site) => d.with_primary(
                    model.program.site(site).span,
                    "this has probability zero at every starting point tried",
                ),
                None => d,
            });
        }
    };
    let every = (opts.chains.max(1) * (opts.warmup + opts.samples))
        .div_ceil(200)
        .max(1);
    let mut eps = find_step_size(&mut sys, &z, 1.0, &mut rng);
    let mut adapter = StepSizeAdapter::new(eps, opts.target_accept);
    let mut windows = Windows::new(opts.warmup, dim);
    let transition = |sys: &mut System<'_>, z: &mut Point, eps: f64, rng: &mut InferRng| {
        if opts.method == Method::Hmc {
            hmc_transition(sys, z, eps, opts.hmc_steps.max(1) as u32, rng)
        } else {
            nuts_transition(sys, z, eps, opts.max_depth, rng)
        }
    };
    for it in 0..opts.warmup {
        if (it + 1) % every == 0 {
            tick(every as u64);
        }
        crate::limits::check(opts.stop.as_ref())?;
        let t = transition(&mut sys, &mut z, eps, &mut rng);
        if let Some(d) = sys.fault.take() {
            return Err(d);
        }
        eps = adapter.learn(t.accept_stat);
        if let Some(var) = windows.learn(&z.q) {
            sys.inv_metric = var;
            eps = find_step_size(&mut sys, &z, eps, &mut rng);
            adapter = StepSizeAdapter::new(eps, opts.target_accept);
        }
    }
    if opts.warmup > 0 {
        eps = adapter.finish();
    }
    let mut out = ChainOutput {
        draws: Vec::with_capacity(opts.samples),
        accepted: 0,
        proposed: 0,
        backend: crate::Backend::Jit,
    };
    let mut stats = Vec::with_capacity(opts.samples);
    let mut theta = Vec::with_capacity(dim);
    let mut last: Option<(Vec<f64>, Value)> = None;
    let mut accept_sum = 0.0;
    for it in 0..opts.samples {
        if (opts.warmup + it + 1) % every == 0 {
            tick(every as u64);
        }
        crate::limits::check(opts.stop.as_ref())?;
        let t = transition(&mut sys, &mut z, eps, &mut rng);
        if let Some(d) = sys.fault.take() {
            return Err(d);
        }
        accept_sum += t.accept_stat;
        g.constrain(&z.q, &mut theta);
        let value = match &last {
            Some((q, v)) if *q == z.q => v.clone(),
            _ => {
                let v = g.result(&z.q, &theta)?;
                last = Some((z.q.clone(), v.clone()));
                v
            }
        };
        let trace = match &template {
            Some((assignments, random_at)) => {
                let mut tr: Vec<(Address, Value)> = assignments.clone();
                for (&pos, x) in random_at.iter().zip(values(&theta)) {
                    tr[pos].1 = x;
                }
                tr
            }
            // The random choices alone: the run's diagnostics cover each.
            None => addresses.iter().copied().zip(values(&theta)).collect(),
        };
        out.draws.push(Draw {
            value,
            log_weight: 0.0,
            trace,
        });
        stats.push(SamplerDraw {
            chain: chain as u32,
            lp: z.logp,
            accept_stat: t.accept_stat,
            step_size: eps,
            tree_depth: t.depth,
            n_leapfrog: t.n_leapfrog,
            divergent: t.divergent,
            energy: t.energy,
        });
    }
    out.proposed = opts.samples;
    out.accepted = accept_sum.round() as usize;
    Ok((out, stats, (eps, sys.inv_metric)))
}
