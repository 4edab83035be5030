//! Everything the check reads from the node: the kubelet's runtime, each installed runtime's
//! registry settings, the registries they name, and each runtime's trust plan per registry.

use std::collections::{BTreeSet, HashMap};

use crate::check::CheckOptions;
use crate::host::Host;
use crate::net::RegistryAddress;
use crate::runtime::certs_dir::{CertsDir, CertsRoot};
use crate::runtime::containerd_registry::{self as containerd, ConfigPath, ContainerdConfig};
use crate::runtime::crio::{self, RegistriesConf};
use crate::runtime::docker_registry::{self as docker, DaemonJson};
use crate::runtime::hosts_toml::{HostsError, HostsFile};
use crate::runtime::k3s::{self, Misplaced};
use crate::runtime::system_roots::SystemRoots;
use crate::runtime::trust::{self, Plan};
use crate::runtime::{KubeletRuntime, Runtime, detect_kubelet_runtime};

/// The name of containerd's fallback folder, which applies to every registry without its own.
pub const DEFAULT_HOST_DIR: &str = "_default";

pub struct DockerFacts {
    pub daemon: DaemonJson,
    pub root: CertsRoot,
}

pub struct ContainerdFacts {
    pub config: ContainerdConfig,
    /// The `config_path` roots, in search order.
    pub roots: Vec<CertsRoot>,
    /// Hosts directories with registry folders that `config_path` does not include.
    pub unread_roots: Vec<CertsRoot>,
    /// The hosts.toml files under the roots that are invalid, name a missing CA or set no TLS,
    /// by path. The parsed files serve the plans and are then dropped, so that on a node with
    /// thousands of registry folders only these few stay in memory.
    pub hosts_files: Vec<(String, HostsFileState)>,
}

/// The state of one hosts.toml, reduced to the parts the findings use.
pub enum HostsFileState {
    Invalid(HostsError),
    Parsed {
        /// `ca` entries whose file does not exist.
        missing_cas: Vec<MissingCa>,
        /// Whether any table sets `ca` or `skip_verify`.
        has_tls: bool,
    },
}

impl HostsFileState {
    /// Returns whether no finding or evidence comes from the file: it parses, sets TLS and
    /// names only CA files that exist.
    fn is_unremarkable(&self) -> bool {
        matches!(self, HostsFileState::Parsed { missing_cas, has_tls: true } if missing_cas.is_empty())
    }
}

/// A `ca` entry of a hosts.toml that names a missing file.
pub struct MissingCa {
    /// `top level` or `[host."URL"]`.
    pub table: String,
    pub written: String,
    pub resolved: String,
}

/// Parsed hosts.toml files by path, for the plans.
type ParsedHostsFiles = Vec<(String, Result<Option<HostsFile>, HostsError>)>;

pub struct CrioFacts {
    pub conf: RegistriesConf,
    pub root: CertsRoot,
}

pub struct Facts {
    pub kubelet: KubeletRuntime,
    pub docker: Option<DockerFacts>,
    pub containerd: Option<ContainerdFacts>,
    pub crio: Option<CrioFacts>,
    pub k3s_registries: Option<Result<Vec<Misplaced>, String>>,
    pub system_roots: SystemRoots,
    /// Every registry found in configuration or named with --registry, sorted.
    pub registries: Vec<RegistryAddress>,
    /// A plan for each installed runtime and registry.
    pub plans: Vec<Plan>,
    /// The position of each plan in `plans`, so a lookup does not scan thousands of them.
    plan_index: HashMap<(Runtime, RegistryAddress), usize>,
}

