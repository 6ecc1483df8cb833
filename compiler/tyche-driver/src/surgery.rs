//! Surgery from the command line (`--do`, `--observe`): the same IR
//! transformation as `do(…)`/`condition(…)` in the language, with values
//! given as literals and bound like data items.

use crate::data::value_from_json;
use std::collections::HashMap;
use tyche_core::Diagnostic;
use tyche_ir::surgery::{self, SurgeryEdit, SurgeryError};
use tyche_ir::{EditKind, FuncId, Global, GlobalId, GlobalKind, Program};
use tyche_vm::Value;

/// A parsed `NAME=VALUE` or `NAME[i]=VALUE` argument.
#[derive(Clone, Debug, PartialEq)]
pub struct CliEdit {
    pub name: String,
    pub index: Option<u32>,
    pub value: serde_json::Value,
    pub kind: EditKind,
    /// A `--counterfactual` edit (kind is then `Do`).
    pub counterfactual: bool,
}

/// Splits a choice selector: `"z[3]"` into `("z", Some(3))`, `"z"` into
/// `("z", None)`. The error is a message for the user.
pub fn parse_address(target: &str) -> Result<(String, Option<u32>), String> {
    let target = target.trim();
    let (name, index) = match target.split_once('[') {
        Some((name, rest)) => {
            let digits = rest
                .strip_suffix(']')
                .ok_or_else(|| format!("expected `{name}[INDEX]`, got `{target}`"))?;
            let index = digits
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("`{digits}` is not an occurrence index"))?;
            (name.trim(), Some(index))
        }
        None => (target, None),
    };
    if name.is_empty() {
        return Err(format!("`{target}` is not a choice name"));
    }
    Ok((name.to_string(), index))
}

/// The edits of the command line's `--do`, `--observe` and
/// `--counterfactual` flags, in that order (`tyche run`, `tyche graph` and
/// the REPL's `:infer`); the error is a usage message.
pub fn parse_cli_edits(
    interventions: &[String],
    observations: &[String],
    counterfactuals: &[String],
) -> Result<Vec<CliEdit>, String> {
    let flags = [
        (interventions, EditKind::Do, false),
        (observations, EditKind::Observe, false),
        (counterfactuals, EditKind::Do, true),
    ];
    let mut edits = Vec::new();
    for (list, kind, counterfactual) in flags {
        for arg in list {
            edits.push(CliEdit {
                counterfactual,
                ..parse_cli_edit(arg, kind)?
            });
        }
    }
    Ok(edits)
}

/// Parses `NAME=VALUE`; the error is a usage message.
pub fn parse_cli_edit(arg: &str, kind: EditKind) -> Result<CliEdit, String> {
    let (target, value) = arg
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, got `{arg}`"))?;
    let (name, index) = parse_address(target)?;
    let name = name.as_str();
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@' || c == ':');
    if !valid {
        return Err(format!("`{name}` is not a choice name"));
    }
    let value = serde_json::from_str(value.trim()).map_err(|_| {
        format!(
            "`{}` is not a literal value (try 1.0, 3, true, [1.0, 2.0])",
            value.trim()
        )
    })?;
    Ok(CliEdit {
        name: name.to_string(),
        index,
        value,
        kind,
        counterfactual: false,
    })
}

