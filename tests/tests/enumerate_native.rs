//! Exact enumeration on native paths (the whole model compiled by
//! `tyche-jit`'s `paths` and re-executed from the start under each prefix
//! of choices) must be indistinguishable from the interpreter's
//! (`--backend interp`, which forks a machine at every choice) except for
//! the JSON key `"backend"`. Under `--backend auto` native code walks the
//! subtrees of a tree large enough to split (smaller trees stay on the
//! interpreter); under `--backend jit` it expands and walks the whole
//! tree, so small models test it too.
//!
//! The native walk reproduces the interpreter's depth-first order, its
//! split into subtrees and its floating-point sums, so the JSON summary and
//! the per-draw CSV (`--output`: every distinct value with its log weight,
//! in first-seen order) must agree byte for byte, not to a tolerance. A
//! model native code refuses is enumerated by the interpreter, and a native
//! run that meets a runtime error (overflow, a bad index or parameter, an
//! infinite support, too deep a recursion) hands the whole enumeration back
//! to the interpreter, which reports the error: so exit statuses and
//! diagnostics must agree too.
//!
//! Covered: every example and valid corpus program, small models written
//! here for what native paths compile (recursion building lists,
//! closures, the discrete distributions, conditioning, compound results,
//! data, `repeat`, tail recursion), models whose enumeration fails on a
//! later path, `--backend jit` refusals, and independence from the number
//! of threads.

mod common;

use common::enumeration::{
    cut_backend, disagreements, enumerate, enumerate_args, scratch_dir, Run,
};
use common::{args_without_method, diff, par_map, programs, programs_recursive, rel, root, tyche};
use std::path::Path;

/// Runs `file` on the interpreter and on `native` (`auto` or `jit`);
/// `tag` names the CSV files in `dir`.
fn both(dir: &Path, tag: &str, file: &Path, native: &str, extra: &[String]) -> (Run, Run) {
    let interp = enumerate(
        file,
        "interp",
        extra,
        &dir.join(format!("{tag}.interp.csv")),
    );
    let other = enumerate(
        file,
        native,
        extra,
        &dir.join(format!("{tag}.{native}.csv")),
    );
    (interp, other)
}

/// Every example and valid corpus program enumerates alike on both
/// backends — those the interpreter enumerates and those it rejects (a
/// continuous or unbounded choice must be refused with the same E0703 even
/// when native code compiled the model) — and the discrete examples that
/// native paths handle do run on them.
#[test]
fn corpus_programs_enumerate_alike_on_both_backends() {
    let dir = scratch_dir("tyche-enum-corpus");
    let mut files = programs_recursive(&root().join("examples"));
    files.extend(programs(&root().join("tests/corpus/valid")));
    let results = par_map(&files, |path| {
        let tag = rel(path).replace(['/', '.'], "_");
        let args = args_without_method(path);
        let (interp, auto) = both(&dir, &tag, path, "auto", &args);
        let mut problems = disagreements(&interp, &auto);
        if interp.status == 0 && interp.backend.as_deref() != Some("interpreter") {
            problems.push(format!("interp reported backend {:?}", interp.backend));
        }
        // `jit` refuses what native paths cannot compile (E0751); what it
        // runs must agree too.
        let jit = enumerate(path, "jit", &args, &dir.join(format!("{tag}.jit.csv")));
        if !jit.stderr.contains("E0751") {
            problems.extend(disagreements(&interp, &jit));
        }
        (rel(path), interp.status == 0, jit.backend, problems)
    });
    let _ = std::fs::remove_dir_all(&dir);
    let enumerated = results.iter().filter(|r| r.1).count();
    let native: Vec<&str> = results
        .iter()
        .filter(|r| r.2.as_deref() == Some("jit"))
        .map(|r| r.0.as_str())
        .collect();
    let problems: Vec<String> = results
        .iter()
        .filter(|r| !r.3.is_empty())
        .map(|(p, _, _, probs)| format!("── {p}\n{}", probs.join("\n")))
        .collect();
    assert!(
        problems.is_empty(),
        "{} of {} programs enumerate differently on the native paths:\n\n{}",
        problems.len(),
        files.len(),
        problems.join("\n")
    );
    // If fewer enumerate, or fewer run natively, the comparison has lost
    // its teeth (or native paths refuse more than they did).
    assert!(enumerated >= 20, "only {enumerated} programs enumerated");
    for p in [
        "examples/sprinkler.ppl",
        "tests/corpus/valid/dice_enumerate.ppl",
        "tests/corpus/valid/hmm_discrete.ppl",
        "tests/corpus/valid/factor_condition.ppl",
        "tests/corpus/valid/discrete_dists.ppl",
        "tests/corpus/valid/closures.ppl",
        "tests/corpus/valid/recursion.ppl",
    ] {
        assert!(native.contains(&p), "{p} did not run natively: {native:?}");
    }
}

