//! The kubelet's kubeconfig, and the bootstrap kubeconfig that creates it.

use super::setup::Setup;
use crate::check::{Code, Finding, Fix};
use crate::host::Host;
use crate::kube::PKI_DIR;

const JOIN_URL: &str = "https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-join/";

/// Reports a kubelet that kubeadm configured but that has neither kubeconfig. Before
/// `kubeadm join` neither file exists, and that is expected.
pub fn check(host: &dyn Host, setup: &Setup) -> Option<Finding> {
    if !setup.kubelet_installed || !setup.kubeadm_configured(host) {
        return None;
    }
    let kubeconfig = &setup.kubeconfig.value;
    let bootstrap = &setup.bootstrap_kubeconfig;
    if host.exists(kubeconfig) || host.exists(bootstrap) {
        return None;
    }
    let control_plane = host.exists(&format!("{PKI_DIR}/ca.key"));
    let node = host
        .recorded_node_name()
        .unwrap_or_else(|| "NODE".to_string());

    let mut finding = Finding::new(
        Code::JoinPreflightKubeletKubeconfigMissing,
        format!("neither {kubeconfig} nor {bootstrap} exists, so the kubelet cannot reach the API server"),
    )
    .details("kubeadm has configured this kubelet but its kubeconfig is gone, and without the bootstrap kubeconfig it cannot request a new certificate. The kubelet exits with \"unable to load bootstrap kubeconfig\" and restarts in a loop.")
    .evidence(&setup.kubeconfig.source, &setup.kubeconfig.field, format!("{kubeconfig} (missing)"))
    .evidence(bootstrap, "bootstrap kubeconfig", "missing");
    if setup.config.is_some() {
        finding = finding.evidence(
            &setup.config_path,
            "kubelet configuration",
            "present: kubeadm has run here",
        );
    }

    let fix = if control_plane {
        Fix::new(format!("issue a new {kubeconfig} with the cluster CA on this control-plane node"))
            .step(format!("{PKI_DIR}/ca.key is on this node, so kubeadm can sign a new kubelet client certificate here."))
            .command(format!("kubeadm kubeconfig user --org system:nodes --client-name system:node:{node} > {kubeconfig}"))
            .command(format!("chmod 600 {kubeconfig}"))
            .command("systemctl restart kubelet")
    } else {
        Fix::new("join the node again with a new bootstrap token")
            .step("On a control-plane node, print a join command with a new token.")
            .step("On this node, reset what the failed join left behind and run the join command.")
            .command("kubeadm token create --print-join-command   # on a control-plane node")
            .command("kubeadm reset -f")
            .command("kubeadm join ...   # the command printed above")
    };
    Some(finding.fix(fix).reference(JOIN_URL))
}
