//! The live API path against an HTTPS API server of the test's own on 127.0.0.1: the
//! kube-proxy-cloud-init check and the node-ip check read the Node, pods and DaemonSets with
//! the client certificate or token of a kubeconfig from the kubeadm-real fixture, verify the
//! server against that kubeconfig's CA, and end with status `error` and a reason when the
//! server rejects them, sends a body that is not JSON, or hangs.
//!
//! The server's certificate names cp.example.test, so node-doctor reaches it with
//! `--api-server https://cp.example.test:PORT --resolve cp.example.test:PORT:127.0.0.1`.

mod apiserver;
mod casebuild;
mod certgen;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use apiserver::{ApiServer, Behaviour, Documents};
use casebuild::{copy_tree, finding, fixtures, write};

const RACE: &str = "040-kube-proxy-scheduled-before-ccm-initialised-node";
const NOW: &str = "2018-07-27T10:30:00Z";
const TOKEN: &str = "kp7x2q.live-api-test-token-0123456789abcdef";

/// A copy of the kubeadm-real node (node-1) with case 040's kubelet flags and kube-proxy log.
struct LiveNode {
    _temp: tempfile::TempDir,
    root: PathBuf,
}

impl LiveNode {
    fn new() -> LiveNode {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path().join("root");
        copy_tree(&fixtures().join("kubeadm-real/rootfs"), &root);
        copy_tree(&case_dir().join("overlay/rootfs/var"), &root.join("var"));
        LiveNode { _temp: temp, root }
    }

    fn pki(&self) -> PathBuf {
        self.root.join("etc/kubernetes/pki")
    }

    /// Runs one check against the live root with extra arguments.
    fn run(&self, check: &str, args: &[String]) -> (Output, Value) {
        let output = assert_cmd::Command::cargo_bin("node-doctor")
            .unwrap()
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("KUBERNETES_SERVICE_PORT")
            .env_remove("NODE_DOCTOR_LOG")
            .timeout(Duration::from_secs(60))
            .args([
                "check", "-o", "json", "--only", check, "--now", NOW, "--root",
            ])
            .arg(&self.root)
            .args(args)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "invalid JSON ({e}): {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output, report)
    }
}

fn case_dir() -> PathBuf {
    fixtures().join("cases").join(RACE)
}

/// Case 040's API objects, renamed for the fixture's node-1.
fn documents() -> Documents {
    let read = |name: &str| {
        fs::read_to_string(case_dir().join("overlay/api").join(name))
            .unwrap()
            .replace("worker-1", "node-1")
    };
    Documents {
        node: read("node.json"),
        pods: read("pods.json"),
        daemon_sets: read("daemonsets.json"),
    }
}

fn start(node: &LiveNode, behaviour: Behaviour) -> ApiServer {
    ApiServer::start(&node.pki(), documents(), behaviour, true)
}

fn status_of(report: &Value) -> (String, String) {
    let check = &report["checks"][0];
    (
        check["status"].as_str().unwrap().to_string(),
        check["reason"].as_str().unwrap_or_default().to_string(),
    )
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Writes a kubeconfig with a bearer token and a CA file path, both re-rooted.
fn write_token_kubeconfig(root: &Path) -> String {
    let path = "/etc/kubernetes/token.conf";
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kubernetes\n  cluster:\n    server: https://cp.example.test:6443\n    certificate-authority: pki/ca.crt\ncontexts:\n- name: reader@kubernetes\n  context:\n    cluster: kubernetes\n    user: reader\ncurrent-context: reader@kubernetes\nusers:\n- name: reader\n  user:\n    token: {TOKEN}\n"
    );
    write(&root.join(path.trim_start_matches('/')), &text);
    path.to_string()
}

fn with(server: &ApiServer, extra: &[&str]) -> Vec<String> {
    let mut args = server.node_doctor_args();
    args.extend(extra.iter().map(|arg| arg.to_string()));
    args
}

