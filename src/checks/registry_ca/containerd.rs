//! containerd-specific rules: hosts.toml files that do not parse or name missing CA files,
//! hosts folders outside `config_path`, the deprecated mirrors and configs tables, and k3s's
//! registries.yaml from which hosts.toml files are generated.

use crate::check::{Code, Finding, Fix, Severity};
use crate::runtime::Runtime;
use crate::runtime::containerd_registry::{ConfigPath, HOSTS_DIR};
use crate::runtime::k3s::REGISTRIES_YAML;

use super::facts::{ContainerdFacts, Facts, HostsFileState, MissingCa};
use super::fixes::{self, CONTAINERD_HOSTS_DOC};

fn severity(facts: &Facts) -> Severity {
    if facts.is_active(Runtime::Containerd) {
        Severity::Critical
    } else {
        Severity::Warning
    }
}

pub fn findings(facts: &Facts) -> Vec<Finding> {
    let Some(containerd) = &facts.containerd else {
        return Vec::new();
    };
    let severity = severity(facts);
    let mut findings = Vec::new();
    for (path, state) in &containerd.hosts_files {
        match state {
            HostsFileState::Invalid(error) => {
                findings.push(hosts_invalid(path, error).severity(severity))
            }
            HostsFileState::Parsed { missing_cas, .. } => {
                for missing in missing_cas {
                    findings.push(ca_missing(path, missing).severity(severity));
                }
            }
        }
    }
    findings.extend(
        config_path_unset(containerd)
            .into_iter()
            .map(|f| f.severity(severity)),
    );
    findings.extend(legacy(containerd));
    findings
}

fn hosts_invalid(path: &str, error: &crate::runtime::hosts_toml::HostsError) -> Finding {
    let at = error
        .line
        .map(|line| format!(" at line {line}"))
        .unwrap_or_default();
    let mut fix =
        Fix::new(format!("Correct {path}{at}")).step(format!("Fix the error: {}.", error.message));
    if let Some(line) = error.line {
        fix = fix.command(format!(
            "sed -n '{},{}p' {path}",
            line.saturating_sub(2).max(1),
            line + 2
        ));
    }
    Finding::new(
        Code::RegistryCaHostsTomlInvalid,
        format!("{path} is not valid{at}: {}", error.message),
    )
    .details(
        "containerd cannot parse this hosts.toml, so it logs \"failed to decode hosts.toml\" and \
         uses only the Docker-style .crt files of the folder: every mirror, ca and skip_verify \
         setting in the file is ignored.",
    )
    .evidence(
        path,
        error
            .line
            .map_or("error".to_string(), |l| format!("line {l}")),
        &error.message,
    )
    .fix(fix.step("containerd rereads hosts.toml on every pull, so no restart is needed."))
    .reference(CONTAINERD_HOSTS_DOC)
}

fn ca_missing(path: &str, missing: &MissingCa) -> Finding {
    let MissingCa {
        table,
        written,
        resolved,
    } = missing;
    let relative = !written.starts_with('/');
    Finding::new(
        Code::RegistryCaHostsTomlCaMissing,
        format!("{path} names CA file {resolved}, which does not exist"),
    )
    .details(format!(
        "ca = {written:?} in {table} of {path}{} names a file that does not exist, so containerd \
         fails every pull from this registry with \"unable to read CA cert\".",
        if relative {
            format!(" is relative, so containerd reads it as {resolved}")
        } else {
            String::new()
        }
    ))
    .evidence(path, format!("{table} ca"), written)
    .evidence(resolved, "exists", "false")
    .fix(
        Fix::new(format!("Put the registry's CA at {resolved}, or correct the ca path in {path}"))
            .step("Relative ca paths are taken from the folder of the hosts.toml; an absolute path avoids surprises.")
            .command(format!("ls -l {}", resolved.rsplit_once('/').map_or("/", |(d, _)| d)))
            .command(format!("cp registry-ca.crt {resolved}"))
            .step("containerd rereads hosts.toml and its CA files on every pull, so no restart is needed."),
    )
    .reference(CONTAINERD_HOSTS_DOC)
}

fn config_path_unset(containerd: &ContainerdFacts) -> Vec<Finding> {
    let config = &containerd.config;
    let (current, why) = match &config.config_path {
        ConfigPath::Set { value, source } => (format!("{value:?} (set in {source})"), None),
        ConfigPath::Default { value, why } => (format!("{value:?} by default"), Some(why.clone())),
        ConfigPath::Unset { why } => ("not set".to_string(), Some(why.clone())),
    };
    containerd
        .unread_roots
        .iter()
        .map(|root| {
            let table = &config.registry_table;
            let mut finding = Finding::new(
                Code::RegistryCaConfigPathUnset,
                format!(
                    "containerd ignores {}: its config_path is {current}",
                    root.path
                ),
            )
            .details(format!(
                "{} holds registry folders ({}), but containerd's CRI plugin reads hosts folders \
                 only from the directories its config_path lists, so these CA files and \
                 hosts.toml files are never used.{}",
                root.path,
                root.registries.join(", "),
                why.as_ref().map(|w| format!(" {w}.")).unwrap_or_default()
            ))
            .evidence(&config.path, format!("{table}.config_path"), &current)
            .evidence(&root.path, "registry folders", root.registries.join(", "));
            let value = match &config.config_path {
                ConfigPath::Set { value, .. } if !value.is_empty() => format!("{}:{}", root.path, value),
                _ => root.path.clone(),
            };
            finding = finding.fix(
                Fix::new(format!("Set config_path = \"{value}\" and restart containerd"))
                    .step(format!(
                        "In {}, under [{table}], set config_path = \"{value}\". A registry table \
                         must not also have mirrors or configs.",
                        config.path
                    ))
                    .step("containerd reads config.toml only at start, so restart it; running containers keep running.")
                    .command(format!("grep -n config_path {}", config.path))
                    .command("systemctl restart containerd"),
            );
            finding.reference(CONTAINERD_HOSTS_DOC)
        })
        .collect()
}

