//! The rules of the node-ip check: each turns [`Facts`] into findings.

use std::net::IpAddr;

use super::facts::{ANCHOR_PATH, Alias, Anchor, Facts, Registered};
use super::fixes::{self, KUBELET_INTEGRATION_URL, TROUBLESHOOTING_URL};
use crate::check::{Code, Evidence, Finding, Fix};
use crate::host::HostCommand;
use crate::network::{Interface, InterfaceAddress, is_global_unicast, is_private};

/// The route by which an address becomes the node IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    Configured,
    Registered,
    Predicted,
}

#[derive(Clone, Copy, Debug)]
struct NodeIpUse {
    ip: IpAddr,
    how: How,
}

/// Returns the addresses that are, or will be, the node IP: --node-ip when it names addresses,
/// else the registered InternalIPs and the kubelet's expected choice.
fn node_ip_uses(facts: &Facts) -> Vec<NodeIpUse> {
    // A --node-ip without a single valid address (a host name) leaves older kubelets to choose
    // themselves, so the registered and expected addresses are what matter then.
    if let Some(flag) = facts.setup.pinned().filter(|flag| !flag.ips.is_empty()) {
        return flag
            .ips
            .iter()
            .map(|ip| NodeIpUse {
                ip: *ip,
                how: How::Configured,
            })
            .collect();
    }
    let mut uses: Vec<NodeIpUse> = facts
        .registered_ips()
        .into_iter()
        .map(|ip| NodeIpUse {
            ip,
            how: How::Registered,
        })
        .collect();
    if let Some(ip) = facts.prediction.ip {
        uses.push(NodeIpUse {
            ip,
            how: How::Predicted,
        });
    }
    uses
}

fn use_evidence(facts: &Facts, node_ip: &NodeIpUse) -> Evidence {
    match node_ip.how {
        How::Configured => {
            let flag = facts
                .setup
                .pinned()
                .expect("configured uses come from --node-ip");
            Evidence::new(flag.origin(), "--node-ip", &flag.raw)
        }
        How::Registered => {
            let source = match &facts.registered {
                Registered::Read { source, .. } => source.clone(),
                Registered::Unknown(_) => "api".to_string(),
            };
            Evidence::new(
                source,
                "status.addresses InternalIP",
                node_ip.ip.to_string(),
            )
        }
        How::Predicted => Evidence::new(
            "kubelet node IP selection",
            "expected choice",
            format!("{} ({})", node_ip.ip, facts.prediction.rule),
        ),
    }
}

/// Evidence that --node-ip is not set, naming the files that were read.
fn unset_evidence(facts: &Facts) -> Evidence {
    let value = match &facts.setup.node_ip {
        Some(flag) => flag.raw.clone(),
        None => "not set".to_string(),
    };
    let source = match &facts.setup.node_ip {
        Some(flag) => flag.origin(),
        None => "kubelet flags".to_string(),
    };
    Evidence::new(source, "--node-ip", value)
}

fn interface_evidence(interface: &Interface) -> Evidence {
    let addresses: Vec<String> = interface
        .addresses
        .iter()
        .filter(|a| is_global_unicast(a.ip))
        .map(describe_address)
        .collect();
    Evidence::new(
        HostCommand::IpAddr.display(),
        &interface.name,
        addresses.join(", "),
    )
}

fn describe_address(address: &InterfaceAddress) -> String {
    let mut text = address.cidr();
    if address.dynamic {
        text.push_str(" dynamic");
    }
    if address.secondary {
        text.push_str(" secondary");
    }
    if let Some(label) = address.label.as_deref().filter(|label| label.contains(':')) {
        text.push_str(&format!(" label {label}"));
    }
    text
}

fn how_phrase(uses: &[NodeIpUse]) -> &'static str {
    if uses.iter().any(|u| u.how == How::Configured) {
        "--node-ip names"
    } else if uses.iter().any(|u| u.how == How::Registered) {
        "the node is registered with"
    } else {
        "the kubelet will choose"
    }
}

fn recommended_fix(facts: &Facts) -> Fix {
    fixes::pin_node_ip(facts, facts.recommended().as_ref())
}

