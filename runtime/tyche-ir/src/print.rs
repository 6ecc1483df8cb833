//! The textual form of the IR (`tyche check --emit ir`).
//!
//! ```text
//! fn f3 model() -> Real  regs=6
//!   0: r0 = const 1.0
//!   1: r1 = const 1.0
//!   2: r2 = dist Beta(r0, r1)
//!   3: r3 = sample site0 p[] r2
//! ```

use crate::ids::{FuncId, Reg};
use crate::instr::{Callee, Const, Instr, UnOp};
use crate::program::{Function, GlobalKind, Program};
use std::fmt::{self, Write};

fn regs(rs: &[Reg]) -> String {
    rs.iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Const {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Const::Unit => write!(f, "()"),
            Const::Bool(b) => write!(f, "{b}"),
            Const::Int(i) => write!(f, "{i}"),
            Const::Real(x) => write!(f, "{x:?}"),
            Const::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// Prints one instruction in the context of `program` (for site names).
pub fn instr_to_string(program: &Program, instr: &Instr) -> String {
    use Instr::*;
    let site = |s: crate::SiteId| {
        let site = program.site(s);
        format!("{s} \"{}\"", program.name(site.name))
    };
    let fname = |id: FuncId| {
        program
            .funcs
            .get(id.index())
            .map(|f| f.name.as_str())
            .unwrap_or("?")
    };
    let index = |i: &Option<u32>| i.map(|i| format!("[{i}]")).unwrap_or_default();
    match instr {
        Const { dst, value } => format!("{dst} = const {value}"),
        Move { dst, src } => format!("{dst} = {src}"),
        Global { dst, global } => {
            let name = program
                .globals
                .get(global.index())
                .map(|g| g.name.as_str())
                .unwrap_or("?");
            format!("{dst} = global {global} ({name})")
        }
        Closure {
            dst,
            func,
            captures,
        } => format!(
            "{dst} = closure {func} ({}) [{}]",
            fname(*func),
            regs(captures)
        ),
        Unary { dst, op, arg } => {
            format!(
                "{dst} = {} {arg}",
                if *op == UnOp::Neg { "neg" } else { "not" }
            )
        }
        Binary { dst, op, lhs, rhs } => format!("{dst} = {} {lhs}, {rhs}", op.name()),
        Prim { dst, prim, args } => format!("{dst} = prim {}({})", prim.name(), regs(args)),
        MakeDist { dst, kind, args } => format!("{dst} = dist {}({})", kind.name(), regs(args)),
        Array { dst, elems } => format!("{dst} = array [{}]", regs(elems)),
        Tuple { dst, elems } => format!("{dst} = tuple ({})", regs(elems)),
        Index { dst, array, index } => format!("{dst} = index {array}[{index}]"),
        Field { dst, tuple, field } => format!("{dst} = field {tuple}.{field}"),
        Call {
            dst,
            callee,
            args,
            tail,
        } => {
            let target = match callee {
                Callee::Direct(f) => format!("{f} ({})", fname(*f)),
                Callee::Closure(r) => format!("{r}"),
            };
            if *tail {
                format!("tailcall {target}({})", regs(args))
            } else {
                format!("{dst} = call {target}({})", regs(args))
            }
        }
        Intrinsic { dst, op, args } => format!("{dst} = intrinsic {}({})", op.name(), regs(args)),
        Foreign { dst, index, args } => {
            let name = program
                .foreign
                .get(*index as usize)
                .map(|f| f.name.as_str())
                .unwrap_or("?");
            format!("{dst} = foreign {index} {name}({})", regs(args))
        }
        Jump { target } => format!("jump {target}"),
        Branch {
            cond,
            then_to,
            else_to,
        } => format!("branch {cond}, {then_to}, {else_to}"),
        Return { value } => format!("return {value}"),
        Sample { dst, site: s, dist } => format!("{dst} = sample {} {dist}", site(*s)),
        Observe {
            site: s,
            dist,
            value,
        } => format!("observe {} {dist}, {value}", site(*s)),
        Factor { site: s, weight } => format!("factor {} {weight}", site(*s)),
        Condition { site: s, cond } => format!("condition {} {cond}", site(*s)),
        Infer { dst, method, model } => format!("{dst} = infer {method}, {model}"),
        SampleEdited {
            dst,
            site: s,
            dist,
            edits,
        } => {
            let edits: Vec<String> = edits
                .iter()
                .map(|e| {
                    let kind = if e.kind == crate::instr::EditKind::Do {
                        "do"
                    } else {
                        "observe"
                    };
                    format!("{kind}{} {}", index(&e.index), e.value)
                })
                .collect();
            format!(
                "{dst} = sample {} {dist} edited [{}]",
                site(*s),
                edits.join(", ")
            )
        }
        Nop => "nop".to_string(),
        World { counterfactual } => {
            format!(
                "world {}",
                if *counterfactual {
                    "counterfactual"
                } else {
                    "factual"
                }
            )
        }
    }
}

/// Prints one function.
pub fn function_to_string(program: &Program, id: FuncId, func: &Function) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "fn {id} {}: {}  params={} captures={} regs={}",
        func.name, func.ty, func.params, func.captures, func.regs
    );
    for (i, instr) in func.code.iter().enumerate() {
        let _ = writeln!(out, "  {i:>3}: {}", instr_to_string(program, instr));
    }
    out
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "; names: {}", self.names.join(" "))?;
        for (i, g) in self.foreign.iter().enumerate() {
            writeln!(f, "; foreign {i}: {}: {}", g.name, g.ty)?;
        }
        for (i, site) in self.sites.iter().enumerate() {
            writeln!(
                f,
                "; site{i}: {} \"{}\" : {} in {}",
                site.kind.name(),
                self.names
                    .get(site.name.index())
                    .map(|s| s.as_str())
                    .unwrap_or("?"),
                site.ty,
                site.func
            )?;
        }
        for (i, g) in self.globals.iter().enumerate() {
            match &g.kind {
                GlobalKind::Const { init } => {
                    writeln!(f, "global g{i} {}: {} = call {init}", g.name, g.ty)?
                }
                GlobalKind::Data { default: Some(d) } => {
                    writeln!(f, "data g{i} {}: {} default call {d}", g.name, g.ty)?
                }
                GlobalKind::Data { default: None } => {
                    writeln!(f, "data g{i} {}: {}", g.name, g.ty)?
                }
            }
        }
        for (i, func) in self.funcs.iter().enumerate() {
            writeln!(f)?;
            write!(f, "{}", function_to_string(self, FuncId(i as u32), func))?;
        }
        Ok(())
    }
}
