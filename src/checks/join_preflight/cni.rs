//! The CNI network configuration the runtime loads pod networking from.

use super::setup::Setup;
use crate::check::{Code, Finding, Fix};
use crate::host::Host;
use crate::runtime::Runtime;
use crate::runtime::containerd::{ContainerdConfig, DEFAULT_CNI_CONF_DIR};

const CNI_URL: &str = "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/create-cluster-kubeadm/#pod-network";

/// Returns the CNI configuration folder and where it is set.
fn conf_dir(host: &dyn Host, setup: &Setup) -> (String, String) {
    if let Some(flag) = setup
        .flags
        .get("cni-conf-dir")
        .filter(|f| !f.value.is_empty())
    {
        return (flag.value.clone(), flag.location());
    }
    if setup.kubelet_runtime() == Some(Runtime::Containerd)
        && let Ok(Some(config)) = ContainerdConfig::read(host)
        && let Some(dir) = &config.cni_conf_dir
    {
        return (dir.value.clone(), format!("{}:{}", config.path, dir.line));
    }
    (DEFAULT_CNI_CONF_DIR.to_string(), "default".to_string())
}

/// Reports a joined node whose CNI folder has no network configuration. Before join the CNI
/// plugin's DaemonSet has not run yet, so an empty folder is expected.
pub fn check(host: &dyn Host, setup: &Setup) -> Option<Finding> {
    if !setup.joined(host) || setup.runtimes.is_empty() {
        return None;
    }
    let (dir, source) = conf_dir(host, setup);
    let state = match host.read_dir(&dir) {
        Ok(entries) => {
            let configs: Vec<&str> = entries
                .iter()
                .map(|e| e.name.as_str())
                .filter(|name| {
                    name.ends_with(".conf")
                        || name.ends_with(".conflist")
                        || name.ends_with(".json")
                })
                .collect();
            if !configs.is_empty() {
                return None;
            }
            if entries.is_empty() {
                "empty".to_string()
            } else {
                let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
                format!(
                    "no .conf, .conflist or .json file (contains {})",
                    names.join(", ")
                )
            }
        }
        Err(error) if error.is_not_found() => "does not exist".to_string(),
        Err(error) => format!("cannot be listed: {}", error.kind),
    };
    let node = host
        .recorded_node_name()
        .unwrap_or_else(|| "NODE".to_string());
    Some(
        Finding::new(
            Code::JoinPreflightCniConfigMissing,
            format!("the CNI configuration folder {dir} {state}"),
        )
        .details("The container runtime loads the pod network from the first configuration in this folder. Without one it reports \"cni plugin not initialized\", the kubelet sets NetworkReady=false, the node stays NotReady and new pods stay in ContainerCreating. The network add-on's DaemonSet pod writes the file when it starts on the node.")
        .evidence(&dir, "state", state)
        .evidence(source, "CNI configuration folder", &dir)
        .fix(
            Fix::new("install the cluster's pod network add-on, or find why its pod does not run on this node")
                .step("If no network add-on is installed yet, apply one (Calico, Cilium, Flannel and others) with kubectl from a control-plane node.")
                .step("Otherwise look at the add-on's pod on this node: it writes the configuration when it starts, so a pending, crashing or unscheduled pod leaves the folder empty.")
                .command(format!("kubectl get pods -A -o wide --field-selector spec.nodeName={node}"))
                .command(format!("kubectl describe node {node}"))
                .command(format!("ls -l {dir}")),
        )
        .reference(CNI_URL),
    )
}
