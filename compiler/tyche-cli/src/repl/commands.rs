//! The REPL's `:` commands.
//!
//! `:help`, `:type EXPR`, `:load FILE`, `:reload`, `:data FILE.json`,
//! `:infer [OPTIONS] [MODEL]`, `:do NAME=VALUE…`, `:observe NAME=VALUE…`,
//! `:seed [N]`, `:emit ir|types [NAME]`, `:graph [MODEL]`,
//! `:plot FILE.svg` (a figure of the last `:infer`), `:quit`;
//! `:emit clif` prints the model's JIT kernel as Cranelift IR.

use super::session::{expr_type, synthetic, Control, DataFile, Session};
use crate::cli::MethodArg;
use crate::Io;
use std::collections::HashMap;
use std::sync::Arc;
use tyche_core::{Diagnostic, Severity};
use tyche_driver::CliEdit;
use tyche_ir::{EditKind, FuncId, GlobalKind};
use tyche_syntax::ast::Item;
use tyche_syntax::ReplInput;

/// Every command with its argument synopsis and a line of help; used by
/// `:help`, completion and hints.
pub(crate) const COMMANDS: &[(&str, &str, &str)] = &[
    (":help", "", "show this help"),
    (
        ":type",
        " EXPR",
        "show the type of an expression without running it",
    ),
    (
        ":load",
        " FILE",
        "replace the session's definitions with those of a .ppl file",
    ),
    (":reload", "", "load the last :load file again"),
    (
        ":data",
        " FILE.json",
        "bind the session's `data` items from a JSON object",
    ),
    (
        ":infer",
        " [--method M] [OPTIONS] [MODEL]",
        "run inference on MODEL (default `model`); `tyche run`'s options (`:infer --help`)",
    ),
    (
        ":do",
        " [NAME=VALUE]…",
        "intervene on choices in later :infer runs; no argument clears",
    ),
    (
        ":observe",
        " [NAME=VALUE]…",
        "condition choices in later :infer runs; no argument clears",
    ),
    (
        ":seed",
        " [N]",
        "show or set the seed of evaluations and :infer (default 0)",
    ),
    (
        ":emit",
        " ir|types [NAME]",
        "print the IR or the types of the session's definitions",
    ),
    (
        ":graph",
        " [MODEL]",
        "print a model's dependency graph (Graphviz DOT), with the :do/:observe surgery",
    ),
    (
        ":plot",
        " FILE.svg",
        "write a figure of the last :infer posterior (histograms, trace plots)",
    ),
    (":quit", "", "leave the REPL (Ctrl-D also does)"),
];

/// Short forms.
const ALIASES: &[(&str, &str)] = &[
    (":h", ":help"),
    (":?", ":help"),
    (":t", ":type"),
    (":q", ":quit"),
    (":r", ":reload"),
];

/// The last `:infer` run: what `:plot` draws.
pub(crate) struct LastInfer {
    info: tyche_report::RunInfo,
    ty: tyche_ir::Type,
    values: Vec<tyche_vm::Value>,
    weights: Vec<f64>,
    /// MCMC chains (the draws are the chains' draws concatenated).
    chains: Option<usize>,
}

impl Session {
    /// Runs one `:` command line.
    pub(crate) fn command(&mut self, line: &str, io: &mut Io) -> Control {
        let (word, rest) = match line.find(char::is_whitespace) {
            Some(i) => (&line[..i], line[i..].trim()),
            None => (line, ""),
        };
        let word = ALIASES
            .iter()
            .find(|(a, _)| *a == word)
            .map_or(word, |(_, full)| *full);
        match word {
            ":help" => self.help(io),
            ":quit" | ":exit" => return Control::Quit,
            ":type" => self.type_of(rest, io),
            ":load" => self.load(rest, io),
            ":reload" => match self.loaded.clone() {
                Some(path) if rest.is_empty() => self.load(&path, io),
                Some(_) => self.fail(io, "`:reload` takes no argument"),
                None => self.fail(io, "nothing to reload: use `:load FILE` first"),
            },
            ":data" => self.data(rest, io),
            ":infer" => self.infer(rest, io),
            ":do" => self.surgery(rest, EditKind::Do, io),
            ":observe" => self.surgery(rest, EditKind::Observe, io),
            ":seed" => self.set_seed(rest, io),
            ":emit" => self.emit(rest, io),
            ":graph" => self.graph(rest, io),
            ":plot" => self.plot(rest, io),
            _ => {
                let names = COMMANDS.iter().map(|(c, _, _)| *c);
                let msg = match tyche_core::suggest::best_match(word, names) {
                    Some(s) => format!("unknown command `{word}`; did you mean `{s}`? (`:help` lists the commands)"),
                    None => format!("unknown command `{word}` (`:help` lists the commands)"),
                };
                self.fail(io, msg);
            }
        }
        Control::Continue
    }

