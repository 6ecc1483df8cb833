//! Diagnostics as data, and the one place that renders them.

use crate::source::{FileId, SourceMap, Span};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::{self, termcolor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

/// A label under a source excerpt. The primary label marks where the
/// problem is; secondary ones give context.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
    pub primary: bool,
}

/// A problem found in a program or its data, with enough structure to
/// render it like rustc does.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A short stable code (`E0301`), shown in brackets.
    pub code: Option<String>,
    pub message: String,
    pub labels: Vec<Label>,
    /// `= note: …` and `= help: …` lines.
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code: None,
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A warning: rendered like an error, but the command still succeeds.
    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    pub fn with_code(mut self, code: &str) -> Self {
        self.code = Some(code.to_string());
        self
    }

    /// Adds the primary label (where the problem is).
    pub fn with_primary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: true,
        });
        self
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
        });
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(format!("note: {}", note.into()));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.notes.push(format!("help: {}", help.into()));
        self
    }

    /// The span of the primary label, if any.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).map(|l| l.span)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Lines longer than this many bytes are shown as an excerpt around the
/// labels on them: a one-line data file of millions of elements must not
/// be echoed whole.
pub const MAX_EXCERPT_LINE: usize = 200;
/// Characters shown before the first label point of a cut line.
const EXCERPT_BEFORE: usize = 40;
/// Characters an excerpt of a cut line shows in all.
const EXCERPT_WIDTH: usize = 120;

/// What codespan reads: the [`SourceMap`]'s files, except that a file with
/// a labelled line longer than [`MAX_EXCERPT_LINE`] is replaced by a copy
/// whose long lines are cut to an excerpt (`…` on the cut sides). Lines
/// keep their indices, so line numbers are unchanged; columns are mapped
/// back to the real text.
struct View<'a> {
    map: &'a SourceMap,
    cut: Vec<(FileId, CutFile)>,
}

/// A file with its long lines cut.
struct CutFile {
    text: String,
    line_starts: Vec<usize>,
    /// Per cut line: (line index, real byte offset of the excerpt's start,
    /// real byte offset of its end, bytes of the `…` prefix).
    windows: Vec<(usize, usize, usize, usize)>,
}

const ELLIPSIS: &str = "…";

impl<'a> View<'a> {
    fn new(d: &Diagnostic, map: &'a SourceMap) -> View<'a> {
        let mut cut = Vec::new();
        let mut files: Vec<FileId> = d.labels.iter().map(|l| l.span.file).collect();
        files.sort_unstable();
        files.dedup();
        for id in files {
            let Some(f) = map.get(id) else { continue };
            let starts = f.line_starts();
            let line_of = |pos: usize| starts.partition_point(|&s| s <= pos).saturating_sub(1);
            let line_len = |i: usize| {
                let end = starts.get(i + 1).copied().unwrap_or(f.text.len());
                end - starts[i]
            };
            // Label points (starts and ends) per line, primary starts first.
            let mut points: Vec<(usize, usize)> = Vec::new();
            for l in d.labels.iter().filter(|l| l.span.file == id) {
                let len = f.text.len();
                let s = (l.span.start as usize).min(len);
                let e = (l.span.end as usize).clamp(s, len);
                points.push((line_of(s), s));
                points.push((line_of(e), e));
            }
            if !points.iter().any(|&(i, _)| line_len(i) > MAX_EXCERPT_LINE) {
                continue;
            }
            cut.push((id, CutFile::new(&f.text, starts, &points)));
        }
        View { map, cut }
    }

    fn cut_file(&self, id: FileId) -> Option<&CutFile> {
        self.cut.iter().find(|(i, _)| *i == id).map(|(_, c)| c)
    }

    /// A real byte offset as an offset into what codespan reads.
    fn position(&self, id: FileId, pos: usize) -> usize {
        let Some(c) = self.cut_file(id) else {
            return pos;
        };
        let real_starts = self.map.get(id).map(|f| f.line_starts()).unwrap_or(&[0]);
        let line = real_starts.partition_point(|&s| s <= pos).saturating_sub(1);
        let vstart = c.line_starts.get(line).copied().unwrap_or(c.text.len());
        match c.windows.iter().find(|w| w.0 == line) {
            Some(&(_, lo, hi, prefix)) => vstart + prefix + pos.clamp(lo, hi) - lo,
            None => vstart + (pos - real_starts[line]),
        }
    }
}

impl CutFile {
    fn new(text: &str, starts: &[usize], points: &[(usize, usize)]) -> CutFile {
        let mut out = String::new();
        let mut line_starts = Vec::with_capacity(starts.len());
        let mut windows = Vec::new();
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(text.len());
            line_starts.push(out.len());
            let line = &text[start..end];
            let body = line.trim_end_matches(['\n', '\r']);
            if body.len() <= MAX_EXCERPT_LINE {
                out.push_str(line);
                continue;
            }
            // Anchor at the first label point on the line (its start when
            // the line has none: a line between a label's ends).
            let anchor = points
                .iter()
                .filter(|p| p.0 == i)
                .map(|p| p.1 - start)
                .min()
                .unwrap_or(0)
                .min(body.len());
            let before = body[..anchor].char_indices().rev().nth(EXCERPT_BEFORE - 1);
            let lo = before.map_or(0, |(b, _)| b);
            let hi = body[lo..]
                .char_indices()
                .nth(EXCERPT_WIDTH)
                .map_or(body.len(), |(b, _)| lo + b);
            let prefix = if lo > 0 { ELLIPSIS } else { "" };
            out.push_str(prefix);
            out.push_str(&body[lo..hi]);
            if hi < body.len() {
                out.push_str(ELLIPSIS);
            }
            out.push_str(&line[body.len()..]);
            windows.push((i, start + lo, start + hi, prefix.len()));
        }
        CutFile {
            text: out,
            line_starts,
            windows,
        }
    }
}