pub fn anchor_selected(facts: &Facts) -> Option<Finding> {
    let mut matched: Vec<(NodeIpUse, Alias, &Interface, &InterfaceAddress)> = Vec::new();
    for node_ip in node_ip_uses(facts) {
        let Some((interface, address)) = facts.inventory.find_address(node_ip.ip) else {
            continue;
        };
        if let Some(alias) = facts.alias_kind(interface, address) {
            matched.push((node_ip, alias, interface, address));
        }
    }
    let (_, alias, interface, address) = matched.first().cloned()?;
    let uses: Vec<NodeIpUse> = matched
        .iter()
        .filter(|(u, ..)| u.ip == address.ip)
        .map(|(u, ..)| *u)
        .collect();
    let how = how_phrase(&uses);
    let ip = address.ip;
    let name = &interface.name;

    let (summary, what) = match &alias {
        Alias::AnchorConfirmed => (
            format!("{how} {ip}, DigitalOcean's anchor address on {name}"),
            format!(
                "The metadata service ({ANCHOR_PATH}) names {ip} as this droplet's anchor address: an alias on {name} that DigitalOcean uses to route floating IPs. Other droplets cannot reach it."
            ),
        ),
        Alias::AnchorLikely { public } => {
            let why = match &facts.anchor {
                Anchor::Failed(reason) => {
                    format!("the metadata service could not confirm it: {reason}")
                }
                Anchor::NotAsked(reason) => format!("the metadata service was not asked: {reason}"),
                Anchor::Confirmed(_) => String::new(),
            };
            (
                format!("{how} {ip}, probably a DigitalOcean anchor address on {name}"),
                format!(
                    "{ip}/{} sits on {name} beside the public address {public}, which is how DigitalOcean adds a droplet's anchor address for floating IPs. This is likely but not certain, because {why}. Other droplets cannot reach an anchor address.",
                    address.prefix_len
                ),
            )
        }
        Alias::Floating { primary } => (
            format!("{how} {ip}, a static /32 alias on {name} beside its DHCP address {primary}"),
            format!(
                "{ip}/32 is a static address added beside {name}'s DHCP-assigned {primary}, the way floating IPs (Hetzner) and hand-added secondary addresses are configured. It can move to another server, and the cloud may not route the cluster's traffic to it."
            ),
        ),
    };
    let mut details = format!(
        "{what} The API server dials the kubelet on the node's InternalIP, so `kubectl logs`, `exec` and `port-forward` for pods on this node fail with \"no route to host\" or time out. `ifconfig` does not show such alias addresses; `ip addr show {name}` does."
    );
    if let Some(predicted) = facts.prediction.ip.filter(|p| *p != ip)
        && uses.iter().all(|u| u.how == How::Registered)
    {
        details.push_str(&format!(" The kubelet's default-route rule would pick {predicted} today, so the alias came from a lookup of the node name or an earlier address order; only --node-ip makes the choice stable."));
    }

    let mut finding = Finding::new(Code::NodeIpAnchorIpSelected, summary)
        .details(details)
        .with_evidence(uses.iter().map(|u| use_evidence(facts, u)))
        .with_evidence([interface_evidence(interface)]);
    finding = match &facts.anchor {
        Anchor::Confirmed(anchor) => finding.evidence("metadata", ANCHOR_PATH, anchor.to_string()),
        Anchor::Failed(reason) => {
            finding.evidence("metadata", ANCHOR_PATH, format!("not confirmed: {reason}"))
        }
        Anchor::NotAsked(_) => finding,
    };
    if uses.iter().all(|u| u.how != How::Configured) {
        finding = finding.with_evidence([unset_evidence(facts)]);
    }
    Some(
        finding
            .fix(recommended_fix(facts))
            .reference(TROUBLESHOOTING_URL)
            .reference(KUBELET_INTEGRATION_URL),
    )
}

pub fn shared_nat(facts: &Facts) -> Option<Finding> {
    let mut matched = Vec::new();
    for node_ip in node_ip_uses(facts) {
        let Some((interface, address)) = facts.inventory.find_address(node_ip.ip) else {
            continue;
        };
        if let Some(reason) = facts.nat_reason(interface, address) {
            matched.push((node_ip, reason, interface));
        }
    }
    let (first, reason, interface) = matched.first().cloned()?;
    let uses: Vec<NodeIpUse> = matched
        .iter()
        .filter(|(u, ..)| u.ip == first.ip)
        .map(|(u, ..)| *u)
        .collect();
    let how = how_phrase(&uses);
    let mut finding = Finding::new(
        Code::NodeIpSharedNatAddress,
        format!("{how} {}, a NAT address every VM shares", first.ip),
    )
    .details(format!("{reason}. Every node registers the same InternalIP, so the API server sends `kubectl logs`, `exec` and `port-forward` requests to whichever VM answers there: they fail, or return NotFound for a pod that is running on another node. Pin --node-ip to the VM's host-only or bridged address."))
    .with_evidence(uses.iter().map(|u| use_evidence(facts, u)))
    .with_evidence([interface_evidence(interface)]);
    if uses.iter().all(|u| u.how != How::Configured) {
        finding = finding.with_evidence([unset_evidence(facts)]);
    }
    Some(
        finding
            .fix(recommended_fix(facts))
            .reference(KUBELET_INTEGRATION_URL),
    )
}

