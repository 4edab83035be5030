//! Which container runtime the kubelet uses: its CRI endpoint setting, else the CRI socket
//! present on the node.

use crate::host::{FileKind, Host};
use crate::kube::kubelet_config::{DEFAULT_CONFIG_PATH, KubeletConfiguration};
use crate::kube::kubelet_flags::KubeletFlags;

use super::Runtime;

/// CRI sockets by runtime. Docker's own docker.sock is not a CRI socket: a kubelet reaches
/// Docker only through dockershim (before Kubernetes 1.24) or cri-dockerd.
const CRI_SOCKETS: [(&str, Runtime); 9] = [
    ("/run/containerd/containerd.sock", Runtime::Containerd),
    ("/var/run/containerd/containerd.sock", Runtime::Containerd),
    ("/run/k3s/containerd/containerd.sock", Runtime::Containerd),
    ("/run/crio/crio.sock", Runtime::CriO),
    ("/var/run/crio/crio.sock", Runtime::CriO),
    ("/run/cri-dockerd.sock", Runtime::Docker),
    ("/var/run/cri-dockerd.sock", Runtime::Docker),
    ("/var/run/dockershim.sock", Runtime::Docker),
    ("/run/dockershim.sock", Runtime::Docker),
];

/// The runtime the kubelet uses, with the setting or file that shows it.
#[derive(Clone, Debug, Default)]
pub struct KubeletRuntime {
    pub runtime: Option<Runtime>,
    /// The CRI endpoint or socket path, when known.
    pub endpoint: Option<String>,
    /// Where the answer came from: a flag's file, the kubelet config, or the socket found.
    pub source: String,
    pub field: String,
    /// Why no runtime could be picked, when `runtime` is `None`.
    pub unknown_reason: Option<String>,
}

impl KubeletRuntime {
    /// Returns whether the endpoint is k3s's embedded containerd.
    pub fn is_k3s(&self) -> bool {
        self.endpoint
            .as_deref()
            .is_some_and(|e| e.contains("/k3s/"))
    }
}

pub fn detect_kubelet_runtime(host: &dyn Host) -> KubeletRuntime {
    let flags = KubeletFlags::read(host);
    if let Some(flag) = flags
        .get("container-runtime-endpoint")
        .filter(|flag| !flag.value.is_empty())
    {
        return from_endpoint(&flag.value, &flag.source, "--container-runtime-endpoint");
    }

    let config_path = flags
        .value("config")
        .unwrap_or(DEFAULT_CONFIG_PATH)
        .to_string();
    if let Ok(config) = KubeletConfiguration::read(host, &config_path)
        && let Some(endpoint) = config.container_runtime_endpoint.filter(|e| !e.is_empty())
    {
        return from_endpoint(&endpoint, &config_path, "containerRuntimeEndpoint");
    }

    if let Some(flag) = flags.get("container-runtime")
        && flag.value == "docker"
    {
        return KubeletRuntime {
            runtime: Some(Runtime::Docker),
            endpoint: None,
            source: flag.source.clone(),
            field: "--container-runtime".to_string(),
            unknown_reason: None,
        };
    }
    from_sockets(host)
}

fn from_endpoint(endpoint: &str, source: &str, field: &str) -> KubeletRuntime {
    let runtime = runtime_of_endpoint(endpoint);
    KubeletRuntime {
        runtime,
        endpoint: Some(endpoint.to_string()),
        source: source.to_string(),
        field: field.to_string(),
        unknown_reason: runtime
            .is_none()
            .then(|| format!("the CRI endpoint {endpoint} names no known runtime")),
    }
}

/// Maps a CRI endpoint such as `unix:///run/containerd/containerd.sock` to its runtime.
pub fn runtime_of_endpoint(endpoint: &str) -> Option<Runtime> {
    let lower = endpoint.to_ascii_lowercase();
    if lower.contains("cri-dockerd") || lower.contains("dockershim") {
        Some(Runtime::Docker)
    } else if lower.contains("crio") || lower.contains("cri-o") {
        Some(Runtime::CriO)
    } else if lower.contains("containerd") {
        Some(Runtime::Containerd)
    } else {
        None
    }
}

fn from_sockets(host: &dyn Host) -> KubeletRuntime {
    let found: Vec<(&str, Runtime)> = CRI_SOCKETS
        .iter()
        .copied()
        .filter(|(path, _)| {
            host.stat(path)
                .is_ok_and(|meta| meta.kind == FileKind::Socket)
        })
        .collect();
    let mut runtimes: Vec<Runtime> = found.iter().map(|(_, runtime)| *runtime).collect();
    runtimes.sort();
    runtimes.dedup();

    match runtimes.as_slice() {
        [runtime] => KubeletRuntime {
            runtime: Some(*runtime),
            endpoint: Some(format!("unix://{}", found[0].0)),
            source: found[0].0.to_string(),
            field: "socket".to_string(),
            unknown_reason: None,
        },
        [] => KubeletRuntime {
            unknown_reason: Some(
                "the kubelet sets no CRI endpoint and no CRI socket exists".to_string(),
            ),
            ..KubeletRuntime::default()
        },
        several => KubeletRuntime {
            unknown_reason: Some(format!(
                "the kubelet sets no CRI endpoint and sockets of several runtimes exist ({})",
                several
                    .iter()
                    .map(|r| r.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            ..KubeletRuntime::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_map_to_runtimes() {
        assert_eq!(
            runtime_of_endpoint("unix:///run/containerd/containerd.sock"),
            Some(Runtime::Containerd)
        );
        assert_eq!(
            runtime_of_endpoint("unix:///var/run/crio/crio.sock"),
            Some(Runtime::CriO)
        );
        assert_eq!(
            runtime_of_endpoint("unix:///run/cri-dockerd.sock"),
            Some(Runtime::Docker)
        );
        assert_eq!(runtime_of_endpoint("unix:///run/other.sock"), None);
    }
}
