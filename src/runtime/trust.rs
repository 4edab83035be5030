//! The trust each runtime applies to a registry: which endpoints it connects to, and which CA
//! files, besides the system trust store, it verifies each endpoint's certificate with.

use std::collections::HashMap;

use crate::host::Host;
use crate::net::RegistryAddress;

use super::Runtime;
use super::certs_dir::CertsDir;
use super::containerd_registry::{ConfigPath, ContainerdConfig, HOSTS_DIR};
use super::crio::{self, RegistriesConf};
use super::docker_registry::{self as docker, DaemonJson};
use super::hosts_toml::{HostSettings, HostsError, HostsFile};

/// The `configured_by` of an endpoint that no file configures.
pub const RUNTIME_DEFAULTS: &str = "runtime defaults (no per-registry settings)";

/// One address a runtime connects to when it pulls from a registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub address: RegistryAddress,
    pub https: bool,
    /// Whether this endpoint is a mirror rather than the registry itself.
    pub mirror: bool,
    /// CA files added to the system trust store for this endpoint, as host paths.
    pub ca_files: Vec<String>,
    pub skip_verify: bool,
    /// The file or setting that defines the endpoint's trust, or [`RUNTIME_DEFAULTS`].
    pub configured_by: String,
}

/// The trust one runtime applies to one registry.
#[derive(Clone, Debug)]
pub struct Plan {
    pub runtime: Runtime,
    pub registry: RegistryAddress,
    pub endpoints: Vec<Endpoint>,
    /// The per-registry directory the runtime reads, when one exists.
    pub config_dir: Option<String>,
    /// The hosts.toml the runtime reads, when it parses.
    pub hosts_toml: Option<String>,
    /// The path where this runtime expects a CA certificate for this registry.
    pub ca_target: String,
    /// The reason per-registry files are not read, such as containerd without `config_path`.
    pub ignored_because: Option<String>,
}

impl Plan {
    /// Returns whether anything beyond the system trust store is set up for the registry: a CA
    /// file, skipped verification or plain HTTP.
    pub fn has_custom_trust(&self) -> bool {
        self.endpoints
            .iter()
            .any(|e| !e.ca_files.is_empty() || e.skip_verify || !e.https)
    }
}

fn endpoint(address: RegistryAddress, configured_by: &str) -> Endpoint {
    Endpoint {
        address,
        https: true,
        mirror: false,
        ca_files: Vec::new(),
        skip_verify: false,
        configured_by: configured_by.to_string(),
    }
}

/// Docker: /etc/docker/certs.d/REGISTRY/*.crt, or no verification when daemon.json lists the
/// registry as insecure.
pub fn docker_plan(host: &dyn Host, daemon: &DaemonJson, registry: &RegistryAddress) -> Plan {
    let dir_path = format!("{}/{registry}", docker::CERTS_DIR);
    let dir = CertsDir::read(host, &dir_path);
    let mut upstream = endpoint(registry.clone(), RUNTIME_DEFAULTS);
    upstream.ca_files = dir.ca_files();
    if dir.exists() {
        upstream.configured_by = dir_path.clone();
    }
    if let Some(entry) = daemon.insecure_entry(&registry.to_string()) {
        upstream.skip_verify = true;
        upstream.configured_by = format!("{} insecure-registries {entry:?}", docker::DAEMON_JSON);
    }
    Plan {
        runtime: Runtime::Docker,
        registry: registry.clone(),
        endpoints: vec![upstream],
        config_dir: dir.exists().then_some(dir_path.clone()),
        hosts_toml: None,
        ca_target: format!("{dir_path}/ca.crt"),
        ignored_because: None,
    }
}

/// CRI-O: mirrors and `insecure` from registries.conf, and /etc/containers/certs.d/HOST:PORT
/// for each endpoint.
pub fn crio_plan(host: &dyn Host, conf: &RegistriesConf, registry: &RegistryAddress) -> Plan {
    let entry = conf.entry_for(&registry.to_string());
    let mut endpoints = Vec::new();
    if let Some(entry) = entry {
        for (location, insecure) in &entry.mirrors {
            let Ok(address) = RegistryAddress::parse(location) else {
                continue;
            };
            let mut mirror = crio_endpoint(host, address, &entry.source);
            mirror.mirror = true;
            mirror.skip_verify = *insecure;
            endpoints.push(mirror);
        }
    }
    let mut upstream = crio_endpoint(host, registry.clone(), RUNTIME_DEFAULTS);
    if let Some(entry) = entry
        && entry.insecure
    {
        upstream.skip_verify = true;
        upstream.configured_by = format!("{} insecure = true", entry.source);
    }
    endpoints.push(upstream);

    let dir_path = format!("{}/{registry}", crio::CERTS_DIR);
    let exists = host.exists(&dir_path);
    Plan {
        runtime: Runtime::CriO,
        registry: registry.clone(),
        endpoints,
        config_dir: exists.then_some(dir_path.clone()),
        hosts_toml: None,
        ca_target: format!("{dir_path}/ca.crt"),
        ignored_because: None,
    }
}

