//! `tyche summary FILES…` (a per-parameter table from saved draws, like
//! CmdStan's `stansummary`) and the writing of `--output-format cmdstan`
//! files for `tyche run`.

use crate::cli::{Format, RunArgs, SummaryArgs};
use crate::io::{usage, Io, DIAGNOSED};
use std::path::{Path, PathBuf};

pub fn command(args: SummaryArgs, io: &mut Io) -> u8 {
    let mut files = Vec::new();
    for path in &args.files {
        match std::fs::read_to_string(path) {
            Ok(text) => files.push((path.display().to_string(), text)),
            Err(e) => return usage(io, format!("cannot read {}: {e}", path.display())),
        }
    }
    let params = match tyche_report::read_draw_files(&files) {
        Ok(p) => p,
        Err(msg) => {
            let _ = writeln!(io.err, "error: {msg}");
            return DIAGNOSED;
        }
    };
    if params.is_empty() {
        let _ = writeln!(
            io.err,
            "error: no numeric parameter columns with draws in the files"
        );
        return DIAGNOSED;
    }
    let rows = tyche_report::summarize_parameters(&params);
    let _ = match args.format {
        Format::Text => write!(io.out, "{}", tyche_report::summary_text(&rows)),
        Format::Json => writeln!(io.out, "{}", tyche_report::summary_json(&rows)),
    };
    0
}

/// The file of chain `chain` (from 1) for `--output FILE --output-format
/// cmdstan`: `FILE`'s stem with `_{chain}` (CmdStan's `output_1.csv`).
pub fn chain_file(path: &Path, chain: usize) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "output".into(), |s| s.to_string_lossy().into_owned());
    let ext = path
        .extension()
        .map_or_else(|| "csv".into(), |e| e.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}_{chain}.{ext}"))
}

/// Writes one CmdStan CSV per chain; on failure, the file and the error.
pub(crate) fn write_cmdstan(
    path: &Path,
    args: &RunArgs,
    info: &tyche_report::RunInfo,
    draws: &tyche_report::Draws,
    mcmc_stats: Option<&tyche_infer::McmcStats>,
    seconds: f64,
    stage: &mut dyn FnMut(&Path) -> std::io::Result<PathBuf>,
) -> Result<(), (PathBuf, std::io::Error)> {
    let chains = draws.chain_count();
    let files: Vec<PathBuf> = (1..=chains).map(|c| chain_file(path, c)).collect();
    let mcmc = matches!(info.method.as_str(), "mh" | "pmmh" | "nuts" | "hmc");
    let mut settings = vec![("chains".to_string(), chains.to_string())];
    if let Some(p) = args.particles {
        settings.push(("particles".into(), p.to_string()));
    }
    if let Some(d) = &args.data {
        settings.push(("data".into(), d.display().to_string()));
    }
    // NUTS/HMC transitions: CmdStan's sampler columns, in draw order.
    let stats = mcmc_stats.map_or(&[][..], |m| &m.sampler[..]);
    let sampler = if stats.len() == draws.values.len() && !stats.is_empty() {
        let col = |f: &dyn Fn(&tyche_infer::SamplerDraw) -> f64| stats.iter().map(f).collect();
        vec![
            ("lp".to_string(), col(&|d| d.lp)),
            ("accept_stat".to_string(), col(&|d| d.accept_stat)),
            ("stepsize".to_string(), col(&|d| d.step_size)),
            ("treedepth".to_string(), col(&|d| f64::from(d.tree_depth))),
            ("n_leapfrog".to_string(), col(&|d| f64::from(d.n_leapfrog))),
            (
                "divergent".to_string(),
                col(&|d| f64::from(u8::from(d.divergent))),
            ),
            ("energy".to_string(), col(&|d| d.energy)),
        ]
    } else {
        Vec::new()
    };
    let run = tyche_report::CmdStanRun {
        sampler,
        info: Some(info),
        num_samples: draws.values.len() / chains.max(1),
        num_warmup: match info.method.as_str() {
            "nuts" | "hmc" => args
                .warmup
                .unwrap_or(tyche_infer::Options::default().warmup),
            _ if mcmc => args.burn.unwrap_or(tyche_infer::Options::default().burn),
            _ => 0,
        },
        thin: if mcmc { args.thin } else { 1 },
        data_file: args.data.as_ref().map(|d| d.display().to_string()),
        output_files: files
            .iter()
            .map(|f| {
                f.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            })
            .collect(),
        settings,
        seconds: Some(seconds),
        // NUTS/HMC files carry the adapted step size and metric, as
        // CmdStan's do (cmdstanpy requires them of an `hmc` file).
        adaptation: mcmc_stats
            .filter(|m| !m.adaptation.is_empty() && m.adaptation.len() == chains)
            .map(|m| {
                m.adaptation
                    .iter()
                    .map(|(step_size, inv_metric)| tyche_report::Adaptation {
                        step_size: *step_size,
                        inv_metric: inv_metric.clone(),
                    })
                    .collect()
            }),
        max_depth: mcmc_stats.and_then(|m| m.max_depth).map(|d| d as usize),
        ..Default::default()
    };
    for (file, text) in files.iter().zip(tyche_report::cmdstan_csvs(&run, draws)) {
        let temp = stage(file).map_err(|e| (file.clone(), e))?;
        std::fs::write(&temp, text).map_err(|e| (file.clone(), e))?;
    }
    Ok(())
}
