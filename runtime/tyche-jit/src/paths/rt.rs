//! The run-time side of native paths: a runner's state, the arena that
//! compiled code allocates arrays, tuples and closures in, the helpers the
//! code calls (`extern "C"`), and conversions between machine words and
//! runtime values.
//!
//! A value is one 64-bit word: an Int, a Bool (0 or 1), a Real's bits,
//! `()` as 0, a distribution as an index into the runner's table, and
//! compound values as pointers into the arena: an array is `[len, x₀, x₁,
//! …]`, a tuple `[x₀, x₁, …]`, a closure `[code, capture₀, …]`. The arena
//! is reset at the start of every run: nothing outlives a run but its
//! result, converted to a [`Value`] first.

use super::types::Ty;
use super::Descs;
use rustc_hash::FxHashMap;
use tyche_infer::{BranchPoint, PathEnd};
use tyche_vm::{DistValue, Value};

/// `Ctx::abort` values: why compiled code is unwinding.
pub(crate) const RUNNING: u64 = 0;
pub(crate) const DEAD: u64 = 1;
pub(crate) const BRANCH: u64 = 2;
pub(crate) const UNSUPPORTED: u64 = 3;

/// Native frames deeper than this give up (the interpreter, whose frames
/// are on the heap, takes over), as does a run whose frames use more than
/// [`NATIVE_STACK`] bytes of the thread's stack.
pub(crate) const MAX_NATIVE_DEPTH: u64 = 2000;

/// The handle bit of distributions that live for one run.
const RUN_LOCAL: u64 = 1 << 32;

/// Words of a runner's first arena chunk (later chunks double).
const CHUNK: usize = 1 << 10;

/// What compiled code reads and writes directly, at fixed offsets.
#[repr(C)]
pub(crate) struct Ctx {
    /// Nonzero: unwind at once (one of `DEAD`, `BRANCH`, `UNSUPPORTED`).
    pub abort: u64,
    /// Compiled frames on the stack.
    pub depth: u64,
    /// The arena's next free word and the end of its current chunk.
    pub next: u64,
    pub end: u64,
    /// Per `MakeDist` descriptor, the distribution it built last, as
    /// [`LAST_WORDS`] words: 1 when set, the four parameter words, the
    /// handle. Compiled code reuses the handle when the parameters are
    /// the same, without calling [`nx_dist`].
    pub last: *mut u64,
    /// Compiled code gives up (`UNSUPPORTED`) when the stack pointer goes
    /// below this: the run's entry's stack minus [`NATIVE_STACK`].
    pub stack_limit: u64,
}

/// Words per entry of [`Ctx::last`].
pub(crate) const LAST_WORDS: usize = 6;

// Where compiled code finds `Ctx`'s fields.
pub(crate) const OFF_ABORT: i32 = std::mem::offset_of!(Ctx, abort) as i32;
pub(crate) const OFF_DEPTH: i32 = std::mem::offset_of!(Ctx, depth) as i32;
pub(crate) const OFF_NEXT: i32 = std::mem::offset_of!(Ctx, next) as i32;
pub(crate) const OFF_END: i32 = std::mem::offset_of!(Ctx, end) as i32;
pub(crate) const OFF_LAST: i32 = std::mem::offset_of!(Ctx, last) as i32;
pub(crate) const OFF_STACK_LIMIT: i32 = std::mem::offset_of!(Ctx, stack_limit) as i32;

/// Stack a run's compiled frames may use, whatever their size: less than
/// any thread running inference has left (a rayon worker has 2 MiB).
pub(crate) const NATIVE_STACK: u64 = 512 * 1024;

/// A distribution a run built, with its options for enumeration.
struct DistEntry {
    dist: DistValue,
    /// Values with nonzero probability (as words) and their log
    /// probabilities, in support order; `None` until first sampled, or
    /// when the support is not finite.
    options: Option<Option<Vec<(u64, f64)>>>,
}