fn crio_endpoint(host: &dyn Host, address: RegistryAddress, source: &str) -> Endpoint {
    let dir_path = format!("{}/{address}", crio::CERTS_DIR);
    let dir = CertsDir::read(host, &dir_path);
    let mut found = endpoint(address, source);
    found.ca_files = dir.ca_files();
    if dir.exists() {
        found.configured_by = dir_path;
    }
    found
}

/// containerd: the first hosts folder under `config_path` that matches the registry, read as
/// hosts.toml or, without one, as Docker-style files. Without `config_path`, the deprecated
/// `mirrors` and `configs` tables.
/// `parsed` contains the hosts.toml files already read, by path. The plan removes the file it
/// uses from it, so memory is freed as plans are made, and reads any file `parsed` lacks.
pub fn containerd_plan(
    host: &dyn Host,
    config: &ContainerdConfig,
    parsed: &mut HashMap<String, Result<Option<HostsFile>, HostsError>>,
    registry: &RegistryAddress,
) -> Plan {
    let roots = config.config_path.roots();
    let first_root = roots
        .first()
        .cloned()
        .unwrap_or_else(|| HOSTS_DIR.to_string());
    let mut plan = Plan {
        runtime: Runtime::Containerd,
        registry: registry.clone(),
        endpoints: Vec::new(),
        config_dir: None,
        hosts_toml: None,
        ca_target: format!("{first_root}/{registry}/ca.crt"),
        ignored_because: None,
    };

    if let ConfigPath::Unset { why } = &config.config_path {
        plan.ignored_because = Some(why.clone());
        plan.endpoints = legacy_endpoints(config, registry);
        return plan;
    }

    let Some(dir) = find_host_dir(host, &roots, registry) else {
        plan.endpoints = vec![default_endpoint(registry)];
        return plan;
    };
    plan.config_dir = Some(dir.clone());
    let certs = CertsDir::read(host, &dir);
    let hosts_toml = certs.hosts_toml_path();
    let hosts_file = parsed
        .remove(&hosts_toml)
        .unwrap_or_else(|| HostsFile::read(host, &hosts_toml));
    plan.endpoints = match hosts_file {
        Ok(Some(file)) => {
            plan.hosts_toml = Some(file.path.clone());
            if !dir.ends_with("/_default") {
                plan.ca_target = format!("{dir}/ca.crt");
            }
            hosts_file_endpoints(&file, registry)
        }
        // An absent, empty or invalid hosts.toml leaves the Docker-style files in charge.
        Ok(None) | Err(_) => {
            let mut upstream = default_endpoint(registry);
            upstream.ca_files = certs.ca_files();
            upstream.configured_by = dir.clone();
            vec![upstream]
        }
    };
    plan
}

/// Returns containerd's candidate folders for a registry under one root, in its search order:
/// `HOST_PORT_`, `HOST:PORT` (or `HOST`), then `_default` (core/remotes/docker/config
/// `hostPaths`).
pub fn host_dir_candidates(root: &str, registry: &RegistryAddress) -> Vec<String> {
    let mut candidates = Vec::new();
    let name = registry.to_string();
    if let Some(index) = name.rfind(':').filter(|_| registry.port.is_some()) {
        candidates.push(format!("{root}/{}_{}_", &name[..index], &name[index + 1..]));
    }
    candidates.push(format!("{root}/{name}"));
    candidates.push(format!("{root}/_default"));
    candidates
}

/// Searches the roots in order; the first root with any matching folder wins, even when a later
/// root has a more specific one.
fn find_host_dir(host: &dyn Host, roots: &[String], registry: &RegistryAddress) -> Option<String> {
    roots
        .iter()
        .flat_map(|root| host_dir_candidates(root, registry))
        .find(|candidate| host.exists(candidate))
}

