//! The SAN rule: the API server and etcd certificates must cover every name and address their
//! clients dial, and a certificate issued for another control-plane node is named as such.

use std::net::IpAddr;

use crate::check::{Code, Finding, Severity};
use crate::kube::cert::Certificate;

use super::examined::Examined;
use super::expected::{self, ExpectedName, endpoint_host, same_name};
use super::facts::Facts;
use super::fixes;
use super::leaf_rules::CERTIFICATES_DOC;

pub fn san_missing(examined: &Examined, facts: &Facts) -> Option<Finding> {
    let expected = match examined.leaf.name {
        "apiserver" => expected::apiserver(facts),
        "etcd-server" => expected::etcd(facts, false),
        "etcd-peer" => expected::etcd(facts, true),
        _ => return None,
    };
    let file = &examined.pair.certificate;
    let leaf = file.leaf();
    let missing: Vec<&ExpectedName> = expected.iter().filter(|name| !covers(leaf, name)).collect();
    if missing.is_empty() {
        return None;
    }

    let dialled = missing.iter().any(|name| name.dialled);
    let other_node = issued_for_other_node(examined, facts, &expected);
    let names: Vec<&str> = missing.iter().map(|name| name.value.as_str()).collect();
    let summary = match &other_node {
        Some(other) => format!(
            "{} was issued for {other}, not for this node {}: it lacks {}",
            examined.label(),
            facts.node_name,
            names.join(", ")
        ),
        None => format!("{} does not cover {}", examined.label(), names.join(", ")),
    };

    let mut details = if dialled {
        "Clients verify that the certificate names the host they dial; for the missing names \
         below the handshake fails with \"x509: certificate is valid for ..., not ...\"."
            .to_string()
    } else {
        "No configured client dials the missing names, so nothing fails today, but kubeadm \
         writes them and validates existing certificates against them when a control-plane \
         node joins or upgrades."
            .to_string()
    };
    if let Some(other) = &other_node {
        details.push_str(&format!(
            " The certificate looks copied from another control-plane node ({other}). CA files \
             may be shared between control-plane nodes, but the {} certificate is per node and \
             must be generated on each of them.",
            examined.leaf.name
        ));
    }

    let mut finding = Finding::new(Code::PkiSanMissing, summary)
        .severity(if dialled {
            Severity::Critical
        } else {
            Severity::Warning
        })
        .details(details)
        .evidence(&file.path, "subjectAltName", present_names(leaf));
    for name in &missing {
        finding = finding.evidence(
            &file.path,
            "subjectAltName (missing)",
            format!("{} (expected from {})", name.value, name.source),
        );
    }
    if let Some(other) = &other_node {
        finding = finding.evidence(&file.path, "issued for", other);
    }

    let extra: Vec<String> = missing.iter().map(|name| name.value.clone()).collect();
    let command = phase_command(examined, facts, &extra);
    let mut fix = fixes::regenerate(examined, facts, command);
    if other_node.is_some() {
        fix = fix.step(
            "Copy only the CA files (ca, front-proxy-ca, etcd/ca and sa) between control-plane \
             nodes; generate every other certificate on the node that uses it.",
        );
    }
    Some(finding.fix(fix).reference(CERTIFICATES_DOC))
}

/// Returns whether the certificate covers a name: IP SANs for addresses, DNS SANs (with a
/// one-label wildcard) for names, as Go's VerifyHostname matches them.
fn covers(certificate: &Certificate, name: &ExpectedName) -> bool {
    if name.is_ip() {
        return certificate
            .ip_addresses
            .iter()
            .any(|ip| same_name(ip, &name.value));
    }
    certificate.dns_names.iter().any(|dns| {
        if dns.eq_ignore_ascii_case(&name.value) {
            return true;
        }
        match dns.strip_prefix("*.") {
            Some(suffix) => name
                .value
                .split_once('.')
                .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(suffix)),
            None => false,
        }
    })
}

fn present_names(certificate: &Certificate) -> String {
    let mut names: Vec<String> = certificate
        .dns_names
        .iter()
        .map(|dns| format!("DNS:{dns}"))
        .collect();
    names.extend(certificate.ip_addresses.iter().map(|ip| format!("IP:{ip}")));
    if names.is_empty() {
        return "none".to_string();
    }
    names.join(", ")
}

