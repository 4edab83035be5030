//! `node-doctor collect` against fake nodes: a copy of the kubeadm-real fixture's rootfs (which
//! has real test private keys) with each case's overlay, used as `--root`. The collected
//! snapshot must give the same findings as the live run and carry no private key or token.

mod casebuild;
mod certgen;
mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use casebuild::{build_case, copy_tree, fixtures};
use support::{assert_no_key_material, node_doctor, walk_files};

/// A fake node: its root directory and the time to check at.
struct FakeNode {
    _temp: tempfile::TempDir,
    root: PathBuf,
    now: String,
}

/// Builds the node a case describes as a live root: base rootfs, overlay rootfs, and real
/// sockets and FIFOs for the case's special files.
fn fake_node(case: &str) -> FakeNode {
    let temp = tempfile::tempdir().unwrap();
    let (root, now, special) = if case == "kubeadm-real" {
        let root = temp.path().join("root");
        copy_tree(&fixtures().join("kubeadm-real/rootfs"), &root);
        let manifest = read_json(&fixtures().join("kubeadm-real/snapshot.json"));
        (
            root,
            "2026-12-04T19:31:40Z".to_string(),
            manifest["special"].clone(),
        )
    } else {
        let case_dir = fixtures().join("cases").join(case);
        let spec = read_json(&case_dir.join("case.json"));
        let root = if spec.get("certs").is_some() {
            build_case(&case_dir, &spec, temp.path()).join("rootfs")
        } else {
            let root = temp.path().join("root");
            fs::create_dir_all(&root).unwrap();
            if spec["base"] == "kubeadm-real" {
                copy_tree(&fixtures().join("kubeadm-real/rootfs"), &root);
            }
            let overlay = case_dir.join("overlay/rootfs");
            if overlay.is_dir() {
                copy_tree(&overlay, &root);
            }
            root
        };
        let now = spec["now"].as_str().unwrap().to_string();
        (root, now, spec["special"].clone())
    };
    if let Some(special) = special.as_object() {
        for (path, kind) in special {
            make_special(&root, path, kind.as_str().unwrap());
        }
    }
    FakeNode {
        _temp: temp,
        root,
        now,
    }
}

fn make_special(root: &Path, host_path: &str, kind: &str) {
    let real = root.join(host_path.trim_start_matches('/'));
    fs::create_dir_all(real.parent().unwrap()).unwrap();
    let _ = fs::remove_file(&real);
    match kind {
        "socket" => {
            // The listener is dropped at once: the socket file stays, which is all checks see.
            std::os::unix::net::UnixListener::bind(&real).unwrap();
        }
        "fifo" => {
            nix::unistd::mkfifo(&real, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap()
        }
        other => panic!("cannot make a {other} in a test"),
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Runs `check -o json` with extra arguments and returns the exit status and report.
fn check_json(args: &[&str]) -> (i32, Value) {
    let output = node_doctor()
        .args(["check", "-o", "json", "--offline"])
        .args(args)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "invalid JSON ({error}) from check {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap(), report)
}

/// The finding codes and check statuses of a report, for comparing runs.
fn outcome(report: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let codes = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    let statuses = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["id"].as_str().unwrap(),
                c["status"].as_str().unwrap()
            )
        })
        .collect();
    (codes, statuses)
}

/// Collects `node` into `output` with `-vvv` and returns standard error.
fn collect(node: &FakeNode, output: &Path) -> String {
    let run = node_doctor()
        .args(["collect", "-vvv", "--offline", "--now", &node.now, "--root"])
        .arg(&node.root)
        .arg("-o")
        .arg(output)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(0), "collect failed: {stderr}");
    stderr
}

/// Unpacks a collected archive with the system tar, so the scan sees every byte written.
fn unpack(archive: &Path, into: &Path) {
    fs::create_dir_all(into).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(into)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "tar could not unpack {}",
        archive.display()
    );
}

fn assert_snapshot_has_no_secrets(dir: &Path) {
    for file in walk_files(dir) {
        let bytes = fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let caught = std::panic::catch_unwind(|| assert_no_key_material(&text));
        assert!(caught.is_ok(), "{} carries key material", file.display());
    }
}

