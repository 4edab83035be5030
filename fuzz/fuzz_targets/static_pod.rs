//! Static pod manifests under /etc/kubernetes/manifests.
#![no_main]

use libfuzzer_sys::fuzz_target;
use node_doctor::kube::static_pod::StaticPod;

fuzz_target!(|text: &str| {
    let _ = StaticPod::parse(
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        "kube-apiserver",
        text,
    );
});
