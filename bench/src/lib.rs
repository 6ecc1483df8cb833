//! Shared pieces of Tyche's benchmark binaries (`bench_check`, `bench_infer`):
//! running a `.ppl` model in-process exactly as `tyche run` does (compile,
//! bind data, evaluate globals, pick `model`, [`tyche_engine::run`]) but
//! with only the inference call timed; medians; and the synthetic data
//! sets, generated from fixed seeds so every run benchmarks the same data.
//!
//! See `bench/README.md` for what each benchmark measures.

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tyche_core::{render_all, SourceMap};
use tyche_infer::{InferResult, Model, Options};

/// The generator used for synthetic data and the hand-written particle
/// filter: the same family (xoshiro256++) as Tyche's inference streams.
pub type BenchRng = rand::rngs::Xoshiro256PlusPlus;

/// The `bench/` folder of the source tree (models, data, WebPPL copies).
pub fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reads a file, with the path in the error.
pub fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Result<Json, String> {
    serde_json::from_str(&read(path)?).map_err(|e| format!("{}: invalid JSON: {e}", path.display()))
}

/// Compiles `source` and binds `data` (a JSON object whose keys are the
/// program's `data` items), then evaluates the globals and picks `fn
/// model()` — the sequence of `tyche run` (compiler/tyche-cli/src/run.rs).
/// Errors are rendered diagnostics.
pub fn prepare(name: &str, source: &str, data: &Json) -> Result<Model, String> {
    let mut sources = SourceMap::new();
    let render = |d: &[tyche_core::Diagnostic], s: &SourceMap| render_all(d, s, false);
    let compiled = tyche_driver::compile_source(&mut sources, name, source)
        .map_err(|d| render(&d, &sources))?;
    let data_text = serde_json::to_string(data).expect("JSON values serialise");
    let (file, value) =
        tyche_driver::parse_data_file(&mut sources, &format!("{name}.data.json"), &data_text)
            .map_err(|d| render(&[d], &sources))?;
    let bound = tyche_driver::bind_data(&compiled, &sources, Some((file, &value)))
        .map_err(|d| render(&d, &sources))?;
    let func =
        tyche_driver::model(&compiled, &sources, "model").map_err(|d| render(&[d], &sources))?;
    let globals =
        tyche_driver::evaluate_globals(&compiled.ir, &bound).map_err(|d| render(&[d], &sources))?;
    Ok(Model::for_function(compiled.ir.clone(), globals, func))
}

/// [`prepare`] for the file `bench/models/{file}`.
pub fn prepare_file(file: &str, data: &Json) -> Result<Model, String> {
    let path = bench_dir().join("models").join(file);
    prepare(&path.display().to_string(), &read(&path)?, data)
}

static BACKEND: std::sync::OnceLock<tyche_engine::Backend> = std::sync::OnceLock::new();

/// Sets the backend [`timed_infer`] uses (once; the default is `Auto`,
/// as for `tyche run`).
pub fn set_backend(b: tyche_engine::Backend) {
    let _ = BACKEND.set(b);
}

/// Runs inference once; returns the wall time of the `infer` call alone,
/// in seconds, and its result. Errors are the diagnostic's message.
///
/// The timed region is the run pipeline's: compiling the model for the
/// backend (extraction and code generation), inference and the run's
/// diagnosis, as in `tyche run`.
pub fn timed_infer(model: &Model, opts: &Options) -> Result<(f64, InferResult), String> {
    let msg = |d: tyche_core::Diagnostic| {
        format!("{}: {}", d.code.as_deref().unwrap_or("error"), d.message)
    };
    let t0 = Instant::now();
    let backend = BACKEND.get().copied().unwrap_or_default();
    let spec = tyche_engine::Spec::new(model, opts.clone())
        .method(Some(opts.method))
        .backend(backend);
    let r = tyche_engine::run(spec).map_err(msg)?.result;
    Ok((t0.elapsed().as_secs_f64(), r))
}

/// CPU seconds (user + system, all threads) used by this process so far,
/// from `/proc/self/stat` (Linux; 10 ms resolution), or `None` elsewhere.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line, in USER_HZ (100 per second).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Seconds taken by `f`, and its result.
pub fn time<R>(f: impl FnOnce() -> R) -> (f64, R) {
    let t0 = Instant::now();
    let r = f();
    (t0.elapsed().as_secs_f64(), r)
}

