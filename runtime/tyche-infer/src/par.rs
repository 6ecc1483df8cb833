//! Data parallelism that cannot change results: work is split by index,
//! every index has its own random stream, and outputs are collected in
//! index order. The thread-pool policy of every algorithm is here: small
//! batches run sequentially (threads cost more than they save below a few
//! hundred interpreted runs, [`PARALLEL_THRESHOLD`], or tens of thousands
//! of compiled SMC rows, [`PARALLEL_MIN_ROWS`]); MCMC chains always run in
//! parallel ([`map_tasks`]).

use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use tyche_core::Diagnostic;

/// Batches at least this large run on the rayon pool.
pub const PARALLEL_THRESHOLD: usize = 256;

/// Populations of compiled SMC rows at least this large run their batches
/// on the pool ([`any_batch`]). Only the segments run in parallel
/// (resampling is sequential), and waking the pool once per step costs
/// more than it saves below this: lgss with 10,000 particles takes
/// 22–25 ms on one thread and 25–30 ms on two (with SplitMix64 streams and
/// count-based resampling; before those, 43 and 51 ms, and at 100,000
/// particles 0.62 s and 0.54 s).
pub const PARALLEL_MIN_ROWS: usize = 32_768;

/// Whether `f` fails (returns `true`) for any batch, trying batches in
/// index order, or in parallel when they hold at least
/// [`PARALLEL_MIN_ROWS`] rows in all; stops at the first failure found.
pub fn any_batch<T: Send>(
    batches: &mut [T],
    rows: usize,
    f: impl Fn(usize, &mut T) -> bool + Sync + Send,
) -> bool {
    if rows >= PARALLEL_MIN_ROWS && rayon::current_num_threads() > 1 {
        batches
            .par_iter_mut()
            .enumerate()
            .any(|(b, batch)| f(b, batch))
    } else {
        batches.iter_mut().enumerate().any(|(b, batch)| f(b, batch))
    }
}

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
/// a run reports does not depend on thread timing: the one a sequential
/// loop would report.
///
/// The first error stops the work: once index `i` has failed, no index
/// above `i` starts (its outcome cannot change the report), while those
/// below it still run, since one of them may fail too and is then the
/// error to report. So a run whose particles all fail stops after about
/// one particle per thread, not after every particle; the report is the
/// lowest failing index, which every index below it ran to decide.
pub fn for_each_zip<A: Send, B: Send>(
    a: &mut [A],
    b: &mut [B],
    f: impl Fn(usize, &mut A, &mut B) -> Result<(), Diagnostic> + Sync + Send,
) -> Result<(), Diagnostic> {
    let first = if a.len() >= PARALLEL_THRESHOLD {
        let lowest = AtomicUsize::new(usize::MAX);
        a.par_iter_mut()
            .zip(b.par_iter_mut())
            .enumerate()
            .filter_map(|(i, (x, y))| {
                if i > lowest.load(Ordering::Relaxed) {
                    return None;
                }
                let e = f(i, x, y).err()?;
                lowest.fetch_min(i, Ordering::Relaxed);
                Some((i, e))
            })
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn fails(i: usize) -> Diagnostic {
        Diagnostic::error(format!("item {i}"))
    }

    /// Every item fails, slowly: the first failure stops the loop (issue
    /// 14: one failing SMC particle was reported only after every other
    /// particle had run), and the error is index 0's.
    #[test]
    fn the_first_error_stops_the_work() {
        let n = 1000;
        let ran = AtomicUsize::new(0);
        let mut a = vec![0u8; n];
        let mut b = vec![0u8; n];
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .expect("pool");
        let r = pool.install(|| {
            for_each_zip(&mut a, &mut b, |i, _, _| {
                ran.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(2));
                Err(fails(i))
            })
        });
        assert_eq!(r.expect_err("fails").message, "item 0");
        let ran = ran.into_inner();
        assert!(ran < n / 10, "{ran} of {n} items ran after the first error");
    }

    /// The error reported is the lowest failing index whatever the number
    /// of threads: every index below it ran.
    #[test]
    fn the_error_is_the_lowest_index_for_any_thread_count() {
        for threads in [1, 2, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            let mut a = vec![0u8; 2000];
            let mut b = vec![0u8; 2000];
            let r = pool.install(|| {
                for_each_zip(&mut a, &mut b, |i, _, _| {
                    // Failures late in the slice come first in time.
                    if i < 700 {
                        std::thread::sleep(std::time::Duration::from_micros(50));
                    }
                    if i % 97 == 41 && i > 600 {
                        Err(fails(i))
                    } else {
                        Ok(())
                    }
                })
            });
            assert_eq!(
                r.expect_err("fails").message,
                "item 623",
                "{threads} threads"
            );
        }
    }
}
