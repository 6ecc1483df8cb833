//! The program: functions, globals, the site table and interned names.

use crate::ids::{FuncId, GlobalId, NameId, SiteId};
use crate::instr::Instr;
use crate::ty::Type;
use tyche_core::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// Source name (`model`), or `name$lambdaN` for lambdas.
    pub name: String,
    /// Registers `r0 .. r(params)` hold the arguments.
    pub params: u32,
    /// The next `captures` registers hold captured values (lambdas only).
    pub captures: u32,
    /// Total registers in a frame.
    pub regs: u32,
    pub code: Vec<Instr>,
    /// Source span of each instruction (same length as `code`), used for
    /// runtime error messages.
    pub spans: Vec<Span>,
    pub span: Span,
    /// The function's type as checked (for output formatting and `--model`).
    pub ty: Type,
}

impl Function {
    /// What the function returns, as checked (a model's result type).
    pub fn result_type(&self) -> Type {
        match &self.ty {
            Type::Fn(_, ret) => (**ret).clone(),
            other => other.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SiteKind {
    Sample,
    Observe,
    Factor,
    Condition,
}

impl SiteKind {
    pub fn name(self) -> &'static str {
        match self {
            SiteKind::Sample => "sample",
            SiteKind::Observe => "observe",
            SiteKind::Factor => "factor",
            SiteKind::Condition => "condition",
        }
    }
}

/// A static probabilistic site: one place in the source that samples,
/// observes or weights. At run time each execution of it gets an address
/// `name[k]`, counted per name.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub kind: SiteKind,
    pub name: NameId,
    /// The function the site's instruction is in.
    pub func: FuncId,
    /// The value type of a sample site (Unit for the others).
    pub ty: Type,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum GlobalKind {
    /// `let NAME = EXPR;` — computed by calling `init` (no arguments).
    Const { init: FuncId },
    /// `data NAME: TYPE [= EXPR];` — supplied at run time, else `default`.
    Data { default: Option<FuncId> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Global {
    pub name: String,
    pub ty: Type,
    pub kind: GlobalKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Program {
    pub funcs: Vec<Function>,
    /// In dependency order: each global's initialiser reads only earlier ones.
    pub globals: Vec<Global>,
    pub sites: Vec<Site>,
    /// Interned choice names, indexed by [`NameId`].
    pub names: Vec<String>,
    /// Functions supplied by the embedding application, called by
    /// [`Instr::Foreign`](crate::Instr::Foreign) by index. Empty for
    /// programs compiled by the `tyche` command.
    pub foreign: Vec<Foreign>,
    /// Surgeries written in the program (`do(m, z[3] = …)`) that edit
    /// single addresses, so a driver can check those addresses are reached.
    pub addressed_surgeries: Vec<AddressedSurgery>,
}

/// The single-address edits of one surgery in the source, and the model
/// function the surgery produced.
#[derive(Clone, Debug, PartialEq)]
pub struct AddressedSurgery {
    pub model: FuncId,
    /// `(name, occurrence index, span of the edit)`.
    pub addresses: Vec<(String, u32, Span)>,
}

/// A function implemented in the host language (Rust) and registered by
/// the embedding application (the `tyche` crate's `Program::builder`),
/// callable from programs like a built-in.
#[derive(Clone, Debug, PartialEq)]
pub struct Foreign {
    pub name: String,
    /// Its type, a [`Type::Fn`] without type variables.
    pub ty: Type,
    /// The implementation. Opaque here, since the IR does not know runtime
    /// values: the interpreter stores and recognises its own function type
    /// (`tyche_vm::ForeignFn`). `None` in a program compiled for checking
    /// only; calling it then is a runtime error.
    pub imp: Option<Native>,
}

impl Foreign {
    /// The number of arguments (from the function type).
    pub fn arity(&self) -> usize {
        match &self.ty {
            Type::Fn(ps, _) => ps.len(),
            _ => 0,
        }
    }
}

/// An opaque, shareable implementation handle, compared by identity.
#[derive(Clone)]
pub struct Native(pub std::sync::Arc<dyn std::any::Any + Send + Sync>);

impl PartialEq for Native {
    fn eq(&self, other: &Native) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Native {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<native>")
    }
}

impl Program {
    pub fn func(&self, id: FuncId) -> &Function {
        &self.funcs[id.index()]
    }

    pub fn site(&self, id: SiteId) -> &Site {
        &self.sites[id.index()]
    }

    pub fn global(&self, id: GlobalId) -> &Global {
        &self.globals[id.index()]
    }

    pub fn name(&self, id: NameId) -> &str {
        &self.names[id.index()]
    }

    pub fn func_by_name(&self, name: &str) -> Option<FuncId> {
        self.funcs
            .iter()
            .position(|f| f.name == name)
            .map(|i| FuncId(i as u32))
    }

    pub fn global_by_name(&self, name: &str) -> Option<GlobalId> {
        self.globals
            .iter()
            .position(|g| g.name == name)
            .map(|i| GlobalId(i as u32))
    }

    pub fn name_id(&self, name: &str) -> Option<NameId> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| NameId(i as u32))
    }

    /// Interns a choice name.
    pub fn intern(&mut self, name: &str) -> NameId {
        match self.name_id(name) {
            Some(id) => id,
            None => {
                self.names.push(name.to_string());
                NameId(self.names.len() as u32 - 1)
            }
        }
    }
}