    fn help(&mut self, io: &mut Io) {
        let mut text = String::from(
            "Enter definitions (fn, let, data; a new definition of a name replaces the old one)\n\
             or an expression to evaluate it. Input continues on the next line while a\n\
             brace, bracket or parenthesis is open. Commands:\n",
        );
        for (cmd, args, help) in COMMANDS {
            let usage = format!("{cmd}{args}");
            if usage.len() > 24 {
                text.push_str(&format!("  {usage}\n  {:24}  {help}\n", ""));
            } else {
                text.push_str(&format!("  {usage:24}  {help}\n"));
            }
        }
        text.push_str("Keys: Tab completes, Ctrl-C clears the line (or stops a running evaluation), Ctrl-D quits.\n");
        let _ = write!(io.out, "{text}");
    }

    /// `:type EXPR`.
    fn type_of(&mut self, src: &str, io: &mut Io) {
        if src.is_empty() {
            return self.fail(io, "`:type` needs an expression, e.g. `:type map`");
        }
        let Some((input, file)) = self.parse(src, io) else {
            return;
        };
        let e = match input {
            ReplInput::Expr(e) => e,
            ReplInput::Items(_) => {
                return self.fail(io, "`:type` takes an expression, not a definition")
            }
        };
        let name = "__repl_type";
        match self.compile(Some(synthetic(name, e)), file) {
            Ok((compiled, _)) => {
                let ty = tyche_types::display_type(
                    &expr_type(&compiled, name),
                    &compiled.types.numeric_vars,
                );
                let _ = writeln!(io.out, "{src} : {ty}");
            }
            Err(d) => self.report(io, &d),
        }
    }

    fn resolve(&self, path: &str) -> std::path::PathBuf {
        let p = std::path::Path::new(path);
        match &self.base_dir {
            Some(base) if p.is_relative() => base.join(p),
            _ => p.to_path_buf(),
        }
    }

