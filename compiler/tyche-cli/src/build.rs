//! `tyche build FILE -o EXE`: a standalone native executable (see
//! `docs/build.md`).
//!
//! This module owns the build side: compiling the program (so a build
//! fails on the errors `tyche check` reports), extracting the kernels to
//! compile ahead of time (with the build-time data), writing the object
//! (`tyche_jit::object`), finding the runtime library and `cc`, and
//! linking in a temporary directory. The executable's run side is
//! [`crate::exe`].

use crate::cli::BuildArgs;
use crate::io::{read_data, read_source, report, usage};
use crate::{Io, DIAGNOSED};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tyche_core::SourceMap;

/// The runtime static library: the `tyche-rt` crate, which `cargo build
/// -p tyche-rt` writes beside the `tyche` binary.
pub const RUNTIME_LIB: &str = "libtyche_rt.a";
/// Environment variable naming the runtime library explicitly.
pub const RUNTIME_LIB_ENV: &str = "TYCHE_RUNTIME_LIB";

/// Runs `tyche build`.
pub fn command(args: BuildArgs, io: &mut Io) -> u8 {
    match build(&args, io) {
        Ok(()) => 0,
        Err(code) => code,
    }
}

fn build(args: &BuildArgs, io: &mut Io) -> Result<(), u8> {
    let started = Instant::now();
    // The executable is linked to a temporary file beside it and renamed
    // into place at the end; it may not be the program or the data.
    let mut inputs: Vec<&Path> = vec![&args.file];
    inputs.extend(args.data.as_deref());
    let outputs = crate::guard::Outputs::prepare(&[("-o", &args.output)], &inputs)
        .map_err(|msg| usage(io, msg))?;
    // The cheap checks first: no point extracting kernels without a linker.
    let lib = runtime_lib(args, io)?;
    let cc = linker();
    let text = read_source(io, &args.file)?;
    let file_name = args.file.display().to_string();
    let mut sources = SourceMap::new();
    let compiled = tyche_driver::compile_source(&mut sources, &file_name, &text)
        .map_err(|d| report(io, &d, &sources))?;

    // The functions whose kernels are compiled ahead of time.
    let candidates: Vec<(String, tyche_ir::FuncId)> = match &args.model {
        Some(name) => {
            let f = tyche_driver::model(&compiled, &sources, name)
                .map_err(|d| report(io, &[d], &sources))?;
            vec![(name.clone(), f)]
        }
        None => compiled
            .ast
            .items
            .iter()
            .filter_map(|i| match i {
                tyche_syntax::ast::Item::Fn(f)
                    if f.name.span.file == compiled.file && f.params.is_empty() =>
                {
                    let id = compiled.ir.func_by_name(&f.name.name)?;
                    Some((f.name.name.clone(), id))
                }
                _ => None,
            })
            .collect(),
    };

    // Kernels are specialised to the data. Bad data given here is an
    // error, as for `tyche run`; a program that needs data it was not
    // given still builds, with every model left to the JIT or interpreter.
    let data = read_data(io, &mut sources, args.data.as_deref())?;
    let globals = tyche_driver::bind_data(&compiled, &sources, data.as_ref().map(|(f, v)| (*f, v)))
        .and_then(|bound| {
            tyche_driver::evaluate_globals(&compiled.ir, &bound).map_err(|d| vec![d])
        });
    let mut kernels: Vec<tyche_jit::Kernel> = Vec::new();
    let mut notes = Vec::new();
    match globals {
        Err(d) if args.data.is_some() => return Err(report(io, &d, &sources)),
        Err(d) => {
            let why = d
                .first()
                .map_or("the data are missing", |d| d.message.as_str());
            notes.push(format!(
                "no kernel compiled ahead of time: {why} (pass `--data` to specialise kernels to data)"
            ));
        }
        Ok(globals) => {
            for (name, func) in &candidates {
                match tyche_jit::extract(&compiled.ir, &globals, *func) {
                    Ok(k) => {
                        let dim = k.dim();
                        notes.push(format!(
                            "`{name}` compiled ahead of time ({dim} parameter{})",
                            if dim == 1 { "" } else { "s" }
                        ));
                        if !kernels.iter().any(|o| o.fingerprint() == k.fingerprint()) {
                            kernels.push(k);
                        }
                    }
                    Err(e) => notes.push(format!("`{name}` has no static kernel: {}", e.reason)),
                }
            }
        }
    }

    let model = args.model.as_deref().unwrap_or("model");
    let refs: Vec<&tyche_jit::Kernel> = kernels.iter().collect();
    let object = tyche_jit::object::executable_object(&file_name, &text, model, &refs)
        .map_err(|e| fail(io, format!("code generation failed: {e}")))?;

    let dir = TempDir::new()
        .map_err(|e| fail(io, format!("cannot create a temporary directory: {e}")))?;
    let obj_path = dir.0.join("program.o");
    std::fs::write(&obj_path, &object)
        .map_err(|e| fail(io, format!("cannot write {}: {e}", obj_path.display())))?;
    let temp = outputs.temp(&args.output).to_path_buf();
    link(io, &cc, &obj_path, &lib, &temp)?;
    outputs.commit().map_err(|msg| fail(io, msg))?;
    for note in notes {
        let _ = writeln!(io.err, "note: {note}");
    }
    let _ = writeln!(
        io.err,
        "built {} in {:.2} s",
        args.output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A diagnosed failure of the build itself (exit status 1).
fn fail(io: &mut Io, msg: impl std::fmt::Display) -> u8 {
    let _ = writeln!(io.err, "error: {msg}");
    DIAGNOSED
}

/// Finds the runtime static library: `--runtime-lib`, then
/// `$TYCHE_RUNTIME_LIB` (either must exist), then beside the running
/// `tyche` (or, for a test binary in cargo's `deps/`, one directory up,
/// where cargo puts `tyche`), then the per-user cache. When none is found
/// and the source tree this `tyche` was built from is still there (as after
/// `cargo install --path compiler/tyche-cli`), the library is built once
/// with cargo: into the cargo target directory `tyche` runs from, else into
/// the cache.
fn runtime_lib(args: &BuildArgs, io: &mut Io) -> Result<PathBuf, u8> {
    let explicit = args
        .runtime_lib
        .clone()
        .map(|p| (p, "--runtime-lib"))
        .or_else(|| std::env::var_os(RUNTIME_LIB_ENV).map(|p| (PathBuf::from(p), RUNTIME_LIB_ENV)));
    if let Some((path, from)) = explicit {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(fail(
                io,
                format!(
                    "the Tyche runtime library {} (from {from}) does not exist\n \
                     = help: `cargo build --release -p tyche-rt` writes {RUNTIME_LIB} beside the `tyche` binary",
                    path.display()
                ),
            ))
        };
    }
    let exe = std::env::current_exe().ok();
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = exe.as_deref().and_then(Path::parent) {
        dirs.push(dir.to_path_buf());
        if dir.file_name().is_some_and(|n| n == "deps") {
            dirs.extend(dir.parent().map(Path::to_path_buf));
        }
    }
    dirs.extend(cache_dir());
    if let Some(found) = dirs
        .iter()
        .map(|d| d.join(RUNTIME_LIB))
        .find(|p| p.is_file())
    {
        return Ok(found);
    }
    let looked = dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    match build_runtime(exe.as_deref(), io) {
        Some(Ok(lib)) => Ok(lib),
        Some(Err(why)) => Err(fail(
            io,
            format!(
                "the Tyche runtime library {RUNTIME_LIB} was not found (looked in: {looked}), \
                 and building it failed: {why}\n \
                 = help: `cargo build --release -p tyche-rt` in Tyche's source tree writes it \
                 beside the `tyche` binary; or set {RUNTIME_LIB_ENV} to its path"
            ),
        )),
        None => Err(fail(
            io,
            format!(
                "the Tyche runtime library {RUNTIME_LIB} was not found (looked in: {looked})\n \
                 = help: `cargo build --release -p tyche-rt` in Tyche's source tree writes it \
                 beside the `tyche` binary; or set {RUNTIME_LIB_ENV} to its path"
            ),
        )),
    }
}

/// Where a runtime library built for an installed `tyche` is kept: one
/// directory per Tyche version, since the library must match the binary.
fn cache_dir() -> Option<PathBuf> {
    let version = env!("CARGO_PKG_VERSION");
    dirs::cache_dir().map(|d| d.join("tyche").join(format!("runtime-{version}")))
}

/// Builds the runtime library with cargo from the source tree this `tyche`
/// was compiled from, if that tree and cargo are there (`None` if not:
/// nothing to try). A `tyche` inside a cargo target directory
/// (`target/release/tyche`) gets it beside itself, reusing that directory's
/// compiled crates (seconds); an installed one gets it in the cache, built
/// in a scratch target directory that is removed afterwards (minutes, once
/// per version). Cargo's own progress goes to standard error.
fn build_runtime(exe: Option<&Path>, io: &mut Io) -> Option<Result<PathBuf, String>> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let source = source.canonicalize().unwrap_or(source);
    let manifest = source.join("Cargo.toml");
    if !source.join("compiler/tyche-rt/Cargo.toml").is_file() {
        return None;
    }
    let cargo = std::env::var_os("CARGO")
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "cargo".into());
    // `target/<profile>/tyche`: build in place, with the same profile.
    let in_target = exe.and_then(|e| {
        let dir = e.parent()?;
        let profile = dir.file_name()?.to_str()?.to_string();
        let target = dir.parent()?;
        target
            .join("CACHEDIR.TAG")
            .is_file()
            .then(|| (target.to_path_buf(), profile, dir.to_path_buf()))
    });
    let (target_dir, profile, out_dir, scratch) = match in_target {
        Some((target, profile, dir)) => (target, profile, dir, false),
        None => {
            let cache = cache_dir()?;
            (cache.join("target"), "release".to_string(), cache, true)
        }
    };
    let _ = writeln!(
        io.err,
        "note: building the Tyche runtime library {RUNTIME_LIB} once, into {} \
         (from the source in {}; this can take a few minutes)",
        out_dir.display(),
        source.display()
    );
    let mut command = std::process::Command::new(&cargo);
    command
        .arg("build")
        .arg("-p")
        .arg("tyche-rt")
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .stdout(std::process::Stdio::null());
    match profile.as_str() {
        "debug" => {}
        "release" => {
            command.arg("--release");
        }
        other => {
            command.arg("--profile").arg(other);
        }
    }
    let status = match command.status() {
        Ok(s) => s,
        Err(e) => {
            return Some(Err(format!(
                "could not run `{}`: {e}",
                cargo.to_string_lossy()
            )))
        }
    };
    if !status.success() {
        return Some(Err(format!("`cargo build -p tyche-rt` failed ({status})")));
    }
    let built = target_dir.join(&profile).join(RUNTIME_LIB);
    if !scratch {
        return Some(if built.is_file() {
            Ok(built)
        } else {
            Err(format!("cargo did not write {}", built.display()))
        });
    }
    // Keep only the library: the scratch target directory is gigabytes.
    let kept = out_dir.join(RUNTIME_LIB);
    let partial = out_dir.join(format!("{RUNTIME_LIB}.partial"));
    let moved = std::fs::copy(&built, &partial).and_then(|_| std::fs::rename(&partial, &kept));
    let _ = std::fs::remove_dir_all(&target_dir);
    Some(
        moved
            .map(|()| kept)
            .map_err(|e| format!("could not keep {}: {e}", built.display())),
    )
}

