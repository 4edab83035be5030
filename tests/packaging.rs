//! Packaging files: gen-assets.sh writes every asset the packages list, the DaemonSet keeps
//! the host read-only and tolerates every taint, the RBAC grants only what the agent uses,
//! the Prometheus rules pass promtool, and the node-problem-detector config covers every check.
//!
//! NOTE: `kubectl apply --dry-run=client` still sends discovery requests to an API server, so the
//! manifests are checked here by their structure instead.

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
        "packaging/config.yaml",
        "packaging/npd/node-doctor-plugin-monitor.json",
        "packaging/prometheus/node-doctor-rules.yaml",
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
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arg| arg.as_str().unwrap())
        .collect();
    assert_eq!(args[0], "agent");
    assert!(args.contains(&"--root=/host"), "{args:?}");
    assert!(args.contains(&"--report-to-apiserver"), "{args:?}");
    let security = &container["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["privileged"], false);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["add"][0], "DAC_READ_SEARCH");
    assert_eq!(pod["hostNetwork"], true);
    assert_eq!(pod["serviceAccountName"], "node-doctor");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    let annotations = &daemonset["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/scrape"], "true");
}

#[test]
fn rbac_grants_least_privilege() {
    let text = fs::read_to_string(repo_file("packaging/kubernetes/rbac.yaml")).unwrap();
    let documents: Vec<Value> = serde_saphyr::from_str_multiple(&text).unwrap();
    let role = documents
        .iter()
        .find(|d| d["kind"] == "ClusterRole")
        .expect("a ClusterRole");
    let mut grants: Vec<(String, String)> = Vec::new();
    for rule in role["rules"].as_array().unwrap() {
        assert_eq!(rule["apiGroups"], serde_json::json!([""]), "{rule}");
        for resource in rule["resources"].as_array().unwrap() {
            for verb in rule["verbs"].as_array().unwrap() {
                grants.push((
                    resource.as_str().unwrap().to_string(),
                    verb.as_str().unwrap().to_string(),
                ));
            }
        }
    }
    grants.sort();
    let expected: Vec<(String, String)> = [
        ("events", "create"),
        ("nodes", "get"),
        ("nodes/status", "patch"),
        ("pods", "list"),
    ]
    .iter()
    .map(|(r, v)| (r.to_string(), v.to_string()))
    .collect();
    assert_eq!(grants, expected);

    let binding = documents
        .iter()
        .find(|d| d["kind"] == "ClusterRoleBinding")
        .expect("a ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_eq!(binding["subjects"][0]["kind"], "ServiceAccount");
    assert_eq!(binding["subjects"][0]["name"], "node-doctor");
    for document in &documents {
        assert!(document["apiVersion"].is_string(), "{document}");
        assert!(document["metadata"]["name"].is_string(), "{document}");
    }
}

#[test]
fn podmonitor_selects_daemonset_pods() {
    let monitor: Value = serde_saphyr::from_str(
        &fs::read_to_string(repo_file("packaging/kubernetes/podmonitor.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(monitor["kind"], "PodMonitor");
    assert_eq!(
        monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
        "node-doctor"
    );
    assert_eq!(monitor["spec"]["podMetricsEndpoints"][0]["port"], "metrics");
}

/// Returns promtool from NODE_DOCTOR_PROMTOOL or PATH, or None (and the caller skips) unless
/// NODE_DOCTOR_REQUIRE_PROMTOOL is set.
fn promtool() -> Option<std::path::PathBuf> {
    let candidate = std::env::var_os("NODE_DOCTOR_PROMTOOL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "promtool".into());
    if Command::new(&candidate).arg("--version").output().is_ok() {
        return Some(candidate);
    }
    assert!(
        std::env::var_os("NODE_DOCTOR_REQUIRE_PROMTOOL").is_none(),
        "promtool not found but NODE_DOCTOR_REQUIRE_PROMTOOL is set"
    );
    eprintln!("skipped: promtool not found (Debian package prometheus)");
    None
}

#[test]
fn alert_rules_pass_promtool() {
    let Some(promtool) = promtool() else { return };
    for args in [
        [
            "check",
            "rules",
            "packaging/prometheus/node-doctor-rules.yaml",
        ],
        [
            "test",
            "rules",
            "packaging/prometheus/node-doctor-rules.test.yaml",
        ],
    ] {
        let output = Command::new(&promtool)
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn npd_config_covers_every_check() {
    let config: Value = serde_json::from_str(
        &fs::read_to_string(repo_file("packaging/npd/node-doctor-plugin-monitor.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(config["plugin"], "custom");
    assert_eq!(config["pluginConfig"]["max_output_length"], 80);
    let list = Command::new(assert_cmd::cargo::cargo_bin("node-doctor"))
        .arg("list")
        .output()
        .unwrap();
    let checks: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter(|line| !line.starts_with(' '))
        .map(|line| line.split(':').next().unwrap().to_string())
        .collect();
    let rules = config["rules"].as_array().unwrap();
    assert_eq!(rules.len(), checks.len());
    let conditions = config["conditions"].as_array().unwrap();
    for (rule, check) in rules.iter().zip(&checks) {
        let args: Vec<&str> = rule["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|arg| arg.as_str().unwrap())
            .collect();
        assert_eq!(args[..3], ["check", "--only", check.as_str()], "{rule}");
        assert!(
            args.windows(2).any(|pair| pair == ["--output", "npd"]),
            "{rule}"
        );
        let condition = rule["condition"].as_str().unwrap();
        assert!(condition.starts_with("NodeDoctor"), "{condition}");
        assert!(
            conditions.iter().any(|c| c["type"] == condition),
            "{condition} has no default condition"
        );
    }
}

#[test]
fn npd_output_is_one_short_line() {
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubeadm-real");
    let run = |extra: &[&str]| {
        Command::new(assert_cmd::cargo::cargo_bin("node-doctor"))
            .env_remove("NODE_DOCTOR_LOG")
            .args(["check", "--output", "npd", "--snapshot"])
            .arg(&snapshot)
            .args(extra)
            .output()
            .unwrap()
    };

    let healthy = run(&[]);
    assert_eq!(healthy.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&healthy.stdout),
        "no problems found\n"
    );

    // Every certificate has expired by 2040, so the list of codes is cut to 80 characters.
    let expired = run(&["--now", "2040-01-01T00:00:00Z"]);
    assert_eq!(expired.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&expired.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let line = stdout.lines().next().unwrap();
    assert!(line.chars().count() <= 80, "{line}");
    assert!(line.starts_with("cert-expiry/expired"), "{line}");
    assert!(line.ends_with("..."), "{line}");
}
