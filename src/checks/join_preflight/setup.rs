//! The kubelet and runtime settings the join-preflight rules share.

use crate::check::{Code, Finding, Fix};
use crate::host::Host;
use crate::kube::kubelet_config::{DEFAULT_CONFIG_PATH, KubeletConfigError, LoadedKubeletConfig};
use crate::kube::kubelet_flags::{KUBELET_UNIT, KubeletFlags};
use crate::kube::{BOOTSTRAP_KUBECONFIG, KUBELET_KUBECONFIG, PKI_DIR};
use crate::runtime::{Runtime, installed_runtimes};
use crate::systemd::Unit;

/// A kubelet setting's value and where it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    /// `FILE:LINE`, a file, or "kubelet default".
    pub source: String,
    /// The flag or field name, such as `--fail-swap-on` or `failSwapOn`.
    pub field: String,
}

pub struct Setup {
    pub flags: KubeletFlags,
    pub kubelet_installed: bool,
    pub config_path: String,
    /// The kubelet configuration file; `None` when it does not exist.
    pub config: Option<Result<LoadedKubeletConfig, KubeletConfigError>>,
    pub kubeconfig: Sourced<String>,
    pub bootstrap_kubeconfig: String,
    pub runtimes: Vec<Runtime>,
}

impl Setup {
    pub fn read(host: &dyn Host) -> Setup {
        let flags = KubeletFlags::read(host);
        let config_path = flags
            .value("config")
            .filter(|v| !v.is_empty())
            .unwrap_or(DEFAULT_CONFIG_PATH)
            .to_string();
        let config = match LoadedKubeletConfig::read(host, &config_path) {
            Err(KubeletConfigError::Read(error)) if error.is_not_found() => None,
            other => Some(other),
        };
        let kubeconfig = match flags.get("kubeconfig").filter(|f| !f.value.is_empty()) {
            Some(flag) => Sourced {
                value: flag.value.clone(),
                source: flag.location(),
                field: "--kubeconfig".to_string(),
            },
            None => Sourced {
                value: KUBELET_KUBECONFIG.to_string(),
                source: "kubeadm default".to_string(),
                field: "--kubeconfig".to_string(),
            },
        };
        let bootstrap_kubeconfig = flags
            .value("bootstrap-kubeconfig")
            .filter(|v| !v.is_empty())
            .unwrap_or(BOOTSTRAP_KUBECONFIG)
            .to_string();
        let kubelet_installed = Unit::load(host, KUBELET_UNIT).exists()
            || config.is_some()
            || host.exists(&kubeconfig.value)
            || host.exists(&bootstrap_kubeconfig)
            || host.exists("/usr/bin/kubelet");
        Setup {
            runtimes: installed_runtimes(host),
            flags,
            kubelet_installed,
            config_path,
            config,
            kubeconfig,
            bootstrap_kubeconfig,
        }
    }

    pub fn loaded_config(&self) -> Option<&LoadedKubeletConfig> {
        self.config.as_ref()?.as_ref().ok()
    }

    /// Returns whether kubeadm has configured the kubelet here: its config file or the cluster
    /// CA exists. Before that, a missing kubeconfig or CNI configuration is expected.
    pub fn kubeadm_configured(&self, host: &dyn Host) -> bool {
        self.config.is_some() || host.exists(&format!("{PKI_DIR}/ca.crt"))
    }

    /// Returns whether the node has joined: the kubelet's kubeconfig exists.
    pub fn joined(&self, host: &dyn Host) -> bool {
        host.exists(&self.kubeconfig.value)
    }

    /// Returns whether the kubelet refuses to run with swap on: `--fail-swap-on`, then
    /// `failSwapOn`, then the kubelet's default, true.
    pub fn fail_swap_on(&self) -> Sourced<bool> {
        if let Some(value) = self.flags.bool_value("fail-swap-on") {
            let source = self
                .flags
                .get("fail-swap-on")
                .map(|f| f.location())
                .unwrap_or_default();
            return Sourced {
                value,
                source,
                field: "--fail-swap-on".to_string(),
            };
        }
        if let Some(config) = self.loaded_config()
            && let Some(value) = config.config.fail_swap_on
        {
            return Sourced {
                value,
                source: config.location("failSwapOn"),
                field: "failSwapOn".to_string(),
            };
        }
        Sourced {
            value: true,
            source: "kubelet default".to_string(),
            field: "failSwapOn".to_string(),
        }
    }

