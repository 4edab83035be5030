//! Check `control-plane-flags`: the command-line flags in the static pod manifests of
//! kube-apiserver, kube-controller-manager, kube-scheduler and etcd.
//!
//! It finds authorization that allows everything, flags without values (typically a
//! comma-separated list split into bare keys), single-value flags set twice, and flags naming
//! files that are not on the node. A manifest that does not parse as a Pod is reported itself,
//! because the kubelet does not start that component.

mod flag_kinds;
mod rules;

use crate::certs::PKI_DIR;
use crate::check::{Check, Code, Context, Finding, Fix, Outcome};
use crate::host::Host;
use crate::kube::MANIFESTS_DIR;
use crate::kube::static_pod::{CONTROL_PLANE_COMPONENTS, ManifestError, StaticPod, manifest_path};

pub struct ControlPlaneFlags;

impl Check for ControlPlaneFlags {
    fn id(&self) -> &'static str {
        "control-plane-flags"
    }

    fn title(&self) -> &'static str {
        "the control-plane static pod manifests have sound flags"
    }

    fn run(&self, context: &Context) -> Outcome {
        let host = context.host.as_ref();
        if !host.exists(MANIFESTS_DIR) || !host.exists(PKI_DIR) {
            return Outcome::Skipped(format!(
                "not a control-plane node: {MANIFESTS_DIR} or {PKI_DIR} does not exist"
            ));
        }
        let present: Vec<&str> = CONTROL_PLANE_COMPONENTS
            .into_iter()
            .filter(|component| host.exists(&manifest_path(component)))
            .collect();
        if present.is_empty() {
            return Outcome::Skipped(format!(
                "not a control-plane node: {MANIFESTS_DIR} has no kube-apiserver, \
                 kube-controller-manager, kube-scheduler or etcd manifest"
            ));
        }

        let mut findings = Vec::new();
        for component in present {
            let cached = StaticPod::read_cached(context, component);
            let pod = match cached.as_ref() {
                Ok(pod) => pod,
                Err(error) => {
                    findings.extend(manifest_invalid(component, error));
                    continue;
                }
            };
            findings.extend(check_pod(host, pod));
        }
        Outcome::Ran(findings)
    }
}

fn check_pod(host: &dyn Host, pod: &StaticPod) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(rules::always_allow(pod));
    findings.extend(rules::missing_values(pod));
    findings.extend(rules::duplicates(pod));
    findings.extend(rules::missing_files(host, pod));
    findings
}

fn manifest_invalid(component: &str, error: &ManifestError) -> Option<Finding> {
    let path = manifest_path(component);
    if let ManifestError::Read(read) = error
        && read.is_not_found()
    {
        return None;
    }
    tracing::warn!(%error, "static pod manifest unusable");
    Some(
        Finding::new(
            Code::ControlPlaneFlagsManifestInvalid,
            format!("{path} is not a usable static pod manifest"),
        )
        .details(format!(
            "The kubelet reads every file in {MANIFESTS_DIR} as a Pod and skips the ones that \
             do not parse, so {component} is not running from this manifest: {error}."
        ))
        .evidence(&path, "error", error.to_string())
        .fix(
            Fix::new(format!("Restore or regenerate {path}"))
                .step("Restore the manifest from a backup, or let kubeadm write it again from the cluster configuration.")
                .command(
                    "kubectl -n kube-system get configmap kubeadm-config \
                     -o jsonpath='{.data.ClusterConfiguration}' > /root/kubeadm-cluster.yaml",
                )
                .command(format!(
                    "kubeadm init phase {} --config /root/kubeadm-cluster.yaml",
                    match component {
                        "etcd" => "etcd local".to_string(),
                        other => format!("control-plane {}", other.trim_start_matches("kube-")),
                    }
                )),
        )
        .reference("https://kubernetes.io/docs/tasks/configure-pod-container/static-pod/"),
    )
}
