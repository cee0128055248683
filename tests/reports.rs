//! The reports' documentation is generated from their types: `docs/reports.schema.json` must be
//! what `regionwalk::report::schemas()` says today (`REGIONWALK_BLESS=1 cargo test --release --test
//! reports` rewrites it after a deliberate change), and the CLI's JSON must follow it.

use std::path::Path;
use std::process::Command;

const SCHEMA: &str = "docs/reports.schema.json";

fn generated() -> String {
    serde_json::to_string_pretty(&regionwalk::report::schemas()).unwrap() + "\n"
}

#[test]
fn the_documented_schema_is_the_generated_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA);
    if std::env::var_os("REGIONWALK_BLESS").is_some() {
        std::fs::write(&path, generated()).unwrap();
    }
    let documented = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        documented == generated(),
        "{SCHEMA} differs from the report types: rerun with REGIONWALK_BLESS=1 and commit the file"
    );
}

/// The properties of report `name` in the schema, and which of them are required.
fn properties(name: &str) -> (Vec<String>, Vec<String>) {
    let schemas = serde_json::to_value(regionwalk::report::schemas()).unwrap();
    let schema = &schemas[name];
    let keys = schema["properties"].as_object().unwrap().keys().cloned().collect();
    let required =
        schema["required"].as_array().map_or(vec![], |r| r.iter().map(|k| k.as_str().unwrap().to_string()).collect());
    (keys, required)
}

fn cli(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_regionwalk")).args(args).arg("--json").output().unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 2), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn cli_reports_have_exactly_the_documented_fields() {
    let model = "fixtures/small/marabou/fc_2-2-3.nnet";
    let ball = ["--center=0.1,-0.2", "--radius", "0.5"];
    // (report, arguments, whether they ask for every optional field: validate cannot certify, the
    // dataflow walk cannot count linear regions)
    let cases: [(&str, Vec<&str>, bool); 5] = [
        ("CountReport", [&["count", model][..], &ball, &["--linear", "--certify"]].concat(), true),
        ("BoundsReport", [&["bound", model][..], &ball].concat(), true),
        ("ValidateReport", [&["validate", model][..], &ball, &["--linear"]].concat(), false),
        ("DataflowCountReport", [&["count", model][..], &ball, &["--workers", "2", "--certify"]].concat(), false),
        ("EstimateReport", [&["estimate", model][..], &ball, &["--probes", "50"]].concat(), true),
    ];
    for (name, args, every_option) in cases {
        let report = cli(&args);
        let mut keys: Vec<String> = report.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        let (mut documented, required) = properties(name);
        documented.sort();
        if every_option {
            assert_eq!(keys, documented, "{name}: the CLI's fields and the schema's");
        }
        let undocumented: Vec<_> = keys.iter().filter(|k| !documented.contains(k)).collect();
        assert!(undocumented.is_empty(), "{name}: undocumented fields {undocumented:?}");
        let missing: Vec<_> = required.iter().filter(|k| !keys.contains(k)).collect();
        assert!(missing.is_empty(), "{name}: required fields missing {missing:?}");
        // The units of a .nnet model are named in every report.
        assert_eq!(report["units"], "normalised", "{name}");
    }
}
