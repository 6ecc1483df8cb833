//! Exact inference by enumeration.
//!
//! A depth-first walk over execution paths: at each discrete choice the
//! machine is suspended and becomes a branch point holding the values of
//! the support with nonzero probability; each child resumes a clone (the
//! last child takes the machine itself). Observations multiply the path's
//! weight, and a path whose weight reaches zero is dropped at once. The
//! stack is explicit, so deep models cannot overflow the host stack.
//!
//! Large trees are walked on both cores: the tree is first expanded level
//! by level until [`SPLIT`] subtrees are open, and the subtrees are then
//! walked in parallel and their results merged in depth-first order. The
//! split depends only on the model, never on the thread count, so a seed
//! gives the same answer however many threads ran it.
//!
//! With native paths ([`NativePaths`]), the subtrees are walked by
//! re-executing the compiled model from its start under each prefix of
//! branch choices instead of forking machines: the same paths in the same
//! order with the same weights, so the same answer bit for bit.
//!
//! With [`Options::enumerate_paths`] (CSV output), the paths are recorded
//! on the interpreter (by a second walk when native code did the first:
//! the same paths in the same order) and every complete path is its own
//! draw, carrying its choices and its
//! normalised log weight `log p(x, y) − log Z`, in depth-first order;
//! draws with equal results are not merged (see docs/inference.md).
//!
//! Contract: every complete path `x` contributes `p(x) · p(y | x)` (its
//! prior probability times its likelihood) to its result; the evidence is
//! the total `Z = Σₓ p(x, y)`, and the posterior of a result `r` is
//! `Σ_{x ↦ r} p(x, y) / Z`, exactly (up to floating point).

use crate::model::Model;
use crate::native::{Backend, NativePaths, PathEnd, PathRunner};
use crate::nested::Ctx;
use crate::options::{Method, Options};
use crate::result::{Draw, InferResult};
use crate::rng::{InferRng, Purpose, Seed};
use crate::stats::log_sum_exp;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use tyche_core::Diagnostic;
use tyche_ir::{Program, SiteId};
use tyche_vm::{Address, DistValue, Effect, Machine, Value};

/// The choices of a path so far; `None` when paths are not recorded.
type PathTrace = Option<Vec<(Address, Value)>>;

/// Branch points nested deeper than this on one path abort the search:
/// such a model almost surely recurses without bound (a geometric
/// recursion has infinitely many paths).
pub const MAX_DEPTH: usize = 1000;
/// Complete paths explored before giving up.
pub const MAX_PATHS: usize = 10_000_000;
/// Open subtrees at which the tree is split for the parallel walk. A tree
/// that never has this many open paths at once is small, and is walked
/// without waking the thread pool.
const SPLIT: usize = 64;

/// A path not yet explored: a machine about to resume with `resume` (or
/// to start, for `None`), the path's weight so far and how many branch
/// points lie above it.
struct Path {
    machine: Machine,
    resume: Option<Value>,
    log_weight: f64,
    depth: usize,
    trace: PathTrace,
}

/// A suspended choice with several possible values.
struct Branch {
    machine: Machine,
    /// Values still to try, with their log probabilities.
    options: Vec<(Value, f64)>,
    next: usize,
    log_weight: f64,
    depth: usize,
    /// The choice's address and the path's choices before it.
    addr: Address,
    trace: PathTrace,
}

impl Branch {
    /// The next child path; the last one takes the machine itself.
    fn take_child(mut self) -> (Path, Option<Branch>) {
        let (v, lp) = std::mem::replace(&mut self.options[self.next], (Value::Unit, 0.0));
        self.next += 1;
        let depth = self.depth + 1;
        let log_weight = self.log_weight + lp;
        let trace = self.trace.as_ref().map(|t| {
            let mut t = t.clone();
            t.push((self.addr, v.clone()));
            t
        });
        if self.next == self.options.len() {
            let path = Path {
                machine: self.machine,
                resume: Some(v),
                log_weight,
                depth,
                trace,
            };
            (path, None)
        } else {
            let path = Path {
                machine: self.machine.clone(),
                resume: Some(v),
                log_weight,
                depth,
                trace,
            };
            (path, Some(self))
        }
    }
}

