//! The commands the fixes give: restart kube-proxy, stop its DaemonSet from tolerating the
//! uninitialized taint, and read the cloud controller manager's log.

use super::facts::{Facts, NAME, NAMESPACE};
use crate::check::Fix;

/// The kubeadm troubleshooting entry for this race.
pub const KUBEADM_TROUBLESHOOTING_URL: &str = "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/troubleshooting-kubeadm/#kube-proxy-scheduled-before-node-is-initialized-by-cloud-controller-manager";
pub const CLOUD_CONTROLLER_URL: &str =
    "https://kubernetes.io/docs/tasks/administer-cluster/running-cloud-controller/";

/// The tolerations kubeadm's troubleshooting guide gives kube-proxy instead of tolerating
/// every taint: it still runs on control-plane nodes, but not on a node the cloud controller
/// manager has not initialised. Nodes that still carry the older node-role.kubernetes.io/master
/// taint need a toleration for that key as well, which the fix steps mention.
const PATCH: &str = r#"{"spec":{"template":{"spec":{"tolerations":[{"key":"CriticalAddonsOnly","operator":"Exists"},{"effect":"NoSchedule","key":"node-role.kubernetes.io/control-plane"}]}}}}"#;

/// Returns `kubectl patch` for kube-proxy's DaemonSet.
pub fn patch_command(facts: &Facts) -> String {
    format!(
        "kubectl -n {NAMESPACE} patch ds {} -p='{PATCH}'",
        daemon_set_name(facts)
    )
}

pub fn daemon_set_name(facts: &Facts) -> String {
    facts
        .proxy
        .as_ref()
        .and_then(|proxy| proxy.pod.metadata.owner("DaemonSet"))
        .unwrap_or(NAME)
        .to_string()
}

/// Returns the command that deletes the kube-proxy pod, so its DaemonSet starts a new one that
/// reads the node's addresses again.
pub fn delete_pod_command(facts: &Facts) -> String {
    match &facts.proxy {
        Some(proxy) => format!(
            "kubectl -n {NAMESPACE} delete pod {}",
            proxy.pod.metadata.name
        ),
        None => format!(
            "kubectl -n {NAMESPACE} delete pod -l k8s-app={NAME} --field-selector spec.nodeName={}",
            facts.node_name
        ),
    }
}

/// Returns the command that shows the node's taints and addresses.
pub fn show_node_command(facts: &Facts) -> String {
    format!(
        "kubectl get node {} -o jsonpath='{{.spec.taints}}{{\"\\n\"}}{{.status.addresses}}{{\"\\n\"}}'",
        facts.node_name
    )
}

/// Adds the steps and commands that read the cloud controller manager's log for this node.
pub fn read_ccm_log(fix: Fix, facts: &Facts) -> Fix {
    let node = &facts.node_name;
    let fix = fix.step(format!(
        "Read the cloud controller manager's log for {node}: it says why it has not initialised the node, such as \"failed to find kubelet node IP from cloud provider\" when the kubelet's --node-ip is an address the cloud does not report for this server."
    ));
    if facts.ccm_pods.is_empty() {
        return fix
            .command("kubectl get pods -A -o wide | grep -i cloud-controller")
            .command(format!(
                "kubectl -n NAMESPACE logs CCM_POD --tail=500 | grep {node}   # from the line above"
            ));
    }
    facts.ccm_pods.iter().fold(fix, |fix, pod| {
        fix.command(format!(
            "kubectl -n {} logs {} --tail=500 | grep {node}",
            pod.metadata.namespace, pod.metadata.name
        ))
    })
}
