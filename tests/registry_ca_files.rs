//! registry-ca on broken runtime configuration, with --offline so no handshake runs: each
//! problem is reported with its own code, evidence and fix, and nothing panics or hangs.

mod registry;

use registry::{Cert, NodeRoot, codes, evidence_text, finding, run_live};

const REGISTRY: &str = "registry.example.test:5000";

fn run(root: &NodeRoot) -> serde_json::Value {
    run_live(root, 5000, &["--offline"])
}

#[test]
fn hosts_toml_syntax_error_names_line() {
    let root = NodeRoot::containerd();
    root.write(
        &format!("/etc/containerd/certs.d/{REGISTRY}/hosts.toml"),
        "server = \"https://registry.example.test:5000\"\n\n[host.\"https://mirror.example.test\"\n  capabilities = [\"pull\"]\n",
    );
    let report = run(&root);
    let found = finding(&report, "registry-ca/hosts-toml-invalid");
    assert!(
        found["summary"].as_str().unwrap().contains("line 3"),
        "{found:#}"
    );
    assert!(evidence_text(found).contains("| line 3 |"), "{found:#}");
    assert_eq!(found["severity"], "critical");
}

#[test]
fn hosts_toml_wrong_type_is_invalid() {
    let root = NodeRoot::containerd();
    root.write(
        &format!("/etc/containerd/certs.d/{REGISTRY}/hosts.toml"),
        "server = \"https://registry.example.test:5000\"\nskip_verify = \"yes\"\n",
    );
    let report = run(&root);
    let found = finding(&report, "registry-ca/hosts-toml-invalid");
    assert!(
        found["summary"].as_str().unwrap().contains("skip_verify"),
        "{found:#}"
    );
}

#[test]
fn hosts_toml_relative_ca_missing() {
    let root = NodeRoot::containerd();
    root.write(
        &format!("/etc/containerd/certs.d/{REGISTRY}/hosts.toml"),
        "server = \"https://registry.example.test:5000\"\n[host.\"https://registry.example.test:5000\"]\n  ca = \"certs/harbor-ca.crt\"\n",
    );
    let report = run(&root);
    let found = finding(&report, "registry-ca/hosts-toml-ca-missing");
    let resolved = format!("/etc/containerd/certs.d/{REGISTRY}/certs/harbor-ca.crt");
    assert!(
        found["summary"].as_str().unwrap().contains(&resolved),
        "{found:#}"
    );
    assert!(found["details"].as_str().unwrap().contains("is relative"));
    assert!(evidence_text(found).contains("certs/harbor-ca.crt"));
}

#[test]
fn certs_d_entry_that_is_a_file() {
    let root = NodeRoot::containerd();
    let ca = Cert::root("Test Root CA");
    root.write(&format!("/etc/containerd/certs.d/{REGISTRY}"), &ca.pem);
    let report = run(&root);
    let found = finding(&report, "registry-ca/misnamed-file");
    assert!(
        found["summary"]
            .as_str()
            .unwrap()
            .contains("is a regular file, not a folder")
    );
    let fix = found["fix"].to_string();
    assert!(
        fix.contains(&format!("/etc/containerd/certs.d/{REGISTRY}/ca.crt")),
        "{fix}"
    );
}

#[test]
fn ca_named_cert_without_key() {
    let root = NodeRoot::containerd();
    let ca = Cert::root("Test Root CA");
    root.write(
        &format!("/etc/containerd/certs.d/{REGISTRY}/ca.cert"),
        &ca.pem,
    );
    let report = run(&root);
    let found = finding(&report, "registry-ca/misnamed-file");
    assert!(
        found["fix"]["summary"]
            .as_str()
            .unwrap()
            .contains("must end in .crt")
    );
    let commands = found["fix"]["commands"].to_string();
    assert!(commands.contains(&format!("mv /etc/containerd/certs.d/{REGISTRY}/ca.cert /etc/containerd/certs.d/{REGISTRY}/ca.crt")), "{commands}");
}

#[test]
fn ca_named_pem_is_ignored_file() {
    let root = NodeRoot::containerd();
    let ca = Cert::root("Test Root CA");
    root.write(
        &format!("/etc/containerd/certs.d/{REGISTRY}/ca.pem"),
        &ca.pem,
    );
    let report = run(&root);
    let found = finding(&report, "registry-ca/misnamed-file");
    assert!(
        found["summary"]
            .as_str()
            .unwrap()
            .contains("only files ending in .crt")
    );
}