/// Applies command-line edits to a copy of `program` rooted at `root`.
/// Returns the new program, the new root, and the values of the globals
/// the edits added (to bind before evaluating globals).
pub fn apply_cli_surgery(
    program: &Program,
    root: FuncId,
    edits: &[CliEdit],
) -> Result<(Program, FuncId, HashMap<GlobalId, Value>), Vec<Diagnostic>> {
    let mut program = program.clone();
    let choices = surgery::choice_types(&program, root);
    let model = program.func(root).name.clone();
    let mut diags = Vec::new();
    let mut bound = HashMap::new();
    let mut ir_edits = Vec::new();
    for edit in edits {
        let flag = match (edit.counterfactual, edit.kind) {
            (true, _) => "--counterfactual",
            (false, EditKind::Do) => "--do",
            (false, EditKind::Observe) => "--observe",
        };
        let ty = match choices.get(&edit.name).map(|ts| ts.as_slice()) {
            Some([ty]) => ty,
            Some([a, b, ..]) => {
                let err = SurgeryError::Ambiguous {
                    name: edit.name.clone(),
                    types: (a.clone(), b.clone()),
                };
                let mut d = tyche_lower::surgery_diagnostic(&err, &model, tyche_core::Span::DUMMY);
                d.labels.clear();
                diags.push(d.with_note(format!(
                    "in `{flag} {}`: `{}` is {a} in one place and {b} in another",
                    edit.name, edit.name
                )));
                continue;
            }
            _ => {
                let err = SurgeryError::UnknownName {
                    name: edit.name.clone(),
                    known: choices.keys().cloned().collect(),
                };
                let mut d = tyche_lower::surgery_diagnostic(&err, &model, tyche_core::Span::DUMMY);
                d.labels.clear();
                diags.push(d.with_note(format!("in `{flag} {}`", edit.name)));
                continue;
            }
        };
        match value_from_json(ty, &edit.value, &edit.name) {
            Ok(v) => {
                program.globals.push(Global {
                    name: format!("{flag} {}", edit.name),
                    ty: ty.clone(),
                    kind: GlobalKind::Data { default: None },
                    span: tyche_core::Span::DUMMY,
                });
                let id = GlobalId(program.globals.len() as u32 - 1);
                bound.insert(id, v);
                ir_edits.push((
                    edit.counterfactual,
                    SurgeryEdit {
                        name: edit.name.clone(),
                        index: edit.index,
                        kind: edit.kind,
                        value: id,
                    },
                ));
            }
            Err(msg) => diags.push(
                Diagnostic::error(format!(
                    "mismatched types in `{flag}`: the random choice `{}` of `{model}` is {ty}",
                    edit.name
                ))
                .with_code("E0805")
                .with_note(msg),
            ),
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    // `--do` applies first, then `--observe`; `--counterfactual` asks its
    // question of the result (LANGUAGE.md §10).
    let mut root = root;
    for kind in [EditKind::Do, EditKind::Observe] {
        let these: Vec<SurgeryEdit> = ir_edits
            .iter()
            .filter(|(cf, e)| !cf && e.kind == kind)
            .map(|(_, e)| e.clone())
            .collect();
        if !these.is_empty() {
            let tag = if kind == EditKind::Do {
                "do"
            } else {
                "condition"
            };
            root = surgery::apply(&mut program, root, None, &these, tag);
        }
    }
    let question: Vec<SurgeryEdit> = ir_edits
        .iter()
        .filter(|(cf, _)| *cf)
        .map(|(_, e)| e.clone())
        .collect();
    if !question.is_empty() {
        root = surgery::counterfactual(&mut program, root, None, &question);
    }
    if let Err(msg) = tyche_ir::verify(&program, "command-line surgery") {
        return Err(vec![Diagnostic::error(format!(
            "internal compiler error: {msg}"
        ))]);
    }
    Ok((program, root, bound))
}

/// Indexed edits (`z[7]`) whose address no forward run of the model
/// reached, from `runs` runs drawing every choice from its prior. An edit
/// of an address that never occurs would silently change nothing, so the
/// CLI reports these. Runs that end in a runtime error or need nested
/// inference are cut short: the check is a best effort, never a false alarm
/// about an address some run reached.
pub fn unreached_addresses(
    program: &std::sync::Arc<Program>,
    globals: &std::sync::Arc<Vec<Value>>,
    root: FuncId,
    edits: &[CliEdit],
    runs: usize,
    seed: u64,
) -> Vec<String> {
    let wanted: Vec<(&str, u32)> = edits
        .iter()
        .filter_map(|e| Some((e.name.as_str(), e.index?)))
        .collect();
    unreached(program, globals, root, &wanted, runs, seed)
        .into_iter()
        .map(|i| format!("{}[{}]", wanted[i].0, wanted[i].1))
        .collect()
}

/// The same check for the surgeries written in the program
/// (`do(m, z[7] = …)`) that the model rooted at `root` can reach, one
/// diagnostic per address no run reached.
pub fn check_addressed_surgeries(
    program: &std::sync::Arc<Program>,
    globals: &std::sync::Arc<Vec<Value>>,
    root: FuncId,
    runs: usize,
    seed: u64,
    decided: &dyn Fn(FuncId) -> bool,
) -> Vec<Diagnostic> {
    let used = surgery::reachable(program, root);
    let mut diags = Vec::new();
    for s in program
        .addressed_surgeries
        .iter()
        .filter(|s| used.contains(&s.model))
    {
        // A surgery of a lambda needs its captures to run; skip it.
        if program.func(s.model).captures > 0 {
            continue;
        }
        let wanted: Vec<(&str, u32)> = s
            .addresses
            .iter()
            .map(|(n, i, _)| (n.as_str(), *i))
            .collect();
        for i in unreached(program, globals, s.model, &wanted, runs, seed) {
            let (name, index, span) = &s.addresses[i];
            let help = format!(
                "occurrences are counted from 0 per name: `{name}[0]` is the first `{name}` drawn"
            );
            // Decided only where every run draws the same addresses (the
            // model traces statically): elsewhere a rare address may just
            // not have come up, so it is a warning, never a refusal.
            diags.push(if decided(s.model) {
                Diagnostic::error(format!(
                    "no run of the model reaches the address `{name}[{index}]`"
                ))
                .with_code("E0807")
                .with_primary(
                    *span,
                    format!("`{name}[{index}]` is never drawn, so this edit changes nothing"),
                )
                .with_note("every run of this model draws the same addresses")
                .with_help(help)
            } else {
                Diagnostic::warning(format!(
                    "`{name}[{index}]` was not reached in {runs} prior runs"
                ))
                .with_code("E0807")
                .with_primary(
                    *span,
                    format!("`{name}[{index}]` may be rare, or never drawn"),
                )
                .with_note("if no run draws it, this edit changes nothing")
                .with_help(help)
            });
        }
    }
    diags
}

/// Indices into `wanted` of the addresses no run reached.
fn unreached(
    program: &std::sync::Arc<Program>,
    globals: &std::sync::Arc<Vec<Value>>,
    root: FuncId,
    wanted: &[(&str, u32)],
    runs: usize,
    seed: u64,
) -> Vec<usize> {
    use rand::SeedableRng;
    use tyche_vm::{Effect, Machine};
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut reached = vec![false; wanted.len()];
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    for _ in 0..runs {
        let Ok(mut m) = Machine::for_function(program.clone(), globals.clone(), root) else {
            return Vec::new();
        };
        let mut effect = m.run();
        loop {
            let addr = match &effect {
                Ok(
                    Effect::Sample { addr, .. }
                    | Effect::Observe { addr, .. }
                    | Effect::Intervened { addr, .. },
                ) => *addr,
                _ => break,
            };
            let name = program.name(addr.name);
            for (i, (n, k)) in wanted.iter().enumerate() {
                reached[i] |= *n == name && *k == addr.index;
            }
            effect = match effect {
                Ok(Effect::Sample { dist, .. }) => m.resume(dist.sample(&mut rng)),
                _ => m.run(),
            };
        }
        if reached.iter().all(|r| *r) {
            return Vec::new();
        }
    }
    (0..wanted.len()).filter(|&i| !reached[i]).collect()
}
