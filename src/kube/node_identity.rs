//! The node's name, found the way the kubelet finds it.
//!
//! The kubelet uses `--hostname-override` when set, else the lowercased hostname. The user in
//! kubelet.conf (`system:node:NAME`) records the name the node joined with, so it comes before
//! the hostname: a hostname changed after join does not rename the Node object.

use crate::host::Host;

use super::kubeconfig::LoadedKubeconfig;
use super::kubelet_flags::KubeletFlags;

pub const NODE_USER_PREFIX: &str = "system:node:";

/// The node's name and where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeIdentity {
    pub name: String,
    pub source: String,
}

impl NodeIdentity {
    pub fn detect(host: &dyn Host, flags: &KubeletFlags, kubeconfig_path: &str) -> NodeIdentity {
        if let Some(flag) = flags
            .get("hostname-override")
            .filter(|f| !f.value.is_empty())
        {
            return NodeIdentity {
                name: flag.value.trim().to_lowercase(),
                source: format!("--hostname-override in {}", flag.source),
            };
        }

        if let Ok(kubeconfig) = LoadedKubeconfig::read(host, kubeconfig_path)
            && let Ok(current) = kubeconfig.current()
            && let Some(name) = current.user_name.strip_prefix(NODE_USER_PREFIX)
        {
            return NodeIdentity {
                name: name.to_string(),
                source: format!("user {} in {kubeconfig_path}", current.user_name),
            };
        }

        if let Some(name) = host.recorded_node_name() {
            return NodeIdentity {
                name,
                source: "snapshot.json".to_string(),
            };
        }

        for path in ["/etc/hostname", "/proc/sys/kernel/hostname"] {
            if let Ok(text) = host.read_text(path, 4096) {
                let name = text.trim().to_lowercase();
                if !name.is_empty() {
                    return NodeIdentity {
                        name,
                        source: path.to_string(),
                    };
                }
            }
        }

        let name = nix::unistd::gethostname()
            .map(|name| name.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        NodeIdentity {
            name,
            source: "gethostname(2)".to_string(),
        }
    }
}
