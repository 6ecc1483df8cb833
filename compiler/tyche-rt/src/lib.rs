//! `libtyche_rt.a`: the runtime library of executables made by `tyche
//! build` (see `docs/build.md`).
//!
//! The code is `tyche-cli`'s `exe` module: the C entry point
//! `tyche_rt_main` that the generated `main` calls, and the `tyche_jit_*`
//! special functions that ahead-of-time kernels import, all
//! `#[no_mangle]`. A static library holds every object of the crates it is
//! built from, so those symbols are in the archive; this crate exists so
//! that only a build of *it* writes the archive, not every build of
//! `tyche-cli` (the archive is 200 MB in release, 450 MB in debug).

pub use tyche_cli::exe::{run_embedded, tyche_rt_main, EXPORTED_SPECIAL};
