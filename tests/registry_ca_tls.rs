//! registry-ca against real TLS servers on 127.0.0.1: each test generates a PKI with rcgen,
//! serves a chosen chain, writes containerd's configuration under a temporary --root, and
//! reaches the server through --resolve, so no other host is contacted.

mod registry;

use std::time::Instant;

use registry::{
    Cert, NodeRoot, REGISTRY_HOST, TlsServer, codes, evidence_text, finding, registry, run_live,
    start_silent_server,
};

/// Writes `ca_pem` as the Docker-style CA file containerd falls back to for the registry.
fn trust_ca(root: &NodeRoot, port: u16, ca_pem: &str) {
    root.write(
        &format!("/etc/containerd/certs.d/{}/ca.crt", registry(port)),
        ca_pem,
    );
}

#[test]
fn good_chain_passes() {
    let ca = Cert::root("Test Root CA");
    let intermediate = ca.intermediate("Test Issuing CA");
    let leaf = intermediate.leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&leaf, &intermediate]);
    let root = NodeRoot::containerd();
    trust_ca(&root, server.port, &ca.pem);

    let report = run_live(&root, server.port, &[]);
    assert_eq!(codes(&report), Vec::<String>::new(), "{report:#}");
    assert_eq!(report["checks"][0]["status"], "passed");
}

#[test]
fn hosts_toml_relative_ca_passes() {
    let ca = Cert::root("Test Root CA");
    let leaf = ca.leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&leaf]);
    let root = NodeRoot::containerd();
    let folder = format!("/etc/containerd/certs.d/{}", registry(server.port));
    root.write(&format!("{folder}/registry-ca.pem"), &ca.pem);
    root.write(
        &format!("{folder}/hosts.toml"),
        &format!(
            "server = \"https://{}\"\nca = \"registry-ca.pem\"\n",
            registry(server.port)
        ),
    );

    let report = run_live(&root, server.port, &[]);
    assert_eq!(codes(&report), Vec::<String>::new(), "{report:#}");
}

#[test]
fn missing_intermediate_is_chain_incomplete() {
    let ca = Cert::root("Test Root CA");
    let intermediate = ca.intermediate("Test Issuing CA");
    let leaf = intermediate.leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&leaf]);
    let root = NodeRoot::containerd();
    trust_ca(&root, server.port, &ca.pem);

    let report = run_live(&root, server.port, &[]);
    assert_eq!(codes(&report), vec!["registry-ca/chain-incomplete"]);
    let found = finding(&report, "registry-ca/chain-incomplete");
    assert!(
        found["summary"]
            .as_str()
            .unwrap()
            .contains("CN=Test Issuing CA")
    );
    let evidence = evidence_text(found);
    assert!(evidence.contains("certificate 0"), "{evidence}");
    assert!(
        evidence.contains("issuer: CN=Test Issuing CA"),
        "{evidence}"
    );
    assert!(
        found["fix"]["summary"]
            .as_str()
            .unwrap()
            .contains("full chain")
    );
}

#[test]
fn intermediate_elsewhere_on_node_is_named() {
    let ca = Cert::root("Test Root CA");
    let intermediate = ca.intermediate("Test Issuing CA");
    let leaf = intermediate.leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&leaf]);
    let root = NodeRoot::containerd();
    trust_ca(&root, server.port, &ca.pem);
    root.write(
        "/etc/docker/certs.d/other.example.test/issuing.crt",
        &intermediate.pem,
    );

    let report = run_live(
        &root,
        server.port,
        &["--resolve", "other.example.test:443:127.0.0.1", "--offline"],
    );
    // Offline: no handshake, and no finding for the other registry either.
    assert!(!codes(&report).contains(&"registry-ca/chain-incomplete".to_string()));

    let report = run_live(
        &root,
        server.port,
        &["--resolve", "other.example.test:443:127.0.0.1"],
    );
    let found = finding(&report, "registry-ca/chain-incomplete");
    assert!(
        found["details"]
            .as_str()
            .unwrap()
            .contains("/etc/docker/certs.d/other.example.test/issuing.crt"),
        "{found:#}"
    );
}

#[test]
fn wrong_hostname_is_hostname_mismatch() {
    let ca = Cert::root("Test Root CA");
    let leaf = ca.leaf(&["other.example.test"]);
    let server = TlsServer::start(&[&leaf]);
    let root = NodeRoot::containerd();
    trust_ca(&root, server.port, &ca.pem);

    let report = run_live(&root, server.port, &[]);
    assert_eq!(codes(&report), vec!["registry-ca/hostname-mismatch"]);
    let found = finding(&report, "registry-ca/hostname-mismatch");
    assert!(
        found["summary"]
            .as_str()
            .unwrap()
            .contains("other.example.test")
    );
    assert!(evidence_text(found).contains("subjectAltName | other.example.test"));
}