fn legacy(containerd: &ContainerdFacts) -> Vec<Finding> {
    let config = &containerd.config;
    if config.legacy.is_empty() {
        return Vec::new();
    }
    let with_config_path = matches!(config.config_path, ConfigPath::Set { .. });
    let registries: Vec<String> = config
        .mirrors
        .keys()
        .chain(config.tls.keys())
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut finding = Finding::new(
        Code::RegistryCaLegacyRegistryConfig,
        format!(
            "{} uses the deprecated registry mirrors/configs tables for {}",
            config.path,
            registries.join(", ")
        ),
    )
    .details(format!(
        "The registry.mirrors and registry.configs tables are deprecated in favour of hosts.toml \
         files under config_path. containerd releases before 1.3 ignore registry.configs \
         entirely, and 2.x may drop them.{}",
        if with_config_path {
            " Here config_path is set too, which containerd rejects: its CRI plugin does not start."
        } else {
            ""
        }
    ));
    if with_config_path {
        finding = finding.severity(Severity::Critical);
    }
    for setting in config.legacy.iter().take(8) {
        finding = finding.evidence(&setting.file, &setting.key, &setting.value);
    }

    let mut fix = Fix::new(format!(
        "Move the settings to hosts.toml files under {HOSTS_DIR} and point config_path there"
    ));
    for registry in &registries {
        let ca = config.tls.get(registry).and_then(|tls| tls.ca_file.clone());
        let mut hosts = format!("server = \\\"https://{registry}\\\"");
        if let Some(ca) = &ca {
            hosts.push_str(&format!("\\nca = \\\"{ca}\\\""));
        }
        fix = fix
            .command(format!("mkdir -p {HOSTS_DIR}/{registry}"))
            .command(format!(
                "printf \"{hosts}\\n\" > {HOSTS_DIR}/{registry}/hosts.toml"
            ));
    }
    fix = fix
        .step(format!(
            "Write one hosts.toml per registry ({HOSTS_DIR}/REGISTRY/hosts.toml) with server, \
             ca and any [host.\"https://mirror\"] tables."
        ))
        .step(format!(
            "Remove the mirrors and configs tables from {} and set config_path = \"{HOSTS_DIR}\" \
             under [{}]; registry credentials stay in configs.\"REGISTRY\".auth or move to image \
             pull secrets.",
            config.path, config.registry_table
        ))
        .step("containerd reads config.toml only at start, so restart it.")
        .command(fixes::config_reload_command(Runtime::Containerd));
    vec![finding.fix(fix).reference(CONTAINERD_HOSTS_DOC)]
}

pub fn k3s_findings(facts: &Facts) -> Vec<Finding> {
    let Some(result) = &facts.k3s_registries else {
        return Vec::new();
    };
    let misplaced = match result {
        Ok(misplaced) if misplaced.is_empty() => return Vec::new(),
        Ok(misplaced) => misplaced,
        Err(message) => {
            return vec![
                Finding::new(
                    Code::RegistryCaRegistriesYamlInvalid,
                    format!("{REGISTRIES_YAML} is not valid YAML: {message}"),
                )
                .details("k3s cannot read its registry configuration, so it writes no registry TLS settings for containerd.")
                .evidence(REGISTRIES_YAML, "error", message)
                .fix(Fix::new(format!("Correct {REGISTRIES_YAML} and restart k3s")).command("systemctl restart k3s"))
                .reference("https://docs.k3s.io/installation/private-registry"),
            ];
        }
    };
    let mut finding = Finding::new(
        Code::RegistryCaRegistriesYamlInvalid,
        format!(
            "{REGISTRIES_YAML} has misplaced keys ({}), so k3s does not apply them",
            misplaced
                .iter()
                .map(|m| m.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .details(
        "k3s turns registries.yaml into containerd hosts.toml files when it starts. Settings in \
         the wrong place are read as something else or dropped, so the generated hosts.toml \
         lacks the CA, skip_verify or credentials they were meant to set.",
    );
    for entry in misplaced {
        finding = finding.evidence(REGISTRIES_YAML, &entry.key, &entry.problem);
    }
    if let Some(containerd) = &facts.containerd {
        for (path, state) in &containerd.hosts_files {
            if let HostsFileState::Parsed { has_tls: false, .. } = state {
                finding =
                    finding.evidence(path, "ca / skip_verify", "absent from the generated file");
            }
        }
    }
    vec![
        finding
            .fix(
                Fix::new("Move `configs` to the top level of registries.yaml and restart k3s")
                    .step("`configs` must start in column 0, as a sibling of `mirrors`, keyed by the registry name images use (add HOST:PORT entries only for endpoints on other ports).")
                    .step("Prefer tls.ca_file with the registry's CA over insecure_skip_verify.")
                    .step("k3s writes the hosts.toml files only at start, so restart k3s (k3s-agent on agents) and check that the new hosts.toml has the ca or skip_verify line.")
                    .command(format!("grep -n -v -E 'password|token' {REGISTRIES_YAML}"))
                    .command("systemctl restart k3s"),
            )
            .reference("https://docs.k3s.io/installation/private-registry"),
    ]
}
