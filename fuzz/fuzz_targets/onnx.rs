//! cargo fuzz target: the onnx parser must return an error, never panic or hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = regionwalk::model::io::network_from_onnx_bytes(data);
});
