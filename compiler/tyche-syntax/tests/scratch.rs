use tyche_core::{render, FileId, SourceMap};
#[test]
fn scratch() {
    let srcs = std::fs::read_to_string("/tmp/scratch.txt").unwrap();
    for src in srcs.split("\n====\n") {
        let (p, d) = tyche_syntax::parse_program(FileId(0), src, 0);
        let mut map = SourceMap::new();
        map.add("t.ppl", src);
        println!("################ {src}\n items: {}", p.items.len());
        for x in &d {
            print!("{}", render(x, &map, false));
        }
    }
}
