//! The names and addresses the API server and etcd certificates must cover, with where each
//! expectation comes from.
//!
//! The rules follow kubeadm's pkiutil (GetAPIServerAltNames, GetEtcdAltNames,
//! GetEtcdPeerAltNames). The API server certificate covers the node name, `kubernetes`,
//! `kubernetes.default`, `kubernetes.default.svc`, `kubernetes.default.svc.<dnsDomain>`, the
//! first address of the service subnet, the advertise address, the controlPlaneEndpoint host
//! and apiServer.certSANs. etcd's server and peer certificates cover the node name,
//! `localhost`, the advertise address, 127.0.0.1, ::1 and the extra SANs of etcd.local.

use std::net::IpAddr;

use super::facts::Facts;

const DEFAULT_DNS_DOMAIN: &str = "cluster.local";
const DEFAULT_SERVICE_SUBNET: &str = "10.96.0.0/12";

/// One name or address a certificate must cover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedName {
    pub value: String,
    /// The origin of the expectation, such as `--advertise-address in /etc/...`.
    pub source: String,
    /// Whether a configured client dials this name, which makes its absence critical.
    pub dialled: bool,
}

impl ExpectedName {
    fn new(value: impl Into<String>, source: impl Into<String>, dialled: bool) -> ExpectedName {
        ExpectedName {
            value: value.into(),
            source: source.into(),
            dialled,
        }
    }

    pub fn is_ip(&self) -> bool {
        self.value.parse::<IpAddr>().is_ok()
    }
}

/// The names the API server certificate must cover.
pub fn apiserver(facts: &Facts) -> Vec<ExpectedName> {
    let mut names = Vec::new();
    let cluster = facts.config.cluster();
    let cluster_source = facts.config.cluster_source();
    let manifest = facts.apiserver.as_ref();
    let manifest_path = manifest.map_or("", |pod| pod.path.as_str());

    for fixed in ["kubernetes", "kubernetes.default", "kubernetes.default.svc"] {
        names.push(ExpectedName::new(
            fixed,
            "kubeadm's fixed service names",
            true,
        ));
    }
    let (domain, domain_source) = dns_domain(facts);
    names.push(ExpectedName::new(
        format!("kubernetes.default.svc.{domain}"),
        domain_source,
        true,
    ));
    names.push(ExpectedName::new(
        facts.node_name.clone(),
        format!("node name ({})", facts.node_name_source),
        true,
    ));

    let (subnet, subnet_source) =
        match manifest.and_then(|pod| pod.value("service-cluster-ip-range")) {
            Some(range) => (
                range.to_string(),
                format!("--service-cluster-ip-range in {manifest_path}"),
            ),
            None => match cluster.and_then(|c| c.networking.service_subnet.clone()) {
                Some(subnet) => (
                    subnet,
                    format!("networking.serviceSubnet in {cluster_source}"),
                ),
                None => (
                    DEFAULT_SERVICE_SUBNET.to_string(),
                    "kubeadm's default service subnet".to_string(),
                ),
            },
        };
    match first_service_address(&subnet) {
        Some(address) => names.push(ExpectedName::new(
            address.to_string(),
            format!("first address of {subnet} ({subnet_source})"),
            true,
        )),
        None => tracing::warn!(subnet, "service subnet is not a valid CIDR"),
    }

    if let Some(address) = manifest.and_then(|pod| pod.value("advertise-address")) {
        names.push(ExpectedName::new(
            address,
            format!("--advertise-address in {manifest_path}"),
            true,
        ));
    } else if let Some((source, node)) = facts.config.node.as_ref()
        && let Some(address) = node.advertise_address.as_deref()
    {
        names.push(ExpectedName::new(
            address,
            format!("localAPIEndpoint.advertiseAddress in {source}"),
            true,
        ));
    }

    if let Some(endpoint) = cluster.and_then(|c| c.control_plane_endpoint.as_deref())
        && let Some(host) = endpoint_host(endpoint)
    {
        names.push(ExpectedName::new(
            host,
            format!("controlPlaneEndpoint {endpoint} in {cluster_source}"),
            true,
        ));
    }
    for san in cluster
        .map(|c| c.api_server.cert_sans.as_slice())
        .unwrap_or_default()
    {
        names.push(ExpectedName::new(
            san.clone(),
            format!("apiServer.certSANs in {cluster_source}"),
            true,
        ));
    }
    dedup(names)
}

