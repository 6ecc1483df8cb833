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
//! Contract: every complete path `x` contributes `p(x) · p(y | x)` (its
//! prior probability times its likelihood) to its result; the evidence is
//! the total `Z = Σₓ p(x, y)`, and the posterior of a result `r` is
//! `Σ_{x ↦ r} p(x, y) / Z`, exactly (up to floating point).

use crate::model::Model;
use crate::native::{NativePaths, PathEnd};
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
use tyche_vm::{DistValue, Effect, Machine, Value};

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
}

/// A suspended choice with several possible values.
struct Branch {
    machine: Machine,
    /// Values still to try, with their log probabilities.
    options: Vec<(Value, f64)>,
    next: usize,
    log_weight: f64,
    depth: usize,
}

impl Branch {
    /// The next child path; the last one takes the machine itself.
    fn take_child(mut self) -> (Path, Option<Branch>) {
        let (v, lp) = std::mem::replace(&mut self.options[self.next], (Value::Unit, 0.0));
        self.next += 1;
        let depth = self.depth + 1;
        let log_weight = self.log_weight + lp;
        if self.next == self.options.len() {
            let path = Path {
                machine: self.machine,
                resume: Some(v),
                log_weight,
                depth,
            };
            (path, None)
        } else {
            let path = Path {
                machine: self.machine.clone(),
                resume: Some(v),
                log_weight,
                depth,
            };
            (path, Some(self))
        }
    }
}

/// Where running a path stopped.
enum Stop {
    Branch(Branch),
    Done(Value, f64),
    /// The path has probability zero.
    Dead,
}

/// Merges results as paths complete.
#[derive(Default)]
struct Results {
    index: HashMap<Value, usize>,
    values: Vec<Value>,
    log_mass: Vec<f64>,
}

impl Results {
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
}

pub(crate) fn enumerate(
    ctx: &Ctx,
    model: &Model,
    opts: &Options,
) -> Result<InferResult, Diagnostic> {
    let paths = AtomicUsize::new(0);
    if let Some(native) = &opts.native_paths {
        let tree = NativeTree {
            paths: native.0.as_ref(),
            count: &paths,
        };
        match split_and_walk(&tree, Vec::new()) {
            Ok(results) => {
                let mut r = finish(results)?;
                r.backend = crate::Backend::Jit;
                return Ok(r);
            }
            // The interpreter redoes the whole enumeration (and reports
            // the error, if that is why native code stopped).
            Err(Abort::Interpret) => paths.store(0, Ordering::Relaxed),
            Err(Abort::Error(d)) => return Err(d),
        }
    }
    let walk = Walk {
        ctx,
        program: &model.program,
        paths,
        seed: Seed(opts.seed),
    };
    let start = Path {
        machine: model.start()?,
        resume: None,
        log_weight: 0.0,
        depth: 0,
    };
    match split_and_walk(&walk, start) {
        Ok(results) => finish(results),
        Err(Abort::Error(d)) => Err(d),
        Err(Abort::Interpret) => unreachable!("the interpreter walks every model"),
    }
}

/// Why a walk stopped early.
enum Abort {
    Error(Diagnostic),
    /// Native code cannot run the model: interpret it instead.
    Interpret,
}

impl From<Diagnostic> for Abort {
    fn from(d: Diagnostic) -> Abort {
        Abort::Error(d)
    }
}

/// What running a path up to its next branch point gives.
enum Expanded<P> {
    /// The paths below the branch point, in option order.
    Children(Vec<P>),
    Done(Value, f64),
    Dead,
}

/// A way of walking the tree of execution paths: on interpreter machines
/// ([`Walk`]) or by native re-execution ([`NativeTree`]).
trait Tree: Sync {
    type Path: Send;
    /// Runs `path` (the first in frontier order is number 0 …) to its next
    /// branch point, end or death. `rng` serves nested inference.
    fn expand(&self, path: Self::Path, rng: &mut InferRng) -> Result<Expanded<Self::Path>, Abort>;
    /// Every complete path below `path`, depth first; `subtree` numbers
    /// the open subtrees of the split (for random streams).
    fn depth_first(&self, subtree: usize, path: Self::Path) -> Result<Results, Abort>;
    /// Counts a complete path; an error once there are too many.
    fn count_path(&self) -> Result<(), Abort>;
    /// The stream for nested inference during the split.
    fn split_rng(&self) -> InferRng;
}

