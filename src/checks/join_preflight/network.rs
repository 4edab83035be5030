//! Kernel network settings kubeadm and kube-proxy need: br_netfilter with
//! bridge-nf-call-iptables, and IPv4 forwarding.

use crate::check::{Code, Finding, Fix};
use crate::host::{Host, MAX_CONFIG_BYTES};
use crate::kernel::modules::{PROC_MODULES, boot_modules, is_loaded};
use crate::kernel::sysctl::{self, Current, SysctlSetting};

const BRIDGE_KEY: &str = "net.bridge.bridge-nf-call-iptables";
const BRIDGE6_KEY: &str = "net.bridge.bridge-nf-call-ip6tables";
const FORWARD_KEY: &str = "net.ipv4.ip_forward";
const K8S_SYSCTL: &str = "/etc/sysctl.d/k8s.conf";
const K8S_MODULES: &str = "/etc/modules-load.d/k8s.conf";
const PREREQUISITES_URL: &str = "https://kubernetes.io/docs/setup/production-environment/container-runtimes/#prerequisite-ipv4-forwarding-optional";
const NETWORK_PLUGIN_URL: &str = "https://kubernetes.io/docs/concepts/extend-kubernetes/compute-storage-net/network-plugins/#network-plugin-requirements";

pub fn br_netfilter(host: &dyn Host) -> Option<Finding> {
    let proc_path = sysctl::proc_path(BRIDGE_KEY);
    let (state, summary) = match sysctl::current(host, BRIDGE_KEY) {
        Current::Unknown => return None,
        Current::Value(value) if value == "1" => return None,
        Current::Value(value) => (
            value.to_string(),
            format!("{BRIDGE_KEY} is {value}: bridged pod traffic bypasses iptables"),
        ),
        Current::Absent => (
            "absent: the br_netfilter module is not loaded".to_string(),
            format!("{proc_path} does not exist: the br_netfilter module is not loaded"),
        ),
    };
    let mut finding = Finding::new(Code::JoinPreflightBrNetfilterMissing, summary).details(
        "kube-proxy's iptables rules only see traffic between pods on the same Linux bridge when br_netfilter is loaded and bridge-nf-call-iptables is 1; without it, Service addresses do not work between such pods. The key exists only while the module is loaded, so a sysctl.d file that sets it has no effect until the module loads, and `sysctl --system` skips it. On a node that is itself a container, the module has to be loaded on the host kernel.",
    );
    finding = finding.evidence(&proc_path, "value", state);

    if let Ok(modules) = host.read_text(PROC_MODULES, 4 * MAX_CONFIG_BYTES) {
        let loaded = if is_loaded(&modules, "br_netfilter") {
            "loaded"
        } else {
            "not listed"
        };
        finding = finding.evidence(PROC_MODULES, "br_netfilter", loaded);
    }
    let at_boot: Vec<_> = boot_modules(host)
        .into_iter()
        .filter(|m| m.name == "br_netfilter")
        .collect();
    if at_boot.is_empty() {
        finding = finding.evidence(
            "/etc/modules-load.d",
            "br_netfilter",
            "no modules-load.d file or /etc/modules loads it at boot",
        );
    }
    for module in &at_boot {
        finding = finding.evidence(
            format!("{}:{}", module.file, module.line),
            "br_netfilter",
            "loaded at boot",
        );
    }
    let settings = sysctl::settings(host, BRIDGE_KEY);
    finding = with_settings(finding, BRIDGE_KEY, &settings);
    if host.exists("/.dockerenv") || host.exists("/run/.containerenv") {
        finding = finding.evidence(
            if host.exists("/.dockerenv") {
                "/.dockerenv"
            } else {
                "/run/.containerenv"
            },
            "node",
            "runs in a container: br_netfilter must be loaded on the host that runs it",
        );
    }

    let mut fix =
        Fix::new("load br_netfilter now and at every boot, then apply the sysctl settings");
    if at_boot.is_empty() {
        fix = fix
            .step(format!(
                "List br_netfilter in {K8S_MODULES} so systemd-modules-load loads it at boot."
            ))
            .command(format!("printf 'br_netfilter\\n' >> {K8S_MODULES}"));
    }
    fix = fix
        .step("Load the module now.")
        .command("modprobe br_netfilter");
    fix = persist_setting(fix, BRIDGE_KEY, &settings, &[BRIDGE6_KEY]);
    Some(
        finding
            .fix(
                fix.command("sysctl --system")
                    .command(format!("sysctl {BRIDGE_KEY}")),
            )
            .reference(NETWORK_PLUGIN_URL),
    )
}

pub fn ip_forward(host: &dyn Host) -> Option<Finding> {
    let Current::Value(value) = sysctl::current(host, FORWARD_KEY) else {
        return None;
    };
    if value == "1" {
        return None;
    }
    let proc_path = sysctl::proc_path(FORWARD_KEY);
    let settings = sysctl::settings(host, FORWARD_KEY);
    let mut finding = Finding::new(
        Code::JoinPreflightIpForwardDisabled,
        format!("{FORWARD_KEY} is {value}: the node does not forward pod traffic"),
    )
    .details("Pods reach each other and Services through the node's routing, which needs IPv4 forwarding. kubeadm's preflight stops with \"/proc/sys/net/ipv4/ip_forward contents are not set to 1\". Docker turns forwarding on when it starts, containerd and CRI-O do not, so a node that moved off Docker can lose it at the next reboot.")
    .evidence(&proc_path, "value", value);
    finding = with_settings(finding, FORWARD_KEY, &settings);

    let mut fix = Fix::new(format!(
        "set {FORWARD_KEY} = 1 now and in the sysctl configuration"
    ))
    .step("Turn forwarding on now.")
    .command(format!("sysctl -w {FORWARD_KEY}=1"));
    fix = persist_setting(fix, FORWARD_KEY, &settings, &[]);
    Some(
        finding
            .fix(
                fix.command("sysctl --system")
                    .command(format!("sysctl {FORWARD_KEY}")),
            )
            .reference(PREREQUISITES_URL),
    )
}

fn with_settings(mut finding: Finding, key: &str, settings: &[SysctlSetting]) -> Finding {
    if settings.is_empty() {
        return finding.evidence(
            "/etc/sysctl.d",
            key,
            "not set in any sysctl.d file or /etc/sysctl.conf",
        );
    }
    for setting in settings {
        finding = finding.evidence(setting.location(), key, &setting.value);
    }
    finding
}

/// Adds the steps that make `key = 1` persistent: edit the file whose setting wins at boot when
/// it sets another value, else append to /etc/sysctl.d/k8s.conf when no file sets 1.
fn persist_setting(
    mut fix: Fix,
    key: &str,
    settings: &[SysctlSetting],
    companions: &[&str],
) -> Fix {
    match settings.last() {
        Some(last) if last.value == "1" => fix.step(format!(
            "{} already sets {key} = 1; `sysctl --system` applies it once the key exists.",
            last.location()
        )),
        Some(last) => {
            fix = fix.step(format!(
                "{} sets {key} = {} and wins at boot; change it to 1.",
                last.location(),
                last.value
            ));
            fix.command(format!("sed -i '{}s/=.*/= 1/' {}", last.line, last.file))
        }
        None => {
            let mut lines = format!("{key} = 1\\n");
            for companion in companions {
                lines.push_str(&format!("{companion} = 1\\n"));
            }
            fix = fix.step(format!(
                "Set {key} = 1 in {K8S_SYSCTL} so it applies at every boot."
            ));
            fix.command(format!("printf '{lines}' >> {K8S_SYSCTL}"))
        }
    }
}
