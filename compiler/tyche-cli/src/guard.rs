//! What `tyche run` (and `tyche build`) check and arrange before running,
//! so that no input wastes a run, aborts the process or damages a file:
//!
//! - output paths ([`Outputs`]): refused before anything runs when their
//!   folder is missing or not writable, when they name a directory, or
//!   when they are the program, a data file or each other; every output
//!   is written to a temporary file beside it and renamed into place only
//!   when the whole run succeeded (so a failure, a full disk or a timeout
//!   leaves the previous files as they were);
//! - memory ([`estimate`]): the bytes a run will hold, from its sizes,
//!   against the machine's memory and the process's address-space limit;
//! - time ([`Watchdog`]): `--timeout` raises the cooperative
//!   [`tyche_infer::Stop`] at the deadline, and (in the `tyche` binary and
//!   built executables only) ends the process shortly after if the run has
//!   not stopped by itself — a loop inside one model run has no check.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Temporary files not yet renamed or removed, for the watchdog to remove
/// before it ends the process.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Whether the watchdog may end the process (only the binary and built
/// executables: in-process runs, as in tests, rely on the cooperative stop).
static HARD_STOP: AtomicBool = AtomicBool::new(false);

/// Lets `--timeout` end the process when a run does not stop by itself.
pub fn enable_hard_timeout() {
    HARD_STOP.store(true, Ordering::Relaxed);
}

/// One output file: where it goes and the temporary file it is written to
/// first.
pub(crate) struct Output {
    pub(crate) path: PathBuf,
    /// The file renamed over: the path, or the file a symbolic link at it
    /// points to.
    target: PathBuf,
    pub(crate) temp: PathBuf,
    /// Not a regular file (`/dev/stdout`, a pipe): written in place, as
    /// renaming over it would replace the device or pipe itself.
    direct: bool,
}

/// The outputs of one run; temporary files left are removed on drop.
pub(crate) struct Outputs(pub(crate) Vec<Output>);

impl Outputs {
    /// Checks `outputs` (flag name, path) against each other and `inputs`,
    /// and creates each one's temporary file (which proves the folder
    /// writable). `Err` is the message of a usage error.
    pub(crate) fn prepare(outputs: &[(&str, &Path)], inputs: &[&Path]) -> Result<Outputs, String> {
        let mut prepared = Outputs(Vec::new());
        let mut seen: Vec<(&str, PathBuf)> = Vec::new();
        for &(flag, path) in outputs {
            let shown = path.display();
            let dir = folder(path);
            if path.is_dir() {
                return Err(format!("cannot write {flag} {shown}: it is a directory"));
            }
            if !dir.is_dir() {
                return Err(format!(
                    "cannot write {flag} {shown}: the folder {} does not exist",
                    dir.display()
                ));
            }
            let Some(name) = path.file_name() else {
                return Err(format!("cannot write {flag} {shown}: it names no file"));
            };
            let real = dir
                .canonicalize()
                .map(|d| d.join(name))
                .unwrap_or_else(|_| path.to_path_buf());
            for input in inputs {
                if input.canonicalize().is_ok_and(|i| i == real) {
                    return Err(format!(
                        "{flag} {shown} is the input file {}: writing it would replace it",
                        input.display()
                    ));
                }
            }
            if let Some((other, _)) = seen.iter().find(|(_, p)| *p == real) {
                return Err(format!(
                    "{flag} {shown} is also the file of {other}: give each output its own file"
                ));
            }
            seen.push((flag, real.clone()));
            if path.exists() && !path.metadata().is_ok_and(|m| m.is_file()) {
                prepared.0.push(Output {
                    path: path.to_path_buf(),
                    target: path.to_path_buf(),
                    temp: path.to_path_buf(),
                    direct: true,
                });
                continue;
            }
            let target = if path.exists() {
                real
            } else {
                path.to_path_buf()
            };
            let temp = create_temp(folder(&target), name).map_err(|e| {
                format!(
                    "cannot write {flag} {shown}: cannot create a file in {}: {e}",
                    dir.display()
                )
            })?;
            prepared.0.push(Output {
                path: path.to_path_buf(),
                target,
                temp,
                direct: false,
            });
        }
        Ok(prepared)
    }