/// The median (the mean of the middle two for an even count).
pub fn median(xs: &[f64]) -> f64 {
    assert!(!xs.is_empty(), "median of nothing");
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The normal log density.
pub fn normal_log_pdf(x: f64, mu: f64, sigma: f64) -> f64 {
    let z = (x - mu) / sigma;
    -0.5 * z * z - sigma.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
}

// ---------------------------------------------------------------- data

/// Flattens `reference/webppl/data/alarm.json` into items Tyche can bind:
/// its nested objects (`pA: {"TT": …}`, `pJ`, `pM`, `evidence`) have no
/// Tyche type (there are no records), so `pA.TT` becomes `pA_TT`, etc.
pub fn flatten_alarm(d: &Json) -> Json {
    let mut out = serde_json::Map::new();
    for (k, v) in d.as_object().expect("alarm.json is an object") {
        match v {
            Json::Object(inner) => {
                for (k2, v2) in inner {
                    out.insert(format!("{k}_{k2}"), v2.clone());
                }
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Json::Object(out)
}

/// Linear-Gaussian state-space data of length `t`, with the parameters
/// and keys of `lgss.json` (a = 0.9, q = r = sigma0 = 1).
pub fn lgss_data(t: usize, seed: u64) -> Json {
    let (a, q, r, sigma0) = (0.9, 1.0, 1.0, 1.0);
    let mut rng = BenchRng::seed_from_u64(seed);
    let mut xs = Vec::with_capacity(t);
    let mut ys = Vec::with_capacity(t);
    let mut x = 0.0;
    for i in 0..t {
        let z: f64 = StandardNormal.sample(&mut rng);
        x = if i == 0 { sigma0 * z } else { a * x + q * z };
        let e: f64 = StandardNormal.sample(&mut rng);
        xs.push(x);
        ys.push(x + r * e);
    }
    json!({
        "description": format!("synthetic LGSS data, T = {t}, seed {seed}"),
        "T": t, "a": a, "q": q, "r": r, "sigma0": sigma0, "y": ys, "x_true": xs,
    })
}

/// monad-bayes's logistic-regression data (models/LogReg.hs,
/// `syntheticData`): x ~ U(-1, 1), label ~ Bernoulli(0.5).
pub fn logreg_data(n: usize, seed: u64) -> Json {
    let mut rng = BenchRng::seed_from_u64(seed);
    let mut xs = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        xs.push(rng.random::<f64>() * 2.0 - 1.0);
        labels.push(rng.random::<f64>() < 0.5);
    }
    json!({ "xs": xs, "labels": labels })
}

/// monad-bayes's HMM data (models/HMM.hs, `syntheticData`): each
/// observation uniform on {0, 1, 2}.
pub fn hmm_data(n: usize, seed: u64) -> Json {
    let mut rng = BenchRng::seed_from_u64(seed);
    let ys: Vec<f64> = (0..n).map(|_| rng.random_range(0..3) as f64).collect();
    json!({ "ys": ys })
}

/// monad-bayes's LDA data (models/LDA.hs, `syntheticData 5 n`): 5
/// documents of `n` words each, every word uniform over the 4-word
/// vocabulary (word ids 0..4).
pub fn lda_data(words_per_doc: usize, seed: u64) -> Json {
    let mut rng = BenchRng::seed_from_u64(seed);
    let docs: Vec<Vec<i64>> = (0..5)
        .map(|_| (0..words_per_doc).map(|_| rng.random_range(0..4)).collect())
        .collect();
    json!({ "docs": docs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn data_is_deterministic() {
        assert_eq!(lgss_data(10, 7), lgss_data(10, 7));
        assert_ne!(lgss_data(10, 7), lgss_data(10, 8));
        assert_eq!(lda_data(3, 1)["docs"].as_array().unwrap().len(), 5);
    }

    #[test]
    fn alarm_flattens() {
        let d = json!({"pB": 0.1, "pA": {"TT": 0.9}, "evidence": {"J": true}});
        assert_eq!(
            flatten_alarm(&d),
            json!({"pB": 0.1, "pA_TT": 0.9, "evidence_J": true})
        );
    }
}
