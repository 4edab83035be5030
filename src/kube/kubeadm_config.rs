//! The parts of kubeadm's configuration that decide what the control-plane certificates must
//! contain: the ClusterConfiguration (endpoint, networking, extra SANs, etcd mode) and the
//! node's own InitConfiguration or JoinConfiguration (advertise address, node name).
//!
//! The ClusterConfiguration comes from the kube-system/kubeadm-config ConfigMap when the host
//! can read it (a snapshot's api/kubeadm-config.json), else from a configuration file on the
//! node. Files may hold several YAML documents of different kinds, as `kubeadm init --config`
//! accepts. Field names follow kubeadm's v1beta2, v1beta3 and v1beta4 APIs, which agree on
//! every field read here.

use serde::Deserialize;

use crate::host::{Host, HostCommand, MAX_CONFIG_BYTES};

/// Files operators and installers commonly keep the kubeadm configuration in. kubeadm itself
/// does not store it on the node.
pub const CONFIG_FILES: [&str; 4] = [
    "/etc/kubernetes/kubeadm-config.yaml",
    "/etc/kubernetes/kubeadm.yaml",
    "/etc/kubernetes/kubeadm.conf",
    "/etc/kubernetes/kubeadmcfg.yaml",
];

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConfiguration {
    pub kubernetes_version: Option<String>,
    pub control_plane_endpoint: Option<String>,
    pub certificates_dir: Option<String>,
    #[serde(default)]
    pub networking: Networking,
    #[serde(default)]
    pub api_server: ApiServer,
    #[serde(default)]
    pub etcd: Etcd,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Networking {
    pub service_subnet: Option<String>,
    pub pod_subnet: Option<String>,
    pub dns_domain: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ApiServer {
    #[serde(default, rename = "certSANs")]
    pub cert_sans: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Etcd {
    pub local: Option<LocalEtcd>,
    pub external: Option<ExternalEtcd>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct LocalEtcd {
    #[serde(default, rename = "serverCertSANs")]
    pub server_cert_sans: Vec<String>,
    #[serde(default, rename = "peerCertSANs")]
    pub peer_cert_sans: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalEtcd {
    #[serde(default)]
    pub endpoints: Vec<String>,
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
}

/// The node-specific part: InitConfiguration or JoinConfiguration.
#[derive(Clone, Debug, Default)]
pub struct NodeConfiguration {
    pub advertise_address: Option<String>,
    pub node_name: Option<String>,
}

/// Every field of the document kinds read here, so one pass reads any of them.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AnyDocument {
    kind: Option<String>,
    kubernetes_version: Option<String>,
    control_plane_endpoint: Option<String>,
    certificates_dir: Option<String>,
    #[serde(default)]
    networking: Networking,
    #[serde(default)]
    api_server: ApiServer,
    #[serde(default)]
    etcd: Etcd,
    #[serde(rename = "localAPIEndpoint")]
    local_api_endpoint: Option<ApiEndpoint>,
    control_plane: Option<JoinControlPlane>,
    node_registration: Option<NodeRegistration>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ApiEndpoint {
    advertise_address: Option<String>,
}

#[derive(Deserialize, Default)]
struct JoinControlPlane {
    #[serde(rename = "localAPIEndpoint")]
    local_api_endpoint: Option<ApiEndpoint>,
}

#[derive(Deserialize, Default)]
struct NodeRegistration {
    name: Option<String>,
}

#[derive(Deserialize)]
struct ConfigMap {
    #[serde(default)]
    data: std::collections::BTreeMap<String, String>,
}

/// The configuration found, with the source of each part.
#[derive(Clone, Debug, Default)]
pub struct KubeadmConfig {
    pub cluster: Option<(String, ClusterConfiguration)>,
    pub node: Option<(String, NodeConfiguration)>,
}

impl KubeadmConfig {
    /// Reads the ConfigMap if the host has it, then the first configuration file that parses.
    /// Unreadable sources are logged and skipped, because this configuration only refines the
    /// values the static pod manifests already give.
    pub fn read(host: &dyn Host) -> KubeadmConfig {
        let mut config = KubeadmConfig::default();

        match host.run(&HostCommand::KubeadmConfigMap) {
            Ok(output) => match cluster_from_config_map(&output.stdout) {
                Ok(cluster) => {
                    let source = "kube-system/kubeadm-config ConfigMap".to_string();
                    config.cluster = Some((source, cluster));
                }
                Err(message) => {
                    tracing::warn!(%message, "kubeadm-config ConfigMap is not usable");
                }
            },
            Err(error) => tracing::debug!(%error, "no kubeadm-config ConfigMap"),
        }

        for path in CONFIG_FILES {
            if !host.exists(path) {
                continue;
            }
            let text = match host.read_text(path, MAX_CONFIG_BYTES) {
                Ok(text) => text,
                Err(error) => {
                    tracing::warn!(%error, "kubeadm configuration file unreadable");
                    continue;
                }
            };
            match parse_documents(&text) {
                Ok((cluster, node)) => {
                    if config.cluster.is_none() {
                        config.cluster = cluster.map(|c| (path.to_string(), c));
                    }
                    if config.node.is_none() {
                        config.node = node.map(|n| (path.to_string(), n));
                    }
                }
                Err(message) => tracing::warn!(path, %message, "kubeadm configuration invalid"),
            }
        }
        config
    }

    pub fn cluster(&self) -> Option<&ClusterConfiguration> {
        self.cluster.as_ref().map(|(_, cluster)| cluster)
    }

    pub fn cluster_source(&self) -> &str {
        self.cluster.as_ref().map_or("", |(source, _)| source)
    }
}

fn cluster_from_config_map(json: &str) -> Result<ClusterConfiguration, String> {
    let map: ConfigMap = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let yaml = map
        .data
        .get("ClusterConfiguration")
        .ok_or("the ConfigMap has no data.ClusterConfiguration")?;
    let (cluster, _) = parse_documents(yaml)?;
    cluster.ok_or_else(|| "data.ClusterConfiguration holds no ClusterConfiguration".to_string())
}

/// Parses a multi-document YAML file into its ClusterConfiguration and node configuration.
/// A document without `kind` counts as a ClusterConfiguration, as in the ConfigMap's data.
pub fn parse_documents(
    text: &str,
) -> Result<(Option<ClusterConfiguration>, Option<NodeConfiguration>), String> {
    let documents: Vec<AnyDocument> =
        serde_saphyr::from_multiple_with_options(text, super::yaml_options())
            .map_err(|error| super::yaml_error_message(&error))?;
    let mut cluster = None;
    let mut node = None;
    for document in documents {
        match document.kind.as_deref() {
            Some("ClusterConfiguration") | None => {
                cluster = Some(ClusterConfiguration {
                    kubernetes_version: document.kubernetes_version,
                    control_plane_endpoint: document.control_plane_endpoint,
                    certificates_dir: document.certificates_dir,
                    networking: document.networking,
                    api_server: document.api_server,
                    etcd: document.etcd,
                });
            }
            Some("InitConfiguration") | Some("JoinConfiguration") => {
                let endpoint = document
                    .local_api_endpoint
                    .or(document.control_plane.and_then(|c| c.local_api_endpoint));
                node = Some(NodeConfiguration {
                    advertise_address: endpoint.and_then(|e| e.advertise_address),
                    node_name: document.node_registration.and_then(|n| n.name),
                });
            }
            Some(other) => tracing::debug!(kind = other, "kubeadm document kind not used"),
        }
    }
    Ok((cluster, node))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_and_cluster_documents_are_read() {
        let text = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: 192.0.2.10\nnodeRegistration:\n  name: node-1\n---\napiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: cp.example.test:6443\napiServer:\n  certSANs: [lb.example.test, 198.51.100.7]\nnetworking:\n  serviceSubnet: 10.96.0.0/12\n";
        let (cluster, node) = parse_documents(text).unwrap();
        let cluster = cluster.unwrap();
        let node = node.unwrap();
        assert_eq!(
            cluster.control_plane_endpoint.as_deref(),
            Some("cp.example.test:6443")
        );
        assert_eq!(
            cluster.api_server.cert_sans,
            ["lb.example.test", "198.51.100.7"]
        );
        assert_eq!(node.advertise_address.as_deref(), Some("192.0.2.10"));
        assert_eq!(node.node_name.as_deref(), Some("node-1"));
    }

    #[test]
    fn external_etcd_is_read() {
        let text = "kind: ClusterConfiguration\netcd:\n  external:\n    endpoints:\n    - https://172.16.4.211:2379\n    caFile: /etc/kubernetes/pki/etcd/ca.crt\n";
        let (cluster, _) = parse_documents(text).unwrap();
        let external = cluster.unwrap().etcd.external.unwrap();
        assert_eq!(external.endpoints, ["https://172.16.4.211:2379"]);
        assert_eq!(
            external.ca_file.as_deref(),
            Some("/etc/kubernetes/pki/etcd/ca.crt")
        );
    }

    #[test]
    fn config_map_data_is_read() {
        let json = r#"{"data":{"ClusterConfiguration":"controlPlaneEndpoint: 10.0.7.10:6443\nnetworking:\n  dnsDomain: cluster.local\n"}}"#;
        let cluster = cluster_from_config_map(json).unwrap();
        assert_eq!(
            cluster.control_plane_endpoint.as_deref(),
            Some("10.0.7.10:6443")
        );
    }
}