/// The C compiler driver used as the linker: `$CC`, else `cc`.
fn linker() -> std::ffi::OsString {
    std::env::var_os("CC")
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "cc".into())
}

/// The system libraries Rust's standard library needs, and dead-code
/// elimination (shared/CRATES.md).
#[cfg(target_os = "linux")]
const LINK_ARGS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
    "-Wl,--gc-sections",
    // The runtime library's debug information is most of its size (69 of
    // 79 MB from a release build); symbols stay for backtraces.
    "-Wl,--strip-debug",
];

#[cfg(not(target_os = "linux"))]
const LINK_ARGS: &[&str] = &[];

/// `cc OBJ LIB <system libraries> -o OUT`.
fn link(io: &mut Io, cc: &std::ffi::OsStr, obj: &Path, lib: &Path, out: &Path) -> Result<(), u8> {
    if !cfg!(target_os = "linux") {
        return Err(fail(
            io,
            "tyche build links executables on Linux only so far",
        ));
    }
    let result = std::process::Command::new(cc)
        .arg(obj)
        .arg(lib)
        .args(LINK_ARGS)
        .arg("-o")
        .arg(out)
        .stdin(std::process::Stdio::null())
        .output();
    let cc_name = Path::new(cc).display().to_string();
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(fail(
            io,
            format!(
                "no C compiler `{cc_name}` to link with\n \
                 = help: install one (gcc or clang; it is only used as the linker), or set CC to its path"
            ),
        )),
        Err(e) => Err(fail(io, format!("cannot run `{cc_name}`: {e}"))),
        Ok(o) if !o.status.success() => Err(fail(
            io,
            format!(
                "linking {} failed (`{cc_name}` {}):\n{}",
                out.display(),
                o.status,
                String::from_utf8_lossy(&o.stderr).trim_end()
            ),
        )),
        Ok(_) => Ok(()),
    }
}

/// A directory under the system temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let base = std::env::temp_dir();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mut last = None;
        for attempt in 0..16u32 {
            let dir = base.join(format!(
                "tyche-build-{}-{nanos:x}-{attempt}",
                std::process::id()
            ));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no attempt made")))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
