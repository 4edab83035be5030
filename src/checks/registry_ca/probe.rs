//! TLS handshakes with each registry endpoint the kubelet's runtime would contact, judged with
//! exactly that runtime's trust: the system trust store plus the endpoint's CA files.

use std::time::Duration;

use crate::check::{Code, Context, Evidence, Finding, Fix};
use crate::kube::cert::Certificate;
use crate::net::{self, HandshakeError, RegistryAddress, ResolveOverride, ServedChain};
use crate::report::format_rfc3339;
use crate::runtime::trust::{Endpoint, Plan};

use super::ca_files::CaFile;
use super::chain::{self, Anchor, Known, Problem};
use super::facts::Facts;
use super::fixes;

/// Maximum time for one handshake, name resolution and connection included.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);

/// One endpoint to verify, with the plan that leads to it.
struct Target<'a> {
    plan: &'a Plan,
    endpoint: &'a Endpoint,
}

pub fn findings(context: &Context, facts: &Facts, files: &[CaFile]) -> Vec<Finding> {
    let mut targets: Vec<Target<'_>> = Vec::new();
    for plan in facts.plans.iter().filter(|p| facts.is_active(p.runtime)) {
        for endpoint in plan.endpoints.iter().filter(|e| e.https && !e.skip_verify) {
            let duplicate = targets.iter().any(|t| {
                t.endpoint.address == endpoint.address && t.endpoint.ca_files == endpoint.ca_files
            });
            if !duplicate {
                targets.push(Target { plan, endpoint });
            }
        }
    }

    let host = context.host.as_ref();
    let resolve = &context.options.resolve;
    let results: Vec<Result<ServedChain, HandshakeError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .map(|target| {
                let address = &target.endpoint.address;
                let connect_to =
                    ResolveOverride::lookup(resolve, &address.host, address.port_or_default());
                scope.spawn(move || {
                    tracing::info!(registry = %address, ?connect_to, "TLS handshake");
                    net::handshake(host, address, connect_to, HANDSHAKE_TIMEOUT)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    Err(HandshakeError::Tls {
                        target: String::new(),
                        message: "the handshake thread panicked".to_string(),
                    })
                })
            })
            .collect()
    });

    let known: Vec<Anchor> = files.iter().flat_map(CaFile::anchors).collect();
    let mut findings = Vec::new();
    for (target, result) in targets.iter().zip(results) {
        match result {
            Ok(served) => findings.extend(judge(context, facts, files, &known, target, &served)),
            Err(error) => {
                tracing::warn!(registry = %target.endpoint.address, %error, "handshake failed");
                findings.push(handshake_failed(target, &error));
            }
        }
    }
    findings
}

fn judge(
    context: &Context,
    facts: &Facts,
    files: &[CaFile],
    known: &[Anchor],
    target: &Target<'_>,
    served: &ServedChain,
) -> Vec<Finding> {
    let certificates: Vec<Certificate> = served
        .certificates
        .iter()
        .filter_map(|der| Certificate::from_der(der).ok())
        .collect();
    let endpoint = target.endpoint;
    let mut anchors: Vec<Anchor> = files
        .iter()
        .filter(|file| endpoint.ca_files.contains(&file.path))
        .flat_map(CaFile::anchors)
        .collect();
    // Only CA certificates count: a copied server certificate tells nothing about intermediates.
    let custom = anchors.iter().any(|anchor| anchor.certificate.is_ca);
    let bundle = facts.system_roots.bundle.clone().unwrap_or_default();
    anchors.extend(
        facts
            .system_roots
            .certificates
            .iter()
            .map(|certificate| Anchor {
                source: bundle.clone(),
                certificate: certificate.clone(),
            }),
    );

    let problems = chain::assess(
        &certificates,
        &anchors,
        &Known {
            certificates: known,
        },
        &endpoint.address.host,
        custom,
        context.now(),
    );
    let evidence = chain_evidence(target, served, &certificates, facts);
    problems
        .into_iter()
        // An expired CA file is already reported by the CA file rules.
        .filter(|problem| {
            !matches!(problem, Problem::CaExpired { source, .. }
                if files.iter().any(|file| &file.path == source))
        })
        .map(|problem| {
            problem_finding(target, &problem, &certificates).with_evidence(evidence.iter().cloned())
        })
        .collect()
}