impl<'a> Files<'a> for View<'a> {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        self.map
            .get(id)
            .map(|f| f.name.as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        if let Some(c) = self.cut_file(id) {
            return Ok(&c.text);
        }
        self.map
            .get(id)
            .map(|f| f.text.as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        let starts = match self.cut_file(id) {
            Some(c) => &c.line_starts[..],
            None => self
                .map
                .get(id)
                .ok_or(FilesError::FileMissing)?
                .line_starts(),
        };
        Ok(starts
            .partition_point(|&s| s <= byte_index)
            .saturating_sub(1))
    }

    fn line_range(
        &'a self,
        id: FileId,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, FilesError> {
        let (starts, len) = match self.cut_file(id) {
            Some(c) => (&c.line_starts[..], c.text.len()),
            None => {
                let f = self.map.get(id).ok_or(FilesError::FileMissing)?;
                (f.line_starts(), f.text.len())
            }
        };
        let start = *starts.get(line_index).ok_or(FilesError::LineTooLarge {
            given: line_index,
            max: starts.len() - 1,
        })?;
        let end = starts.get(line_index + 1).copied().unwrap_or(len);
        Ok(start..end)
    }

    /// The column in the real line, also for a cut one.
    fn column_number(
        &'a self,
        id: FileId,
        line_index: usize,
        byte_index: usize,
    ) -> Result<usize, FilesError> {
        let range = self.line_range(id, line_index)?;
        let Some(c) = self.cut_file(id) else {
            let text = self.source(id)?;
            return Ok(codespan_reporting::files::column_index(text, range, byte_index) + 1);
        };
        let f = self.map.get(id).ok_or(FilesError::FileMissing)?;
        let real_start = f.line_starts()[line_index];
        let offset = byte_index.saturating_sub(range.start);
        let real = match c.windows.iter().find(|w| w.0 == line_index) {
            Some(&(_, lo, hi, prefix)) => (lo + offset.saturating_sub(prefix)).min(hi),
            None => real_start + offset,
        };
        let real = real.min(f.text.len());
        Ok(f.text
            .get(real_start..real)
            .map_or(0, |s| s.chars().count())
            + 1)
    }
}

fn to_codespan(d: &Diagnostic, view: &View) -> cs::Diagnostic<FileId> {
    let map = view.map;
    let severity = match d.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
        Severity::Note => cs::Severity::Note,
    };
    let mut out = cs::Diagnostic::new(severity).with_message(&d.message);
    if let Some(code) = &d.code {
        out = out.with_code(code);
    }
    let labels = d
        .labels
        .iter()
        .filter(|l| map.get(l.span.file).is_some())
        .map(|l| {
            // Clamp to the text so a stale span can never make rendering fail.
            let len = map.text(l.span.file).len();
            let start = (l.span.start as usize).min(len);
            let end = (l.span.end as usize).clamp(start, len);
            let style = if l.primary {
                cs::LabelStyle::Primary
            } else {
                cs::LabelStyle::Secondary
            };
            let (start, end) = (
                view.position(l.span.file, start),
                view.position(l.span.file, end),
            );
            cs::Label::new(style, l.span.file, start..end).with_message(&l.message)
        })
        .collect();
    out.with_labels(labels).with_notes(d.notes.clone())
}

