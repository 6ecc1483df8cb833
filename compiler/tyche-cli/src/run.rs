//! `tyche run` and `tyche check`.

use crate::cli::{CheckArgs, Cli, Command, Emit, Format, MethodArg, ResamplerArg, RunArgs};
use std::io::Write;
use std::sync::Arc;
use tyche_core::{render_all, Diagnostic, SourceMap};
use tyche_driver::Compiled;
use tyche_ir::EditKind;

/// Exit status for a diagnosed error in the program or its data.
pub const DIAGNOSED: u8 = 1;
/// Exit status for bad command-line usage (clap uses it too).
pub const USAGE: u8 = 2;

/// Where a command writes: standard output and standard error, or
/// buffers in tests.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// Colour diagnostics (only when stderr is a terminal).
    pub color: bool,
}

pub fn dispatch(cli: Cli, io: &mut Io) -> u8 {
    match cli.command {
        Command::Run(args) => run(args, io),
        Command::Check(args) => check(args, io),
        Command::Graph(args) => crate::graph::command(args, io),
        Command::Repl(args) => crate::repl::main(args, io),
        Command::Build(args) => crate::build::command(args, io),
        Command::Summary(args) => crate::summary::command(args, io),
    }
}

pub(crate) fn report(io: &mut Io, diags: &[Diagnostic], sources: &SourceMap) -> u8 {
    let _ = write!(io.err, "{}", render_all(diags, sources, io.color));
    let errors = diags.iter().filter(|d| d.is_error()).count();
    if errors > 1 {
        let _ = writeln!(io.err, "error: aborting due to {errors} previous errors");
    }
    DIAGNOSED
}

pub(crate) fn usage(io: &mut Io, msg: impl std::fmt::Display) -> u8 {
    let _ = writeln!(io.err, "error: {msg}");
    USAGE
}

/// Reads and compiles a program file.
fn load(io: &mut Io, path: &std::path::Path, sources: &mut SourceMap) -> Result<Compiled, u8> {
    let text = read_source(io, path)?;
    tyche_driver::compile_source(sources, &path.display().to_string(), &text)
        .map_err(|d| report(io, &d, sources))
}

/// Reads a program file's text.
pub(crate) fn read_source(io: &mut Io, path: &std::path::Path) -> Result<String, u8> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
            let _ = writeln!(io.err, "error: {} is not valid UTF-8 text", path.display());
            DIAGNOSED
        }),
        Err(e) => Err(usage(io, format!("cannot read {}: {e}", path.display()))),
    }
}

fn check(args: CheckArgs, io: &mut Io) -> u8 {
    let mut sources = SourceMap::new();
    let compiled = match load(io, &args.file, &mut sources) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if matches!(args.emit, Some(Emit::Clif | Emit::Steps | Emit::Grad)) {
        return emit_clif(&args, &compiled, &mut sources, io);
    }
    let out = &mut io.out;
    let _ = match args.emit {
        None => writeln!(out, "{}: ok", args.file.display()),
        Some(Emit::Clif | Emit::Steps | Emit::Grad) => unreachable!("handled above"),
        Some(Emit::Ir) => write!(out, "{}", compiled.ir),
        Some(Emit::Ast) => writeln!(
            out,
            "{:#?}",
            compiled
                .ast
                .items
                .iter()
                .filter(|i| i.span().file == compiled.file)
                .collect::<Vec<_>>()
        ),
        Some(Emit::Types) => {
            let mut lines = Vec::new();
            for item in compiled
                .ast
                .items
                .iter()
                .filter(|i| i.span().file == compiled.file)
            {
                let name = &item.name().name;
                if let Some(t) = compiled.types.items.get(name) {
                    lines.push(format!("{name} : {t}"));
                }
            }
            writeln!(out, "{}", lines.join("\n"))
        }
    };
    0
}