/// Returns the served chain's subjects and issuers, and the trust it was checked against.
fn chain_evidence(
    target: &Target<'_>,
    served: &ServedChain,
    certificates: &[Certificate],
    facts: &Facts,
) -> Vec<Evidence> {
    let source = format!(
        "TLS handshake with {} ({})",
        target.endpoint.address, served.connected_to
    );
    let mut evidence: Vec<Evidence> = certificates
        .iter()
        .enumerate()
        .map(|(index, certificate)| {
            Evidence::new(
                &source,
                format!("certificate {index}"),
                format!(
                    "subject: {}; issuer: {}; notAfter: {}",
                    certificate.subject,
                    certificate.issuer,
                    format_rfc3339(certificate.not_after)
                ),
            )
        })
        .collect();
    let trust = if target.endpoint.ca_files.is_empty() {
        "system trust store only".to_string()
    } else {
        format!(
            "system trust store + {}",
            target.endpoint.ca_files.join(", ")
        )
    };
    evidence.push(Evidence::new(
        &target.endpoint.configured_by,
        format!(
            "{} trust for {}",
            target.plan.runtime.name(),
            target.endpoint.address
        ),
        trust,
    ));
    evidence.push(Evidence::new(
        "system trust store",
        "bundle",
        facts
            .system_roots
            .bundle
            .as_ref()
            .map_or("none found".to_string(), |bundle| {
                format!(
                    "{bundle} ({} certificates)",
                    facts.system_roots.certificates.len()
                )
            }),
    ));
    if let Some(error) = &served.later_error {
        evidence.push(Evidence::new(&source, "after the certificates", error));
    }
    evidence
}