/// A model written for this test: its source, an optional JSON data file
/// (passed with `--data`), and whether native paths must run it.
struct Case {
    name: &'static str,
    src: &'static str,
    data: Option<&'static str>,
    native: bool,
}

/// Writes each case to `dir`, runs it on the interpreter, on `auto` and —
/// when it must run natively — on `native`, and returns every problem:
/// disagreements, a failed enumeration (these models are valid), the wrong
/// backend.
fn check_cases(dir: &Path, cases: &[Case], native: &str) -> Vec<String> {
    let results = par_map(cases, |case| {
        let file = dir.join(format!("{}.ppl", case.name));
        std::fs::write(&file, case.src).expect("write program");
        let mut extra = Vec::new();
        if let Some(data) = case.data {
            let path = dir.join(format!("{}.data.json", case.name));
            std::fs::write(&path, data).expect("write data");
            extra.extend(["--data".to_string(), path.display().to_string()]);
        }
        let (interp, auto) = both(dir, case.name, &file, "auto", &extra);
        let mut problems = disagreements(&interp, &auto);
        let other = if case.native {
            let jit = enumerate(
                &file,
                native,
                &extra,
                &dir.join(format!("{}.jit.csv", case.name)),
            );
            problems.extend(disagreements(&interp, &jit));
            jit
        } else {
            auto
        };
        if interp.status != 0 {
            problems.push(format!("the interpreter failed:\n{}", interp.stderr));
        } else if interp.csv.lines().count() < 3 {
            problems.push(format!("too few distinct results:\n{}", interp.csv));
        }
        if interp.backend.as_deref() != Some("interpreter") {
            problems.push(format!("interp reported backend {:?}", interp.backend));
        }
        if case.native && other.backend.as_deref() != Some("jit") {
            // `--backend jit` says why native paths refused it; a run that
            // fell back at run time says nothing.
            let why = enumerate(
                &file,
                "jit",
                &extra,
                &dir.join(format!("{}.why.csv", case.name)),
            );
            let why = if why.stderr.is_empty() {
                "(compiled, but a native run fell back to the interpreter)\n".to_string()
            } else {
                why.stderr
            };
            problems.push(format!(
                "{native} ran on {:?}, not natively:\n{why}",
                other.backend
            ));
        }
        problems
            .into_iter()
            .map(|p| format!("── {}: {p}", case.name))
            .collect::<Vec<_>>()
    });
    results.into_iter().flatten().collect()
}

