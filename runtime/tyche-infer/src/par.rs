//! Data parallelism that cannot change results: work is split by index,
//! every index has its own random stream, and outputs are collected in
//! index order. Small batches run sequentially (threads cost more than
//! they save below a few hundred cheap runs).

use rayon::prelude::*;
use tyche_core::Diagnostic;

/// Batches at least this large run on the rayon pool.
pub const PARALLEL_THRESHOLD: usize = 256;

/// `(0..n).map(f)`, in parallel for large `n`, results in index order.
pub fn map_indexed<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    if n >= PARALLEL_THRESHOLD {
        (0..n).into_par_iter().map(f).collect()
    } else {
        (0..n).map(f).collect()
    }
}

/// Applies `f` to every element (with its index), in parallel for large
/// slices; the first error *by index* is returned, so which error a run
/// reports does not depend on thread timing.
pub fn for_each_mut<T: Send>(
    items: &mut [T],
    f: impl Fn(usize, &mut T) -> Result<(), Diagnostic> + Sync + Send,
) -> Result<(), Diagnostic> {
    let results: Vec<Result<(), Diagnostic>> = if items.len() >= PARALLEL_THRESHOLD {
        items
            .par_iter_mut()
            .enumerate()
            .map(|(i, x)| f(i, x))
            .collect()
    } else {
        items.iter_mut().enumerate().map(|(i, x)| f(i, x)).collect()
    };
    results.into_iter().collect()
}

/// Always parallel (for a handful of expensive tasks such as MCMC chains).
pub fn map_tasks<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    (0..n).into_par_iter().map(f).collect()
}