#[test]
fn unreadable_ca_file() {
    let root = NodeRoot::containerd();
    root.write(
        &format!("/etc/containerd/certs.d/{REGISTRY}/ca.crt"),
        "not a certificate\n",
    );
    let report = run(&root);
    let found = finding(&report, "registry-ca/ca-unreadable");
    assert!(
        evidence_text(found).contains("no PEM block found"),
        "{found:#}"
    );
}

#[test]
fn leaf_as_ca_file_is_critical() {
    let root = NodeRoot::containerd();
    let ca = Cert::root("Test Root CA");
    let leaf = ca.leaf(&["registry.example.test"]);
    root.write(
        &format!("/etc/containerd/certs.d/{REGISTRY}/ca.crt"),
        &leaf.pem,
    );
    let report = run(&root);
    let found = finding(&report, "registry-ca/ca-not-a-ca");
    assert_eq!(
        found["severity"], "critical",
        "a CA-signed leaf is critical"
    );
}

#[test]
fn config_path_unset_ignores_certs_d() {
    let root = NodeRoot::containerd();
    root.write("/etc/containerd/config.toml", "version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.k8s.io/pause:3.9\"\n");
    let ca = Cert::root("Test Root CA");
    root.write(
        &format!("/etc/containerd/certs.d/{REGISTRY}/ca.crt"),
        &ca.pem,
    );
    let report = run(&root);
    assert!(
        codes(&report).contains(&"registry-ca/config-path-unset".to_string()),
        "{report:#}"
    );
    let found = finding(&report, "registry-ca/config-path-unset");
    assert!(
        found["summary"]
            .as_str()
            .unwrap()
            .contains("/etc/containerd/certs.d")
    );
    let fix = found["fix"].to_string();
    assert!(fix.contains("systemctl restart containerd"), "{fix}");
    assert!(
        fix.contains("config_path = \\\"/etc/containerd/certs.d\\\""),
        "{fix}"
    );
    assert!(!codes(&report).contains(&"registry-ca/runtime-mismatch".to_string()));
}

#[test]
fn colon_separated_config_path_reads_docker_folder() {
    let root = NodeRoot::containerd();
    root.write("/etc/containerd/config.toml", "version = 3\n\n[plugins.\"io.containerd.cri.v1.images\".registry]\n  config_path = \"/etc/containerd/certs.d:/etc/docker/certs.d\"\n");
    let ca = Cert::root("Test Root CA");
    root.write(&format!("/etc/docker/certs.d/{REGISTRY}/ca.crt"), &ca.pem);
    let report = run(&root);
    assert_eq!(codes(&report), Vec::<String>::new(), "{report:#}");
}

#[test]
fn docker_only_trust_is_runtime_mismatch() {
    let root = NodeRoot::containerd();
    let ca = Cert::root("Test Root CA");
    root.write(&format!("/etc/docker/certs.d/{REGISTRY}/ca.crt"), &ca.pem);
    let report = run(&root);
    let found = finding(&report, "registry-ca/runtime-mismatch");
    assert!(
        found["summary"].as_str().unwrap().contains("Docker only"),
        "{found:#}"
    );
    let evidence = evidence_text(found);
    assert!(
        evidence.contains("--container-runtime-endpoint"),
        "{evidence}"
    );
    assert!(
        evidence.contains(&format!("/etc/docker/certs.d/{REGISTRY}/ca.crt")),
        "{evidence}"
    );
    let fix = found["fix"].to_string();
    assert!(
        fix.contains(&format!("/etc/containerd/certs.d/{REGISTRY}/ca.crt")),
        "{fix}"
    );
}

#[test]
fn legacy_tables_with_config_path_are_critical() {
    let root = NodeRoot::containerd();
    root.write("/etc/containerd/config.toml", "version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"registry.example.test:5000\"]\n  endpoint = [\"https://registry.example.test:5000\"]\n");
    let report = run(&root);
    let found = finding(&report, "registry-ca/legacy-registry-config");
    assert_eq!(found["severity"], "critical");
}

#[test]
fn docker_key_without_cert_fails_docker() {
    let root = NodeRoot::containerd();
    root.write(
        "/var/lib/kubelet/kubeadm-flags.env",
        "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/cri-dockerd.sock\"\n",
    );
    root.write(
        &format!("/etc/docker/certs.d/{REGISTRY}/client.key"),
        "placeholder, not a key\n",
    );
    let report = run(&root);
    let found = finding(&report, "registry-ca/misnamed-file");
    assert_eq!(found["severity"], "critical");
    assert!(found["summary"].as_str().unwrap().contains("client.cert"));
}
