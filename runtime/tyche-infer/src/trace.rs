//! Traces: the random choices one execution made, by address.
//!
//! Two representations share the [`Record`] interface:
//! - [`Trace`], a plain vector, for MH, which indexes and rescans it;
//! - [`SharedTrace`], a persistent (cons) list, for particles. When SMC
//!   resamples, offspring share their ancestor's history instead of copying
//!   it, so recording costs O(1) per choice however often particles are
//!   cloned.

use std::sync::Arc;
use tyche_ir::{Program, SiteId};
use tyche_vm::{Address, DistValue, Value};

/// One random choice of an execution.
#[derive(Clone, Debug)]
pub struct Choice {
    pub addr: Address,
    pub site: SiteId,
    pub value: Value,
    /// `log p(value)` under its distribution; 0 for a choice fixed by `do`.
    pub log_prob: f64,
    /// False for a choice fixed by `do` (an
    /// [`Effect::Intervened`](tyche_vm::Effect::Intervened)), which is
    /// recorded for output but is not random: MH never proposes it and it
    /// adds no weight.
    pub random: bool,
    /// The distribution it was drawn from (MH needs it for the support
    /// rule). `None` for `do`-fixed choices, and in shared traces recorded
    /// without distributions (plain SMC, which never looks at them).
    pub dist: Option<Arc<DistValue>>,
}

impl Choice {
    pub fn is_random(&self) -> bool {
        self.random
    }
}

/// Where an execution writes its choices.
pub trait Record: Clone + Default + Send + Sync {
    fn push(&mut self, choice: Choice);
}

/// A trace as a vector, in execution order.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    pub choices: Vec<Choice>,
    /// How many of `choices` are random (not fixed by `do`).
    pub random: usize,
}

impl Record for Trace {
    fn push(&mut self, choice: Choice) {
        self.random += usize::from(choice.random);
        self.choices.push(choice);
    }
}

impl Trace {
    /// The `k`-th random choice (0-based), skipping fixed ones.
    pub fn random_choice(&self, k: usize) -> Option<(usize, &Choice)> {
        if self.random == self.choices.len() {
            return self.choices.get(k).map(|c| (k, c));
        }
        self.choices
            .iter()
            .enumerate()
            .filter(|(_, c)| c.random)
            .nth(k)
    }

    /// Σ log p over the random choices: the prior part of log p(trace).
    pub fn log_prior(&self) -> f64 {
        self.choices.iter().map(|c| c.log_prob).sum()
    }

    /// (address, value) pairs, as [`Draw::trace`](crate::Draw::trace) holds them.
    pub fn assignments(&self) -> Vec<(Address, Value)> {
        self.choices
            .iter()
            .map(|c| (c.addr, c.value.clone()))
            .collect()
    }
}

/// A persistent trace: the newest choice and a shared pointer to the rest.
#[derive(Clone)]
pub struct SharedTrace {
    head: Option<Arc<Node>>,
    /// Off for runs whose traces nobody reads (nested inference, or
    /// `Options::traces == false`): recording is about a third of SMC's
    /// time on a long model.
    record: bool,
    /// Whether choices keep their distributions. Off by default: a
    /// distribution value is several times larger than the rest of a
    /// choice, and only resample-move needs it.
    keep_dists: bool,
}

/// Records values (not distributions).
impl Default for SharedTrace {
    fn default() -> SharedTrace {
        SharedTrace {
            head: None,
            record: true,
            keep_dists: false,
        }
    }
}

struct Node {
    choice: Choice,
    prev: Option<Arc<Node>>,
}

impl Record for SharedTrace {
    fn push(&mut self, mut choice: Choice) {
        if !self.record {
            return;
        }
        if !self.keep_dists {
            choice.dist = None;
        }
        let prev = self.head.take();
        self.head = Some(Arc::new(Node { choice, prev }));
    }
}

impl SharedTrace {
    /// An empty trace whose choices keep their distributions.
    pub fn keeping_dists() -> SharedTrace {
        SharedTrace {
            head: None,
            record: true,
            keep_dists: true,
        }
    }

    /// A trace that records nothing.
    pub fn off() -> SharedTrace {
        SharedTrace {
            head: None,
            record: false,
            keep_dists: false,
        }
    }

    /// The trace to start a run with: values if `record`, else nothing.
    pub fn recording(record: bool) -> SharedTrace {
        if record {
            SharedTrace::default()
        } else {
            SharedTrace::off()
        }
    }

    pub fn keeps_dists(&self) -> bool {
        self.keep_dists
    }

    /// The choices, newest first.
    pub fn iter_rev(&self) -> impl Iterator<Item = &Choice> {
        let mut cur = self.head.as_deref();
        std::iter::from_fn(move || {
            let n = cur?;
            cur = n.prev.as_deref();
            Some(&n.choice)
        })
    }

    /// Copies the choices into a [`Trace`], oldest first.
    pub fn to_trace(&self) -> Trace {
        let mut choices: Vec<Choice> = self.iter_rev().cloned().collect();
        choices.reverse();
        let random = choices.iter().filter(|c| c.random).count();
        Trace { choices, random }
    }

    /// Builds a shared trace holding `trace`'s choices (with their
    /// distributions if `keep_dists`).
    pub fn from_trace(trace: &Trace, keep_dists: bool) -> SharedTrace {
        let mut t = SharedTrace {
            head: None,
            record: true,
            keep_dists,
        };
        for c in &trace.choices {
            t.push(c.clone());
        }
        t
    }

    pub fn assignments(&self) -> Vec<(Address, Value)> {
        let mut out: Vec<(Address, Value)> =
            self.iter_rev().map(|c| (c.addr, c.value.clone())).collect();
        out.reverse();
        out
    }
}

/// Dropping a long list node by node (the default recursive drop would
/// overflow the stack on traces of a few hundred thousand choices). It
/// stops at the first node another trace still shares.
impl Drop for Node {
    fn drop(&mut self) {
        let mut next = self.prev.take();
        while let Some(node) = next {
            match Arc::try_unwrap(node) {
                Ok(mut n) => next = n.prev.take(),
                Err(_) => break,
            }
        }
    }
}

impl std::fmt::Debug for SharedTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter_rev().map(|c| (c.addr, &c.value)))
            .finish()
    }
}

/// Formats assignments as `x[0]=1.5, z[1]=true` (for messages and tests).
pub fn format_assignments(program: &Program, trace: &[(Address, Value)]) -> String {
    trace
        .iter()
        .map(|(a, v)| format!("{}={}", a.display(program), v))
        .collect::<Vec<_>>()
        .join(", ")
}