    /// Makes the output at `path` one its writer writes in place (CmdStan
    /// output: a file per chain named from the path); its path was still
    /// checked.
    pub(crate) fn in_place(&mut self, path: &Path) {
        for o in self.0.iter_mut().filter(|o| o.path == path && !o.direct) {
            let _ = std::fs::remove_file(&o.temp);
            forget_pending(&o.temp);
            o.temp = o.path.clone();
            o.direct = true;
        }
    }

    /// Adds an output found only after the run (CmdStan's file per chain,
    /// named from a checked path): its temporary file, renamed into place
    /// with the others at [`commit`](Self::commit).
    pub(crate) fn stage(&mut self, path: &Path) -> std::io::Result<PathBuf> {
        let name = path.file_name().unwrap_or(std::ffi::OsStr::new("output"));
        let temp = create_temp(folder(path), name)?;
        self.0.push(Output {
            path: path.to_path_buf(),
            target: path.to_path_buf(),
            temp: temp.clone(),
            direct: false,
        });
        Ok(temp)
    }

    /// The temporary file of the output at `path`.
    pub(crate) fn temp<'a>(&'a self, path: &'a Path) -> &'a Path {
        self.0
            .iter()
            .find(|o| o.path == path)
            .map_or(path, |o| o.temp.as_path())
    }

    /// Renames every temporary file into place. `Err`: the message.
    pub(crate) fn commit(mut self) -> Result<(), String> {
        for o in std::mem::take(&mut self.0) {
            if o.direct {
                continue;
            }
            let renamed = std::fs::rename(&o.temp, &o.target);
            forget_pending(&o.temp);
            if let Err(e) = renamed {
                let _ = std::fs::remove_file(&o.temp);
                return Err(format!("cannot write {}: {e}", o.path.display()));
            }
        }
        Ok(())
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        for o in self.0.iter().filter(|o| !o.direct) {
            let _ = std::fs::remove_file(&o.temp);
            forget_pending(&o.temp);
        }
    }
}

/// In the binary, makes SIGINT (Ctrl-C) remove the temporary outputs
/// before the process ends as it would anyway (status 130): the previous
/// files stay as they were and nothing is left beside them. Set once; a
/// handler already set (the REPL's) is left alone.
pub(crate) fn clean_up_on_interrupt() {
    if !HARD_STOP.load(Ordering::Relaxed) {
        return;
    }
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if let Ok(p) = PENDING.lock() {
                for t in p.iter() {
                    let _ = std::fs::remove_file(t);
                }
            }
            std::process::exit(130);
        });
    });
}

/// The folder a path is in (`.` for a bare name).
pub(crate) fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if d.as_os_str().is_empty() => Path::new("."),
        Some(d) => d,
        None => Path::new("/"),
    }
}

/// Creates `.NAME.tyche-PID-N.tmp` in `dir`, new (never an existing file).
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> std::io::Result<PathBuf> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let mut last = None;
    for _ in 0..16 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut file = std::ffi::OsString::from(".");
        file.push(name);
        file.push(format!(".tyche-{}-{n}.tmp", std::process::id()));
        let temp = dir.join(file);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(_) => {
                if let Ok(mut p) = PENDING.lock() {
                    p.push(temp.clone());
                }
                return Ok(temp);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no attempt made")))
}

fn forget_pending(temp: &Path) {
    if let Ok(mut p) = PENDING.lock() {
        p.retain(|t| t != temp);
    }
}

/// Parses `--timeout SECONDS`: a positive, finite number of seconds.
pub(crate) fn parse_timeout(text: &str) -> Result<f64, String> {
    let s: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(s.is_finite() && s > 0.0 && s <= 1e9) {
        return Err(format!(
            "must be a positive number of seconds (at most 1e9), got {text}"
        ));
    }
    Ok(s)
}

