//! The interactive front end: a rustyline editor with Tyche's completion,
//! hints and multi-line validation, persistent history, and Ctrl-C
//! handling.
//!
//! - Enter submits the input unless the parser says it is unfinished (an
//!   open brace, bracket, parenthesis, string or comment): then the line
//!   editor opens a new line in the same input.
//! - Tab completes keywords, names in scope (the session's definitions,
//!   the prelude, built-ins), distribution constructors, inference
//!   methods, `:` commands and their options, and file names after
//!   `:load` / `:data`.
//! - Hints: the synopsis of a `:` command being typed, else the most
//!   recent matching history entry (accept with →).
//! - History lives in `dirs::data_dir()/tyche/history`; failures to read
//!   or write it are ignored.
//! - Ctrl-C at the prompt clears the line; while code runs it abandons the
//!   run and returns to the prompt; Ctrl-D (or `:quit`) leaves.

use super::commands::COMMANDS;
use super::reader;
use super::session::{Control, Session};
use crate::Io;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::{Hint, Hinter, HistoryHinter};
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{CompletionType, Config, Context, Editor};
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Keywords and type names offered by completion.
const KEYWORDS: &[&str] = &[
    "fn",
    "let",
    "data",
    "if",
    "else",
    "for",
    "in",
    "true",
    "false",
    "do",
    "condition",
    "counterfactual",
    "Int",
    "Real",
    "Bool",
    "String",
    "Dist",
];

/// `:infer` options offered by completion: `tyche run`'s, read from its
/// clap definitions (the parser `:infer` uses), so they cannot drift.
fn infer_options() -> Vec<String> {
    use clap::Args;
    let command = crate::cli::RunArgs::augment_args(clap::Command::new(":infer"));
    let mut options: Vec<String> = command
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    options.push("--help".into());
    options
}

/// `dirs::data_dir()/tyche/history`.
pub(crate) fn history_path() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("tyche").join("history"))
}

/// A hint: `display` is shown greyed after the cursor; → inserts its first
/// `complete` bytes.
pub(crate) struct ReplHint {
    display: String,
    complete: usize,
}

impl Hint for ReplHint {
    fn display(&self) -> &str {
        &self.display
    }

    fn completion(&self) -> Option<&str> {
        (self.complete > 0).then(|| &self.display[..self.complete])
    }
}

/// Completion, hints and validation for the line editor.
#[derive(rustyline::Helper)]
pub(crate) struct ReplHelper {
    /// Names in scope, sorted (refreshed after every input).
    pub(crate) names: Vec<String>,
    color: bool,
    files: FilenameCompleter,
    history: HistoryHinter,
}

impl ReplHelper {
    pub(crate) fn new(names: Vec<String>, color: bool) -> ReplHelper {
        ReplHelper {
            names,
            color,
            files: FilenameCompleter::new(),
            history: HistoryHinter::new(),
        }
    }

    /// Every word completion may offer outside commands.
    fn words(&self) -> Vec<String> {
        let mut words: Vec<String> = KEYWORDS.iter().map(|s| s.to_string()).collect();
        words.extend(self.names.iter().cloned());
        words.extend(
            tyche_dist::DistKind::ALL
                .iter()
                .map(|k| k.name().to_string()),
        );
        words.extend(
            [
                "Enumerate",
                "Rejection",
                "Importance",
                "Smc",
                "Mh",
                "Hmc",
                "Nuts",
            ]
            .map(String::from),
        );
        words.sort();
        words.dedup();
        words
    }
}

/// Candidates from `words` that extend `prefix`.
fn matching(words: impl IntoIterator<Item = String>, prefix: &str) -> Vec<Pair> {
    words
        .into_iter()
        .filter(|w| w.starts_with(prefix) && w != prefix)
        .map(|w| Pair {
            display: w.clone(),
            replacement: w,
        })
        .collect()
}

/// Completions for `line` with the cursor at `pos`: where the replaced
/// word starts and its candidates.
pub(crate) fn complete(helper: &ReplHelper, line: &str, pos: usize) -> (usize, Vec<Pair>) {
    let before = &line[..pos];
    let start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    if before.starts_with(':') {
        let Some(space) = before.find(' ') else {
            // The command word itself.
            return (
                0,
                matching(COMMANDS.iter().map(|(c, _, _)| c.to_string()), before),
            );
        };
        let command = &before[..space];
        let word_start = before.rfind(' ').map_or(0, |i| i + 1);
        let word = &before[word_start..];
        return match command {
            ":infer" if word.starts_with('-') => (word_start, matching(infer_options(), word)),
            ":infer" if before[..word_start].trim_end().ends_with("--method") => {
                let methods = [
                    "enumerate",
                    "rejection",
                    "importance",
                    "smc",
                    "mh",
                    "pmmh",
                    "hmc",
                    "nuts",
                ];
                (word_start, matching(methods.map(String::from), word))
            }
            ":emit" => (
                word_start,
                matching(["ir", "types", "clif"].map(String::from), word),
            ),
            ":type" | ":infer" | ":do" | ":observe" | ":plot" | ":graph" => {
                (start, matching(helper.words(), &before[start..]))
            }
            _ => (0, Vec::new()),
        };
    }
    let word = &before[start..];
    if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
        return (pos, Vec::new());
    }
    (start, matching(helper.words(), word))
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        if line.starts_with(":load ") || line.starts_with(":data ") {
            return self.files.complete(line, pos, ctx);
        }
        Ok(complete(self, line, pos))
    }
}

