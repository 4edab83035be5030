//! The node's network interfaces, addresses and routes, parsed from `ip -j` output.
//!
//! The live host runs `ip` and a snapshot carries its output, so both give the same
//! [`Inventory`]. Address order is the kernel's, the same order the kubelet reads.

mod address;
mod ip_json;

pub use address::{is_global_unicast, is_private, same_subnet};
pub use ip_json::{parse_addresses, parse_routes};

use std::net::IpAddr;

use crate::host::{Host, HostCommand, HostError};

/// One network interface with its addresses, in kernel order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub index: u32,
    pub name: String,
    /// Link flags as `ip` prints them: UP, LOOPBACK, POINTOPOINT, LOWER_UP...
    pub flags: Vec<String>,
    pub addresses: Vec<InterfaceAddress>,
}

impl Interface {
    pub fn is_up(&self) -> bool {
        self.flags.iter().any(|flag| flag == "UP")
    }

    pub fn is_loopback(&self) -> bool {
        self.flags.iter().any(|flag| flag == "LOOPBACK")
    }

    pub fn is_point_to_point(&self) -> bool {
        self.flags.iter().any(|flag| flag == "POINTOPOINT")
    }

    /// Returns the global unicast IPv4 addresses, in kernel order.
    pub fn global_ipv4(&self) -> impl Iterator<Item = &InterfaceAddress> {
        self.addresses
            .iter()
            .filter(|address| address.ip.is_ipv4() && is_global_unicast(address.ip))
    }
}

/// One address of an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceAddress {
    pub ip: IpAddr,
    pub prefix_len: u8,
    /// `global`, `link`, `host`...
    pub scope: String,
    /// The IPv4 label, such as `eth0` or `eth0:1`.
    pub label: Option<String>,
    /// The kernel's IFA_F_SECONDARY: a second address in the subnet of a primary one.
    pub secondary: bool,
    /// Assigned with a lifetime, normally by DHCP (`dynamic` in `ip addr`).
    pub dynamic: bool,
}

impl InterfaceAddress {
    /// Returns the address in CIDR form, such as `10.19.0.57/16`.
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.ip, self.prefix_len)
    }
}

/// One route of the main table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// `default` or a prefix such as `10.0.0.0/8`.
    pub destination: String,
    pub gateway: Option<IpAddr>,
    pub device: Option<String>,
    pub metric: Option<u32>,
}

impl Route {
    pub fn is_default(&self) -> bool {
        matches!(self.destination.as_str(), "default" | "0.0.0.0/0" | "::/0")
    }
}

/// The node's interfaces and routes, as the node-ip check reads them.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub interfaces: Vec<Interface>,
    pub routes_v4: Vec<Route>,
    /// Empty when the IPv6 table could not be read.
    pub routes_v6: Vec<Route>,
}

impl Inventory {
    /// Reads interfaces and routes through the host. Interfaces and the IPv4 table are
    /// required; a missing IPv6 table leaves `routes_v6` empty.
    pub fn read(host: &dyn Host) -> Result<Inventory, InventoryError> {
        let addresses = host.run(&HostCommand::IpAddr)?;
        let interfaces =
            parse_addresses(&addresses.stdout).map_err(|message| InventoryError::Invalid {
                file: HostCommand::IpAddr.snapshot_path(),
                message,
            })?;
        let routes = host.run(&HostCommand::IpRoute)?;
        let routes_v4 =
            parse_routes(&routes.stdout).map_err(|message| InventoryError::Invalid {
                file: HostCommand::IpRoute.snapshot_path(),
                message,
            })?;
        let routes_v6 = match host.run(&HostCommand::IpRoute6) {
            Ok(output) => parse_routes(&output.stdout).unwrap_or_else(|message| {
                tracing::warn!(message, "ignoring the invalid IPv6 routing table");
                Vec::new()
            }),
            Err(error) => {
                tracing::debug!(%error, "no IPv6 routing table");
                Vec::new()
            }
        };
        Ok(Inventory {
            interfaces,
            routes_v4,
            routes_v6,
        })
    }

    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces
            .iter()
            .find(|interface| interface.name == name)
    }

    /// Returns the interface and address that carry `ip`, if any interface has it.
    pub fn find_address(&self, ip: IpAddr) -> Option<(&Interface, &InterfaceAddress)> {
        self.interfaces.iter().find_map(|interface| {
            interface
                .addresses
                .iter()
                .find(|address| address.ip == ip)
                .map(|address| (interface, address))
        })
    }

    /// Returns the default routes, IPv4 first, each in table order.
    pub fn default_routes(&self) -> impl Iterator<Item = &Route> {
        self.routes_v4
            .iter()
            .chain(self.routes_v6.iter())
            .filter(|route| route.is_default())
    }

    /// Returns the interface of the first IPv4 default route, else of the first IPv6 one.
    pub fn default_interface(&self) -> Option<(&Interface, &Route)> {
        self.default_routes().find_map(|route| {
            let device = route.device.as_deref()?;
            self.interface(device).map(|interface| (interface, route))
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}