/// One thread's runner: `ctx` first, so the pointer compiled code gets is
/// also a pointer to the runner.
#[repr(C)]
pub(crate) struct Runner<'a> {
    pub ctx: Ctx,
    pub descs: &'a Descs,
    chunks: Vec<Box<[u64]>>,
    chunk: usize,
    /// Distributions with scalar parameters, kept across runs and found
    /// by (descriptor, parameter words); their handles are their indices.
    cached: Vec<DistEntry>,
    dist_cache: FxHashMap<(u32, [u64; 4]), u32>,
    /// What [`Ctx::last`] points to: a model usually builds the same
    /// distribution at a site over and over.
    last: Box<[u64]>,
    /// The other distributions of this run; their handles are their
    /// indices plus [`RUN_LOCAL`].
    dists: Vec<DistEntry>,
    // The run in progress.
    pub log_weight: f64,
    prefix: *const u32,
    prefix_len: usize,
    taken: usize,
    extend: bool,
    branches: *mut Vec<BranchPoint>,
    pub stopped_at: Option<BranchPoint>,
    /// Set when the run gave up at a wide branch point (see
    /// [`WIDE_REBUILT`]): how many branch points preceded it.
    pub wide_at: Option<usize>,
}

/// A branch point with more options than this, whose distribution is
/// rebuilt on every run (vector parameters: `Categorical(ws)` for a `ws`
/// the run computes), is left to the interpreter: re-executing the model
/// once per option would rebuild the distribution and its options once per
/// option, quadratic in the width (`Categorical(repeat(20000, || 1.0))`
/// took 24 s), while the interpreter forks its machine at the branch.
/// Distributions with scalar parameters are kept across runs with their
/// options, so their wide branches stay native.
pub(crate) const WIDE_REBUILT: usize = 1024;

