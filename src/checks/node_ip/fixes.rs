//! The fix for every node-ip finding: pin --node-ip to the right address in the file that
//! sets it on this node, then restart the kubelet.

use std::net::IpAddr;

use super::facts::Facts;
use super::setup::{NodeIpFlag, without_node_ip};
use crate::check::Fix;
use crate::kube::kubelet_flags::KUBEADM_FLAGS_ENV;

pub const TROUBLESHOOTING_URL: &str = "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/troubleshooting-kubeadm/#non-public-ip-used-for-containers";
pub const KUBELET_INTEGRATION_URL: &str =
    "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/kubelet-integration/";

const RESTART: &str = "systemctl daemon-reload && systemctl restart kubelet";

/// The file, and the line in it, that sets (or should set) this node's --node-ip.
enum Target<'a> {
    /// A `VAR=args` line of an environment file: KUBELET_EXTRA_ARGS or KUBELET_KUBEADM_ARGS.
    ArgsVariable {
        path: &'a str,
        variable: &'a str,
        current: Option<String>,
    },
    /// A unit's `Environment="VAR=IP"` that ExecStart expands into --node-ip.
    UnitVariable { path: &'a str, variable: &'a str },
    /// A literal --node-ip in a unit's ExecStart.
    ExecStart { path: &'a str },
    /// A node still to be joined: kubeadm's nodeRegistration.kubeletExtraArgs.
    KubeadmConfig,
}

/// Builds the fix that sets --node-ip to `address` (the recommended address and its interface).
pub fn pin_node_ip(facts: &Facts, address: Option<&(IpAddr, String)>) -> Fix {
    let Some((ip, interface)) = address else {
        return Fix::new("set --node-ip to the address other nodes reach this node on")
            .step("No interface of this node has an address node-doctor can recommend: find the address the control plane reaches this node on (`ip -br addr`).")
            .step(format!("Add --node-ip=ADDRESS to KUBELET_EXTRA_ARGS in {}.", facts.setup.extra_args_file))
            .command("ip -br addr show")
            .command(RESTART);
    };
    let flag = facts
        .setup
        .node_ip_in_files
        .as_ref()
        .or(facts.setup.node_ip.as_ref());
    let value = new_value(flag, *ip);
    let summary = format!("pin the node IP to {ip} ({interface}) with --node-ip={value}");
    let fix = match target(facts, flag) {
        Target::ArgsVariable {
            path,
            variable,
            current,
        } => {
            let mut words = without_node_ip(current.as_deref().unwrap_or_default());
            words.push(format!("--node-ip={value}"));
            let line = format!("{variable}=\"{}\"", words.join(" "));
            Fix::new(summary)
                .step(format!("In {path}, set the line `{line}`, replacing any earlier {variable} line."))
                .step("Reload systemd and restart the kubelet; it updates the node's addresses when it starts.")
                .command(format!("touch {path} && sed -i '/^{variable}=/d' {path} && echo '{line}' >> {path}"))
        }
        Target::UnitVariable { path, variable } => {
            let line = format!("Environment=\"{variable}={value}\"");
            Fix::new(summary)
                .step(format!("In {path}, which sets {variable} for the kubelet's --node-ip, change the line to `{line}`."))
                .step("Reload systemd and restart the kubelet; it updates the node's addresses when it starts.")
                .command(format!("sed -i 's|{variable}=[^\" ]*|{variable}={value}|' {path}"))
        }
        Target::ExecStart { path } => Fix::new(summary)
            .step(format!("In the ExecStart line of {path}, change --node-ip to `--node-ip={value}`."))
            .step("Reload systemd and restart the kubelet; it updates the node's addresses when it starts.")
            .command(format!("sed -i 's|--node-ip[= ][^ ]*|--node-ip={value}|' {path}")),
        Target::KubeadmConfig => {
            return Fix::new(summary)
                .step(format!("This node has not joined yet ({} is missing): add node-ip to nodeRegistration.kubeletExtraArgs in the kubeadm configuration you join with, as `- name: node-ip` and `value: \"{value}\"` (kubeadm.k8s.io/v1beta4) or `node-ip: \"{value}\"` (v1beta3).", facts.setup.kubeconfig))
                .step(format!("kubeadm writes it to {KUBEADM_FLAGS_ENV} as KUBELET_KUBEADM_ARGS. On a node that already joined, KUBELET_EXTRA_ARGS in {} does the same and wins over it.", facts.setup.extra_args_file))
                .command(format!("printf 'nodeRegistration:\\n  kubeletExtraArgs:\\n  - name: node-ip\\n    value: \"{value}\"\\n' > node-ip-patch.yaml   # merge into your JoinConfiguration"))
                .command("kubeadm join --config join-config.yaml")
                .command(RESTART);
        }
    };
    fix.command(RESTART).command(format!(
        "kubectl get node {} -o jsonpath='{{.status.addresses}}'",
        facts.setup.node
    ))
}

/// Returns the --node-ip value with `ip` in place of the entry of its family. A dual-stack
/// value keeps its entry of the other family.
fn new_value(flag: Option<&NodeIpFlag>, ip: IpAddr) -> String {
    let Some(flag) = flag.filter(|flag| flag.ips.len() == 2 && flag.invalid.is_empty()) else {
        return ip.to_string();
    };
    flag.ips
        .iter()
        .map(|entry| {
            if entry.is_ipv6() == ip.is_ipv6() {
                ip.to_string()
            } else {
                entry.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn target<'a>(facts: &'a Facts, flag: Option<&'a NodeIpFlag>) -> Target<'a> {
    let setup = &facts.setup;
    if let Some(flag) = flag.filter(|flag| !flag.source.starts_with("/proc/")) {
        let in_unit = flag.source.contains("/systemd/");
        return match flag.variable.as_deref() {
            Some(variable @ ("KUBELET_EXTRA_ARGS" | "KUBELET_KUBEADM_ARGS")) if !in_unit => {
                Target::ArgsVariable {
                    path: &flag.source,
                    variable,
                    current: setup.node_ip_line.clone(),
                }
            }
            Some(variable) if in_unit => Target::UnitVariable {
                path: &flag.source,
                variable,
            },
            _ if in_unit => Target::ExecStart { path: &flag.source },
            _ => Target::ArgsVariable {
                path: &setup.extra_args_file,
                variable: "KUBELET_EXTRA_ARGS",
                current: setup.extra_args.clone(),
            },
        };
    }
    if !setup.joined {
        return Target::KubeadmConfig;
    }
    Target::ArgsVariable {
        path: &setup.extra_args_file,
        variable: "KUBELET_EXTRA_ARGS",
        current: setup.extra_args.clone(),
    }
}
