//! The rules of the kubelet-client-cert check: each turns [`Facts`] into findings.

use jiff::SignedDuration;

use super::facts::Facts;
use super::fixes::{self, BOOTSTRAP_URL, FixInputs, ROTATION_URL, TROUBLESHOOTING_URL};
use super::link::LinkState;
use super::pair::ClientPair;
use crate::check::{Code, Finding, Fix, Severity};
use crate::kube::NODE_USER_PREFIX;
use crate::kube::kubeconfig::{KubeconfigError, Material};
use crate::report::format_rfc3339;

/// Over this fraction of its lifetime, a certificate should have been rotated already: the
/// kubelet picks a rotation deadline between 70% and 90%.
const ROTATION_OVERDUE_FRACTION: f64 = 0.9;

/// Below this lifetime a powered-off node can miss its whole renewal window.
const SHORT_LIFETIME: SignedDuration = SignedDuration::from_hours(72);

fn inputs(facts: &Facts) -> FixInputs<'_> {
    FixInputs {
        node: &facts.node,
        setup: &facts.setup,
        kubeconfig_user: facts.kubeconfig_user(),
    }
}

/// Picks the recovery for a kubelet without a usable certificate.
fn recovery_fix(facts: &Facts) -> Fix {
    if facts.valid_current_pair().is_some() && !facts.uses_current() {
        fixes::point_kubeconfig_at_current(&inputs(facts))
    } else if facts.bootstrap_present {
        fixes::rebootstrap(&inputs(facts))
    } else {
        fixes::kubeadm_recovery(&inputs(facts))
    }
}

pub fn user_missing(facts: &Facts) -> Option<Finding> {
    let error = facts.kubeconfig.current().err()?;
    let path = &facts.kubeconfig.path;
    let defined = facts.kubeconfig.user_names().join(", ");
    let (summary, field, value) = match &error {
        KubeconfigError::UserMissing { context, user, .. } => (
            format!("{path}: context {context:?} names user {user:?}, which is not defined"),
            "contexts[].context.user",
            user.clone(),
        ),
        other => (
            other.to_string(),
            "current-context",
            facts
                .kubeconfig
                .config
                .current_context
                .clone()
                .unwrap_or_default(),
        ),
    };
    let node_user = format!("{NODE_USER_PREFIX}{}", facts.node);
    Some(
        Finding::new(Code::KubeletClientCertKubeconfigUserMissing, summary)
            .details("The kubelet takes its credentials from the user of kubelet.conf's current context. Without that user it cannot authenticate, and `kubeadm init phase kubelet-finalize` fails with \"does not contain authentication for user\".")
            .evidence(path, field, value)
            .evidence(path, "users[].name", if defined.is_empty() { "(none)".to_string() } else { defined })
            .fix(
                Fix::new(format!("make the current context of {path} name a defined user, normally {node_user}"))
                    .step(format!("Rename the user entry, or the context's user, so both read {node_user}; or regenerate kubelet.conf as the recovery below does."))
                    .step("Restart the kubelet.")
                    .command(format!("kubectl config view --kubeconfig {path} -o jsonpath='{{.contexts[*].context.user}} {{.users[*].name}}'"))
                    .command(format!("kubectl config set-context --current --user={node_user} --kubeconfig {path}"))
                    .command("systemctl restart kubelet"),
            )
            .reference(TROUBLESHOOTING_URL),
    )
}

