//! The kubelet's KubeletConfiguration file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use node_doctor::kube::kubelet_config::KubeletConfiguration;

fuzz_target!(|text: &str| {
    let _ = KubeletConfiguration::parse(text, "/var/lib/kubelet/config.yaml");
});
