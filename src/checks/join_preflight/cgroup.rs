//! The kubelet's cgroup driver against the container runtime's.

use super::setup::{Setup, Sourced};
use crate::check::{Code, Finding, Fix};
use crate::host::{Host, MAX_CONFIG_BYTES};
use crate::runtime::containerd::{self, ContainerdConfig};
use crate::runtime::{CgroupDriver, Runtime, docker};
use crate::systemd::{ServiceEnvironment, Unit};

const CGROUP_DRIVER_URL: &str =
    "https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/configure-cgroup-driver/";
const CRIO_CONFIG: &str = "/etc/crio/crio.conf";
const CRIO_CONFIG_DIR: &str = "/etc/crio/crio.conf.d";

/// The runtime's driver and the evidence for it.
struct RuntimeDriver {
    runtime: Runtime,
    driver: CgroupDriver,
    source: String,
    field: String,
    /// The line to change, when a file sets the driver.
    setting: Option<(String, usize)>,
}

pub fn check(host: &dyn Host, setup: &Setup) -> Vec<Finding> {
    let Some(kubelet) = setup.cgroup_driver() else {
        return Vec::new();
    };
    let Some(kubelet_driver) = CgroupDriver::parse(&kubelet.value) else {
        return Vec::new();
    };
    let Some(runtime) = setup.kubelet_runtime() else {
        return Vec::new();
    };
    if !setup.runtimes.contains(&runtime) {
        return Vec::new();
    }
    let runtime_driver = match runtime_driver(host, runtime) {
        Ok(Some(driver)) => driver,
        Ok(None) => return Vec::new(),
        Err(finding) => return vec![*finding],
    };
    if runtime_driver.driver == kubelet_driver {
        return Vec::new();
    }

    let name = runtime.name();
    let finding = Finding::new(
        Code::JoinPreflightCgroupDriverMismatch,
        format!(
            "the kubelet uses the {kubelet_driver} cgroup driver but {name} uses {}",
            runtime_driver.driver
        ),
    )
    .details(format!(
        "The kubelet and {name} must manage pod cgroups through the same driver. With Docker the kubelet exits with \"misconfiguration: kubelet cgroup driver: ... is different from docker cgroup driver\"; with containerd or CRI-O sandboxes are recreated and pods restart, worst under memory pressure. On a systemd host both should use systemd, which kubeadm writes by default since v1.22."
    ))
    .evidence(&kubelet.source, &kubelet.field, &kubelet.value)
    .evidence(
        &runtime_driver.source,
        &runtime_driver.field,
        runtime_driver.driver.as_str(),
    );
    let fix = if kubelet_driver == CgroupDriver::Cgroupfs {
        kubelet_to_systemd(setup, &kubelet)
    } else {
        runtime_to_systemd(&runtime_driver)
    };
    vec![finding.fix(fix).reference(CGROUP_DRIVER_URL)]
}

fn runtime_driver(
    host: &dyn Host,
    runtime: Runtime,
) -> Result<Option<RuntimeDriver>, Box<Finding>> {
    match runtime {
        Runtime::Containerd => containerd_driver(host).map(Some),
        Runtime::Docker => docker_driver(host),
        Runtime::CriO => Ok(Some(crio_driver(host))),
    }
}

// NOTE: containerd's `imports` (drop-in TOML files) are not read. A kubelet with the
// KubeletCgroupDriverFromCRI feature (beta in 1.31) and containerd 2.x takes the driver from
// containerd and ignores cgroupDriver. Either can make this comparison report a mismatch that
// does not apply.
fn containerd_driver(host: &dyn Host) -> Result<RuntimeDriver, Box<Finding>> {
    let config = ContainerdConfig::read(host).map_err(|error| {
        Box::new(runtime_config_invalid(
            &error,
            containerd::CONFIG_PATH,
            "containerd",
        ))
    })?;
    Ok(match config {
        Some(config) => match &config.systemd_cgroup {
            Some(setting) => RuntimeDriver {
                runtime: Runtime::Containerd,
                driver: if setting.value {
                    CgroupDriver::Systemd
                } else {
                    CgroupDriver::Cgroupfs
                },
                source: format!("{}:{}", config.path, setting.line),
                field: format!("{} SystemdCgroup", config.options_table),
                setting: Some((config.path.clone(), setting.line)),
            },
            None => RuntimeDriver {
                runtime: Runtime::Containerd,
                driver: CgroupDriver::Cgroupfs,
                source: format!("{} (version {})", config.path, config.version),
                field: format!("{} SystemdCgroup", config.options_table),
                setting: None,
            },
        },
        None => RuntimeDriver {
            runtime: Runtime::Containerd,
            driver: CgroupDriver::Cgroupfs,
            source: format!(
                "{} (absent: containerd's built-in defaults)",
                containerd::CONFIG_PATH
            ),
            field: "SystemdCgroup".to_string(),
            setting: None,
        },
    })
}