pub fn link_broken(facts: &Facts) -> Option<Finding> {
    let current = facts.setup.current_pem();
    let broken =
        facts.link.is_broken() || (facts.link == LinkState::Missing && facts.uses_current());
    if !broken {
        return None;
    }
    let severity_note = if facts.uses_current() {
        format!(
            "{} names this file, so the kubelet has no client certificate.",
            facts.setup.kubeconfig
        )
    } else {
        "The kubelet's certificate store cannot load or replace the rotated certificate."
            .to_string()
    };
    let cert_dir = &facts.setup.cert_dir;
    let mut fix = match &facts.newest_valid_rotated {
        Some(newest) => Fix::new(format!("point {current} at {newest}, the newest rotated certificate that is still valid"))
            .step(format!("Replace {current} with an absolute symlink to {newest}, then restart the kubelet."))
            .command(format!("ln -sfn {newest} {current}")),
        None => Fix::new(format!("make {current} a symlink to the newest valid kubelet-client-*.pem"))
            .step(format!("No valid kubelet-client-TIMESTAMP.pem was found in {cert_dir}; if one exists elsewhere, copy it there, otherwise follow the recovery for an expired certificate."))
            .step(format!("Replace {current} with an absolute symlink to it, then restart the kubelet."))
            .command(format!("ls -l --time-style=full-iso {cert_dir}/kubelet-client-*"))
            .command(format!("ln -sfn {cert_dir}/kubelet-client-YYYY-MM-DD-HH-MM-SS.pem {current}")),
    };
    fix = fix.command("systemctl restart kubelet");
    if facts.link == LinkState::RegularFile {
        fix = fix.step(format!("A regular file is rejected with \"expected {current:?} to be a symlink but it is a file\": move it aside first."));
    }
    Some(
        Finding::new(Code::KubeletClientCertCurrentLinkBroken, format!("{current}: {}", facts.link.describe()))
            .details(format!("The kubelet's certificate store keeps {current} as an absolute symlink to the newest rotated kubelet-client-TIMESTAMP.pem. {severity_note}"))
            .evidence(&current, "state", facts.link.describe())
            .fix(fix)
            .reference(TROUBLESHOOTING_URL),
    )
}

pub fn unreadable(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    let loads = [&facts.kubeconfig_pair, &facts.current_pair];
    for error in loads
        .into_iter()
        .flatten()
        .filter_map(|load| load.as_ref().err())
    {
        if findings.iter().any(|f: &Finding| f.summary == *error) {
            continue;
        }
        findings.push(
            Finding::new(Code::KubeletClientCertUnreadable, error.clone())
                .details("The kubelet cannot load this client certificate, so it cannot authenticate to the API server.")
                .evidence(error.split(": ").next().unwrap_or_default(), "error", error.clone())
                .fix(recovery_fix(facts))
                .reference(TROUBLESHOOTING_URL),
        );
    }
    for pair in facts.loaded_pairs() {
        if let (Some(Err(error)), Some(source)) = (&pair.key, &pair.key_source) {
            findings.push(
                Finding::new(
                    Code::KubeletClientCertUnreadable,
                    format!("the key for {} cannot be read: {error}", pair.source),
                )
                .evidence(source, "error", error.clone())
                .fix(recovery_fix(facts))
                .reference(TROUBLESHOOTING_URL),
            );
        }
    }
    findings
}

pub fn not_rotating(facts: &Facts) -> Option<Finding> {
    let material = facts.kubeconfig_material.as_ref()?;
    if facts.uses_current() {
        return None;
    }
    let kubeconfig = &facts.setup.kubeconfig;
    let current = facts.setup.current_pem();
    let (field, value) = match material {
        Material::Embedded => (
            "client-certificate-data",
            "embedded certificate".to_string(),
        ),
        Material::File(path) => ("client-certificate", path.clone()),
    };
    let in_use_expired = facts
        .kubeconfig_pair
        .as_ref()
        .and_then(|p| p.as_ref().ok())
        .is_some_and(|p| p.certificate.is_expired(facts.now));
    let rotated_valid = facts.valid_current_pair().is_some();
    let severity = if in_use_expired && rotated_valid {
        Severity::Critical
    } else {
        Severity::Warning
    };

    let mut finding = Finding::new(
        Code::KubeletClientCertKubeconfigNotRotating,
        format!("{kubeconfig} uses {value} instead of {current}"),
    )
    .severity(severity)
    .details(format!("The kubelet rotates its client certificate into {}, but reads its credentials from {kubeconfig} at start. A fixed certificate there is used until it expires, and then the kubelet falls back to bootstrapping.", facts.setup.cert_dir))
    .evidence(kubeconfig, field, value)
    .evidence(&current, "state", facts.link.describe());
    if let Some(pair) = facts.valid_current_pair() {
        finding = finding.evidence(
            &pair.source,
            "notAfter",
            format_rfc3339(pair.certificate.not_after),
        );
    }
    let fix = if rotated_valid {
        fixes::point_kubeconfig_at_current(&inputs(facts))
    } else {
        recovery_fix(facts)
    };
    Some(finding.fix(fix).reference(TROUBLESHOOTING_URL))
}