    fn read(&mut self, path: &str, io: &mut Io) -> Option<String> {
        match std::fs::read(self.resolve(path)) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => Some(t),
                Err(_) => {
                    self.fail(io, format!("{path} is not valid UTF-8 text"));
                    None
                }
            },
            Err(e) => {
                self.fail(io, format!("cannot read {path}: {e}"));
                None
            }
        }
    }

    /// `:load FILE`: the file's items replace the session's definitions
    /// (data bindings, surgery and the seed stay).
    fn load(&mut self, path: &str, io: &mut Io) {
        if path.is_empty() {
            return self.fail(io, "`:load` needs a file, e.g. `:load examples/coin.ppl`");
        }
        let Some(text) = self.read(path, io) else {
            return;
        };
        // Remember it even when it fails, so `:reload` works after a fix.
        self.loaded = Some(path.to_string());
        let file = self.sources.add(path, text.as_str());
        let (program, diags) = tyche_syntax::parse_program(file, &text, self.next_expr_id());
        if diags.iter().any(Diagnostic::is_error) {
            self.report(io, &diags);
            return self.unchanged(io);
        }
        self.set_next_expr_id(program.expr_count);
        let saved = std::mem::take(&mut self.defs);
        for item in program.items {
            self.push_def(item);
        }
        let roots: Vec<String> = self.defs.iter().map(|d| d.name().to_string()).collect();
        let (compiled, plan, warnings) = match self.prepare(None, file, &roots) {
            Ok(p) => p,
            Err(d) => {
                self.defs = saved;
                self.report(io, &d);
                return self.unchanged(io);
            }
        };
        self.report(io, &warnings);
        if let Err(f) = self.execute(Arc::clone(&compiled.ir), plan, |_, g| Ok(g)) {
            self.defs = saved;
            self.failure(io, f);
            return self.unchanged(io);
        }
        let names: Vec<&str> = self
            .defs
            .iter()
            .map(|d| d.name())
            .filter(|n| !n.starts_with('$'))
            .collect();
        let _ = writeln!(
            io.out,
            "loaded {path}: {}",
            if names.is_empty() {
                "no definitions".to_string()
            } else {
                names.join(", ")
            }
        );
    }

    fn unchanged(&mut self, io: &mut Io) {
        let _ = writeln!(io.err, "(the session is unchanged)");
    }

    /// `:data FILE.json`.
    fn data(&mut self, path: &str, io: &mut Io) {
        if path.is_empty() {
            return self.fail(io, "`:data` needs a JSON file, e.g. `:data ys.json`");
        }
        let Some(text) = self.read(path, io) else {
            return;
        };
        let (file, json) = match tyche_driver::parse_data_file(&mut self.sources, path, &text) {
            Ok(d) => d,
            Err(d) => return self.report(io, &[d]),
        };
        let at = self.add_input("");
        let compiled = match self.compile(None, at) {
            Ok((c, _)) => c,
            Err(d) => return self.report(io, &d),
        };
        let diags: Vec<Diagnostic> =
            match tyche_driver::bind_data(&compiled, &self.sources, Some((file, &json))) {
                Ok(_) => Vec::new(),
                Err(ds) => ds
                    .into_iter()
                    // Items may be declared after their data is bound.
                    .filter(|d| d.code.as_deref() != Some("E0504"))
                    .map(|mut d| {
                        if d.code.as_deref() == Some("E0505") {
                            d.severity = Severity::Warning;
                            d.notes.push(
                            "note: it is kept, and binds a `data` item of that name declared later"
                                .into(),
                        );
                        }
                        d
                    })
                    .collect(),
            };
        if diags.iter().any(Diagnostic::is_error) {
            self.report(io, &diags);
            let _ = writeln!(io.err, "(the data file was not bound)");
            return;
        }
        self.report(io, &diags);
        let bound: Vec<String> = compiled
            .ir
            .globals
            .iter()
            .filter(|g| matches!(g.kind, GlobalKind::Data { .. }) && json.get(&g.name).is_some())
            .map(|g| format!("{} : {}", g.name, g.ty))
            .collect();
        self.data = Some(DataFile {
            json,
            name: path.to_string(),
        });
        self.data_changed();
        if bound.is_empty() {
            let _ = writeln!(io.out, "bound {path} (no `data` item matches its keys yet)");
        } else {
            let _ = writeln!(io.out, "bound {path}: {}", bound.join(", "));
        }
    }

    /// `:do` / `:observe`.
    fn surgery(&mut self, args: &str, kind: EditKind, io: &mut Io) {
        let what = if kind == EditKind::Do {
            "interventions"
        } else {
            "observations"
        };
        if args.is_empty() {
            self.edits.retain(|e| e.kind != kind);
            let _ = writeln!(io.out, "{what} cleared");
            return;
        }
        let mut parsed = Vec::new();
        for arg in split_args(args) {
            match tyche_driver::parse_cli_edit(&arg, kind) {
                Ok(e) => parsed.push(e),
                Err(msg) => return self.fail(io, msg),
            }
        }
        for e in parsed {
            self.edits
                .retain(|old| !(old.kind == e.kind && old.name == e.name && old.index == e.index));
            self.edits.push(e);
        }
        let _ = writeln!(
            io.out,
            "{what}: {} (applied by :infer)",
            edits_text(&self.edits, kind)
        );
    }

    /// `:seed [N]`.
    fn set_seed(&mut self, arg: &str, io: &mut Io) {
        if arg.is_empty() {
            let _ = writeln!(io.out, "seed {}", self.seed);
            return;
        }
        match arg.parse::<u64>() {
            Ok(n) => {
                self.seed = n;
                self.reset_evals();
                let _ = writeln!(io.out, "seed {n}");
            }
            Err(_) => self.fail(
                io,
                format!("`{arg}` is not a seed (a non-negative integer)"),
            ),
        }
    }

    /// `:emit ir [NAME]` / `:emit types`.
    fn emit(&mut self, args: &str, io: &mut Io) {
        let mut words = args.split_whitespace();
        let form = words.next().unwrap_or("");
        let name = words.next();
        match form {
            "ir" | "types" => {}
            "clif" => return self.emit_clif(name.unwrap_or("model"), io),
            _ => {
                return self.fail(
                    io,
                    "`:emit` takes `ir`, `types` or `clif` (and optionally a NAME)",
                )
            }
        }
        let at = self.add_input("");
        let compiled = match self.compile(None, at) {
            Ok((c, _)) => c,
            Err(d) => return self.report(io, &d),
        };
        if let Some(n) = name {
            if !self.defs.iter().any(|d| d.name() == n) {
                return self.fail(io, format!("no definition named `{n}` in the session"));
            }
        }
        let selected = |n: &str| name.is_none_or(|want| want == n);
        let mut out = String::new();
        if form == "types" {
            for d in self
                .defs
                .iter()
                .filter(|d| !d.name().starts_with('$') && selected(d.name()))
            {
                if let Some(t) = compiled.types.items.get(d.name()) {
                    out.push_str(&format!(
                        "{} : {}\n",
                        d.name(),
                        tyche_types::display_type(t, &compiled.types.numeric_vars)
                    ));
                }
            }
        } else {
            let ir = &compiled.ir;
            let mut funcs: Vec<FuncId> = Vec::new();
            for (i, g) in ir.globals.iter().enumerate() {
                if g.span.file == self.prelude_file || !selected(&g.name) {
                    continue;
                }
                match &g.kind {
                    GlobalKind::Const { init } => {
                        out.push_str(&format!("global g{i} {}: {} = call {init}\n", g.name, g.ty));
                        funcs.push(*init);
                    }
                    GlobalKind::Data { default: Some(d) } => {
                        out.push_str(&format!(
                            "data g{i} {}: {} default call {d}\n",
                            g.name, g.ty
                        ));
                        funcs.push(*d);
                    }
                    GlobalKind::Data { default: None } => {
                        out.push_str(&format!("data g{i} {}: {}\n", g.name, g.ty))
                    }
                }
            }
            for (i, f) in ir.funcs.iter().enumerate() {
                let id = FuncId(i as u32);
                let base = f.name.split('$').next().unwrap_or(&f.name);
                let user = f.span.file != self.prelude_file && !f.span.is_dummy();
                if funcs.contains(&id) || (user && selected(base)) {
                    out.push('\n');
                    out.push_str(&tyche_ir::print::function_to_string(ir, id, f));
                }
            }
        }
        if out.is_empty() {
            out.push_str("(the session has no definitions)\n");
        }
        let _ = write!(io.out, "{}", out.trim_start_matches('\n'));
    }

    /// `:infer [OPTIONS] [MODEL]`: every option of `tyche run`, parsed by
    /// the same definitions ([`parse_infer`]), run through the same
    /// pipeline (`tyche_engine::run`) and reported by the same code
    /// (`crate::run::report_run`). `--data`, `--do`, `--observe` and
    /// `--counterfactual` apply to this run only, on top of the session's.
    fn infer(&mut self, args: &str, io: &mut Io) {
        let mut args = match parse_infer(args, self.seed) {
            Ok(a) => a,
            Err(e) => {
                if e.use_stderr() {
                    let _ = write!(io.err, "{}", e.render());
                    self.errors += 1;
                } else {
                    let _ = write!(io.out, "{}", e.render());
                }
                return;
            }
        };
        // Files are relative to the loaded program, as for `:plot`.
        for p in [&mut args.output, &mut args.plot, &mut args.data]
            .into_iter()
            .flatten()
        {
            *p = self.resolve(&p.display().to_string());
        }
        let opts = match crate::run::options(&args, io) {
            Ok(o) => o,
            Err(_) => {
                self.errors += 1;
                return;
            }
        };
        let extra = match tyche_driver::parse_cli_edits(
            &args.interventions,
            &args.observations,
            &args.counterfactuals,
        ) {
            Ok(e) => e,
            Err(msg) => return self.fail(io, msg),
        };
        let data = match &args.data {
            None => None,
            Some(path) => {
                let name = path.display().to_string();
                let Some(text) = self.read(&name, io) else {
                    return;
                };
                match tyche_driver::parse_data_file(&mut self.sources, &name, &text) {
                    Ok((_, json)) => Some(DataFile { json, name }),
                    Err(d) => return self.report(io, &[d]),
                }
            }
        };
        let outputs = match crate::run::prepare_outputs(&args, true) {
            Ok(o) => o,
            Err(msg) => return self.fail(io, msg),
        };
        // This run's data and edits, on top of the session's; restored
        // after.
        let saved_edits = self.edits.clone();
        for e in extra {
            self.edits.retain(|old| {
                !(old.kind == e.kind
                    && old.name == e.name
                    && old.index == e.index
                    && old.counterfactual == e.counterfactual)
            });
            self.edits.push(e);
        }
        let saved_data = match data {
            Some(d) => {
                self.data_changed();
                Some(self.data.replace(d))
            }
            None => None,
        };
        self.infer_with(&args, opts, outputs, io);
        self.edits = saved_edits;
        if let Some(d) = saved_data {
            self.data = d;
            self.data_changed();
        }
    }

    fn infer_with(
        &mut self,
        args: &crate::cli::RunArgs,
        opts: tyche_infer::Options,
        outputs: crate::guard::Outputs,
        io: &mut Io,
    ) {
        let model = args.model.clone();
        let Some((program, root, bound)) = self.surgered_model(&model, io) else {
            return;
        };
        let plan = match self.plan(&program, &bound, std::slice::from_ref(&model)) {
            Ok(p) => p,
            Err(d) => return self.report(io, &d),
        };
        if let Err(d) = self.check_bound(std::slice::from_ref(&model), &plan) {
            return self.report(io, &d);
        }
        if let Some(d) = crate::run::memory_check(args, &opts) {
            return self.report(io, &[d]);
        }
        if args.method.is_some() {
            crate::run::inapplicable_options(args, opts.method, io);
        }
        let (bar, progress) =
            if args.format == crate::cli::Format::Text && crate::progress_bars_enabled() {
                let (bar, progress) = crate::run::progress_bar();
                (Some(bar), Some(progress))
            } else {
                (None, None)
            };
        let cancel = tyche_infer::Stop::new();
        let spec_cancel = cancel.clone();
        let method = args.method.map(MethodArg::method);
        let backend = args.backend.into();
        let timeout = args.timeout.map(std::time::Duration::from_secs_f64);
        let seed = opts.seed;
        let job = move |p: &Arc<tyche_ir::Program>, globals: Arc<Vec<tyche_vm::Value>>| {
            // An edit of an address no run reaches is an error where every
            // run draws the same addresses, as in `tyche run` (elsewhere
            // `tyche run` only warns; here nothing is said).
            let decided = |f: tyche_ir::FuncId| crate::run::addresses_are_static(p, &globals, f);
            if let Some(d) =
                tyche_driver::check_addressed_surgeries(p, &globals, root, 200, seed, &decided)
                    .into_iter()
                    .find(|d| d.is_error())
            {
                return Err(d);
            }
            let m = tyche_infer::Model::for_function(Arc::clone(p), globals, root);
            tyche_engine::run(tyche_engine::Spec {
                model: &m,
                method,
                options: opts,
                backend,
                timeout,
                cancel: Some(spec_cancel),
                progress,
            })
        };
        let started = std::time::Instant::now();
        let ran = self.execute_cancellable(Arc::clone(&program), plan, &cancel, job);
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let ran = match ran {
            Ok(r) => r,
            Err(f) => return self.failure(io, f),
        };
        if args.method.is_none() {
            crate::run::inapplicable_options(args, ran.method(), io);
        }
        let ty = tyche_driver::result_type(&program, root);
        let info = ran.info(surgery_text(&model, &self.edits));
        if crate::run::report_run(
            io,
            args,
            &ran,
            &program,
            &ty,
            info.clone(),
            started,
            outputs,
        ) != 0
        {
            self.errors += 1;
        }
        let result = ran.result;
        self.last_infer = Some(LastInfer {
            info,
            ty,
            chains: result.mcmc.as_ref().map(|m| m.chains),
            values: result.draws.iter().map(|d| d.value.clone()).collect(),
            weights: result.draws.iter().map(|d| d.log_weight).collect(),
        });
    }

    /// `:emit clif [MODEL]`: the Cranelift IR of the model's log-density
    /// kernel (specialised to the session's data and surgery), or why the
    /// model has none.
    fn emit_clif(&mut self, model: &str, io: &mut Io) {
        let model = model.to_string();
        let Some((program, root, bound)) = self.surgered_model(&model, io) else {
            return;
        };
        let plan = match self.plan(&program, &bound, std::slice::from_ref(&model)) {
            Ok(p) => p,
            Err(d) => return self.report(io, &d),
        };
        if let Err(d) = self.check_bound(std::slice::from_ref(&model), &plan) {
            return self.report(io, &d);
        }
        let name = model.clone();
        let job = move |p: &Arc<tyche_ir::Program>, globals: Arc<Vec<tyche_vm::Value>>| {
            let kernel = tyche_jit::extract(p, &globals, root).map_err(|e| {
                let d = Diagnostic::error(format!("`{name}` has no static log-density kernel"))
                    .with_code("E0901")
                    .with_note(e.reason.clone());
                match e.span {
                    Some(span) => d.with_primary(span, "not static here"),
                    None => d,
                }
            })?;
            tyche_jit::emit_clif(&kernel)
                .map_err(|e| Diagnostic::error(format!("code generation failed: {e}")))
        };
        match self.execute(Arc::clone(&program), plan, job) {
            Ok(text) => {
                let _ = write!(io.out, "{text}");
            }
            Err(f) => self.failure(io, f),
        }
    }

    /// `:plot FILE.svg`: the figure of `tyche run --plot` for the last
    /// `:infer` run.
    fn plot(&mut self, args: &str, io: &mut Io) {
        let path = args.trim();
        if path.is_empty() || path.split_whitespace().count() > 1 {
            return self.fail(io, "`:plot` takes one argument, the SVG file to write");
        }
        let Some(last) = &self.last_infer else {
            return self.fail(io, "nothing to plot: run `:infer` first");
        };
        let draws = tyche_report::Draws::weighted(&last.values, &last.weights);
        let traces = last
            .chains
            .and_then(|c| tyche_report::chain_traces(&last.ty, &last.values, c));
        let traces = traces.as_ref().map(|(name, cs)| (name.as_str(), &cs[..]));
        let svg = match tyche_report::plot_svg(&last.info, &last.ty, &draws, traces) {
            Ok(svg) => svg,
            Err(msg) => return self.fail(io, msg),
        };
        match std::fs::write(self.resolve(path), svg) {
            Ok(()) => {
                let _ = writeln!(io.out, "wrote {path}");
            }
            Err(e) => self.fail(io, format!("cannot write {path}: {e}")),
        }
    }

    /// The model `name` (default `model`) after the session's surgery.
    #[allow(clippy::type_complexity)]
    fn surgered_model(
        &mut self,
        name: &str,
        io: &mut Io,
    ) -> Option<(
        Arc<tyche_ir::Program>,
        FuncId,
        HashMap<tyche_ir::GlobalId, tyche_vm::Value>,
    )> {
        let at = self.add_input("");
        let (compiled, _) = match self.compile(None, at) {
            Ok(c) => c,
            Err(d) => {
                self.report(io, &d);
                return None;
            }
        };
        let func = match self.model_function(&compiled.ir, name) {
            Ok(f) => f,
            Err(d) => {
                self.report(io, &[d]);
                return None;
            }
        };
        if self.edits.is_empty() {
            return Some((Arc::clone(&compiled.ir), func, HashMap::new()));
        }
        match tyche_driver::apply_cli_surgery(&compiled.ir, func, &self.edits) {
            Ok((p, root, values)) => Some((Arc::new(p), root, values)),
            Err(mut ds) => {
                // The driver words these for the command line's flags.
                for d in &mut ds {
                    for n in &mut d.notes {
                        *n = n
                            .replace("`--do ", "`:do ")
                            .replace("`--observe ", "`:observe ");
                    }
                }
                self.report(io, &ds);
                None
            }
        }
    }

    /// `:graph [MODEL]`: the dependency graph `tyche graph` draws.
    fn graph(&mut self, args: &str, io: &mut Io) {
        let mut words = args.split_whitespace();
        let model = words.next().unwrap_or("model").to_string();
        if words.next().is_some() {
            return self.fail(io, "`:graph` takes at most one model name");
        }
        let Some((program, root, bound)) = self.surgered_model(&model, io) else {
            return;
        };
        let label = |g: tyche_ir::GlobalId| match bound.get(&g) {
            Some(v) => v.to_string(),
            None => tyche_ir::dependence::static_value(&program, g),
        };
        let graph = tyche_ir::dependence::analyze(&program, root, &label);
        let _ = write!(
            io.out,
            "{}",
            crate::graph::to_dot(&graph, &surgery_text(&model, &self.edits))
        );
    }

    /// The zero-argument session function `name`.
    fn model_function(&self, ir: &tyche_ir::Program, name: &str) -> Result<FuncId, Diagnostic> {
        let fns: Vec<&tyche_syntax::ast::FnDef> = self
            .defs
            .iter()
            .filter_map(|d| match &d.item {
                Item::Fn(f) => Some(f),
                _ => None,
            })
            .collect();
        let Some(def) = fns.iter().find(|f| f.name.name == name) else {
            let mut d = Diagnostic::error(format!("no function `{name}` to infer in the session"))
                .with_code("E0404");
            let candidates: Vec<&str> = fns
                .iter()
                .filter(|f| f.params.is_empty())
                .map(|f| f.name.name.as_str())
                .collect();
            d = if candidates.is_empty() {
                d.with_help("define a model: `fn model() { … }`")
            } else {
                d.with_note(format!(
                    "zero-argument functions here: {}",
                    candidates.join(", ")
                ))
                .with_help("pick one with `:infer NAME`")
            };
            return Err(d);
        };
        if !def.params.is_empty() {
            return Err(Diagnostic::error(format!(
                "`{name}` takes arguments, so it cannot be a model"
            ))
            .with_code("E0405")
            .with_primary(
                def.name.span,
                format!("`{name}` has {} parameters", def.params.len()),
            )
            .with_help("a model is a zero-argument function; wrap it: `fn model() { f(…) }`"));
        }
        ir.func_by_name(name)
            .ok_or_else(|| Diagnostic::error(format!("internal error: `{name}` was not lowered")))
    }
}

