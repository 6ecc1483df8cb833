//! Random discrete models, enumerated on the interpreter and on native
//! paths: the outputs must be the same byte for byte (but for the JSON key
//! `"backend"`), and so must the `--output` CSV, the exit status and the
//! diagnostics of a run that fails. `--backend auto` must agree too.
//!
//! A small deterministic generator (SplitMix64 from a fixed seed) writes
//! well-typed models with a handful of finite choices (`DiscreteUniform`
//! with bounds that may depend on earlier choices, `Bernoulli`,
//! `Categorical` with zero entries, `Binomial`; named, anonymous, and
//! sharing a name across sites; in loops, lambdas and helper functions),
//! Int, Real and Bool arithmetic, `if` on random values, arrays and the
//! list functions (`concat map filter fold scan len reverse zip range
//! repeat sum product` and the prelude's `count any all cumsum softmax
//! mean_of dot`), indexing, tuples, compound equality, closures capturing
//! sampled values passed to higher-order functions (chosen at random,
//! kept in arrays, returned by functions), recursive functions bounded by
//! a counter (tail, non-tail, mutual, one deeper than native paths' frame
//! limit), globals and data defaults, arrays longer than the native
//! arena's first chunk, and `condition`, `factor` and `observe`. It
//! tracks an interval for every Int value, so divisors are non-zero,
//! indices in bounds, distribution parameters valid and no arithmetic
//! overflows; an estimate of the number of paths keeps enumeration small
//! (at most ~1,500 paths). A polymorphic helper (`first`) now and then
//! tests how native paths type a polymorphic call (a refusal, E0751, is
//! counted, and allowed). About one program
//! in ten is made risky on purpose (a division by zero, an index out of
//! bounds, an invalid parameter, an overflow, a NaN converted to Int or
//! given to `factor`, a negative exponent, on some paths): both backends
//! must then report the interpreter's error.
//!
//! `TYCHE_FUZZ_SEED` and `TYCHE_FUZZ_COUNT` override the seed and the
//! number of programs (to hunt further: thousands run in minutes);
//! `TYCHE_FUZZ_KEEP=1` keeps the generated programs in the scratch
//! directory (its path is printed). `--nocapture` shows the counts.

mod common;

use common::enumeration::{disagreements, enumerate, scratch_dir, Run};
use common::{par_map, tyche};
use std::fmt::Write as _;
use std::path::Path;

// ---------------------------------------------------------------------
// The generator.