/// The synopsis hint of a command being typed.
pub(crate) fn command_hint(line: &str) -> Option<ReplHint> {
    let typed = line.trim_end();
    let word = typed.split_whitespace().next()?;
    if !word.starts_with(':') {
        return None;
    }
    if typed.len() == word.len() && !line.ends_with(' ') {
        // Still typing the command: complete it when unambiguous.
        let mut found = COMMANDS.iter().filter(|(c, _, _)| c.starts_with(word));
        let (cmd, args, _) = found.next()?;
        if found.next().is_some() {
            return None;
        }
        let rest = &cmd[word.len()..];
        return Some(ReplHint {
            display: format!("{rest}{args}"),
            complete: rest.len(),
        });
    }
    if typed == word {
        // `:cmd ` with nothing after it: show the arguments.
        let (_, args, _) = COMMANDS.iter().find(|(c, _, _)| *c == word)?;
        let args = args.trim_start();
        return (!args.is_empty()).then(|| ReplHint {
            display: args.to_string(),
            complete: 0,
        });
    }
    None
}

impl Hinter for ReplHelper {
    type Hint = ReplHint;

    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<ReplHint> {
        if pos < line.len() || line.contains('\n') {
            return None;
        }
        if line.starts_with(':') {
            return command_hint(line);
        }
        let h = self.history.hint(line, pos, ctx)?;
        let complete = h.len();
        Some(ReplHint {
            display: h,
            complete,
        })
    }
}

impl Highlighter for ReplHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if reader::is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

/// Runs the interactive loop until Ctrl-D or `:quit`.
pub(crate) fn interactive(session: &mut Session, io: &mut Io) -> u8 {
    let config = Config::builder()
        .history_ignore_space(true)
        .history_ignore_dups(true)
        .map(|b| {
            b.completion_type(CompletionType::List)
                .auto_add_history(false)
                .build()
        });
    let editor = config.and_then(Editor::<ReplHelper, DefaultHistory>::with_config);
    let mut rl = match editor {
        Ok(rl) => rl,
        Err(e) => {
            let _ = writeln!(io.err, "error: cannot start the line editor: {e}");
            return 1;
        }
    };
    rl.set_helper(Some(ReplHelper::new(session.names(), session.color)));
    let history = history_path();
    if let Some(path) = &history {
        let _ = rl.load_history(path);
    }
    // Ctrl-C while code runs: the handler raises the flag and the session
    // abandons the run. (At the prompt the terminal is in raw mode, so
    // Ctrl-C reaches the editor as a key instead.)
    let flag = Arc::new(AtomicBool::new(false));
    let raised = Arc::clone(&flag);
    if ctrlc::set_handler(move || raised.store(true, Ordering::SeqCst)).is_ok() {
        session.interrupt = Some(flag);
    }
    let _ = writeln!(
        io.out,
        "Tyche {} interactive modelling. :help lists commands; Ctrl-D quits.",
        env!("CARGO_PKG_VERSION")
    );
    let prompt: (&str, &str) = if session.color {
        ("tyche> ", "\x1b[1;32mtyche>\x1b[0m ")
    } else {
        ("tyche> ", "tyche> ")
    };
    loop {
        let _ = io.out.flush();
        match rl.readline(&prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = rl.add_history_entry(line.as_str());
                }
                if session.input(&line, io) == Control::Quit {
                    break;
                }
                if let Some(h) = rl.helper_mut() {
                    h.names = session.names();
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => {
                let _ = writeln!(io.out);
                break;
            }
            Err(e) => {
                let _ = writeln!(io.err, "error: {e}");
                break;
            }
        }
    }
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = rl.save_history(path);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> ReplHelper {
        ReplHelper::new(vec!["twice".into(), "map".into(), "model".into()], false)
    }

    fn candidates(line: &str) -> (usize, Vec<String>) {
        let (start, pairs) = complete(&helper(), line, line.len());
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn completes_names_keywords_constructors_and_commands() {
        assert_eq!(candidates("1 + twi"), (4, vec!["twice".to_string()]));
        assert_eq!(candidates("let x ~ Norm"), (8, vec!["Normal".to_string()]));
        assert!(candidates("fo").1.contains(&"for".to_string()));
        assert!(candidates("mo").1.contains(&"model".to_string()));
        assert!(candidates("Sm").1.contains(&"Smc".to_string()));
        assert_eq!(candidates(":inf"), (0, vec![":infer".to_string()]));
        assert_eq!(candidates(":infer --me"), (7, vec!["--method".to_string()]));
        assert_eq!(
            candidates(":infer --method sm"),
            (16, vec!["smc".to_string()])
        );
        assert_eq!(candidates(":emit i"), (6, vec!["ir".to_string()]));
        assert_eq!(candidates(":type tw"), (6, vec!["twice".to_string()]));
        assert!(candidates("12").1.is_empty());
    }

    #[test]
    fn hints_show_command_synopses() {
        let h = command_hint(":inf").expect("a hint");
        assert!(
            h.display().starts_with("er [--method M]"),
            "{}",
            h.display()
        );
        assert_eq!(h.completion(), Some("er"));
        let h = command_hint(":load ").expect("a hint");
        assert_eq!((h.display(), h.completion()), ("FILE", None));
        assert!(command_hint(":d").is_none(), "ambiguous: :do, :data");
        assert!(command_hint(":load x").is_none());
    }
}
