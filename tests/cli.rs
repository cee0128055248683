//! The `regionwalk` binary end to end: JSON contract, exit codes, and clear errors on bad input.

mod common;

use common::Scratch;

use std::path::Path;
use std::process::{Command, Output};

const EXAMPLE: &str = "fixtures/examples/mlp_2x16x16.json";

fn regionwalk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regionwalk"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// The first ERAN MNIST test image, pixels scaled to [0, 1], as the CLI's coordinates.
fn first_mnist_image() -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/datasets/eran_mnist_test_first100.csv"),
    )
    .unwrap();
    let row = text.lines().next().unwrap();
    row.split(',').skip(1).map(|v| (v.trim().parse::<f64>().unwrap() / 255.0).to_string()).collect()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, contents: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn count_json_reports_the_library_count_and_its_fields() {
    let out = regionwalk(&["count", EXAMPLE, "--center=0.1,-0.2", "--radius", "0.5", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    let net = regionwalk::model::io::load_network(&Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE)).unwrap();
    let ball = regionwalk::domain::Domain::ball(&[0.1, -0.2], 0.5, regionwalk::domain::Norm::L2).unwrap();
    let expected = regionwalk::exact::count(&net, &ball, &Default::default()).unwrap().count();
    assert_eq!(v["regions"], expected);
    assert_eq!(v["complete"], true);
    assert_eq!(v["norm"], "l2");
    assert_eq!(v["radius"], 0.5);
    for field in ["lp_solves", "qp_solves", "seconds", "touching", "screened", "unverified"] {
        assert!(v[field].is_number(), "field {field} missing");
    }
}

#[test]
fn a_small_frontier_memory_spills_without_changing_the_count() {
    let args = ["count", EXAMPLE, "--center=0.1,-0.2", "--radius", "2", "--engine", "walk", "--json"];
    let whole: serde_json::Value = serde_json::from_str(&stdout(&regionwalk(&args))).unwrap();
    let out = regionwalk(&[&args[..], &["--frontier-memory", "2K"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let spilled: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(whole["spilled_regions"], 0);
    assert!(spilled["spilled_regions"].as_u64().unwrap() > 0, "{spilled}");
    assert_eq!((&spilled["regions"], &spilled["complete"]), (&whole["regions"], &whole["complete"]));
    let refused = regionwalk(&[&args[..], &["--frontier-memory", "0"]].concat());
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("must be positive"));
}

#[test]
fn text_output_names_the_count_and_the_domain() {
    let out = regionwalk(&["count", EXAMPLE, "--center=0.1,-0.2", "--radius", "0.5", "--norm", "linf"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("activation regions meet the L-inf ball of radius 0.5 (exact)"), "{}", stdout(&out));
}

#[test]
fn box_input_box_and_whole_domains_agree_where_they_coincide() {
    let json = |args: &[&str]| -> serde_json::Value {
        let out = regionwalk(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    // The example's input box is [-1, 1]^2.
    let a = json(&["count", EXAMPLE, "--box=-1,1", "--json"]);
    let b = json(&["count", EXAMPLE, "--box=-1,1", "--box=-1,1", "--json"]);
    let c = json(&["count", EXAMPLE, "--input-box", "--json"]);
    let d = json(&["count", EXAMPLE, "--center=0,0", "--radius", "1", "--norm", "linf", "--json"]);
    assert_eq!(a["regions"], b["regions"]);
    assert_eq!(a["regions"], c["regions"]);
    assert_eq!(a["regions"], d["regions"]);
    let whole = json(&["count", EXAMPLE, "--whole", "--json"]);
    assert!(whole["regions"].as_u64() >= a["regions"].as_u64());
    let clipped = json(&["count", EXAMPLE, "--center=0.9,0.9", "--radius", "0.5", "--clip-to-input-box", "--json"]);
    let ball = json(&["count", EXAMPLE, "--center=0.9,0.9", "--radius", "0.5", "--json"]);
    assert!(clipped["regions"].as_u64() <= ball["regions"].as_u64());
}

#[test]
fn a_budget_stops_with_exit_code_2_and_a_lower_bound() {
    let out = regionwalk(&["count", EXAMPLE, "--whole", "--max-regions", "3", "--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["complete"], false);
    assert_eq!(v["stopped_by"], "max_regions");
    assert!(v["regions"].as_u64().unwrap() >= 3);
    let text = regionwalk(&["count", EXAMPLE, "--whole", "--max-regions", "3"]);
    assert_eq!(text.status.code(), Some(2));
    assert!(stdout(&text).contains("certified lower bound"));
}

#[test]
fn centres_can_come_from_files() {
    let dir = Scratch::new("centres");
    let json = write(&dir, "c.json", b"[0.1, -0.2]");
    let csv = write(&dir, "c.csv", b"0.1,-0.2\n");
    let reference = stdout(&regionwalk(&["count", EXAMPLE, "--center=0.1,-0.2", "--radius", "0.5"]));
    for c in [json, csv] {
        let out = regionwalk(&["count", EXAMPLE, "--center", &c, "--radius", "0.5"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(stdout(&out).lines().next(), reference.lines().next());
    }
}

/// Runs `args` and checks: exit code 1, an `error:` line naming `needle`, and no panic.
fn assert_input_error(args: &[&str], needle: &str) {
    let out = regionwalk(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail with exit code 1; stderr: {err}");
    assert!(err.contains(needle), "{args:?}: expected '{needle}' in: {err}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
}

#[test]
fn bad_input_gets_a_clear_error_and_exit_code_1() {
    let dir = Scratch::new("bad");
    let good = r#"{"layers": [{"weight": [[1, 0], [0, 1]], "bias": [0, 0]}, {"weight": [[1, 1]], "bias": [0]}]}"#;
    let ok = write(&dir, "ok.json", good.as_bytes());
    let truncated = write(&dir, "truncated.json", &good.as_bytes()[..40]);
    let empty = write(&dir, "empty.json", b"");
    let random = write(&dir, "random.json", &[0xff, 0x00, 0x13, 0x37, 0xfe, 0x80]);
    let ragged = write(&dir, "ragged.json", br#"{"layers": [{"weight": [[1, 0], [1]], "bias": [0, 0]}]}"#);
    let mismatch = write(
        &dir,
        "mismatch.json",
        br#"{"layers": [{"weight": [[1, 0]], "bias": [0]}, {"weight": [[1, 1]], "bias": [0]}]}"#,
    );
    let bias = write(&dir, "bias.json", br#"{"layers": [{"weight": [[1, 0]], "bias": [0, 1]}]}"#);
    let nan = write(&dir, "nan.json", br#"{"layers": [{"weight": [[NaN, 0]], "bias": [0]}]}"#);
    let huge = write(&dir, "huge.json", br#"{"layers": [{"weight": [[1e999, 0]], "bias": [0]}]}"#);
    let no_layers = write(&dir, "none.json", br#"{"layers": []}"#);
    let onnx = write(&dir, "model.onnx", b"not really");
    let h5 = write(&dir, "model.h5", b"HDF");
    let ball = ["--center=0,0", "--radius", "1"];
    fn with<'a>(model: &'a str, ball: &[&'a str]) -> Vec<&'a str> {
        [&["count", model][..], ball].concat()
    }
    assert_input_error(&with("does-not-exist.json", &ball), "does-not-exist.json: cannot read");
    assert_input_error(&with(&truncated, &ball), "line 1 column");
    assert_input_error(&with(&empty, &ball), "EOF while parsing");
    assert_input_error(&with(&random, &ball), "not UTF-8");
    assert_input_error(&with(&ragged, &ball), "ragged: row 1 has 1 entries");
    assert_input_error(&with(&mismatch, &ball), "layer 1 expects 2 inputs but layer 0 has 1 outputs");
    assert_input_error(&with(&bias, &ball), "bias has 2 entries");
    assert_input_error(&with(&nan, &ball), "invalid model JSON");
    assert_input_error(&with(&huge, &ball), "invalid model JSON");
    assert_input_error(&with(&no_layers, &ball), "at least one layer");
    assert_input_error(&with(&onnx, &ball), "not a valid ONNX protobuf");
    assert_input_error(&with(&h5, &ball), "unsupported model format '.h5'");
    assert_input_error(
        &["count", &ok, "--center=0,0,0", "--radius", "1"],
        "3 coordinates but the network has 2 inputs",
    );
    assert_input_error(&["count", &ok, "--center=0,nan", "--radius", "1"], "coordinate 1 is NaN");
    assert_input_error(&["count", &ok, "--center=0,x", "--radius", "1"], "entry 1 ('x') is not a number");
    assert_input_error(&["count", &ok, "--center=0,0", "--radius", "0"], "radius must be a positive");
    assert_input_error(&["count", &ok, "--center=0,0", "--radius=-1"], "radius must be a positive");
    assert_input_error(&["count", &ok, "--center=0,0", "--radius", "inf"], "radius must be a positive");
    assert_input_error(&["count", &ok, "--center=0,0"], "choose a domain");
    assert_input_error(&["count", &ok, "--box=1,0"], "box coordinate 0");
    assert_input_error(&["count", &ok, "--box=0,1", "--box=0,1", "--box=0,1"], "give it once");
    assert_input_error(&["count", &ok, "--input-box"], "declares no input box");
    assert_input_error(&["count", &ok, "--whole", "--center=0,0"], "cannot be used with");
    assert_input_error(&["count", &ok, "--whole", "--time-limit=-1"], "the time limit must be a positive");
    assert_input_error(&["count", &ok, "--whole", "--max-regions", "0"], "the region budget must be at least 1");
    assert_input_error(&["frobnicate"], "unrecognized subcommand");
}

#[test]
fn bound_json_has_exact_integer_strings_and_a_bracket() {
    let out = regionwalk(&["bound", EXAMPLE, "--center=0.1,-0.2", "--radius", "0.5", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let bounds = v["bounds"].as_array().unwrap();
    let names: Vec<&str> = bounds.iter().map(|b| b["method"].as_str().unwrap()).collect();
    assert_eq!(names, ["global", "paper", "product", "local-serra", "hybrid", "partition", "walk"]);
    for b in bounds {
        let digits = b["value"].as_str().unwrap();
        assert!(digits.chars().all(|c| c.is_ascii_digit()), "{digits}");
        assert!(b["log10"].is_number() && b["per_layer"].is_array());
    }
    let best: u128 = v["best"]["value"].as_str().unwrap().parse().unwrap();
    let lower = v["lower"]["value"].as_u64().unwrap() as u128;
    assert!(1 <= lower && lower <= best);
    let only = regionwalk(&["bound", EXAMPLE, "--center=0.1,-0.2", "--radius", "0.5", "--method", "paper", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&only)).unwrap();
    assert_eq!(v["bounds"].as_array().unwrap().len(), 1);
}

#[test]
fn validate_reports_ratios_at_least_one() {
    let out = regionwalk(&["validate", EXAMPLE, "--center=0.1,-0.2", "--radius", "0.5", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let exact = v["regions"].as_u64().unwrap();
    assert!(exact > 1);
    for (method, ratio) in v["ratios"].as_object().unwrap() {
        assert!(ratio.as_f64().unwrap() >= 1.0, "{method}: {ratio}");
    }
    let text = regionwalk(&["validate", EXAMPLE, "--center=0.1,-0.2", "--radius", "0.5"]);
    assert!(stdout(&text).contains("bound/exact") && stdout(&text).contains("bracket:"), "{}", stdout(&text));
}

#[test]
fn bound_rejects_bad_input() {
    assert_input_error(&["bound", EXAMPLE, "--center=0,0", "--radius", "0"], "radius must be a positive");
    assert_input_error(&["bound", EXAMPLE, "--center=0,nan", "--radius", "1"], "coordinate 1 is NaN");
    assert_input_error(
        &["bound", EXAMPLE, "--center=0", "--radius", "1"],
        "1 coordinates but the network has 2 inputs",
    );
    assert_input_error(
        &["bound", EXAMPLE, "--center=0,0", "--radius", "1", "--method", "magic"],
        "unknown method 'magic'",
    );
    assert_input_error(&["validate", EXAMPLE, "--center=0,0", "--radius=-2"], "radius must be a positive");
    for (flag, value, needle) in
        [("--probes", "0", "at least one probe"), ("--strata", "0", "stratum"), ("--width", "0", "width")]
    {
        assert_input_error(&["estimate", EXAMPLE, "--center=0,0", "--radius", "1", flag, value], needle);
    }
}

#[test]
fn graph_command_writes_dot_graphml_and_json() {
    let dir = Scratch::new("graph");
    for (format, marker) in [("dot", "graph {"), ("graphml", "<graphml"), ("json", "\"nodes\"")] {
        let out_file = dir.join(format!("g.{format}"));
        let out = regionwalk(&[
            "graph",
            EXAMPLE,
            "--center=0.1,-0.2",
            "--radius",
            "0.5",
            "--format",
            format,
            "--out",
            out_file.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = std::fs::read_to_string(&out_file).unwrap();
        assert!(text.contains(marker), "{format}");
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("g.json")).unwrap()).unwrap();
    let count = regionwalk(&["count", EXAMPLE, "--center=0.1,-0.2", "--radius", "0.5", "--linear", "--json"]);
    let c: serde_json::Value = serde_json::from_str(&stdout(&count)).unwrap();
    assert_eq!(v["nodes"].as_array().unwrap().len() as u64, c["regions"].as_u64().unwrap());
    assert!(c["linear_regions"].as_u64().unwrap() <= c["regions"].as_u64().unwrap());
}

/// `graph --format jsonl` writes the JSON format's nodes and edges one per line (streamed), and
/// refuses a checkpoint, which could not hold the adjacencies already written.
#[test]
fn graph_streams_json_lines() {
    let dir = Scratch::new("graph-jsonl");
    let ball = ["--center=0.1,-0.2", "--radius", "0.9"];
    let write = |format: &str, extra: &[&str]| {
        let file = dir.join(format!("g.{format}"));
        let mut args = vec!["graph", EXAMPLE];
        args.extend(ball);
        args.extend(["--format", format, "--out", file.to_str().unwrap()]);
        args.extend(extra);
        (regionwalk(&args), file)
    };
    let (out, json_file) = write("json", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (out, jsonl_file) = write("jsonl", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let whole: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json_file).unwrap()).unwrap();
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(jsonl_file).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let nodes = whole["nodes"].as_array().unwrap();
    assert!(nodes.len() > 50, "{}", nodes.len());
    assert_eq!(&lines[..nodes.len()], &nodes[..]);
    assert_eq!(&lines[nodes.len()..], &whole["edges"].as_array().unwrap()[..]);
    assert!(stdout(&out).contains(&format!("{} regions and", nodes.len())), "{}", stdout(&out));
    let checkpoint = dir.join("walk.ck");
    let (out, _) = write("jsonl", &["--checkpoint", checkpoint.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot be checkpointed or resumed"), "{}", stderr(&out));
}

#[test]
fn plot_writes_a_picture_and_rejects_bad_planes() {
    let dir = Scratch::new("plot");
    let png = dir.join("slice.png");
    let out = regionwalk(&["plot", EXAMPLE, "--center=0.1,-0.2", "--radius", "0.5", "--out", png.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("29 regions in the slice (29 in the ball)"), "{}", stdout(&out));
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    let bad = dir.join("x.png");
    assert_input_error(
        &["plot", EXAMPLE, "--center=0,0", "--radius", "1", "--plane", "axes:0,5", "--out", bad.to_str().unwrap()],
        "need two different axes below 2",
    );
    assert_input_error(
        &["plot", EXAMPLE, "--center=0,0", "--radius", "1", "--plane", "points", "--out", bad.to_str().unwrap()],
        "two --through points",
    );
    assert_input_error(
        &["plot", EXAMPLE, "--center=0,0", "--radius", "1", "--out", dir.join("x.bmp").to_str().unwrap()],
        "must end in .png or .svg",
    );
}

/// `bench` reports, for each quick case and thread count, the count the library's walk gives on
/// the same network and domain, with per-region figures that add up; bad options are refused.
#[test]
fn bench_reports_the_walk_count_per_case_and_thread_count() {
    use regionwalk::bench::{problem, QUICK};
    use regionwalk::exact::{count, WalkOptions};
    let o = regionwalk(&["bench", "--json", "--thread-counts", "1,2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let records: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 2 * QUICK.len());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (case, pair) in QUICK.iter().zip(records.chunks(2)) {
        let (net, domain) = problem(case, root).unwrap();
        let exact = count(&net, &domain, &WalkOptions::default()).unwrap();
        for r in pair {
            assert_eq!(r["name"], case.name);
            assert_eq!(r["regions"].as_u64().unwrap() as usize, exact.count(), "{}", case.name);
            assert_eq!(r["complete"], true);
            let lps = r["lps_per_region"].as_f64().unwrap() * exact.count() as f64;
            assert!((lps - exact.counters.lp_solves as f64).abs() < 0.5, "{}: LP tally", case.name);
        }
        assert_eq!(pair[0]["threads"], 1);
        assert_eq!(pair[1]["threads"], 2);
    }
    let bad = regionwalk(&["bench", "--thread-counts", "0"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("at least 1"), "{}", stderr(&bad));
    let none = regionwalk(&["bench", "--only", "no such case"]);
    assert_eq!(none.status.code(), Some(1));
}

#[test]
fn every_flag_is_checked_before_the_model_is_read() {
    // The model file does not exist: the flag's own error must come first.
    let missing = "no-such-model.onnx";
    assert_input_error(&["count", missing, "--center=0,0", "--radius", "0"], "radius must be a positive");
    assert_input_error(&["count", missing, "--center=0,nan", "--radius", "1"], "coordinate 1 is NaN");
    assert_input_error(&["count", missing, "--center=0,0", "--radius", "1", "--time-limit=-1"], "--time-limit");
    assert_input_error(&["count", missing, "--center=0,0", "--radius", "1", "--max-regions", "0"], "--max-regions");
    assert_input_error(&["count", missing, "--box=0,x"], "'x' is not a number");
    assert_input_error(&["count", missing, "--whole", "--resume", "no-such.ckpt"], "no-such.ckpt: cannot read");
    assert_input_error(&["bound", missing, "--center=0,0", "--radius=-1"], "radius must be a positive");
    assert_input_error(
        &["graph", missing, "--center=0,0", "--radius", "0", "--format", "dot", "--out", "g.dot"],
        "radius must be",
    );
    assert_input_error(
        &["plot", missing, "--center=0,0", "--radius", "1", "--plane", "sideways", "--out", "p.png"],
        "expected axes:I,J",
    );
    assert_input_error(&["plot", missing, "--center=0,0", "--radius", "0", "--out", "p.png"], "radius must be");
    let dir = Scratch::new("early");
    let points = dir.join("p.csv");
    std::fs::write(&points, "0,0\n").unwrap();
    let p = points.to_str().unwrap();
    assert_input_error(&["audit", missing, "--points", p, "--radius", "0", "--out", "a.jsonl"], "every radius");
    assert_input_error(
        &["audit", missing, "--points", "no-points.csv", "--radius", "1", "--out", "a.jsonl"],
        "no-points",
    );
    // With every flag valid, the missing model is what is reported.
    assert_input_error(&["count", missing, "--center=0,0", "--radius", "1"], "no-such-model.onnx");
}

#[test]
fn internal_errors_have_their_own_exit_code() {
    let out = Command::new(env!("CARGO_BIN_EXE_regionwalk"))
        .args(["count", EXAMPLE, "--center=0,0", "--radius", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("REGIONWALK_PANIC_FOR_TEST", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("error: internal error") && stderr(&out).contains("please report"));
}

#[test]
fn bound_keeps_to_its_time_budget_on_mnist() {
    // The first ERAN test image, scaled to [0, 1]: the first layer alone takes seconds of LPs there.
    let pixels = first_mnist_image();
    let dir = Scratch::new("budget");
    let image = dir.join("x.csv");
    std::fs::write(&image, pixels.join(",")).unwrap();
    let center = format!("--center={}", image.display());
    let model = "fixtures/mnist_fc/onnx/mnist-net_256x2.onnx";
    let out = regionwalk(&["bound", model, &center, "--radius", "0.05", "--budget", "0.3", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped = v["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["method"] == "hybrid" && s["reason"].as_str().unwrap().contains("time budget of 0.3 s")),
        "{skipped:?}"
    );
    let ran: Vec<&str> = v["bounds"].as_array().unwrap().iter().map(|b| b["method"].as_str().unwrap()).collect();
    assert_eq!(ran[..4], ["global", "paper", "product", "local-serra"], "the cheap methods always run");
    // The walk either finished in its share (then its count is the best bound and the bracket
    // closes) or is reported as skipped: which one depends on the machine's load.
    match v["exact"].as_u64() {
        Some(exact) => {
            assert!(ran.contains(&"walk"), "{v}");
            assert_eq!(v["best"]["value"], exact.to_string());
            assert_eq!(v["lower"]["value"], exact);
        }
        None => assert!(skipped.iter().any(|s| s["method"] == "walk"), "{skipped:?}"),
    }
    assert_input_error(&["bound", model, &center, "--radius", "0.05", "--budget", "0"], "positive number of seconds");
    // The same budget holds per record in audits: hybrid overruns it and is left out of `best`.
    let dir = Scratch::new("budget-audit");
    let out = dir.join("audit.jsonl");
    let points = dir.join("points.csv");
    std::fs::write(&points, pixels.join(",")).unwrap();
    let audit = regionwalk(&[
        "audit",
        model,
        "--points",
        points.to_str().unwrap(),
        "--radius",
        "0.05",
        "--bounds-only",
        "--method",
        "hybrid",
        "--method",
        "product",
        "--budget",
        "0.3",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(audit.status.code(), Some(0), "{}", stderr(&audit));
    let row: serde_json::Value = serde_json::from_str(std::fs::read_to_string(&out).unwrap().trim()).unwrap();
    assert_eq!(row["best"], "32", "{row}");
    // Without a budget on a small network, hybrid runs (and the walk, which needs a budget, not).
    let out = regionwalk(&["bound", EXAMPLE, "--center=0.1,-0.2", "--radius", "0.5", "--budget", "inf", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["bounds"].as_array().unwrap().iter().any(|b| b["method"] == "hybrid"), "{v}");
    assert!(v["skipped"].as_array().unwrap().iter().any(|s| s["method"] == "walk"), "{v}");
    // With a generous budget the walk finishes on it: its count is the best bound and the lower one.
    let out = regionwalk(&["bound", EXAMPLE, "--center=0.1,-0.2", "--radius", "0.5", "--budget", "60", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let exact = v["exact"].as_u64().expect("the walk finished");
    let walk = v["bounds"].as_array().unwrap().iter().find(|b| b["method"] == "walk").expect("a walk bound");
    assert_eq!(walk["value"], exact.to_string());
    assert_eq!((v["best"]["value"].clone(), v["lower"]["value"].clone()), (exact.to_string().into(), exact.into()));
}

#[test]
fn graph_plot_audit_and_eval_run_on_the_mnist_cnn() {
    // The VNN-COMP MNIST CNN (23,328 ReLUs, its convolution stored sparse) through every command
    // that reads a network, at the first test image: the nearest boundary is 1.97e-4 away, so a
    // ball of 1.9e-4 holds 2 regions and one of 1e-4 a single one.
    const CNN: &str = "fixtures/cnn/Convnet_avgpool.onnx";
    let image = first_mnist_image();
    let centre = format!("--center={}", image.join(","));
    let dir = Scratch::new("cnn");
    let graph = dir.join("g.json");
    let out = regionwalk(&[
        "graph",
        CNN,
        &centre,
        "--radius",
        "1.9e-4",
        "--format",
        "json",
        "--out",
        graph.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let g: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&graph).unwrap()).unwrap();
    assert_eq!((g["nodes"].as_array().unwrap().len(), g["edges"].as_array().unwrap().len()), (2, 1));
    let png = dir.join("slice.png");
    let out = regionwalk(&["plot", CNN, &centre, "--radius", "1.9e-4", "--out", png.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("(2 in the ball)"), "{}", stdout(&out));
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    let report = dir.join("audit.jsonl");
    let points = "fixtures/datasets/eran_mnist_test_first100.csv";
    let out = regionwalk(&[
        "audit",
        CNN,
        "--points",
        points,
        "--label-column",
        "first",
        "--radius",
        "1e-4,1.9e-4",
        "--shard",
        "1/50",
        "-q",
        "--out",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let records: Vec<serde_json::Value> =
        std::fs::read_to_string(&report).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 4, "points 0 and 50, two radii each");
    for r in &records {
        let regions = r["regions"].as_u64().unwrap();
        assert!(r["complete"].as_bool().unwrap());
        assert!(r["best"].as_str().unwrap().parse::<u64>().unwrap() >= regions, "{r}");
        assert_eq!(regions > 1, r["boundary_distance"].as_f64().unwrap() < r["radius"].as_f64().unwrap(), "{r}");
    }
    let out = regionwalk(&["eval", CNN, &format!("--point={}", image.join(",")), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let e: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(e["layers"], serde_json::json!([[23_328, 784], [10, 23_328]]));
    assert_eq!(e["output"].as_array().unwrap().len(), 10);
}

/// Text output says when no estimate finished beside an open bracket, and stays silent when none
/// was asked for: a budget of a nanosecond is used up by the analysis alone.
#[test]
fn an_estimate_that_does_not_fit_the_budget_is_reported_missing() {
    let args = ["bound", EXAMPLE, "--center=0.1,-0.2", "--radius", "2", "--budget", "1e-9"];
    let out = regionwalk(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("statistical estimate: none within the time budget"), "{}", stdout(&out));
    let quiet = regionwalk(&[&args[..], &["--no-estimate"]].concat());
    assert!(quiet.status.success() && !stdout(&quiet).contains("statistical estimate"), "{}", stdout(&quiet));
    // With time, the estimate is there.
    let timed = regionwalk(&[
        "bound",
        "fixtures/examples/mlp_2x16x16.json",
        "--center=0.1,-0.2",
        "--radius",
        "2",
        "--method",
        "product",
    ]);
    assert!(stdout(&timed).contains("statistical estimate (not certified"), "{}", stdout(&timed));
}
