//! [`Model`]: what inference runs — a zero-argument closure of a program.

use std::sync::Arc;
use tyche_core::Diagnostic;
use tyche_ir::{FuncId, Program};
use tyche_vm::{Closure, Machine, Value};

/// A model: a zero-argument closure together with the program and the
/// evaluated globals it runs against. Cheap to clone (all `Arc`s).
#[derive(Clone, Debug)]
pub struct Model {
    pub program: Arc<Program>,
    pub globals: Arc<Vec<Value>>,
    /// A zero-argument closure (`Value::Closure`).
    pub entry: Value,
}

impl Model {
    pub fn new(program: Arc<Program>, globals: Arc<Vec<Value>>, entry: Value) -> Model {
        Model {
            program,
            globals,
            entry,
        }
    }

    /// The model that runs the top-level zero-argument function `func`.
    pub fn for_function(program: Arc<Program>, globals: Arc<Vec<Value>>, func: FuncId) -> Model {
        let entry = Value::Closure(Arc::new(Closure {
            func,
            captures: Vec::new(),
        }));
        Model {
            program,
            globals,
            entry,
        }
    }

    /// The same program and globals with another entry closure (nested
    /// inference runs the closure passed to `infer` this way).
    pub fn with_entry(&self, entry: Value) -> Model {
        Model {
            program: Arc::clone(&self.program),
            globals: Arc::clone(&self.globals),
            entry,
        }
    }

    /// A fresh machine about to run the model from its beginning.
    pub fn start(&self) -> Result<Machine, Diagnostic> {
        Machine::new(
            Arc::clone(&self.program),
            Arc::clone(&self.globals),
            &self.entry,
            Vec::new(),
        )
    }
}
