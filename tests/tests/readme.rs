//! README.md and docs/*.md keep their word: every command shown after
//! `$ ` in a `sh` block is run (in-process, from the workspace root) and must print the
//! lines shown under it, numbers included; a line `…` ends the comparison
//! for that command (the rest of the output is elided in the README).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// The `$ tyche …` commands of the README's `sh` blocks with the output
/// lines shown under each.
fn shown_commands(readme: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_sh = false;
    let mut current: Option<usize> = None;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = !in_sh && line.trim() == "```sh";
            current = None;
            continue;
        }
        if !in_sh {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.push((cmd.to_string(), Vec::new()));
            current = Some(out.len() - 1);
        } else if let Some(i) = current {
            out[i].1.push(line.to_string());
        }
    }
    out
}

#[test]
fn readme_commands_print_what_the_readme_shows() {
    let root = root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut commands = shown_commands(&readme);
    assert!(commands.len() >= 3, "found {commands:?}");
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    for doc in docs {
        commands.extend(shown_commands(&std::fs::read_to_string(doc).unwrap()));
    }
    std::env::set_current_dir(&root).unwrap();
    for (cmd, shown) in commands {
        let argv: Vec<&str> = cmd.split_whitespace().collect();
        assert_eq!(argv[0], "tyche", "{cmd}");
        let r = tyche_cli::run_command(&argv[1..]);
        assert_eq!(r.status, 0, "`{cmd}` failed:\n{}", r.stderr);
        let printed: Vec<&str> = r.stdout.lines().collect();
        for (i, want) in shown.iter().enumerate() {
            if want.trim() == "…" {
                break;
            }
            assert_eq!(
                printed.get(i).copied(),
                Some(want.as_str()),
                "`{cmd}`, line {}: the README shows {want:?}\nthe command printed:\n{}",
                i + 1,
                r.stdout
            );
        }
    }
}