pub fn validity(facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    for pair in facts.loaded_pairs() {
        let certificate = &pair.certificate;
        let finding = if certificate.is_expired(facts.now) {
            Finding::new(
                Code::KubeletClientCertExpired,
                format!(
                    "{} expired at {}",
                    pair.source,
                    format_rfc3339(certificate.not_after)
                ),
            )
            .details(expired_details(facts, pair))
            .fix(recovery_fix(facts))
        } else if certificate.is_not_yet_valid(facts.now) {
            Finding::new(Code::KubeletClientCertNotYetValid, format!("{} is not valid until {}", pair.source, format_rfc3339(certificate.not_before)))
                .details("The node clock is behind the clock of the machine that signed the certificate, so TLS handshakes with it fail. Fix the clock rather than the certificate.")
                .fix(Fix::new("synchronise the node clock").command("timedatectl status").command("timedatectl set-ntp true").command("systemctl restart kubelet"))
        } else if certificate.elapsed_fraction(facts.now) > ROTATION_OVERDUE_FRACTION {
            let percent = (certificate.elapsed_fraction(facts.now) * 100.0).floor();
            Finding::new(Code::KubeletClientCertRotationOverdue, format!("{} has used {percent}% of its lifetime and expires at {}", pair.source, format_rfc3339(certificate.not_after)))
                .details("The kubelet requests a new certificate at 70-90% of the lifetime. Past 90% rotation is failing: check that the API server is reachable and its certificates are valid, and that CSRs are approved.")
                .fix(
                    Fix::new("find out why the kubelet cannot rotate, then let it renew before expiry")
                        .step("Look for certificate errors in the kubelet's log.")
                        .step("Check that the API server's own certificates are valid and pending CSRs get approved.")
                        .command("journalctl -u kubelet --no-pager | grep -iE 'certificate|csr' | tail -n 20")
                        .command("kubeadm certs check-expiration")
                        .command(format!("kubectl get csr | grep {NODE_USER_PREFIX}{}", facts.node)),
                )
        } else {
            continue;
        };
        findings.push(
            finding
                .evidence(
                    &pair.source,
                    "notBefore",
                    format_rfc3339(certificate.not_before),
                )
                .evidence(
                    &pair.source,
                    "notAfter",
                    format_rfc3339(certificate.not_after),
                )
                .evidence("node clock", "now", format_rfc3339(facts.now))
                .reference(TROUBLESHOOTING_URL)
                .reference(ROTATION_URL),
        );
    }
    findings
}

fn expired_details(facts: &Facts, pair: &ClientPair) -> String {
    let mut details = String::from(
        "The API server rejects an expired client certificate, so the kubelet cannot update its Node and the node goes NotReady.",
    );
    if facts.valid_current_pair().is_some() && !facts.uses_current() {
        details.push_str(&format!(
            " A valid rotated certificate exists in {}, but kubelet.conf does not use it.",
            facts.setup.cert_dir
        ));
    } else if facts.bootstrap_present {
        details.push_str(" The kubelet can bootstrap a new certificate with the bootstrap kubeconfig if its token is still valid, but it reloads the expired file until that file is moved aside.");
    } else {
        details.push_str(" No valid certificate exists on the node and there is no bootstrap kubeconfig, so a new kubelet.conf must be issued.");
    }
    if pair.source.contains("client-certificate-data") {
        details.push_str(
            " kubeadm does not renew this certificate: `kubeadm certs renew` skips kubelet.conf.",
        );
    }
    details
}

