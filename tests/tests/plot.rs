//! `tyche run --plot FILE.svg`: the figure is a well-formed SVG document
//! (parsed with `roxmltree`) with the expected elements — a histogram's
//! rectangles and the component's title for every run, bars for discrete
//! results, and one trace line per chain for MCMC runs. Failing to write
//! the file is a usage error (exit 2).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tyche-plot-{}-{name}", std::process::id()))
}

/// Runs `tyche run FILE ARGS… --plot TMP` and returns the SVG text.
fn plot(file: &Path, args: &[&str], name: &str) -> String {
    let out = tmp(name);
    let file = file.display().to_string();
    let out_s = out.display().to_string();
    let mut argv = vec!["run", file.as_str()];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["--plot", out_s.as_str()]);
    let r = tyche_cli::run_command(&argv);
    assert_eq!(r.status, 0, "tyche {argv:?} failed:\n{}", r.stderr);
    assert!(!r.stdout.is_empty());
    let svg = std::fs::read_to_string(&out).expect("the figure was written");
    let _ = std::fs::remove_file(&out);
    svg
}

fn attr_f64(n: &roxmltree::Node, name: &str) -> f64 {
    n.attribute(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("<{}> without a numeric `{name}`", n.tag_name().name()))
}

/// What the tests look at in a figure.
struct Figure {
    width: f64,
    height: f64,
    /// Filled rectangles with positive size, except the background.
    bars: usize,
    texts: Vec<String>,
    /// `polyline`/`path` elements with at least `min_points` points.
    long_lines: usize,
}

