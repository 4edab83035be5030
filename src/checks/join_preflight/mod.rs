//! Check `join-preflight`: the node conditions that make `kubeadm join` or the kubelet fail.
//!
//! Each rule reads the kernel, the kubelet and the runtime the way kubeadm's preflight checks
//! do, and its finding names the file that sets the value now and the file to change so the
//! fix survives a reboot.

mod cgroup;
mod clock;
mod cni;
mod hostname;
mod kubeconfig;
mod network;
mod setup;
mod socket;
mod swap;

use setup::Setup;

use crate::check::{Check, Context, Finding, Outcome};

pub struct JoinPreflight;

impl Check for JoinPreflight {
    fn id(&self) -> &'static str {
        "join-preflight"
    }

    fn title(&self) -> &'static str {
        "swap, kernel settings, cgroup drivers, CNI, clock, kubeconfig, runtime socket and node name"
    }

    fn run(&self, context: &Context) -> Outcome {
        let host = context.host.as_ref();
        let setup = Setup::read(host);
        if !setup.kubelet_installed && setup.runtimes.is_empty() {
            return Outcome::Skipped(
                "neither the kubelet nor a container runtime is installed on this node".to_string(),
            );
        }

        let mut findings: Vec<Finding> = Vec::new();
        findings.extend(setup.kubelet_config_invalid());
        findings.extend(swap::check(host, &setup));
        findings.extend(network::br_netfilter(host));
        findings.extend(network::ip_forward(host));
        findings.extend(cgroup::check(host, &setup));
        findings.extend(cni::check(host, &setup));
        findings.extend(clock::check(host));
        findings.extend(kubeconfig::check(host, &setup));
        findings.extend(socket::check(host, &setup));
        findings.extend(hostname::check(&context.node));
        Outcome::Ran(findings)
    }
}