#[test]
fn kube_proxy_race_over_https() {
    let node = LiveNode::new();
    let server = start(&node, Behaviour::Serve);
    let (output, report) = node.run("kube-proxy-cloud-init", &server.node_doctor_args());

    assert_eq!(status_of(&report).0, "failed", "{report}");
    assert_eq!(output.status.code(), Some(1));
    let unknown = finding(&report, "kube-proxy-cloud-init/node-ip-unknown")
        .unwrap_or_else(|| panic!("got {:?}", codes(&report)));
    assert!(
        unknown["summary"]
            .as_str()
            .unwrap()
            .contains("kube-proxy-x7k2p")
    );
    assert!(
        unknown["summary"]
            .as_str()
            .unwrap()
            .contains("a restart fixes it")
    );
    let tolerates = finding(&report, "kube-proxy-cloud-init/tolerates-uninitialized")
        .expect("tolerates reported");
    let evidence = tolerates["evidence"].to_string();
    assert!(
        evidence.contains("kubectl get pods -A --field-selector spec.nodeName=node-1 -o json"),
        "{evidence}"
    );

    let received = server.received();
    let targets: Vec<&str> = received.iter().map(|r| r.target.as_str()).collect();
    assert!(targets.contains(&"/api/v1/nodes/node-1"), "{targets:?}");
    assert!(
        targets.contains(&"/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1"),
        "{targets:?}"
    );
    assert!(targets.contains(&"/apis/apps/v1/daemonsets"), "{targets:?}");
    for request in &received {
        let subject = request.client_subject.as_deref().unwrap_or_default();
        assert!(subject.contains("CN=system:node:node-1"), "{subject}");
        assert!(request.authorization.is_none());
    }
}

#[test]
fn admin_kubeconfig_flag_is_used() {
    let node = LiveNode::new();
    let server = start(&node, Behaviour::Serve);
    let args = with(&server, &["--kubeconfig", "/etc/kubernetes/admin.conf"]);
    let (_, report) = node.run("kube-proxy-cloud-init", &args);

    assert_eq!(status_of(&report).0, "failed", "{report}");
    let received = server.received();
    assert!(!received.is_empty());
    for request in &received {
        let subject = request.client_subject.as_deref().unwrap_or_default();
        assert!(subject.contains("CN=kubernetes-admin"), "{subject}");
    }
}

#[test]
fn bearer_token_is_sent_never_printed() {
    let node = LiveNode::new();
    let kubeconfig = write_token_kubeconfig(&node.root);
    let server = ApiServer::start(&node.pki(), documents(), Behaviour::Serve, false);
    let args = with(&server, &["--kubeconfig", &kubeconfig, "-vvv"]);
    let (output, report) = node.run("kube-proxy-cloud-init", &args);

    assert_eq!(status_of(&report).0, "failed", "{report}");
    let received = server.received();
    assert!(!received.is_empty());
    for request in &received {
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert!(request.client_subject.is_none());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stdout.contains(TOKEN));
    assert!(!stderr.contains(TOKEN), "the token is logged");
    assert!(
        !stderr.contains("live-api-test-token"),
        "part of the token is logged"
    );
}

#[test]
fn unauthorized_names_credentials() {
    let node = LiveNode::new();
    let kubeconfig = write_token_kubeconfig(&node.root);
    let server = ApiServer::start(&node.pki(), documents(), Behaviour::Status(401), false);
    let (output, report) = node.run(
        "kube-proxy-cloud-init",
        &with(&server, &["--kubeconfig", &kubeconfig]),
    );

    let (status, reason) = status_of(&report);
    assert_eq!(status, "error");
    assert!(reason.contains("HTTP 401 Unauthorized"), "{reason}");
    assert!(
        reason.contains("bearer token of user \"reader\""),
        "{reason}"
    );
    assert!(
        reason.contains("/etc/kubernetes/token.conf (--kubeconfig)"),
        "{reason}"
    );
    assert!(!reason.contains(TOKEN));
    assert!(!String::from_utf8_lossy(&output.stderr).contains(TOKEN));
}

#[test]
fn forbidden_names_node_credentials() {
    let node = LiveNode::new();
    let server = start(&node, Behaviour::Status(403));
    let (_, report) = node.run("kube-proxy-cloud-init", &server.node_doctor_args());

    let (status, reason) = status_of(&report);
    assert_eq!(status, "error");
    assert!(reason.contains("HTTP 403 Forbidden"), "{reason}");
    assert!(reason.contains("client certificate"), "{reason}");
    assert!(reason.contains("CN=system:node:node-1"), "{reason}");
    assert!(
        reason.contains("/etc/kubernetes/kubelet.conf (the node's kubeconfig)"),
        "{reason}"
    );
    assert!(reason.contains("rejected by the test server"), "{reason}");
}

