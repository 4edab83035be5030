//! Fixes for registry trust problems, following each runtime's reload rules:
//!
//! - Per-registry files are read at pull time, so adding or renaming them needs no restart:
//!   Docker's certs.d (moby `registry.newTLSConfig`), containerd's hosts folders (containerd
//!   docs/hosts.md) and CRI-O's /etc/containers/certs.d (containers/image
//!   `tlsclientconfig.SetupCertificates`).
//! - config.toml, daemon.json and registries.conf are read at start: containerd needs a
//!   restart, Docker and CRI-O a reload.
//! - The system trust store is loaded once per process (Go's `x509.SystemCertPool`), so a CA
//!   added there reaches a runtime only after it restarts.

use crate::check::Fix;
use crate::net::RegistryAddress;
use crate::runtime::Runtime;
use crate::runtime::containerd_registry::HOSTS_DIR;
use crate::runtime::system_roots::LOCAL_CA_DIR;
use crate::runtime::trust::Plan;

pub const CONTAINERD_HOSTS_DOC: &str =
    "https://github.com/containerd/containerd/blob/main/docs/hosts.md";
pub const DOCKER_CERTS_DOC: &str = "https://docs.docker.com/engine/security/certificates/";
pub const CRIO_CERTS_DOC: &str =
    "https://github.com/containers/image/blob/main/docs/containers-certs.d.5.md";

pub fn reference(runtime: Runtime) -> &'static str {
    match runtime {
        Runtime::Containerd => CONTAINERD_HOSTS_DOC,
        Runtime::Docker => DOCKER_CERTS_DOC,
        Runtime::CriO => CRIO_CERTS_DOC,
    }
}

/// Returns the command that prints the subjects and issuers of the chain a registry serves.
pub fn show_chain_command(registry: &RegistryAddress) -> String {
    let server_name = if registry.is_ip() {
        String::new()
    } else {
        format!(" -servername {}", registry.host)
    };
    format!(
        "openssl s_client -showcerts -connect {}{server_name} </dev/null 2>/dev/null | \
         grep -E '^ *[0-9]+ s:|^ +i:'",
        registry.with_port()
    )
}

/// Returns the fix step for a per-registry file change, which needs no restart.
fn no_restart_step(runtime: Runtime) -> String {
    format!(
        "No restart is needed: {} reads this folder on every pull.",
        runtime.name()
    )
}

/// Installs the registry's CA where `plan`'s runtime reads it for this registry.
pub fn install_ca(plan: &Plan) -> Fix {
    let registry = &plan.registry;
    let target = &plan.ca_target;
    let folder = target.rsplit_once('/').map_or(target.as_str(), |(f, _)| f);
    let mut fix = Fix::new(format!(
        "Give {} the CA of {registry} in {target}",
        plan.runtime.name()
    ))
    .step(format!(
        "Get the certificate of the CA that signed {registry}'s certificate from the \
         registry's administrator (Harbor offers it as the registry root certificate). The \
         first command shows the chain the registry serves; the issuer (i:) of the last \
         certificate is the CA you need. Compare its fingerprint out of band before trusting it."
    ))
    .command(show_chain_command(registry));

    let needs_config_path = plan.runtime == Runtime::Containerd && plan.ignored_because.is_some();
    if let Some(why) = plan.ignored_because.as_ref().filter(|_| needs_config_path) {
        fix = fix
            .step(format!(
                "containerd reads no hosts folders yet ({why}): set config_path = \"{HOSTS_DIR}\" \
                 in the CRI registry table of its config.toml, then restart containerd, which \
                 reads config.toml only at start."
            ))
            .command("systemctl restart containerd");
    }
    fix = fix
        .step(format!(
            "Save the CA as {target} (PEM, file name ending in .crt)."
        ))
        .command(format!("mkdir -p {folder}"))
        .command(format!("cp registry-ca.crt {target}"))
        .command(format!(
            "openssl x509 -noout -subject -ext basicConstraints -enddate -in {target}"
        ));
    if let Some(hosts_toml) = &plan.hosts_toml {
        fix = fix.step(format!(
            "{hosts_toml} exists, so containerd reads only it: add ca = \"{target}\" to the \
             [host.\"...\"] table of each endpoint, or at the top level for the server entry."
        ));
    }
    let reload = if needs_config_path {
        "After that one restart, containerd reads this folder on every pull, so later changes \
         need no restart."
            .to_string()
    } else {
        no_restart_step(plan.runtime)
    };
    fix.step(reload).step(format!(
        "Alternatively add the CA to the system trust store (cp registry-ca.crt \
         {LOCAL_CA_DIR}/ && update-ca-certificates) on every node; then {} must restart, \
         because it loads the system store only once.",
        plan.runtime.name()
    ))
}

/// The restart command for a change to the runtime's main config file.
pub fn config_reload_command(runtime: Runtime) -> &'static str {
    match runtime {
        Runtime::Containerd => "systemctl restart containerd",
        Runtime::Docker => "systemctl reload docker",
        Runtime::CriO => "systemctl reload crio",
    }
}
