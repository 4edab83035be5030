//! Packaging files: gen-assets.sh writes every asset the Debian package lists, and the
//! DaemonSet manifest keeps the host read-only and tolerates every taint.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn repo_file(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn gen_assets_writes_man_and_completions() {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(repo_file("packaging/gen-assets.sh"))
        .arg(assert_cmd::cargo::cargo_bin("node-doctor"))
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(output.status.success(), "{stderr}");
    for file in [
        "node-doctor.1",
        "completions/node-doctor.bash",
        "completions/_node-doctor",
        "completions/node-doctor.fish",
    ] {
        let size = fs::metadata(out.path().join(file)).map(|m| m.len());
        assert!(matches!(size, Ok(n) if n > 0), "{file}: {size:?}");
    }
}

#[test]
fn gen_assets_rejects_missing_binary() {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(repo_file("packaging/gen-assets.sh"))
        .arg(out.path().join("no-such-binary"))
        .arg(out.path())
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("build it first"));
}

#[test]
fn deb_assets_come_from_gen_assets() {
    let manifest = fs::read_to_string(repo_file("Cargo.toml")).unwrap();
    let cargo: toml::Table = manifest.parse().unwrap();
    let assets = cargo["package"]["metadata"]["deb"]["assets"]
        .as_array()
        .expect("[package.metadata.deb] assets");
    let sources: Vec<&str> = assets
        .iter()
        .map(|asset| asset[0].as_str().unwrap())
        .collect();

    for expected in [
        "target/release/node-doctor",
        "systemd/node-doctor.service",
        "systemd/node-doctor.timer",
        "packaging/node-doctor-textfile",
        "target/assets/node-doctor.1",
        "target/assets/completions/node-doctor.bash",
        "target/assets/completions/_node-doctor",
        "target/assets/completions/node-doctor.fish",
    ] {
        assert!(sources.contains(&expected), "{expected} is not packaged");
    }
    for source in sources {
        if !source.starts_with("target/") && !source.contains('*') && source != "README.md" {
            assert!(repo_file(source).exists(), "{source} is listed but missing");
        }
    }
}

#[test]
fn daemonset_mounts_host_read_only() {
    let text = fs::read_to_string(repo_file("packaging/kubernetes/daemonset.yaml")).unwrap();
    let documents: Vec<Value> = serde_saphyr::from_str_multiple(&text).unwrap();
    let daemonset = documents
        .iter()
        .find(|d| d["kind"] == "DaemonSet")
        .expect("a DaemonSet");
    let pod = &daemonset["spec"]["template"]["spec"];
    let container = &pod["containers"][0];

    assert_eq!(pod["hostPID"], false);
    let tolerations = pod["tolerations"].as_array().unwrap();
    assert!(
        tolerations.iter().any(|t| t["operator"] == "Exists"
            && t.get("key").is_none()
            && t.get("effect").is_none()),
        "no toleration of every taint: {tolerations:?}"
    );
    let host_mount = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == "/host")
        .expect("/host mount");
    assert_eq!(host_mount["readOnly"], true);
    let host_volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == host_mount["name"])
        .unwrap();
    assert_eq!(host_volume["hostPath"]["path"], "/");
    for kind in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                container["resources"][kind][resource].is_string(),
                "resources.{kind}.{resource} is missing"
            );
        }
    }
    let script = container["args"][0].as_str().unwrap();
    assert!(script.contains("--root /host"), "{script}");
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
}