pub fn not_on_host(facts: &Facts) -> Option<Finding> {
    let flag = facts.setup.pinned()?;
    let missing: Vec<String> = flag
        .ips
        .iter()
        .filter(|ip| facts.inventory.find_address(**ip).is_none())
        .map(|ip| ip.to_string())
        .chain(
            flag.invalid
                .iter()
                .map(|entry| format!("{entry:?} (not an IP address)")),
        )
        .collect();
    if missing.is_empty() {
        return None;
    }
    let host_addresses: Vec<String> = facts
        .inventory
        .interfaces
        .iter()
        .filter(|i| Facts::is_physical(i))
        .flat_map(|i| {
            i.addresses
                .iter()
                .filter(|a| is_global_unicast(a.ip))
                .map(move |a| format!("{} {}", i.name, a.cidr()))
        })
        .collect();
    let details = if flag.invalid.is_empty() {
        "The kubelet checks that every --node-ip address belongs to an interface of this host. It rejects this one with \"node IP ... not found in the host's network interfaces\" and does not update the node's addresses, or it registers an address no other node reaches this one on.".to_string()
    } else {
        "--node-ip takes IP addresses, not host names. Current kubelets refuse to start with an invalid value; older ones ignored it and fell back to the default-route interface, which on multi-homed VMs is the NAT address.".to_string()
    };
    Some(
        Finding::new(
            Code::NodeIpNodeIpNotOnHost,
            format!(
                "--node-ip={} names {} that no interface of this host has",
                flag.raw,
                missing.join(", ")
            ),
        )
        .details(details)
        .evidence(flag.origin(), "--node-ip", &flag.raw)
        .evidence(
            HostCommand::IpAddr.display(),
            "global addresses",
            host_addresses.join(", "),
        )
        .fix(recommended_fix(facts))
        .reference(KUBELET_INTEGRATION_URL),
    )
}

pub fn internal_ip_mismatch(facts: &Facts) -> Option<Finding> {
    let Registered::Read {
        internal_ips,
        source,
    } = &facts.registered
    else {
        return None;
    };
    let registered = facts.registered_ips();
    if registered.is_empty() {
        return None;
    }
    let registered_text = internal_ips.join(",");
    if let Some(flag) = facts.setup.pinned() {
        if flag.ips.is_empty() || flag.ips.iter().all(|ip| registered.contains(ip)) {
            return None;
        }
        return Some(
            Finding::new(
                Code::NodeIpInternalIpMismatch,
                format!("the API lists InternalIP {registered_text}, but the kubelet runs with --node-ip={}", flag.raw),
            )
            .details("The kubelet sets the node's addresses from --node-ip each time it starts. A different InternalIP means the kubelet was not restarted after --node-ip changed, or a cloud controller manager sets the addresses.")
            .evidence(source, "status.addresses InternalIP", &registered_text)
            .evidence(flag.origin(), "--node-ip", &flag.raw)
            .fix(
                Fix::new("restart the kubelet so it registers the configured address")
                    .step("Restart the kubelet and check the node's addresses again.")
                    .step("If the InternalIP stays different and the kubelet runs with --cloud-provider=external, the cloud controller manager sets it: check that provider's node address settings.")
                    .command("systemctl daemon-reload && systemctl restart kubelet")
                    .command(format!("kubectl get node {} -o jsonpath='{{.status.addresses}}'", facts.setup.node)),
            )
            .reference(KUBELET_INTEGRATION_URL),
        );
    }
    let stray: Vec<String> = registered
        .iter()
        .filter(|ip| facts.inventory.find_address(**ip).is_none())
        .map(|ip| ip.to_string())
        .collect();
    if stray.is_empty() {
        return None;
    }
    Some(
        Finding::new(
            Code::NodeIpInternalIpMismatch,
            format!("the API lists InternalIP {}, which no interface of this host has", stray.join(", ")),
        )
        .details("The API server reaches the kubelet on the InternalIP. An address that is not on this host belongs to another machine (or none), so logs and exec requests for pods here go elsewhere and fail or return NotFound.")
        .evidence(source, "status.addresses InternalIP", &registered_text)
        .with_evidence([unset_evidence(facts)])
        .fix(recommended_fix(facts))
        .reference(KUBELET_INTEGRATION_URL),
    )
}