/// Parses `--ess-threshold`: a fraction in (0, 1].
pub(crate) fn parse_fraction(text: &str) -> Result<f64, String> {
    let x: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !(x > 0.0 && x <= 1.0) {
        return Err(format!("must be a fraction in (0, 1], got {text}"));
    }
    Ok(x)
}

/// The `--timeout` of a run: the cooperative stop for inference, and a
/// thread that ends the process (status 1, after printing `message` and
/// removing temporary outputs) if the run has not finished a short grace
/// after the deadline.
pub(crate) struct Watchdog {
    pub(crate) stop: tyche_infer::Stop,
    done: Arc<AtomicBool>,
}

/// How long after the deadline a run that did not stop by itself is ended.
const GRACE: Duration = Duration::from_secs(2);

impl Watchdog {
    pub(crate) fn start(limit: Duration, message: String) -> Watchdog {
        let stop = tyche_infer::Stop::after(limit);
        let done = Arc::new(AtomicBool::new(false));
        if HARD_STOP.load(Ordering::Relaxed) {
            let finished = Arc::clone(&done);
            let _ = std::thread::Builder::new()
                .name("tyche-watchdog".into())
                .spawn(move || {
                    std::thread::sleep(limit + GRACE);
                    if finished.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Ok(p) = PENDING.lock() {
                        for t in p.iter() {
                            let _ = std::fs::remove_file(t);
                        }
                    }
                    eprint!("{message}");
                    std::process::exit(i32::from(crate::DIAGNOSED));
                });
        }
        Watchdog { stop, done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
    }
}

/// Bytes of memory there are for a run: the smaller of the machine's
/// memory and the process's address-space limit less what the process
/// maps anyway (stacks, code); `None` where unknown.
pub(crate) fn memory_available() -> Option<u64> {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            let line = t.lines().find(|l| l.starts_with("Max address space"))?;
            let soft = line.split_whitespace().nth(3)?;
            soft.parse::<u64>()
                .ok()
                .map(|b| b.saturating_sub(BASELINE_ADDRESS_SPACE))
        });
    match (total, limit) {
        (Some(t), Some(l)) => Some(t.min(l)),
        (t, l) => t.or(l),
    }
}

/// Address space the process maps whatever the run: the 256 MiB stack of
/// the worker thread, the thread pool's stacks, code and the allocator.
const BASELINE_ADDRESS_SPACE: u64 = 640 << 20;

/// Bytes an SMC particle holds at least on the interpreter (measured: about
/// 850 per particle of a one-choice model, both populations of a step).
const BYTES_PER_PARTICLE: u64 = 850;
/// Extra bytes per draw or particle when traces are recorded (`--output`).
const BYTES_PER_TRACE: u64 = 320;
/// Bytes an MCMC chain holds at least besides its draws (its state, its
/// task).
const BYTES_PER_CHAIN: u64 = 16 << 10;

/// The sizes of a run that decide its memory.
pub(crate) struct Sizes {
    pub(crate) method: tyche_infer::Method,
    /// Kept draws in all (over chains).
    pub(crate) draws: u64,
    pub(crate) particles: u64,
    pub(crate) chains: u64,
    pub(crate) traces: bool,
}