impl<'a> Runner<'a> {
    pub(crate) fn new(descs: &'a Descs) -> Runner<'a> {
        let mut r = Runner {
            ctx: Ctx {
                abort: RUNNING,
                depth: 0,
                next: 0,
                end: 0,
                last: std::ptr::null_mut(),
                stack_limit: 0,
            },
            descs,
            chunks: vec![vec![0u64; CHUNK].into_boxed_slice()],
            chunk: 0,
            cached: Vec::new(),
            dist_cache: FxHashMap::default(),
            last: vec![0u64; LAST_WORDS * descs.0.len()].into_boxed_slice(),
            dists: Vec::new(),
            log_weight: 0.0,
            prefix: std::ptr::null(),
            prefix_len: 0,
            taken: 0,
            extend: false,
            branches: std::ptr::null_mut(),
            stopped_at: None,
            wide_at: None,
        };
        r.enter_chunk(0);
        r.ctx.last = r.last.as_mut_ptr();
        r
    }

    fn enter_chunk(&mut self, i: usize) {
        self.chunk = i;
        let c = &mut self.chunks[i];
        self.ctx.next = c.as_mut_ptr() as u64;
        self.ctx.end = self.ctx.next + 8 * c.len() as u64;
    }

    /// Prepares a run under `prefix`; the pointers are valid until
    /// [`Runner::finish`].
    pub(crate) fn start(&mut self, prefix: &[u32], extend: bool, branches: &mut Vec<BranchPoint>) {
        self.enter_chunk(0);
        self.dists.clear();
        self.ctx.abort = RUNNING;
        self.ctx.depth = 0;
        self.log_weight = 0.0;
        self.prefix = prefix.as_ptr();
        self.prefix_len = prefix.len();
        self.taken = 0;
        self.extend = extend;
        self.branches = branches;
        self.stopped_at = None;
        self.wide_at = None;
    }

    /// How the run that returned `word` ended.
    pub(crate) fn finish(&mut self, word: u64, result: &Ty) -> PathEnd {
        self.prefix = std::ptr::null();
        self.branches = std::ptr::null_mut();
        match self.ctx.abort {
            RUNNING => match self.to_value(word, result) {
                Some(v) => PathEnd::Done(v, self.log_weight),
                None => PathEnd::Unsupported,
            },
            DEAD => PathEnd::Dead,
            BRANCH => match self.stopped_at {
                Some(b) => PathEnd::Branch(b),
                None => PathEnd::Unsupported,
            },
            _ => PathEnd::Unsupported,
        }
    }

    fn fail(&mut self) -> u64 {
        self.ctx.abort = UNSUPPORTED;
        0
    }

    /// `words` words of arena memory.
    pub(crate) fn alloc(&mut self, words: usize) -> *mut u64 {
        let bytes = 8 * words as u64;
        if self.ctx.next + bytes > self.ctx.end {
            let next = self.chunk + 1;
            if next == self.chunks.len() || self.chunks[next].len() < words {
                let size = words.max(2 * self.chunks[self.chunk].len());
                self.chunks
                    .insert(next, vec![0u64; size].into_boxed_slice());
            }
            self.enter_chunk(next);
        }
        let p = self.ctx.next as *mut u64;
        self.ctx.next += bytes;
        p
    }

    fn array_from(&mut self, xs: &[u64]) -> u64 {
        let p = self.alloc(xs.len() + 1);
        // SAFETY: `alloc` returned `len + 1` writable words.
        unsafe {
            *p = xs.len() as u64;
            std::ptr::copy_nonoverlapping(xs.as_ptr(), p.add(1), xs.len());
        }
        p as u64
    }

    /// The runtime value of `word`, of type `ty`; `None` for what words
    /// cannot say (unknown types, functions).
    pub(crate) fn to_value(&self, word: u64, ty: &Ty) -> Option<Value> {
        Some(match ty {
            Ty::Unit => Value::Unit,
            Ty::Int => Value::Int(word as i64),
            Ty::Bool => Value::Bool(word != 0),
            Ty::Real => Value::Real(f64::from_bits(word)),
            Ty::Array(e) => {
                let xs = array_words(word);
                if !xs.is_empty() && **e == Ty::Unknown {
                    return None;
                }
                Value::array(
                    xs.iter()
                        .map(|&x| self.to_value(x, e))
                        .collect::<Option<_>>()?,
                )
            }
            Ty::Tuple(ts) => {
                // SAFETY: a tuple word points to `ts.len()` words.
                let xs = unsafe { std::slice::from_raw_parts(word as *const u64, ts.len()) };
                Value::tuple(
                    xs.iter()
                        .zip(ts)
                        .map(|(&x, t)| self.to_value(x, t))
                        .collect::<Option<_>>()?,
                )
            }
            Ty::Dist(_) => Value::Dist(std::sync::Arc::new(self.dist(word)?.dist.clone())),
            _ => return None,
        })
    }

    /// The word of `v` of type `ty`, laid out in this run's arena.
    pub(crate) fn word_of(&mut self, v: &Value, ty: &Ty) -> Option<u64> {
        encode(self, v, ty)
    }

    fn values(&self, words: &[u64], tys: &[Ty]) -> Option<Vec<Value>> {
        words
            .iter()
            .zip(tys)
            .map(|(&w, t)| self.to_value(w, t))
            .collect()
    }

    /// Sets descriptor `desc`'s entry of [`Ctx::last`].
    fn remember(&mut self, desc: u64, words: [u64; 4], handle: u32) {
        let e = &mut self.last[LAST_WORDS * desc as usize..][..LAST_WORDS];
        e[0] = 1;
        e[1..5].copy_from_slice(&words);
        e[5] = handle as u64;
    }

    fn dist(&self, handle: u64) -> Option<&DistEntry> {
        if handle & RUN_LOCAL != 0 {
            self.dists.get((handle & !RUN_LOCAL) as usize)
        } else {
            self.cached.get(handle as usize)
        }
    }

    /// The options of distribution `handle` (computed once per entry).
    fn options(&mut self, handle: u64) -> Option<&[(u64, f64)]> {
        let e = if handle & RUN_LOCAL != 0 {
            self.dists.get_mut((handle & !RUN_LOCAL) as usize)?
        } else {
            self.cached.get_mut(handle as usize)?
        };
        if e.options.is_none() {
            let words = e.dist.support().map(|vs| {
                vs.iter()
                    .filter_map(|v| {
                        let lp = e.dist.log_prob(v);
                        let w = match v {
                            Value::Int(i) => *i as u64,
                            Value::Bool(b) => *b as u64,
                            _ => return Some(None),
                        };
                        (lp > f64::NEG_INFINITY).then_some(Some((w, lp)))
                    })
                    .collect::<Option<Vec<_>>>()
            });
            e.options = Some(words.flatten());
        }
        e.options.as_ref().and_then(|o| o.as_deref())
    }
}

/// Where [`encode`] lays out compound values.
pub(crate) trait Place {
    /// Stores `words` and returns their address.
    fn block(&mut self, words: &[u64]) -> u64;
    /// The handle of a distribution value, if this place can hold one.
    fn dist_handle(&mut self, d: &DistValue) -> Option<u64>;
}

impl Place for Runner<'_> {
    fn block(&mut self, words: &[u64]) -> u64 {
        let p = self.alloc(words.len());
        // SAFETY: `alloc` returned `words.len()` writable words.
        unsafe { std::ptr::copy_nonoverlapping(words.as_ptr(), p, words.len()) };
        p as u64
    }