/// Why exact enumeration refused a model: the errors after which the
/// automatic method choice (`tyche-engine`) moves on to a sampler. Every
/// other enumeration error (a fault in the model, no possible execution)
/// is the run's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A choice without a finite support: continuous, infinite, too wide,
    /// or an approximate posterior (E0703).
    NotFinite,
    /// More than [`MAX_DEPTH`] nested choices on one path (E0704).
    TooDeep,
    /// More than [`MAX_PATHS`] complete paths (E0702).
    TooManyPaths,
}

impl Refusal {
    /// The error code of the refusal's diagnostic.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NotFinite => "E0703",
            Refusal::TooDeep => "E0704",
            Refusal::TooManyPaths => "E0702",
        }
    }

    /// The refusal that the diagnostic `d` of [`crate::infer`] with
    /// [`Method::Enumerate`] reports, if it is one. (The codes are this
    /// module's own: it made the diagnostic.)
    pub fn of(d: &Diagnostic) -> Option<Refusal> {
        [Refusal::NotFinite, Refusal::TooDeep, Refusal::TooManyPaths]
            .into_iter()
            .find(|r| d.code.as_deref() == Some(r.code()))
    }
}

/// Where running a path stopped.
enum Stop {
    Branch(Branch),
    Done(Value, f64, PathTrace),
    /// The path has probability zero.
    Dead,
}

/// Merges results as paths complete.
#[derive(Default)]
struct Results {
    index: HashMap<Value, usize>,
    values: Vec<Value>,
    log_mass: Vec<f64>,
    /// Every recorded path, in depth-first order.
    paths: Vec<(Value, f64, Vec<(Address, Value)>)>,
}

impl Results {
    /// Adds a complete path (kept whole when it was recorded).
    fn add_path(&mut self, v: Value, lw: f64, trace: PathTrace) {
        if let Some(t) = trace {
            self.paths.push((v.clone(), lw, t));
        }
        self.add(v, lw);
    }

    fn add(&mut self, v: Value, lw: f64) {
        match self.index.get(&v) {
            Some(&i) => self.log_mass[i] = log_sum_exp(&[self.log_mass[i], lw]),
            None => {
                self.index.insert(v.clone(), self.values.len());
                self.values.push(v);
                self.log_mass.push(lw);
            }
        }
    }

    /// Adds `other`'s results after this one's (first-seen order is kept).
    fn merge(&mut self, other: Results) {
        self.paths.extend(other.paths);
        for (v, lw) in other.values.into_iter().zip(other.log_mass) {
            self.add(v, lw);
        }
    }
}

/// What every walker shares: the model, the nested-inference context
/// and the count of complete paths (for [`MAX_PATHS`]).
struct Walk<'a> {
    ctx: &'a Ctx,
    program: &'a Program,
    paths: AtomicUsize,
    seed: Seed,
    /// Whether paths are recorded ([`Options::enumerate_paths`]).
    record: bool,
    /// Checked at every complete path and every branch point.
    stop: Option<&'a crate::Stop>,
    /// Told the number of complete paths every 4096 (total unknown).
    progress: Option<&'a crate::Progress>,
}

pub(crate) fn enumerate(
    ctx: &Ctx,
    model: &Model,
    opts: &Options,
) -> Result<InferResult, Diagnostic> {
    let native = opts.native_paths.as_ref().map(|n| n.0.as_ref());
    let mut walk = Walk {
        ctx,
        program: &model.program,
        paths: AtomicUsize::new(0),
        seed: Seed(opts.seed),
        // Native code does not record choices: with native paths, the
        // paths are recorded by a second, interpreted walk below.
        record: opts.enumerate_paths && native.is_none(),
        stop: opts.stop.as_ref(),
        progress: opts.progress.as_ref(),
    };
    let (mut results, backend) = match walk.split_and_walk(model, native) {
        Err(Abort::Interpret) => {
            // Native code gave up on a tree it was to walk whole: the
            // interpreter walks it again (and reports the error, if that
            // is why).
            walk.paths.store(0, Ordering::Relaxed);
            walk.record = opts.enumerate_paths;
            walk.split_and_walk(model, None)
                .map_err(Abort::into_diagnostic)?
        }
        other => other.map_err(Abort::into_diagnostic)?,
    };
    if opts.enumerate_paths && !walk.record {
        walk.paths.store(0, Ordering::Relaxed);
        walk.record = true;
        let (recorded, _) = walk
            .split_and_walk(model, None)
            .map_err(Abort::into_diagnostic)?;
        results.paths = recorded.paths;
    }
    let mut r = finish(results, opts.enumerate_paths)?;
    r.backend = backend;
    Ok(r)
}

