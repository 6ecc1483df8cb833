//! `bench_check`: how long the front end takes on a large program.
//!
//! Generates, in memory, a 2,000-line Tyche program of realistic shape —
//! data items with defaults, constants, many small functions with `let`s,
//! `if` chains, recursion, tuples, lambdas passed to `map`/`fold`/`filter`,
//! polymorphic helpers, and models with `~`, `observe`, `factor`,
//! `condition`, nested `infer` — whose units call one another so the type
//! checker's dependency analysis has real work. Then it times
//! `tyche_driver::compile_source` (parse, type check, lower, verify; what
//! `tyche check` does) against a reference measured in the same run: lexing
//! and parsing alone with `tyche_syntax::parse_program`.
//!
//! Prints `time check_2000_lines S`, `time parse_2000_lines S` and
//! `ratio check_vs_parse X` (medians of `--reps`, default 20).

use std::process::ExitCode;
use tyche_bench::{median, time};
use tyche_core::{render_all, SourceMap};

/// The number of lines of the generated program.
const LINES: usize = 2000;

/// One unit of the program: 65 lines that use unit `prev`'s items.
fn unit(i: usize, prev: usize) -> String {
    format!(
        r#"// ---------------------------------------------------------------- unit {i}
data obs_{i}: [Real] = [0.5, 1.25, -0.75, 2.0, 0.1 * {i}.0];
let scale_{i} = 1.0 + 0.01 * {i}.0;
let weights_{i} = [0.2, 0.3, 0.5];
let offsets_{i} = map(range(0, 4), |j| real(j) * scale_{i});

/// An affine map, clamped to [-100, 100].
fn affine_{i}(x: Real, a: Real, b: Real) -> Real {{
    let y = a * x + b;
    if y > 100.0 {{
        100.0
    }} else if y < -100.0 {{
        -100.0
    }} else {{
        y
    }}
}}

/// Mean and standard deviation.
fn summarize_{i}(xs: [Real]) -> (Real, Real) {{
    let n = real(len(xs));
    let m = fold(xs, 0.0, |acc, x| acc + x) / n;
    let v = sum(map(xs, |x| (x - m) * (x - m))) / n;
    (m, sqrt(v))
}}

fn transform_{i}(xs: [Real], f: (Real) -> Real) -> [Real] {{
    let kept = filter(xs, |x| abs(x) < 50.0);
    map(kept, |x| f(affine_{prev}(x, scale_{i}, 0.5)))
}}

fn pair_{i}(x) {{
    (x, x)
}}

fn count_positive_{i}(xs) {{
    len(filter(xs, |x| x > 0.0))
}}

fn halve_{i}(n: Int, acc: Real) -> Real {{
    if n <= 0 {{ acc }} else {{ halve_{i}(n - 1, acc * 0.5 + 1.0) }}
}}

fn model_{i}() -> Real {{
    let mu ~ Normal(0.0, scale_{i});
    let sigma ~ Gamma(2.0, 1.0);
    let k ~ Categorical(weights_{i});
    let shifted = transform_{i}(obs_{i}, |x| x + real(k) + offsets_{prev}[k]);
    for y in shifted {{
        observe(Normal(mu, sigma), y);
    }}
    let (m, s) = summarize_{i}(shifted);
    factor(-0.5 * (m - mu) * (m - mu) / (s + 1.0));
    let flips = map(range(0, 3), |j| sample(Bernoulli(sigmoid(mu + real(j)))));
    let (a, b) = pair_{i}(count_positive_{i}(shifted));
    condition(a + b >= 0);
    let (u, _) = pair_{i}(halve_{i}(k, mu));
    if any(flips) {{ u + summarize_{prev}(obs_{prev}).0 }} else {{ mu }}
}}

fn posterior_mean_{i}() -> Real {{
    let d = infer(Importance(10), model_{i});
    mean(d) + log_evidence(d) * 0.0
}}

"#
    )
}

/// The generated program: units until the next would pass `LINES`, then
/// a `model`, padded with comment lines to exactly `LINES` lines.
fn program() -> String {
    let mut text = String::from("// A generated 2,000-line program for bench_check.\n\n");
    let mut units = 0;
    loop {
        let next = unit(units, units.saturating_sub(1));
        let tail = 6;
        if text.lines().count() + next.lines().count() + tail > LINES {
            break;
        }
        text.push_str(&next);
        units += 1;
    }
    text.push_str(&format!(
        "fn model() -> Real {{\n    let x = model_{}();\n    x + posterior_mean_0() * 0.0\n}}\n\n",
        units - 1
    ));
    while text.lines().count() < LINES {
        text.push_str("// padding\n");
    }
    text
}

fn main() -> ExitCode {
    let mut reps = 20;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next().map(|v| v.parse::<usize>())) {
            ("--reps", Some(Ok(n))) if n > 0 => reps = n,
            _ => {
                eprintln!("usage: bench_check [--reps N]");
                return ExitCode::from(2);
            }
        }
    }
    let text = program();
    let lines = text.lines().count();
    println!("info lines {lines}");
    println!("info bytes {}", text.len());

    // Once for correctness: the program must compile.
    let mut sources = SourceMap::new();
    if let Err(diags) = tyche_driver::compile_source(&mut sources, "generated.ppl", &text) {
        eprintln!(
            "the generated program does not compile:\n{}",
            render_all(&diags, &sources, false)
        );
        return ExitCode::FAILURE;
    }

    let mut check = Vec::new();
    let mut parse = Vec::new();
    for _ in 0..reps {
        let mut sources = SourceMap::new();
        let (t, r) = time(|| tyche_driver::compile_source(&mut sources, "generated.ppl", &text));
        assert!(r.is_ok());
        check.push(t);

        let mut sources = SourceMap::new();
        let file = sources.add("generated.ppl", text.as_str());
        let (t, (ast, diags)) = time(|| tyche_syntax::parse_program(file, &text, 0));
        assert!(diags.is_empty() && !ast.items.is_empty());
        parse.push(t);
    }
    let (c, p) = (median(&check), median(&parse));
    println!("time check_2000_lines {c:.6}");
    println!("time parse_2000_lines {p:.6}");
    println!("ratio check_vs_parse {:.2}", c / p);
    println!(
        "info target check_2000_lines < 1 s: {}",
        if c < 1.0 { "met" } else { "MISSED" }
    );
    ExitCode::SUCCESS
}
