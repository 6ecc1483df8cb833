//! Tyche's intermediate representation: what the compiler produces and
//! every backend (interpreter, inference, JIT) consumes.
//!
//! A [`Program`] is a set of functions in a register-machine form: each
//! function has numbered registers and a flat list of instructions with
//! jumps. Three properties are designed in:
//!
//! - **Every probabilistic effect is an explicit site.** `sample`,
//!   `observe`, `factor` and `condition` are instructions that name a
//!   [`Site`] in the program's site table, which records the choice name,
//!   the kind of effect and the source span. Inference sees exactly these.
//! - **Runs can suspend.** Control flow is explicit (no host recursion), so
//!   an interpreter can stop at any site and resume later, or be cloned.
//! - **Surgery is rewriting.** `do` and `condition` replace site
//!   instructions ([`Instr::Sample`] becomes [`Instr::SampleEdited`]) in a copy of the functions a model reaches.
//!
//! [`print`](mod@print) gives the textual form (`tyche check --emit ir`) and
//! [`verify`] checks the invariants every pass must keep.

pub mod dependence;
pub mod ids;
pub mod instr;
pub mod prim;
pub mod print;
pub mod program;
pub mod surgery;
pub mod ty;
pub mod verify;

pub use ids::{FuncId, GlobalId, NameId, Reg, SiteId};
pub use instr::{BinOp, Callee, Const, Edit, EditKind, Instr, UnOp};
pub use prim::{Intrinsic, MethodKind, Prim};
pub use program::{
    AddressedSurgery, Foreign, Function, Global, GlobalKind, Native, Program, Site, SiteKind,
};
pub use ty::Type;
pub use verify::verify;