#[test]
fn server_error_is_check_error() {
    let node = LiveNode::new();
    let server = start(&node, Behaviour::Status(500));
    let (_, report) = node.run("kube-proxy-cloud-init", &server.node_doctor_args());

    let (status, reason) = status_of(&report);
    assert_eq!(status, "error");
    assert!(
        reason.contains("HTTP 500 Internal Server Error"),
        "{reason}"
    );
}

#[test]
fn invalid_json_is_check_error() {
    let node = LiveNode::new();
    let server = start(&node, Behaviour::InvalidJson);
    let (_, report) = node.run("kube-proxy-cloud-init", &server.node_doctor_args());

    let (status, reason) = status_of(&report);
    assert_eq!(status, "error");
    assert!(
        reason.contains("kubectl get node node-1 -o json: not a Node in JSON"),
        "{reason}"
    );
}

#[test]
fn hanging_server_times_out() {
    let node = LiveNode::new();
    let server = start(&node, Behaviour::Hang);
    let started = Instant::now();
    let (_, report) = node.run("kube-proxy-cloud-init", &server.node_doctor_args());

    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    let (status, reason) = status_of(&report);
    assert_eq!(status, "error");
    assert!(reason.contains("timed out"), "{reason}");
}

#[test]
fn forbidden_daemonsets_still_checks() {
    let node = LiveNode::new();
    let server = start(&node, Behaviour::ForbidDaemonSets);
    let (_, report) = node.run("kube-proxy-cloud-init", &server.node_doctor_args());

    assert_eq!(status_of(&report).0, "failed", "{report}");
    assert!(finding(&report, "kube-proxy-cloud-init/node-ip-unknown").is_some());
    assert!(finding(&report, "kube-proxy-cloud-init/tolerates-uninitialized").is_some());
}

#[test]
fn server_from_other_ca_is_rejected() {
    let node = LiveNode::new();
    let foreign = certgen::foreign_ca("kubernetes");
    let kubelet_conf = node.root.join("etc/kubernetes/kubelet.conf");
    let text = fs::read_to_string(&kubelet_conf).unwrap();
    let replaced: String = text
        .lines()
        .map(
            |line| match line.split_once("certificate-authority-data:") {
                Some((indent, _)) => format!(
                    "{indent}certificate-authority-data: {}\n",
                    casebuild::base64(&foreign.cert_pem)
                ),
                None => format!("{line}\n"),
            },
        )
        .collect();
    fs::write(&kubelet_conf, replaced).unwrap();
    let server = start(&node, Behaviour::Serve);
    let (_, report) = node.run("kube-proxy-cloud-init", &server.node_doctor_args());

    let (status, reason) = status_of(&report);
    assert_eq!(status, "error");
    assert!(reason.to_lowercase().contains("certificate"), "{reason}");
    assert!(server.received().is_empty(), "a request reached the server");
}

#[test]
fn offline_sends_nothing() {
    let node = LiveNode::new();
    let server = start(&node, Behaviour::Serve);
    let (_, report) = node.run("kube-proxy-cloud-init", &with(&server, &["--offline"]));

    assert!(server.received().is_empty());
    let unknown = finding(&report, "kube-proxy-cloud-init/node-ip-unknown")
        .unwrap_or_else(|| panic!("the log alone decides; got {:?}", codes(&report)));
    assert!(
        unknown["summary"]
            .as_str()
            .unwrap()
            .contains("kube-proxy-x7k2p")
    );
}

#[test]
fn node_ip_reads_node_over_https() {
    if which("ip").is_none() {
        eprintln!("skipped: the `ip` command is not installed, so node-ip does not reach the API");
        return;
    }
    let node = LiveNode::new();
    let mut documents = documents();
    documents.node = documents.node.replace("10.241.0.5", "203.0.113.77");
    let server = ApiServer::start(&node.pki(), documents, Behaviour::Serve, true);
    let (_, report) = node.run("node-ip", &server.node_doctor_args());

    let received = server.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].target, "/api/v1/nodes/node-1");
    let subject = received[0].client_subject.as_deref().unwrap_or_default();
    assert!(subject.contains("CN=system:node:node-1"), "{subject}");
    let mismatch = finding(&report, "node-ip/internal-ip-mismatch")
        .unwrap_or_else(|| panic!("got {:?}", codes(&report)));
    assert!(mismatch["evidence"].to_string().contains("203.0.113.77"));
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
