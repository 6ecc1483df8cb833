//! `docs/reference.md`, rendered from the definitions themselves: the
//! distributions from the registry (`tyche_dist::family`), the built-in
//! functions and methods from the type checker's table
//! (`tyche_types::builtin_names`, with their types and descriptions), and
//! `tyche run`'s options from its command-line definition (`cli.rs`).
//! `tests/tests/reference.rs` fails when the file is out of date
//! (`UPDATE_EXPECT=1` rewrites it).

use std::fmt::Write;

use clap::CommandFactory;
use tyche_dist::DistKind;

/// The whole reference as Markdown.
pub fn markdown() -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "# Tyche language reference (generated)");
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "This file is generated from the code (`tyche_cli::reference`); do not edit it. \
         `UPDATE_EXPECT=1 cargo test -p tyche-tests --test reference` regenerates it. \
         The language itself is described in `docs/language.md`."
    );
    distributions(w);
    builtins(w);
    methods(w);
    run_options(w);
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn distributions(w: &mut String) {
    let _ = writeln!(w);
    let _ = writeln!(w, "## Distributions");
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Parameters are positional, in the order given. `D(..) : Dist<T>` is a value; \
         `let x ~ D(..)` draws a choice of type `T`, `observe(D(..), v)` conditions on `v`. \
         An invalid parameter is a runtime error naming the distribution, the parameter \
         and its value. For NUTS and HMC a continuous choice is moved to the whole real \
         line by a transform chosen from its support (ℝ: none; (0, ∞): `exp`; an \
         interval: a scaled logistic)."
    );
    let _ = writeln!(w);
    let _ = writeln!(w, "| distribution | value | support | description |");
    let _ = writeln!(w, "|---|---|---|---|");
    for kind in DistKind::ALL {
        let f = kind.family();
        let params: Vec<&str> = f.params.iter().map(|p| p.name).collect();
        let _ = writeln!(
            w,
            "| `{}({})` | `{}` | {} | {} |",
            f.name,
            params.join(", "),
            f.value.name(),
            cell(&f.support.describe(f)),
            cell(f.summary)
        );
    }
    for kind in DistKind::ALL {
        let f = kind.family();
        let _ = writeln!(w);
        let _ = writeln!(w, "### {}", f.name);
        let _ = writeln!(w);
        let _ = writeln!(
            w,
            "{}. Values: `{}`, support {}.",
            capital(f.summary),
            f.value.name(),
            f.support.describe(f)
        );
        let _ = writeln!(w);
        for (i, p) in f.params.iter().enumerate() {
            let _ = writeln!(w, "{}. `{}: {}`: {}", i + 1, p.name, p.ty.name(), p.meaning);
        }
        let _ = writeln!(w);
        let _ = writeln!(w, "```");
        let _ = writeln!(w, "{}", f.example);
        let _ = writeln!(w, "```");
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn builtins(w: &mut String) {
    let _ = writeln!(w);
    let _ = writeln!(w, "## Built-in functions");
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Always in scope, shadowable by user items and locals. Type variables (`'a`) \
         stand for any type; a numeric one for `Int` or `Real`."
    );
    let _ = writeln!(w);
    let _ = writeln!(w, "| name | type | description |");
    let _ = writeln!(w, "|---|---|---|");
    for n in tyche_types::builtin_names() {
        if DistKind::from_name(n).is_some() || tyche_types::is_method(n) {
            continue;
        }
        let _ = writeln!(
            w,
            "| `{n}` | `{}` | {} |",
            cell(&tyche_types::builtin_signature(n).unwrap_or_default()),
            cell(tyche_types::builtin_doc(n).unwrap_or(""))
        );
    }
}

fn methods(w: &mut String) {
    let _ = writeln!(w);
    let _ = writeln!(w, "## Inference methods");
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "`infer(METHOD, model)` in a program, or `tyche run --method NAME` (the options \
         below). Without a method, `tyche run` chooses one and says why."
    );
    let _ = writeln!(w);
    let _ = writeln!(w, "| method | type | description |");
    let _ = writeln!(w, "|---|---|---|");
    for n in tyche_types::builtin_names() {
        if tyche_types::is_method(n) {
            let _ = writeln!(
                w,
                "| `{n}` | `{}` | {} |",
                cell(&tyche_types::builtin_signature(n).unwrap_or_default()),
                cell(tyche_types::builtin_doc(n).unwrap_or(""))
            );
        }
    }
}

fn run_options(w: &mut String) {
    let _ = writeln!(w);
    let _ = writeln!(w, "## `tyche run` options");
    let _ = writeln!(w);
    let _ = writeln!(w, "| option | values | default | description |");
    let _ = writeln!(w, "|---|---|---|---|");
    let cmd = crate::cli::Cli::command();
    let Some(run) = cmd.find_subcommand("run") else {
        return;
    };
    for a in run.get_arguments() {
        let Some(long) = a.get_long() else { continue };
        if long == "help" {
            continue;
        }
        let values: Vec<String> = a
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| format!("`{}`", v.get_name()))
            .collect();
        let defaults: Vec<String> = a
            .get_default_values()
            .iter()
            .map(|v| format!("`{}`", v.to_string_lossy()))
            .collect();
        let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        let _ = writeln!(
            w,
            "| `--{long}` | {} | {} | {} |",
            values.join(", "),
            defaults.join(", "),
            cell(&help)
        );
    }
}
