//! `tyche graph`: a model's dependency structure as a Graphviz DOT graph.
//!
//! `tyche graph FILE [--model NAME] [--do NAME=VALUE]… [--observe
//! NAME=VALUE]… [--counterfactual NAME=VALUE]… [-o OUT.dot]` applies the
//! surgeries as `tyche run` does and prints the graph of the result (or
//! writes it, plus an SVG when Graphviz's `dot` is installed).
//!
//! The analysis itself is IR infrastructure: `tyche_ir::dependence`. This
//! module draws its result.

use crate::cli::GraphArgs;
use crate::io::{read_data, report, usage, Io};
use std::path::Path;
use std::sync::Arc;
use tyche_core::SourceMap;
use tyche_ir::dependence::{
    analyze, model_label, static_value, ChoiceStatus, EdgeKind, Graph, Node, NodeKind,
};
use tyche_ir::GlobalId;

// ---------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------

/// Runs `tyche graph`.
pub fn command(args: GraphArgs, io: &mut Io) -> u8 {
    let mut sources = SourceMap::new();
    let text = match std::fs::read(&args.file) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                let _ = writeln!(
                    io.err,
                    "error: {} is not valid UTF-8 text",
                    args.file.display()
                );
                return crate::DIAGNOSED;
            }
        },
        Err(e) => return usage(io, format!("cannot read {}: {e}", args.file.display())),
    };
    let compiled =
        match tyche_driver::compile_source(&mut sources, &args.file.display().to_string(), &text) {
            Ok(c) => c,
            Err(d) => return report(io, &d, &sources),
        };
    let edits = match tyche_driver::parse_cli_edits(
        &args.interventions,
        &args.observations,
        &args.counterfactuals,
    ) {
        Ok(e) => e,
        Err(msg) => return usage(io, msg),
    };
    // Data only matters for printing values: a program whose data is not
    // supplied still has a structure to draw.
    let data = match read_data(io, &mut sources, args.data.as_deref()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let mut bound = match data {
        None => tyche_driver::bind_data(&compiled, &sources, None).unwrap_or_default(),
        Some((file, value)) => {
            match tyche_driver::bind_data(&compiled, &sources, Some((file, &value))) {
                Ok(b) => b,
                Err(d) => return report(io, &d, &sources),
            }
        }
    };
    let func = match tyche_driver::model(&compiled, &sources, &args.model) {
        Ok(f) => f,
        Err(d) => return report(io, &[d], &sources),
    };
    let (program, root) = if edits.is_empty() {
        (compiled.ir.clone(), func)
    } else {
        match tyche_driver::apply_cli_surgery(&compiled.ir, func, &edits) {
            Ok((program, root, values)) => {
                bound.extend(values);
                (Arc::new(program), root)
            }
            Err(d) => return report(io, &d, &sources),
        }
    };
    // Values of interventions, for the labels: evaluated when the globals
    // can be (they are deterministic), else read off the IR.
    let evaluated = tyche_driver::evaluate_globals(&program, &bound).ok();
    let label = |g: GlobalId| -> String {
        if let Some(v) = bound.get(&g) {
            return v.to_string();
        }
        match &evaluated {
            Some(values) if g.index() < values.len() => values[g.index()].to_string(),
            _ => static_value(&program, g),
        }
    };
    let graph = analyze(&program, root, &label);
    let title = model_label(&program.func(root).name);
    let dot = to_dot(&graph, &title);
    match &args.output {
        None => {
            let _ = write!(io.out, "{dot}");
        }
        Some(path) => {
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            match ext.as_str() {
                "dot" | "gv" => {
                    if let Err(e) = std::fs::write(path, &dot) {
                        return usage(io, format!("cannot write {}: {e}", path.display()));
                    }
                }
                "svg" | "png" | "pdf" => {
                    if let Err(why) = render(&dot, &ext, path) {
                        let _ = writeln!(io.err, "error: cannot write {}: {why}", path.display());
                        return crate::DIAGNOSED;
                    }
                }
                _ => {
                    return usage(
                        io,
                        format!(
                        "-o {}: the extension says the format: .dot (or .gv), .svg, .png or .pdf",
                        path.display()
                    ),
                    )
                }
            }
        }
    }
    0
}