/// Why a walk stopped early.
enum Abort {
    Error(Diagnostic),
    /// Native code, asked to walk the whole tree, gave up.
    Interpret,
}

impl Abort {
    fn into_diagnostic(self) -> Diagnostic {
        match self {
            Abort::Error(d) => d,
            Abort::Interpret => unreachable!("the interpreter walks every model"),
        }
    }
}

impl From<Diagnostic> for Abort {
    fn from(d: Diagnostic) -> Abort {
        Abort::Error(d)
    }
}

/// An open subtree of the split: the option indices its branch points
/// took (what native code replays), and the interpreter's suspended path
/// (none when native code expanded the tree).
struct Subtree {
    path: Option<Path>,
    prefix: Vec<u32>,
}

impl Walk<'_> {
    /// Counts a complete path; an error once there are too many.
    fn count_path(&self) -> Result<(), Diagnostic> {
        crate::limits::check(self.stop)?;
        let counted = self.paths.fetch_add(1, Ordering::Relaxed);
        if counted >= MAX_PATHS {
            return Err(too_many_paths());
        }
        if let Some(p) = self.progress.filter(|_| (counted + 1) % 4096 == 0) {
            p.report(counted as u64 + 1, 0);
        }
        Ok(())
    }

    /// The error of [`count_path`](Self::count_path) when the limit has
    /// been reached (by any thread).
    fn check_paths(&self) -> Result<(), Diagnostic> {
        crate::limits::check(self.stop)?;
        if self.paths.load(Ordering::Relaxed) >= MAX_PATHS {
            return Err(too_many_paths());
        }
        Ok(())
    }

    /// Expands the tree level by level, keeping depth-first order, until
    /// it is wide enough to split, then walks the open subtrees (in
    /// parallel when there are enough) and merges everything in frontier
    /// order. The split depends only on the model, so the result does not
    /// depend on the thread count — nor on the backend: native code runs
    /// the same paths in the same order and adds the same weights.
    ///
    /// With `native`, the subtrees are walked by native re-execution and,
    /// where native code gives up, on the interpreter; the tree above the
    /// split (a few hundred runs at most) is interpreted, so a small tree
    /// never pays for compiling. With an eager `native` (`--backend jit`)
    /// native code expands and walks the whole tree, and giving up
    /// anywhere is [`Abort::Interpret`]. Which backend walked the
    /// subtrees is returned with the results.
    fn split_and_walk(
        &self,
        model: &Model,
        native: Option<&dyn NativePaths>,
    ) -> Result<(Results, Backend), Abort> {
        let eager = native.filter(|n| n.eager());
        let mut expander = match eager {
            Some(n) => Some(n.runner().ok_or(Abort::Interpret)?),
            None => None,
        };
        let mut rng = self.seed.stream(Purpose::Enumerate, 0).rng();
        let start = match eager {
            Some(_) => None,
            None => Some(Path {
                machine: model.start()?,
                resume: None,
                log_weight: 0.0,
                depth: 0,
                trace: self.record.then(Vec::new),
            }),
        };
        let mut frontier: Vec<Result<Subtree, (Value, f64, PathTrace)>> = vec![Ok(Subtree {
            path: start,
            prefix: Vec::new(),
        })];
        loop {
            let open = frontier.iter().filter(|n| n.is_ok()).count();
            if open == 0 || open >= SPLIT {
                break;
            }
            let mut next = Vec::with_capacity(frontier.len() * 2);
            for node in frontier {
                let Subtree { path, prefix } = match node {
                    Ok(subtree) => subtree,
                    done => {
                        next.push(done);
                        continue;
                    }
                };
                let child = |i: u32, path: Option<Path>| {
                    let mut p = prefix.clone();
                    p.push(i);
                    Ok(Subtree { path, prefix: p })
                };
                match (path, expander.as_mut()) {
                    (Some(path), _) => match self.run(path, &mut rng)? {
                        Stop::Dead => {}
                        Stop::Done(v, lw, trace) => {
                            self.count_path()?;
                            next.push(Err((v, lw, trace)));
                        }
                        Stop::Branch(b) => {
                            let mut branch = Some(b);
                            let mut i = 0;
                            while let Some(b) = branch.take() {
                                let (path, rest) = b.take_child();
                                next.push(child(i, Some(path)));
                                i += 1;
                                branch = rest;
                            }
                        }
                    },
                    (None, Some(runner)) => match runner.run(&prefix, false, &mut Vec::new()) {
                        PathEnd::Dead => {}
                        PathEnd::Done(v, lw) => {
                            self.count_path()?;
                            next.push(Err((v, lw, None)));
                        }
                        PathEnd::Branch(b) if prefix.len() < MAX_DEPTH => {
                            next.extend((0..b.options).map(|i| child(i, None)));
                        }
                        PathEnd::Branch(_) | PathEnd::Unsupported => return Err(Abort::Interpret),
                    },
                    (None, None) => unreachable!("a native subtree without native code"),
                }
            }
            frontier = next;
        }
        drop(expander);
        let split = frontier.len() >= SPLIT;
        // Native code for a tree that split (compiled once, here), or for
        // all of it when eager.
        let native = native.filter(|n| (split || n.eager()) && n.runner().is_some());
        // One runner per worker, reused across its subtrees: a runner keeps
        // the distributions (and their options) it has built, and a wide
        // branch at the split (`DiscreteUniform(0, 19999)`: 20,000
        // subtrees) recomputed 20,000 options per subtree, quadratically.
        // With it, the prefix of the last wide branch point native code
        // gave up at (see `PathRunner::gave_up_wide`): its siblings below
        // go straight to the interpreter, and re-executing the model once
        // per option stays off the wide branch.
        let new_runner = || (native.and_then(|n| n.runner()), None::<Vec<u32>>);
        let subtree =
            |(runner, wide): &mut (Option<Box<dyn PathRunner + '_>>, Option<Vec<u32>>),
             (i, node): (usize, Result<Subtree, (Value, f64, PathTrace)>)| match node {
                Ok(Subtree { path, prefix }) => {
                    // Past the path limit, the walk is over: fail at once
                    // rather than start every remaining subtree.
                    self.check_paths()?;
                    let under_wide =
                        path.is_some() && wide.as_ref().is_some_and(|w| prefix.starts_with(w));
                    if let Some(r) = runner.as_mut().filter(|_| !under_wide) {
                        if let Some(r) = self.native_depth_first(r.as_mut(), prefix.clone())? {
                            return Ok((r, Some(Backend::Jit)));
                        }
                        if let Some(d) = r.gave_up_wide().filter(|&d| d <= prefix.len()) {
                            *wide = Some(prefix[..d].to_vec());
                        }
                    }
                    match path {
                        Some(path) => Ok((self.depth_first(i, path)?, Some(Backend::Interpreter))),
                        None => Err(Abort::Interpret),
                    }
                }
                Err((v, lw, trace)) => {
                    let mut r = Results::default();
                    r.add_path(v, lw, trace);
                    Ok((r, None))
                }
            };
        let parts: Vec<Result<(Results, Option<Backend>), Abort>> =
            if split && rayon::current_num_threads() > 1 {
                frontier
                    .into_par_iter()
                    .enumerate()
                    .map_init(new_runner, subtree)
                    .collect()
            } else {
                let mut state = new_runner();
                frontier
                    .into_iter()
                    .enumerate()
                    .map(|node| subtree(&mut state, node))
                    .collect()
            };
        let mut results = Results::default();
        let mut backends = Vec::new();
        for part in parts {
            let (r, b) = part?;
            results.merge(r);
            backends.extend(b);
        }
        // A tree the interpreter finished during the split was
        // interpreted; otherwise the subtrees say.
        let backend = match eager {
            Some(_) => Backend::Jit,
            None if !split => Backend::Interpreter,
            None => Backend::combine(backends),
        };
        Ok((results, backend))
    }

    /// Every complete path below `prefix`, by native re-execution: each
    /// run goes to a leaf taking option 0 at every new branch point
    /// (recorded), and the next run replays the path up to the deepest
    /// branch point with options left and takes its next one. `None`
    /// when native code gives up (the paths it counted are uncounted):
    /// the interpreter walks the subtree instead.
    fn native_depth_first(
        &self,
        runner: &mut dyn PathRunner,
        mut prefix: Vec<u32>,
    ) -> Result<Option<Results>, Diagnostic> {
        let mut results = Results::default();
        let mut counted = 0;
        let give_up = |counted: usize| -> Result<Option<Results>, Diagnostic> {
            self.paths.fetch_sub(counted, Ordering::Relaxed);
            Ok(None)
        };
        // (options, next option) of the open branch points below the
        // subtree's root.
        let mut open: Vec<(u32, u32)> = Vec::new();
        let mut met = Vec::new();
        loop {
            met.clear();
            match runner.run(&prefix, true, &mut met) {
                PathEnd::Done(v, lw) => {
                    self.count_path()?;
                    counted += 1;
                    results.add(v, lw);
                }
                PathEnd::Dead => {}
                PathEnd::Branch(_) | PathEnd::Unsupported => return give_up(counted),
            }
            for b in &met {
                if prefix.len() >= MAX_DEPTH {
                    return give_up(counted);
                }
                open.push((b.options, 1));
                prefix.push(0);
            }
            loop {
                let Some((options, next)) = open.last_mut() else {
                    return Ok(Some(results));
                };
                if *next < *options {
                    *prefix.last_mut().expect("one per open branch") = *next;
                    *next += 1;
                    break;
                }
                open.pop();
                prefix.pop();
            }
        }
    }

    /// Walks every path below `path`, depth first, on a detached machine
    /// (subtrees share no reference counts, so the threads do not contend
    /// for them). Approximate inference nested inside gets its randomness
    /// from the subtree's own stream: deterministic.
    fn depth_first(&self, subtree: usize, mut path: Path) -> Result<Results, Diagnostic> {
        path.machine.detach();
        let mut rng = self
            .seed
            .stream(Purpose::Enumerate, subtree as u64 + 1)
            .rng();
        let mut results = Results::default();
        let mut stack: Vec<Branch> = Vec::new();
        let mut pending = Some(path);
        loop {
            if let Some(path) = pending.take() {
                match self.run(path, &mut rng)? {
                    Stop::Dead => {}
                    Stop::Done(v, lw, trace) => {
                        self.count_path()?;
                        results.add_path(v, lw, trace);
                    }
                    Stop::Branch(b) => {
                        crate::limits::check(self.stop)?;
                        stack.push(b)
                    }
                }
            }
            // Take the next child of the innermost open branch point.
            let Some(top) = stack.pop() else { break };
            let (child, rest) = top.take_child();
            stack.extend(rest);
            pending = Some(child);
        }
        Ok(results)
    }

    /// Runs one path until it branches, dies or finishes.
    fn run(&self, path: Path, rng: &mut InferRng) -> Result<Stop, Diagnostic> {
        let Path {
            machine: mut m,
            resume,
            log_weight: mut lw,
            depth,
            mut trace,
        } = path;
        let mut effect = match resume {
            Some(v) => m.resume(v)?,
            None => m.run()?,
        };
        loop {
            effect = match effect {
                Effect::Sample { site, dist, addr } => {
                    let mut options = support(self.program, site, &dist)?;
                    match options.len() {
                        0 => return Ok(Stop::Dead),
                        1 => {
                            let (v, lp) = options.pop().expect("one option");
                            lw += lp;
                            if let Some(t) = &mut trace {
                                t.push((addr, v.clone()));
                            }
                            m.resume(v)?
                        }
                        _ => {
                            if depth >= MAX_DEPTH {
                                return Err(too_deep(self.program, site));
                            }
                            return Ok(Stop::Branch(Branch {
                                machine: m,
                                options,
                                next: 0,
                                log_weight: lw,
                                depth,
                                addr,
                                trace,
                            }));
                        }
                    }
                }
                Effect::Observe { dist, value, .. } => {
                    lw += dist.log_prob(&value);
                    if lw == f64::NEG_INFINITY || lw.is_nan() {
                        return Ok(Stop::Dead);
                    }
                    m.run()?
                }
                Effect::Factor { log_weight, .. } => {
                    lw += log_weight;
                    if lw == f64::NEG_INFINITY {
                        return Ok(Stop::Dead);
                    }
                    m.run()?
                }
                Effect::Intervened { addr, value, .. } => {
                    if let Some(t) = &mut trace {
                        t.push((addr, value));
                    }
                    m.run()?
                }
                Effect::Infer {
                    method,
                    model: closure,
                    span,
                } => {
                    let posterior = self.ctx.infer_effect(&m, method, closure, span, rng)?;
                    m.resume(posterior)?
                }
                Effect::Done(v) => return Ok(Stop::Done(v, lw, trace)),
            };
        }
    }
}

