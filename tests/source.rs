//! Rules on the library's own source: every tolerance and limit is named once, in
//! `src/tolerance.rs`, with its unit and why (a bare `1e-…` literal elsewhere is a tolerance that
//! escaped it).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a line: what precedes a `//` comment (string contents are kept: a literal in a
/// message is still a literal).
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

/// Float literals written with a negative exponent (`1e-9`, `2.5E-12`) in `text`.
fn small_literals(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    for i in 1..bytes.len().saturating_sub(2) {
        let exponent = bytes[i] == b'e' || bytes[i] == b'E';
        if exponent && bytes[i - 1].is_ascii_digit() && bytes[i + 1] == b'-' && bytes[i + 2].is_ascii_digit() {
            let start = text[..i].rfind(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).map_or(0, |s| s + 1);
            let end = text[i + 2..].find(|c: char| !c.is_ascii_digit()).map_or(text.len(), |e| i + 2 + e);
            // An identifier that happens to end in digits before an `e-` is not a literal.
            let before = text[..start].chars().next_back();
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                found.push(text[start..end].to_string());
            }
        }
    }
    found
}

#[test]
fn small_literals_are_found() {
    assert_eq!(small_literals("x > 1.0 + 1e-9 && y < 2.5E-12"), ["1e-9", "2.5E-12"]);
    assert!(small_literals("let v1e = 3; a - b; 1e6").is_empty());
}

#[test]
fn tolerances_are_named_in_tolerance_rs_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("python/src"), &mut files);
    assert!(files.len() > 40, "only {} source files found", files.len());
    let mut bare = Vec::new();
    for file in files.iter().filter(|f| !f.ends_with("src/tolerance.rs")) {
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests (a module at the end of the file) may write the numbers they check.
        for (n, line) in text.lines().take_while(|l| !l.trim_start().starts_with("#[cfg(test)]")).enumerate() {
            for literal in small_literals(code(line)) {
                bare.push(format!("{}:{}: {literal}", file.strip_prefix(root).unwrap().display(), n + 1));
            }
        }
    }
    assert!(bare.is_empty(), "name these in src/tolerance.rs (unit and why):\n{}", bare.join("\n"));
}

/// The top-level module (folder) of a library source file, `None` for the crate root and the
/// command line (the binary's own modules, above everything).
fn room(file: &Path, src: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
    (!matches!(first.as_str(), "lib" | "main" | "cli")).then_some(first)
}

/// Names `prefix` is followed by in `text` (`crate::` → the modules it names).
fn referenced<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.match_indices(prefix)
        .filter(|(i, _)| !text[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':'))
        .map(|(i, _)| {
            let rest = &text[i + prefix.len()..];
            &rest[..rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len())]
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// A cycle in the graph `edges` (node → nodes it uses), if there is one.
fn cycle(edges: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            return Some(path[at..].iter().cloned().chain([node.to_string()]).collect());
        }
        if !done.insert(node.to_string()) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = std::collections::BTreeSet::new();
    edges.keys().find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let graph = |pairs: &[(&str, &str)]| {
        let mut g = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
        for (a, b) in pairs {
            g.entry(a.to_string()).or_default().insert(b.to_string());
        }
        g
    };
    assert!(cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])).is_none());
    assert_eq!(cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])).unwrap(), ["a", "b", "c", "a"]);
    assert_eq!(referenced("use crate::exact::walk; x::crate::no; crate::lp::dot", "crate::"), ["exact", "lp"]);
}

/// The library's folders, and the rooms of `exact`, import each other in one direction only: data
/// flows model → domain → analysis → lp → exact | bound → problem → report (docs/design.md).
#[test]
fn no_import_cycle_between_folders() {
    use std::collections::{BTreeMap, BTreeSet};
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let (mut folders, mut rooms) = (BTreeMap::<String, BTreeSet<String>>::new(), BTreeMap::new());
    for file in &files {
        let Some(from) = room(file, &src) else { continue };
        // Unit tests may reach anywhere.
        let text = std::fs::read_to_string(file).unwrap();
        let code: String = text.lines().take_while(|l| !l.trim_start().starts_with("#[cfg(test)]")).map(code).collect();
        let uses = folders.entry(from.clone()).or_default();
        uses.extend(referenced(&code, "crate::").into_iter().filter(|to| *to != from).map(str::to_string));
        // The rooms of `exact`: its direct files and folders (mod.rs, the entry, may use them all).
        let rel = file.strip_prefix(src.join("exact")).ok();
        if let Some(rel) = rel.filter(|r| !r.ends_with("mod.rs") || r.components().count() > 1) {
            let here =
                rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
            let mut used: Vec<&str> = referenced(&code, "crate::exact::");
            if rel.components().count() == 1 {
                used.extend(referenced(&code, "super::"));
            }
            let uses: &mut BTreeSet<String> = rooms.entry(here.clone()).or_default();
            uses.extend(used.into_iter().filter(|to| *to != here).map(str::to_string));
        }
    }
    assert!(folders.len() > 10 && rooms.len() >= 5, "{folders:?} {rooms:?}");
    assert_eq!(cycle(&folders), None, "an import cycle between folders of src/");
    assert_eq!(cycle(&rooms), None, "an import cycle between the rooms of src/exact/");
}