fn default_endpoint(registry: &RegistryAddress) -> Endpoint {
    let address = if registry.host == "docker.io" {
        RegistryAddress {
            host: "registry-1.docker.io".to_string(),
            port: None,
        }
    } else {
        registry.clone()
    };
    endpoint(address, RUNTIME_DEFAULTS)
}

fn hosts_file_endpoints(file: &HostsFile, registry: &RegistryAddress) -> Vec<Endpoint> {
    let mut endpoints = Vec::new();
    for (url, settings) in &file.hosts {
        if let Ok(address) = RegistryAddress::parse(url) {
            let mut mirror = from_settings(address, url, settings, &file.path);
            mirror.mirror = &mirror.address != registry;
            endpoints.push(mirror);
        }
    }
    let upstream = match file
        .server
        .as_deref()
        .map(|s| (s, RegistryAddress::parse(s)))
    {
        Some((url, Ok(address))) => from_settings(address, url, &file.root, &file.path),
        _ => {
            let mut upstream = default_endpoint(registry);
            apply_settings(&mut upstream, &file.root, &file.path);
            upstream
        }
    };
    endpoints.push(upstream);
    endpoints
}

fn from_settings(
    address: RegistryAddress,
    url: &str,
    settings: &HostSettings,
    source: &str,
) -> Endpoint {
    let mut found = endpoint(address, source);
    apply_settings(&mut found, settings, source);
    // containerd tries HTTPS first on an http:// host with TLS settings, unless the port is 80.
    let explicit_tls = !settings.ca.is_empty() || settings.skip_verify.is_some();
    found.https = !url.starts_with("http://") || (explicit_tls && found.address.port != Some(80));
    found
}

fn apply_settings(endpoint: &mut Endpoint, settings: &HostSettings, source: &str) {
    endpoint.ca_files = settings.ca.clone();
    endpoint.skip_verify = settings.skip_verify == Some(true);
    endpoint.configured_by = source.to_string();
}

/// containerd 1.x without `config_path`: `mirrors."REGISTRY".endpoint` lists the endpoints,
/// and `configs."ENDPOINT HOST".tls` sets each endpoint's trust.
fn legacy_endpoints(config: &ContainerdConfig, registry: &RegistryAddress) -> Vec<Endpoint> {
    let mut endpoints = Vec::new();
    let name = registry.to_string();
    for url in config.mirrors.get(&name).into_iter().flatten() {
        if let Ok(address) = RegistryAddress::parse(url) {
            let mut mirror = endpoint(address, &config.path);
            mirror.mirror = &mirror.address != registry;
            mirror.https = !url.starts_with("http://");
            endpoints.push(mirror);
        }
    }
    if endpoints.is_empty() {
        endpoints.push(default_endpoint(registry));
    }
    for found in &mut endpoints {
        let key = found.address.to_string();
        if let Some(tls) = config.tls.get(&key).or_else(|| config.tls.get(&name)) {
            found.ca_files = tls.ca_file.iter().cloned().collect();
            found.skip_verify = tls.insecure_skip_verify;
            found.configured_by = config.path.clone();
        }
    }
    endpoints
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_follow_containerd_order() {
        let registry = RegistryAddress::parse("registry.example.test:5000").unwrap();
        assert_eq!(
            host_dir_candidates("/etc/containerd/certs.d", &registry),
            vec![
                "/etc/containerd/certs.d/registry.example.test_5000_",
                "/etc/containerd/certs.d/registry.example.test:5000",
                "/etc/containerd/certs.d/_default",
            ]
        );
        let plain = RegistryAddress::parse("registry.example.test").unwrap();
        assert_eq!(host_dir_candidates("/r", &plain).len(), 2);
    }

    #[test]
    fn hosts_file_lists_mirrors_then_server() {
        let registry = RegistryAddress::parse("registry.example.test").unwrap();
        let file = HostsFile::parse(
            "/etc/containerd/certs.d/registry.example.test/hosts.toml",
            "server = \"https://registry.example.test\"\nca = \"ca.crt\"\n[host.\"https://mirror.example.test:8443\"]\n  skip_verify = true\n",
        )
        .unwrap();
        let endpoints = hosts_file_endpoints(&file, &registry);
        assert_eq!(endpoints.len(), 2);
        assert!(endpoints[0].mirror);
        assert!(endpoints[0].skip_verify);
        assert_eq!(
            endpoints[1].ca_files,
            vec!["/etc/containerd/certs.d/registry.example.test/ca.crt"]
        );
        assert!(!endpoints[1].mirror);
    }
}