impl Facts {
    pub fn gather(host: &dyn Host, options: &CheckOptions, logged: &[RegistryAddress]) -> Facts {
        let kubelet = detect_kubelet_runtime(host);
        let uses = |runtime| kubelet.runtime == Some(runtime);

        let docker = (uses(Runtime::Docker) || docker::is_present(host)).then(|| DockerFacts {
            daemon: DaemonJson::read(host),
            root: CertsRoot::read(host, docker::CERTS_DIR),
        });
        let (containerd, parsed_hosts_files) =
            if uses(Runtime::Containerd) || containerd_present(host, &kubelet) {
                let (facts, parsed) = read_containerd(host, &kubelet);
                (Some(facts), parsed)
            } else {
                (None, Vec::new())
            };
        let crio = (uses(Runtime::CriO) || crio::is_present(host)).then(|| CrioFacts {
            conf: RegistriesConf::read(host),
            root: CertsRoot::read(host, crio::CERTS_DIR),
        });

        let mut facts = Facts {
            kubelet,
            docker,
            containerd,
            crio,
            k3s_registries: k3s::check_registries_yaml(host),
            system_roots: SystemRoots::read(host),
            registries: Vec::new(),
            plans: Vec::new(),
            plan_index: HashMap::new(),
        };
        facts.registries = facts.collect_registries(&options.registries, logged);
        facts.plans = facts.make_plans(host, parsed_hosts_files);
        facts.plan_index = facts
            .plans
            .iter()
            .enumerate()
            .map(|(position, plan)| ((plan.runtime, plan.registry.clone()), position))
            .collect();
        facts
    }

    /// Returns the runtimes whose trust decides pulls: the kubelet's, or every installed one
    /// when the kubelet's runtime is unknown.
    pub fn active_runtimes(&self) -> Vec<Runtime> {
        match self.kubelet.runtime {
            Some(runtime) => vec![runtime],
            None => self.installed_runtimes(),
        }
    }

    pub fn installed_runtimes(&self) -> Vec<Runtime> {
        let mut runtimes = Vec::new();
        if self.containerd.is_some() {
            runtimes.push(Runtime::Containerd);
        }
        if self.crio.is_some() {
            runtimes.push(Runtime::CriO);
        }
        if self.docker.is_some() {
            runtimes.push(Runtime::Docker);
        }
        runtimes
    }

    pub fn is_active(&self, runtime: Runtime) -> bool {
        self.active_runtimes().contains(&runtime)
    }

    pub fn plan(&self, runtime: Runtime, registry: &RegistryAddress) -> Option<&Plan> {
        self.plan_index
            .get(&(runtime, registry.clone()))
            .map(|position| &self.plans[*position])
    }

    fn collect_registries(
        &self,
        named: &[RegistryAddress],
        logged: &[RegistryAddress],
    ) -> Vec<RegistryAddress> {
        let mut names: BTreeSet<String> = BTreeSet::new();
        if let Some(docker) = &self.docker {
            names.extend(docker.root.registries.iter().cloned());
            names.extend(
                docker
                    .daemon
                    .insecure_registries
                    .iter()
                    .filter(|entry| !entry.contains('/'))
                    .cloned(),
            );
        }
        if let Some(containerd) = &self.containerd {
            for root in containerd.roots.iter().chain(&containerd.unread_roots) {
                names.extend(root.registries.iter().map(|dir| registry_of_host_dir(dir)));
            }
            names.extend(containerd.config.mirrors.keys().cloned());
            names.extend(containerd.config.tls.keys().cloned());
        }
        if let Some(crio) = &self.crio {
            names.extend(crio.root.registries.iter().cloned());
            names.extend(
                crio.conf
                    .entries
                    .iter()
                    .filter_map(|entry| entry.name.split('/').next().map(str::to_string)),
            );
        }
        names.remove(DEFAULT_HOST_DIR);
        names.remove("");

        let mut registries: BTreeSet<RegistryAddress> = names
            .iter()
            .filter_map(|name| match RegistryAddress::parse(name) {
                Ok(address) => Some(address),
                Err(error) => {
                    tracing::debug!(name, error, "ignoring a registry name that does not parse");
                    None
                }
            })
            .collect();
        registries.extend(named.iter().cloned());
        registries.extend(logged.iter().cloned());
        registries.into_iter().collect()
    }

    fn make_plans(&self, host: &dyn Host, hosts_files: ParsedHostsFiles) -> Vec<Plan> {
        let mut parsed: HashMap<String, _> = hosts_files.into_iter().collect();
        let mut plans = Vec::new();
        for registry in &self.registries {
            if let Some(containerd) = &self.containerd {
                plans.push(trust::containerd_plan(
                    host,
                    &containerd.config,
                    &mut parsed,
                    registry,
                ));
            }
            if let Some(crio) = &self.crio {
                plans.push(trust::crio_plan(host, &crio.conf, registry));
            }
            if let Some(docker) = &self.docker {
                plans.push(trust::docker_plan(host, &docker.daemon, registry));
            }
        }
        plans
    }
}

