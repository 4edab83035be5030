//! Everything the node-ip rules look at, read once: the network, the Node object from the API
//! and DigitalOcean's anchor address from the metadata service.

use std::net::{IpAddr, Ipv4Addr};

use super::predict::{self, Prediction};
use super::setup::Setup;
use crate::host::{FetchRequest, Host, Source};
use crate::kube::node_status::NodeStatus;
use crate::network::{Interface, InterfaceAddress, Inventory, is_global_unicast, is_private};

/// The metadata path that returns a DigitalOcean droplet's anchor IPv4 address.
pub const ANCHOR_PATH: &str = "/metadata/v1/interfaces/public/0/anchor_ipv4/address";

/// Interface name prefixes of container, overlay and tunnel devices. Their addresses are never
/// the address other nodes should reach the kubelet on.
const VIRTUAL_PREFIXES: [&str; 17] = [
    "docker",
    "br-",
    "cni",
    "flannel",
    "cali",
    "vxlan",
    "kube-",
    "tunl",
    "weave",
    "virbr",
    "veth",
    "lxc",
    "cilium",
    "genev",
    "nodelocaldns",
    "tun",
    "tap",
];

/// The node's InternalIPs as registered in the API server.
#[derive(Clone, Debug)]
pub enum Registered {
    Read {
        internal_ips: Vec<String>,
        source: String,
    },
    /// The Node object could not be read, and why.
    Unknown(String),
}

/// The metadata service's result for the anchor address.
#[derive(Clone, Debug)]
pub enum Anchor {
    Confirmed(Ipv4Addr),
    /// The request failed, or returned something that is not an IPv4 address.
    Failed(String),
    /// The service was not asked, and why.
    NotAsked(String),
}

pub struct Facts {
    pub setup: Setup,
    pub inventory: Inventory,
    pub registered: Registered,
    pub anchor: Anchor,
    pub prediction: Prediction,
}

impl Facts {
    pub fn gather(host: &dyn Host, offline: bool, setup: Setup, inventory: Inventory) -> Facts {
        let network_allowed = !offline || host.source() == Source::Snapshot;
        let registered = read_registered(host, &setup, network_allowed);
        let anchor = read_anchor(host, &setup, network_allowed);
        let prediction = predict::predict(&setup, &inventory);
        Facts {
            setup,
            inventory,
            registered,
            anchor,
            prediction,
        }
    }

    pub fn registered_ips(&self) -> Vec<IpAddr> {
        match &self.registered {
            Registered::Read { internal_ips, .. } => internal_ips
                .iter()
                .filter_map(|ip| ip.parse().ok())
                .collect(),
            Registered::Unknown(_) => Vec::new(),
        }
    }

    /// Returns whether an interface is a real network device another node could reach.
    pub fn is_physical(interface: &Interface) -> bool {
        interface.is_up()
            && !interface.is_loopback()
            && !VIRTUAL_PREFIXES
                .iter()
                .any(|prefix| interface.name.starts_with(prefix))
    }

    /// Returns the address a fix should pin: a private address on another interface when one
    /// exists, else the default interface's public address, else any plain address on it.
    pub fn recommended(&self) -> Option<(IpAddr, String)> {
        let default = self
            .inventory
            .default_interface()
            .map(|(i, _)| i.name.clone());
        for interface in &self.inventory.interfaces {
            if Some(&interface.name) == default.as_ref() || !Facts::is_physical(interface) {
                continue;
            }
            if let Some(address) = interface
                .global_ipv4()
                .find(|a| is_private(a.ip) && self.nat_reason(interface, a).is_none())
            {
                return Some((address.ip, interface.name.clone()));
            }
        }

        let Some((interface, _)) = self.inventory.default_interface() else {
            // Without a default route, any real interface's global address is a start.
            return self
                .inventory
                .interfaces
                .iter()
                .filter(|interface| Facts::is_physical(interface))
                .find_map(|interface| {
                    let address = interface
                        .addresses
                        .iter()
                        .find(|a| is_global_unicast(a.ip))?;
                    Some((address.ip, interface.name.clone()))
                });
        };
        let usable = |address: &&InterfaceAddress| {
            self.alias_kind(interface, address).is_none()
                && self.nat_reason(interface, address).is_none()
        };
        let public = interface
            .global_ipv4()
            .filter(usable)
            .find(|a| !is_private(a.ip));
        let any_v4 = interface.global_ipv4().find(usable);
        let any_v6 = interface
            .addresses
            .iter()
            .find(|a| a.ip.is_ipv6() && is_global_unicast(a.ip));
        public
            .or(any_v4)
            .or(any_v6)
            .map(|address| (address.ip, interface.name.clone()))
    }

