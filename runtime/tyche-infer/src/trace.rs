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
    /// `log p(value)` under `dist`; 0 for a choice fixed by `do`.
    pub log_prob: f64,
    /// The distribution it was drawn from; `None` for a choice fixed by
    /// `do` (an [`Effect::Intervened`](tyche_vm::Effect::Intervened)), which
    /// is recorded for output but is not random: MH never proposes it and
    /// it adds no weight.
    pub dist: Option<Arc<DistValue>>,
}

impl Choice {
    pub fn is_random(&self) -> bool {
        self.dist.is_some()
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
        self.random += choice.is_random() as usize;
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
            .filter(|(_, c)| c.is_random())
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

    pub fn clear(&mut self) {
        self.choices.clear();
        self.random = 0;
    }
}

/// A persistent trace: the newest choice and a shared pointer to the rest.
#[derive(Clone, Default)]
pub struct SharedTrace {
    head: Option<Arc<Node>>,
}

struct Node {
    choice: Choice,
    prev: SharedTrace,
}

impl Record for SharedTrace {
    fn push(&mut self, choice: Choice) {
        let prev = SharedTrace {
            head: self.head.take(),
        };
        self.head = Some(Arc::new(Node { choice, prev }));
    }
}

impl SharedTrace {
    /// The choices, newest first.
    pub fn iter_rev(&self) -> impl Iterator<Item = &Choice> {
        let mut cur = self.head.as_deref();
        std::iter::from_fn(move || {
            let n = cur?;
            cur = n.prev.head.as_deref();
            Some(&n.choice)
        })
    }

    /// Copies the choices into a [`Trace`], oldest first.
    pub fn to_trace(&self) -> Trace {
        let mut choices: Vec<Choice> = self.iter_rev().cloned().collect();
        choices.reverse();
        let random = choices.iter().filter(|c| c.is_random()).count();
        Trace { choices, random }
    }

    /// Builds a shared trace holding `trace`'s choices.
    pub fn from_trace(trace: &Trace) -> SharedTrace {
        let mut t = SharedTrace::default();
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
/// overflow the stack on traces of a few hundred thousand choices).
impl Drop for SharedTrace {
    fn drop(&mut self) {
        let mut head = self.head.take();
        while let Some(node) = head {
            match Arc::try_unwrap(node) {
                Ok(mut n) => head = n.prev.head.take(),
                Err(_) => break, // still shared: another particle owns the rest
            }
        }
    }
}

impl std::fmt::Debug for SharedTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.to_trace().choices.iter().map(|c| (c.addr, &c.value)))
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
