use tyche_core::{render_all, SourceMap};
#[test]
fn scratch() {
    let src = std::fs::read_to_string("/tmp/scratch.ppl").unwrap();
    let mut map = SourceMap::new();
    let f = map.add("test.ppl", src.clone());
    let (p, pd) = tyche_syntax::parse_program(f, &src, 0);
    println!("parse: {}", render_all(&pd, &map, false));
    let (info, d) = tyche_types::check_program(&p);
    println!("{}", render_all(&d, &map, false));
    let mut items: Vec<_> = info.items.iter().collect();
    items.sort_by_key(|x| x.0.clone());
    for (n, t) in items { println!("{n} : {}", tyche_types::display_type(t, &info.numeric_vars)); }
    let mut ch: Vec<_> = info.choice_types.iter().collect();
    ch.sort_by_key(|x| x.0.clone());
    for (n, t) in ch { println!("choice {n} : {t}"); }
}
