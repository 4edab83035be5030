//! The address the kubelet registers when --node-ip is not set.
//!
//! Without a cloud provider, the kubelet (pkg/kubelet/nodestatus/setters.go, NodeAddress) takes
//! the hostname when it parses as an IP. Else it takes the first address that a lookup of the
//! node name returns, if that address is on this host and not loopback, link-local or
//! multicast. Else it takes the first global unicast address of the interface of the first
//! default route (k8s.io/apimachinery/pkg/util/net ChooseHostInterface), skipping interfaces
//! that are down. IPv4 comes first unless --node-ip is `::`.

use std::net::IpAddr;

use super::setup::Setup;
use crate::network::{Inventory, is_global_unicast};

/// The kubelet's expected choice and the rule that gave it.
#[derive(Clone, Debug)]
pub struct Prediction {
    pub ip: Option<IpAddr>,
    /// The rule in words, such as "first global IPv4 address of eth0, the default-route
    /// interface".
    pub rule: String,
    /// True when a DNS answer for the node name, which node-doctor does not ask for, would win
    /// over this choice.
    pub dns_could_override: bool,
}

pub fn predict(setup: &Setup, inventory: &Inventory) -> Prediction {
    let prefer_ipv6 = setup
        .node_ip
        .as_ref()
        .is_some_and(|flag| flag.is_unspecified() && flag.ips[0].is_ipv6());

    if let Ok(ip) = setup.hostname.parse::<IpAddr>() {
        return Prediction {
            ip: Some(ip),
            rule: format!("the hostname {} is an IP address", setup.hostname),
            dns_could_override: false,
        };
    }

    let valid = |ip: &IpAddr| is_global_unicast(*ip) && inventory.find_address(*ip).is_some();
    let hosts_choice = setup
        .hosts_entries
        .iter()
        .filter(|ip| valid(ip))
        .find(|ip| ip.is_ipv6() == prefer_ipv6)
        .or_else(|| setup.hosts_entries.iter().find(|ip| valid(ip)));
    if let Some(ip) = hosts_choice {
        return Prediction {
            ip: Some(*ip),
            rule: format!("/etc/hosts maps {} to {ip}", setup.hostname),
            dns_could_override: false,
        };
    }

    let families = if prefer_ipv6 {
        [true, false]
    } else {
        [false, true]
    };
    for want_ipv6 in families {
        let routes = if want_ipv6 {
            &inventory.routes_v6
        } else {
            &inventory.routes_v4
        };
        // The kubelet skips IPv6 default routes without a gateway, as /proc/net/ipv6_route
        // lists loopback that way.
        let defaults = routes
            .iter()
            .filter(|route| route.is_default() && (!want_ipv6 || route.gateway.is_some()));
        for route in defaults {
            let Some(interface) = route.device.as_deref().and_then(|d| inventory.interface(d))
            else {
                continue;
            };
            if !interface.is_up() {
                continue;
            }
            let found = interface
                .addresses
                .iter()
                .find(|a| a.ip.is_ipv6() == want_ipv6 && is_global_unicast(a.ip));
            if let Some(address) = found {
                let family = if want_ipv6 { "IPv6" } else { "IPv4" };
                return Prediction {
                    ip: Some(address.ip),
                    rule: format!(
                        "first global {family} address of {}, the default-route interface",
                        interface.name
                    ),
                    dns_could_override: true,
                };
            }
        }
    }

    Prediction {
        ip: None,
        rule: "no default route leads to an interface with a global address".to_string(),
        dns_could_override: true,
    }
}
