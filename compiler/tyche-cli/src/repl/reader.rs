//! Where one REPL input ends: the continuation rule shared by the line
//! editor (its validator) and piped standard input.
//!
//! A line starting with `:` is a command and always complete. Code is
//! complete unless the parser says it stopped inside an open construct
//! (an unclosed brace, parenthesis or bracket, an unterminated string or
//! comment, a trailing operator: [`tyche_syntax::is_incomplete`]); then
//! the next line continues it.

use tyche_core::FileId;

/// Whether `buf` (one or more lines) is a whole input.
pub(crate) fn is_complete(buf: &str) -> bool {
    let t = buf.trim_start();
    if t.is_empty() || t.starts_with(':') {
        return true;
    }
    let (_, _, diags) = tyche_syntax::parse_repl(FileId(0), buf, 0);
    !tyche_syntax::is_incomplete(&diags)
}

/// Collects lines into inputs.
#[derive(Default)]
pub(crate) struct Reader {
    buf: String,
}

impl Reader {
    /// Adds one line (without its newline); returns an input once one is
    /// complete. Blank lines between inputs are skipped.
    pub(crate) fn line(&mut self, line: &str) -> Option<String> {
        if self.buf.is_empty() && line.trim().is_empty() {
            return None;
        }
        if !self.buf.is_empty() {
            self.buf.push('\n');
        }
        self.buf.push_str(line);
        if is_complete(&self.buf) {
            Some(std::mem::take(&mut self.buf))
        } else {
            None
        }
    }

    /// What is left at the end of the input (an unfinished one, which the
    /// session then reports).
    pub(crate) fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.buf);
        (!rest.trim().is_empty()).then_some(rest)
    }
}

/// Splits a whole script into inputs.
pub(crate) fn split(script: &str) -> Vec<String> {
    let mut reader = Reader::default();
    let mut inputs: Vec<String> = script.lines().filter_map(|l| reader.line(l)).collect();
    inputs.extend(reader.finish());
    inputs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_constructs_continue() {
        assert!(is_complete("1 + 2"));
        assert!(is_complete(":load a file with spaces {"));
        assert!(!is_complete("fn f(x) {"));
        assert!(!is_complete("fn f(x) {\n  x +"));
        assert!(is_complete("fn f(x) {\n  x + 1\n}"));
        assert!(!is_complete("[1, 2,"));
        assert!(!is_complete("\"open string"));
        assert!(!is_complete("/* open comment"));
        // A plain error is complete: it is reported, not continued.
        assert!(is_complete("1 + * 2"));
        assert!(is_complete("}"));
    }

    #[test]
    fn scripts_split_into_inputs() {
        let inputs = split("\nfn f(x) {\n  x\n}\n\n:type f\n1 +\n2\nlet y = (1,\n");
        assert_eq!(
            inputs,
            vec!["fn f(x) {\n  x\n}", ":type f", "1 +\n2", "let y = (1,"]
        );
    }
}