fn problem_finding(target: &Target<'_>, problem: &Problem, chain: &[Certificate]) -> Finding {
    let plan = target.plan;
    let address = &target.endpoint.address;
    let runtime = plan.runtime.name();
    let leaf = chain.first();
    let finding = match problem {
        Problem::Untrusted { top_subject, top_issuer } => Finding::new(
            Code::RegistryCaChainUntrusted,
            format!("{runtime} does not trust the certificate {address} serves: no trusted CA issued {top_subject}"),
        )
        .details(format!(
            "The chain {address} serves ends at {top_subject}, issued by {top_issuer}, and \
             neither the system trust store nor a CA file {runtime} reads for this endpoint \
             holds that issuer. Pulls fail with \"x509: certificate signed by unknown \
             authority\"."
        ))
        .fix(fixes::install_ca(plan)),
        Problem::Incomplete { missing_issuer, found_at } => Finding::new(
            Code::RegistryCaChainIncomplete,
            format!("{address} does not send the intermediate CA {missing_issuer}"),
        )
        .details(format!(
            "{address} serves its certificate without the intermediate CA that issued it \
             ({missing_issuer}), so {runtime} cannot link it to a trusted root.{}",
            found_at
                .as_ref()
                .map(|path| format!(" That intermediate is on this node in {path}, but the registry must send it."))
                .unwrap_or_default()
        ))
        .fix(
            Fix::new(format!("Make {address} send its full chain: server certificate, then the intermediate"))
                .step("On the registry, configure the certificate file as the server certificate followed by the intermediate CA certificate (a fullchain file), and reload it.")
                .step(format!(
                    "As a node-side stopgap, append the intermediate certificate to {}: Go accepts an intermediate in the root pool as a trust anchor.",
                    plan.ca_target
                ))
                .command(fixes::show_chain_command(address))
                .step("CA files under certs.d are read on every pull, so no restart is needed."),
        ),
        Problem::HostnameMismatch => {
            let names: Vec<String> = leaf
                .map(|l| l.dns_names.iter().chain(&l.ip_addresses).cloned().collect())
                .unwrap_or_default();
            Finding::new(
                Code::RegistryCaHostnameMismatch,
                format!(
                    "the certificate {address} serves is not valid for {}: it names {}",
                    address.host,
                    if names.is_empty() { "no subjectAltName".to_string() } else { names.join(", ") }
                ),
            )
            .details(format!(
                "Go-based runtimes match the registry's {} against the certificate's \
                 subjectAltNames only (not the Common Name), so pulls fail with \"x509: \
                 certificate is valid for ..., not {}\".",
                if address.is_ip() { "IP address" } else { "name" },
                address.host
            ))
            .evidence(address.to_string(), "subjectAltName", names.join(", "))
            .fix(
                Fix::new(format!("Reissue the registry certificate with subjectAltName {}:{}",
                    if address.is_ip() { "IP" } else { "DNS" }, address.host))
                    .step("Or pull through a name the certificate already lists, and use that name in image references.")
                    .command(format!(
                        "openssl s_client -connect {} -servername {} </dev/null 2>/dev/null | \
                         openssl x509 -noout -subject -ext subjectAltName",
                        address.with_port(),
                        address.host
                    )),
            )
        }
        Problem::LeafExpired => {
            let not_after = leaf.map(|l| format_rfc3339(l.not_after)).unwrap_or_default();
            Finding::new(
                Code::RegistryCaServerCertExpired,
                format!("the certificate {address} serves is outside its validity period (notAfter {not_after})"),
            )
            .details("The registry's own certificate is expired or not yet valid, so every pull fails until the registry gets a new certificate; nothing on this node can fix it.")
            .evidence(address.to_string(), "notAfter", not_after)
            .fix(
                Fix::new(format!("Renew the certificate of {address} on the registry"))
                    .step("Ask the registry's administrator to renew the certificate; if the node clock is wrong instead, fix time synchronisation.")
                    .command("date -u")
                    .command(fixes::show_chain_command(address)),
            )
        }
        Problem::CaExpired { subject, source, not_after } => Finding::new(
            Code::RegistryCaCaExpired,
            format!("CA {subject} in the chain of {address} expired on {}", format_rfc3339(*not_after)),
        )
        .details(format!("The CA {subject} ({source}) is outside its validity period, so the certificate {address} serves fails verification."))
        .evidence(source, "notAfter", format_rfc3339(*not_after))
        .fix(
            Fix::new(format!("Replace the expired CA {subject}"))
                .step(format!("Get the renewed CA certificate and replace it in {source}; if the registry serves the expired CA, the registry must serve the renewed one."))
                .command(fixes::show_chain_command(address)),
        ),
    };
    finding.reference(fixes::reference(plan.runtime))
}

fn handshake_failed(target: &Target<'_>, error: &HandshakeError) -> Finding {
    let address: &RegistryAddress = &target.endpoint.address;
    Finding::new(
        Code::RegistryCaHandshakeFailed,
        format!("no TLS handshake with {address}: {error}"),
    )
    .details(format!(
        "{} would contact {address} for {}, but no TLS handshake completed within {}s, so its \
         certificate could not be checked. Pulls through this endpoint fail the same way.",
        target.plan.runtime.name(),
        target.plan.registry,
        HANDSHAKE_TIMEOUT.as_secs()
    ))
    .evidence(
        &target.endpoint.configured_by,
        "endpoint",
        address.with_port(),
    )
    .evidence(
        format!("TLS handshake with {address}"),
        "error",
        error.to_string(),
    )
    .fix(
        Fix::new(format!(
            "Check that {address} is reachable from this node and serves HTTPS"
        ))
        .command(format!("getent hosts {}", address.host))
        .command(fixes::show_chain_command(address)),
    )
    .reference(fixes::reference(target.plan.runtime))
}