/// Runs [`check_cases`] in a scratch directory and fails with every
/// problem.
fn assert_cases(tag: &str, cases: &[Case]) {
    let dir = scratch_dir(tag);
    let problems = check_cases(&dir, cases, "jit");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The models native paths are for: each enumerates natively (unless
/// marked otherwise: a polymorphic operation) with exactly the
/// interpreter's output.
#[test]
fn small_models_enumerate_natively_with_the_interpreters_output() {
    assert_cases("tyche-enum-small", SMALL);
}

const SMALL: &[Case] = &[
    // A random list built by recursion (as bench/models/dice.ppl), then
    // every list operation on it.
    Case {
        name: "lists",
        src: "fn roll_until(roll: () -> Int, total: Int, threshold: Int) -> [Int] {
    if total >= threshold {
        []
    } else {
        let r = roll();
        concat([r], roll_until(roll, total + r, threshold))
    }
}

fn model() -> (Int, Int, Int, Int, Bool) {
    let xs = roll_until(|| sample(DiscreteUniform(1, 4)), 0, 7);
    let total = fold(xs, 0, |acc, v| acc + v);
    let doubled = map(xs, |v| 2 * v);
    let running = scan(doubled, 0, |acc, v| acc + v);
    let big = filter(xs, |v| v >= 3);
    condition(total <= 8);
    (len(xs), running[len(running) - 1], reverse(xs)[0], len(big), xs[0] == 4)
}
",
        data: None,
        native: true,
    },
    // Lambdas capturing a sampled value, a data value with a default and a
    // global; closures returned by functions, chosen at random and passed
    // to functions and to `fold`.
    Case {
        name: "closures",
        src: "data offset: Int = 5;
let base = 10;

fn apply_twice(x: Int, f: (Int) -> Int) -> Int { f(f(x)) }

fn make_scaler(m: Int) -> (Int) -> Int { |x| x * m + base }

fn model() -> (Int, Int, Int) {
    let k ~ DiscreteUniform(0, 3);
    let add = |x: Int| x + k + offset;
    let g = make_scaler(k);
    let b ~ Bernoulli(0.25);
    let pick = if b { add } else { g };
    (apply_twice(1, add), apply_twice(k, g), fold([1, 2, 3], 0, |acc, v| acc + pick(v)))
}
",
        data: None,
        native: true,
    },
    // Every finite discrete distribution; Categorical's zero-probability
    // options are not paths; one distribution's parameter from another.
    Case {
        name: "distributions",
        src: "fn model() -> (Bool, Int, Int, Int) {
    let b ~ Bernoulli(0.3);
    let c ~ Categorical([0.2, 0.0, 0.5, 0.0, 0.3]);
    let u ~ DiscreteUniform(-2, 2);
    let n ~ Binomial(4, if b { 0.25 } else { 0.6 });
    let one ~ Bernoulli(1.0);
    let d ~ Categorical([0.0, 1.0]);
    condition(one);
    (b, c, u, n + c + d)
}
",
        data: None,
        native: true,
    },
    // A condition that kills 30 of 36 paths, discrete observations (some
    // impossible: probability zero), a factor.
    Case {
        name: "conditioning",
        src: "fn model() -> (Int, Int) {
    let a ~ DiscreteUniform(1, 6);
    let b ~ DiscreteUniform(1, 6);
    condition(a + b == 7);
    let n ~ Binomial(a, 0.5);
    observe(Binomial(n + 1, 0.4), 2);
    observe(Categorical([0.5, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0]), b % 2 * 2);
    factor(real(n) * 0.3 - real(a));
    (a, n)
}
",
        data: None,
        native: true,
    },
    // Observations out of the support (Categorical, Binomial) and a
    // Bernoulli observation with p = 0 on one path.
    Case {
        name: "impossible_observations",
        src: "fn model() -> Int {
    let k ~ DiscreteUniform(0, 5);
    observe(Categorical([0.5, 0.3, 0.2, 0.0]), k % 4);
    observe(Binomial(3, 0.5), k - 1);
    observe(Bernoulli(real(k) / 5.0), true);
    k
}
",
        data: None,
        native: true,
    },
    // Real arithmetic, arrays and nested tuples in the result.
    Case {
        name: "results",
        src: "fn model() -> (Real, [Int], (Bool, Real), [Real]) {
    let k ~ DiscreteUniform(0, 5);
    let j ~ Categorical([0.1, 0.6, 0.3]);
    let odd = k % 2 == 1;
    (real(k) / 3.0, [k, j, k * j], (odd, real(j) * 0.1 + 1.0e-3), [real(k), sqrt(real(j)), exp(-real(k))])
}
",
        data: None,
        native: true,
    },
    // A Bool result; arrays of different lengths, and of tuples, as results.
    Case {
        name: "bool_and_ragged_results",
        src: "fn model() -> (Bool, [(Int, Bool)], [Real]) {
    let k ~ DiscreteUniform(0, 2);
    let pairs = map(range(0, k), |i| (i, sample(Bernoulli(0.5))));
    let xs = scan(range(0, k), 0.5, |acc, i| acc * real(i + 2));
    (len(filter(pairs, |p| p.1)) > 0, pairs, concat(xs, reverse(xs)))
}
",
        data: None,
        native: true,
    },
    // `sum` and `product` of an empty array of Reals are the Reals 0.0
    // and 1.0 (the interpreter used to give the Ints 0 and 1, printed
    // without a decimal point, which native code could not represent).
    Case {
        name: "empty_real_sums",
        src: "fn model() -> (Real, Real, Real, Int) {
    let k ~ DiscreteUniform(0, 2);
    let xs = map(range(0, k), |x| real(x) + 0.5);
    let ns = range(0, k);
    (sum(xs), product(xs), sum(xs) + 1.5, sum(ns) + product(ns))
}
",
        data: None,
        native: true,
    },
    // Signed zeros and NaN in results, a NaN observation (a dead path).
    Case {
        name: "special_reals",
        src: "fn model() -> (Real, Real, Int) {
    let k ~ DiscreteUniform(0, 4);
    let z = if k % 2 == 0 { 0.0 } else { -0.0 };
    observe(Normal(0.0, 1.0), sqrt(real(k) - 0.5));
    (z, sqrt(real(k) - 1.5), k)
}
",
        data: None,
        native: true,
    },
    // Data arrays from a JSON file, indexed at random indices.
    Case {
        name: "data",
        src: "data xs: [Int];
data ws: [Real];

fn model() -> (Int, Real) {
    let i ~ DiscreteUniform(0, len(xs) - 1);
    let j ~ Categorical(ws);
    observe(Bernoulli(0.8), xs[i] > xs[j]);
    (xs[i] - xs[j], ws[i] * real(xs[j]))
}
",
        data: Some(r#"{"xs": [3, 1, 4, 1, 5], "ws": [0.1, 0.2, 0.3, 0.15, 0.25]}"#),
        native: true,
    },
    // Polymorphic functions used at one type each (the prelude's `count`,
    // `first` on Int and Bool arrays): only moves values of unknown type.
    Case {
        name: "polymorphic_moves",
        src: "fn first(xs) { xs[0] }
fn pair(x) { (x, x) }

fn model() -> (Int, Bool, (Int, Int), Int) {
    let ks = repeat(2, || sample(DiscreteUniform(0, 2)));
    let bs = repeat(2, || sample(Bernoulli(0.4)));
    (first(ks), first(bs), pair(first(ks)), count(ks, |k| k == 2))
}
",
        data: None,
        native: true,
    },
    // Let-polymorphism with arithmetic on a polymorphic result: native
    // paths type a call of `count_if` or of what `compose` returns from
    // its arguments' types.
    Case {
        name: "polymorphic_ops",
        src: "fn count_if(xs, p) { fold(xs, 0, |acc, x| if p(x) { acc + 1 } else { acc }) }

fn compose(f, g) { |x| f(g(x)) }

fn model() -> (Int, Int, Bool) {
    let ks = repeat(3, || sample(DiscreteUniform(0, 2)));
    let bs = map(ks, |k| k > 0);
    let inc_then_double = compose(|x: Int| 2 * x, |x: Int| x + 1);
    let not_then_id = compose(|b: Bool| b, |b: Bool| !b);
    (count_if(ks, |k| k == 2), count_if(bs, |b| b) + inc_then_double(ks[0]), not_then_id(bs[1]))
}
",
        data: None,
        native: true,
    },
    // `repeat` a random number of times.
    Case {
        name: "repeat_random_n",
        src: "fn model() -> (Int, Int) {
    let n ~ DiscreteUniform(0, 4);
    let flips = repeat(n, || sample(Bernoulli(0.3)));
    let heads = len(filter(flips, |f| f));
    observe(Binomial(4, 0.5), n);
    (n, heads)
}
",
        data: None,
        native: true,
    },
    // Tail recursion: a geometric bounded by a counter.
    Case {
        name: "tail_recursion",
        src: "let p = 0.3;

fn geometric(k: Int, limit: Int) -> Int {
    if k >= limit {
        k
    } else if sample(Bernoulli(p)) {
        k
    } else {
        geometric(k + 1, limit)
    }
}

fn model() -> Int {
    let g = geometric(0, 40);
    condition(g % 3 != 1);
    g
}
",
        data: None,
        native: true,
    },
    // Exactly the deepest path the enumerator accepts: 1,000 nested
    // choices (one more is E0704, below).
    Case {
        name: "depth_limit",
        src: "fn geometric(k: Int, limit: Int) -> Int {
    if k >= limit {
        k
    } else if sample(Bernoulli(0.01)) {
        k
    } else {
        geometric(k + 1, limit)
    }
}

