//! The checker never panics: every single-token mutation of some realistic
//! programs is checked (when it still parses), and every type is either
//! resolved or the program has errors.

use tyche_core::SourceMap;
use tyche_types::check_program;

const PROGRAMS: &[&str] = &[
    "let flips = [true, false, true];
fn model() -> Real {
    let p ~ Beta(1.0, 1.0);
    for f in flips { observe(Bernoulli(p), f); }
    p
}",
    "data ys: [Real];
fn model() -> Real {
    fold(ys, 0.0, |x_prev, y| { let x ~ Normal(0.9 * x_prev, 1.0); observe(Normal(x, 0.5), y); x })
}",
    "fn add(a, b) { a + b }
fn pair(p: (Int, Real)) -> Real { real(p.0) + p.1 }
fn main() { let (a, b) = (add(1, 2), add(1.5, 2.0)); if a > 2 { b } else { pair((a, b)) } }",
    "fn model() { let rain ~ Bernoulli(0.3); let wet = sample(\"wet\", Bernoulli(if rain { 0.9 } else { 0.1 })); rain }
fn main() { let d = infer(Enumerate, condition(do(model, rain = true), wet = true)); (prob(d, true), mean(d), samples(d)[0]) }",
    "fn ev(n) { if n == 0 { true } else { od(n - 1) } }
fn od(n) { if n == 0 { false } else { ev(n - 1) } }
let xs = map(range(0, 10), |i| ev(i));
fn main() { len(filter(xs, |b| !b)) + sum(scan([1, 2], 0, |s, x| s + x)) }",
];

const REPLACEMENTS: &[&str] = &[
    "true",
    "1",
    "2.5",
    "\"s\"",
    "()",
    "[]",
    "(1, true)",
    "|a| a",
    "Normal",
    "x",
    "model",
    "sample",
    "p.0",
];

fn word_spans(src: &str) -> Vec<(usize, usize)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphanumeric() || b[i] == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn mutated_programs_never_panic() {
    let mut checked = 0;
    for src in PROGRAMS {
        for (s, e) in word_spans(src) {
            for r in REPLACEMENTS {
                let text = format!("{}{}{}", &src[..s], r, &src[e..]);
                let mut map = SourceMap::new();
                let file = map.add("m.ppl", text.as_str());
                let (program, pd) = tyche_syntax::parse_program(file, &text, 0);
                if !pd.is_empty() {
                    continue;
                }
                let (info, diags) = check_program(&program);
                checked += 1;
                if diags.is_empty() {
                    assert!(
                        info.expr_types.iter().all(Option::is_some),
                        "untyped expression in:\n{text}"
                    );
                }
                for d in &diags {
                    // Rendering must work for every diagnostic, too.
                    assert!(!tyche_core::render(d, &map, false).is_empty());
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} mutants parsed");
}

#[test]
fn the_original_programs_are_well_typed() {
    for src in PROGRAMS {
        let mut map = SourceMap::new();
        let file = map.add("m.ppl", *src);
        let (program, pd) = tyche_syntax::parse_program(file, src, 0);
        assert!(pd.is_empty());
        let (_, diags) = check_program(&program);
        assert!(
            diags.is_empty(),
            "{}",
            tyche_core::render_all(&diags, &map, false)
        );
    }
}
