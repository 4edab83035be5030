//! Findings from certificate errors in the journals, used when no handshake can run (a
//! snapshot, or --offline).

use crate::check::{Code, Finding, Fix};
use crate::runtime::trust::Plan;

use super::facts::Facts;
use super::fixes;
use super::journal::{Logged, LoggedFailure};

pub fn findings(facts: &Facts, failures: &[LoggedFailure], why_no_handshake: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    for failure in failures {
        let Some(plan) = facts
            .active_runtimes()
            .into_iter()
            .find_map(|runtime| facts.plan(runtime, &failure.registry))
        else {
            continue;
        };
        let finding = match failure.kind {
            Logged::UnknownAuthority => untrusted(plan),
            Logged::HostnameMismatch => Finding::new(
                Code::RegistryCaHostnameMismatch,
                format!("pulls from {} fail: its certificate does not name it", failure.registry),
            )
            .details("The runtime logged that the registry's certificate is not valid for the name images use. Go matches subjectAltNames only, not the Common Name.")
            .fix(
                Fix::new(format!("Reissue the certificate of {} with a subjectAltName for {}", failure.registry, failure.registry.host))
                    .command(fixes::show_chain_command(&failure.registry)),
            ),
            Logged::Expired => Finding::new(
                Code::RegistryCaServerCertExpired,
                format!("pulls from {} fail: a certificate in its chain is expired or not yet valid", failure.registry),
            )
            .details("The runtime logged \"certificate has expired or is not yet valid\" for this registry. Either the registry's certificate or a CA in its chain is outside its validity period, or this node's clock is wrong.")
            .fix(
                Fix::new(format!("Renew the certificate of {}, or correct this node's clock", failure.registry))
                    .command("date -u")
                    .command(fixes::show_chain_command(&failure.registry)),
            ),
        };
        findings.push(
            finding
                .evidence(failure.source(), "log", &failure.line)
                .evidence(
                    "registry-ca",
                    "TLS handshake",
                    format!("not run: {why_no_handshake}"),
                )
                .reference(fixes::reference(plan.runtime)),
        );
    }
    findings
}

fn untrusted(plan: &Plan) -> Finding {
    let registry = &plan.registry;
    let mut finding = Finding::new(
        Code::RegistryCaChainUntrusted,
        format!(
            "{} does not trust {registry}: pulls fail with \"certificate signed by unknown authority\"",
            plan.runtime.name()
        ),
    )
    .details(format!(
        "The journal shows pulls from {registry} failing certificate verification. {} verifies \
         it with the system trust store{}.",
        plan.runtime.name(),
        trust_text(plan)
    ));
    for endpoint in &plan.endpoints {
        let value = if endpoint.ca_files.is_empty() {
            "system trust store only".to_string()
        } else {
            format!("system trust store + {}", endpoint.ca_files.join(", "))
        };
        finding = finding.evidence(
            &endpoint.configured_by,
            format!("{} trust for {}", plan.runtime.name(), endpoint.address),
            value,
        );
    }
    if let Some(why) = &plan.ignored_because {
        finding = finding.evidence(
            "containerd config_path",
            "hosts folders",
            format!("not read: {why}"),
        );
    }
    finding
        .evidence(&plan.ca_target, "exists", "false")
        .fix(fixes::install_ca(plan))
}

fn trust_text(plan: &Plan) -> String {
    let files: Vec<&str> = plan
        .endpoints
        .iter()
        .flat_map(|e| e.ca_files.iter().map(String::as_str))
        .collect();
    if files.is_empty() {
        format!(
            " only, and no CA file for {} exists where it looks ({})",
            plan.registry, plan.ca_target
        )
    } else {
        format!(" and {}", files.join(", "))
    }
}
