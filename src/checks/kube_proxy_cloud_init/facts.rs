//! Everything the rules look at, read once: the Node, the kube-proxy pod and its DaemonSet from
//! the API (or a snapshot's api/ folder), the kubelet's --cloud-provider, and kube-proxy's logs.

use jiff::Timestamp;

use super::signatures::{self, FileVerdict};
use crate::host::{FetchRequest, Host, HostError, Source};
use crate::kube::KUBELET_KUBECONFIG;
use crate::kube::kubelet_flags::{FlagValue, KubeletFlags};
use crate::kube::objects::{DaemonSet, DaemonSetList, Node, Pod, PodList, parse_json};
use crate::kube::pod_log::{
    ContainerLog, container_links_by_prefix, container_log_files, container_log_files_in,
    pod_log_dirs,
};

pub const UNINITIALIZED_TAINT: &str = "node.cloudprovider.kubernetes.io/uninitialized";
pub const NAMESPACE: &str = "kube-system";
pub const NAME: &str = "kube-proxy";

/// The result of one API read that may be unavailable (offline, or absent from a snapshot).
pub enum Api<T> {
    Read { value: T, source: String },
    Unknown(String),
}

impl<T> Api<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Api::Read { value, .. } => Some(value),
            Api::Unknown(_) => None,
        }
    }
}

/// The kube-proxy pod on this node, as the API lists it.
pub struct ProxyPod {
    pub pod: Pod,
    pub container: String,
    pub source: String,
}

pub struct Facts {
    pub node_name: String,
    pub now: Timestamp,
    pub cloud_provider: Option<FlagValue>,
    pub node: Api<Node>,
    /// None when the pods could not be read; Some(None) when no kube-proxy pod runs here.
    pub proxy: Option<ProxyPod>,
    pub pods_known: bool,
    /// Pods of a cloud controller manager that run on this node, and where they were listed.
    pub ccm_pods: Vec<Pod>,
    pub pods_source: String,
    pub daemon_set: Api<DaemonSet>,
    /// The log verdict that decides, and every file read.
    pub logs: Option<FileVerdict>,
    pub log_files: Vec<String>,
}

impl Facts {
    /// Reads everything. Fails when the API responded with an error or with something that
    /// is not the object expected, so the check ends with status `error`.
    pub fn gather(host: &dyn Host, node_name: &str) -> Result<Facts, String> {
        let flags = KubeletFlags::read(host);
        let kubeconfig = flags
            .value("kubeconfig")
            .filter(|value| !value.is_empty())
            .unwrap_or(KUBELET_KUBECONFIG)
            .to_string();
        let cloud_provider = flags.get("cloud-provider").cloned();

        let node_request = FetchRequest::Node {
            name: node_name.to_string(),
            kubeconfig: kubeconfig.clone(),
        };
        let node: Api<Node> = read_api(host, &node_request, "Node")?;

        let mut pods_known = false;
        let mut proxy = None;
        let mut ccm_pods = Vec::new();
        let mut pods_source = String::new();
        if node.value().is_some() {
            let request = FetchRequest::PodsOnNode {
                node: node_name.to_string(),
                kubeconfig: kubeconfig.clone(),
            };
            if let Api::Read { value, source } = read_api::<PodList>(host, &request, "PodList")? {
                pods_known = true;
                pods_source = source.clone();
                ccm_pods = value
                    .items
                    .iter()
                    .filter(|pod| pod.metadata.name.contains("cloud-controller-manager"))
                    .cloned()
                    .collect();
                proxy = find_proxy(value.items, &source);
            }
        }

        let daemon_set = read_daemon_set(host, &kubeconfig, proxy.as_ref());
        let (logs, log_files) = read_logs(host, proxy.as_ref());
        Ok(Facts {
            node_name: node_name.to_string(),
            now: host.now(),
            cloud_provider,
            node,
            proxy,
            pods_known,
            ccm_pods,
            pods_source,
            daemon_set,
            logs,
            log_files,
        })
    }

    /// Returns whether the kubelet runs with an external cloud provider, from its flag or
    /// from the taint only such kubelets set.
    pub fn external_cloud(&self) -> bool {
        let flag = self
            .cloud_provider
            .as_ref()
            .is_some_and(|flag| flag.value == "external");
        flag || self.uninitialized_taint().is_some()
    }

    pub fn uninitialized_taint(&self) -> Option<&crate::kube::objects::Taint> {
        self.node.value()?.taint(UNINITIALIZED_TAINT)
    }

    pub fn node_source(&self) -> &str {
        match &self.node {
            Api::Read { source, .. } => source,
            Api::Unknown(_) => "api/node.json",
        }
    }
}

/// Sends one request. Unavailable (offline, not in the snapshot, no credentials on this node)
/// gives `Unknown`; any other failure is an error.
fn read_api<T: serde::de::DeserializeOwned>(
    host: &dyn Host,
    request: &FetchRequest,
    kind: &str,
) -> Result<Api<T>, String> {
    let text = match host.fetch(request) {
        Ok(text) => text,
        Err(error) if unavailable(&error) => {
            tracing::info!(%error, request = request.display(), "API data not available");
            return Ok(Api::Unknown(error.to_string()));
        }
        Err(error) => return Err(format!("cannot read {}: {error}", request.display())),
    };
    // Evidence names the snapshot file, or on a live node the request as kubectl would send it.
    let source = match host.source() {
        Source::Snapshot => request.snapshot_path(),
        Source::Live => request.display(),
    };
    let value = parse_json(&text, kind).map_err(|why| format!("{source}: {why}"))?;
    Ok(Api::Read { value, source })
}

