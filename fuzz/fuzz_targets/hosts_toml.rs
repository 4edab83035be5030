//! containerd's certs.d hosts.toml.
#![no_main]

use libfuzzer_sys::fuzz_target;
use node_doctor::runtime::hosts_toml::HostsFile;

fuzz_target!(|text: &str| {
    let _ = HostsFile::parse("/etc/containerd/certs.d/registry.example/hosts.toml", text);
});