fn model() -> Int { geometric(0, 1000) }
",
        data: None,
        native: true,
    },
    // A recursion 3,000 calls deep on one path (past native paths' frame
    // limit: the interpreter takes over) and 1,500 on the other.
    Case {
        name: "deep_recursion",
        src: "fn build(n: Int) -> [Int] {
    if n == 0 { [] } else { concat([n], build(n - 1)) }
}

fn model() -> Int {
    let k ~ DiscreteUniform(0, 2);
    len(build(1500 * k))
}
",
        data: None,
        native: false,
    },
];

/// Tail calls run natively with the interpreter's output: a tail call's
/// unused destination register must not get the callee's result type, and
/// a self tail call is a loop (constant stack space, as on the
/// interpreter), so a long tail loop does not hit the native frame limit.
#[test]
fn tail_calls_run_natively() {
    assert_cases("tyche-enum-tail", TAIL_CALLS);
}

const TAIL_CALLS: &[Case] = &[
    // Constant space in the interpreter (docs/language.md: tail calls run
    // in constant space); 3,000 native frames on the last path.
    Case {
        name: "long_tail_loop",
        src: "fn count_down(n: Int, acc: Int) -> Int {
    if n == 0 { acc } else { count_down(n - 1, acc + 1) }
}

fn model() -> Int {
    let k ~ DiscreteUniform(0, 2);
    count_down(1500 * k, k)
}
",
        data: None,
        native: true,
    },
    Case {
        name: "tail_recursion_real_first",
        src: "fn geometric(p: Real, k: Int, limit: Int) -> Int {
    if k >= limit {
        k
    } else if sample(Bernoulli(p)) {
        k
    } else {
        geometric(p, k + 1, limit)
    }
}

