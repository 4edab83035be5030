//! The kubelet's configuration file (KubeletConfiguration), read for the fields checks use.

use serde::Deserialize;

use crate::host::{Host, HostError, MAX_CONFIG_BYTES};

pub const DEFAULT_CONFIG_PATH: &str = "/var/lib/kubelet/config.yaml";

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeletConfiguration {
    /// The kubelet's own default is false; kubeadm always writes true.
    #[serde(default)]
    pub rotate_certificates: Option<bool>,
    /// The CRI socket, such as unix:///run/containerd/containerd.sock. A config file field since
    /// Kubernetes 1.27; older kubelets take --container-runtime-endpoint only.
    #[serde(default)]
    pub container_runtime_endpoint: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum KubeletConfigError {
    #[error(transparent)]
    Read(#[from] HostError),
    #[error("{path}: not a valid KubeletConfiguration: {message}")]
    Invalid { path: String, message: String },
}

impl KubeletConfiguration {
    pub fn read(host: &dyn Host, path: &str) -> Result<KubeletConfiguration, KubeletConfigError> {
        let text = host.read_text(path, MAX_CONFIG_BYTES)?;
        serde_saphyr::from_str(&text).map_err(|error| KubeletConfigError::Invalid {
            path: path.to_string(),
            message: super::yaml_error_message(&error),
        })
    }
}