/// The names etcd's server certificate (`peer` false) or peer certificate must cover.
pub fn etcd(facts: &Facts, peer: bool) -> Vec<ExpectedName> {
    let mut names = Vec::new();
    let node_source = format!("node name ({})", facts.node_name_source);
    names.push(ExpectedName::new(
        facts.node_name.clone(),
        node_source,
        false,
    ));

    let apiserver_servers: Vec<String> = facts
        .apiserver
        .as_ref()
        .map(|pod| {
            pod.list("etcd-servers")
                .iter()
                .filter_map(|url| endpoint_host(url))
                .collect()
        })
        .unwrap_or_default();
    for local in ["localhost", "127.0.0.1", "::1"] {
        let dialled = !peer && apiserver_servers.iter().any(|host| host == local);
        names.push(ExpectedName::new(
            local,
            "kubeadm's loopback names",
            dialled,
        ));
    }

    let flag = if peer {
        "initial-advertise-peer-urls"
    } else {
        "advertise-client-urls"
    };
    if let Some(pod) = facts.etcd.as_ref() {
        for url in pod.list(flag) {
            if let Some(host) = endpoint_host(url) {
                names.push(ExpectedName::new(
                    host,
                    format!("--{flag} {url} in {}", pod.path),
                    true,
                ));
            }
        }
    }

    if let Some(cluster) = facts.config.cluster()
        && let Some(local) = cluster.etcd.local.as_ref()
    {
        let (sans, field) = if peer {
            (&local.peer_cert_sans, "etcd.local.peerCertSANs")
        } else {
            (&local.server_cert_sans, "etcd.local.serverCertSANs")
        };
        for san in sans {
            let source = format!("{field} in {}", facts.config.cluster_source());
            names.push(ExpectedName::new(san.clone(), source, true));
        }
    }
    dedup(names)
}

/// Returns the cluster DNS domain and where it was found.
fn dns_domain(facts: &Facts) -> (String, String) {
    if let Some(domain) = facts
        .config
        .cluster()
        .and_then(|c| c.networking.dns_domain.clone())
    {
        let source = format!("networking.dnsDomain in {}", facts.config.cluster_source());
        return (domain, source);
    }
    // kubeadm 1.20 and newer set the issuer to https://kubernetes.default.svc.<dnsDomain>.
    if let Some(pod) = facts.apiserver.as_ref()
        && let Some(issuer) = pod.value("service-account-issuer")
        && let Some(domain) = issuer.strip_prefix("https://kubernetes.default.svc.")
        && !domain.is_empty()
    {
        let source = format!("--service-account-issuer in {}", pod.path);
        return (domain.trim_end_matches('/').to_string(), source);
    }
    (
        DEFAULT_DNS_DOMAIN.to_string(),
        "kubeadm's default DNS domain".to_string(),
    )
}

/// Returns the first address of the first subnet in a list such as `10.96.0.0/12,fd00::/108`,
/// as kubeadm's GetAPIServerVirtualIP does.
pub fn first_service_address(subnets: &str) -> Option<IpAddr> {
    let first = subnets.split(',').next()?.trim();
    let (network, prefix) = first.split_once('/')?;
    let prefix: u32 = prefix.parse().ok()?;
    match network.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) if prefix <= 32 => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            Some(IpAddr::V4((u32::from(v4) & mask).wrapping_add(1).into()))
        }
        IpAddr::V6(v6) if prefix <= 128 => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix)
            };
            Some(IpAddr::V6((u128::from(v6) & mask).wrapping_add(1).into()))
        }
        _ => None,
    }
}

/// Returns the host of `host:port`, `[v6]:port` or a URL such as `https://10.0.0.1:2379`.
pub fn endpoint_host(endpoint: &str) -> Option<String> {
    let rest = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let authority = rest.split('/').next()?;
    if let Some(bracketed) = authority.strip_prefix('[') {
        return bracketed.split_once(']').map(|(host, _)| host.to_string());
    }
    if authority.parse::<IpAddr>().is_ok() {
        return Some(authority.to_string());
    }
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host);
    (!host.is_empty()).then(|| host.to_string())
}

fn dedup(names: Vec<ExpectedName>) -> Vec<ExpectedName> {
    let mut unique: Vec<ExpectedName> = Vec::new();
    for name in names {
        if let Some(existing) = unique.iter_mut().find(|n| same_name(&n.value, &name.value)) {
            existing.dialled |= name.dialled;
            continue;
        }
        unique.push(name);
    }
    unique
}

/// Compares two names, as IP addresses when both parse as one and case-insensitively otherwise.
pub fn same_name(a: &str, b: &str) -> bool {
    match (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a.eq_ignore_ascii_case(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_address_is_first_of_subnet() {
        assert_eq!(
            first_service_address("10.96.0.0/12").unwrap().to_string(),
            "10.96.0.1"
        );
        assert_eq!(
            first_service_address("fd00:10:96::/108,10.96.0.0/12")
                .unwrap()
                .to_string(),
            "fd00:10:96::1"
        );
        assert!(first_service_address("10.96.0.0").is_none());
    }

    #[test]
    fn endpoint_hosts_are_extracted() {
        assert_eq!(
            endpoint_host("cp.example.test:6443").unwrap(),
            "cp.example.test"
        );
        assert_eq!(
            endpoint_host("https://192.0.2.10:2379").unwrap(),
            "192.0.2.10"
        );
        assert_eq!(
            endpoint_host("https://[2001:db8::1]:2380").unwrap(),
            "2001:db8::1"
        );
        assert_eq!(endpoint_host("2001:db8::1").unwrap(), "2001:db8::1");
        assert_eq!(endpoint_host("10.0.7.10").unwrap(), "10.0.7.10");
    }
}
