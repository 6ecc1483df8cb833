//! `tyche run` and `tyche check`.

use crate::cli::{Format, MethodArg, ProposalArg, ResamplerArg, RunArgs};
use crate::io::{failed, load, read_data, report, usage, warn, Io};
use std::io::Write;
use std::sync::Arc;
use tyche_core::{render_all, Diagnostic, SourceMap};
use tyche_driver::Compiled;

/// Runs `tyche run`.
pub(crate) fn run(args: RunArgs, io: &mut Io) -> u8 {
    run_source(args, None, io)
}

/// `tyche run`, on `source` when given (a `tyche build` executable's
/// embedded program, named `args.file` in diagnostics), else on the file.
pub(crate) fn run_source(args: RunArgs, source: Option<&str>, io: &mut Io) -> u8 {
    // Output paths are checked (and their temporary files created) before
    // anything runs.
    let outputs = match prepare_outputs(&args, source.is_some()) {
        Ok(o) => o,
        Err(msg) => return usage(io, msg),
    };
    if !outputs.0.is_empty() {
        crate::guard::clean_up_on_interrupt();
    }
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
    let edits = match tyche_driver::parse_cli_edits(
        &args.interventions,
        &args.observations,
        &args.counterfactuals,
    ) {
        Ok(e) => e,
        Err(msg) => return usage(io, msg),
    };
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
    let opts = match options(&args, io) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let whole_run = |d: Diagnostic| {
        // Errors about the run as a whole (no evidence, no accepted
        // sample) point at the model, so every error has a location.
        if d.labels.is_empty() {
            let span = model_name_span(&compiled, &args.model).unwrap_or(program.func(func).span);
            d.with_primary(span, format!("while running inference on `{}`", args.model))
        } else {
            d
        }
    };
    if args.method.is_some() {
        inapplicable_options(&args, opts.method, io);
    }
    if let Some(d) = memory_check(&args, &opts) {
        return report(io, &[whole_run(d)], &sources);
    }
    // From here on the run is bounded by `--timeout`.
    let watchdog = args.timeout.map(|secs| {
        let limit = std::time::Duration::from_secs_f64(secs);
        let d = whole_run(tyche_infer::timeout_error(limit));
        crate::guard::Watchdog::start(limit, render_all(&[d], &sources, io.color))
    });
    let globals = match tyche_driver::evaluate_globals(&program, &bound) {
        Ok(g) => g,
        Err(d) => return report(io, &[d], &sources),
    };
    let model = tyche_infer::Model::for_function(program.clone(), globals, func);
    let (bar, progress) = if args.format == Format::Text && crate::progress_bars_enabled() {
        let (bar, progress) = progress_bar();
        (Some(bar), Some(progress))
    } else {
        (None, None)
    };
    let started = std::time::Instant::now();
    let ran = tyche_engine::run(tyche_engine::Spec {
        model: &model,
        method: args.method.map(MethodArg::method),
        options: opts,
        backend: args.backend.into(),
        timeout: None,
        cancel: watchdog.as_ref().map(|w| w.stop.clone()),
        progress,
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let ran = match ran {
        Ok(r) => r,
        Err(d) => return report(io, &[whole_run(d)], &sources),
    };
    if args.method.is_none() {
        inapplicable_options(&args, ran.method(), io);
    }
    // An edit of one address (`z[7]`) that no run reaches would change
    // nothing; say so instead of printing an unaltered posterior. Only a
    // model whose runs all draw the same addresses decides it (an error);
    // elsewhere the address may be rare: a warning. The prior runs use a
    // fixed seed, so `--seed` never changes the verdict.
    let decided = |f: tyche_ir::FuncId| addresses_are_static(&program, &model.globals, f);
    let unreached_in_program = tyche_driver::check_addressed_surgeries(
        &program,
        &model.globals,
        func,
        PRIOR_RUNS,
        0,
        &decided,
    );
    if unreached_in_program.iter().any(Diagnostic::is_error) {
        return report(io, &unreached_in_program, &sources);
    }
    warn(io, &unreached_in_program, &sources);
    let unreached =
        tyche_driver::unreached_addresses(&program, &model.globals, func, &edits, PRIOR_RUNS, 0);
    if !unreached.is_empty() {
        let span = model_name_span(&compiled, &args.model);
        let help = "occurrences are counted from 0 per name: `z[0]` is the first `z` drawn";
        let diags: Vec<Diagnostic> = if decided(func) {
            unreached
                .iter()
                .map(|a| {
                    let d = Diagnostic::error(format!(
                        "no run of `{}` reaches the address `{a}`",
                        args.model
                    ))
                    .with_code("E0807");
                    match span {
                        Some(span) => {
                            d.with_primary(span, format!("`{a}` is never drawn in this model"))
                        }
                        None => d,
                    }
                    .with_note(format!(
                        "every run of `{}` draws the same addresses: the edit of `{a}` changed nothing",
                        args.model
                    ))
                    .with_help(help)
                })
                .collect()
        } else {
            unreached
                .iter()
                .map(|a| {
                    let d = Diagnostic::warning(format!(
                        "`{a}` was not reached in {PRIOR_RUNS} prior runs of `{}`",
                        args.model
                    ))
                    .with_code("E0807");
                    match span {
                        Some(span) => {
                            d.with_primary(span, format!("`{a}` may be rare here, or never drawn"))
                        }
                        None => d,
                    }
                    .with_note(format!("if no run draws `{a}`, its edit changes nothing"))
                    .with_help(help)
                })
                .collect()
        };
        if diags.iter().any(Diagnostic::is_error) {
            return report(io, &diags, &sources);
        }
        warn(io, &diags, &sources);
    }
    let ty = tyche_driver::result_type(&program, func);
    let info = ran.info(args.model.clone());
    report_run(io, &args, &ran, &program, &ty, info, started, outputs)
}

/// The end of a run: writes `--output` and `--plot` (through their
/// temporary files, renamed into place together once all are written)
/// and prints the report in `--format`. Shared by `tyche run`, built
/// executables and the REPL's `:infer`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn report_run(
    io: &mut Io,
    args: &RunArgs,
    ran: &tyche_engine::Run,
    program: &tyche_ir::Program,
    ty: &tyche_ir::Type,
    info: tyche_report::RunInfo,
    started: std::time::Instant,
    mut outputs: crate::guard::Outputs,
) -> u8 {
    let owned = ran.draws(program);
    let mut draws = owned.draws();
    draws.result_type = Some(ty);
    let result = &ran.result;
    if let Some(path) = &args.output {
        let written = match args.output_format {
            crate::cli::OutputFormat::Tyche => std::fs::File::create(outputs.temp(path))
                .and_then(|f| {
                    let mut w = std::io::BufWriter::new(f);
                    tyche_report::write_csv(&mut w, &draws)?;
                    w.into_inner().map_err(|e| e.into_error())?.sync_all()
                })
                .map_err(|e| (path.clone(), e)),
            // One file per chain, named from the path (checked before the
            // run), each through a temporary file renamed at the end.
            crate::cli::OutputFormat::Cmdstan => crate::summary::write_cmdstan(
                path,
                args,
                &info,
                &draws,
                result.mcmc.as_ref(),
                started.elapsed().as_secs_f64(),
                &mut |file| outputs.stage(file),
            ),
        };
        if let Err((path, e)) = written {
            return failed(io, format!("cannot write {}: {e}", path.display()));
        }
    }
    if let Some(path) = &args.plot {
        let temp = outputs.temp(path).to_path_buf();
        if let Err(code) = write_plot(
            io,
            &temp,
            path,
            &info,
            ty,
            &draws,
            args.plot_pair.as_deref(),
        ) {
            return code;
        }
    }
    if let Err(msg) = outputs.commit() {
        return failed(io, msg);
    }
    // `--params all`: a stansummary-like row for every quantity.
    let params = (args.params == crate::cli::ParamsArg::All).then(|| {
        let rows = tyche_report::summarize_parameters(&tyche_report::draws_parameters(&draws));
        match result.exact {
            true => rows.into_iter().map(|r| r.exact()).collect(),
            false => rows,
        }
    });
    let out = &mut io.out;
    let _ = match args.format {
        Format::Json => {
            let mut json = tyche_report::to_json(&info, ty, &draws);
            if args.draws {
                json["draw_table"] = tyche_report::draws_json(&draws);
            }
            if let Some(rows) = &params {
                json["parameters"] = tyche_report::summary_json(rows)["parameters"].take();
            }
            writeln!(out, "{json}")
        }
        Format::Text => {
            let mut text = tyche_report::to_text(&info, ty, &draws, 60);
            if let Some(rows) = &params {
                text.push_str("\nparameters:\n");
                text.push_str(&tyche_report::summary_text(rows));
            }
            write!(out, "{text}")
        }
    };
    0
}

/// A progress bar on standard error for long runs and the callback that
/// moves it. Nothing is drawn during the first half second, so quick runs
/// never show one; runs of unknown length (SMC) get a spinner counting
/// steps.
pub(crate) fn progress_bar() -> (indicatif::ProgressBar, tyche_infer::Progress) {
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
    temp: &std::path::Path,
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
    std::fs::File::create(temp)
        .and_then(|mut f| {
            f.write_all(svg.as_bytes())?;
            f.sync_all()
        })
        .map_err(|e| failed(io, format!("cannot write {}: {e}", path.display())))
}

/// A failure of the run's own doing that is not in the program: a write
/// (exit status 1, with the path and the system's reason).
/// Prior runs that look for an edited address.
const PRIOR_RUNS: usize = 200;

/// Whether every run of `func` draws the same addresses: its choices are
/// fixed by the data, as tracing it for native code finds (it succeeds
/// only when no branch, loop or call depends on a choice).
pub(crate) fn addresses_are_static(
    program: &tyche_ir::Program,
    globals: &[tyche_vm::Value],
    func: tyche_ir::FuncId,
) -> bool {
    let limits = tyche_jit::Limits {
        max_steps: 20_000_000,
        ..Default::default()
    };
    tyche_jit::trace::trace_with(program, globals, func, limits, true).is_ok()
}

/// Checks `--output` and `--plot` before the run and creates their
/// temporary files (see [`crate::guard`]).
pub(crate) fn prepare_outputs(
    args: &RunArgs,
    embedded: bool,
) -> Result<crate::guard::Outputs, String> {
    let mut outputs: Vec<(&str, &std::path::Path)> = Vec::new();
    if let Some(p) = &args.output {
        outputs.push(("--output", p));
    }
    if let Some(p) = &args.plot {
        outputs.push(("--plot", p));
    }
    let mut inputs: Vec<&std::path::Path> = Vec::new();
    if !embedded {
        inputs.push(&args.file);
    }
    if let Some(d) = &args.data {
        inputs.push(d);
    }
    let mut prepared = crate::guard::Outputs::prepare(&outputs, &inputs)?;
    if let (Some(p), crate::cli::OutputFormat::Cmdstan) = (&args.output, args.output_format) {
        prepared.in_place(p);
    }
    Ok(prepared)
}

/// Warns about options given that `method` does not use.
pub(crate) fn inapplicable_options(args: &RunArgs, method: tyche_infer::Method, io: &mut Io) {
    use tyche_infer::Method;
    let mcmc = matches!(
        method,
        Method::Mh | Method::Pmmh | Method::Hmc | Method::Nuts
    );
    let burned = matches!(method, Method::Mh | Method::Pmmh);
    let mut unused: Vec<&str> = Vec::new();
    let particles = matches!(
        method,
        Method::Smc | Method::Pmmh | Method::Importance | Method::Rejection
    );
    if args.particles.is_some() && !particles {
        unused.push("--particles");
    }
    let samples = mcmc || matches!(method, Method::Importance | Method::Rejection);
    if args.samples.is_some() && !samples {
        unused.push("--samples");
    }
    if args.burn.is_some() && !burned {
        unused.push("--burn");
    }
    if args.warmup.is_some() && !matches!(method, Method::Nuts | Method::Hmc) {
        unused.push("--warmup");
    }
    if args.thin != 1 && !burned {
        unused.push("--thin");
    }
    if args.chains.is_some_and(|c| c != 1) && !mcmc {
        unused.push("--chains");
    }
    let smc = matches!(method, Method::Smc | Method::Pmmh);
    if args.ess_threshold.is_some() && !smc {
        unused.push("--ess-threshold");
    }
    if args.rejuvenate != 0 && method != Method::Smc {
        unused.push("--rejuvenate");
    }
    let proposes = method == Method::Mh
        || method == Method::Pmmh
        || (method == Method::Smc && args.rejuvenate > 0);
    if args.proposal != ProposalArg::Adaptive && !proposes {
        unused.push("--proposal");
    }
    if args.drift_scale != 1.0 && args.proposal != ProposalArg::Drift {
        let _ = writeln!(
            io.err,
            "warning: --drift-scale applies only to --proposal drift and is ignored"
        );
    }
    for flag in unused {
        let _ = writeln!(
            io.err,
            "warning: {flag} does not apply to --method {} and is ignored",
            method.name()
        );
    }
}

/// The memory a run will hold, estimated from its sizes before it starts,
/// against what the machine and the process limits allow: `Some` error
/// (E0771) when it cannot fit.
pub(crate) fn memory_check(args: &RunArgs, opts: &tyche_infer::Options) -> Option<Diagnostic> {
    use tyche_infer::Method;
    let available = crate::guard::memory_available()?;
    let draws = match opts.method {
        Method::Smc => opts.particles,
        // Per chain for the gradient-based methods.
        Method::Nuts | Method::Hmc => opts.samples.saturating_mul(opts.chains),
        _ => opts.samples,
    };
    let sizes = crate::guard::Sizes {
        method: opts.method,
        draws: draws as u64,
        particles: opts.particles as u64,
        chains: opts.chains as u64,
        traces: opts.traces,
    };
    let (need, flag) = crate::guard::estimate(&sizes);
    // Without `--method` an enumerable model holds no draws, but SMC (the
    // fallback) holds its particles.
    let (need, flag) = if args.method.is_none() {
        crate::guard::estimate(&crate::guard::Sizes {
            method: Method::Smc,
            ..sizes
        })
    } else {
        (need, flag)
    };
    (need > available).then(|| {
        Diagnostic::error(format!(
            "this run needs about {} of memory, more than the {} available",
            tyche_infer::human_bytes(need),
            tyche_infer::human_bytes(available)
        ))
        .with_code("E0771")
        .with_help(format!("lower {flag}"))
    })
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
/// Inference options from the command line; without `--method` the
/// method is chosen by `tyche_engine::run`.
pub(crate) fn options(args: &RunArgs, io: &mut Io) -> Result<tyche_infer::Options, u8> {
    use tyche_infer::{Method, Proposal, Resampler};
    let method = args.method.map_or(Method::Enumerate, MethodArg::method);
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
    // `--samples` counts draws per chain (LANGUAGE.md §10), as NUTS and
    // HMC take it; MH and PMMH take the total over chains.
    if matches!(method, Method::Mh | Method::Pmmh) {
        opts.samples = opts.samples.checked_mul(opts.chains).ok_or_else(|| {
            usage(
                io,
                format!(
                    "--samples {} × --chains {} is more draws than can be counted",
                    opts.samples, opts.chains
                ),
            )
        })?;
        // The schedule (chains × burn-in + draws × thinning iterations)
        // must be countable: a wrapped sum ran nothing.
        let iterations = (opts.chains as u64)
            .checked_mul(opts.burn as u64)
            .and_then(|b| {
                (opts.samples as u64)
                    .checked_mul(args.thin as u64)?
                    .checked_add(b)
            });
        if iterations.is_none() {
            return Err(usage(
                io,
                format!(
                    "--burn {} and --thin {} make more iterations than can be counted \
                     ({} chains of {} draws)",
                    opts.burn,
                    args.thin,
                    opts.chains,
                    opts.samples / opts.chains
                ),
            ));
        }
    }
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
    // `--params all` summarises every choice from the same traces.
    let all_params = args.params == crate::cli::ParamsArg::All;
    opts.traces = args.output.is_some() || args.plot.is_some() || all_params;
    // Enumeration's CSV has a row per execution path, with its choices.
    opts.enumerate_paths = args.output.is_some() || all_params;
    opts.thin = args.thin;
    opts.rejuvenate = args.rejuvenate;
    opts.ess_threshold = args.ess_threshold;
    if !(args.drift_scale.is_finite() && args.drift_scale > 0.0) {
        return Err(usage(
            io,
            format!(
                "--drift-scale must be positive and finite, not {}",
                args.drift_scale
            ),
        ));
    }
    opts.proposal = match args.proposal {
        ProposalArg::Adaptive => Proposal::Adaptive,
        ProposalArg::Prior => Proposal::Prior,
        ProposalArg::Drift => Proposal::Drift {
            scale: args.drift_scale,
        },
    };
    opts.resampler = match args.resampler {
        ResamplerArg::Systematic => Resampler::Systematic,
        ResamplerArg::Multinomial => Resampler::Multinomial,
        ResamplerArg::Stratified => Resampler::Stratified,
        ResamplerArg::Residual => Resampler::Residual,
    };
    Ok(opts)
}