/// Names the node a certificate was issued for when it lacks this node's name and address but
/// names another host: etcd certificates carry the node name as CN, the API server certificate
/// carries node names among its DNS SANs.
fn issued_for_other_node(
    examined: &Examined,
    facts: &Facts,
    expected: &[ExpectedName],
) -> Option<String> {
    let leaf = examined.pair.certificate.leaf();
    let has_own_name = leaf
        .dns_names
        .iter()
        .any(|dns| dns.eq_ignore_ascii_case(&facts.node_name));
    if has_own_name {
        return None;
    }
    let others: Vec<&str> = match examined.leaf.name {
        "etcd-server" | "etcd-peer" => leaf
            .common_name
            .as_deref()
            .filter(|cn| !cn.starts_with("kube-etcd"))
            .into_iter()
            .collect(),
        _ => leaf
            .dns_names
            .iter()
            .map(String::as_str)
            .filter(|dns| !dns.starts_with("kubernetes") && *dns != "localhost")
            .filter(|dns| !expected.iter().any(|name| same_name(&name.value, dns)))
            .filter(|dns| !dns.contains('.'))
            .collect(),
    };
    if others.is_empty() {
        return None;
    }
    let addresses: Vec<&str> = leaf
        .ip_addresses
        .iter()
        .map(String::as_str)
        .filter(|ip| ip.parse::<IpAddr>().is_ok_and(|ip| !ip.is_loopback()))
        .filter(|ip| !expected.iter().any(|name| same_name(&name.value, ip)))
        .collect();
    if addresses.is_empty() {
        Some(others.join(", "))
    } else {
        Some(format!("{} ({})", others.join(", "), addresses.join(", ")))
    }
}

/// Returns the `kubeadm init phase certs` command that generates the certificate again with
/// this node's values, or `None` to use the saved cluster configuration.
pub fn phase_command(examined: &Examined, facts: &Facts, extra: &[String]) -> Option<String> {
    match examined.leaf.name {
        "apiserver" => Some(apiserver_command(facts, extra)),
        "etcd-server" | "etcd-peer" => etcd_command(examined, facts),
        _ => None,
    }
}

fn apiserver_command(facts: &Facts, extra: &[String]) -> String {
    let mut command = "kubeadm init phase certs apiserver".to_string();
    let pod = facts.apiserver.as_ref();
    if let Some(address) = pod.and_then(|p| p.value("advertise-address")) {
        command.push_str(&format!(" --apiserver-advertise-address {address}"));
    }
    if let Some(range) = pod.and_then(|p| p.value("service-cluster-ip-range")) {
        command.push_str(&format!(" --service-cidr {range}"));
    }
    let cluster = facts.config.cluster();
    if let Some(domain) = cluster.and_then(|c| c.networking.dns_domain.as_deref()) {
        command.push_str(&format!(" --service-dns-domain {domain}"));
    }
    if let Some(endpoint) = cluster.and_then(|c| c.control_plane_endpoint.as_deref()) {
        command.push_str(&format!(" --control-plane-endpoint {endpoint}"));
    }
    // kubeadm takes the node name from the hostname here, so name the node explicitly too.
    let mut sans: Vec<String> = vec![facts.node_name.clone()];
    for name in cluster
        .map(|c| c.api_server.cert_sans.clone())
        .unwrap_or_default()
        .into_iter()
        .chain(extra.iter().cloned())
    {
        if !sans.iter().any(|s| same_name(s, &name)) {
            sans.push(name);
        }
    }
    command.push_str(&format!(" --apiserver-cert-extra-sans {}", sans.join(",")));
    command
}

/// etcd's certificate phases read the node name and advertise address only from a
/// configuration file, so the command writes a minimal InitConfiguration first.
fn etcd_command(examined: &Examined, facts: &Facts) -> Option<String> {
    let flag = if examined.leaf.name == "etcd-peer" {
        "initial-advertise-peer-urls"
    } else {
        "advertise-client-urls"
    };
    let address = facts
        .etcd
        .as_ref()
        .and_then(|pod| pod.list(flag).first().and_then(|url| endpoint_host(url)))?;
    let config = "/root/kubeadm-etcd-node.yaml";
    Some(format!(
        "printf 'apiVersion: kubeadm.k8s.io/v1beta3\\nkind: InitConfiguration\\nnodeRegistration:\\n  name: {}\\nlocalAPIEndpoint:\\n  advertiseAddress: {address}\\n' > {config} && kubeadm init phase certs {} --config {config}",
        facts.node_name, examined.leaf.name
    ))
}