    fn dist_handle(&mut self, d: &DistValue) -> Option<u64> {
        self.dists.push(DistEntry {
            dist: d.clone(),
            options: None,
        });
        Some((self.dists.len() - 1) as u64 | RUN_LOCAL)
    }
}

/// The word of `v`, of type `ty` (`None` when they disagree, or for what
/// words cannot hold): scalars in the word, arrays as `[len, x…]` and
/// tuples as `[x…]` blocks in `place`.
pub(crate) fn encode(place: &mut impl Place, v: &Value, ty: &Ty) -> Option<u64> {
    Some(match (v, ty) {
        (Value::Unit, Ty::Unit) => 0,
        (Value::Int(i), Ty::Int) => *i as u64,
        (Value::Bool(b), Ty::Bool) => *b as u64,
        (Value::Real(x), Ty::Real) => x.to_bits(),
        (Value::Array(xs), Ty::Array(e)) => {
            let mut words = Vec::with_capacity(xs.len() + 1);
            words.push(xs.len() as u64);
            for x in xs.iter() {
                words.push(encode(place, x, e)?);
            }
            place.block(&words)
        }
        (Value::Tuple(xs), Ty::Tuple(ts)) if xs.len() == ts.len() => {
            let words = xs
                .iter()
                .zip(ts)
                .map(|(x, t)| encode(place, x, t))
                .collect::<Option<Vec<u64>>>()?;
            place.block(&words)
        }
        (Value::Dist(d), Ty::Dist(_)) => place.dist_handle(d)?,
        _ => return None,
    })
}

/// The elements of an array word.
pub(crate) fn array_words<'w>(word: u64) -> &'w [u64] {
    // SAFETY: an array word points to its length followed by its elements,
    // in an arena or the program's static data, alive for the run.
    unsafe {
        let p = word as *const u64;
        std::slice::from_raw_parts(p.add(1), *p as usize)
    }
}

