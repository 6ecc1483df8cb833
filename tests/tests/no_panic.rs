//! "Never a panic, whatever the input" (LANGUAGE.md §10): property tests
//! that feed `tyche check`'s front end (`tyche_driver::compile_source`,
//! in-process) random text, random soups of Tyche tokens, and random
//! mutations of the corpus programs and examples. Each input must compile
//! or fail with at least one error diagnostic (the CLI's status 0 or 1),
//! never panic, and its diagnostics must render; every label in the
//! user's file must lie within the file on character boundaries.
//!
//! The random generator has a fixed seed, so CI runs are reproducible.
//! Set `TYCHE_PROPTEST_SEED=N` to explore other inputs and
//! `TYCHE_PROPTEST_SCALE=K` to run K times as many cases (a nightly
//! coverage-guided fuzzer lives in `fuzz/`; see docs/fuzzing.md).

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::panic::{catch_unwind, AssertUnwindSafe};
use tyche_core::SourceMap;

/// Compiles `text` as `tyche check` would and checks the outcome.
fn check_one(text: &str) -> Result<(), String> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut sources = SourceMap::new();
        let outcome = tyche_driver::compile_source(&mut sources, "fuzz.ppl", text);
        match outcome {
            Ok(_) => Ok(()),
            Err(diags) => {
                if !diags.iter().any(|d| d.is_error()) {
                    return Err("compilation failed without an error diagnostic".to_string());
                }
                let user = sources
                    .files()
                    .find(|(_, f)| f.name == "fuzz.ppl")
                    .map(|(id, _)| id);
                for d in &diags {
                    for label in &d.labels {
                        if Some(label.span.file) != user {
                            continue;
                        }
                        let (s, e) = (label.span.start as usize, label.span.end as usize);
                        if s > e
                            || e > text.len()
                            || !text.is_char_boundary(s)
                            || !text.is_char_boundary(e)
                        {
                            return Err(format!(
                                "diagnostic `{}` has a label at {s}..{e}, outside the text or inside a character (text length {})",
                                d.message,
                                text.len()
                            ));
                        }
                    }
                }
                let rendered = tyche_core::render_all(&diags, &sources, false);
                if rendered.is_empty() {
                    return Err("diagnostics rendered as nothing".to_string());
                }
                Ok(())
            }
        }
    }));
    match result {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(non-string panic payload)".to_string());
            Err(format!("panicked: {msg}"))
        }
    }
}

