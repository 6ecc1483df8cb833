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

/// Applies `f` to every pair `(i, &mut a[i], &mut b[i])`, in parallel for
/// long slices. The error returned is the first *by index*, so which error
/// a run reports does not depend on thread timing.
pub fn for_each_zip<A: Send, B: Send>(
    a: &mut [A],
    b: &mut [B],
    f: impl Fn(usize, &mut A, &mut B) -> Result<(), Diagnostic> + Sync + Send,
) -> Result<(), Diagnostic> {
    let first = if a.len() >= PARALLEL_THRESHOLD {
        a.par_iter_mut()
            .zip(b.par_iter_mut())
            .enumerate()
            .filter_map(|(i, (x, y))| f(i, x, y).err().map(|e| (i, e)))
            .min_by_key(|(i, _)| *i)
    } else {
        a.iter_mut()
            .zip(b.iter_mut())
            .enumerate()
            .find_map(|(i, (x, y))| f(i, x, y).err().map(|e| (i, e)))
    };
    first.map_or(Ok(()), |(_, e)| Err(e))
}

/// [`for_each_zip`] over one slice.
pub fn for_each_mut<T: Send>(
    items: &mut [T],
    f: impl Fn(usize, &mut T) -> Result<(), Diagnostic> + Sync + Send,
) -> Result<(), Diagnostic> {
    let mut unit = vec![(); items.len()];
    for_each_zip(items, &mut unit, |i, x, _| f(i, x))
}

/// Always parallel (for a handful of expensive tasks such as MCMC chains).
pub fn map_tasks<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    (0..n).into_par_iter().map(f).collect()
}