fn unavailable(error: &HostError) -> bool {
    error.is_unavailable() || error.is_not_found()
}

/// Picks the kube-proxy pod: in kube-system, labelled k8s-app=kube-proxy or named kube-proxy-*,
/// a running one first.
fn find_proxy(pods: Vec<Pod>, source: &str) -> Option<ProxyPod> {
    let mut candidates: Vec<Pod> = pods
        .into_iter()
        .filter(|pod| pod.metadata.namespace == NAMESPACE)
        .filter(|pod| {
            pod.metadata.labels.get("k8s-app").map(String::as_str) == Some(NAME)
                || pod.metadata.name.starts_with("kube-proxy-")
        })
        .collect();
    candidates.sort_by_key(|pod| pod.status.phase.as_deref() != Some("Running"));
    let pod = candidates.into_iter().next()?;
    let container = pod
        .spec
        .containers
        .iter()
        .find(|container| container.name == NAME)
        .or(pod.spec.containers.first())
        .map(|container| container.name.clone())
        .unwrap_or_else(|| NAME.to_string());
    Some(ProxyPod {
        pod,
        container,
        source: source.to_string(),
    })
}

/// Reads kube-proxy's DaemonSet: the pod's owner, else kube-system/kube-proxy. Node credentials
/// may not list DaemonSets (HTTP 403), so every failure only leaves it unknown.
fn read_daemon_set(host: &dyn Host, kubeconfig: &str, proxy: Option<&ProxyPod>) -> Api<DaemonSet> {
    let name = proxy
        .and_then(|proxy| proxy.pod.metadata.owner("DaemonSet"))
        .unwrap_or(NAME)
        .to_string();
    let request = FetchRequest::DaemonSets {
        kubeconfig: kubeconfig.to_string(),
    };
    let list = match read_api::<DaemonSetList>(host, &request, "DaemonSetList") {
        Ok(Api::Read { value, source }) => (value, source),
        Ok(Api::Unknown(why)) => return Api::Unknown(why),
        Err(why) => {
            tracing::info!(
                why,
                "the DaemonSets are unknown; the pod's tolerations are used"
            );
            return Api::Unknown(why);
        }
    };
    let (list, source) = list;
    match list
        .items
        .into_iter()
        .find(|ds| ds.metadata.namespace == NAMESPACE && ds.metadata.name == name)
    {
        Some(value) => Api::Read { value, source },
        None => Api::Unknown(format!("{source} has no DaemonSet {NAMESPACE}/{name}")),
    }
}

/// Reads the newest and the previous log of the kube-proxy container. Without the pod from the
/// API, the most recently written kube-proxy pod folder under /var/log/pods is used, else the
/// newest kube-proxy links in /var/log/containers.
// NOTE: kube-proxy logs the fallback once, at start. In a log longer than TAIL_BYTES that line
// can lie before the part read, and the log then counts as clean.
fn read_logs(host: &dyn Host, proxy: Option<&ProxyPod>) -> (Option<FileVerdict>, Vec<String>) {
    let files = match proxy {
        Some(proxy) => {
            let ids = proxy
                .pod
                .container_status(&proxy.container)
                .map(|status| status.runtime_ids())
                .unwrap_or_default();
            let uid = Some(proxy.pod.metadata.uid.as_str()).filter(|uid| !uid.is_empty());
            container_log_files(
                host,
                NAMESPACE,
                &proxy.pod.metadata.name,
                uid,
                &proxy.container,
                &ids,
            )
        }
        None => newest_proxy_log_files(host),
    };
    let verdicts: Vec<FileVerdict> = files
        .iter()
        .filter_map(|path| match ContainerLog::read(host, path) {
            Ok(log) => Some(signatures::scan(&log)),
            Err(error) => {
                tracing::info!(%error, "cannot read a kube-proxy log");
                None
            }
        })
        .collect();
    let decided = signatures::decide(&verdicts).cloned();
    (decided, files)
}

fn newest_proxy_log_files(host: &dyn Host) -> Vec<String> {
    let mut best: Option<(Option<Timestamp>, Vec<String>)> = None;
    for dir in pod_log_dirs(host, NAMESPACE, "kube-proxy-") {
        let mut files = container_log_files_in(host, &dir, NAME);
        if files.is_empty() {
            // No N.log in the folder: the /var/log/containers links may still name the pod.
            files = container_log_files(host, NAMESPACE, &dir.pod, Some(&dir.uid), NAME, &[]);
        }
        let Some(newest) = files.first() else {
            continue;
        };
        let modified = host.stat(newest).ok().and_then(|meta| meta.modified);
        if best.as_ref().is_none_or(|(time, _)| modified > *time) {
            best = Some((modified, files));
        }
    }
    match best {
        Some((_, files)) => files,
        None => container_links_by_prefix(host, NAMESPACE, "kube-proxy-", NAME),
    }
}