/// `:infer`'s arguments, parsed by `tyche run`'s own definitions
/// ([`crate::cli::RunArgs`]: every option, the same defaults, the same
/// checks), with FILE hidden (the session is the program), the session's
/// seed as `--seed`'s default, and the model also accepted as a
/// positional MODEL.
pub(crate) fn parse_infer(args: &str, seed: u64) -> Result<crate::cli::RunArgs, clap::Error> {
    use clap::{Arg, Args, FromArgMatches};
    let command = crate::cli::RunArgs::augment_args(clap::Command::new(":infer"))
        .no_binary_name(true)
        .disable_version_flag(true)
        .about(
            "Run inference on a model of the session and summarise its posterior \
             (the options of `tyche run`; --data, --do, --observe and --counterfactual \
             apply to this run only)",
        )
        .override_usage(":infer [OPTIONS] [MODEL]")
        .mut_arg("file", |a| a.hide(true))
        .arg(
            Arg::new("model_name")
                .value_name("MODEL")
                .help("The zero-argument function to infer (as --model; default `model`)"),
        );
    let argv = std::iter::once("<session>".to_string()).chain(split_args(args));
    let matches = command.try_get_matches_from(argv)?;
    let mut run = crate::cli::RunArgs::from_arg_matches(&matches)?;
    if let Some(m) = matches.get_one::<String>("model_name") {
        run.model = m.clone();
    }
    if matches.value_source("seed") != Some(clap::parser::ValueSource::CommandLine) {
        run.seed = seed;
    }
    Ok(run)
}