fn model() -> Int {
    let g = geometric(0.3, 0, 40);
    condition(g % 3 != 1);
    g
}
",
        data: None,
        native: true,
    },
    Case {
        name: "tail_call_of_a_closure",
        src: "fn apply_twice(f: (Int) -> Int, x: Int) -> Int { f(f(x)) }

fn model() -> (Int, Int) {
    let k ~ DiscreteUniform(0, 3);
    let add = |x: Int| x + k;
    (apply_twice(add, 1), apply_twice(|x: Int| x * k, 2))
}
",
        data: None,
        native: true,
    },
];

/// Models whose enumeration fails on a later path, after native code has
/// run others: native paths hand the enumeration back and the interpreter
/// reports its error. `--backend jit` too (these models compile, so
/// there is no E0751: the runtime fallback is silent).
#[test]
fn runtime_errors_are_the_interpreters() {
    let dir = scratch_dir("tyche-enum-errors");
    let cases: &[(&str, &str, &str)] = &[
        (
            "division_by_zero",
            "fn model() -> Int {\n    let k ~ DiscreteUniform(0, 4);\n    10 / (k - 2)\n}\n",
            "integer division by zero",
        ),
        (
            "index_out_of_bounds",
            "fn model() -> Int {\n    let i ~ DiscreteUniform(0, 3);\n    [5, 6, 7][i]\n}\n",
            "index 3 out of bounds",
        ),
        (
            "negative_index",
            "fn model() -> Int {\n    let i ~ DiscreteUniform(0, 3);\n    [5, 6, 7][2 - i]\n}\n",
            "index -1 out of bounds",
        ),
        (
            "invalid_parameter",
            "fn model() -> Bool {\n    let k ~ DiscreteUniform(0, 3);\n    let b ~ Bernoulli(real(k) / 2.0);\n    b\n}\n",
            "invalid parameter for Bernoulli",
        ),
        (
            "invalid_categorical",
            "fn model() -> Int {\n    let k ~ DiscreteUniform(0, 3);\n    let c ~ Categorical([0.5, 0.5 - 0.25 * real(k), 0.0]);\n    c + k\n}\n",
            "invalid parameter for Categorical",
        ),
        (
            "integer_overflow",
            "fn model() -> Int {\n    let k ~ DiscreteUniform(0, 2);\n    4611686018427387904 * (k + 1)\n}\n",
            "integer overflow",
        ),
        (
            "nan_factor",
            "fn model() -> Int {\n    let k ~ DiscreteUniform(0, 3);\n    factor(0.0 / 0.0 * real(k));\n    k\n}\n",
            "factor weight is NaN",
        ),
        (
            "unbounded_recursion",
            "fn flips(n: Int) -> Int {\n    if sample(Bernoulli(0.5)) { n } else { flips(n + 1) }\n}\n\nfn model() -> Int { flips(0) }\n",
            "E0704",
        ),
        (
            "one_choice_too_deep",
            "fn geometric(k: Int, limit: Int) -> Int {\n    if k >= limit { k } else if sample(Bernoulli(0.01)) { k } else { geometric(k + 1, limit) }\n}\n\nfn model() -> Int { geometric(0, 1001) }\n",
            "E0704",
        ),
        (
            "continuous_choice",
            "fn model() -> Real {\n    let b ~ Bernoulli(0.5);\n    if b { 1.0 } else { sample(Normal(0.0, 1.0)) }\n}\n",
            "E0703",
        ),
        (
            "infinite_support",
            "fn model() -> Int {\n    let k ~ DiscreteUniform(0, 3);\n    let n ~ Binomial(k, 0.5);\n    let p ~ Poisson(real(n) + 1.0);\n    p\n}\n",
            "E0703",
        ),
        // The error on a path in one of the subtrees walked in parallel.
        (
            "error_after_the_split",
            "fn model() -> Int {\n    let a ~ DiscreteUniform(1, 6);\n    let b ~ DiscreteUniform(1, 6);\n    let c ~ DiscreteUniform(1, 6);\n    let d ~ DiscreteUniform(0, 3);\n    (a + b + c) / (d - a % 4)\n}\n",
            "integer division by zero",
        ),
    ];
    let results = par_map(cases, |(name, src, wanted)| {
        let file = dir.join(format!("{name}.ppl"));
        std::fs::write(&file, src).expect("write program");
        let (interp, auto) = both(&dir, name, &file, "auto", &[]);
        let jit = enumerate(&file, "jit", &[], &dir.join(format!("{name}.jit.csv")));
        let mut problems = disagreements(&interp, &auto);
        problems.extend(
            disagreements(&interp, &jit)
                .into_iter()
                .map(|p| format!("jit: {p}")),
        );
        if interp.status != 1 || !interp.stderr.contains(wanted) {
            problems.push(format!(
                "expected exit 1 with `{wanted}`, got {}:\n{}",
                interp.status, interp.stderr
            ));
        }
        problems
            .into_iter()
            .map(|p| format!("── {name}: {p}"))
            .collect::<Vec<_>>()
    });
    let _ = std::fs::remove_dir_all(&dir);
    let problems: Vec<String> = results.into_iter().flatten().collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What native paths do not compile is an error under `--backend jit`
/// (E0751, with the reason), and runs on the interpreter under `auto` with
/// the interpreter's output (`print` included: the interpreter prints once
/// per path, to stderr).
#[test]
fn jit_refuses_what_native_paths_cannot_compile() {
    let dir = scratch_dir("tyche-enum-refusals");
    let dists = "fn model() -> (Int, Int) {\n    let k ~ DiscreteUniform(0, 2);\n    let n ~ Binomial(2, 0.5);\n    (k, n)\n}\n";
    let cases: &[(&str, &str, &[&str], &str)] = &[
        (
            "print",
            "fn model() -> Int {\n    let k ~ DiscreteUniform(0, 2);\n    print(k);\n    k\n}\n",
            &[],
            "`print`",
        ),
        (
            "nested_infer",
            "fn model() -> Real {\n    let k ~ DiscreteUniform(1, 3);\n    let inner = infer(Enumerate, || {\n        let j ~ DiscreteUniform(0, k);\n        j\n    });\n    prob(inner, 0)\n}\n",
            &[],
            "cannot run on native code",
        ),
        (
            "string",
            "fn model() -> Int {\n    let b ~ Bernoulli(0.3);\n    let label = if b { \"heads\" } else { \"tails\" };\n    if label == \"heads\" { 1 } else { 0 }\n}\n",
            &[],
            "a string",
        ),
        ("do", dists, &["--do", "k=1"], "an intervention"),
        ("observe", dists, &["--observe", "n=1"], "an intervention"),
    ];
    let results = par_map(cases, |(name, src, extra, reason)| {
        let file = dir.join(format!("{name}.ppl"));
        std::fs::write(&file, src).expect("write program");
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let mut problems = Vec::new();
        let jit = enumerate(&file, "jit", &extra, &dir.join(format!("{name}.jit.csv")));
        if jit.status != 1 || !jit.stderr.contains("E0751") || !jit.stderr.contains(reason) {
            problems.push(format!(
                "--backend jit: expected exit 1 with E0751 and `{reason}`, got {}:\n{}",
                jit.status, jit.stderr
            ));
        }
        if !jit.json.is_empty() {
            problems.push(format!("--backend jit printed a result: {}", jit.json));
        }
        let (interp, auto) = both(&dir, name, &file, "auto", &extra);
        problems.extend(disagreements(&interp, &auto));
        if interp.status != 0 {
            problems.push(format!("the interpreter failed:\n{}", interp.stderr));
        }
        if auto.backend.as_deref() != Some("interpreter") {
            problems.push(format!("auto reported backend {:?}", auto.backend));
        }
        problems
            .into_iter()
            .map(|p| format!("── {name}: {p}"))
            .collect::<Vec<_>>()
    });
    let _ = std::fs::remove_dir_all(&dir);
    let problems: Vec<String> = results.into_iter().flatten().collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Set (to the arguments, as JSON) in the environment of a copy of this
/// test binary that [`run_in_child`] starts: the copy runs `tyche` once
/// and prints the outcome between markers.
const CHILD_ARGS: &str = "TYCHE_ENUMERATE_NATIVE_CHILD";
const MARK: &str = "@@tyche-outcome@@";

/// The child's side of [`run_in_child`] (not a test of its own).
#[test]
#[ignore = "runs only in a child process started by enumeration_does_not_depend_on_the_thread_count"]
fn child_runs_tyche() {
    let Ok(args) = std::env::var(CHILD_ARGS) else {
        return;
    };
    let args: Vec<String> = serde_json::from_str(&args).expect("arguments as JSON");
    let out = tyche(&args, &[]);
    let report = serde_json::json!({
        "threads": rayon::current_num_threads(),
        "status": out.status,
        "stdout": out.stdout,
        "stderr": out.stderr,
    });
    println!("{MARK}{report}{MARK}");
}

/// Runs `tyche ARGS…` in a copy of this test binary whose global thread
/// pool has `threads` threads (`RAYON_NUM_THREADS`: the pool is built once
/// per process, and `tyche` runs in-process on a thread of its own, so a
/// local pool would not reach it). Returns (pool size, status, stdout,
/// stderr).
fn run_in_child(threads: usize, args: &[String]) -> (u64, u64, String, String) {
    let exe = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(exe)
        .args([
            "child_runs_tyche",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ARGS, serde_json::to_string(args).expect("JSON"))
        .env("RAYON_NUM_THREADS", threads.to_string())
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(report) = stdout.split(MARK).nth(1) else {
        panic!(
            "the child printed no outcome (status {:?}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let v: serde_json::Value = serde_json::from_str(report).expect("the outcome as JSON");
    (
        v["threads"].as_u64().expect("threads"),
        v["status"].as_u64().expect("status"),
        v["stdout"].as_str().expect("stdout").to_string(),
        v["stderr"].as_str().expect("stderr").to_string(),
    )
}

/// A wide model (dice rolled until a threshold: hundreds of open subtrees
/// at the split, walked in parallel when there are threads): the native
/// result and draws are the same on one thread and on two, and are the
/// interpreter's.
#[test]
fn enumeration_does_not_depend_on_the_thread_count() {
    let dir = scratch_dir("tyche-enum-threads");
    let file = dir.join("dice.ppl");
    std::fs::write(
        &file,
        "fn roll_until(total: Int, threshold: Int) -> [Int] {
    if total >= threshold {
        []
    } else {
        let r = sample(DiscreteUniform(1, 6));
        concat([r], roll_until(total + r, threshold))
    }
}

fn model() -> (Int, Bool, Real) {
    let xs = roll_until(0, 13);
    let total = fold(xs, 0, |acc, v| acc + v);
    let sixes = len(filter(xs, |v| v == 6));
    factor(-0.1 * real(total));
    condition(total <= 15);
    (len(xs), sixes > 0, real(total) / real(len(xs)))
}
",
    )
    .expect("write program");
    let mut runs = Vec::new();
    for (backend, threads) in [("auto", 1), ("auto", 2), ("interp", 2)] {
        let csv = dir.join(format!("{backend}-{threads}.csv"));
        let args = enumerate_args(&file, backend, &csv);
        let (pool, status, stdout, stderr) = run_in_child(threads, &args);
        assert_eq!(pool, threads as u64, "RAYON_NUM_THREADS was not honoured");
        assert_eq!(status, 0, "{backend} on {threads} threads: {stderr}");
        let (json, reported) = cut_backend(&stdout);
        let draws = std::fs::read_to_string(&csv).expect("csv");
        runs.push((backend, threads, json, reported, stderr, draws));
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(runs[0].3.as_deref(), Some("jit"));
    assert_eq!(runs[1].3.as_deref(), Some("jit"));
    assert_eq!(runs[2].3.as_deref(), Some("interpreter"));
    // Hundreds of distinct (length, six, mean) results: a wide tree.
    assert!(runs[0].5.lines().count() > 40, "{}", runs[0].5);
    for other in &runs[1..] {
        let (b, t) = (other.0, other.1);
        assert_eq!(runs[0].2, other.2, "JSON: auto on 1 thread vs {b} on {t}");
        assert_eq!(runs[0].4, other.4, "stderr: auto on 1 thread vs {b} on {t}");
        assert!(
            runs[0].5 == other.5,
            "CSV draws: auto on 1 thread vs {b} on {t}:\n{}",
            diff(&runs[0].5, &other.5)
        );
    }
}