/// Renders one diagnostic as rustc-style text (no colour when `color` is
/// false, which is what tests and pipes get). Lines longer than
/// [`MAX_EXCERPT_LINE`] bytes are cut around the labels.
pub fn render(d: &Diagnostic, map: &SourceMap, color: bool) -> String {
    let mut buf = if color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    };
    let config = term::Config::default();
    let view = View::new(d, map);
    if term::emit_to_write_style(&mut buf, &config, &view, &to_codespan(d, &view)).is_err() {
        // Rendering only fails on inconsistent spans; fall back to plain text.
        return format!("error: {}\n", d.message);
    }
    String::from_utf8_lossy(buf.as_slice()).into_owned()
}

/// Renders several diagnostics, separated as rustc does.
pub fn render_all(ds: &[Diagnostic], map: &SourceMap, color: bool) -> String {
    ds.iter()
        .map(|d| render(d, map, color))
        .collect::<Vec<_>>()
        .join("")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14 item 16: a label on a line of millions of characters
    /// echoed the whole line; it is cut around the label, and the column
    /// is still the real one.
    #[test]
    fn long_lines_are_cut_around_the_label() {
        let mut text = String::from("{\"xs\": [");
        for i in 0..100_000 {
            text.push_str(if i == 60_000 { "true, " } else { "1.5, " });
        }
        text.push_str("2]}\nnext line\n");
        let at = text.find("true").unwrap();
        let mut map = SourceMap::new();
        let id = map.add("data.json", text.clone());
        let d = Diagnostic::error("expected a Real")
            .with_primary(Span::new(id, at, at + 4), "this element");
        let out = render(&d, &map, false);
        assert!(out.len() < 1_000, "{} bytes:\n{out}", out.len());
        let col = text[..at].chars().count() + 1;
        assert!(out.contains(&format!("data.json:1:{col}")), "{out}");
        assert!(
            out.contains("│ …1.5, 1.5,") && out.contains("1.5, true, 1.5"),
            "{out}"
        );
        assert!(out.contains("^^^^ this element"), "{out}");
        // The carets sit under `true`.
        let lines: Vec<&str> = out.lines().collect();
        let src = lines.iter().position(|l| l.contains("true, 1.5")).unwrap();
        let caret = lines[src + 1].chars().position(|c| c == '^').unwrap();
        let under: String = lines[src].chars().skip(caret).take(4).collect();
        assert_eq!(under, "true", "{out}");
    }

    /// Labels past the excerpt on a cut line and multi-line spans still
    /// render (clamped), and short files are unchanged.
    #[test]
    fn spans_beyond_the_excerpt_and_short_lines() {
        let long = "x".repeat(5_000);
        let text = format!("{long}\nshort\n{long}\n");
        let mut map = SourceMap::new();
        let id = map.add("f", text.clone());
        let d = Diagnostic::error("whole")
            .with_primary(Span::new(id, 10, text.len() - 3), "all of it")
            .with_secondary(Span::new(id, 4_900, 4_950), "far");
        let out = render(&d, &map, false);
        assert!(out.len() < 2_000, "{out}");
        assert!(out.contains("f:1:11"), "{out}");
        let mut map = SourceMap::new();
        let id = map.add("g", "let x = 1;\n");
        let d = Diagnostic::error("e").with_primary(Span::new(id, 4, 5), "here");
        assert!(render(&d, &map, false).contains("1 │ let x = 1;"));
    }
}