/// The bytes a run of these sizes holds at least, and the flag to lower
/// (the largest term's). Saturates rather than overflows.
pub(crate) fn estimate(s: &Sizes) -> (u64, &'static str) {
    use tyche_infer::Method;
    let trace = if s.traces { BYTES_PER_TRACE } else { 0 };
    let draw = tyche_infer::BYTES_PER_DRAW + trace;
    let particle = BYTES_PER_PARTICLE + trace;
    let mut terms: Vec<(u64, &'static str)> = Vec::new();
    match s.method {
        Method::Enumerate => {}
        Method::Smc => terms.push((s.particles.saturating_mul(particle), "--particles")),
        Method::Importance | Method::Rejection => {
            terms.push((s.draws.saturating_mul(draw), "--samples"))
        }
        Method::Pmmh => {
            terms.push((s.draws.saturating_mul(draw), "--samples"));
            terms.push((
                s.particles
                    .saturating_mul(particle)
                    .saturating_mul(s.chains),
                "--particles",
            ));
            terms.push((s.chains.saturating_mul(BYTES_PER_CHAIN), "--chains"));
        }
        _ => {
            terms.push((s.draws.saturating_mul(draw), "--samples"));
            terms.push((s.chains.saturating_mul(BYTES_PER_CHAIN), "--chains"));
        }
    }
    let total = terms.iter().fold(0u64, |a, t| a.saturating_add(t.0));
    let flag = terms
        .iter()
        .max_by_key(|t| t.0)
        .map_or("--samples", |t| t.1);
    (total, flag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tyche_infer::Method;

    #[test]
    fn estimates_grow_with_sizes_and_name_the_largest() {
        let s = Sizes {
            method: Method::Mh,
            draws: 1_000_000_000,
            particles: 1000,
            chains: 4,
            traces: false,
        };
        let (bytes, flag) = estimate(&s);
        assert_eq!(
            (bytes, flag),
            (160_000_000_000 + 4 * (16 << 10), "--samples")
        );
        let s = Sizes {
            chains: 1_000_000_000_000,
            draws: 1_000_000_000_000,
            ..s
        };
        assert_eq!(estimate(&s).1, "--chains");
        let s = Sizes {
            method: Method::Smc,
            draws: u64::MAX,
            particles: u64::MAX,
            chains: 1,
            traces: true,
        };
        assert_eq!(estimate(&s), (u64::MAX, "--particles"));
    }

    #[test]
    fn flags_with_numbers_are_validated() {
        assert_eq!(parse_fraction("0.5"), Ok(0.5));
        assert_eq!(parse_fraction("1"), Ok(1.0));
        for bad in ["NaN", "inf", "2.0", "0", "-0.5", "x"] {
            assert!(parse_fraction(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_timeout("2.5"), Ok(2.5));
        for bad in ["NaN", "inf", "0", "-1", "1e300", "x"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn outputs_are_checked_and_written_beside_their_files() {
        let dir = std::env::temp_dir().join(format!("tyche-guard-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let program = dir.join("m.ppl");
        std::fs::write(&program, "x").unwrap();
        let csv = dir.join("out.csv");
        let e = Outputs::prepare(&[("--output", &program)], &[&program])
            .err()
            .unwrap();
        assert!(e.contains("is the input file"), "{e}");
        let e = Outputs::prepare(&[("--output", &csv), ("--plot", &csv)], &[])
            .err()
            .unwrap();
        assert!(e.contains("also the file of --output"), "{e}");
        let e = Outputs::prepare(&[("--output", &dir.join("no/such/x.csv"))], &[])
            .err()
            .unwrap();
        assert!(e.contains("does not exist"), "{e}");
        let e = Outputs::prepare(&[("--output", &dir)], &[]).err().unwrap();
        assert!(e.contains("is a directory"), "{e}");
        // Written to the temporary file, renamed on commit; dropped
        // without a commit, nothing is left.
        std::fs::write(&csv, "old").unwrap();
        let outs = Outputs::prepare(&[("--output", &csv)], &[]).unwrap();
        let temp = outs.temp(&csv).to_path_buf();
        assert_ne!(temp, csv);
        std::fs::write(&temp, "new").unwrap();
        drop(outs);
        assert!(!temp.exists());
        assert_eq!(std::fs::read_to_string(&csv).unwrap(), "old");
        let outs = Outputs::prepare(&[("--output", &csv)], &[]).unwrap();
        std::fs::write(outs.temp(&csv), "new").unwrap();
        outs.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&csv).unwrap(), "new");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
