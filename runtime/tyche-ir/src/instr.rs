//! Instructions of the register machine.
//!
//! Registers are mutable slots of a function's frame (not SSA): lowering
//! gives each local variable and temporary its own register. Jumps target
//! instruction indices within the same function.

use crate::ids::{FuncId, GlobalId, Reg, SiteId};
use crate::prim::{Intrinsic, Prim};
use tyche_dist::DistKind;

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    Unit,
    Bool(bool),
    Int(i64),
    Real(f64),
    Str(std::sync::Arc<str>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinOp {
    pub fn name(self) -> &'static str {
        match self {
            BinOp::Add => "add",
            BinOp::Sub => "sub",
            BinOp::Mul => "mul",
            BinOp::Div => "div",
            BinOp::Rem => "rem",
            BinOp::Pow => "pow",
            BinOp::Eq => "eq",
            BinOp::Ne => "ne",
            BinOp::Lt => "lt",
            BinOp::Le => "le",
            BinOp::Gt => "gt",
            BinOp::Ge => "ge",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
}

/// How surgery changed one sample site, for all its executions
/// (`index: None`) or for one occurrence (`z[3]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    pub index: Option<u32>,
    pub kind: EditKind,
    /// The global holding the value (evaluated once, before inference).
    pub value: GlobalId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EditKind {
    /// `do`: the choice takes the value and adds no weight.
    Do,
    /// `condition`: the choice is observed at the value.
    Observe,
}

impl Edit {
    pub fn matches(&self, occurrence: u32) -> bool {
        self.index.is_none_or(|i| i == occurrence)
    }
}

/// What a call instruction calls.
#[derive(Clone, Debug, PartialEq)]
pub enum Callee {
    /// A top-level function, known statically.
    Direct(FuncId),
    /// A closure value held in a register.
    Closure(Reg),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Instr {
    Const {
        dst: Reg,
        value: Const,
    },
    Move {
        dst: Reg,
        src: Reg,
    },
    /// Read a top-level constant or data item.
    Global {
        dst: Reg,
        global: GlobalId,
    },
    /// Build a closure of `func`, copying `captures` into its capture
    /// registers (closures capture by value; values are immutable).
    Closure {
        dst: Reg,
        func: FuncId,
        captures: Vec<Reg>,
    },
    Unary {
        dst: Reg,
        op: UnOp,
        arg: Reg,
    },
    Binary {
        dst: Reg,
        op: BinOp,
        lhs: Reg,
        rhs: Reg,
    },
    Prim {
        dst: Reg,
        prim: Prim,
        args: Vec<Reg>,
    },
    /// Construct and validate a distribution.
    MakeDist {
        dst: Reg,
        kind: DistKind,
        args: Vec<Reg>,
    },
    Array {
        dst: Reg,
        elems: Vec<Reg>,
    },
    Tuple {
        dst: Reg,
        elems: Vec<Reg>,
    },
    Index {
        dst: Reg,
        array: Reg,
        index: Reg,
    },
    Field {
        dst: Reg,
        tuple: Reg,
        field: u32,
    },
    /// Call and write the result to `dst`. A tail call replaces the
    /// current frame (so tail recursion runs in constant space); its
    /// `dst` is unused.
    Call {
        dst: Reg,
        callee: Callee,
        args: Vec<Reg>,
        tail: bool,
    },
    /// A built-in that calls closures (map, fold, …).
    Intrinsic {
        dst: Reg,
        op: Intrinsic,
        args: Vec<Reg>,
    },
    Jump {
        target: u32,
    },
    Branch {
        cond: Reg,
        then_to: u32,
        else_to: u32,
    },
    Return {
        value: Reg,
    },
    /// Draw a random choice from the distribution in `dist`.
    Sample {
        dst: Reg,
        site: SiteId,
        dist: Reg,
    },
    /// Condition on `value` having been drawn from `dist`.
    Observe {
        site: SiteId,
        dist: Reg,
        value: Reg,
    },
    /// Add `weight` to the log weight.
    Factor {
        site: SiteId,
        weight: Reg,
    },
    /// Reject the run unless `cond` holds.
    Condition {
        site: SiteId,
        cond: Reg,
    },
    /// Run inference on the model closure in `model`; the result is a
    /// posterior distribution.
    Infer {
        dst: Reg,
        method: Reg,
        model: Reg,
    },
    /// A sample site after surgery (`do`, `condition`): the first edit
    /// whose index matches this execution's occurrence index applies;
    /// when none does, it samples from `dist` as before.
    SampleEdited {
        dst: Reg,
        site: SiteId,
        dist: Reg,
        edits: Vec<Edit>,
    },
    /// Counterfactual queries: switch the run to the factual world (start
    /// recording each choice's exogenous noise) or to the counterfactual
    /// world (replay the recorded noise through the new distributions,
    /// with address counters restarted so the worlds' addresses align).
    World {
        counterfactual: bool,
    },
    /// No operation: what surgery leaves where an effect was removed
    /// (observations in the counterfactual world). Keeps jump targets.
    Nop,
    /// Call the host function `Program::foreign[index]` (registered by
    /// the embedding application) with `args`; its result goes to `dst`.
    /// Deterministic as far as inference is concerned: not a site.
    Foreign {
        dst: Reg,
        index: u32,
        args: Vec<Reg>,
    },
}

impl Instr {
    /// The register this instruction writes, if any.
    pub fn dst(&self) -> Option<Reg> {
        use Instr::*;
        match self {
            Const { dst, .. }
            | Move { dst, .. }
            | Global { dst, .. }
            | Closure { dst, .. }
            | Unary { dst, .. }
            | Binary { dst, .. }
            | Prim { dst, .. }
            | MakeDist { dst, .. }
            | Array { dst, .. }
            | Tuple { dst, .. }
            | Index { dst, .. }
            | Field { dst, .. }
            | Intrinsic { dst, .. }
            | Sample { dst, .. }
            | Infer { dst, .. }
            | SampleEdited { dst, .. }
            | Foreign { dst, .. } => Some(*dst),
            Call { dst, tail, .. } => (!tail).then_some(*dst),
            Jump { .. }
            | Branch { .. }
            | Return { .. }
            | Observe { .. }
            | Factor { .. }
            | Condition { .. }
            | Nop
            | World { .. } => None,
        }
    }

    /// Every register this instruction reads.
    pub fn uses(&self) -> Vec<Reg> {
        use Instr::*;
        match self {
            Const { .. } | Global { .. } | Jump { .. } | Nop | World { .. } => vec![],
            Move { src, .. } => vec![*src],
            Closure { captures, .. } => captures.clone(),
            Unary { arg, .. } => vec![*arg],
            Binary { lhs, rhs, .. } => vec![*lhs, *rhs],
            Prim { args, .. }
            | MakeDist { args, .. }
            | Intrinsic { args, .. }
            | Foreign { args, .. } => args.clone(),
            Array { elems, .. } | Tuple { elems, .. } => elems.clone(),
            Index { array, index, .. } => vec![*array, *index],
            Field { tuple, .. } => vec![*tuple],
            Call { callee, args, .. } => {
                let mut v = args.clone();
                if let Callee::Closure(r) = callee {
                    v.push(*r);
                }
                v
            }
            Branch { cond, .. } => vec![*cond],
            Return { value } => vec![*value],
            Sample { dist, .. } => vec![*dist],
            Observe { dist, value, .. } => vec![*dist, *value],
            Factor { weight, .. } => vec![*weight],
            Condition { cond, .. } => vec![*cond],
            Infer { method, model, .. } => vec![*method, *model],
            SampleEdited { dist, .. } => vec![*dist],
        }
    }

    /// Jump targets of a control-flow instruction.
    pub fn targets(&self) -> Vec<u32> {
        match self {
            Instr::Jump { target } => vec![*target],
            Instr::Branch {
                then_to, else_to, ..
            } => vec![*then_to, *else_to],
            _ => vec![],
        }
    }

    /// The site this instruction belongs to, if it is a probabilistic one.
    pub fn site(&self) -> Option<SiteId> {
        use Instr::*;
        match self {
            Sample { site, .. }
            | Observe { site, .. }
            | Factor { site, .. }
            | Condition { site, .. }
            | SampleEdited { site, .. } => Some(*site),
            _ => None,
        }
    }

    /// Whether the instruction only reads and writes registers of its
    /// frame (and reads globals): no call, jump, effect or change of
    /// frames. A straight line of these cannot suspend a run.
    pub fn is_register_local(&self) -> bool {
        use Instr::*;
        matches!(
            self,
            Const { .. }
                | Move { .. }
                | Global { .. }
                | Closure { .. }
                | Unary { .. }
                | Binary { .. }
                | Prim { .. }
                | MakeDist { .. }
                | Array { .. }
                | Tuple { .. }
                | Index { .. }
                | Field { .. }
                | Nop
        )
    }

    /// Whether control can fall through to the next instruction.
    pub fn falls_through(&self) -> bool {
        !matches!(
            self,
            Instr::Jump { .. }
                | Instr::Branch { .. }
                | Instr::Return { .. }
                | Instr::Call { tail: true, .. }
        )
    }
}