/// The runner behind the context pointer compiled code passes.
///
/// # Safety
/// `ctx` points to a live [`Runner`] (whose first field is `ctx`, in a
/// `repr(C)` struct) and was derived from a pointer to the whole runner;
/// no other reference to it is in use.
unsafe fn runner<'r>(ctx: *mut Ctx) -> &'r mut Runner<'r> {
    unsafe { &mut *(ctx as *mut Runner<'r>) }
}

fn args<'w>(ptr: *const u64, n: usize) -> &'w [u64] {
    // SAFETY: compiled code passes a stack slot holding `n` words.
    unsafe { std::slice::from_raw_parts(ptr, n) }
}

/// Arena memory when the current chunk is full.
pub(crate) extern "C" fn nx_alloc(ctx: *mut Ctx, words: u64) -> u64 {
    // SAFETY: called by compiled code with its runner's context.
    let r = unsafe { runner(ctx) };
    r.alloc(words as usize) as u64
}

/// Builds (or finds) the distribution of `MakeDist` descriptor `desc`.
pub(crate) extern "C" fn nx_dist(ctx: *mut Ctx, desc: u64, argv: *const u64) -> u64 {
    // SAFETY: as for `nx_alloc`.
    let r = unsafe { runner(ctx) };
    let super::Desc::Dist { kind, args: tys } = &r.descs.0[desc as usize] else {
        return r.fail();
    };
    let (kind, n) = (*kind, tys.len());
    let words = args(argv, n);
    let scalar = n <= 4
        && tys
            .iter()
            .all(|t| matches!(t, Ty::Int | Ty::Real | Ty::Bool));
    let key = scalar.then(|| {
        let mut k = [0u64; 4];
        k[..n].copy_from_slice(words);
        (desc as u32, k)
    });
    if let Some(k) = key {
        if let Some(&h) = r.dist_cache.get(&k) {
            r.remember(desc, k.1, h);
            return h as u64;
        }
    }
    let Some(values) = r.values(words, tys) else {
        return r.fail();
    };
    let Ok(d) = tyche_vm::make_dist(kind, values.iter()) else {
        // The interpreter reports the invalid parameter.
        return r.fail();
    };
    let entry = DistEntry {
        dist: DistValue::Prim(d),
        options: None,
    };
    match key {
        Some(k) => {
            r.cached.push(entry);
            let h = r.cached.len() - 1;
            r.dist_cache.insert(k, h as u32);
            r.remember(desc, k.1, h as u32);
            h as u64
        }
        None => {
            r.dists.push(entry);
            (r.dists.len() - 1) as u64 | RUN_LOCAL
        }
    }
}

/// A choice from distribution `handle`: replays the prefix, or meets a
/// new branch point.
pub(crate) extern "C" fn nx_sample(ctx: *mut Ctx, handle: u64) -> u64 {
    // SAFETY: as for `nx_alloc`.
    let r = unsafe { runner(ctx) };
    let replaying = r.taken < r.prefix_len;
    // SAFETY: `prefix` is the run's prefix, `prefix_len` long.
    let want = if replaying {
        unsafe { *r.prefix.add(r.taken) as usize }
    } else {
        0
    };
    if handle & RUN_LOCAL != 0 && r.options(handle).is_some_and(|o| o.len() > WIDE_REBUILT) {
        r.wide_at = Some(r.taken);
        return r.fail();
    }
    let (n, pick) = match r.options(handle) {
        Some(o) if o.len() == 1 => (1, o[0]),
        Some(o) => match o.get(want) {
            Some(&p) => (o.len(), p),
            None if o.is_empty() => {
                r.ctx.abort = DEAD;
                return 0;
            }
            None => return r.fail(),
        },
        // No finite support: the interpreter reports it.
        None => return r.fail(),
    };
    if n > 1 {
        if !replaying {
            let b = BranchPoint {
                options: n as u32,
                log_weight: r.log_weight,
            };
            if !r.extend {
                r.stopped_at = Some(b);
                r.ctx.abort = BRANCH;
                return 0;
            }
            // SAFETY: `branches` is the run's branch list, borrowed
            // mutably by `PathRunner::run` for the run.
            unsafe { (*r.branches).push(b) };
        }
        r.taken += 1;
    }
    r.log_weight += pick.1;
    pick.0
}

/// `observe(dist, value)`: the value's type is descriptor `desc`'s.
pub(crate) extern "C" fn nx_observe(ctx: *mut Ctx, desc: u64, handle: u64, word: u64) {
    // SAFETY: as for `nx_alloc`.
    let r = unsafe { runner(ctx) };
    let super::Desc::Observe { value } = &r.descs.0[desc as usize] else {
        r.fail();
        return;
    };
    let (Some(v), Some(e)) = (r.to_value(word, value), r.dist(handle)) else {
        r.fail();
        return;
    };
    r.log_weight += e.dist.log_prob(&v);
    if r.log_weight == f64::NEG_INFINITY || r.log_weight.is_nan() {
        r.ctx.abort = DEAD;
    }
}

/// `factor(w)` (and `condition`, as a factor of 0 or −∞).
pub(crate) extern "C" fn nx_factor(ctx: *mut Ctx, w: f64) {
    // SAFETY: as for `nx_alloc`.
    let r = unsafe { runner(ctx) };
    // NaN and +∞ are runtime errors (the interpreter reports them).
    if w.is_nan() || w == f64::INFINITY {
        r.fail();
        return;
    }
    r.log_weight += w;
    if r.log_weight == f64::NEG_INFINITY {
        r.ctx.abort = DEAD;
    }
}

/// A built-in or an operator on values compiled code does not handle
/// itself: converted to runtime values and applied by the interpreter's
/// own code, so results and errors are the interpreter's.
pub(crate) extern "C" fn nx_generic(ctx: *mut Ctx, desc: u64, argv: *const u64) -> u64 {
    // SAFETY: as for `nx_alloc`.
    let r = unsafe { runner(ctx) };
    let descs = r.descs;
    let (result, ret) = match &descs.0[desc as usize] {
        super::Desc::Prim {
            prim,
            args: tys,
            ret,
        } => {
            let Some(vs) = r.values(args(argv, tys.len()), tys) else {
                return r.fail();
            };
            (tyche_vm::ops::prim(*prim, &vs), ret)
        }
        super::Desc::Binary { op, lhs, rhs, ret } => {
            let w = args(argv, 2);
            let (Some(a), Some(b)) = (r.to_value(w[0], lhs), r.to_value(w[1], rhs)) else {
                return r.fail();
            };
            (tyche_vm::ops::binary(*op, &a, &b), ret)
        }
        _ => return r.fail(),
    };
    match result.ok().and_then(|v| r.word_of(&v, ret)) {
        Some(w) => w,
        None => r.fail(),
    }
}

/// `concat(xs, ys)`.
pub(crate) extern "C" fn nx_concat(ctx: *mut Ctx, xs: u64, ys: u64) -> u64 {
    // SAFETY: as for `nx_alloc`.
    let r = unsafe { runner(ctx) };
    let (a, b) = (array_words(xs), array_words(ys));
    let p = r.alloc(1 + a.len() + b.len());
    // SAFETY: `alloc` returned `1 + len` writable words, apart from the
    // sources (live arrays elsewhere in the arena or static data).
    let out = unsafe { std::slice::from_raw_parts_mut(p, 1 + a.len() + b.len()) };
    out[0] = (a.len() + b.len()) as u64;
    // Element by element: the arrays are usually short, where a call of
    // `memcpy` costs more than the copy.
    for (o, x) in out[1..].iter_mut().zip(a.iter().chain(b)) {
        *o = *x;
    }
    p as u64
}

/// `reverse(xs)`.
pub(crate) extern "C" fn nx_reverse(ctx: *mut Ctx, xs: u64) -> u64 {
    // SAFETY: as for `nx_alloc`.
    let r = unsafe { runner(ctx) };
    let rev: Vec<u64> = array_words(xs).iter().rev().copied().collect();
    r.array_from(&rev)
}

/// The helpers' symbols, for the JIT to link against.
pub(crate) fn symbols() -> [(&'static str, *const u8); 8] {
    [
        ("nx_alloc", nx_alloc as *const u8),
        ("nx_dist", nx_dist as *const u8),
        ("nx_sample", nx_sample as *const u8),
        ("nx_observe", nx_observe as *const u8),
        ("nx_factor", nx_factor as *const u8),
        ("nx_generic", nx_generic as *const u8),
        ("nx_concat", nx_concat as *const u8),
        ("nx_reverse", nx_reverse as *const u8),
    ]
}