/// Expands the tree level by level, keeping depth-first order, until it is
/// wide enough to split, then walks the open subtrees (in parallel when
/// there are enough) and merges everything in frontier order. The split
/// depends only on the model, so the result does not depend on the thread
/// count.
fn split_and_walk<T: Tree>(tree: &T, start: T::Path) -> Result<Results, Abort> {
    let mut rng = tree.split_rng();
    let mut frontier: Vec<Result<T::Path, (Value, f64)>> = vec![Ok(start)];
    loop {
        let open = frontier.iter().filter(|n| n.is_ok()).count();
        if open == 0 || open >= SPLIT {
            break;
        }
        let mut next = Vec::with_capacity(frontier.len() * 2);
        for node in frontier {
            let path = match node {
                Ok(path) => path,
                done => {
                    next.push(done);
                    continue;
                }
            };
            match tree.expand(path, &mut rng)? {
                Expanded::Dead => {}
                Expanded::Done(v, lw) => {
                    tree.count_path()?;
                    next.push(Err((v, lw)));
                }
                Expanded::Children(children) => next.extend(children.into_iter().map(Ok)),
            }
        }
        frontier = next;
    }
    let subtree = |(i, node): (usize, Result<T::Path, (Value, f64)>)| match node {
        Ok(path) => tree.depth_first(i, path),
        Err((v, lw)) => {
            let mut r = Results::default();
            r.add(v, lw);
            Ok(r)
        }
    };
    let parts: Vec<Result<Results, Abort>> =
        if frontier.len() >= SPLIT && rayon::current_num_threads() > 1 {
            frontier.into_par_iter().enumerate().map(subtree).collect()
        } else {
            frontier.into_iter().enumerate().map(subtree).collect()
        };
    let mut results = Results::default();
    for part in parts {
        results.merge(part?);
    }
    Ok(results)
}

/// Counts a complete path in `paths`; an error once there are too many.
fn count_path(paths: &AtomicUsize) -> Result<(), Abort> {
    if paths.fetch_add(1, Ordering::Relaxed) >= MAX_PATHS {
        return Err(Abort::Error(
            Diagnostic::error(format!(
                "Enumerate gave up after {MAX_PATHS} execution paths"
            ))
            .with_code("E0702")
            .with_help(
                "the model has too many paths to enumerate; use a sampling method such as Smc",
            ),
        ));
    }
    Ok(())
}

/// Enumeration by native re-execution: a path is the option indices of
/// its branch points, and every run starts from the model's beginning.
/// Re-running a prefix costs less in compiled code than the interpreter
/// spends cloning a machine at each branch point.
struct NativeTree<'a> {
    paths: &'a dyn NativePaths,
    count: &'a AtomicUsize,
}

impl NativeTree<'_> {
    fn end(&self, end: PathEnd) -> Result<Option<(Value, f64)>, Abort> {
        match end {
            PathEnd::Done(v, lw) => {
                self.count_path()?;
                Ok(Some((v, lw)))
            }
            PathEnd::Dead => Ok(None),
            PathEnd::Branch(_) | PathEnd::Unsupported => Err(Abort::Interpret),
        }
    }
}

impl Tree for NativeTree<'_> {
    type Path = Vec<u32>;

    fn expand(&self, prefix: Vec<u32>, _: &mut InferRng) -> Result<Expanded<Vec<u32>>, Abort> {
        let mut runner = self.paths.runner();
        match runner.run(&prefix, false, &mut Vec::new()) {
            PathEnd::Branch(b) => {
                if prefix.len() >= MAX_DEPTH {
                    return Err(Abort::Interpret);
                }
                Ok(Expanded::Children(
                    (0..b.options)
                        .map(|i| {
                            let mut p = prefix.clone();
                            p.push(i);
                            p
                        })
                        .collect(),
                ))
            }
            end => Ok(match self.end(end)? {
                Some((v, lw)) => Expanded::Done(v, lw),
                None => Expanded::Dead,
            }),
        }
    }

    /// Each run extends the path with option 0 at every new branch point
    /// to a leaf; the next run replays the path up to the deepest branch
    /// point with options left, and takes its next one.
    fn depth_first(&self, _: usize, mut prefix: Vec<u32>) -> Result<Results, Abort> {
        let mut runner = self.paths.runner();
        let mut results = Results::default();
        let base = prefix.len();
        // (options, next option) of the open branch points below `base`.
        let mut open: Vec<(u32, u32)> = Vec::new();
        let mut met = Vec::new();
        loop {
            met.clear();
            let end = runner.run(&prefix, true, &mut met);
            if let Some((v, lw)) = self.end(end)? {
                results.add(v, lw);
            }
            for b in &met {
                if prefix.len() >= MAX_DEPTH {
                    return Err(Abort::Interpret);
                }
                open.push((b.options, 1));
                prefix.push(0);
            }
            loop {
                let Some((options, next)) = open.last_mut() else {
                    return Ok(results);
                };
                if *next < *options {
                    *prefix.last_mut().expect("one per open branch") = *next;
                    *next += 1;
                    break;
                }
                open.pop();
                prefix.pop();
            }
            debug_assert_eq!(prefix.len(), base + open.len());
        }
    }

    fn count_path(&self) -> Result<(), Abort> {
        count_path(self.count)
    }

    fn split_rng(&self) -> InferRng {
        Seed(0).stream(Purpose::Enumerate, 0).rng()
    }
}