pub fn no_bootstrap_fallback(facts: &Facts) -> Option<Finding> {
    // At start the kubelet checks the certificate kubelet.conf names; if it expired it
    // switches to the bootstrap kubeconfig, and exits when that file is absent.
    let startup = facts.kubeconfig_pair.as_ref()?.as_ref().ok()?;
    if facts.bootstrap_present || !startup.certificate.is_expired(facts.now) {
        return None;
    }
    let bootstrap = &facts.setup.bootstrap_kubeconfig;
    Some(
        Finding::new(Code::KubeletClientCertNoBootstrapFallback, format!("{} expired and {bootstrap} does not exist, so the kubelet exits at start", startup.source))
            .details(format!("The kubelet reports \"part of the existing bootstrap client certificate in {} is expired\", then fails with \"unable to load bootstrap kubeconfig\". kubeadm deletes {bootstrap} after the first join, so this fallback is normally gone.", facts.setup.kubeconfig))
            .evidence(&startup.source, "notAfter", format_rfc3339(startup.certificate.not_after))
            .evidence(bootstrap, "exists", "false")
            .fix(recovery_fix(facts))
            .reference(TROUBLESHOOTING_URL)
            .reference(BOOTSTRAP_URL),
    )
}

pub fn identity(facts: &Facts) -> Option<Finding> {
    let pair = facts.pair_in_use()?;
    let certificate = &pair.certificate;
    let expected_cn = format!("{NODE_USER_PREFIX}{}", facts.node);
    let cn_ok = certificate.common_name.as_deref() == Some(expected_cn.as_str());
    let o_ok = certificate
        .organizations
        .iter()
        .any(|o| o == "system:nodes");
    if cn_ok && o_ok {
        return None;
    }
    Some(
        Finding::new(Code::KubeletClientCertWrongIdentity, format!("{} has subject {:?}, expected CN={expected_cn}, O=system:nodes", pair.source, certificate.subject))
            .details(format!("The Node authorizer grants a kubelet access to the Node named after its certificate's CN. The node name here is {:?}; a certificate for another name or without O=system:nodes is denied.", facts.node))
            .evidence(&pair.source, "subject", certificate.subject.clone())
            .evidence(&pair.source, "expectedSubject", format!("CN={expected_cn}, O=system:nodes"))
            .fix(fixes::kubeadm_recovery(&inputs(facts)))
            .reference(TROUBLESHOOTING_URL),
    )
}

pub fn issuer(facts: &Facts) -> Option<Finding> {
    let pair = facts.pair_in_use()?;
    let (ca_source, ca) = facts.cluster_ca.as_ref()?;
    if pair.certificate.is_signed_by(ca) {
        return None;
    }
    Some(
        Finding::new(Code::KubeletClientCertUntrustedIssuer, format!("{} is issued by {:?}, not by the cluster CA {:?}", pair.source, pair.certificate.issuer, ca.subject))
            .details("The API server accepts client certificates signed by its --client-ca-file. This certificate is not, which happens after the cluster CA was regenerated or when the node carries credentials from another cluster.")
            .evidence(&pair.source, "issuer", pair.certificate.issuer.clone())
            .evidence(ca_source, "subject", ca.subject.clone())
            .evidence(ca_source, "fingerprint", ca.fingerprint.clone())
            .fix(fixes::kubeadm_recovery(&inputs(facts)))
            .reference(TROUBLESHOOTING_URL),
    )
}

pub fn key_mismatch(facts: &Facts) -> Vec<Finding> {
    facts
        .loaded_pairs()
        .into_iter()
        .filter(|pair| pair.key_mismatch())
        .map(|pair| {
            let key_source = pair.key_source.clone().unwrap_or_default();
            let key_fingerprint = match &pair.key {
                Some(Ok(key)) => key.fingerprint(),
                _ => String::new(),
            };
            let certificate_fingerprint = pair.certificate.public_key.as_ref().map(|k| k.fingerprint()).unwrap_or_default();
            Finding::new(Code::KubeletClientCertKeyMismatch, format!("the private key in {key_source} does not belong to {}", pair.source))
                .details("TLS client authentication proves possession of the certificate's key. With another key the handshake fails.")
                .evidence(&pair.source, "publicKeyFingerprint", certificate_fingerprint)
                .evidence(&key_source, "publicKeyFingerprint", key_fingerprint)
                .fix(recovery_fix(facts))
                .reference(TROUBLESHOOTING_URL)
        })
        .collect()
}