fn parse(svg: &str, min_points: usize) -> Figure {
    let doc = roxmltree::Document::parse(svg).expect("the figure is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let (width, height) = (attr_f64(&root, "width"), attr_f64(&root, "height"));
    assert!(width > 0.0 && height > 0.0);
    let mut bars = 0;
    let mut texts = Vec::new();
    let mut long_lines = 0;
    for n in root.descendants().filter(|n| n.is_element()) {
        match n.tag_name().name() {
            "rect" => {
                let (x, y) = (attr_f64(&n, "x"), attr_f64(&n, "y"));
                let (w, h) = (attr_f64(&n, "width"), attr_f64(&n, "height"));
                let inside = x >= 0.0 && y >= 0.0 && x + w <= width && y + h <= height;
                let background = w >= width && h >= height;
                if inside
                    && !background
                    && w > 0.0
                    && h > 0.0
                    && n.attribute("fill") != Some("none")
                {
                    bars += 1;
                }
            }
            "text" => texts.push(n.text().unwrap_or("").trim().to_string()),
            "polyline" => {
                let points = n
                    .attribute("points")
                    .unwrap_or("")
                    .split_whitespace()
                    .count();
                if points >= min_points {
                    long_lines += 1;
                }
            }
            "path" => {
                let d = n.attribute("d").unwrap_or("");
                if d.matches(['L', 'l']).count() + 1 >= min_points {
                    long_lines += 1;
                }
            }
            _ => {}
        }
    }
    Figure {
        width,
        height,
        bars,
        texts,
        long_lines,
    }
}

#[test]
fn smc_run_plots_a_histogram_of_the_result() {
    let svg = plot(
        &root().join("examples/coin.ppl"),
        &["--seed", "1", "--method", "smc"],
        "coin.svg",
    );
    let f = parse(&svg, 50);
    assert!(f.width >= 300.0 && f.height >= 200.0);
    assert!(f.bars >= 5, "expected histogram bars, found {}", f.bars);
    assert!(
        f.texts.iter().any(|t| t == "result"),
        "no `result` title in {:?}",
        f.texts
    );
    assert!(f.texts.iter().any(|t| t == "density"));
    assert_eq!(f.long_lines, 0, "no trace plots for SMC");
}

#[test]
fn mh_run_adds_a_trace_plot_per_chain() {
    let args = [
        "--seed",
        "1",
        "--method",
        "mh",
        "--samples",
        "400",
        "--burn",
        "50",
        "--chains",
        "2",
    ];
    let svg = plot(&root().join("examples/coin.ppl"), &args, "coin-mh.svg");
    let f = parse(&svg, 100);
    assert!(f.bars >= 5, "expected histogram bars, found {}", f.bars);
    assert!(f.texts.iter().any(|t| t == "result"));
    // A row per parameter (the result and the choice `p`): distribution,
    // trace (both chains) and ranks.
    for c in [
        "trace of result",
        "ranks of result",
        "trace of p",
        "ranks of p",
    ] {
        assert!(f.texts.iter().any(|t| t == c), "no `{c}` in {:?}", f.texts);
    }
    assert!(
        f.long_lines >= 4,
        "expected a trace line per chain and parameter, found {}",
        f.long_lines
    );
}

/// A model with 30 named parameters (`x[0]` … `x[29]`) and a unit result.
fn thirty_parameters() -> PathBuf {
    let src = tmp("thirty.ppl");
    std::fs::write(
        &src,
        "fn model() -> () {\n    for i in 0..30 {\n        let x ~ Normal(0.0, 1.0);\n        observe(Normal(x, 1.0), 0.5);\n    }\n}\n",
    )
    .unwrap();
    src
}

#[test]
fn every_parameter_gets_a_titled_panel_without_a_cap() {
    let src = thirty_parameters();
    let svg = plot(
        &src,
        &["--method", "importance", "--particles", "400"],
        "thirty.svg",
    );
    let f = parse(&svg, 2);
    // One histogram per parameter: its axis is titled by the name.
    assert_eq!(f.texts.iter().filter(|t| *t == "density").count(), 30);
    for k in 0..30 {
        let name = format!("x[{k}]");
        assert!(f.texts.iter().any(|t| *t == name), "no panel for {name}");
    }

    let svg = plot(
        &src,
        &[
            "--method",
            "mh",
            "--chains",
            "2",
            "--samples",
            "100",
            "--burn",
            "10",
        ],
        "thirty-mh.svg",
    );
    let _ = std::fs::remove_file(&src);
    let f = parse(&svg, 2);
    for what in ["trace of", "ranks of"] {
        let n = f.texts.iter().filter(|t| t.starts_with(what)).count();
        assert_eq!(n, 30, "{what}: {n} panels");
    }
    for k in 0..30 {
        let name = format!("trace of x[{k}]");
        assert!(f.texts.iter().any(|t| *t == name), "no `{name}`");
    }
}

#[test]
fn plot_pair_draws_two_parameters_against_each_other() {
    let eight = root().join("examples/eight_schools.ppl");
    let data = root().join("examples/eight_schools.data.json");
    let data = data.to_str().unwrap();
    let args = [
        "--data",
        data,
        "--method",
        "mh",
        "--samples",
        "200",
        "--plot-pair",
        "mu,eta[3]",
    ];
    let f = parse(&plot(&eight, &args, "pair.svg"), 2);
    assert!(
        f.texts.iter().any(|t| t == "eta[3] against mu"),
        "{:?}",
        f.texts
    );

    // An unknown name is a usage error that lists the names.
    let out = tmp("pair-bad.svg").display().to_string();
    let eight = eight.display().to_string();
    let r = tyche_cli::run_command(&[
        "run",
        &eight,
        "--data",
        data,
        "--method",
        "mh",
        "--samples",
        "50",
        "--plot",
        &out,
        "--plot-pair",
        "mu,sigma",
    ]);
    assert_eq!(r.status, tyche_cli::USAGE, "{}", r.stderr);
    assert!(
        r.stderr.contains("no parameter named `sigma`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("eta[7]"), "{}", r.stderr);
    // Without --plot it is a usage error too.
    let r = tyche_cli::run_command(&["run", &eight, "--data", data, "--plot-pair", "mu,tau"]);
    assert_eq!(r.status, tyche_cli::USAGE, "{}", r.stderr);
}

#[test]
fn discrete_tuple_results_get_a_panel_per_component() {
    let src = tmp("tuple.ppl");
    std::fs::write(
        &src,
        "fn model() -> (Bool, Int) {\n    let a ~ Bernoulli(0.3);\n    let n ~ Binomial(4, 0.5);\n    condition(a || n > 0);\n    (a, n)\n}\n",
    )
    .unwrap();
    let svg = plot(&src, &["--seed", "1"], "tuple.svg");
    let _ = std::fs::remove_file(&src);
    let f = parse(&svg, 2);
    for t in ["result.0", "result.1", "probability", "true", "false"] {
        assert!(f.texts.iter().any(|x| x == t), "no `{t}` in {:?}", f.texts);
    }
    // Two bars for the Bool, five for n ∈ 0..=4.
    assert!(f.bars >= 7, "expected bars, found {}", f.bars);
}

#[test]
fn unwritable_plot_path_is_a_usage_error() {
    let coin = root().join("examples/coin.ppl").display().to_string();
    let bad = tmp("no-such-dir").join("x.svg").display().to_string();
    let r = tyche_cli::run_command(&["run", &coin, "--seed", "1", "--plot", &bad]);
    assert_eq!(r.status, tyche_cli::USAGE, "{}", r.stderr);
    assert!(r.stderr.contains("cannot write"), "{}", r.stderr);
}
