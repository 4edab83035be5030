//! Fixes for kubelet client certificate problems, with this node's name and paths filled in.
//!
//! They follow the recovery that kubeadm's troubleshooting guide documents for a kubelet whose
//! client certificate rotation failed.

use super::setup::Setup;
use crate::check::Fix;
use crate::kube::NODE_USER_PREFIX;

pub const TROUBLESHOOTING_URL: &str = "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/troubleshooting-kubeadm/#kubelet-client-cert";
pub const ROTATION_URL: &str = "https://kubernetes.io/docs/tasks/tls/certificate-rotation/";
pub const BOOTSTRAP_URL: &str =
    "https://kubernetes.io/docs/reference/access-authn-authz/kubelet-tls-bootstrapping/";

/// The facts the fixes need.
pub struct FixInputs<'a> {
    pub node: &'a str,
    pub setup: &'a Setup,
    /// The user of kubelet.conf's current context, when it has one.
    pub kubeconfig_user: Option<&'a str>,
}

impl FixInputs<'_> {
    fn node_user(&self) -> String {
        format!("{NODE_USER_PREFIX}{}", self.node)
    }

    /// The sed command that rewrites kubelet.conf's credential lines to the rotating file.
    fn point_at_current_command(&self) -> String {
        let current = self.setup.current_pem();
        format!(
            "sed -i -e 's|^\\( *\\)client-certificate\\(-data\\)\\?: .*|\\1client-certificate: {current}|' \
             -e 's|^\\( *\\)client-key\\(-data\\)\\?: .*|\\1client-key: {current}|' {}",
            self.setup.kubeconfig
        )
    }

    fn backup_command(&self) -> String {
        let kubeconfig = &self.setup.kubeconfig;
        format!("cp -p {kubeconfig} {kubeconfig}.bak-$(date +%Y%m%d%H%M%S)")
    }
}

/// kubelet.conf names an old certificate while a valid rotated one exists: point it at the
/// certificate store.
pub fn point_kubeconfig_at_current(inputs: &FixInputs<'_>) -> Fix {
    let current = inputs.setup.current_pem();
    Fix::new(format!("make {} use {current} for both certificate and key", inputs.setup.kubeconfig))
        .step(format!("Back up {}.", inputs.setup.kubeconfig))
        .step(format!(
            "In the user {:?}, replace the client-certificate-data or client-certificate line with `client-certificate: {current}` and the matching key line with `client-key: {current}`.",
            inputs.kubeconfig_user.unwrap_or("of the current context")
        ))
        .step("Restart the kubelet so it loads the rotated certificate.")
        .command(inputs.backup_command())
        .command(inputs.point_at_current_command())
        .command("systemctl restart kubelet")
}

/// No valid certificate, but the bootstrap kubeconfig is there: let the kubelet bootstrap again.
pub fn rebootstrap(inputs: &FixInputs<'_>) -> Fix {
    let current = inputs.setup.current_pem();
    let bootstrap = &inputs.setup.bootstrap_kubeconfig;
    Fix::new("move the expired certificate aside and restart the kubelet so it bootstraps again")
        .step(format!(
            "Check that the bootstrap token in {bootstrap} is still valid (`kubeadm token list` on a control-plane node); if it expired, create one with `kubeadm token create` and put it in {bootstrap}."
        ))
        .step(format!("Move {current} aside so the kubelet stops loading the expired certificate."))
        .step("Restart the kubelet; it requests a new certificate with the bootstrap token.")
        .step("Make the cluster signing duration (kube-controller-manager --cluster-signing-duration) longer than the longest time a node may be powered off.")
        .command(format!("mv {current} {current}.expired-$(date +%Y%m%d%H%M%S)"))
        .command("systemctl restart kubelet")
        .command(format!("kubectl get csr --sort-by=.metadata.creationTimestamp | grep {}", inputs.node_user()))
}

/// No valid certificate and no bootstrap kubeconfig: kubeadm's documented recovery.
pub fn kubeadm_recovery(inputs: &FixInputs<'_>) -> Fix {
    let node = inputs.node;
    let node_user = inputs.node_user();
    let kubeconfig = &inputs.setup.kubeconfig;
    let cert_dir = &inputs.setup.cert_dir;
    let current = inputs.setup.current_pem();

    let mut fix = Fix::new(format!(
        "issue a new kubelet.conf for {node_user} from a control-plane node, then let the kubelet rotate"
    ))
    .step(format!("Back up {kubeconfig} and move the kubelet-client-* files in {cert_dir} aside."))
    .step(format!(
        "On a control-plane node that has /etc/kubernetes/pki/ca.key, generate a kubeconfig for this node and copy it to {node} as {kubeconfig}."
    ))
    .step(format!("Restart the kubelet and wait until {current} is created."))
    .step(format!(
        "Point {kubeconfig} at the rotating file: `client-certificate: {current}` and `client-key: {current}`, then restart the kubelet again."
    ));

    let finalize_works = inputs.kubeconfig_user == Some(node_user.as_str());
    if !finalize_works {
        fix = fix.step(format!(
            "Edit kubelet.conf by hand for the last step: `kubeadm init phase kubelet-finalize` only works when kubelet.conf has a user named {node_user}, and this one has {:?}.",
            inputs.kubeconfig_user.unwrap_or("none")
        ));
    }

    fix.command(inputs.backup_command())
        .command(format!("mkdir -p {cert_dir}/old && mv {cert_dir}/kubelet-client-* {cert_dir}/old/"))
        .command(format!(
            "kubeadm kubeconfig user --org system:nodes --client-name {node_user} > kubelet-{node}.conf   # on a control-plane node"
        ))
        .command(format!("scp kubelet-{node}.conf {node}:{kubeconfig}"))
        .command("systemctl restart kubelet")
        .command(format!("ls -l {current}"))
        .command(inputs.point_at_current_command())
        .command("systemctl restart kubelet")
}
