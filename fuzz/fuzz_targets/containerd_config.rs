//! containerd's config.toml.
#![no_main]

use libfuzzer_sys::fuzz_target;
use node_doctor::runtime::containerd::ContainerdConfig;

fuzz_target!(|text: &str| {
    let _ = ContainerdConfig::parse(text, "/etc/containerd/config.toml");
});
