//! `node-doctor agent --report-to-apiserver` against an HTTPS API server of the test's own on
//! 127.0.0.1: one condition per check on the Node's status, patched only when it changes, and
//! an Event for each new critical finding, sent with the node's own client certificate.
//!
//! The node is a copy of the kubeadm-real fixture (node-1) with the kube-proxy log of case
//! 040, whose kube-proxy could not find the node IP: a critical finding of
//! kube-proxy-cloud-init.

mod agentrun;
mod apiserver;
mod casebuild;
mod certgen;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use agentrun::{Agent, runs_total};
use apiserver::{ApiServer, Behaviour, Documents, Received};
use casebuild::{copy_tree, fixtures};

const RACE: &str = "040-kube-proxy-scheduled-before-ccm-initialised-node";
const NOW: &str = "2018-07-27T10:30:00Z";
const CONDITION: &str = "NodeDoctorKubeProxyCloudInit";

fn case_dir() -> PathBuf {
    fixtures().join("cases").join(RACE)
}

/// Returns the node's root (a copy of kubeadm-real with case 040's logs) inside `dir`.
fn live_root(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    copy_tree(&fixtures().join("kubeadm-real/rootfs"), &root);
    copy_tree(&case_dir().join("overlay/rootfs/var"), &root.join("var"));
    root
}

/// Case 040's API objects for node-1, with `conditions` added to the Node's status.
fn documents(conditions: &[Value]) -> Documents {
    let read = |name: &str| {
        fs::read_to_string(case_dir().join("overlay/api").join(name))
            .unwrap()
            .replace("worker-1", "node-1")
    };
    let mut node: Value = serde_json::from_str(&read("node.json")).unwrap();
    let existing = node["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut all = existing;
    all.extend(conditions.iter().cloned());
    node["status"]["conditions"] = Value::Array(all);
    Documents {
        node: node.to_string(),
        pods: read("pods.json"),
        daemon_sets: read("daemonsets.json"),
    }
}

fn start_agent(root: &Path, server: &ApiServer, config: &Path) -> Agent {
    let mut args: Vec<std::ffi::OsString> = vec![
        "--root".into(),
        root.into(),
        "--now".into(),
        NOW.into(),
        "--only".into(),
        "kube-proxy-cloud-init".into(),
        "--interval".into(),
        "1s".into(),
        "--jitter".into(),
        "0s".into(),
        "--report-to-apiserver".into(),
        "--config".into(),
        config.into(),
    ];
    args.extend(server.node_doctor_args().into_iter().map(Into::into));
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|arg| arg.as_os_str()).collect();
    Agent::start(&refs)
}

fn patches(received: &[Received]) -> Vec<Received> {
    received
        .iter()
        .filter(|request| request.method == "PATCH")
        .cloned()
        .collect()
}

fn events(received: &[Received]) -> Vec<Received> {
    received
        .iter()
        .filter(|request| request.method == "POST")
        .cloned()
        .collect()
}

#[test]
fn conditions_patched_only_on_change() {
    let temp = tempfile::tempdir().unwrap();
    let root = live_root(temp.path());
    let config = temp.path().join("config.yaml");
    fs::write(&config, "").unwrap();
    let server = ApiServer::start(
        &root.join("etc/kubernetes/pki"),
        documents(&[]),
        Behaviour::Serve,
        true,
    );

    let mut agent = start_agent(&root, &server, &config);
    // Three runs: the first sets the condition, the next two find it unchanged.
    agent.metrics_after(2);
    agent.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(agent.wait_exit(), Some(0));

    let received = server.received();
    let patches = patches(&received);
    assert_eq!(patches.len(), 1, "{patches:#?}");
    let patch = &patches[0];
    assert_eq!(patch.target, "/api/v1/nodes/node-1/status");
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );
    let body: Value = serde_json::from_str(&patch.body).unwrap();
    let conditions = body["status"]["conditions"].as_array().unwrap();
    assert_eq!(conditions.len(), 1, "{body}");
    let condition = &conditions[0];
    assert_eq!(condition["type"], CONDITION);
    assert_eq!(condition["status"], "True");
    assert_eq!(condition["reason"], "KubeProxyCloudInitNodeIpUnknown");
    let message = condition["message"].as_str().unwrap();
    assert!(
        message.contains("kube-proxy-cloud-init/node-ip-unknown (critical)"),
        "{message}"
    );
    for time in ["lastHeartbeatTime", "lastTransitionTime"] {
        let text = condition[time].as_str().unwrap();
        assert!(text.parse::<jiff::Timestamp>().is_ok(), "{time}: {text}");
    }

    // One Event for the new critical finding, not one per run.
    let events = events(&received);
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].target, "/api/v1/namespaces/default/events");
    let event: Value = serde_json::from_str(&events[0].body).unwrap();
    assert_eq!(event["involvedObject"]["kind"], "Node");
    assert_eq!(event["involvedObject"]["name"], "node-1");
    assert_eq!(event["type"], "Warning");
    assert_eq!(event["reason"], "KubeProxyCloudInitNodeIpUnknown");
    assert_eq!(event["source"]["component"], "node-doctor");

    // Every request used the node's own client certificate from kubelet.conf.
    for request in &received {
        let subject = request.client_subject.as_deref().unwrap_or_default();
        assert!(subject.contains("CN=system:node:node-1"), "{subject}");
    }
}

#[test]
fn unchanged_conditions_send_no_patch() {
    let temp = tempfile::tempdir().unwrap();
    let root = live_root(temp.path());
    let config = temp.path().join("config.yaml");
    fs::write(&config, "").unwrap();
    let pki = root.join("etc/kubernetes/pki");

    // A first agent learns the condition it sets.
    let first_server = ApiServer::start(&pki, documents(&[]), Behaviour::Serve, true);
    let mut agent = start_agent(&root, &first_server, &config);
    agent.metrics_after(0);
    agent.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(agent.wait_exit(), Some(0));
    let sent = patches(&first_server.received());
    assert_eq!(sent.len(), 1);
    let body: Value = serde_json::from_str(&sent[0].body).unwrap();
    let conditions = body["status"]["conditions"].as_array().unwrap().clone();

    // A restarted agent that finds the same condition on the Node patches nothing.
    let server = ApiServer::start(&pki, documents(&conditions), Behaviour::Serve, true);
    let mut agent = start_agent(&root, &server, &config);
    agent.metrics_after(1);
    agent.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(agent.wait_exit(), Some(0));
    assert!(patches(&server.received()).is_empty());
}

#[test]
fn rejected_patch_is_retried() {
    let temp = tempfile::tempdir().unwrap();
    let root = live_root(temp.path());
    let config = temp.path().join("config.yaml");
    fs::write(&config, "").unwrap();
    let server = ApiServer::start(
        &root.join("etc/kubernetes/pki"),
        documents(&[]),
        Behaviour::Status(403),
        true,
    );

    let mut agent = start_agent(&root, &server, &config);
    agent.metrics_after(1);
    let warning = agent.wait_for_log(|line| {
        line["message"] == "could not update the node conditions; retrying on the next run"
    });
    assert!(
        warning["error"].as_str().unwrap().contains("403"),
        "{warning}"
    );
    assert!(
        agent.child.try_wait().unwrap().is_none(),
        "the agent exited"
    );
    let runs = runs_total(&agent.get("/metrics").1);
    assert!(runs >= 2);
}