fn docker_driver(host: &dyn Host) -> Result<Option<RuntimeDriver>, Box<Finding>> {
    let from_json = docker::daemon_json_cgroup_driver(host).map_err(|error| {
        Box::new(runtime_config_invalid(
            &error,
            docker::DAEMON_JSON,
            "Docker",
        ))
    })?;
    if let Some(setting) = from_json
        && let Some(driver) = CgroupDriver::parse(&setting.value)
    {
        return Ok(Some(RuntimeDriver {
            runtime: Runtime::Docker,
            driver,
            source: format!("{}:{}", docker::DAEMON_JSON, setting.line),
            field: "exec-opts native.cgroupdriver".to_string(),
            setting: Some((docker::DAEMON_JSON.to_string(), setting.line)),
        }));
    }

    let unit = Unit::load(host, Runtime::Docker.unit());
    let environment = ServiceEnvironment::resolve(host, &unit);
    if let Some(words) = environment.exec_start(&unit) {
        let plain: Vec<String> = words.iter().map(|w| w.word.clone()).collect();
        if let Some(value) = docker::exec_opt_cgroup_driver(&plain)
            && let Some(driver) = CgroupDriver::parse(&value)
        {
            let source = words
                .iter()
                .find(|w| w.word.contains("native.cgroupdriver="))
                .map(|w| w.source.clone())
                .unwrap_or_default();
            return Ok(Some(RuntimeDriver {
                runtime: Runtime::Docker,
                driver,
                source,
                field: "dockerd --exec-opt native.cgroupdriver".to_string(),
                setting: None,
            }));
        }
    }

    // Without /sys/fs/cgroup the cgroup version, and so Docker's default, is unknown.
    if !host.exists("/sys/fs/cgroup") {
        return Ok(None);
    }
    let cgroup_v2 = host.exists("/sys/fs/cgroup/cgroup.controllers");
    Ok(Some(RuntimeDriver {
        runtime: Runtime::Docker,
        driver: docker::default_cgroup_driver(cgroup_v2),
        source: format!(
            "Docker default on cgroup {}",
            if cgroup_v2 { "v2" } else { "v1" }
        ),
        field: "native.cgroupdriver".to_string(),
        setting: None,
    }))
}

/// Reads CRI-O's `cgroup_manager`, systemd unless a file sets it; crio.conf.d files apply
/// after crio.conf in name order.
fn crio_driver(host: &dyn Host) -> RuntimeDriver {
    let mut files = vec![CRIO_CONFIG.to_string()];
    if let Ok(entries) = host.read_dir(CRIO_CONFIG_DIR) {
        files.extend(
            entries
                .iter()
                .filter(|e| e.name.ends_with(".conf"))
                .map(|e| format!("{CRIO_CONFIG_DIR}/{}", e.name)),
        );
    }
    let mut found = RuntimeDriver {
        runtime: Runtime::CriO,
        driver: CgroupDriver::Systemd,
        source: "CRI-O default".to_string(),
        field: "cgroup_manager".to_string(),
        setting: None,
    };
    for file in files {
        let Ok(text) = host.read_text(&file, MAX_CONFIG_BYTES) else {
            continue;
        };
        for (index, line) in text.lines().enumerate() {
            let Some(value) = line
                .trim()
                .strip_prefix("cgroup_manager")
                .and_then(|rest| rest.trim_start().strip_prefix('='))
            else {
                continue;
            };
            if let Some(driver) = CgroupDriver::parse(value.trim().trim_matches('"')) {
                found.driver = driver;
                found.source = format!("{file}:{}", index + 1);
                found.setting = Some((file.clone(), index + 1));
            }
        }
    }
    found
}

