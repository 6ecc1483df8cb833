//! The IR verifier: invariants every producer (lowering, surgery) must
//! keep and every consumer may assume. A failure is a compiler bug, so the
//! message names the pass that ran last.

use crate::ids::FuncId;
use crate::instr::{Callee, Instr};
use crate::program::{Program, SiteKind};

/// Checks the whole program. `pass` names the producer, for the message.
pub fn verify(program: &Program, pass: &str) -> Result<(), String> {
    let fail = |f: usize, i: usize, msg: String| {
        let name = &program.funcs[f].name;
        Err(format!(
            "IR verifier (after {pass}): f{f} {name} at {i}: {msg}"
        ))
    };
    for (gi, g) in program.globals.iter().enumerate() {
        let inits = match &g.kind {
            crate::GlobalKind::Const { init } => vec![*init],
            crate::GlobalKind::Data { default } => default.iter().copied().collect(),
        };
        for init in inits {
            if init.index() >= program.funcs.len() {
                return Err(format!(
                    "IR verifier (after {pass}): global g{gi} names missing function {init}"
                ));
            }
        }
    }
    for (si, site) in program.sites.iter().enumerate() {
        if site.name.index() >= program.names.len() || site.func.index() >= program.funcs.len() {
            return Err(format!(
                "IR verifier (after {pass}): site{si} has a dangling name or function"
            ));
        }
    }
    for (fi, func) in program.funcs.iter().enumerate() {
        if func.spans.len() != func.code.len() {
            return fail(fi, 0, "spans and code differ in length".into());
        }
        if func.params + func.captures > func.regs {
            return fail(
                fi,
                0,
                "parameters and captures exceed the register count".into(),
            );
        }
        match func.code.last() {
            Some(last) if !last.falls_through() => {}
            _ => return fail(fi, func.code.len(), "code can fall off the end".into()),
        }
        for (i, instr) in func.code.iter().enumerate() {
            for r in instr.uses().into_iter().chain(instr.dst()) {
                if r.0 >= func.regs {
                    return fail(
                        fi,
                        i,
                        format!("register {r} out of range (regs={})", func.regs),
                    );
                }
            }
            for t in instr.targets() {
                if t as usize >= func.code.len() {
                    return fail(fi, i, format!("jump target {t} out of range"));
                }
            }
            let check_func = |f: FuncId| f.index() < program.funcs.len();
            match instr {
                Instr::Call {
                    callee: Callee::Direct(f),
                    args,
                    ..
                } => {
                    if !check_func(*f) {
                        return fail(fi, i, format!("call to missing function {f}"));
                    }
                    let callee = &program.funcs[f.index()];
                    if callee.captures != 0 || callee.params as usize != args.len() {
                        return fail(
                            fi,
                            i,
                            format!("direct call to {f} with {} arguments", args.len()),
                        );
                    }
                }
                Instr::Closure {
                    func: f, captures, ..
                } => {
                    if !check_func(*f) {
                        return fail(fi, i, format!("closure of missing function {f}"));
                    }
                    if program.funcs[f.index()].captures as usize != captures.len() {
                        return fail(fi, i, format!("closure of {f} with wrong capture count"));
                    }
                }
                Instr::Global { global, .. } if global.index() >= program.globals.len() => {
                    return fail(fi, i, format!("missing global {global}"));
                }
                Instr::Prim { prim, args, .. } if prim.arity() != args.len() => {
                    return fail(
                        fi,
                        i,
                        format!("prim {} takes {} arguments", prim.name(), prim.arity()),
                    );
                }
                Instr::SampleEdited { edits, .. } => {
                    if let Some(e) = edits
                        .iter()
                        .find(|e| e.value.index() >= program.globals.len())
                    {
                        return fail(fi, i, format!("edit reads missing global {}", e.value));
                    }
                }
                Instr::Foreign { index, args, .. } => match program.foreign.get(*index as usize) {
                    None => {
                        return fail(fi, i, format!("call of missing foreign function {index}"))
                    }
                    Some(g) if g.arity() != args.len() => {
                        return fail(
                            fi,
                            i,
                            format!("foreign {} takes {} arguments", g.name, g.arity()),
                        )
                    }
                    Some(_) => {}
                },
                Instr::Intrinsic { op, args, .. } if op.arity() != args.len() => {
                    return fail(
                        fi,
                        i,
                        format!("intrinsic {} takes {} arguments", op.name(), op.arity()),
                    );
                }
                _ => {}
            }
            if let Some(site) = instr.site() {
                let Some(info) = program.sites.get(site.index()) else {
                    return fail(fi, i, format!("missing {site}"));
                };
                let expected = match instr {
                    Instr::Observe { .. } => SiteKind::Observe,
                    Instr::Factor { .. } => SiteKind::Factor,
                    Instr::Condition { .. } => SiteKind::Condition,
                    _ => SiteKind::Sample,
                };
                if info.kind != expected {
                    return fail(
                        fi,
                        i,
                        format!(
                            "{site} is a {} site, used as {}",
                            info.kind.name(),
                            expected.name()
                        ),
                    );
                }
                if info.func.index() != fi {
                    return fail(fi, i, format!("{site} belongs to {}", info.func));
                }
            }
        }
    }
    Ok(())
}
