//! cargo fuzz target: the nnet parser must return an error, never panic or hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = regionwalk::model::io::network_from_nnet_str(&text, false);
    let _ = regionwalk::model::io::network_from_nnet_str(&text, true);
});
