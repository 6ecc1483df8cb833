//! `docs/reference.md` is what `tyche_cli::reference::markdown()` renders
//! from the distribution registry, the builtin table and the CLI
//! definition: a distribution, built-in or option added without
//! regenerating the file fails here. `UPDATE_EXPECT=1 cargo test -p
//! tyche-tests --test reference` regenerates it.

use std::path::PathBuf;

#[test]
fn reference_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/reference.md");
    let want = tyche_cli::reference::markdown();
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &want).expect("write docs/reference.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/reference.md is out of date (UPDATE_EXPECT=1 cargo test -p tyche-tests --test reference regenerates it)"
    );
}

/// Every distribution and built-in appears in it.
#[test]
fn reference_lists_every_distribution_and_builtin() {
    let md = tyche_cli::reference::markdown();
    for kind in tyche_dist::DistKind::ALL {
        assert!(md.contains(&format!("### {}", kind.name())), "{kind}");
    }
    for n in tyche_types::builtin_names() {
        assert!(md.contains(&format!("`{n}")), "{n}");
    }
}