/// The values of a choice's support with nonzero probability, or a
/// diagnostic naming the site when there is no finite support.
fn support(
    program: &Program,
    site: SiteId,
    dist: &DistValue,
) -> Result<Vec<(Value, f64)>, Diagnostic> {
    let Some(values) = dist.support() else {
        let s = program.site(site);
        let name = program.name(s.name);
        let (what, why) = match dist {
            DistValue::Posterior(_) => (
                "choice",
                "it samples an approximate posterior, which has no exact support".to_string(),
            ),
            DistValue::Prim(d) if !d.is_discrete() => (
                "continuous choice",
                "enumeration needs finitely many values".to_string(),
            ),
            DistValue::Prim(d) => match d.support_size() {
                Some(k) => (
                    "choice",
                    format!("its support has {k} values, too many to enumerate"),
                ),
                None => ("choice", "its support is infinite".to_string()),
            },
        };
        return Err(Diagnostic::error(format!(
            "Enumerate cannot handle the {what} `{name}` ({})",
            dist.name()
        ))
        .with_code(Refusal::NotFinite.code())
        .with_primary(s.span, why)
        .with_help("use a sampling method such as Smc, Importance or Mh"));
    };
    Ok(values
        .into_iter()
        .filter_map(|v| {
            let lp = dist.log_prob(&v);
            (lp > f64::NEG_INFINITY).then_some((v, lp))
        })
        .collect())
}