fn kubelet_to_systemd(setup: &Setup, kubelet: &Sourced<String>) -> Fix {
    let fix = Fix::new("switch the kubelet to the systemd cgroup driver");
    let fix = if kubelet.field == "--cgroup-driver" {
        fix.step(format!(
            "Remove --cgroup-driver={} from {} (or change it to systemd); the flag overrides the configuration file.",
            kubelet.value, kubelet.source
        ))
    } else {
        let path = &setup.config_path;
        let fix = fix.step(format!("Set cgroupDriver: systemd in {path}."));
        match setup
            .loaded_config()
            .and_then(|c| c.config.cgroup_driver.as_ref())
        {
            Some(_) => fix.command(format!(
                "sed -i 's/^cgroupDriver:.*/cgroupDriver: systemd/' {path}"
            )),
            None => fix.command(format!("printf 'cgroupDriver: systemd\\n' >> {path}")),
        }
    };
    fix.step("Make the cluster-wide kubelet-config ConfigMap say the same, or `kubeadm upgrade` writes the old value back.")
        .command("kubectl -n kube-system edit configmap kubelet-config")
        .command("systemctl restart kubelet")
}

fn runtime_to_systemd(runtime: &RuntimeDriver) -> Fix {
    match runtime.runtime {
        Runtime::Containerd => {
            let path = containerd::CONFIG_PATH;
            let fix = Fix::new("set SystemdCgroup = true for containerd's runc runtime");
            let fix = match &runtime.setting {
                Some((file, line)) => fix
                    .step(format!("Change line {line} of {file} to SystemdCgroup = true."))
                    .command(format!("sed -i '{line}s/SystemdCgroup *= *false/SystemdCgroup = true/' {file}")),
                None if runtime.source.contains("absent") => fix
                    .step(format!("Write containerd's default configuration to {path}, then set SystemdCgroup = true in it."))
                    .command(format!("mkdir -p /etc/containerd && containerd config default > {path}"))
                    .command(format!("sed -i 's/SystemdCgroup *= *false/SystemdCgroup = true/' {path}")),
                None => fix.step(format!(
                    "Add the line SystemdCgroup = true under the table {} in {path}.",
                    runtime.field.trim_end_matches(" SystemdCgroup")
                )),
            };
            fix.command("systemctl restart containerd")
                .command(format!("grep -n SystemdCgroup {path}"))
        }
        Runtime::Docker => Fix::new("set Docker's cgroup driver to systemd")
            .step(format!(
                "Put \"native.cgroupdriver=systemd\" in the exec-opts list of {}, keeping its other entries, and remove any --exec-opt native.cgroupdriver flag from docker.service.",
                docker::DAEMON_JSON
            ))
            .step("Restart Docker, then the kubelet.")
            .command(format!("cat {}", docker::DAEMON_JSON))
            .command("systemctl restart docker && systemctl restart kubelet")
            .command("docker info --format '{{.CgroupDriver}}'"),
        Runtime::CriO => Fix::new("set CRI-O's cgroup_manager to systemd")
            .step(format!(
                "Set cgroup_manager = \"systemd\" in {}, or in a file of {CRIO_CONFIG_DIR} that sorts last.",
                runtime.setting.as_ref().map_or(CRIO_CONFIG, |(file, _)| file.as_str())
            ))
            .command("systemctl restart crio && systemctl restart kubelet"),
    }
}

fn runtime_config_invalid(error: &str, path: &str, runtime: &str) -> Finding {
    Finding::new(Code::JoinPreflightRuntimeConfigInvalid, error.to_string())
        .details(format!(
            "{runtime} reads {path} at start and does not start when it does not parse, so the kubelet has no container runtime."
        ))
        .evidence(path, "error", error)
        .fix(
            Fix::new(format!("correct {path} at the line the error names, then restart {runtime}"))
                .step("Fix the syntax error; the error message gives the line and column.")
                .command(format!(
                    "systemctl restart {}",
                    if runtime == "Docker" { "docker" } else { "containerd" }
                )),
        )
}