/// Warns when the kubelet picks among several IPv4 addresses of the default interface on its
/// own. Only runs when no anchor or NAT finding already explains the choice.
pub fn multiple_unpinned(facts: &Facts) -> Option<Finding> {
    if facts.setup.pinned().is_some() {
        return None;
    }
    let (interface, _) = facts.inventory.default_interface()?;
    let addresses: Vec<&InterfaceAddress> = interface.global_ipv4().collect();
    if addresses.len() < 2 {
        return None;
    }
    let choice = match facts.prediction.ip {
        Some(ip) => format!(
            "The kubelet would now choose {ip} ({}).",
            facts.prediction.rule
        ),
        None => "node-doctor cannot tell which one the kubelet would choose.".to_string(),
    };
    let dns = if facts.prediction.dns_could_override {
        format!(
            " A DNS record for {} that points at one of them would win over that rule.",
            facts.setup.hostname
        )
    } else {
        String::new()
    };
    let list: Vec<String> = addresses.iter().map(|a| a.cidr()).collect();
    Some(
        Finding::new(
            Code::NodeIpMultipleAddressesUnpinned,
            format!("{} has {} IPv4 addresses ({}) and --node-ip is not set", interface.name, addresses.len(), list.join(", ")),
        )
        .details(format!("{choice}{dns} The order of addresses can change when the interface is configured again, so the node may register an alias or floating address later. Pin the address with --node-ip."))
        .with_evidence([interface_evidence(interface), unset_evidence(facts)])
        .fix(recommended_fix(facts))
        .reference(KUBELET_INTEGRATION_URL),
    )
}

/// Warns when the node IP is a public address on the default interface while another interface
/// has a private address.
pub fn private_network_unused(facts: &Facts) -> Option<Finding> {
    let node_ip = node_ip_uses(facts).into_iter().next()?;
    if is_private(node_ip.ip) {
        return None;
    }
    let (interface, _) = facts.inventory.find_address(node_ip.ip)?;
    let (default, _) = facts.inventory.default_interface()?;
    if interface.name != default.name {
        return None;
    }
    let (private_ip, private_interface) = facts.recommended()?;
    if private_interface == interface.name || !is_private(private_ip) {
        return None;
    }
    let how = how_phrase(&[node_ip]);
    let private = facts.inventory.interface(&private_interface)?;
    Some(
        Finding::new(
            Code::NodeIpPrivateNetworkUnused,
            format!("{how} the public address {} although {private_interface} has the private address {private_ip}", node_ip.ip),
        )
        .details(format!("Control-plane traffic to the kubelet (port 10250: logs, exec, port-forward) and node-to-node traffic then cross the public network. Where a firewall admits only the private network, `kubectl exec` and `kubectl logs` time out. Use {private_ip} unless the cluster spans networks that only meet over public addresses."))
        .with_evidence([use_evidence(facts, &node_ip), interface_evidence(interface), interface_evidence(private)])
        .fix(recommended_fix(facts))
        .reference(KUBELET_INTEGRATION_URL),
    )
}

/// Reports a node where the kubelet has no way to choose an address: no --node-ip, no usable
/// /etc/hosts entry and no default route.
pub fn no_default_route(facts: &Facts) -> Option<Finding> {
    if facts.setup.pinned().is_some() || facts.prediction.ip.is_some() {
        return None;
    }
    let routes = facts.inventory.routes_v4.len() + facts.inventory.routes_v6.len();
    Some(
        Finding::new(
            Code::NodeIpNoDefaultRoute,
            "--node-ip is not set and no default route leads to an interface with a global address",
        )
        .details(format!("Without --node-ip the kubelet looks up {} and then takes the address of the default-route interface. With neither, it fails with \"can't get ip address of node\" and the node never gets an InternalIP. A DNS record for the node name, which node-doctor does not query, would still let it start.", facts.setup.hostname))
        .with_evidence([unset_evidence(facts)])
        .evidence(HostCommand::IpRoute.display(), "default routes", format!("none among {routes} routes"))
        .fix(recommended_fix(facts))
        .reference(KUBELET_INTEGRATION_URL),
    )
}
