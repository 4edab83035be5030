use super::api::ResolveOverride;

/// A network request a check may make through the host. Each has a fixed place in a snapshot,
/// so the snapshot host reads the response from captured files and never touches the network.
///
/// The API requests carry `kubeconfig`, the node's own kubeconfig (normally
/// /etc/kubernetes/kubelet.conf, a host path). The live host uses it only when neither
/// `--kubeconfig` nor an in-cluster service account gives other credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchRequest {
    /// `GET /api/v1/nodes/NAME`: the Node object.
    Node { name: String, kubeconfig: String },
    /// `GET /api/v1/pods?fieldSelector=spec.nodeName=NODE`: every pod bound to the node.
    PodsOnNode { node: String, kubeconfig: String },
    /// `GET /apis/apps/v1/daemonsets`: every DaemonSet in the cluster.
    DaemonSets { kubeconfig: String },
    /// `GET PATH` from the cloud metadata service, such as
    /// `/metadata/v1/interfaces/public/0/anchor_ipv4/address`.
    Metadata { path: String },
}

impl FetchRequest {
    /// Returns the file, relative to the snapshot directory, that contains this request's response.
    pub fn snapshot_path(&self) -> String {
        match self {
            FetchRequest::Node { .. } => "api/node.json".to_string(),
            FetchRequest::PodsOnNode { .. } => "api/pods.json".to_string(),
            FetchRequest::DaemonSets { .. } => "api/daemonsets.json".to_string(),
            FetchRequest::Metadata { path } => format!("metadata/{}", path.trim_start_matches('/')),
        }
    }

    /// Returns the request as an operator would type it, for evidence and logs.
    pub fn display(&self) -> String {
        match self {
            FetchRequest::Node { name, .. } => format!("kubectl get node {name} -o json"),
            FetchRequest::PodsOnNode { node, .. } => {
                format!("kubectl get pods -A --field-selector spec.nodeName={node} -o json")
            }
            FetchRequest::DaemonSets { .. } => "kubectl get daemonsets -A -o json".to_string(),
            FetchRequest::Metadata { path } => format!("GET {path} (cloud metadata)"),
        }
    }
}

/// The endpoints a live host may send network requests to. Every endpoint is configurable, and `offline`
/// turns all of them off.
#[derive(Clone, Debug)]
pub struct NetworkSettings {
    pub offline: bool,
    /// Replaces the API server URL of the kubeconfig, such as `https://127.0.0.1:6443`.
    pub api_server: Option<String>,
    /// A kubeconfig (a host path, read under the root) whose credentials are used for the API
    /// server instead of the in-cluster service account or the node's kubeconfig.
    pub kubeconfig: Option<String>,
    /// Addresses to connect to for a host name and port, as curl's `--resolve`. The TLS server
    /// name stays the host name of the URL.
    pub resolve: Vec<ResolveOverride>,
    /// Base URL of the cloud metadata service, without a trailing slash.
    pub metadata_url: String,
}

/// The link-local address every major cloud serves its metadata on.
pub const DEFAULT_METADATA_URL: &str = "http://169.254.169.254";

impl NetworkSettings {
    /// Settings that make no request at all.
    pub fn offline() -> NetworkSettings {
        NetworkSettings {
            offline: true,
            api_server: None,
            kubeconfig: None,
            resolve: Vec::new(),
            metadata_url: DEFAULT_METADATA_URL.to_string(),
        }
    }
}