/// Runs a property with a deterministic RNG on a thread with a large
/// stack (as the `tyche` binary does), reporting the shrunk input.
fn run_property<S>(name: &'static str, cases: u32, strategy: S)
where
    S: Strategy<Value = String> + Send + 'static,
{
    let scale: u32 = std::env::var("TYCHE_PROPTEST_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let seed: u64 = std::env::var("TYCHE_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x7c4e_2024);
    let work = move || {
        let config = Config {
            cases: cases * scale,
            failure_persistence: None,
            max_shrink_iters: 2000,
            max_shrink_time: 20_000,
            ..Config::default()
        };
        let mut seed_bytes = [0u8; 32];
        seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
        seed_bytes[8..16].copy_from_slice(&(name.len() as u64).to_le_bytes());
        for (i, b) in name.bytes().enumerate() {
            seed_bytes[16 + i % 16] ^= b;
        }
        let mut runner = TestRunner::new_with_rng(
            config,
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
        );
        runner.run(&strategy, |text| {
            check_one(&text).map_err(TestCaseError::fail)
        })
    };
    let handle = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(work)
        .expect("spawn a test thread");
    match handle
        .join()
        .expect("the property runner itself does not panic")
    {
        Ok(()) => {}
        Err(TestError::Fail(reason, input)) => {
            panic!(
                "{name}: {reason}\nminimal input ({} bytes):\n{input:?}",
                input.len()
            )
        }
        Err(TestError::Abort(reason)) => panic!("{name}: aborted: {reason}"),
    }
}

/// Keywords, operators, punctuation, names (including built-ins) and
/// literals, including some malformed ones.
const TOKENS: &[&str] = &[
    "let",
    "fn",
    "data",
    "if",
    "else",
    "for",
    "in",
    "true",
    "false",
    "do",
    "condition",
    "counterfactual",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ":",
    "=",
    "~",
    "->",
    ".",
    "..",
    "|",
    "||",
    "&&",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "!",
    "x",
    "y",
    "z",
    "model",
    "f",
    "xs",
    "Int",
    "Real",
    "Bool",
    "String",
    "Dist",
    "Method",
    "Normal",
    "Bernoulli",
    "Categorical",
    "Beta",
    "Dirichlet",
    "MvNormal",
    "Enumerate",
    "Smc",
    "Importance",
    "infer",
    "sample",
    "observe",
    "factor",
    "map",
    "fold",
    "scan",
    "len",
    "real",
    "print",
    "prob",
    "mean",
    "0",
    "1",
    "42",
    "2.5",
    "1e6",
    "0.5",
    "9223372036854775807",
    "9223372036854775808",
    "1e999",
    "\"s\"",
    "\"a\\nb\"",
    "\"\\q\"",
    "\"open",
    "/*",
    "*/",
    "//",
    "\n",
    "@",
    "#",
    "&",
    "é",
    "\u{1F600}",
    "'",
    "_",
    "t.0",
    "x[0]",
    "0..3",
    "|x| x",
    "()",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(TOKENS), prop::bool::ANY), 0..80).prop_map(|toks| {
        let mut s = String::new();
        for (t, space) in toks {
            s.push_str(t);
            if space {
                s.push(' ');
            }
        }
        s
    })
}

/// Programs that look like Tyche: an item skeleton around token soup, so
/// the checker (not only the parser) sees many of them.
fn item_soup() -> impl Strategy<Value = String> {
    let header = prop::sample::select(
        &[
            "fn model() ",
            "fn model() -> Real ",
            "fn f(x) ",
            "fn f(x: Int, y: Real) -> Int ",
            "fn model() -> (Int, Bool) ",
        ][..],
    );
    (
        header,
        token_soup(),
        prop::sample::select(&["", "let c = 1;\n", "data d: [Real];\n", "let xs = [1.0];\n"][..]),
    )
        .prop_map(|(h, body, prefix)| format!("{prefix}{h}{{ {body} }}\n"))
}