/// Renders DOT text to `out` with Graphviz (`dot -T<format>`), fed on
/// standard input so that `dot` never reads the file it writes.
fn render(dot: &str, format: &str, out: &Path) -> Result<(), String> {
    use std::io::Write as _;
    let child = std::process::Command::new("dot")
        .arg(format!("-T{format}"))
        .arg("-o")
        .arg(out)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = child.map_err(|e| {
        format!("Graphviz `dot` could not be run ({e}); install Graphviz, or write `-o FILE.dot`")
    })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| format!("writing to `dot` failed: {e}"))?;
    }
    let out_ = child
        .wait_with_output()
        .map_err(|e| format!("`dot` failed: {e}"))?;
    if out_.status.success() {
        Ok(())
    } else {
        let _ = std::fs::remove_file(out);
        Err(format!(
            "`dot -T{format}` failed: {}",
            String::from_utf8_lossy(&out_.stderr).trim()
        ))
    }
}

/// The graph in Graphviz DOT.
pub fn to_dot(graph: &Graph, title: &str) -> String {
    let mut s = String::new();
    s.push_str(&format!("digraph {} {{\n", quote(title)));
    s.push_str("  rankdir=TB;\n");
    s.push_str("  graph [fontname=\"Helvetica\"];\n");
    s.push_str("  node [fontname=\"Helvetica\"];\n");
    s.push_str("  edge [fontname=\"Helvetica\"];\n");
    s.push_str(&format!(
        "  label={}; labelloc=t;\n",
        quote(&format!("dependencies of {title}"))
    ));
    for (w, world) in graph.worlds.iter().enumerate() {
        if w == 0 {
            for (i, n) in graph.nodes.iter().enumerate().filter(|(_, n)| n.world == 0) {
                s.push_str(&format!("  {}\n", node_dot(i, n)));
            }
        } else {
            s.push_str(&format!(
                "  subgraph cluster_{w} {{\n    label={};\n    style=rounded; color=gray50;\n",
                quote(&world.label)
            ));
            for (i, n) in graph.nodes.iter().enumerate().filter(|(_, n)| n.world == w) {
                s.push_str(&format!("    {}\n", node_dot(i, n)));
            }
            s.push_str("  }\n");
        }
    }
    for e in &graph.edges {
        let style = match e.kind {
            EdgeKind::Data => "",
            EdgeKind::Control => " [style=dashed]",
            EdgeKind::Noise => " [style=dotted, dir=none, constraint=false, color=gray40]",
        };
        s.push_str(&format!("  n{} -> n{}{style};\n", e.from, e.to));
    }
    s.push_str("}\n");
    s
}

fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

fn node_dot(i: usize, n: &Node) -> String {
    let (label, attrs) = match &n.kind {
        NodeKind::Choice { name, status } => match status {
            ChoiceStatus::Random => (name.clone(), "shape=ellipse".to_string()),
            ChoiceStatus::Intervened(vs) => (
                format!("{name} := {}", vs.join(" | ")),
                "shape=box, style=bold".to_string(),
            ),
            ChoiceStatus::Observed(vs) => (
                format!("{name} = {}", vs.join(" | ")),
                "shape=ellipse, style=filled, fillcolor=gray80".to_string(),
            ),
            ChoiceStatus::Partial(es) => (
                format!("{name}\n{}", es.join("\n")),
                "shape=ellipse, style=dashed".to_string(),
            ),
        },
        NodeKind::Observe { name } => (
            name.clone(),
            "shape=box, style=\"rounded,filled\", fillcolor=gray80".to_string(),
        ),
        NodeKind::Factor { name } => (name.clone(), "shape=diamond".to_string()),
        NodeKind::Condition { name } => (name.clone(), "shape=octagon".to_string()),
        NodeKind::Return => {
            let label = if n.world == 0 { "return" } else { "posterior" };
            (label.to_string(), "shape=doubleoctagon".to_string())
        }
    };
    format!("n{i} [label={}, {attrs}];", quote(&label))
}
