//! cargo fuzz target: the vnnlib parser must return an error, never panic or hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = regionwalk::model::io::input_boxes_from_vnnlib(&String::from_utf8_lossy(data));
});