/// Splits `a=1 b=[1, 2]` at spaces outside brackets and quotes.
fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut depth, mut quoted) = (0i32, false);
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            '[' | '(' | '{' if !quoted => depth += 1,
            ']' | ')' | '}' if !quoted => depth -= 1,
            c if c.is_whitespace() && depth <= 0 && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn edit_text(e: &CliEdit) -> String {
    match e.index {
        Some(i) => format!("{}[{i}] = {}", e.name, e.value),
        None => format!("{} = {}", e.name, e.value),
    }
}

fn edits_text(edits: &[CliEdit], kind: EditKind) -> String {
    let these: Vec<String> = edits
        .iter()
        .filter(|e| e.kind == kind)
        .map(edit_text)
        .collect();
    if these.is_empty() {
        "none".into()
    } else {
        these.join(", ")
    }
}

/// `condition(do(model, x = 1.0), y = 2.0)`: the model `:infer` runs.
fn surgery_text(model: &str, edits: &[CliEdit]) -> String {
    let mut text = model.to_string();
    for (kind, word) in [(EditKind::Do, "do"), (EditKind::Observe, "condition")] {
        if edits.iter().any(|e| e.kind == kind) {
            text = format!("{word}({text}, {})", edits_text(edits, kind));
        }
    }
    text
}
