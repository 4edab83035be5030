//! Docker's registry settings: /etc/docker/daemon.json and /etc/docker/certs.d.
//!
//! Docker reads `certs.d/HOST[:PORT]/` each time it sets up a connection to a registry (moby
//! `registry.newTLSConfig` calls `ReadCertsDirectory`), so files added there need no restart.
//! `insecure-registries` in daemon.json is applied at start and by `systemctl reload docker`.

use std::net::IpAddr;

use crate::host::{Host, MAX_CONFIG_BYTES};

pub const DAEMON_JSON: &str = "/etc/docker/daemon.json";
pub const CERTS_DIR: &str = "/etc/docker/certs.d";
const SOCKETS: [&str; 2] = ["/run/docker.sock", "/var/run/docker.sock"];

#[derive(Clone, Debug, Default)]
pub struct DaemonJson {
    pub insecure_registries: Vec<String>,
    pub registry_mirrors: Vec<String>,
    pub error: Option<String>,
}

impl DaemonJson {
    pub fn read(host: &dyn Host) -> DaemonJson {
        let text = match host.read_text(DAEMON_JSON, MAX_CONFIG_BYTES) {
            Ok(text) => text,
            Err(error) if error.is_not_found() => return DaemonJson::default(),
            Err(error) => {
                return DaemonJson {
                    error: Some(error.to_string()),
                    ..DaemonJson::default()
                };
            }
        };
        let value: serde_json::Value = match serde_json::from_str(&text) {
            Ok(value) => value,
            Err(error) => {
                return DaemonJson {
                    error: Some(format!("{DAEMON_JSON}: invalid JSON: {error}")),
                    ..DaemonJson::default()
                };
            }
        };
        let strings = |key: &str| -> Vec<String> {
            value[key]
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(|v| v.as_str())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        DaemonJson {
            insecure_registries: strings("insecure-registries"),
            registry_mirrors: strings("registry-mirrors"),
            error: None,
        }
    }

    /// Returns the daemon.json entry that makes Docker skip verification for `registry`: the
    /// name itself, or a CIDR that contains an IP-address registry. Docker also matches CIDRs
    /// against the addresses a name resolves to; names are not resolved here.
    pub fn insecure_entry(&self, registry: &str) -> Option<String> {
        let host = registry
            .rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map_or(registry, |(host, _)| host);
        let ip = host.trim_matches(['[', ']']).parse::<IpAddr>().ok();
        self.insecure_registries
            .iter()
            .find(|entry| {
                let entry = entry
                    .trim_start_matches("http://")
                    .trim_start_matches("https://");
                entry.eq_ignore_ascii_case(registry)
                    || ip.is_some_and(|ip| cidr_contains(entry, ip))
            })
            .cloned()
    }
}

/// Returns whether Docker is installed: its config folder or its API socket exists.
pub fn is_present(host: &dyn Host) -> bool {
    host.exists("/etc/docker") || SOCKETS.iter().any(|socket| host.exists(socket))
}

fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    let Some((network, bits)) = cidr.split_once('/') else {
        return false;
    };
    let (Ok(network), Ok(bits)) = (network.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (network, ip) {
        (IpAddr::V4(network), IpAddr::V4(ip)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(network) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(network), IpAddr::V6(ip)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(network) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_by_name_or_cidr() {
        let daemon = DaemonJson {
            insecure_registries: vec!["registry.example.test".into(), "10.0.0.0/8".into()],
            ..DaemonJson::default()
        };
        assert!(daemon.insecure_entry("registry.example.test").is_some());
        assert_eq!(
            daemon.insecure_entry("10.1.2.3:5000").as_deref(),
            Some("10.0.0.0/8")
        );
        assert!(daemon.insecure_entry("192.168.78.28:5000").is_none());
    }
}
