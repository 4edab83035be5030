//! systemd unit files and drop-ins, and the environment files they name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use node_doctor::systemd;

fuzz_target!(|data: &[u8]| {
    let _ = systemd::parse_unit_file(data, "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf");
    let text = String::from_utf8_lossy(data);
    let _ = systemd::split_unit_words(&text);
    let _ = systemd::parse_environment_file(&text);
});
