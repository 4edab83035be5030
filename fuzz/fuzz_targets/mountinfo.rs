//! /proc/1/mountinfo.
#![no_main]

use libfuzzer_sys::fuzz_target;
use node_doctor::kernel::mountinfo::MountInfo;

fuzz_target!(|text: &str| {
    let info = MountInfo::parse(text);
    if let Some(root) = info.root() {
        let _ = root.propagation();
        let _ = root.optional_text();
    }
});