#[test]
fn expired_leaf_is_server_cert_expired() {
    let ca = Cert::root("Test Root CA");
    let leaf = ca.expired_leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&leaf]);
    let root = NodeRoot::containerd();
    trust_ca(&root, server.port, &ca.pem);

    let report = run_live(&root, server.port, &[]);
    assert_eq!(codes(&report), vec!["registry-ca/server-cert-expired"]);
    let found = finding(&report, "registry-ca/server-cert-expired");
    assert!(evidence_text(found).contains("notAfter | 2020-01-01T00:00:00Z"));
}

#[test]
fn server_cert_as_ca_file() {
    let ca = Cert::root("Test Root CA");
    let leaf = ca.leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&leaf]);
    let root = NodeRoot::containerd();
    trust_ca(&root, server.port, &leaf.pem);

    let report = run_live(&root, server.port, &[]);
    // Go trusts a leaf that is itself in the root pool, so the handshake adds no chain finding.
    assert_eq!(codes(&report), vec!["registry-ca/ca-not-a-ca"]);
    let found = finding(&report, "registry-ca/ca-not-a-ca");
    assert_eq!(found["severity"], "critical");
    assert!(evidence_text(found).contains("issuer | CN=Test Root CA"));
    assert!(
        found["fix"]["summary"]
            .as_str()
            .unwrap()
            .contains("CN=Test Root CA")
    );
}

#[test]
fn copied_cert_after_renewal() {
    let ca = Cert::root("Test Root CA");
    let old_leaf = ca.leaf(&[REGISTRY_HOST]);
    let renewed = ca.leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&renewed]);
    let root = NodeRoot::containerd();
    trust_ca(&root, server.port, &old_leaf.pem);

    let report = run_live(&root, server.port, &[]);
    let found = codes(&report);
    assert!(
        found.contains(&"registry-ca/ca-not-a-ca".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"registry-ca/chain-untrusted".to_string()),
        "{found:?}"
    );
}

#[test]
fn no_ca_is_chain_untrusted() {
    let ca = Cert::root("Test Root CA");
    let leaf = ca.leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&leaf, &ca]);
    let root = NodeRoot::containerd();

    let report = run_live(&root, server.port, &["--registry", &registry(server.port)]);
    assert_eq!(codes(&report), vec!["registry-ca/chain-untrusted"]);
    let found = finding(&report, "registry-ca/chain-untrusted");
    let evidence = evidence_text(found);
    assert!(
        evidence.contains("subject: CN=Test Root CA; issuer: CN=Test Root CA"),
        "{evidence}"
    );
    assert!(evidence.contains("system trust store only"), "{evidence}");
    let fix = found["fix"].to_string();
    assert!(
        fix.contains(&format!(
            "/etc/containerd/certs.d/{}/ca.crt",
            registry(server.port)
        )),
        "{fix}"
    );
    assert!(
        fix.contains("openssl s_client -showcerts -connect"),
        "{fix}"
    );
    assert!(fix.contains("No restart is needed"), "{fix}");
}

#[test]
fn expired_ca_file_is_ca_expired() {
    let ca = Cert::root("Test Root CA");
    let old = Cert::expired_root("Old Root CA");
    let leaf = ca.leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&leaf]);
    let root = NodeRoot::containerd();
    trust_ca(&root, server.port, &format!("{}{}", ca.pem, old.pem));

    let report = run_live(&root, server.port, &[]);
    assert_eq!(codes(&report), vec!["registry-ca/ca-expired"]);
    let found = finding(&report, "registry-ca/ca-expired");
    assert!(
        found["summary"]
            .as_str()
            .unwrap()
            .contains("certificate 2 of 2"),
        "{found:#}"
    );
    assert!(evidence_text(found).contains("notAfter | 2020-01-01T00:00:00Z"));
}

#[test]
fn chain_to_expired_ca_file_reported_once() {
    let old = Cert::expired_root("Old Root CA");
    let leaf = old.leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&leaf]);
    let root = NodeRoot::containerd();
    trust_ca(&root, server.port, &old.pem);

    let report = run_live(&root, server.port, &[]);
    // The CA file rules report it once; the handshake does not repeat it.
    assert_eq!(codes(&report), vec!["registry-ca/ca-expired"]);
}