/// SplitMix64: a tiny, well-mixed deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..=hi`.
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `num / den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// The values an Int expression can take (inclusive, over-approximated).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Iv {
    lo: i64,
    hi: i64,
}

const fn iv(lo: i64, hi: i64) -> Iv {
    Iv { lo, hi }
}

impl Iv {
    fn add(self, o: Iv) -> Iv {
        iv(self.lo + o.lo, self.hi + o.hi)
    }
    fn sub(self, o: Iv) -> Iv {
        iv(self.lo - o.hi, self.hi - o.lo)
    }
    fn mul(self, o: Iv) -> Iv {
        let c = [
            self.lo * o.lo,
            self.lo * o.hi,
            self.hi * o.lo,
            self.hi * o.hi,
        ];
        iv(*c.iter().min().unwrap(), *c.iter().max().unwrap())
    }
    /// Truncating division by a divisor of one sign (monotone in each
    /// argument, so the corners bound it; `a / -d == -(a / d)`).
    fn div(self, d: Iv) -> Iv {
        if d.hi < 0 {
            let q = self.div(iv(-d.hi, -d.lo));
            return iv(-q.hi, -q.lo);
        }
        let c = [
            self.lo / d.lo,
            self.lo / d.hi,
            self.hi / d.lo,
            self.hi / d.hi,
        ];
        iv(*c.iter().min().unwrap(), *c.iter().max().unwrap())
    }
    /// Remainder by a positive divisor (the sign of the dividend, or
    /// Euclidean: both inside this).
    fn rem(self, d: Iv) -> Iv {
        let m = d.mag() - 1;
        if self.lo >= 0 {
            iv(0, self.hi.min(m))
        } else {
            iv(self.lo.max(-m), m)
        }
    }
    fn abs(self) -> Iv {
        if self.lo >= 0 {
            self
        } else if self.hi <= 0 {
            iv(-self.hi, -self.lo)
        } else {
            iv(0, self.mag())
        }
    }
    fn union(self, o: Iv) -> Iv {
        iv(self.lo.min(o.lo), self.hi.max(o.hi))
    }
    fn max(self, o: Iv) -> Iv {
        iv(self.lo.max(o.lo), self.hi.max(o.hi))
    }
    fn min(self, o: Iv) -> Iv {
        iv(self.lo.min(o.lo), self.hi.min(o.hi))
    }
    fn mag(self) -> i64 {
        self.lo.abs().max(self.hi.abs())
    }
    fn within(self, o: Iv) -> bool {
        o.lo <= self.lo && self.hi <= o.hi
    }
}

/// Int values stay this small (so nothing overflows, and sums of a few of
/// them neither).
const MAG: i64 = 2_000;
/// The parameter domain of closures `(Int) -> Int` in scope.
const DOM: Iv = iv(0, 4);
/// The estimated number of paths a program may have.
const PATHS: f64 = 1_500.0;
/// Array lengths stay below this.
const MAX_LEN: i64 = 7;

#[derive(Clone, Debug)]
enum Kind {
    Int(Iv),
    Real,
    Bool,
    /// Length, elements.
    IntArr(Iv, Iv),
    RealArr(Iv),
    BoolArr(Iv),
    /// `(Int, Bool)`.
    Pair(Iv),
    /// `(Int) -> Int` on [`DOM`], with its results.
    Fun(Iv),
}

#[derive(Clone, Debug)]
struct Var {
    name: String,
    kind: Kind,
}

/// The generator's state for one program.
struct Gen {
    rng: Rng,
    scope: Vec<Var>,
    fresh: usize,
    /// Estimated number of paths so far (an over-estimate).
    paths: f64,
    /// How many times the code being generated may run on one path (the
    /// product of the lengths of the arrays being mapped over, …).
    mult: f64,
    /// Inside a closure bound by `let` (called any number of times): no
    /// random choices.
    pure: bool,
    /// Top-level items, by name (helpers and recursive functions).
    items: Vec<(String, String)>,
    /// Whether this program gets one construct that can fail at run time.
    risky: bool,
    /// Top-level constants and data items.
    globals: Vec<String>,
    /// The names of global arrays of weights (for `Categorical`).
    weights: Vec<String>,
    /// The variables bound by `let … ~`.
    choices: Vec<String>,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let mut rng = Rng(seed);
        let risky = rng.chance(1, 10);
        Gen {
            rng,
            scope: Vec::new(),
            fresh: 0,
            paths: 1.0,
            mult: 1.0,
            pure: false,
            items: Vec::new(),
            risky,
            globals: Vec::new(),
            weights: Vec::new(),
            choices: Vec::new(),
        }
    }

    fn name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    /// Whether a choice with `support` values fits the path budget (and
    /// books it if so).
    fn afford(&mut self, support: i64) -> bool {
        if self.pure {
            return false;
        }
        let cost = (support.max(1) as f64).powf(self.mult);
        if self.paths * cost <= PATHS {
            self.paths *= cost;
            true
        } else {
            false
        }
    }

    fn vars(&self, f: impl Fn(&Kind) -> bool) -> Vec<Var> {
        self.scope.iter().filter(|v| f(&v.kind)).cloned().collect()
    }

    fn pick_var(&mut self, f: impl Fn(&Kind) -> bool) -> Option<Var> {
        let vs = self.vars(f);
        if vs.is_empty() {
            None
        } else {
            Some(self.rng.pick(&vs).clone())
        }
    }

    /// A variable bound by `let … ~` (still in scope).
    fn pick_choice(&mut self, f: impl Fn(&Kind) -> bool) -> Option<Var> {
        let vs: Vec<Var> = self
            .scope
            .iter()
            .filter(|v| self.choices.contains(&v.name) && f(&v.kind))
            .cloned()
            .collect();
        if vs.is_empty() {
            None
        } else {
            Some(self.rng.pick(&vs).clone())
        }
    }

    fn item(&mut self, name: &str, text: impl FnOnce(&mut Gen) -> String) {
        if !self.items.iter().any(|(n, _)| n == name) {
            let t = text(self);
            self.items.push((name.to_string(), t));
        }
    }

    // -- Int ----------------------------------------------------------

    fn int_lit(&mut self) -> (String, Iv) {
        let k = self.rng.int(-3, 6);
        (lit(k), iv(k, k))
    }

    fn int_leaf(&mut self) -> (String, Iv) {
        if self.rng.chance(1, 3) {
            if let Some(v) = self.pick_choice(|k| matches!(k, Kind::Int(_))) {
                let Kind::Int(i) = v.kind else { unreachable!() };
                return (v.name, i);
            }
        }
        if self.rng.chance(3, 4) {
            if let Some(v) = self.pick_var(|k| matches!(k, Kind::Int(_))) {
                let Kind::Int(i) = v.kind else { unreachable!() };
                return (v.name, i);
            }
        }
        self.int_lit()
    }

    /// An Int expression that is at least 1 (a divisor).
    fn positive(&mut self, d: u32) -> (String, Iv) {
        match self.rng.below(3) {
            0 => {
                let k = self.rng.int(1, 4);
                (k.to_string(), iv(k, k))
            }
            1 => {
                if let Some(v) = self.pick_var(|k| matches!(k, Kind::Int(i) if i.lo >= 1)) {
                    let Kind::Int(i) = v.kind else { unreachable!() };
                    return (v.name, i);
                }
                (String::from("2"), iv(2, 2))
            }
            _ => {
                let (e, i) = self.int(d.saturating_sub(1));
                (format!("(abs({e}) + 1)"), i.abs().add(iv(1, 1)))
            }
        }
    }

    /// `e` brought into `dom` (which starts at 0).
    fn coerce(&mut self, (e, i): (String, Iv), dom: Iv) -> String {
        debug_assert_eq!(dom.lo, 0);
        if i.within(dom) {
            e
        } else if i.lo >= 0 {
            format!("min({e}, {})", dom.hi)
        } else {
            format!("(abs({e}) % {})", dom.hi + 1)
        }
    }

    /// An Int expression of depth at most `d`.
    fn int(&mut self, d: u32) -> (String, Iv) {
        if d == 0 {
            return self.int_leaf();
        }
        loop {
            match self.rng.below(30) {
                0..=2 => return self.int_leaf(),
                3..=5 => {
                    let (a, ai) = self.int(d - 1);
                    let (b, bi) = self.int(d - 1);
                    let (op, r) = match self.rng.below(3) {
                        0 => ("+", ai.add(bi)),
                        1 => ("-", ai.sub(bi)),
                        _ => ("*", ai.mul(bi)),
                    };
                    if r.mag() <= MAG {
                        return (format!("({a} {op} {b})"), r);
                    }
                }
                6 => {
                    let (a, ai) = self.int(d - 1);
                    let (b, bi) = self.positive(d - 1);
                    // A negative divisor now and then.
                    let (b, bi) = if self.rng.chance(1, 3) {
                        (format!("(-{b})"), iv(-bi.hi, -bi.lo))
                    } else {
                        (b, bi)
                    };
                    if self.rng.chance(1, 2) {
                        return (format!("({a} / {b})"), ai.div(bi));
                    }
                    return (format!("({a} % {b})"), ai.rem(bi));
                }
                7..=8 => {
                    let c = self.bool(d - 1);
                    let (a, ai) = self.int(d - 1);
                    let (b, bi) = self.int(d - 1);
                    return (format!("(if {c} {{ {a} }} else {{ {b} }})"), ai.union(bi));
                }
                9 => {
                    let (a, ai) = self.int(d - 1);
                    let (b, bi) = self.int(d - 1);
                    return match self.rng.below(3) {
                        0 => (format!("max({a}, {b})"), ai.max(bi)),
                        1 => (format!("min({a}, {b})"), ai.min(bi)),
                        _ => (format!("abs({a})"), ai.abs()),
                    };
                }
                10 => {
                    let (a, ai) = self.int(d - 1);
                    let k = self.rng.int(0, 2);
                    let r = (0..k).fold(iv(1, 1), |acc, _| acc.mul(ai));
                    if r.mag() <= MAG && ai.mag() <= MAG {
                        return (format!("({a} ^ {k})"), r);
                    }
                }
                11..=12 => {
                    if let Some(r) = self.index_int() {
                        return r;
                    }
                }
                13 => {
                    if let Some(v) = self.pick_var(|k| {
                        matches!(k, Kind::IntArr(..) | Kind::RealArr(_) | Kind::BoolArr(_))
                    }) {
                        let len = match v.kind {
                            Kind::IntArr(l, _) | Kind::RealArr(l) | Kind::BoolArr(l) => l,
                            _ => unreachable!(),
                        };
                        return (format!("len({})", v.name), len);
                    }
                }
                14 => {
                    let (a, l, e) = self.int_arr(d - 1);
                    if l.hi * e.mag() <= MAG {
                        return (
                            format!("sum({a})"),
                            iv(l.hi * e.lo.min(0), l.hi * e.hi.max(0)),
                        );
                    }
                }
                15..=16 => {
                    if let Some(r) = self.fold_int(d) {
                        return r;
                    }
                }
                17..=18 => {
                    if let Some((dist, i, n)) = self.int_dist(d - 1) {
                        if self.afford(n) {
                            return (self.sample(&dist), i);
                        }
                    }
                }
                19 => {
                    if let Some(v) = self.pick_var(|k| matches!(k, Kind::Fun(_))) {
                        let Kind::Fun(r) = v.kind else { unreachable!() };
                        let a = self.int(d - 1);
                        let a = self.coerce(a, DOM);
                        return (format!("{}({a})", v.name), r);
                    }
                }
                20 => {
                    if let Some(v) = self.pick_var(|k| matches!(k, Kind::Pair(_))) {
                        let Kind::Pair(i) = v.kind else {
                            unreachable!()
                        };
                        return (format!("{}.0", v.name), i);
                    }
                }
                21 => {
                    if let Some(r) = self.call_rec_int(d) {
                        return r;
                    }
                }
                22 => {
                    let (a, ai) = self.int(d - 1);
                    let k = self.rng.int(2, 4);
                    return (format!("int(real({a}) / {k}.0)"), iv(ai.lo / k, ai.hi / k));
                }
                24 => {
                    // A function with a choice of its own, called from
                    // any site.
                    let (a, ai) = self.int(d - 1);
                    if self.afford(3) {
                        self.item("noisy", |_| {
                            "fn noisy(x: Int) -> Int {\n    let e ~ DiscreteUniform(-1, 1);\n    x + e\n}\n".into()
                        });
                        return (format!("noisy({a})"), ai.add(iv(-1, 1)));
                    }
                }
                25 => {
                    // A block with a local binding.
                    let (a, ai) = self.int(d - 1);
                    let y = self.name("y");
                    let (b, bi) = self.with_param(&y, Kind::Int(ai), iv(1, 1), |g| g.int(d - 1));
                    return (format!("({{ let {y} = {a}; {b} }})"), bi);
                }
                26 => {
                    let (a, ai) = self.int(d - 1);
                    return (format!("(-{a})"), iv(-ai.hi, -ai.lo));
                }
                27 => {
                    let (a, l, e) = self.int_arr(d - 1);
                    let m = e.mag().max(1);
                    let bound = (0..l.hi).fold(1_i64, |acc, _| acc.saturating_mul(m));
                    if bound <= MAG {
                        return (format!("product({a})"), iv(-bound, bound));
                    }
                }
                28 => {
                    // The prelude's `count`.
                    let (a, l, e) = self.int_arr(d - 1);
                    let x = self.name("x");
                    let b = self.with_param(&x, Kind::Int(e), l, |g| g.bool(1));
                    return (format!("count({a}, |{x}| {b})"), iv(0, l.hi));
                }
                29 if self.rng.chance(1, 4) => {
                    // A polymorphic function (it only moves values; native
                    // paths type its result from the argument's type).
                    if let Some(v) = self.pick_var(|k| matches!(k, Kind::IntArr(l, _) if l.lo >= 1))
                    {
                        let Kind::IntArr(_, e) = v.kind else {
                            unreachable!()
                        };
                        self.first();
                        return (format!("first({})", v.name), e);
                    }
                }
                _ => {
                    // A closure helper applied twice.
                    if let Some(v) = self.pick_var(|k| matches!(k, Kind::Fun(r) if r.within(DOM))) {
                        let Kind::Fun(r) = v.kind else { unreachable!() };
                        self.item("apply_twice", |_| {
                            "fn apply_twice(f: (Int) -> Int, x: Int) -> Int { f(f(x)) }\n".into()
                        });
                        let a = self.int(d - 1);
                        let a = self.coerce(a, DOM);
                        return (format!("apply_twice({}, {a})", v.name), r);
                    }
                }
            }
        }
    }

    fn first(&mut self) {
        self.item("first", |_| "fn first(xs) { xs[0] }\n".into());
    }

    fn sample(&mut self, dist: &str) -> String {
        if self.rng.chance(1, 4) {
            // A name of its own, or one that other sites share (one type
            // per name).
            let n = match self.rng.below(2) {
                0 => self.name("s"),
                _ if dist.starts_with("Bernoulli") => "shared_b".to_string(),
                _ => "shared_k".to_string(),
            };
            format!("sample(\"{n}\", {dist})")
        } else {
            format!("sample({dist})")
        }
    }

    /// An element of an array variable at an index in bounds.
    fn index_int(&mut self) -> Option<(String, Iv)> {
        let v = self.pick_var(|k| matches!(k, Kind::IntArr(..)))?;
        let Kind::IntArr(len, elem) = v.kind else {
            unreachable!()
        };
        let i = self.index(&v.name, len)?;
        Some((i, elem))
    }

    /// `name[i]` for an index in bounds, or `None` if `name` may be empty
    /// (then the caller guards it or does something else).
    fn index(&mut self, name: &str, len: Iv) -> Option<String> {
        if len.lo < 1 {
            return None;
        }
        let inside = iv(0, len.lo - 1);
        Some(match self.rng.below(4) {
            0 => format!("{name}[{}]", self.rng.int(0, len.lo - 1)),
            1 => {
                if let Some(v) = self.pick_var(|k| matches!(k, Kind::Int(i) if i.within(inside))) {
                    format!("{name}[{}]", v.name)
                } else {
                    format!("{name}[len({name}) - 1]")
                }
            }
            2 => format!("{name}[len({name}) - 1]"),
            _ => {
                let (e, _) = self.int(1);
                format!("{name}[abs({e}) % len({name})]")
            }
        })
    }

    /// `fold` over an Int array to an Int.
    fn fold_int(&mut self, d: u32) -> Option<(String, Iv)> {
        let (xs, len, elem) = self.int_arr(d - 1);
        let (init, ii) = self.int_leaf();
        let (body, acc) = self.int_step(len, elem, ii)?;
        Some((format!("fold({xs}, {init}, {body})"), acc))
    }

    /// A step function `|acc, x| …` for `fold`/`scan` over Int elements,
    /// and the interval of every state.
    fn int_step(&mut self, len: Iv, elem: Iv, init: Iv) -> Option<(String, Iv)> {
        let acc = self.name("acc");
        let x = self.name("x");
        let mark = self.scope.len();
        self.scope.push(Var {
            name: x.clone(),
            kind: Kind::Int(elem),
        });
        let saved = self.mult;
        self.mult *= len.hi.max(1) as f64;
        let (e, ei) = self.int(1);
        let which = self.rng.below(5);
        let m = self.rng.int(3, 11);
        let cond = if which == 4 {
            self.bool(1)
        } else {
            String::new()
        };
        self.mult = saved;
        self.scope.truncate(mark);
        let step = |a: Iv| -> Iv {
            match which {
                0 => a.add(ei),
                1 => a.max(ei),
                2 => a.min(ei),
                3 => a.mul(iv(2, 2)).add(ei).rem(iv(m, m)),
                _ => a.add(ei).union(a),
            }
        };
        let mut cur = init;
        let mut all = init;
        for _ in 0..len.hi {
            cur = step(cur);
            all = all.union(cur);
            cur = all;
        }
        if all.mag() > MAG {
            return None;
        }
        let body = match which {
            0 => format!("{acc} + {e}"),
            1 => format!("max({acc}, {e})"),
            2 => format!("min({acc}, {e})"),
            3 => format!("({acc} * 2 + {e}) % {m}"),
            _ => format!("if {cond} {{ {acc} + {e} }} else {{ {acc} }}"),
        };
        let ann = if self.rng.chance(1, 3) { ": Int" } else { "" };
        Some((format!("|{acc}{ann}, {x}{ann}| {body}"), all))
    }

    /// A finite Int distribution, its support's interval and size.
    fn int_dist(&mut self, d: u32) -> Option<(String, Iv, i64)> {
        match self.rng.below(7) {
            0 | 1 => {
                let lo = self.rng.int(-2, 2);
                let hi = lo + self.rng.int(0, 3);
                Some((
                    format!("DiscreteUniform({}, {})", lit(lo), lit(hi)),
                    iv(lo, hi),
                    hi - lo + 1,
                ))
            }
            2 => {
                // Bounds from an earlier value.
                let v = self.pick_var(|k| matches!(k, Kind::Int(i) if i.mag() <= 6))?;
                let Kind::Int(i) = v.kind else { unreachable!() };
                if i.lo >= 0 && self.rng.chance(1, 2) {
                    Some((
                        format!("DiscreteUniform(0, {})", v.name),
                        iv(0, i.hi),
                        i.hi + 1,
                    ))
                } else {
                    let k = self.rng.int(0, 2);
                    Some((
                        format!("DiscreteUniform({}, {} + {k})", v.name, v.name),
                        iv(i.lo, i.hi + k),
                        k + 1,
                    ))
                }
            }
            3 | 4 if !self.weights.is_empty() && self.rng.chance(1, 2) => {
                let w = self.rng.pick(&self.weights).clone();
                Some((format!("Categorical({w})"), iv(0, 3), 4))
            }
            3 | 4 => {
                let n = self.rng.int(2, 5);
                let ws = ["0.0", "0.1", "0.2", "0.25", "0.3", "0.5", "1.0", "0.0"];
                let mut w: Vec<&str> = (0..n).map(|_| *self.rng.pick(&ws)).collect();
                if w.iter().all(|x| *x == "0.0") {
                    w[self.rng.below(n as u64) as usize] = "0.4";
                }
                let k = w.iter().filter(|x| **x != "0.0").count() as i64;
                Some((format!("Categorical([{}])", w.join(", ")), iv(0, n - 1), k))
            }
            5 => {
                let p = self.prob(d);
                let q = self.prob(d);
                Some((
                    format!("Categorical([{p}, 1.0 - {p}, 0.0, {q} * 0.5])"),
                    iv(0, 3),
                    3,
                ))
            }
            _ => {
                let p = self.prob(d);
                if let Some(v) =
                    self.pick_var(|k| matches!(k, Kind::Int(i) if i.lo >= 0 && i.hi <= 3))
                {
                    let Kind::Int(i) = v.kind else { unreachable!() };
                    Some((format!("Binomial({}, {p})", v.name), iv(0, i.hi), i.hi + 1))
                } else {
                    let n = self.rng.int(0, 3);
                    Some((format!("Binomial({n}, {p})"), iv(0, n), n + 1))
                }
            }
        }
    }

    /// Calls one of the recursive functions (made on first use).
    fn call_rec_int(&mut self, d: u32) -> Option<(String, Iv)> {
        match self.rng.below(6) {
            5 => {
                // Arrays longer than native paths' first arena chunk.
                let (k, ki) = self.int(d - 1);
                let k = self.coerce((k, ki), iv(0, 3));
                let (x, acc, y) = (self.name("x"), self.name("acc"), self.name("y"));
                let m = self.rng.int(2, 9);
                Some((
                    format!("fold(map(range(0, 700 * {k}), |{x}| {x} % {m}), 0, |{acc}, {y}| ({acc} + {y}) % 997)"),
                    iv(0, 996),
                ))
            }
            3 => {
                // A thunk capturing a value, passed to a recursive
                // higher-order function that calls it n times.
                let (n, ni) = self.int(d - 1);
                let n = self.coerce((n, ni), iv(0, 3));
                let (bound, m) =
                    match self.pick_var(|k| matches!(k, Kind::Int(i) if i.lo >= 0 && i.hi <= 2)) {
                        Some(v) => {
                            let Kind::Int(i) = v.kind else { unreachable!() };
                            (v.name, i.hi)
                        }
                        None => {
                            let m = self.rng.int(1, 2);
                            (m.to_string(), m)
                        }
                    };
                let saved = self.mult;
                self.mult *= 3.0;
                let ok = self.afford(m + 1);
                self.mult = saved;
                if !ok {
                    return None;
                }
                self.item("sum_rolls", |_| {
                    "fn sum_rolls(roll: () -> Int, n: Int) -> Int {\n    if n <= 0 { 0 } else { roll() + sum_rolls(roll, n - 1) }\n}\n".into()
                });
                let s = self.sample(&format!("DiscreteUniform(0, {bound})"));
                Some((format!("sum_rolls(|| {s}, {n})"), iv(0, 3 * m)))
            }
            4 => {
                // Deeper than native paths' frame limit on some paths (the
                // interpreter takes those over).
                let (k, ki) = self.int(d - 1);
                let k = self.coerce((k, ki), iv(0, 3));
                self.item("triangle", |_| {
                    "fn triangle(n: Int) -> Int {\n    if n <= 0 { 0 } else { n + triangle(n - 1) }\n}\n".into()
                });
                Some((format!("(triangle({k} * 700) % 7)"), iv(0, 6)))
            }
            0 => {
                // Counts successes in n Bernoulli trials, by tail recursion.
                let (n, ni) = self.int(d - 1);
                let n = self.coerce((n, ni), iv(0, 3));
                if !self.afford(8) {
                    return None;
                }
                self.item("flips", |g| {
                    let p = g.prob_lit();
                    let c = g.rng.int(1, 3);
                    format!(
                        "fn flips(n: Int, acc: Int) -> Int {{\n    if n <= 0 {{\n        acc\n    }} else if sample(Bernoulli({p})) {{\n        flips(n - 1, acc + {c})\n    }} else {{\n        flips(n - 1, acc)\n    }}\n}}\n"
                    )
                });
                let (a, ai) = self.int_leaf();
                Some((format!("flips({n}, {a})"), ai.add(iv(0, 9))))
            }
            1 => {
                // A geometric number of failures, bounded by `limit`.
                let limit = self.rng.int(1, 5);
                if !self.afford(limit + 1) {
                    return None;
                }
                self.item("geometric", |g| {
                    let p = g.prob_lit();
                    format!(
                        "fn geometric(k: Int, limit: Int) -> Int {{\n    if k >= limit {{\n        k\n    }} else if sample(Bernoulli({p})) {{\n        k\n    }} else {{\n        geometric(k + 1, limit)\n    }}\n}}\n"
                    )
                });
                Some((format!("geometric(0, {limit})"), iv(0, limit)))
            }
            _ => {
                // Not tail recursive, no choices: 0 + 1 + … + n.
                let (n, ni) = self.int(d - 1);
                let n = self.coerce((n, ni), iv(0, 6));
                self.item("triangle", |_| {
                    "fn triangle(n: Int) -> Int {\n    if n <= 0 { 0 } else { n + triangle(n - 1) }\n}\n".into()
                });
                Some((format!("triangle({n})"), iv(0, 21)))
            }
        }
    }

    // -- Real and probabilities ------------------------------------------

    fn prob_lit(&mut self) -> String {
        self.rng
            .pick(&[
                "0.0", "0.1", "0.2", "0.25", "0.3", "0.5", "0.6", "0.75", "0.9", "1.0",
            ])
            .to_string()
    }

    /// A Real expression whose value is in [0, 1].
    fn prob(&mut self, d: u32) -> String {
        if d == 0 {
            return self.prob_lit();
        }
        match self.rng.below(8) {
            0 | 1 => self.prob_lit(),
            2 | 3 => {
                let (k, ki) = self.int(d - 1);
                let k = if ki.lo >= 0 {
                    (k, ki)
                } else {
                    (format!("abs({k})"), ki.abs())
                };
                let den = k.1.hi.max(1) + self.rng.int(0, 2);
                format!("(real({}) / {den}.0)", k.0)
            }
            4 => format!("(1.0 - {})", self.prob(d - 1)),
            5 => format!("({} * {})", self.prob(d - 1), self.prob(d - 1)),
            6 => {
                let c = self.bool(d - 1);
                format!(
                    "(if {c} {{ {} }} else {{ {} }})",
                    self.prob(d - 1),
                    self.prob(d - 1)
                )
            }
            _ => {
                let (k, ki) = self.int(d - 1);
                let k = if ki.lo >= 0 { k } else { format!("abs({k})") };
                format!("exp(-real({k}))")
            }
        }
    }

    fn real_leaf(&mut self) -> String {
        if self.rng.chance(1, 2) {
            if let Some(v) = self.pick_var(|k| matches!(k, Kind::Real)) {
                return v.name;
            }
        }
        if self.rng.chance(1, 2) {
            let (k, _) = self.int_leaf();
            return format!("real({k})");
        }
        if self.rng.chance(1, 80) {
            // Not a number (dead in a factor, an error as a parameter).
            return "sqrt(-1.0)".into();
        }
        self.rng
            .pick(&[
                "0.5", "1.0", "2.0", "0.25", "1.5", "3.0", "0.1", "(-0.5)", "(-2.0)", "(-0.0)",
                "0.0",
            ])
            .to_string()
    }

    /// A Real expression (finite but for `log` of a zero probability).
    fn real(&mut self, d: u32) -> String {
        if d == 0 {
            return self.real_leaf();
        }
        loop {
            match self.rng.below(18) {
                0 | 1 => return self.real_leaf(),
                2..=4 => {
                    let op = self.rng.pick(&["+", "-", "*"]);
                    return format!("({} {op} {})", self.real(d - 1), self.real(d - 1));
                }
                5 => {
                    let den = if self.rng.chance(1, 2) {
                        self.rng.pick(&["2.0", "4.0", "0.5", "3.0"]).to_string()
                    } else {
                        let (k, _) = self.int(d - 1);
                        format!("(real(abs({k})) + 1.0)")
                    };
                    return format!("({} / {den})", self.real(d - 1));
                }
                6 => {
                    let (k, ki) = self.int(d - 1);
                    let k = if ki.lo >= 0 { k } else { format!("abs({k})") };
                    return match self.rng.below(3) {
                        0 => format!("exp(real({k}) / 4.0)"),
                        1 => format!("log(real({k}) + 1.0)"),
                        _ => format!("sqrt(real({k}))"),
                    };
                }
                7 => return format!("log({})", self.prob(d - 1)),
                8 => {
                    let c = self.bool(d - 1);
                    return format!(
                        "(if {c} {{ {} }} else {{ {} }})",
                        self.real(d - 1),
                        self.real(d - 1)
                    );
                }
                9 => {
                    if let Some(v) = self.pick_var(|k| matches!(k, Kind::RealArr(_))) {
                        let Kind::RealArr(len) = v.kind else {
                            unreachable!()
                        };
                        if let Some(e) = self.index(&v.name, len) {
                            return e;
                        }
                        return format!("(if len({0}) > 0 {{ {0}[0] }} else {{ 0.5 }})", v.name);
                    }
                }
                10 => {
                    let (xs, _) = self.real_arr(d - 1);
                    return format!("sum({xs})");
                }
                11 => {
                    let (xs, len, elem) = self.int_arr(d - 1);
                    let acc = self.name("acc");
                    let x = self.name("x");
                    let r = self.with_param(&x, Kind::Int(elem), len, |g| g.real(1));
                    return format!("fold({xs}, 0.0, |{acc}, {x}| {acc} * 0.5 + {r})");
                }
                13 => {
                    let r = self.real(d - 1);
                    return match self.rng.below(8) {
                        0 => format!("floor({r})"),
                        1 => format!("ceil({r})"),
                        2 => format!("tanh({r})"),
                        3 => format!("atan({r})"),
                        4 => format!("sin({r})"),
                        5 => format!("cos({r})"),
                        6 => format!("pow({r}, 2.0)"),
                        _ => format!("({r} ^ 3.0)"),
                    };
                }
                14 => {
                    let (k, ki) = self.int(d - 1);
                    let k = if ki.lo >= 0 { k } else { format!("abs({k})") };
                    return match self.rng.below(3) {
                        0 => format!("log1p(real({k}))"),
                        1 => format!("lgamma(real({k}) + 1.0)"),
                        _ => format!("expm1(real({k}) / 8.0)"),
                    };
                }
                15 => {
                    let f = self.rng.pick(&["max", "min"]);
                    return format!("{f}({}, {})", self.real(d - 1), self.real(d - 1));
                }
                16 => return format!("(-{})", self.real(d - 1)),
                17 => {
                    let (xs, _) = self.real_arr(d - 1);
                    if self.rng.chance(1, 2) {
                        return format!("mean_of({xs})");
                    }
                    let (ys, _) = self.real_arr(d - 1);
                    return format!("dot({xs}, {ys})");
                }
                _ => return format!("sigmoid({})", self.real(d - 1)),
            }
        }
    }

    /// Runs `f` with `x` in scope, repeated up to `len.hi` times per path.
    fn with_param<R>(&mut self, x: &str, kind: Kind, len: Iv, f: impl FnOnce(&mut Gen) -> R) -> R {
        let mark = self.scope.len();
        self.scope.push(Var {
            name: x.to_string(),
            kind,
        });
        let saved = self.mult;
        self.mult *= len.hi.max(1) as f64;
        let r = f(self);
        self.mult = saved;
        self.scope.truncate(mark);
        r
    }

    // -- Bool ----------------------------------------------------------

    fn bool_leaf(&mut self) -> String {
        if self.rng.chance(1, 3) {
            if let Some(v) = self.pick_choice(|k| matches!(k, Kind::Bool)) {
                return v.name;
            }
        }
        if self.rng.chance(4, 5) {
            if let Some(v) = self.pick_var(|k| matches!(k, Kind::Bool)) {
                return v.name;
            }
        }
        if self.rng.chance(1, 3) {
            return self.rng.pick(&["true", "false"]).to_string();
        }
        let (a, _) = self.int_leaf();
        let (b, _) = self.int_leaf();
        let op = self.rng.pick(&["<", "<=", "==", "!=", ">", ">="]);
        format!("({a} {op} {b})")
    }

    fn bool(&mut self, d: u32) -> String {
        if d == 0 {
            return self.bool_leaf();
        }
        loop {
            match self.rng.below(19) {
                0 | 1 => return self.bool_leaf(),
                2..=4 => {
                    let (a, _) = self.int(d - 1);
                    let (b, _) = self.int(d - 1);
                    let op = self.rng.pick(&["<", "<=", "==", "!=", ">", ">="]);
                    return format!("({a} {op} {b})");
                }
                5 => {
                    let op = self.rng.pick(&["<", "<=", ">", ">=", "==", "!="]);
                    return format!("({} {op} {})", self.real(d - 1), self.real(d - 1));
                }
                6 | 7 => {
                    let op = self.rng.pick(&["&&", "||", "==", "!="]);
                    return format!("({} {op} {})", self.bool(d - 1), self.bool(d - 1));
                }
                8 => return format!("!{}", self.bool(d - 1)),
                9 => {
                    if self.afford(2) {
                        let p = self.prob(d - 1);
                        return self.sample(&format!("Bernoulli({p})"));
                    }
                }
                10 => {
                    let (xs, len, elem) = self.int_arr(d - 1);
                    let x = self.name("x");
                    let b = self.with_param(&x, Kind::Int(elem), len, |g| g.bool(1));
                    return format!("(len(filter({xs}, |{x}| {b})) > 0)");
                }
                11 => {
                    let (bs, _) = self.bool_arr(d - 1);
                    let acc = self.name("acc");
                    let b = self.name("b");
                    let (init, op) =
                        *self
                            .rng
                            .pick(&[("false", "||"), ("true", "&&"), ("false", "!=")]);
                    return format!("fold({bs}, {init}, |{acc}, {b}| {acc} {op} {b})");
                }
                12 => {
                    if let Some(v) = self.pick_var(|k| matches!(k, Kind::BoolArr(_))) {
                        let Kind::BoolArr(len) = v.kind else {
                            unreachable!()
                        };
                        if let Some(e) = self.index(&v.name, len) {
                            return e;
                        }
                        return format!("(len({0}) > 0 && {0}[0])", v.name);
                    }
                }
                13 => {
                    if let Some(v) = self.pick_var(|k| matches!(k, Kind::Pair(_))) {
                        return format!("{}.1", v.name);
                    }
                }
                15 => {
                    // Mutual recursion.
                    let k = self.int(d - 1);
                    let k = self.coerce(k, iv(0, 6));
                    self.item("is_even", |_| {
                        "fn is_even(n: Int) -> Bool { if n <= 0 { true } else { is_odd(n - 1) } }\nfn is_odd(n: Int) -> Bool { if n <= 0 { false } else { is_even(n - 1) } }\n".into()
                    });
                    return format!("is_even({k})");
                }
                16 => {
                    // Equality of compound values.
                    let op = *self.rng.pick(&["==", "!="]);
                    match self.rng.below(3) {
                        0 => {
                            let (a, _, _) = self.int_arr(d - 1);
                            let (b, _, _) = self.int_arr(d - 1);
                            return format!("({a} {op} {b})");
                        }
                        1 => {
                            let (a, _) = self.int(d - 1);
                            let b = self.bool(d - 1);
                            let (c, _) = self.int(d - 1);
                            let e = self.bool(d - 1);
                            return format!("(({a}, {b}) {op} ({c}, {e}))");
                        }
                        _ => {
                            if let Some(v) = self.pick_var(|k| matches!(k, Kind::Pair(_))) {
                                let (c, _) = self.int(d - 1);
                                let e = self.bool(d - 1);
                                return format!("({} {op} ({c}, {e}))", v.name);
                            }
                        }
                    }
                }
                17 if self.rng.chance(1, 4) => {
                    if let Some(v) = self.pick_var(|k| matches!(k, Kind::BoolArr(l) if l.lo >= 1)) {
                        self.first();
                        return format!("first({})", v.name);
                    }
                }
                18 => {
                    let (bs, _) = self.bool_arr(d - 1);
                    let f = self.rng.pick(&["any", "all"]);
                    return format!("{f}({bs})");
                }
                _ => {
                    let c = self.bool(d - 1);
                    return format!(
                        "(if {c} {{ {} }} else {{ {} }})",
                        self.bool(d - 1),
                        self.bool(d - 1)
                    );
                }
            }
        }
    }

    // -- Arrays ----------------------------------------------------------

    /// An Int array: its text, length and elements.
    fn int_arr(&mut self, d: u32) -> (String, Iv, Iv) {
        loop {
            match self.rng.below(if d == 0 { 3 } else { 17 }) {
                0 => {
                    if let Some(v) = self.pick_var(|k| matches!(k, Kind::IntArr(..))) {
                        let Kind::IntArr(l, e) = v.kind else {
                            unreachable!()
                        };
                        return (v.name, l, e);
                    }
                }
                1 | 2 => {
                    let n = self.rng.int(1, 4);
                    let mut elem: Option<Iv> = None;
                    let mut parts = Vec::new();
                    for _ in 0..n {
                        let (e, i) = if d == 0 {
                            self.int_leaf()
                        } else {
                            self.int(d - 1)
                        };
                        elem = Some(elem.map_or(i, |x| x.union(i)));
                        parts.push(e);
                    }
                    return (format!("[{}]", parts.join(", ")), iv(n, n), elem.unwrap());
                }
                3 => {
                    let (a, al, ae) = self.int_arr(d - 1);
                    let (b, bl, be) = self.int_arr(d - 1);
                    if al.hi + bl.hi <= MAX_LEN {
                        return (format!("concat({a}, {b})"), al.add(bl), ae.union(be));
                    }
                }
                4 | 5 => {
                    let (a, l, e) = self.int_arr(d - 1);
                    let x = self.name("x");
                    let ann = if self.rng.chance(1, 4) { ": Int" } else { "" };
                    let (b, bi) = self.with_param(&x, Kind::Int(e), l, |g| g.int(2));
                    return (format!("map({a}, |{x}{ann}| {b})"), l, bi);
                }
                6 => {
                    let (a, l, e) = self.int_arr(d - 1);
                    let x = self.name("x");
                    let b = self.with_param(&x, Kind::Int(e), l, |g| g.bool(2));
                    return (format!("filter({a}, |{x}| {b})"), iv(0, l.hi), e);
                }
                7 => {
                    let (a, l, e) = self.int_arr(d - 1);
                    return (format!("reverse({a})"), l, e);
                }
                8 => {
                    let (a, l, e) = self.int_arr(d - 1);
                    let (init, ii) = self.int_leaf();
                    if let Some((body, acc)) = self.int_step(l, e, ii) {
                        return (format!("scan({a}, {init}, {body})"), l, acc);
                    }
                }
                9 => {
                    let (k, ki) = self.int(d - 1);
                    let k = if ki.within(iv(0, 5)) {
                        (k, ki)
                    } else {
                        (self.coerce((k, ki), iv(0, 4)), iv(0, 4))
                    };
                    let (lo, hi) = (k.1.lo, k.1.hi);
                    return (
                        format!("range(0, {})", k.0),
                        iv(lo, hi),
                        iv(0, (hi - 1).max(0)),
                    );
                }
                10 => {
                    let (n, ni) = self.int(d - 1);
                    let n = if ni.within(iv(0, 3)) {
                        (n, ni)
                    } else {
                        (self.coerce((n, ni), iv(0, 2)), iv(0, 2))
                    };
                    let m = self.rng.int(1, 2);
                    let saved = self.mult;
                    self.mult *= n.1.hi.max(1) as f64;
                    let ok = self.afford(m + 1);
                    self.mult = saved;
                    if ok {
                        let s = self.sample(&format!("DiscreteUniform(0, {m})"));
                        return (format!("repeat({}, || {s})", n.0), n.1, iv(0, m));
                    }
                }
                11 => {
                    let c = self.bool(d - 1);
                    let (a, al, ae) = self.int_arr(d - 1);
                    let (b, bl, be) = self.int_arr(d - 1);
                    return (
                        format!("(if {c} {{ {a} }} else {{ {b} }})"),
                        al.union(bl),
                        ae.union(be),
                    );
                }
                12 => {
                    // A list built by (non-tail) recursion, with a choice
                    // per element.
                    let (n, ni) = self.int(d - 1);
                    let n = self.coerce((n, ni), iv(0, 3));
                    let m = self.rng.int(1, 2);
                    let saved = self.mult;
                    self.mult *= 3.0;
                    let ok = self.afford(m + 1);
                    self.mult = saved;
                    if ok {
                        self.item("build", |_| {
                            format!("fn build(n: Int) -> [Int] {{\n    if n <= 0 {{\n        []\n    }} else {{\n        concat([sample(DiscreteUniform(0, {m}))], build(n - 1))\n    }}\n}}\n")
                        });
                        return (format!("build({n})"), iv(0, 3), iv(0, 2));
                    }
                }
                13 => {
                    if let Some(v) = self.pick_var(|k| matches!(k, Kind::Fun(_))) {
                        let Kind::Fun(r) = v.kind else { unreachable!() };
                        let (a, l, e) = self.int_arr(d - 1);
                        if e.within(DOM) {
                            return (format!("map({a}, {})", v.name), l, r);
                        }
                        let x = self.name("x");
                        let arg = self.coerce((x.clone(), e), DOM);
                        return (format!("map({a}, |{x}| {}({arg}))", v.name), l, r);
                    }
                }
                14 => {
                    let (a, al, ae) = self.int_arr(d - 1);
                    let (b, bl, be) = self.int_arr(d - 1);
                    if al.hi.min(bl.hi) <= MAX_LEN && ae.add(be).mag() <= MAG {
                        let x = self.name("p");
                        return (
                            format!("map(zip({a}, {b}), |{x}| {x}.0 + {x}.1)"),
                            iv(al.lo.min(bl.lo), al.hi.min(bl.hi)),
                            ae.add(be),
                        );
                    }
                }
                16 => {
                    // A block lambda with a named choice and a condition.
                    let (a, l, e) = self.int_arr(d - 1);
                    let x = self.name("x");
                    let z = self.name("z");
                    let r = self.with_param(&x, Kind::Int(e), l, |g| {
                        let (dist, zi, n) = g.int_dist(0)?;
                        if !g.afford(n) {
                            return None;
                        }
                        g.scope.push(Var {
                            name: z.clone(),
                            kind: Kind::Int(zi),
                        });
                        // Each element must keep a value: exclude one of
                        // two or more.
                        let cond = if n >= 2 && g.rng.chance(1, 2) {
                            format!(" condition({z} != {});", lit(g.rng.int(zi.lo, zi.hi)))
                        } else {
                            String::new()
                        };
                        let (b, bi) = g.int(1);
                        Some((dist, cond, b, bi))
                    });
                    if let Some((dist, cond, b, bi)) = r {
                        return (
                            format!("map({a}, |{x}| {{ let {z} ~ {dist};{cond} {b} }})"),
                            l,
                            bi,
                        );
                    }
                }
                _ => {
                    let n = self.rng.int(0, 4);
                    let lo = self.rng.int(-1, 2);
                    return (
                        format!("range({}, {})", lit(lo), lit(lo + n)),
                        iv(n, n),
                        iv(lo, (lo + n - 1).max(lo)),
                    );
                }
            }
        }
    }

    fn real_arr(&mut self, d: u32) -> (String, Iv) {
        loop {
            match self.rng.below(if d == 0 { 2 } else { 7 }) {
                0 => {
                    if let Some(v) = self.pick_var(|k| matches!(k, Kind::RealArr(_))) {
                        let Kind::RealArr(l) = v.kind else {
                            unreachable!()
                        };
                        return (v.name, l);
                    }
                }
                1 => {
                    let n = self.rng.int(1, 3);
                    let parts: Vec<String> =
                        (0..n).map(|_| self.real(d.saturating_sub(1))).collect();
                    return (format!("[{}]", parts.join(", ")), iv(n, n));
                }
                2 | 3 => {
                    let (a, l, e) = self.int_arr(d - 1);
                    let x = self.name("x");
                    let b = self.with_param(&x, Kind::Int(e), l, |g| g.real(2));
                    return (format!("map({a}, |{x}| {b})"), l);
                }
                4 => {
                    let (a, l, e) = self.int_arr(d - 1);
                    let acc = self.name("acc");
                    let x = self.name("x");
                    let b = self.with_param(&x, Kind::Int(e), l, |g| g.real(1));
                    return (format!("scan({a}, 0.5, |{acc}, {x}| {acc} * 0.5 + {b})"), l);
                }
                5 => {
                    let (a, al) = self.real_arr(d - 1);
                    let f = self.rng.pick(&["cumsum", "softmax"]);
                    return (format!("{f}({a})"), al);
                }
                _ => {
                    let (a, al) = self.real_arr(d - 1);
                    let (b, bl) = self.real_arr(d - 1);
                    if self.rng.chance(1, 2) {
                        return (format!("reverse({a})"), al);
                    }
                    return (format!("concat({a}, {b})"), al.add(bl));
                }
            }
        }
    }

    fn bool_arr(&mut self, d: u32) -> (String, Iv) {
        loop {
            match self.rng.below(if d == 0 { 2 } else { 5 }) {
                0 => {
                    if let Some(v) = self.pick_var(|k| matches!(k, Kind::BoolArr(_))) {
                        let Kind::BoolArr(l) = v.kind else {
                            unreachable!()
                        };
                        return (v.name, l);
                    }
                }
                1 => {
                    let n = self.rng.int(1, 3);
                    let parts: Vec<String> =
                        (0..n).map(|_| self.bool(d.saturating_sub(1))).collect();
                    return (format!("[{}]", parts.join(", ")), iv(n, n));
                }
                2 | 3 => {
                    let (a, l, e) = self.int_arr(d - 1);
                    let x = self.name("x");
                    let b = self.with_param(&x, Kind::Int(e), l, |g| g.bool(2));
                    return (format!("map({a}, |{x}| {b})"), l);
                }
                _ => {
                    let (a, l) = self.bool_arr(d - 1);
                    let b = self.name("b");
                    return (format!("filter({a}, |{b}| {b})"), iv(0, l.hi));
                }
            }
        }
    }

    // -- Statements --------------------------------------------------------

    fn bind(&mut self, prefix: &str, kind: Kind) -> String {
        let name = self.name(prefix);
        self.scope.push(Var {
            name: name.clone(),
            kind,
        });
        name
    }

    /// A choice bound by `let … ~`.
    fn choice(&mut self) -> Option<String> {
        if self.rng.chance(1, 3) {
            if !self.afford(2) {
                return None;
            }
            let p = self.prob(2);
            let n = self.bind("b", Kind::Bool);
            self.choices.push(n.clone());
            return Some(format!("let {n} ~ Bernoulli({p});"));
        }
        let (dist, i, k) = self.int_dist(2)?;
        if !self.afford(k) {
            return None;
        }
        let n = self.bind("k", Kind::Int(i));
        self.choices.push(n.clone());
        Some(format!("let {n} ~ {dist};"))
    }

    fn stmt(&mut self) -> Option<String> {
        Some(match self.rng.below(24) {
            0..=3 => return self.choice(),
            4 | 5 => {
                let (e, i) = self.int(3);
                let n = self.bind("n", Kind::Int(i));
                format!("let {n} = {e};")
            }
            6 => {
                let e = self.real(3);
                let n = self.bind("r", Kind::Real);
                format!("let {n} = {e};")
            }
            7 => {
                let e = self.bool(3);
                let n = self.bind("c", Kind::Bool);
                format!("let {n} = {e};")
            }
            8 | 9 => {
                let (e, l, el) = self.int_arr(3);
                let n = self.bind("xs", Kind::IntArr(l, el));
                format!("let {n} = {e};")
            }
            10 => {
                let (e, l) = self.real_arr(3);
                let n = self.bind("rs", Kind::RealArr(l));
                format!("let {n} = {e};")
            }
            11 => {
                let (e, l) = self.bool_arr(3);
                let n = self.bind("bs", Kind::BoolArr(l));
                format!("let {n} = {e};")
            }
            12 => {
                let (a, ai) = self.int(2);
                let b = self.bool(2);
                if self.rng.chance(1, 2) {
                    let n = self.bind("t", Kind::Pair(ai));
                    format!("let {n} = ({a}, {b});")
                } else {
                    let x = self.bind("n", Kind::Int(ai));
                    let y = self.bind("c", Kind::Bool);
                    format!("let ({x}, {y}) = ({a}, {b});")
                }
            }
            13 => self.closure(),
            14 => self.condition(),
            15 => {
                // Mostly finite weights: a zero probability (a weight of
                // -inf) on every path would leave nothing to enumerate.
                let w = match self.rng.below(4) {
                    0 => {
                        let (k, _) = self.int(2);
                        format!("-0.3 * real(abs({k}))")
                    }
                    1 => format!("log({})", self.soft_prob(2)),
                    2 => format!("-0.5 * abs({})", self.real(2)),
                    _ => self.real(2),
                };
                format!("factor({w});")
            }
            16 | 17 => self.observe(),
            18 => {
                let (xs, l, e) = self.int_arr(2);
                let x = self.name("x");
                let (p, b) = self.with_param(&x, Kind::Int(e), l, |g| (g.soft_prob(1), g.bool(1)));
                format!("for {x} in {xs} {{\n        observe(Bernoulli({p}), {b});\n    }}")
            }
            20 => {
                // A named choice in a loop: addresses w[0], w[1], …
                let (k, ki) = self.int(1);
                let k = self.coerce((k, ki), iv(0, 3));
                let i = self.name("i");
                let w = self.name("w");
                let r = self.with_param(&i, Kind::Int(iv(0, 2)), iv(0, 3), |g| {
                    if !g.afford(2) {
                        return None;
                    }
                    let p = g.prob(1);
                    g.scope.push(Var {
                        name: w.clone(),
                        kind: Kind::Bool,
                    });
                    let (q1, q2) = (g.soft_prob(0), g.soft_prob(0));
                    let b = g.bool(1);
                    Some(format!("for {i} in 0..{k} {{\n        let {w} ~ Bernoulli({p});\n        observe(Bernoulli(if {w} {{ {q1} }} else {{ {q2} }}), {b});\n    }}"))
                });
                return r;
            }
            21 => {
                // Shadowing: a new value under an old name.
                let v = self.pick_var(|k| matches!(k, Kind::Int(_)))?;
                let (e, i) = self.int(2);
                self.scope.retain(|s| s.name != v.name);
                self.scope.push(Var {
                    name: v.name.clone(),
                    kind: Kind::Int(i),
                });
                format!("let {} = {e};", v.name)
            }
            22 => {
                // An observation whose support depends on a choice.
                let v = self.pick_var(|k| matches!(k, Kind::Int(i) if i.mag() <= 6))?;
                let Kind::Int(i) = v.kind else { unreachable!() };
                if self.rng.chance(3, 4) {
                    let c = self.rng.int(0, 2);
                    format!("observe(DiscreteUniform({0}, {0} + 2), {0} + {c});", v.name)
                } else {
                    let c = self.rng.int(i.lo, i.hi + 2);
                    format!(
                        "observe(DiscreteUniform({0}, {0} + 2), {1});",
                        v.name,
                        lit(c)
                    )
                }
            }
            23 => {
                // A tuple chosen at random, taken apart.
                let (a, ai) = self.int(2);
                let (b, bi) = self.int(2);
                let c = self.bool(1);
                let (p, q) = (self.bool(1), self.bool(1));
                let t = self.bind("t", Kind::Pair(ai.union(bi)));
                format!("let {t} = if {c} {{ ({a}, {p}) }} else {{ ({b}, {q}) }};")
            }
            _ => {
                let (k, ki) = self.int(1);
                let k = self.coerce((k, ki), iv(0, 3));
                let i = self.name("i");
                let w = self.with_param(&i, Kind::Int(iv(0, 2)), iv(0, 3), |g| g.real(1));
                format!("for {i} in 0..{k} {{\n        factor(-0.25 * abs({w}));\n    }}")
            }
        })
    }

    /// `condition(…)`: mostly on one random value against a constant
    /// it can take (so some path survives), sometimes on anything.
    fn condition(&mut self) -> String {
        let v = self.pick_var(|k| matches!(k, Kind::Int(i) if i.lo < i.hi));
        match v {
            Some(Var {
                name,
                kind: Kind::Int(i),
            }) if self.rng.chance(15, 16) => self.condition_on(&name, i),
            _ => format!("condition({});", self.bool(2)),
        }
    }

    /// `condition(name OP c)` for a `c` that `name` (in `i`) can satisfy.
    fn condition_on(&mut self, name: &str, i: Iv) -> String {
        // Intervals over-approximate: a bound in the middle of one keeps
        // more paths alive than one at its edge.
        let mid = i.lo + (i.hi - i.lo) / 2;
        let (op, c) = match self.rng.below(4) {
            0 => ("<=", self.rng.int(mid, i.hi)),
            1 => (">=", self.rng.int(i.lo, mid)),
            _ => ("!=", self.rng.int(i.lo, i.hi)),
        };
        let b = if self.rng.chance(1, 4) {
            format!(" || {}", self.bool(1))
        } else {
            String::new()
        };
        format!("condition({name} {op} {}{b});", lit(c))
    }

    /// A probability strictly between 0 and 1 (an observation that no
    /// path can satisfy would leave nothing to enumerate).
    fn soft_prob(&mut self, d: u32) -> String {
        if self.rng.chance(1, 2) {
            return self
                .rng
                .pick(&["0.1", "0.2", "0.25", "0.3", "0.5", "0.6", "0.75", "0.9"])
                .to_string();
        }
        format!("(0.1 + 0.8 * {})", self.prob(d))
    }

    fn observe(&mut self) -> String {
        match self.rng.below(5) {
            0 | 1 => {
                let p = if self.rng.chance(11, 12) {
                    self.soft_prob(2)
                } else {
                    self.prob(2)
                };
                let b = self.bool(2);
                format!("observe(Bernoulli({p}), {b});")
            }
            2 => {
                let n = self.rng.int(1, 4);
                let p = self.soft_prob(1);
                let k = self.int(2);
                let k = if self.rng.chance(15, 16) {
                    self.coerce(k, iv(0, n))
                } else {
                    k.0
                };
                format!("observe(Binomial({n}, {p}), {k});")
            }
            3 => {
                let k = self.int(2);
                if self.rng.chance(15, 16) {
                    let k = self.coerce(k, iv(0, 3));
                    format!("observe(Categorical([0.4, 0.1, 0.3, 0.2]), {k});")
                } else {
                    format!("observe(Categorical([0.5, 0.0, 0.3, 0.2]), {});", k.0)
                }
            }
            _ => {
                let k = self.int(2);
                let k = self.coerce(k, iv(0, 4));
                format!("observe(DiscreteUniform(0, 4), {k});")
            }
        }
    }

    /// A closure `(Int) -> Int` capturing values in scope.
    fn closure(&mut self) -> String {
        let name = self.name("f");
        let funs = self.vars(|k| matches!(k, Kind::Fun(_)));
        let rhs = match self.rng.below(if funs.len() >= 2 { 5 } else { 3 }) {
            3 => {
                // One of two closures, chosen by a random value.
                let (a, b) = (self.rng.pick(&funs).clone(), self.rng.pick(&funs).clone());
                let (Kind::Fun(ai), Kind::Fun(bi)) = (a.kind, b.kind) else {
                    unreachable!()
                };
                let c = self.bool(2);
                self.scope.push(Var {
                    name: name.clone(),
                    kind: Kind::Fun(ai.union(bi)),
                });
                format!("if {c} {{ {} }} else {{ {} }}", a.name, b.name)
            }
            4 => {
                // An array of closures, indexed.
                let all = funs.iter().fold(None, |acc: Option<Iv>, f| {
                    let Kind::Fun(r) = f.kind else { unreachable!() };
                    Some(acc.map_or(r, |a| a.union(r)))
                });
                let names: Vec<&str> = funs.iter().map(|f| f.name.as_str()).collect();
                let k = self.int(1);
                let k = self.coerce(k, iv(0, names.len() as i64 - 1));
                self.scope.push(Var {
                    name: name.clone(),
                    kind: Kind::Fun(all.expect("two closures")),
                });
                format!("[{}][{k}]", names.join(", "))
            }
            0 => {
                let (m, mi) = self.int_leaf();
                if mi.mag() > 100 {
                    return self.closure();
                }
                self.item("make_adder", |_| {
                    "fn make_adder(m: Int) -> (Int) -> Int { |x| x + m }\n".into()
                });
                self.scope.push(Var {
                    name: name.clone(),
                    kind: Kind::Fun(DOM.add(mi)),
                });
                format!("make_adder({m})")
            }
            1 => {
                let (m, mi) = self.int_leaf();
                if mi.mag() > 100 {
                    return self.closure();
                }
                self.item("make_scaler", |_| {
                    "fn make_scaler(m: Int) -> (Int) -> Int { |x| x * m }\n".into()
                });
                self.scope.push(Var {
                    name: name.clone(),
                    kind: Kind::Fun(DOM.mul(mi)),
                });
                format!("make_scaler({m})")
            }
            _ => {
                let x = self.name("x");
                let saved = self.pure;
                self.pure = true;
                let (b, bi) = self.with_param(&x, Kind::Int(DOM), iv(1, 1), |g| g.int(2));
                self.pure = saved;
                self.scope.push(Var {
                    name: name.clone(),
                    kind: Kind::Fun(bi),
                });
                format!("|{x}: Int| {b}")
            }
        };
        format!("let {name} = {rhs};")
    }

    /// One construct that fails on some paths (risky programs only).
    fn risky_stmt(&mut self) -> String {
        let mut pre = String::new();
        let (name, i) =
            match self.pick_var(|k| matches!(k, Kind::Int(i) if i.lo < i.hi && i.mag() <= 6)) {
                Some(Var {
                    name,
                    kind: Kind::Int(i),
                }) => (name, i),
                _ => {
                    let n = self.bind("k", Kind::Int(iv(0, 3)));
                    pre = format!("let {n} ~ DiscreteUniform(0, 3);\n    ");
                    (n, iv(0, 3))
                }
            };
        let c = self.rng.int(i.lo, i.hi);
        let body = match self.rng.below(11) {
            7 => {
                let den = (i.hi - 1).max(1);
                format!("observe(Bernoulli(real({name}) / {den}.0), true);")
            }
            8 => {
                let n = self.bind("n", Kind::Int(iv(-2, 2)));
                format!("let {n} = int(sqrt(real({name} - {})));", lit(c))
            }
            9 => {
                let n = self.bind("n", Kind::Int(iv(0, 64)));
                format!("let {n} = 2 ^ ({name} - {});", lit(c))
            }
            10 => format!("factor(sqrt(real({name} - {})));", lit(c)),
            0 => {
                let n = self.bind("n", Kind::Int(iv(-12, 12)));
                format!("let {n} = 12 / ({name} - {});", lit(c))
            }
            1 => {
                let n = self.bind("n", Kind::Int(iv(1, 3)));
                format!("let {n} = [1, 2, 3][{name} - {}];", lit(c))
            }
            2 => {
                let n = self.bind("b", Kind::Bool);
                let den = (i.hi - 1).max(1);
                format!("let {n} ~ Bernoulli(real({name}) / {den}.0);")
            }
            3 => {
                let n = self.name("n");
                format!(
                    "let {n} = 4611686018427387904 * ({name} - {});\n    condition({n} != 1);",
                    lit(c)
                )
            }
            4 => {
                let n = self.bind("k", Kind::Int(iv(-6, 6)));
                format!("let {n} ~ DiscreteUniform({name}, {});", lit(c))
            }
            5 => {
                let n = self.bind("k", Kind::Int(iv(0, 12)));
                format!("let {n} ~ Binomial({name} - {}, 0.5);", lit(c))
            }
            _ => {
                let n = self.bind("k", Kind::Int(iv(0, 1)));
                format!(
                    "let {n} ~ Categorical([0.5, 0.25 * real({name} - {})]);",
                    lit(c)
                )
            }
        };
        format!("{pre}{body}")
    }

    /// A result component: its type and text.
    fn result_part(&mut self) -> (String, String) {
        match self.rng.below(14) {
            10 => ("[Bool]".into(), self.bool_arr(2).0),
            11 => {
                let (a, _) = self.int(1);
                let b = self.bool(1);
                let r = self.real(1);
                ("(Int, (Bool, Real))".into(), format!("({a}, ({b}, {r}))"))
            }
            12 => {
                let (xs, _, e) = self.int_arr(2);
                let x = self.name("x");
                let k = self.coerce((x.clone(), e), iv(0, 3));
                ("[[Int]]".into(), format!("map({xs}, |{x}| range(0, {k}))"))
            }
            13 => {
                let (xs, _, _) = self.int_arr(2);
                let (bs, _) = self.bool_arr(2);
                ("[(Int, Bool)]".into(), format!("zip({xs}, {bs})"))
            }
            0..=2 => ("Int".into(), self.int(2).0),
            3 | 4 => ("Bool".into(), self.bool(2)),
            5 | 6 => ("Real".into(), self.real(2)),
            7 => ("[Int]".into(), self.int_arr(2).0),
            8 => ("[Real]".into(), self.real_arr(2).0),
            _ if self.scope.is_empty() => ("Int".into(), self.int(2).0),
            _ => {
                // A variable, as it is.
                let v = self.scope[self.rng.below(self.scope.len() as u64) as usize].clone();
                let ty = match v.kind {
                    Kind::Int(_) => "Int",
                    Kind::Real => "Real",
                    Kind::Bool => "Bool",
                    Kind::IntArr(..) => "[Int]",
                    Kind::RealArr(_) => "[Real]",
                    Kind::BoolArr(_) => "[Bool]",
                    Kind::Pair(_) => "(Int, Bool)",
                    Kind::Fun(_) => return ("Int".into(), format!("{}(2)", v.name)),
                };
                (ty.into(), v.name)
            }
        }
    }

    /// A whole program.
    fn program(mut self) -> String {
        // Globals: an Int constant, a data item with a default, weights.
        if self.rng.chance(1, 3) {
            let k = self.rng.int(-2, 4);
            let n = self.bind("g", Kind::Int(iv(k, k)));
            self.globals.push(format!("let {n} = {};", lit(k)));
        }
        if self.rng.chance(1, 4) {
            let k = self.rng.int(0, 3);
            let n = self.bind("d", Kind::Int(iv(k, k)));
            self.globals.push(format!("data {n}: Int = {k};"));
        }
        if self.rng.chance(1, 3) {
            let n = self.name("ws");
            let len = self.rng.int(2, 4);
            let ws: Vec<&str> = (0..len)
                .map(|k| {
                    if k == 0 {
                        "0.4"
                    } else {
                        *self.rng.pick(&["0.0", "0.1", "0.3", "0.5"])
                    }
                })
                .collect();
            self.globals.push(format!("let {n} = [{}];", ws.join(", ")));
            self.weights.push(n.clone());
            self.scope.push(Var {
                name: n,
                kind: Kind::RealArr(iv(len, len)),
            });
        }
        if self.rng.chance(1, 4) {
            let len = self.rng.int(1, 4);
            let xs: Vec<i64> = (0..len).map(|_| self.rng.int(-2, 5)).collect();
            let elem = iv(*xs.iter().min().unwrap(), *xs.iter().max().unwrap());
            let n = self.bind("data_xs", Kind::IntArr(iv(len, len), elem));
            let xs: Vec<String> = xs.into_iter().map(lit).collect();
            self.globals
                .push(format!("data {n}: [Int] = [{}];", xs.join(", ")));
        }
        let mut body = Vec::new();
        // Some randomness first.
        for _ in 0..self.rng.int(1, 3) {
            if let Some(s) = self.choice() {
                body.push(s);
            }
        }
        let n = self.rng.int(4, 10);
        let risky_at = if self.risky {
            Some(self.rng.int(0, n - 1))
        } else {
            None
        };
        for k in 0..n {
            if risky_at == Some(k) {
                let s = self.risky_stmt();
                body.push(s);
            }
            if let Some(s) = self.stmt() {
                body.push(s);
            }
        }
        let mut parts: Vec<(String, String)> = (0..self.rng.int(1, 3))
            .map(|_| self.result_part())
            .collect();
        // A choice as it is, so that most results vary.
        if let Some(v) = self.pick_choice(|k| matches!(k, Kind::Int(_) | Kind::Bool)) {
            let ty = if matches!(v.kind, Kind::Bool) {
                "Bool"
            } else {
                "Int"
            };
            let at = self.rng.below(parts.len() as u64 + 1) as usize;
            parts.insert(at, (ty.into(), v.name));
        }
        let (ty, result) = if parts.len() == 1 {
            parts[0].clone()
        } else {
            let tys: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
            let es: Vec<&str> = parts.iter().map(|p| p.1.as_str()).collect();
            (
                format!("({})", tys.join(", ")),
                format!("({})", es.join(", ")),
            )
        };
        let sig = if self.rng.chance(4, 5) {
            format!(" -> {ty}")
        } else {
            String::new()
        };
        let mut out = String::new();
        for g in &self.globals {
            let _ = writeln!(out, "{g}");
        }
        if !self.globals.is_empty() {
            out.push('\n');
        }
        for (_, item) in &self.items {
            out.push_str(item);
            out.push('\n');
        }
        let _ = writeln!(out, "fn model(){sig} {{");
        for s in &body {
            let _ = writeln!(out, "    {s}");
        }
        let _ = writeln!(out, "    {result}\n}}");
        out
    }
}

/// An Int literal, negative ones in parentheses.
fn lit(k: i64) -> String {
    if k < 0 {
        format!("({k})")
    } else {
        k.to_string()
    }
}

/// The `count` programs of the fuzz run, from `seed`.
fn programs(seed: u64, count: usize) -> Vec<String> {
    let mut seeds = Rng(seed);
    (0..count)
        .map(|_| Gen::new(seeds.next()).program())
        .collect()
}

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------
// The test.

/// What happened to one generated program.
struct Outcome {
    index: usize,
    src: String,
    /// `tyche check` failed: a generator bug (the diagnostics).
    invalid: Option<String>,
    interp: Option<Run>,
    /// `--backend jit`'s backend, or its E0751 reason.
    jit: Option<Run>,
    /// `--backend auto`'s backend (native paths walk only large trees).
    auto_backend: Option<String>,
    problems: Vec<String>,
}

fn run_one(dir: &Path, index: usize, src: &str) -> Outcome {
    let file = dir.join(format!("p{index:03}.ppl"));
    std::fs::write(&file, src).expect("write program");
    let mut out = Outcome {
        index,
        src: src.to_string(),
        invalid: None,
        interp: None,
        jit: None,
        auto_backend: None,
        problems: Vec::new(),
    };
    let check = tyche(&["check".to_string(), file.display().to_string()], &[]);
    if check.status != 0 {
        out.invalid = Some(check.stderr);
        return out;
    }
    let csv = |b: &str| dir.join(format!("p{index:03}.{b}.csv"));
    let interp = enumerate(&file, "interp", &[], &csv("interp"));
    let jit = enumerate(&file, "jit", &[], &csv("jit"));
    let auto = enumerate(&file, "auto", &[], &csv("auto"));
    if interp.status == 0 && interp.backend.as_deref() != Some("interpreter") {
        out.problems
            .push(format!("interp reported backend {:?}", interp.backend));
    }
    out.problems.extend(
        disagreements(&interp, &auto)
            .into_iter()
            .map(|p| format!("auto: {p}")),
    );
    if !jit.stderr.contains("E0751") {
        out.problems.extend(
            disagreements(&interp, &jit)
                .into_iter()
                .map(|p| format!("jit: {p}")),
        );
    } else if jit.status != 1 || !jit.json.is_empty() {
        out.problems.push(format!(
            "jit: a refusal must exit 1 with nothing on stdout, got {} and {:?}",
            jit.status, jit.json
        ));
    }
    out.interp = Some(interp);
    out.jit = Some(jit);
    out.auto_backend = auto.backend;
    out
}

/// The first line of a diagnostic carrying `code`.
fn reason(stderr: &str, code: &str) -> String {
    stderr
        .lines()
        .find(|l| l.contains(code))
        .unwrap_or(stderr.lines().next().unwrap_or(""))
        .to_string()
}

#[test]
fn random_discrete_models_enumerate_alike_on_both_backends() {
    let start = std::time::Instant::now();
    let seed = env_or("TYCHE_FUZZ_SEED", 0x7E5C_4E00_D15C_0001_u64);
    let count = env_or("TYCHE_FUZZ_COUNT", 400_usize);
    let keep = std::env::var("TYCHE_FUZZ_KEEP").is_ok_and(|v| v == "1");
    let srcs = programs(seed, count);
    let dir = scratch_dir("tyche-enum-fuzz");
    let indexed: Vec<(usize, &String)> = srcs.iter().enumerate().collect();
    let outcomes = par_map(&indexed, |(i, src)| run_one(&dir, *i, src));
    if keep {
        eprintln!("programs kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }

    let invalid: Vec<&Outcome> = outcomes.iter().filter(|o| o.invalid.is_some()).collect();
    let valid: Vec<&Outcome> = outcomes.iter().filter(|o| o.invalid.is_none()).collect();
    let ok: Vec<&Outcome> = valid
        .iter()
        .copied()
        .filter(|o| o.interp.as_ref().is_some_and(|r| r.status == 0))
        .collect();
    let native = ok
        .iter()
        .filter(|o| o.jit.as_ref().and_then(|r| r.backend.as_deref()) == Some("jit"))
        .count();
    let auto_native = ok
        .iter()
        .filter(|o| o.auto_backend.as_deref() == Some("jit"))
        .count();
    let refused: Vec<(usize, String)> = valid
        .iter()
        .filter_map(|o| {
            let jit = o.jit.as_ref()?;
            jit.stderr
                .contains("E0751")
                .then(|| (o.index, reason(&jit.stderr, "E0751")))
        })
        .collect();
    let mut errors: Vec<(usize, String)> = valid
        .iter()
        .filter_map(|o| {
            let r = o.interp.as_ref()?;
            (r.status != 0).then(|| (o.index, reason(&r.stderr, "error")))
        })
        .collect();
    errors.sort();
    eprintln!(
        "enumerate_fuzz: {count} generated, {} valid, {} enumerated ({} ran natively under --backend jit, {} under auto), {} refused by jit (E0751), {} failed alike on both backends; {:.1} s",
        valid.len(),
        ok.len(),
        native,
        auto_native,
        refused.len(),
        errors.len(),
        start.elapsed().as_secs_f64()
    );
    for (i, r) in &refused {
        eprintln!("  refused p{i:03}: {r}");
    }
    for (i, e) in &errors {
        eprintln!("  error p{i:03}: {e}");
    }
    for o in &ok {
        let backend = o.jit.as_ref().and_then(|r| r.backend.clone());
        if backend.is_some() && backend.as_deref() != Some("jit") {
            eprintln!(
                "  fell back p{:03}: --backend jit ran on {backend:?}",
                o.index
            );
        }
    }

    let problems: Vec<String> = valid
        .iter()
        .filter(|o| !o.problems.is_empty())
        .map(|o| {
            format!(
                "── program p{:03}:\n{}\n{}",
                o.index,
                o.src,
                o.problems.join("\n")
            )
        })
        .collect();
    assert!(
        problems.is_empty(),
        "{} of {} programs enumerate differently on native paths:\n\n{}",
        problems.len(),
        valid.len(),
        problems.join("\n")
    );

    let shown = |os: &[&Outcome]| -> String {
        os.iter()
            .map(|o| {
                format!(
                    "── p{:03}:\n{}{}",
                    o.index,
                    o.src,
                    o.invalid.as_deref().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        invalid.len() * 20 < count,
        "{} of {count} generated programs do not type-check (generator bugs):\n\n{}",
        invalid.len(),
        shown(&invalid)
    );
    // Most programs enumerate (the rest fail alike on both backends: the
    // risky ones, and those whose conditions kill every path)…
    assert!(
        ok.len() * 10 >= valid.len() * 8,
        "only {} of {} valid programs enumerated:\n{}",
        ok.len(),
        valid.len(),
        errors
            .iter()
            .map(|(i, e)| format!("  p{i:03}: {e}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // … and native paths run most of those, or the comparison has lost
    // its teeth.
    assert!(
        native * 10 >= ok.len() * 8,
        "only {native} of {} enumerated programs ran natively under --backend jit; refused:\n{}",
        ok.len(),
        refused
            .iter()
            .map(|(i, r)| format!("  p{i:03}: {r}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The generator is deterministic: the same seed, the same programs.
#[test]
fn the_generator_is_deterministic() {
    assert_eq!(programs(42, 5), programs(42, 5));
    assert_ne!(programs(42, 5), programs(43, 5));
}