/// `tyche check --emit clif`: extracts the model's log-density kernel
/// (specialised to the data) and prints its Cranelift IR, or says why the
/// model has no static kernel.
fn emit_clif(args: &CheckArgs, compiled: &Compiled, sources: &mut SourceMap, io: &mut Io) -> u8 {
    let data = match read_data(io, sources, args.data.as_deref()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let bound =
        match tyche_driver::bind_data(compiled, sources, data.as_ref().map(|(f, v)| (*f, v))) {
            Ok(b) => b,
            Err(d) => return report(io, &d, sources),
        };
    let func = match tyche_driver::model(compiled, sources, &args.model) {
        Ok(f) => f,
        Err(d) => return report(io, &[d], sources),
    };
    let globals = match tyche_driver::evaluate_globals(&compiled.ir, &bound) {
        Ok(g) => g,
        Err(d) => return report(io, &[d], sources),
    };
    if args.emit == Some(Emit::Steps) {
        let plan = tyche_jit::native_model_with(&compiled.ir, &globals, func, false, false)
            .and_then(|m| {
                // Built for SMC, a model always has its plan.
                m.plan().map(|p| p.to_string()).ok_or(tyche_jit::NotStatic {
                    reason: "the return value cannot be traced".into(),
                    span: None,
                })
            });
        return match plan {
            Ok(text) => {
                let _ = write!(io.out, "{text}");
                0
            }
            Err(e) => {
                let mut d = Diagnostic::error(format!("`{}` cannot be cut into steps", args.model))
                    .with_code("E0901")
                    .with_note(e.reason.clone());
                if let Some(span) = e.span {
                    d = d.with_primary(span, "not static here");
                }
                report(io, &[d], sources)
            }
        };
    }
    if args.emit == Some(Emit::Grad) {
        let ir = compiled.ir.clone();
        return match tyche_jit::gradient::GradientModel::new(&ir, &globals, func) {
            Ok(g) => {
                let _ = write!(io.out, "{}", g.describe());
                0
            }
            Err(e) => {
                let mut d = Diagnostic::error(format!(
                    "`{}` has no gradient on unconstrained coordinates",
                    args.model
                ))
                .with_code("E0901")
                .with_note(e.reason.clone());
                if let Some(span) = e.span {
                    d = d.with_primary(span, "not static here");
                }
                report(io, &[d], sources)
            }
        };
    }
    let kernel = match tyche_jit::extract(&compiled.ir, &globals, func) {
        Ok(k) => k,
        Err(e) => {
            let mut d =
                Diagnostic::error(format!("`{}` has no static log-density kernel", args.model))
                    .with_code("E0901")
                    .with_note(e.reason.clone());
            if let Some(span) = e.span {
                d = d.with_primary(span, "not static here");
            }
            return report(io, &[d], sources);
        }
    };
    match tyche_jit::emit_clif(&kernel) {
        Ok(text) => {
            let _ = write!(io.out, "{text}");
            0
        }
        Err(e) => {
            let _ = writeln!(io.err, "error: code generation failed: {e}");
            DIAGNOSED
        }
    }
}

fn run(args: RunArgs, io: &mut Io) -> u8 {
    run_source(args, None, io)
}

/// `tyche run`, on `source` when given (a `tyche build` executable's
/// embedded program, named `args.file` in diagnostics), else on the file.
pub(crate) fn run_source(args: RunArgs, source: Option<&str>, io: &mut Io) -> u8 {
    let mut sources = SourceMap::new();
    let compiled = match source {
        Some(text) => {
            tyche_driver::compile_source(&mut sources, &args.file.display().to_string(), text)
                .map_err(|d| report(io, &d, &sources))
        }
        None => load(io, &args.file, &mut sources),
    };
    let compiled = match compiled {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut edits = Vec::new();
    let flags = [
        (&args.interventions, EditKind::Do, false),
        (&args.observations, EditKind::Observe, false),
        (&args.counterfactuals, EditKind::Do, true),
    ];
    for (list, kind, counterfactual) in flags {
        for arg in list {
            match tyche_driver::parse_cli_edit(arg, kind) {
                Ok(e) => edits.push(tyche_driver::CliEdit {
                    counterfactual,
                    ..e
                }),
                Err(msg) => return usage(io, msg),
            }
        }
    }
    let data = match read_data(io, &mut sources, args.data.as_deref()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let mut bound =
        match tyche_driver::bind_data(&compiled, &sources, data.as_ref().map(|(f, v)| (*f, v))) {
            Ok(b) => b,
            Err(d) => return report(io, &d, &sources),
        };
    let func = match tyche_driver::model(&compiled, &sources, &args.model) {
        Ok(f) => f,
        Err(d) => return report(io, &[d], &sources),
    };
    let (program, func) = if edits.is_empty() {
        (compiled.ir.clone(), func)
    } else {
        match tyche_driver::apply_cli_surgery(&compiled.ir, func, &edits) {
            Ok((program, root, values)) => {
                bound.extend(values);
                (Arc::new(program), root)
            }
            Err(d) => return report(io, &d, &sources),
        }
    };
    let globals = match tyche_driver::evaluate_globals(&program, &bound) {
        Ok(g) => g,
        Err(d) => return report(io, &[d], &sources),
    };
    let model = tyche_infer::Model::for_function(program.clone(), globals, func);
    let mut opts = match options(&args, io) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let bar = if args.format == Format::Text && crate::progress_bars_enabled() {
        let (bar, progress) = progress_bar();
        opts.progress = Some(progress);
        Some(bar)
    } else {
        None
    };
    let started = std::time::Instant::now();
    let ran = tyche_jit::run(
        &model,
        &mut opts,
        args.method.is_none(),
        args.backend.into(),
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let (result, reason, diagnosis) = match ran {
        Ok(r) => (r.result, r.reason, r.diagnosis),
        Err(mut d) => {
            // Errors about the run as a whole (no evidence, no accepted
            // sample) point at the model, so every error has a location.
            if d.labels.is_empty() {
                let span =
                    model_name_span(&compiled, &args.model).unwrap_or(program.func(func).span);
                d = d.with_primary(span, format!("while running inference on `{}`", args.model));
            }
            return report(io, &[d], &sources);
        }
    };
    // An edit of one address (`z[7]`) that no run reaches would change
    // nothing; say so instead of printing an unaltered posterior.
    let unreached_in_program =
        tyche_driver::check_addressed_surgeries(&program, &model.globals, func, 200, args.seed);
    if !unreached_in_program.is_empty() {
        return report(io, &unreached_in_program, &sources);
    }
    let unreached =
        tyche_driver::unreached_addresses(&program, &model.globals, func, &edits, 200, args.seed);
    if !unreached.is_empty() {
        let diags: Vec<Diagnostic> = unreached
            .iter()
            .map(|a| {
                let d = Diagnostic::error(format!(
                    "no run of `{}` reached the address `{a}`",
                    args.model
                ))
                .with_code("E0807");
                match model_name_span(&compiled, &args.model) {
                    Some(span) => {
                        d.with_primary(span, format!("`{a}` is never drawn in this model"))
                    }
                    None => d,
                }
                .with_note(format!(
                    "the edit of `{a}` changed nothing (checked on 200 runs from the prior)"
                ))
                .with_help("occurrences are counted from 0 per name: `z[0]` is the first `z` drawn")
            })
            .collect();
        return report(io, &diags, &sources);
    }
    let ty = tyche_driver::result_type(&program, func);
    let values: Vec<tyche_vm::Value> = result.draws.iter().map(|d| d.value.clone()).collect();
    let weights: Vec<f64> = result.draws.iter().map(|d| d.log_weight).collect();
    let traces: Vec<Vec<(String, tyche_vm::Value)>> = result
        .draws
        .iter()
        .map(|d| {
            d.trace
                .iter()
                .map(|(a, v)| (a.display(&program), v.clone()))
                .collect()
        })
        .collect();
    let draws = tyche_report::Draws {
        values: &values,
        log_weights: Some(&weights),
        traces: Some(&traces),
        chains: result.mcmc.as_ref().map_or(1, |m| m.chains),
    };
    let mut extra = serde_json::Map::new();
    if let Some(stats) = &result.mcmc {
        extra.insert("acceptance_rate".into(), stats.acceptance_rate.into());
        extra.insert("chains".into(), stats.chains.into());
        if let Some(rhat) = stats.rhat {
            extra.insert("rhat".into(), rhat.into());
        }
    }
    extra.insert("exact".into(), result.exact.into());
    add_diagnosis(&mut extra, reason.as_deref(), &diagnosis);
    let info = tyche_report::RunInfo {
        model: args.model.clone(),
        method: opts.method.name().to_string(),
        seed: args.seed,
        log_evidence: result.log_evidence,
        ess: result.ess,
        backend: Some(result.backend.name().into()),
        extra,
    };
    if let Some(path) = &args.output {
        let written = match args.output_format {
            crate::cli::OutputFormat::Tyche => std::fs::File::create(path)
                .and_then(|f| tyche_report::write_csv(std::io::BufWriter::new(f), &draws))
                .map_err(|e| (path.clone(), e)),
            crate::cli::OutputFormat::Cmdstan => crate::summary::write_cmdstan(
                path,
                &args,
                &info,
                &draws,
                result.mcmc.as_ref(),
                started.elapsed().as_secs_f64(),
            ),
        };
        if let Err((path, e)) = written {
            return usage(io, format!("cannot write {}: {e}", path.display()));
        }
    }
    if let Some(path) = &args.plot {
        if let Err(code) = write_plot(io, path, &info, &ty, &draws, args.plot_pair.as_deref()) {
            return code;
        }
    }
    let out = &mut io.out;
    let _ = match args.format {
        Format::Json => {
            let mut json = tyche_report::to_json(&info, &ty, &draws);
            if args.draws {
                json["draw_table"] = tyche_report::draws_json(&draws);
            }
            writeln!(out, "{json}")
        }
        Format::Text => write!(out, "{}", tyche_report::to_text(&info, &ty, &draws, 60)),
    };
    0
}

/// The automatic method choice's reason (`"method_reason"`), the run's
/// warnings (`"warnings"`, always present) and, for MCMC, each quantity's
/// R-hat and ESS (`"diagnostics"`), as `--format json` keys; the text
/// report prints them too.
pub(crate) fn add_diagnosis(
    extra: &mut serde_json::Map<String, serde_json::Value>,
    reason: Option<&str>,
    diagnosis: &tyche_infer::Diagnosis,
) {
    if let Some(r) = reason {
        extra.insert("method_reason".into(), r.into());
    }
    extra.insert("warnings".into(), diagnosis.warnings.clone().into());
    if !diagnosis.quantities.is_empty() {
        let qs: Vec<serde_json::Value> = diagnosis
            .quantities
            .iter()
            .map(|q| {
                serde_json::json!({
                    "name": q.name,
                    "rhat": q.rhat,
                    "ess_bulk": q.ess_bulk,
                    "ess_tail": q.ess_tail,
                })
            })
            .collect();
        extra.insert("diagnostics".into(), qs.into());
    }
}

/// A progress bar on standard error for long runs and the callback that
/// moves it. Nothing is drawn during the first half second, so quick runs
/// never show one; runs of unknown length (SMC) get a spinner counting
/// steps.
fn progress_bar() -> (indicatif::ProgressBar, tyche_infer::Progress) {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::{Duration, Instant};
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let start = Instant::now();
    let shown = AtomicBool::new(false);
    let furthest = AtomicU64::new(0);
    let handle = bar.clone();
    let progress = tyche_infer::Progress::new(move |done, total| {
        // Reports may arrive out of order from parallel chains.
        let pos = furthest.fetch_max(done, Ordering::Relaxed).max(done);
        if start.elapsed() < Duration::from_millis(500) {
            return;
        }
        if !shown.swap(true, Ordering::Relaxed) {
            let style = if total > 0 {
                ProgressStyle::with_template(
                    "{bar:30.cyan/blue} {pos}/{len} iterations [{elapsed_precise}, {eta} left]",
                )
            } else {
                ProgressStyle::with_template("{spinner} step {pos} [{elapsed_precise}]")
            };
            if let Ok(style) = style {
                handle.set_style(style);
            }
            if total > 0 {
                handle.set_length(total);
            }
        }
        handle.set_position(pos);
    });
    (bar, progress)
}

/// Writes the `--plot` figure (see `tyche_report::plot_figure`), with
/// the `--plot-pair` scatter plot when asked. Failing to draw or write is
/// a usage error.
pub(crate) fn write_plot(
    io: &mut Io,
    path: &std::path::Path,
    info: &tyche_report::RunInfo,
    ty: &tyche_ir::Type,
    draws: &tyche_report::Draws,
    pair: Option<&str>,
) -> Result<(), u8> {
    let pair = match pair {
        None => None,
        Some(p) => match p.split_once(',') {
            Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
                Some((a.trim().to_string(), b.trim().to_string()))
            }
            _ => {
                return Err(usage(
                    io,
                    format!("--plot-pair wants two names, `A,B`; got `{p}`"),
                ))
            }
        },
    };
    let options = tyche_report::PlotOptions { pair };
    let svg = tyche_report::plot_figure(info, ty, draws, &options).map_err(|msg| usage(io, msg))?;
    std::fs::write(path, svg)
        .map_err(|e| usage(io, format!("cannot write {}: {e}", path.display())))
}

/// Inference options from the command line; the default method is exact
/// enumeration when the model allows it, else SMC.
/// Reads and parses `--data FILE.json` (adding it to `sources` so errors
/// can point into it); an unreadable file is a usage error.
pub(crate) fn read_data(
    io: &mut Io,
    sources: &mut SourceMap,
    path: Option<&std::path::Path>,
) -> Result<Option<(tyche_core::FileId, serde_json::Value)>, u8> {
    let Some(path) = path else { return Ok(None) };
    let bytes = std::fs::read(path)
        .map_err(|e| usage(io, format!("cannot read data file {}: {e}", path.display())))?;
    // Bytes that are not UTF-8 are bad data (exit 1, located), not usage.
    tyche_driver::parse_data_bytes(sources, &path.display().to_string(), bytes)
        .map(Some)
        .map_err(|d| report(io, &[d], sources))
}

/// Where the model function is named, for errors about a whole run.
fn model_name_span(compiled: &Compiled, model: &str) -> Option<tyche_core::Span> {
    compiled.ast.items.iter().find_map(|i| match i {
        tyche_syntax::ast::Item::Fn(f) if f.name.name == model => Some(f.name.span),
        _ => None,
    })
}

/// Runs the chosen method. Without `--method`, exact enumeration is tried
/// first and SMC is used when the model cannot be enumerated (a
/// continuous or unbounded choice, or too many paths).
fn options(args: &RunArgs, io: &mut Io) -> Result<tyche_infer::Options, u8> {
    use tyche_infer::{Method, Resampler};
    let method = match args.method {
        Some(MethodArg::Enumerate) => Method::Enumerate,
        Some(MethodArg::Rejection) => Method::Rejection,
        Some(MethodArg::Importance) => Method::Importance,
        Some(MethodArg::Smc) => Method::Smc,
        Some(MethodArg::Mh) => Method::Mh,
        Some(MethodArg::Pmmh) => Method::Pmmh,
        Some(MethodArg::Hmc) => Method::Hmc,
        Some(MethodArg::Nuts) => Method::Nuts,
        None => Method::Enumerate,
    };
    let mut opts = tyche_infer::Options {
        method,
        seed: args.seed,
        ..Default::default()
    };
    if args.plot_pair.is_some() && args.plot.is_none() {
        return Err(usage(io, "--plot-pair needs --plot FILE.svg"));
    }
    if args.particles == Some(0) || args.samples == Some(0) {
        return Err(usage(io, "--particles and --samples must be positive"));
    }
    if let Some(n) = args.particles {
        opts.particles = n;
        // For importance and rejection, "particles" and "samples" are the
        // same number of runs.
        opts.samples = n;
    }
    if let Some(n) = args.samples {
        opts.samples = n;
    }
    if let Some(b) = args.burn {
        opts.burn = b;
    }
    if args.chains == Some(0) || args.thin == 0 {
        return Err(usage(io, "--chains and --thin must be positive"));
    }
    let gradient_based = matches!(method, Method::Nuts | Method::Hmc);
    // Without --method, NUTS may be chosen: give it its four chains (the
    // other automatic methods have no chains).
    let four = gradient_based || args.method.is_none();
    opts.chains = args.chains.unwrap_or(if four { 4 } else { 1 });
    if let Some(w) = args.warmup {
        opts.warmup = w;
    }
    if !(args.target_accept > 0.0 && args.target_accept < 1.0) {
        return Err(usage(io, "--target-accept must be in (0, 1)"));
    }
    opts.target_accept = args.target_accept;
    if !(1..=30).contains(&args.max_depth) {
        return Err(usage(io, "--max-depth must be between 1 and 30"));
    }
    opts.max_depth = args.max_depth;
    // Per-draw traces only feed the CSV and the figure's choice panels;
    // recording them costs a third of SMC's time.
    opts.traces = args.output.is_some() || args.plot.is_some();
    opts.thin = args.thin;
    opts.rejuvenate = args.rejuvenate;
    opts.ess_threshold = args.ess_threshold;
    opts.resampler = match args.resampler {
        ResamplerArg::Systematic => Resampler::Systematic,
        ResamplerArg::Multinomial => Resampler::Multinomial,
        ResamplerArg::Stratified => Resampler::Stratified,
        ResamplerArg::Residual => Resampler::Residual,
    };
    Ok(opts)
}
