//! The kubelet settings this check needs: kubeconfig, bootstrap kubeconfig, certificate
//! directory and whether client certificate rotation is on.

use crate::host::Host;
use crate::kube::kubelet_config::{DEFAULT_CONFIG_PATH, KubeletConfiguration};
use crate::kube::kubelet_flags::KubeletFlags;
use crate::kube::{BOOTSTRAP_KUBECONFIG, DEFAULT_CERT_DIR, KUBELET_KUBECONFIG};

/// The file name of the kubelet certificate store's symlink to the newest client pair.
pub const CURRENT_PEM: &str = "kubelet-client-current.pem";

#[derive(Clone, Debug)]
pub struct Setup {
    pub kubeconfig: String,
    pub bootstrap_kubeconfig: String,
    pub cert_dir: String,
    /// The file or command line that set --cert-dir, or "default".
    pub cert_dir_source: String,
    pub rotation: Option<Rotation>,
}

/// Whether the kubelet rotates its client certificate, and the setting that decides it.
#[derive(Clone, Debug)]
pub struct Rotation {
    pub enabled: bool,
    pub source: String,
    pub field: String,
}

impl Setup {
    pub fn read(host: &dyn Host) -> Setup {
        let flags = KubeletFlags::read(host);
        let kubeconfig = flag_or(&flags, "kubeconfig", KUBELET_KUBECONFIG);
        let bootstrap_kubeconfig = flag_or(&flags, "bootstrap-kubeconfig", BOOTSTRAP_KUBECONFIG);
        let (cert_dir, cert_dir_source) =
            match flags.get("cert-dir").filter(|f| !f.value.is_empty()) {
                Some(flag) => (
                    flag.value.trim_end_matches('/').to_string(),
                    flag.source.clone(),
                ),
                None => (DEFAULT_CERT_DIR.to_string(), "default".to_string()),
            };
        let rotation = read_rotation(host, &flags);
        Setup {
            kubeconfig,
            bootstrap_kubeconfig,
            cert_dir,
            cert_dir_source,
            rotation,
        }
    }

    pub fn current_pem(&self) -> String {
        format!("{}/{CURRENT_PEM}", self.cert_dir)
    }
}

fn flag_or(flags: &KubeletFlags, name: &str, default: &str) -> String {
    flags
        .value(name)
        .filter(|value| !value.is_empty())
        .unwrap_or(default)
        .to_string()
}

/// Reads whether rotation is on. The deprecated --rotate-certificates flag overrides the config
/// file, and a config file without rotateCertificates means false, the kubelet's own default.
fn read_rotation(host: &dyn Host, flags: &KubeletFlags) -> Option<Rotation> {
    if let Some(enabled) = flags.bool_value("rotate-certificates") {
        let source = flags
            .get("rotate-certificates")
            .map(|f| f.source.clone())
            .unwrap_or_default();
        return Some(Rotation {
            enabled,
            source,
            field: "--rotate-certificates".to_string(),
        });
    }

    let path = flags
        .value("config")
        .unwrap_or(DEFAULT_CONFIG_PATH)
        .to_string();
    match KubeletConfiguration::read(host, &path) {
        Ok(config) => Some(Rotation {
            enabled: config.rotate_certificates.unwrap_or(false),
            source: path,
            field: "rotateCertificates".to_string(),
        }),
        Err(error) => {
            tracing::debug!(%error, "cannot tell whether client certificate rotation is on");
            None
        }
    }
}