fn too_deep(program: &Program, site: SiteId) -> Diagnostic {
    let s = program.site(site);
    Diagnostic::error(format!(
        "Enumerate gave up: more than {MAX_DEPTH} nested random choices on one execution path"
    ))
    .with_code(Refusal::TooDeep.code())
    .with_primary(
        s.span,
        format!("`{}` is still branching here", program.name(s.name)),
    )
    .with_note("a recursion without a bound on its depth has infinitely many paths")
    .with_help("use a sampling method such as Smc, Importance or Rejection")
}

fn too_many_paths() -> Diagnostic {
    Diagnostic::error(format!(
        "Enumerate gave up after {MAX_PATHS} execution paths"
    ))
    .with_code(Refusal::TooManyPaths.code())
    .with_help("the model has too many paths to enumerate; use a sampling method such as Smc")
}

fn finish(results: Results, paths: bool) -> Result<InferResult, Diagnostic> {
    let log_z = log_sum_exp(&results.log_mass);
    if log_z == f64::NEG_INFINITY || log_z.is_nan() {
        return Err(
            Diagnostic::error("Enumerate: every execution has probability zero")
                .with_code("E0705")
                .with_note("the conditions and observations can never all hold together"),
        );
    }
    let draws = if paths {
        results
            .paths
            .into_iter()
            .map(|(value, lw, trace)| Draw {
                value,
                log_weight: lw - log_z,
                trace,
            })
            .collect()
    } else {
        results
            .values
            .into_iter()
            .zip(results.log_mass)
            .map(|(value, lm)| Draw {
                value,
                log_weight: lm - log_z,
                trace: Vec::new(),
            })
            .collect()
    };
    Ok(InferResult {
        method: Method::Enumerate,
        draws,
        log_evidence: Some(log_z),
        ess: None,
        exact: true,
        mcmc: None,
        backend: crate::Backend::Interpreter,
    })
}