    /// Returns the kubelet's cgroup driver: `--cgroup-driver`, then `cgroupDriver`, then the
    /// kubelet's default, cgroupfs, when a config file exists. `None` before kubeadm has written
    /// the config, because kubeadm then chooses the driver.
    pub fn cgroup_driver(&self) -> Option<Sourced<String>> {
        if let Some(flag) = self
            .flags
            .get("cgroup-driver")
            .filter(|f| !f.value.is_empty())
        {
            return Some(Sourced {
                value: flag.value.clone(),
                source: flag.location(),
                field: "--cgroup-driver".to_string(),
            });
        }
        let config = self.loaded_config()?;
        Some(match &config.config.cgroup_driver {
            Some(value) => Sourced {
                value: value.clone(),
                source: config.location("cgroupDriver"),
                field: "cgroupDriver".to_string(),
            },
            None => Sourced {
                value: "cgroupfs".to_string(),
                source: format!("{} (not set: kubelet default)", config.path),
                field: "cgroupDriver".to_string(),
            },
        })
    }

    /// Returns the CRI endpoint the kubelet flags or configuration name, if any.
    pub fn runtime_endpoint(&self) -> Option<Sourced<String>> {
        if let Some(flag) = self
            .flags
            .get("container-runtime-endpoint")
            .filter(|f| !f.value.is_empty())
        {
            return Some(Sourced {
                value: flag.value.clone(),
                source: flag.location(),
                field: "--container-runtime-endpoint".to_string(),
            });
        }
        let config = self.loaded_config()?;
        let value = config.config.container_runtime_endpoint.clone()?;
        Some(Sourced {
            value,
            source: config.location("containerRuntimeEndpoint"),
            field: "containerRuntimeEndpoint".to_string(),
        })
    }

    /// Returns the runtime the kubelet talks to: the one its endpoint names, else the only or
    /// first installed one. Docker comes first without an endpoint, because kubelets before
    /// 1.24 used Docker through the built-in dockershim when no endpoint was given.
    pub fn kubelet_runtime(&self) -> Option<Runtime> {
        if let Some(endpoint) = self.runtime_endpoint() {
            let value = endpoint.value;
            return if value.contains("containerd") {
                Some(Runtime::Containerd)
            } else if value.contains("crio") {
                Some(Runtime::CriO)
            } else if value.contains("docker") {
                Some(Runtime::Docker)
            } else {
                None
            };
        }
        [Runtime::Docker, Runtime::Containerd, Runtime::CriO]
            .into_iter()
            .find(|runtime| self.runtimes.contains(runtime))
    }

    pub fn kubelet_config_invalid(&self) -> Option<Finding> {
        let error = match self.config.as_ref()? {
            Err(error @ KubeletConfigError::Invalid { .. }) => error.to_string(),
            Err(KubeletConfigError::Read(error)) => error.to_string(),
            Ok(_) => return None,
        };
        let path = &self.config_path;
        Some(
            Finding::new(Code::JoinPreflightKubeletConfigInvalid, error.clone())
                .details("The kubelet reads this file at start and exits when it does not parse, so the node never becomes Ready. The other kubelet settings of this check were not read from it.")
                .evidence(path, "error", error)
                .fix(
                    Fix::new(format!("correct {path} at the line the error names, then restart the kubelet"))
                        .step("Fix the YAML at the reported line; `kubeadm join` and `kubeadm upgrade node` write this file from the kubelet-config ConfigMap, so a node that was joined can also fetch it again.")
                        .command(format!("kubeadm upgrade node phase kubelet-config   # rewrites {path} from the cluster's kubelet-config ConfigMap"))
                        .command("systemctl restart kubelet"),
                )
                .reference("https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/"),
        )
    }
}