#[test]
fn two_cas_with_garbage_between_are_both_read() {
    let first = Cert::root("First Root CA");
    let second = Cert::root("Second Root CA");
    let leaf = second.leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&leaf]);
    let root = NodeRoot::containerd();
    trust_ca(
        &root,
        server.port,
        &format!(
            "{}\nsubject=CN = First Root CA\n%%% not base64 ###\n\n{}",
            first.pem, second.pem
        ),
    );

    let report = run_live(&root, server.port, &[]);
    assert_eq!(codes(&report), Vec::<String>::new(), "{report:#}");
}

#[test]
fn silent_server_ends_within_deadline() {
    let port = start_silent_server();
    let root = NodeRoot::containerd();
    let ca = Cert::root("Test Root CA");
    trust_ca(&root, port, &ca.pem);

    let started = Instant::now();
    let report = run_live(&root, port, &[]);
    let elapsed = started.elapsed();
    assert!(elapsed.as_secs() < 10, "took {elapsed:?}");
    assert_eq!(codes(&report), vec!["registry-ca/handshake-failed"]);
    let found = finding(&report, "registry-ca/handshake-failed");
    assert!(
        found["summary"].as_str().unwrap().contains("within 3s"),
        "{found:#}"
    );
    assert_eq!(report["checks"][0]["status"], "failed");
}

#[test]
fn offline_makes_no_handshake() {
    let port = start_silent_server();
    let root = NodeRoot::containerd();
    let ca = Cert::root("Test Root CA");
    trust_ca(&root, port, &ca.pem);

    let started = Instant::now();
    let report = run_live(&root, port, &["--offline"]);
    assert!(started.elapsed().as_secs() < 3);
    assert_eq!(codes(&report), Vec::<String>::new(), "{report:#}");
}

/// Points the kubelet at another runtime's CRI socket.
fn use_runtime(root: &NodeRoot, endpoint: &str) {
    root.write(
        "/var/lib/kubelet/kubeadm-flags.env",
        &format!("KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint={endpoint}\"\n"),
    );
}

#[test]
fn docker_certs_d_ca_passes() {
    let ca = Cert::root("Test Root CA");
    let leaf = ca.leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&leaf]);
    let root = NodeRoot::containerd();
    use_runtime(&root, "unix:///run/cri-dockerd.sock");
    root.write(
        &format!("/etc/docker/certs.d/{}/ca.crt", registry(server.port)),
        &ca.pem,
    );

    let report = run_live(&root, server.port, &[]);
    assert_eq!(codes(&report), Vec::<String>::new(), "{report:#}");
}

#[test]
fn crio_without_ca_names_crio_folder() {
    let ca = Cert::root("Test Root CA");
    let leaf = ca.leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&leaf]);
    let root = NodeRoot::containerd();
    use_runtime(&root, "unix:///var/run/crio/crio.sock");
    // containerd's folder has the CA, but the kubelet pulls through CRI-O.
    trust_ca(&root, server.port, &ca.pem);

    let report = run_live(&root, server.port, &[]);
    let found = codes(&report);
    assert!(
        found.contains(&"registry-ca/runtime-mismatch".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"registry-ca/chain-untrusted".to_string()),
        "{found:?}"
    );
    let untrusted = finding(&report, "registry-ca/chain-untrusted");
    let fix = untrusted["fix"].to_string();
    assert!(
        fix.contains(&format!(
            "/etc/containers/certs.d/{}/ca.crt",
            registry(server.port)
        )),
        "{fix}"
    );
}

#[test]
fn crio_certs_d_ca_passes() {
    let ca = Cert::root("Test Root CA");
    let leaf = ca.leaf(&[REGISTRY_HOST]);
    let server = TlsServer::start(&[&leaf]);
    let root = NodeRoot::containerd();
    use_runtime(&root, "unix:///var/run/crio/crio.sock");
    root.write(
        &format!("/etc/containers/certs.d/{}/ca.crt", registry(server.port)),
        &ca.pem,
    );

    let report = run_live(&root, server.port, &[]);
    assert_eq!(codes(&report), Vec::<String>::new(), "{report:#}");
}

#[test]
fn invalid_registry_flag_is_usage_error() {
    let root = NodeRoot::containerd();
    let output = assert_cmd::Command::cargo_bin("node-doctor")
        .unwrap()
        .args([
            "check",
            "--offline",
            "--registry",
            "registry.example.test:http",
            "--root",
        ])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is not a number from 1 to 65535"),
        "{stderr}"
    );
}
