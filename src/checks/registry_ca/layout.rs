//! `misnamed-file`: certs.d folders that break the `.crt`/`.cert`/`.key` rules.

use crate::check::{Code, Finding, Fix, Severity};
use crate::host::Host;
use crate::host::MAX_CONFIG_BYTES;
use crate::kube::cert::parse_pem_certificates;
use crate::runtime::Runtime;
use crate::runtime::certs_dir::{CertsDir, LayoutProblem};

use super::facts::Facts;
use super::fixes;

pub fn findings(host: &dyn Host, facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut seen: Vec<LayoutProblem> = Vec::new();
    let mut report = |runtime: Runtime, problem: LayoutProblem, findings: &mut Vec<Finding>| {
        if seen.contains(&problem) {
            return;
        }
        let severity = if facts.is_active(runtime) {
            Severity::Critical
        } else {
            Severity::Warning
        };
        findings.push(finding(host, runtime, &problem).severity(severity));
        seen.push(problem);
    };

    if let Some(docker) = &facts.docker {
        for problem in &docker.root.problems {
            report(Runtime::Docker, problem.clone(), &mut findings);
        }
    }
    if let Some(crio) = &facts.crio {
        for problem in &crio.root.problems {
            report(Runtime::CriO, problem.clone(), &mut findings);
        }
    }
    if let Some(containerd) = &facts.containerd {
        for root in &containerd.roots {
            for problem in &root.problems {
                report(Runtime::Containerd, problem.clone(), &mut findings);
            }
        }
    }

    for plan in &facts.plans {
        let Some(dir) = &plan.config_dir else {
            continue;
        };
        // containerd reads only hosts.toml when it parses; the other files are then unused.
        if plan.hosts_toml.is_some() {
            continue;
        }
        for problem in CertsDir::read(host, dir).layout_problems() {
            // containerd's fallback loads only .crt and .cert files, so a lone key is harmless.
            if plan.runtime == Runtime::Containerd
                && matches!(problem, LayoutProblem::KeyWithoutCert { .. })
            {
                continue;
            }
            report(plan.runtime, problem, &mut findings);
        }
    }
    findings
}

fn finding(host: &dyn Host, runtime: Runtime, problem: &LayoutProblem) -> Finding {
    let name = runtime.name();
    match problem {
        LayoutProblem::CertWithoutKey { cert, key } => {
            let holds_ca = host
                .read_file(cert, MAX_CONFIG_BYTES)
                .ok()
                .and_then(|bytes| parse_pem_certificates(&bytes).ok())
                .is_some_and(|certificates| certificates.iter().any(|c| c.is_ca));
            let renamed = format!("{}.crt", cert.trim_end_matches(".cert"));
            let mut fix = Fix::new(if holds_ca {
                format!("Rename {cert} to {renamed}: CA certificates must end in .crt")
            } else {
                format!("Add the client key {key}, or remove {cert}")
            });
            fix = if holds_ca {
                fix.command(format!("mv {cert} {renamed}"))
            } else {
                fix.step(format!("Put the private key of {cert} next to it as {key}."))
            };
            Finding::new(
                Code::RegistryCaMisnamedFile,
                format!("{cert} has no matching {key}"),
            )
            .details(format!(
                "Files ending in .cert are client certificates and need a .key file of the same \
                 base name. {name} stops with \"missing key ... for client certificate\" (or, for \
                 containerd, fails to load the pair), so every pull from this registry fails.{}",
                if holds_ca {
                    " The file holds a CA certificate, which must end in .crt."
                } else {
                    ""
                }
            ))
            .evidence(cert, "file", "client certificate without key")
            .evidence(key, "exists", "false")
            .fix(fix.step(fixes_step(runtime)))
            .reference(fixes::reference(runtime))
        }
        LayoutProblem::KeyWithoutCert { key, cert } => Finding::new(
            Code::RegistryCaMisnamedFile,
            format!("{key} has no matching {cert}"),
        )
        .details(format!(
            "A .key file needs a .cert client certificate of the same base name. {name} stops \
             with \"missing client certificate ... for key\", so every pull from this registry \
             fails."
        ))
        .evidence(key, "file", "client key without certificate")
        .evidence(cert, "exists", "false")
        .fix(
            Fix::new(format!("Add the client certificate {cert}, or move {key} out of the folder"))
                .command(format!("mv {key} /root/"))
                .step(fixes_step(runtime)),
        )
        .reference(fixes::reference(runtime)),
        LayoutProblem::IgnoredFile { file } => {
            let stem = file.rsplit_once('.').map_or(file.as_str(), |(stem, _)| stem);
            let renamed = format!("{}.crt", stem.trim_end_matches(".crt"));
            Finding::new(
                Code::RegistryCaMisnamedFile,
                format!("{file} is ignored: only files ending in .crt are read as CAs"),
            )
            .details(format!(
                "{name} loads CA certificates only from files whose name ends in .crt. This \
                 file is never read, so it adds no trust."
            ))
            .evidence(file, "name", "does not end in .crt, .cert or .key")
            .fix(
                Fix::new(format!("Rename {file} to {renamed}"))
                    .command(format!("mv {file} {renamed}"))
                    .step(fixes_step(runtime)),
            )
            .reference(fixes::reference(runtime))
        }
        LayoutProblem::NotADirectory { path, kind } => Finding::new(
            Code::RegistryCaMisnamedFile,
            format!("{path} is {}, not a folder", kind.with_article()),
        )
        .details(format!(
            "Every entry of a certs.d directory must be a folder named after a registry \
             (HOST or HOST:PORT) holding the certificate files. {name} fails on a file in a \
             registry folder's place, and ignores files at the top level."
        ))
        .evidence(path, "type", kind.as_str())
        .fix(
            Fix::new(format!("Move {path} into a registry folder as ca.crt"))
                .step("Name the folder exactly as images name the registry, port included unless it is 443.")
                .command(format!("mv {path} /root/registry-ca.crt"))
                .command(format!("mkdir -p {path}"))
                .command(format!("mv /root/registry-ca.crt {path}/ca.crt"))
                .step(fixes_step(runtime)),
        )
        .reference(fixes::reference(runtime)),
    }
}

fn fixes_step(runtime: Runtime) -> String {
    format!(
        "No restart is needed: {} reads the folder on every pull.",
        runtime.name()
    )
}
