//! `tyche repl`: interactive modelling (LANGUAGE.md §10).
//!
//! Definitions accumulate (a new definition of a name replaces the old
//! one), expressions are type checked and run, and `:` commands load
//! files, bind data, run inference with model surgery and show the IR.
//! `docs/repl.md` is the user's guide.
//!
//! The same loop runs in three ways:
//! - on a terminal, with a line editor ([`editor`]): prompts, colours,
//!   completion, hints, history, multi-line input, Ctrl-C handling;
//! - with piped standard input (`tyche repl < session.txt`): no prompt,
//!   no colour, the same continuation rule ([`reader`]); the exit status
//!   is 1 when any input failed, so scripted sessions can be checked;
//! - in-process over a string ([`run_script`], [`transcript`]), for tests.
//!
//! Modules: `session` (state, compiling, definitions, expressions),
//! `commands` (the `:` commands), `deps` (names code reads), `eval` (forward runs, constants,
//! cancellable jobs), `show` (printing values and posteriors), `reader`
//! (where an input ends), `editor` (rustyline), `trim` (memory back to the
//! system after a cancelled job).

mod commands;
mod deps;
mod editor;
mod eval;
mod reader;
mod session;
mod show;
mod trim;

pub use session::Session;

use crate::cli::ReplArgs;
use crate::Io;
use session::Control;
use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::rc::Rc;

/// `tyche repl`: interactive on a terminal, else reads standard input.
pub fn main(args: ReplArgs, io: &mut Io) -> u8 {
    let interactive = std::io::stdin().is_terminal();
    let mut session = Session::new(None, interactive && io.color, None);
    start(&args, &mut session, io);
    if interactive {
        editor::interactive(&mut session, io)
    } else {
        piped(&mut session, io, std::io::stdin().lock())
    }
}

/// Applies the command-line options: the seed, then a file to load and a
/// data file to bind (as `:load` and `:data`; a failure is reported and
/// the session starts anyway).
fn start(args: &ReplArgs, session: &mut Session, io: &mut Io) {
    session.seed = args.seed;
    if let Some(file) = &args.file {
        session.input(&format!(":load {}", file.display()), io);
    }
    if let Some(data) = &args.data {
        session.input(&format!(":data {}", data.display()), io);
    }
}

/// Reads inputs from lines of `input` until it ends or `:quit`.
fn piped(session: &mut Session, io: &mut Io, mut input: impl BufRead) -> u8 {
    let mut reader = reader::Reader::default();
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        match input.read_until(b'\n', &mut bytes) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&bytes);
        let line = line.trim_end_matches(['\n', '\r']);
        if let Some(text) = reader.line(line) {
            if session.input(&text, io) == Control::Quit {
                return status(session);
            }
        }
    }
    if let Some(rest) = reader.finish() {
        session.input(&rest, io);
    }
    status(session)
}

fn status(session: &Session) -> u8 {
    if session.errors > 0 {
        crate::DIAGNOSED
    } else {
        0
    }
}

/// Options of an in-process scripted session.
#[derive(Clone, Debug, Default)]
pub struct ScriptOptions {
    /// Echo each input before its output (`> ` first line, `. ` for
    /// continuation lines), as a transcript.
    pub echo: bool,
    /// Resolve relative `:load` / `:data` paths against this directory
    /// (default: the current directory).
    pub base_dir: Option<PathBuf>,
}

/// Runs `input` as `tyche repl < input` would, returning what it prints
/// (standard output and error interleaved, no colour).
pub fn run_script(input: &str) -> String {
    run_script_with(input, &ScriptOptions::default())
}

/// [`run_script`] with inputs echoed: a readable transcript.
pub fn transcript(input: &str, base_dir: Option<PathBuf>) -> String {
    run_script_with(
        input,
        &ScriptOptions {
            echo: true,
            base_dir,
        },
    )
}

/// Runs a scripted session with options, on a thread with a large stack
/// (as the binary does).
pub fn run_script_with(input: &str, opts: &ScriptOptions) -> String {
    let input = input.to_string();
    let opts = opts.clone();
    let work = move || {
        let buf = SharedBuf::default();
        let (mut out, mut err) = (buf.clone(), buf.clone());
        let mut io = Io {
            out: &mut out,
            err: &mut err,
            color: false,
        };
        let mut session = Session::new(opts.base_dir.clone(), false, None);
        for text in reader::split(&input) {
            if opts.echo {
                for (i, line) in text.lines().enumerate() {
                    let _ = writeln!(io.out, "{}{line}", if i == 0 { "> " } else { ". " });
                }
            }
            if session.input(&text, &mut io) == Control::Quit {
                break;
            }
        }
        buf.text()
    };
    match std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(work)
        .map(|h| h.join())
    {
        Ok(Ok(text)) => text,
        _ => "internal error (panic)\n".to_string(),
    }
}

impl Session {
    /// Feeds a script (one or more inputs, split as piped input is) to
    /// the session and returns what it printed, without colour.
    pub fn feed(&mut self, script: &str) -> String {
        let buf = SharedBuf::default();
        let (mut out, mut err) = (buf.clone(), buf.clone());
        let mut io = Io {
            out: &mut out,
            err: &mut err,
            color: false,
        };
        for text in reader::split(script) {
            if self.input(&text, &mut io) == Control::Quit {
                break;
            }
        }
        buf.text()
    }
}

/// A byte buffer that standard output and error share, so their lines
/// stay in order.
#[derive(Clone, Default)]
struct SharedBuf(Rc<RefCell<Vec<u8>>>);

impl SharedBuf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