    /// Returns why an address is a cloud alias rather than the node's own address, if it is.
    pub fn alias_kind(&self, interface: &Interface, address: &InterfaceAddress) -> Option<Alias> {
        let IpAddr::V4(ip) = address.ip else {
            return None;
        };
        match &self.anchor {
            Anchor::Confirmed(anchor) if *anchor == ip => return Some(Alias::AnchorConfirmed),
            Anchor::Confirmed(_) => {}
            Anchor::Failed(_) | Anchor::NotAsked(_) => {
                let on_default = self
                    .inventory
                    .default_interface()
                    .is_some_and(|(default, _)| default.name == interface.name);
                let public_beside = interface.global_ipv4().find(|a| !is_private(a.ip));
                if on_default
                    && ip.octets()[0] == 10
                    && address.prefix_len == 16
                    && let Some(public) = public_beside
                {
                    return Some(Alias::AnchorLikely { public: public.ip });
                }
            }
        }

        let dynamic_primary = interface
            .global_ipv4()
            .find(|other| other.dynamic && other.ip != address.ip);
        if address.prefix_len == 32
            && !address.dynamic
            && let Some(primary) = dynamic_primary
        {
            return Some(Alias::Floating {
                primary: primary.cidr(),
            });
        }
        None
    }

    /// Returns why an address is a NAT address that every VM of its kind gets, if it is.
    pub fn nat_reason(&self, interface: &Interface, address: &InterfaceAddress) -> Option<String> {
        let virtualbox_nat: IpAddr = Ipv4Addr::new(10, 0, 2, 15).into();
        if address.ip == virtualbox_nat {
            return Some(format!(
                "{} is the address VirtualBox's NAT network gives every VM on {}",
                address.ip, interface.name
            ));
        }
        let gateway = self
            .inventory
            .routes_v4
            .iter()
            .find(|route| route.is_default() && route.device.as_deref() == Some(&interface.name))
            .and_then(|route| route.gateway);
        let virtualbox_gateway: IpAddr = Ipv4Addr::new(10, 0, 2, 2).into();
        let in_nat_subnet =
            crate::network::same_subnet(address.ip, virtualbox_nat, 24) && address.prefix_len >= 24;
        if in_nat_subnet && gateway == Some(virtualbox_gateway) {
            return Some(format!(
                "{} is in VirtualBox's NAT network 10.0.2.0/24 (gateway 10.0.2.2), which every VM gets alike",
                address.ip
            ));
        }
        None
    }
}

/// The kinds of alias address that must not be the node IP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Alias {
    /// The metadata service named it as the droplet's anchor address.
    AnchorConfirmed,
    /// A 10.x.x.x/16 address beside a public one on the default interface, DigitalOcean's
    /// anchor layout, not confirmed by the metadata service.
    AnchorLikely { public: IpAddr },
    /// A static /32 beside a DHCP-assigned primary: a floating IP (Hetzner) or a secondary
    /// address added by hand.
    Floating { primary: String },
}

fn read_registered(host: &dyn Host, setup: &Setup, network_allowed: bool) -> Registered {
    if !network_allowed {
        return Registered::Unknown("network requests are turned off (--offline)".to_string());
    }
    if host.source() == Source::Live && !setup.joined {
        let why = format!(
            "{} does not exist, so the node has not joined",
            setup.kubeconfig
        );
        return Registered::Unknown(why);
    }
    let request = FetchRequest::Node {
        name: setup.node.clone(),
        kubeconfig: setup.kubeconfig.clone(),
    };
    let text = match host.fetch(&request) {
        Ok(text) => text,
        Err(error) => {
            tracing::info!(%error, node = setup.node, "cannot read the Node object");
            return Registered::Unknown(error.to_string());
        }
    };
    match NodeStatus::parse(&text) {
        Ok(node) => Registered::Read {
            internal_ips: node
                .addresses_of("InternalIP")
                .into_iter()
                .map(str::to_string)
                .collect(),
            source: request.snapshot_path(),
        },
        Err(message) => {
            tracing::warn!(
                message,
                source = request.snapshot_path(),
                "ignoring the Node object"
            );
            Registered::Unknown(format!("{}: {message}", request.snapshot_path()))
        }
    }
}

fn read_anchor(host: &dyn Host, setup: &Setup, network_allowed: bool) -> Anchor {
    if !setup.is_digitalocean() {
        let vendor = setup.vendor.as_deref().unwrap_or("unknown");
        return Anchor::NotAsked(format!("the DMI vendor is {vendor:?}, not DigitalOcean"));
    }
    if !network_allowed {
        return Anchor::NotAsked("network requests are turned off (--offline)".to_string());
    }
    let request = FetchRequest::Metadata {
        path: ANCHOR_PATH.to_string(),
    };
    let text = match host.fetch(&request) {
        Ok(text) => text,
        Err(error) => {
            tracing::info!(%error, "cannot read the anchor address from the metadata service");
            return Anchor::Failed(error.to_string());
        }
    };
    match text.trim().parse::<Ipv4Addr>() {
        Ok(ip) => Anchor::Confirmed(ip),
        Err(_) => {
            let shown: String = text
                .trim()
                .chars()
                .take(40)
                .map(|c| if c.is_control() { '?' } else { c })
                .collect();
            tracing::warn!(
                answer = shown,
                "the metadata service answered no IPv4 address"
            );
            Anchor::Failed(format!("the answer {shown:?} is not an IPv4 address"))
        }
    }
}
