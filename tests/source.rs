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