fn cases_with_nodes() -> Vec<String> {
    let mut names = vec!["kubeadm-real".to_string()];
    for entry in fs::read_dir(fixtures().join("cases")).unwrap() {
        let path = entry.unwrap().path();
        if path.join("case.json").is_file() && path.join("case.md").is_file() {
            let spec = read_json(&path.join("case.json"));
            if spec.get("certs").is_some() || path.join("overlay").is_dir() {
                names.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    names.sort();
    names
}

#[test]
fn collected_snapshot_gives_same_findings() {
    let mut compared = 0;
    for case in cases_with_nodes() {
        let node = fake_node(&case);
        let root = node.root.to_str().unwrap();
        let (live_status, live) = check_json(&["--root", root, "--now", &node.now]);

        let out = tempfile::tempdir().unwrap();
        let archive = out.path().join("node.tar.gz");
        let stderr = collect(&node, &archive);
        assert_no_key_material(&stderr);
        let (snap_status, snap) = check_json(&["--snapshot", archive.to_str().unwrap()]);

        assert_eq!(outcome(&live), outcome(&snap), "{case}: findings differ");
        assert_eq!(live_status, snap_status, "{case}: exit status differs");
        let unpacked = out.path().join("unpacked");
        unpack(&archive, &unpacked);
        assert_snapshot_has_no_secrets(&unpacked);
        compared += 1;
    }
    assert!(compared >= 15, "only {compared} cases compared");
}

#[test]
fn collect_keeps_symlinks_and_replaces_keys() {
    let node = fake_node("kubeadm-real");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("snapshot");
    collect(&node, &dir);

    let current = dir.join("rootfs/var/lib/kubelet/pki/kubelet-client-current.pem");
    let meta = fs::symlink_metadata(&current).unwrap();
    assert!(
        meta.file_type().is_symlink(),
        "the current link is not a symlink"
    );
    let original = node
        .root
        .join("var/lib/kubelet/pki/kubelet-client-current.pem");
    assert_eq!(
        fs::read_link(&current).unwrap(),
        fs::read_link(&original).unwrap()
    );

    let ca_key = fs::read_to_string(dir.join("rootfs/etc/kubernetes/pki/ca.key")).unwrap();
    assert!(ca_key.starts_with("# node-doctor collect:"), "{ca_key}");
    assert!(ca_key.contains("-----BEGIN PUBLIC KEY-----"), "{ca_key}");
    let admin = fs::read_to_string(dir.join("rootfs/etc/kubernetes/admin.conf")).unwrap();
    assert!(admin.contains("client-public-key-data:"), "{admin}");

    let manifest = read_json(&dir.join("snapshot.json"));
    assert_eq!(manifest["format"], "node-doctor-snapshot/v1");
    assert!(
        manifest["redacted"]["/etc/kubernetes/pki/ca.key"].is_array(),
        "{manifest}"
    );
    assert!(
        manifest["special"]["/run/containerd/containerd.sock"] == "socket",
        "{manifest}"
    );
    assert_snapshot_has_no_secrets(&dir);
}

#[test]
fn collect_removes_tokens_and_passwords() {
    let node = fake_node("kubeadm-real");
    let token_conf = "apiVersion: v1\nkind: Config\nclusters: []\nusers:\n- name: tls-bootstrap-token-user\n  user:\n    token: abcdef.0123456789abcdef\n";
    fs::write(
        node.root.join("etc/kubernetes/bootstrap-kubelet.conf"),
        token_conf,
    )
    .unwrap();
    let containerd = node.root.join("etc/containerd/config.toml");
    let mut config = fs::read_to_string(&containerd).unwrap_or_default();
    config.push_str("\n[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"r.example\".auth]\n  username = \"puller\"\n  password = \"hunter2-registry\"\n");
    fs::create_dir_all(containerd.parent().unwrap()).unwrap();
    fs::write(&containerd, config).unwrap();

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("snapshot");
    collect(&node, &dir);
    for file in walk_files(&dir) {
        let text = String::from_utf8_lossy(&fs::read(&file).unwrap()).into_owned();
        assert!(
            !text.contains("0123456789abcdef"),
            "{} has the token",
            file.display()
        );
        assert!(
            !text.contains("hunter2-registry"),
            "{} has the password",
            file.display()
        );
    }
    let manifest = read_json(&dir.join("snapshot.json"));
    let redacted = manifest["redacted"].as_object().unwrap();
    assert!(
        redacted.contains_key("/etc/containerd/config.toml"),
        "{manifest}"
    );
}

#[test]
fn collect_rejects_non_empty_directory() {
    let node = fake_node("kubeadm-real");
    let out = tempfile::tempdir().unwrap();
    fs::write(out.path().join("keep.txt"), "mine").unwrap();
    let run = node_doctor()
        .args(["collect", "--offline", "--root"])
        .arg(&node.root)
        .arg("-o")
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("not empty"));
    assert_eq!(
        fs::read_to_string(out.path().join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn check_rejects_path_output() {
    let run = node_doctor()
        .args(["check", "--offline", "-o", "report.tar.gz", "--snapshot"])
        .arg(support::kubeadm_real())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("invalid --output"));
}