pub fn rotation_disabled(facts: &Facts) -> Option<Finding> {
    let rotation = facts.setup.rotation.as_ref()?;
    if rotation.enabled {
        return None;
    }
    let mut fix = Fix::new("turn on client certificate rotation").step("Set rotateCertificates: true in the kubelet configuration (kubeadm always writes it), and drop --rotate-certificates=false if set.");
    if rotation.field == "rotateCertificates" {
        fix = fix.command(format!("grep -q '^rotateCertificates:' {0} && sed -i 's/^rotateCertificates:.*/rotateCertificates: true/' {0} || echo 'rotateCertificates: true' >> {0}", rotation.source));
    }
    Some(
        Finding::new(Code::KubeletClientCertRotationDisabled, format!("client certificate rotation is off ({} in {})", rotation.field, rotation.source))
            .details("Without rotation the kubelet keeps its client certificate until it expires, and the node goes NotReady on that day.")
            .evidence(&rotation.source, &rotation.field, "false")
            .fix(fix.command("systemctl restart kubelet"))
            .reference(ROTATION_URL),
    )
}

pub fn short_lifetime(facts: &Facts) -> Option<Finding> {
    let pair = facts
        .pair_in_use()
        .or_else(|| facts.loaded_pairs().into_iter().next())?;
    let lifetime = pair.certificate.lifetime();
    if lifetime >= SHORT_LIFETIME {
        return None;
    }
    let mut finding = Finding::new(Code::KubeletClientCertShortLifetime, format!("{} is valid for only {}", pair.source, format_span(lifetime)))
        .details("The controller manager signs kubelet client certificates for --cluster-signing-duration. When that is shorter than the time a node may be powered off or disconnected, the node returns with an expired certificate and cannot renew it with it.")
        .evidence(&pair.source, "lifetime", format_span(lifetime));
    if let Some((path, flag)) = &facts.signing_duration {
        finding = finding.evidence(path, "command", flag.clone());
    }
    Some(
        finding
            .fix(
                Fix::new("sign kubelet certificates for longer than the longest planned downtime")
                    .step("Set --cluster-signing-duration on kube-controller-manager (kubeadm: controllerManager.extraArgs) to at least several days; the default is 8760h.")
                    .command("grep -- '-signing-duration' /etc/kubernetes/manifests/kube-controller-manager.yaml"),
            )
            .reference(ROTATION_URL),
    )
}

pub fn cert_dir_volatile(facts: &Facts) -> Option<Finding> {
    let dir = &facts.setup.cert_dir;
    let volatile = ["/run", "/var/run"]
        .iter()
        .any(|prefix| dir == prefix || dir.starts_with(&format!("{prefix}/")));
    if !volatile {
        return None;
    }
    Some(
        Finding::new(Code::KubeletClientCertCertDirVolatile, format!("the kubelet's --cert-dir {dir} is on a tmpfs path"))
            .details("/run is a tmpfs on most distributions, so rotated certificates are lost at reboot and the kubelet must bootstrap again, which fails once the bootstrap token expires.")
            .evidence(&facts.setup.cert_dir_source, "--cert-dir", dir.clone())
            .fix(
                Fix::new("keep kubelet certificates on persistent storage")
                    .step("Set --cert-dir to /var/lib/kubelet/pki (the default) and restart the kubelet.")
                    .command("systemctl restart kubelet"),
            )
            .reference(ROTATION_URL),
    )
}

/// Formats a duration as hours and minutes, such as `24h0m` or `14m`.
fn format_span(duration: SignedDuration) -> String {
    let minutes = duration.as_secs() / 60;
    if minutes >= 60 {
        format!("{}h{}m", minutes / 60, minutes % 60)
    } else {
        format!("{minutes}m")
    }
}