/// Every program the tests know: the corpus and the examples.
fn seed_programs() -> Vec<String> {
    let root = common::root();
    let mut files = common::programs_recursive(&root.join("tests").join("corpus"));
    files.extend(common::programs_recursive(&root.join("examples")));
    let mut texts: Vec<String> = files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    texts.push(tyche_driver::PRELUDE.to_string());
    assert!(texts.len() > 10, "corpus programs not found");
    texts
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Delete `len` bytes at a relative position.
    Delete(f64, usize),
    /// Insert a token at a relative position.
    Insert(f64, &'static str),
    /// Swap the characters at two relative positions.
    Swap(f64, f64),
    /// Duplicate a slice at a relative position.
    Duplicate(f64, usize),
    /// Cut the text at a relative position.
    Truncate(f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pos = 0.0..1.0f64;
    prop_oneof![
        3 => (pos.clone(), 1..12usize).prop_map(|(p, n)| Mutation::Delete(p, n)),
        3 => (pos.clone(), prop::sample::select(TOKENS)).prop_map(|(p, t)| Mutation::Insert(p, t)),
        2 => (pos.clone(), pos.clone()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        1 => (pos.clone(), 1..40usize).prop_map(|(p, n)| Mutation::Duplicate(p, n)),
        1 => pos.prop_map(Mutation::Truncate),
    ]
}

/// The character boundary nearest below `p * len`.
fn at(text: &str, p: f64) -> usize {
    let mut i = ((text.len() as f64) * p) as usize;
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut s = text.to_string();
    match *m {
        Mutation::Delete(p, n) => {
            let i = at(&s, p);
            let mut j = (i + n).min(s.len());
            while !s.is_char_boundary(j) {
                j += 1;
            }
            s.replace_range(i..j, "");
        }
        Mutation::Insert(p, t) => {
            let i = at(&s, p);
            s.insert_str(i, t);
        }
        Mutation::Swap(a, b) => {
            let (i, j) = (at(&s, a), at(&s, b));
            let (i, j) = (i.min(j), i.max(j));
            if let (Some(ci), Some(cj)) = (s[i..].chars().next(), s[j..].chars().next()) {
                if i + ci.len_utf8() <= j {
                    let mut out = String::with_capacity(s.len());
                    out.push_str(&s[..i]);
                    out.push(cj);
                    out.push_str(&s[i + ci.len_utf8()..j]);
                    out.push(ci);
                    out.push_str(&s[j + cj.len_utf8()..]);
                    s = out;
                }
            }
        }
        Mutation::Duplicate(p, n) => {
            let i = at(&s, p);
            let mut j = (i + n).min(s.len());
            while !s.is_char_boundary(j) {
                j += 1;
            }
            let piece = s[i..j].to_string();
            s.insert_str(j, &piece);
        }
        Mutation::Truncate(p) => {
            let i = at(&s, p);
            s.truncate(i);
        }
    }
    s
}

fn mutated_programs() -> impl Strategy<Value = String> {
    let seeds = seed_programs();
    (
        prop::sample::select(seeds),
        prop::collection::vec(mutation(), 1..6),
    )
        .prop_map(|(text, ms)| ms.iter().fold(text, |t, m| apply(&t, m)))
}

#[test]
fn random_text_never_panics() {
    run_property("random unicode text", 4000, any::<String>());
    run_property("random ascii text", 4000, "[ -~\n\t]{0,300}");
}

#[test]
fn token_soup_never_panics() {
    run_property("token soup", 10_000, token_soup());
    run_property("item soup", 10_000, item_soup());
}

#[test]
fn mutated_corpus_never_panics() {
    run_property("mutated corpus programs", 20_000, mutated_programs());
}

/// The regressions found so far, kept as fixed cases.
#[test]
fn known_tricky_inputs() {
    let cases = [
        "",
        "\u{feff}",
        "fn",
        "fn model(",
        "fn model() {",
        "fn model() { \"é",
        "fn model() { /* é",
        "fn model() { 1 @é 2 }",
        "let x = \"\\é\";",
        "fn model() { let (a, b) = 1; a }",
        "fn model() { let f = |x| x(x); f }",
        "fn model() { infer(Enumerate, model) }",
        "fn model() { do(model, x = 1.0) }",
        "fn model() { counterfactual(model, x = 1.0) }",
        "fn model() { condition(model, x = 1.0) }",
        "data d: Dist<Real>;\nfn model() { sample(d) }",
        "data f: (Int) -> Int;\nfn model() { f(1) }",
        "fn model() -> Dist<Dist<Int>> { infer(Enumerate, || infer(Enumerate, || 1)) }",
        "fn model() { [][0] }",
        "fn model() { [] }",
        "fn model() { let xs = []; len(xs) }",
        "let a = a;\nfn model() { a }",
        "fn model() { -9223372036854775808 }",
        "fn model() { 1.0.0 }",
        "fn model() { t.0.0.0 }",
        "fn model() { (1, 2).99999999999999999999 }",
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check_one(c).err().map(|e| format!("{c:?}: {e}")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Negating the folded literal `i64::MIN` once overflowed in the parser's
/// constant folding; it must be a runtime overflow error instead.
#[test]
fn negated_min_int_literal() {
    let cases = [
        "fn model() { --9223372036854775808 }",
        "fn model() { - -9223372036854775808 }",
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check_one(c).err().map(|e| format!("{c:?}: {e}")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
