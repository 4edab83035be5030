//! Parsers for `ip -j addr show` and `ip -j route show` (iproute2's JSON output).

use std::net::IpAddr;

use serde::Deserialize;

use super::{Interface, InterfaceAddress, Route};

#[derive(Deserialize)]
struct JsonLink {
    ifindex: u32,
    ifname: String,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    addr_info: Vec<JsonAddress>,
}

#[derive(Deserialize)]
struct JsonAddress {
    family: String,
    local: Option<String>,
    prefixlen: Option<u8>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    secondary: bool,
    #[serde(default)]
    dynamic: bool,
}

#[derive(Deserialize)]
struct JsonRoute {
    dst: String,
    #[serde(default)]
    gateway: Option<String>,
    #[serde(default)]
    dev: Option<String>,
    #[serde(default)]
    metric: Option<u32>,
}

/// Parses `ip -j addr show`. Addresses of families other than inet and inet6 are skipped; an
/// inet or inet6 entry without a valid address or prefix length is an error.
pub fn parse_addresses(text: &str) -> Result<Vec<Interface>, String> {
    let links: Vec<JsonLink> = serde_json::from_str(text.trim())
        .map_err(|error| format!("not the JSON of `ip -j addr show`: {error}"))?;
    let mut interfaces = Vec::with_capacity(links.len());
    for link in links {
        let mut addresses = Vec::new();
        for address in link.addr_info {
            let max_prefix = match address.family.as_str() {
                "inet" => 32,
                "inet6" => 128,
                _ => continue,
            };
            let local = address.local.unwrap_or_default();
            let ip: IpAddr = local.parse().map_err(|_| {
                format!(
                    "interface {}: address {local:?} is not an IP address",
                    link.ifname
                )
            })?;
            if ip.is_ipv4() != (max_prefix == 32) {
                return Err(format!(
                    "interface {}: address {local} does not belong to family {}",
                    link.ifname, address.family
                ));
            }
            let prefix_len = address
                .prefixlen
                .filter(|length| *length <= max_prefix)
                .ok_or_else(|| {
                    format!(
                        "interface {}: address {local} has no valid prefixlen",
                        link.ifname
                    )
                })?;
            addresses.push(InterfaceAddress {
                ip,
                prefix_len,
                scope: address.scope.unwrap_or_else(|| "global".to_string()),
                label: address.label,
                secondary: address.secondary,
                dynamic: address.dynamic,
            });
        }
        interfaces.push(Interface {
            index: link.ifindex,
            name: link.ifname,
            flags: link.flags,
            addresses,
        });
    }
    Ok(interfaces)
}

/// Parses `ip -j route show` or `ip -j -6 route show`.
pub fn parse_routes(text: &str) -> Result<Vec<Route>, String> {
    // iproute2 6.1 prints `[]` for an empty table. Empty output, as from a hand-made capture,
    // is read as an empty table too.
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let entries: Vec<JsonRoute> = serde_json::from_str(text.trim())
        .map_err(|error| format!("not the JSON of `ip -j route show`: {error}"))?;
    let mut routes = Vec::with_capacity(entries.len());
    for entry in entries {
        let gateway = match entry.gateway {
            Some(text) => Some(text.parse::<IpAddr>().map_err(|_| {
                format!(
                    "route to {}: gateway {text:?} is not an IP address",
                    entry.dst
                )
            })?),
            None => None,
        };
        routes.push(Route {
            destination: entry.dst,
            gateway,
            device: entry.dev,
            metric: entry.metric,
        });
    }
    Ok(routes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDRESSES: &str = r#"[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"}]},
        {"ifindex":2,"ifname":"eth0","flags":["BROADCAST","UP","LOWER_UP"],"addr_info":[
        {"family":"inet","local":"203.0.113.24","prefixlen":20,"scope":"global","label":"eth0"},
        {"family":"inet","local":"10.19.0.57","prefixlen":16,"scope":"global","secondary":true,"label":"eth0"},
        {"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"}]}]"#;

    #[test]
    fn addresses_keep_kernel_order() {
        let interfaces = parse_addresses(ADDRESSES).unwrap();
        assert_eq!(interfaces.len(), 2);
        let eth0 = &interfaces[1];
        assert!(eth0.is_up());
        assert_eq!(eth0.addresses[0].cidr(), "203.0.113.24/20");
        assert_eq!(eth0.addresses[1].cidr(), "10.19.0.57/16");
        assert!(eth0.addresses[1].secondary);
        assert_eq!(eth0.global_ipv4().count(), 2);
    }

    #[test]
    fn addresses_reject_bad_ip() {
        let text = r#"[{"ifindex":2,"ifname":"eth0","addr_info":[{"family":"inet","local":"10.0.0.300","prefixlen":8}]}]"#;
        let error = parse_addresses(text).unwrap_err();
        assert!(error.contains("10.0.0.300"), "{error}");
    }

    #[test]
    fn addresses_reject_bad_prefix() {
        let text = r#"[{"ifindex":2,"ifname":"eth0","addr_info":[{"family":"inet","local":"10.0.0.3","prefixlen":33}]}]"#;
        assert!(parse_addresses(text).is_err());
    }

    #[test]
    fn addresses_reject_text_output() {
        assert!(parse_addresses("2: eth0: <BROADCAST> mtu 1500").is_err());
    }

    #[test]
    fn routes_find_default() {
        let text = r#"[{"dst":"default","gateway":"203.0.113.1","dev":"eth0","flags":[]},{"dst":"10.19.0.0/16","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.19.0.57","flags":[]}]"#;
        let routes = parse_routes(text).unwrap();
        assert!(routes[0].is_default());
        assert!(!routes[1].is_default());
        assert_eq!(routes[0].device.as_deref(), Some("eth0"));
    }

    #[test]
    fn routes_empty_output() {
        assert!(parse_routes("").unwrap().is_empty());
        assert!(parse_routes("[]").unwrap().is_empty());
    }
}
