//! `runtime-mismatch`: trust set up for a runtime the kubelet does not pull with.

use crate::check::{Code, Finding};
use crate::net::RegistryAddress;
use crate::runtime::Runtime;
use crate::runtime::trust::Plan;

use super::facts::Facts;
use super::fixes;

/// Returns a finding for each registry that the kubelet's runtime has no trust for while
/// another installed runtime has some, with the registries it covers.
pub fn findings(facts: &Facts) -> Vec<(RegistryAddress, Finding)> {
    let Some(kubelet_runtime) = facts.kubelet.runtime else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for registry in &facts.registries {
        let Some(used) = facts.plan(kubelet_runtime, registry) else {
            continue;
        };
        if used.has_custom_trust() || ignored_folder_exists(facts, used) {
            continue;
        }
        let others: Vec<&Plan> = Runtime::ALL
            .iter()
            .filter(|runtime| **runtime != kubelet_runtime)
            .filter_map(|runtime| facts.plan(*runtime, registry))
            .filter(|plan| plan.has_custom_trust())
            .collect();
        if others.is_empty() {
            continue;
        }
        findings.push((registry.clone(), finding(facts, used, &others)));
    }
    findings
}

/// containerd folders outside config_path are reported as config-path-unset instead.
fn ignored_folder_exists(facts: &Facts, plan: &Plan) -> bool {
    plan.runtime == Runtime::Containerd
        && facts.containerd.as_ref().is_some_and(|containerd| {
            containerd.unread_roots.iter().any(|root| {
                root.registries
                    .iter()
                    .any(|dir| dir == &plan.registry.to_string())
            })
        })
}

fn finding(facts: &Facts, used: &Plan, others: &[&Plan]) -> Finding {
    let kubelet = &facts.kubelet;
    let registry = &used.registry;
    let other_names: Vec<&str> = others.iter().map(|plan| plan.runtime.name()).collect();
    let mut finding = Finding::new(
        Code::RegistryCaRuntimeMismatch,
        format!(
            "trust for {registry} is set up for {} only, but the kubelet pulls through {}",
            other_names.join(" and "),
            used.runtime.name()
        ),
    )
    .details(format!(
        "The kubelet sends image pulls to {} ({}), which has no CA, skip_verify or plain-HTTP \
         setting for {registry}. The settings below belong to {}, so `{} pull` may work on this \
         node while pods fail with \"x509: certificate signed by unknown authority\".",
        used.runtime.name(),
        kubelet.endpoint.as_deref().unwrap_or("endpoint unknown"),
        other_names.join(" and "),
        match others[0].runtime {
            Runtime::Docker => "docker",
            Runtime::CriO => "podman",
            Runtime::Containerd => "ctr",
        }
    ))
    .evidence(
        &kubelet.source,
        &kubelet.field,
        kubelet.endpoint.as_deref().unwrap_or(used.runtime.name()),
    );
    for plan in others {
        for endpoint in plan
            .endpoints
            .iter()
            .filter(|e| !e.ca_files.is_empty() || e.skip_verify || !e.https)
        {
            let value = if endpoint.skip_verify {
                "skips verification".to_string()
            } else if !endpoint.https {
                "plain HTTP".to_string()
            } else {
                format!("CA files {}", endpoint.ca_files.join(", "))
            };
            finding = finding.evidence(
                &endpoint.configured_by,
                format!("{} trust for {}", plan.runtime.name(), endpoint.address),
                value,
            );
        }
    }
    finding
        .evidence(&used.ca_target, "exists", "false")
        .fix(fixes::install_ca(used))
        .reference(fixes::reference(used.runtime))
}
