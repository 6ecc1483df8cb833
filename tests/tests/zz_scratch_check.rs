//! Temporary: emulate `tyche check` via the driver for every corpus file.
use tyche_core::SourceMap;

#[test]
fn scratch_check() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var("SCRATCH_DIR").unwrap_or("corpus/invalid".into());
    let mut entries: Vec<_> = std::fs::read_dir(root.join(&dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ppl"))
        .collect();
    entries.sort();
    let mut out = String::new();
    for p in entries {
        let text = std::fs::read_to_string(&p).unwrap();
        let name = format!("tests/{}/{}", dir, p.file_name().unwrap().to_str().unwrap());
        let mut sources = SourceMap::new();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            tyche_driver::compile_source(&mut sources, &name, &text).map(|_| ())
        }));
        out.push_str(&format!("===== {name}\n"));
        match r {
            Err(_) => out.push_str("PANIC\n"),
            Ok(Ok(())) => out.push_str("ok\n"),
            Ok(Err(d)) => {
                out.push_str(&tyche_core::render_all(&d, &sources, false));
                let n = d.iter().filter(|d| d.is_error()).count();
                if n > 1 {
                    out.push_str(&format!("error: aborting due to {n} previous errors\n"));
                }
            }
        }
    }
    std::fs::write("/tmp/scratch/check.txt", out).unwrap();
}
