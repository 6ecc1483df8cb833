use tyche_core::{render_all, SourceMap};
#[test]
fn scratch() {
    let all = std::fs::read_to_string("/tmp/scratch.ppl").unwrap();
    for (i, src) in all.split("=====\n").enumerate() {
        let mut map = SourceMap::new();
        let f = map.add("test.ppl", src.to_string());
        let (p, pd) = tyche_syntax::parse_program(f, src, 0);
        println!("@@@@ {i}");
        if !pd.is_empty() {
            println!("PARSE: {}", render_all(&pd, &map, false));
        }
        let (_info, d) = tyche_types::check_program(&p);
        println!("{}", render_all(&d, &map, false));
    }
}
