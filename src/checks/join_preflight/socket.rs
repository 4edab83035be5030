//! The CRI socket the kubelet talks to.

use super::setup::Setup;
use crate::check::{Code, Finding, Fix};
use crate::host::{FileKind, Host};
use crate::runtime::Runtime;

const RUNTIME_URL: &str =
    "https://kubernetes.io/docs/setup/production-environment/container-runtimes/";

/// Returns the state of a socket path, looking under /run for a /var/run path too.
fn socket_state(host: &dyn Host, path: &str) -> Result<(), String> {
    let alternative = path
        .strip_prefix("/var/run/")
        .map(|rest| format!("/run/{rest}"));
    for candidate in std::iter::once(path.to_string()).chain(alternative) {
        match host.stat(&candidate) {
            Ok(meta) if meta.kind == FileKind::Socket => return Ok(()),
            Ok(meta) => return Err(format!("is {}, not a socket", meta.kind.with_article())),
            Err(error) if error.is_not_found() => continue,
            Err(error) => return Err(error.kind.to_string()),
        }
    }
    Err("does not exist".to_string())
}

pub fn check(host: &dyn Host, setup: &Setup) -> Option<Finding> {
    let endpoint = setup.runtime_endpoint();
    let (paths, source, field) = match &endpoint {
        Some(endpoint) => {
            let path = endpoint
                .value
                .strip_prefix("unix://")
                .unwrap_or(&endpoint.value)
                .to_string();
            if !path.starts_with('/') {
                return None;
            }
            (vec![path], endpoint.source.clone(), endpoint.field.clone())
        }
        None if !setup.runtimes.is_empty() => {
            let paths: Vec<String> = setup
                .runtimes
                .iter()
                .flat_map(|r| r.cri_sockets().iter().map(|s| s.to_string()))
                .collect();
            (
                paths,
                "installed runtimes".to_string(),
                "known CRI sockets".to_string(),
            )
        }
        None => return None,
    };
    let states: Vec<(String, Result<(), String>)> = paths
        .iter()
        .map(|path| (path.clone(), socket_state(host, path)))
        .collect();
    if states.iter().any(|(_, state)| state.is_ok()) {
        return None;
    }

    let runtime = setup.kubelet_runtime();
    let unit = runtime.map_or("containerd", |r| r.unit().trim_end_matches(".service"));
    let installed = runtime.is_some_and(|r| setup.runtimes.contains(&r));
    let first = &states[0];
    let mut finding = Finding::new(
        Code::JoinPreflightRuntimeSocketMissing,
        format!(
            "the container runtime socket {} {}",
            first.0,
            first.1.as_ref().err().map_or("", String::as_str)
        ),
    )
    .details("The kubelet and kubeadm talk to the container runtime over this socket. When it is missing the runtime is not running or listens elsewhere: kubeadm's preflight fails with \"container runtime is not running\" and the kubelet cannot create pods.");
    if let Some(endpoint) = &endpoint {
        finding = finding.evidence(&source, &field, &endpoint.value);
    }
    for (path, state) in &states {
        finding = finding.evidence(
            path,
            "state",
            state.as_ref().err().cloned().unwrap_or_default(),
        );
    }
    let runtime_name = runtime.map_or("the container runtime", Runtime::name);
    let mut fix = Fix::new(format!("start {runtime_name} and enable it at boot"));
    if !installed {
        fix = fix.step(format!("{runtime_name} is not installed: install it with the distribution's package manager, or point the kubelet at the runtime that is installed."));
    }
    fix = fix
        .step(format!("Start {unit} and enable it so it starts at boot, then look at its log if it does not stay up."))
        .command(format!("systemctl enable --now {unit}"))
        .command(format!("systemctl status {unit} --no-pager"))
        .command(format!("journalctl -u {unit} -n 50 --no-pager"));
    Some(finding.fix(fix).reference(RUNTIME_URL))
}
