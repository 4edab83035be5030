//! Kubeconfig parsing and the current context's credentials.
#![no_main]

use libfuzzer_sys::fuzz_target;
use node_doctor::kube::kubeconfig::LoadedKubeconfig;

fuzz_target!(|text: &str| {
    if let Ok(loaded) = LoadedKubeconfig::parse("/etc/kubernetes/kubelet.conf", text)
        && let Ok(current) = loaded.current()
    {
        let _ = loaded.client_certificate(current.user);
        let _ = loaded.client_key(current.user);
    }
});
