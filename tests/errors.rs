//! Errors are typed by layer (model I/O, domain, settings, solver, checkpoint, cluster, output),
//! keep the error that caused them as their source, and still name the file or value at fault.

mod common;

use common::Scratch;
use regionwalk::cluster::{walk_dataflow, Cluster};
use regionwalk::domain::{Domain, Norm};
use regionwalk::error::{CheckpointError, ModelError};
use regionwalk::exact::{count, Checkpoint, Engine, WalkOptions};
use regionwalk::Error;
use std::error::Error as _;
use std::path::Path;

#[test]
fn errors_name_their_layer_and_keep_their_source() {
    let dir = Scratch::new("errors");
    // Model I/O: the file, and the I/O error behind it.
    let missing = dir.join("missing.onnx");
    let e = regionwalk::model::io::load_network(&missing).unwrap_err();
    assert!(matches!(e, Error::Model(ModelError::File { .. })), "{e:?}");
    assert!(e.to_string().contains("missing.onnx") && e.source().is_some_and(|s| s.is::<std::io::Error>()));
    // A malformed network and a point of the wrong dimension.
    assert!(matches!(
        regionwalk::model::Network::from_rows(&[(vec![vec![f64::NAN]], vec![0.0])]),
        Err(Error::Model(ModelError::Network(_)))
    ));
    let net = common::fixture_a();
    assert!(matches!(net.check_point(&[0.0], "the centre"), Err(Error::Model(ModelError::Point(_)))));
    // Domain, and settings that do not fit it.
    assert!(matches!(Domain::ball(&[0.0, 0.0], -1.0, Norm::L2), Err(Error::Domain(_))));
    let ball = Domain::ball(&[0.0, 0.0], 1.0, Norm::L2).unwrap();
    let partition = WalkOptions { engine: Engine::Partition, ..Default::default() };
    assert!(matches!(count(&net, &ball, &partition), Err(Error::Settings(_))));
    // Checkpoints: damaged (with the JSON error behind it when the header is what fails) and from
    // another version.
    let damaged = dir.join("damaged.ck");
    std::fs::write(&damaged, "hello").unwrap();
    let e = Checkpoint::load(&damaged).err().unwrap();
    assert!(matches!(e, Error::Checkpoint(CheckpointError::Damaged { .. })), "{e:?}");
    assert!(e.to_string().contains("damaged.ck"), "{e}");
    let mut bad_header = b"RWCHECKP".to_vec();
    bad_header.extend(regionwalk::exact::walk::checkpoint::CHECKPOINT_VERSION.to_le_bytes());
    bad_header.extend(2u64.to_le_bytes());
    bad_header.extend(b"{]");
    bad_header.extend(0u64.to_le_bytes());
    let sum = {
        use std::hash::Hasher;
        let mut h = siphasher::sip::SipHasher13::new_with_keys(0, 0);
        h.write(&bad_header);
        h.finish()
    };
    bad_header.extend(sum.to_le_bytes());
    std::fs::write(&damaged, &bad_header).unwrap();
    let e = Checkpoint::load(&damaged).err().unwrap();
    assert!(e.source().is_some_and(|s| s.is::<serde_json::Error>()) && e.to_string().contains("header"), "{e}");
    let future = dir.join("future.json");
    std::fs::write(&future, "{\"version\": 99}").unwrap();
    let e = Checkpoint::load(&future).err().unwrap();
    assert!(matches!(e, Error::Checkpoint(CheckpointError::Version { found: 99, .. })), "{e:?}");
    // Output: a report that cannot be created, with the I/O error behind it.
    let e = regionwalk::audit::ReportWriter::create(&dir.join("no/such/dir/report.jsonl")).err().unwrap();
    assert!(matches!(e, Error::Output { .. }) && e.source().is_some_and(|s| s.is::<std::io::Error>()), "{e:?}");
    assert!(e.to_string().contains("report.jsonl"));
    // Cluster: a cluster of no worker.
    let e = walk_dataflow(&net, &ball, &WalkOptions::default(), &Cluster::local(0), None, false).unwrap_err();
    assert!(matches!(e, Error::Cluster { .. }) && e.to_string().contains("--workers"), "{e}");
    // A checkpoint of another problem names what does not fit.
    let saved = dir.join("walk.json");
    let options = WalkOptions { max_regions: Some(1), checkpoint: Some(saved.clone()), ..Default::default() };
    count(&net, &ball, &options).unwrap();
    let other = Domain::ball(&[0.1, 0.0], 1.0, Norm::L2).unwrap();
    let e = regionwalk::exact::resume(&net, &other, &WalkOptions::default(), Checkpoint::load(&saved).unwrap());
    assert!(matches!(e, Err(Error::Checkpoint(CheckpointError::Mismatch(_)))), "{e:?}");
    assert!(Path::new(&saved).exists());
}