/// Turns containerd's `HOST_PORT_` folder name back into `HOST:PORT`.
fn registry_of_host_dir(dir: &str) -> String {
    if let Some(stripped) = dir.strip_suffix('_')
        && let Some((host, port)) = stripped.rsplit_once('_')
        && !port.is_empty()
        && port.chars().all(|c| c.is_ascii_digit())
    {
        return format!("{host}:{port}");
    }
    dir.to_string()
}

fn containerd_present(host: &dyn Host, kubelet: &KubeletRuntime) -> bool {
    kubelet.is_k3s()
        || [
            containerd::CONFIG_FILE,
            containerd::TALOS_CONFIG_FILE,
            containerd::K3S_CONFIG_FILE,
            containerd::HOSTS_DIR,
            "/run/containerd/containerd.sock",
        ]
        .iter()
        .any(|path| host.exists(path))
}

fn read_containerd(
    host: &dyn Host,
    kubelet: &KubeletRuntime,
) -> (ContainerdFacts, ParsedHostsFiles) {
    let config = ContainerdConfig::read(host, kubelet.is_k3s());
    let root_paths = config.config_path.roots();
    let roots: Vec<CertsRoot> = root_paths
        .iter()
        .map(|root| CertsRoot::read(host, root))
        .collect();

    let mut unread_roots = Vec::new();
    for candidate in [containerd::HOSTS_DIR, containerd::K3S_HOSTS_DIR] {
        if root_paths.iter().any(|root| root == candidate) {
            continue;
        }
        let root = CertsRoot::read(host, candidate);
        if !root.registries.is_empty() {
            unread_roots.push(root);
        }
    }

    let mut parsed = Vec::new();
    if !matches!(config.config_path, ConfigPath::Unset { .. }) {
        for root in &roots {
            for dir in &root.registries {
                let folder = CertsDir::read(host, &format!("{}/{dir}", root.path));
                if folder.has_hosts_toml() {
                    let path = folder.hosts_toml_path();
                    let file = HostsFile::read(host, &path);
                    parsed.push((path, file));
                }
            }
        }
    }
    let hosts_files = parsed
        .iter()
        .filter_map(|(path, file)| Some((path.clone(), summarize(host, file)?)))
        .filter(|(_, state)| !state.is_unremarkable())
        .collect();
    let facts = ContainerdFacts {
        config,
        roots,
        unread_roots,
        hosts_files,
    };
    (facts, parsed)
}

/// Keeps what the findings need from a hosts.toml; `None` for an absent or empty file.
fn summarize(
    host: &dyn Host,
    file: &Result<Option<HostsFile>, HostsError>,
) -> Option<HostsFileState> {
    let file = match file {
        Err(error) => return Some(HostsFileState::Invalid(error.clone())),
        Ok(None) => return None,
        Ok(Some(file)) => file,
    };
    let tables = std::iter::once(("top level".to_string(), &file.root)).chain(
        file.hosts
            .iter()
            .map(|(url, settings)| (format!("[host.\"{url}\"]"), settings)),
    );
    let mut missing_cas = Vec::new();
    let mut has_tls = false;
    for (table, settings) in tables {
        has_tls |= !settings.ca.is_empty() || settings.skip_verify.is_some();
        for (written, resolved) in settings.ca_written.iter().zip(&settings.ca) {
            if !host.exists(resolved) {
                missing_cas.push(MissingCa {
                    table: table.clone(),
                    written: written.clone(),
                    resolved: resolved.clone(),
                });
            }
        }
    }
    Some(HostsFileState::Parsed {
        missing_cas,
        has_tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_folders_map_back() {
        assert_eq!(
            registry_of_host_dir("registry.example.test_5000_"),
            "registry.example.test:5000"
        );
        assert_eq!(
            registry_of_host_dir("registry.example.test"),
            "registry.example.test"
        );
        assert_eq!(registry_of_host_dir("_default"), "_default");
    }
}
