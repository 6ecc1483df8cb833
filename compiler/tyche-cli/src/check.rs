//! `tyche check`: parse and type check, or print an intermediate form
//! (`--emit ast|types|ir|clif|steps|grad`).

use crate::cli::{CheckArgs, Emit};
use crate::io::{load, read_data, report, Io, DIAGNOSED};
use std::io::Write;
use tyche_core::{Diagnostic, SourceMap};
use tyche_driver::Compiled;

/// Runs `tyche check`.
pub(crate) fn check(args: CheckArgs, io: &mut Io) -> u8 {
    let mut sources = SourceMap::new();
    let compiled = match load(io, &args.file, &mut sources) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if matches!(args.emit, Some(Emit::Clif | Emit::Steps | Emit::Grad)) {
        return emit_clif(&args, &compiled, &mut sources, io);
    }
    let out = &mut io.out;
    let _ = match args.emit {
        None => writeln!(out, "{}: ok", args.file.display()),
        Some(Emit::Clif | Emit::Steps | Emit::Grad) => unreachable!("handled above"),
        Some(Emit::Ir) => write!(out, "{}", compiled.ir),
        Some(Emit::Ast) => writeln!(
            out,
            "{:#?}",
            compiled
                .ast
                .items
                .iter()
                .filter(|i| i.span().file == compiled.file)
                .collect::<Vec<_>>()
        ),
        Some(Emit::Types) => {
            let mut lines = Vec::new();
            for item in compiled
                .ast
                .items
                .iter()
                .filter(|i| i.span().file == compiled.file)
            {
                let name = &item.name().name;
                if let Some(t) = compiled.types.items.get(name) {
                    lines.push(format!("{name} : {t}"));
                }
            }
            writeln!(out, "{}", lines.join("\n"))
        }
    };
    0
}

/// `tyche check --emit clif`: extracts the model's log-density kernel
/// (specialised to the data) and prints its Cranelift IR, or says why the
/// model has no static kernel.
fn emit_clif(args: &CheckArgs, compiled: &Compiled, sources: &mut SourceMap, io: &mut Io) -> u8 {
    let data = match read_data(io, sources, args.data.as_deref()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let bound =
        match tyche_driver::bind_data(compiled, sources, data.as_ref().map(|(f, v)| (*f, v))) {
            Ok(b) => b,
            Err(d) => return report(io, &d, sources),
        };
    let func = match tyche_driver::model(compiled, sources, &args.model) {
        Ok(f) => f,
        Err(d) => return report(io, &[d], sources),
    };
    let globals = match tyche_driver::evaluate_globals(&compiled.ir, &bound) {
        Ok(g) => g,
        Err(d) => return report(io, &[d], sources),
    };
    if args.emit == Some(Emit::Steps) {
        let plan = tyche_jit::native_model_with(&compiled.ir, &globals, func, false, false)
            .and_then(|m| {
                // Built for SMC, a model always has its plan.
                m.plan().map(|p| p.to_string()).ok_or(tyche_jit::NotStatic {
                    reason: "the return value cannot be traced".into(),
                    span: None,
                })
            });
        return match plan {
            Ok(text) => {
                let _ = write!(io.out, "{text}");
                0
            }
            Err(e) => {
                let mut d = Diagnostic::error(format!("`{}` cannot be cut into steps", args.model))
                    .with_code("E0901")
                    .with_note(e.reason.clone());
                if let Some(span) = e.span {
                    d = d.with_primary(span, "not static here");
                }
                report(io, &[d], sources)
            }
        };
    }
    if args.emit == Some(Emit::Grad) {
        let ir = compiled.ir.clone();
        return match tyche_jit::gradient::GradientModel::new(&ir, &globals, func) {
            Ok(g) => {
                let _ = write!(io.out, "{}", g.describe());
                0
            }
            Err(e) => {
                let mut d = Diagnostic::error(format!(
                    "`{}` has no gradient on unconstrained coordinates",
                    args.model
                ))
                .with_code("E0901")
                .with_note(e.reason.clone());
                if let Some(span) = e.span {
                    d = d.with_primary(span, "not static here");
                }
                report(io, &[d], sources)
            }
        };
    }
    let kernel = match tyche_jit::extract(&compiled.ir, &globals, func) {
        Ok(k) => k,
        Err(e) => {
            let mut d =
                Diagnostic::error(format!("`{}` has no static log-density kernel", args.model))
                    .with_code("E0901")
                    .with_note(e.reason.clone());
            if let Some(span) = e.span {
                d = d.with_primary(span, "not static here");
            }
            return report(io, &[d], sources);
        }
    };
    match tyche_jit::emit_clif(&kernel) {
        Ok(text) => {
            let _ = write!(io.out, "{text}");
            0
        }
        Err(e) => {
            let _ = writeln!(io.err, "error: code generation failed: {e}");
            DIAGNOSED
        }
    }
}