impl Tree for Walk<'_> {
    type Path = Path;

    fn expand(&self, path: Path, rng: &mut InferRng) -> Result<Expanded<Path>, Abort> {
        Ok(match self.run(path, rng)? {
            Stop::Dead => Expanded::Dead,
            Stop::Done(v, lw) => Expanded::Done(v, lw),
            Stop::Branch(b) => {
                let mut children = Vec::with_capacity(b.options.len());
                let mut branch = Some(b);
                while let Some(b) = branch.take() {
                    let (child, rest) = b.take_child();
                    children.push(child);
                    branch = rest;
                }
                Expanded::Children(children)
            }
        })
    }

    /// Walks every path below `path`, depth first, on a detached machine
    /// (subtrees share no reference counts, so the threads do not contend
    /// for them). Approximate inference nested inside gets its randomness
    /// from the subtree's own stream: deterministic.
    fn depth_first(&self, subtree: usize, mut path: Path) -> Result<Results, Abort> {
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
                    Stop::Done(v, lw) => {
                        self.count_path()?;
                        results.add(v, lw);
                    }
                    Stop::Branch(b) => stack.push(b),
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

    fn count_path(&self) -> Result<(), Abort> {
        count_path(&self.paths)
    }

    fn split_rng(&self) -> InferRng {
        self.seed.stream(Purpose::Enumerate, 0).rng()
    }
}

impl Walk<'_> {
    /// Runs one path until it branches, dies or finishes.
    fn run(&self, path: Path, rng: &mut InferRng) -> Result<Stop, Diagnostic> {
        let Path {
            machine: mut m,
            resume,
            log_weight: mut lw,
            depth,
        } = path;
        let mut effect = match resume {
            Some(v) => m.resume(v)?,
            None => m.run()?,
        };
        loop {
            effect = match effect {
                Effect::Sample { site, dist, .. } => {
                    let mut options = support(self.program, site, &dist)?;
                    match options.len() {
                        0 => return Ok(Stop::Dead),
                        1 => {
                            let (v, lp) = options.pop().expect("one option");
                            lw += lp;
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
                Effect::Intervened { .. } => m.run()?,
                Effect::Infer {
                    method,
                    model: closure,
                    span,
                } => {
                    let posterior = self.ctx.infer_effect(&m, method, closure, span, rng)?;
                    m.resume(posterior)?
                }
                Effect::Done(v) => return Ok(Stop::Done(v, lw)),
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
        .with_code("E0703")
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
    .with_code("E0704")
    .with_primary(
        s.span,
        format!("`{}` is still branching here", program.name(s.name)),
    )
    .with_note("a recursion without a bound on its depth has infinitely many paths")
    .with_help("use a sampling method such as Smc, Importance or Rejection")
}

fn finish(results: Results) -> Result<InferResult, Diagnostic> {
    let log_z = log_sum_exp(&results.log_mass);
    if log_z == f64::NEG_INFINITY || log_z.is_nan() {
        return Err(
            Diagnostic::error("Enumerate: every execution has probability zero")
                .with_code("E0705")
                .with_note("the conditions and observations can never all hold together"),
        );
    }
    let draws = results
        .values
        .into_iter()
        .zip(results.log_mass)
        .map(|(value, lm)| Draw {
            value,
            log_weight: lm - log_z,
            trace: Vec::new(),
        })
        .collect();
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
