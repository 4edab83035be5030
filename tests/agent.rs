//! `node-doctor agent` against a snapshot it analyses every second: the HTTP endpoints, the
//! metrics (parsed by promtool when it is available, and by the tests' own parser), findings
//! that appear and clear, the atomic textfile, SIGHUP and SIGTERM.

mod agentrun;
mod support;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use agentrun::{Agent, runs_total};
use support::{kubeadm_real, parse_prometheus};

const SWAP_CODE: &str = "join-preflight/swap-enabled";

/// Returns the value of `node_doctor_finding` for `code`, or None when it has no series.
fn finding_value(metrics: &str, code: &str) -> Option<f64> {
    parse_prometheus(metrics)
        .into_iter()
        .find(|sample| sample.name == "node_doctor_finding" && sample.labels["code"] == code)
        .map(|sample| sample.value)
}

/// Copies the kubeadm-real snapshot into `dir` and returns the copy's path.
fn snapshot_copy(dir: &Path) -> PathBuf {
    let snapshot = dir.join("snapshot");
    copy_dir(&kubeadm_real(), &snapshot);
    snapshot
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn enable_swap(snapshot: &Path) {
    let proc_dir = snapshot.join("rootfs/proc");
    fs::create_dir_all(&proc_dir).unwrap();
    fs::write(
        proc_dir.join("swaps"),
        "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swap.img\t\t\t\tfile\t\t4194300\t\t0\t\t-2\n",
    )
    .unwrap();
}

/// Returns promtool from NODE_DOCTOR_PROMTOOL or PATH. When it is missing the caller skips
/// its promtool step, unless NODE_DOCTOR_REQUIRE_PROMTOOL is set (as .ci/run does).
fn promtool() -> Option<PathBuf> {
    let candidate = std::env::var_os("NODE_DOCTOR_PROMTOOL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("promtool"));
    if Command::new(&candidate).arg("--version").output().is_ok() {
        return Some(candidate);
    }
    assert!(
        std::env::var_os("NODE_DOCTOR_REQUIRE_PROMTOOL").is_none(),
        "promtool not found but NODE_DOCTOR_REQUIRE_PROMTOOL is set"
    );
    eprintln!("skipped the promtool step: promtool not found (Debian package prometheus)");
    None
}

/// Parses the metrics with `promtool check metrics`, which fails on invalid exposition text.
fn promtool_check_metrics(metrics: &str) {
    let Some(promtool) = promtool() else { return };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "promtool: {stdout}{stderr}");
}

fn args<'a>(items: &'a [&'a std::ffi::OsStr]) -> Vec<&'a std::ffi::OsStr> {
    items.to_vec()
}

#[test]
fn agent_serves_and_resolves_findings() {
    let temp = tempfile::tempdir().unwrap();
    let snapshot = snapshot_copy(temp.path());
    enable_swap(&snapshot);
    let textfile_dir = temp.path().join("textfile");
    fs::create_dir(&textfile_dir).unwrap();
    let config = temp.path().join("config.yaml");
    fs::write(&config, "# defaults\n").unwrap();

    let mut agent = Agent::start(&args(&[
        "--snapshot".as_ref(),
        snapshot.as_os_str(),
        "--interval".as_ref(),
        "1s".as_ref(),
        "--jitter".as_ref(),
        "0s".as_ref(),
        "--textfile-dir".as_ref(),
        textfile_dir.as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
    ]));
    assert_eq!(agent.get("/healthz"), (200, "ok\n".to_string()));

    let first = agent.metrics_after(0);
    promtool_check_metrics(&first);
    assert_eq!(finding_value(&first, SWAP_CODE), Some(1.0));
    let (status, findings) = agent.get("/findings");
    assert_eq!(status, 200);
    let report: Value = serde_json::from_str(&findings).unwrap();
    assert_eq!(report["kind"], "Report");
    assert!(findings.contains(SWAP_CODE), "{findings}");
    assert_eq!(agent.get("/readyz").0, 200);
    let appeared = agent.wait_for_log(|line| line["event"] == "finding_appeared");
    assert_eq!(appeared["code"], SWAP_CODE);
    assert_eq!(appeared["severity"], "critical");

    // The textfile carries the same metrics and is replaced by rename: a new inode each run
    // and no temporary file left behind.
    let textfile = textfile_dir.join("node_doctor.prom");
    // The open handle keeps the first file's inode in use, so the file system cannot give its
    // number to a later textfile and the comparison below is meaningful.
    let first_file = fs::File::open(&textfile).unwrap();
    let first_inode = first_file.metadata().unwrap().ino();
    let mode = fs::metadata(&textfile).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    let text = fs::read_to_string(&textfile).unwrap();
    assert!(!parse_prometheus(&text).is_empty());

    fs::remove_file(snapshot.join("rootfs/proc/swaps")).unwrap();
    let runs = runs_total(&agent.get("/metrics").1);
    // The run in progress may have read the old file, so wait for the one after it.
    let resolved = agent.metrics_after(runs + 1);
    promtool_check_metrics(&resolved);
    assert_eq!(finding_value(&resolved, SWAP_CODE), Some(0.0));
    let cleared = agent.wait_for_log(|line| line["event"] == "finding_cleared");
    assert_eq!(cleared["code"], SWAP_CODE);
    let textfile_now = fs::read_to_string(&textfile).unwrap();
    assert_eq!(finding_value(&textfile_now, SWAP_CODE), Some(0.0));
    assert_ne!(fs::metadata(&textfile).unwrap().ino(), first_inode);
    let names: Vec<String> = fs::read_dir(&textfile_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["node_doctor.prom"]);
    // A sample line is the name, optional labels and the value, with no timestamp.
    for line in textfile_now.lines().filter(|line| !line.starts_with('#')) {
        let after_labels = match line.rsplit_once('}') {
            Some((_, rest)) => rest,
            None => line.split_once(' ').unwrap().1,
        };
        assert_eq!(
            after_labels.split_whitespace().count(),
            1,
            "sample has a timestamp: {line}"
        );
    }

    // Runs never overlap: each start is followed by its finish before the next start.
    let mut running = false;
    for line in &agent.seen {
        match line["message"].as_str() {
            Some("run started") => {
                assert!(!running, "a run started during another");
                running = true;
            }
            Some("run finished") => running = false,
            _ => {}
        }
    }

    agent.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(agent.wait_exit(), Some(0));
    agent.wait_for_log(|line| line["message"] == "agent stopped");
}

#[test]
fn sighup_reloads_configuration() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("config.yaml");
    fs::write(
        &config,
        "interval: 1s\njitter: 0s\nonly: [join-preflight]\n",
    )
    .unwrap();

    let mut agent = Agent::start(&args(&[
        "--snapshot".as_ref(),
        kubeadm_real().as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
    ]));
    let before = agent.metrics_after(0);
    let checks = |metrics: &str| -> Vec<String> {
        let mut ids: Vec<String> = parse_prometheus(metrics)
            .into_iter()
            .filter(|sample| sample.name == "node_doctor_check_status")
            .map(|sample| sample.labels["check"].clone())
            .collect();
        ids.dedup();
        ids
    };
    assert_eq!(checks(&before), ["join-preflight"]);

    fs::write(&config, "interval: 1s\njitter: 0s\nonly: [pki]\n").unwrap();
    agent.signal(nix::sys::signal::Signal::SIGHUP);
    agent.wait_for_log(|line| line["message"] == "configuration reloaded");
    let runs = runs_total(&agent.get("/metrics").1);
    let after = agent.metrics_after(runs);
    assert_eq!(checks(&after), ["pki"]);

    // An invalid file keeps the previous configuration and the agent running.
    fs::write(&config, "intervall: 1s\n").unwrap();
    agent.signal(nix::sys::signal::Signal::SIGHUP);
    let error = agent.wait_for_log(|line| {
        line["message"] == "could not reload the configuration; keeping the previous one"
    });
    assert!(
        error["error"].as_str().unwrap().contains("intervall"),
        "{error}"
    );
    let runs = runs_total(&agent.get("/metrics").1);
    assert_eq!(checks(&agent.metrics_after(runs)), ["pki"]);

    agent.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(agent.wait_exit(), Some(0));
}

#[test]
fn failed_run_keeps_agent_up() {
    let temp = tempfile::tempdir().unwrap();
    let missing_root = temp.path().join("no-such-root");
    let config = temp.path().join("config.yaml");
    fs::write(&config, "").unwrap();

    let mut agent = Agent::start(&args(&[
        "--root".as_ref(),
        missing_root.as_os_str(),
        "--offline".as_ref(),
        "--interval".as_ref(),
        "1s".as_ref(),
        "--config".as_ref(),
        config.as_os_str(),
    ]));
    let error = agent.wait_for_log(|line| line["level"] == "ERROR");
    assert!(
        error["error"].as_str().unwrap().contains("no-such-root"),
        "{error}"
    );
    assert_eq!(agent.get("/healthz").0, 200);
    assert_eq!(agent.get("/readyz").0, 503);
    assert_eq!(agent.get("/metrics").0, 503);
    assert!(
        agent.child.try_wait().unwrap().is_none(),
        "the agent exited"
    );

    agent.signal(nix::sys::signal::Signal::SIGINT);
    assert_eq!(agent.wait_exit(), Some(0));
}

#[test]
fn flags_override_config_file() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("config.yaml");
    fs::write(&config, "interval: 1s\njitter: 0s\nonly: [pki]\n").unwrap();

    let agent = Agent::start(&args(&[
        "--snapshot".as_ref(),
        kubeadm_real().as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
        "--only".as_ref(),
        "node-ip".as_ref(),
    ]));
    let metrics = agent.metrics_after(0);
    let checks: Vec<String> = parse_prometheus(&metrics)
        .into_iter()
        .filter(|sample| sample.name == "node_doctor_check_status")
        .map(|sample| sample.labels["check"].clone())
        .collect();
    assert!(checks.iter().all(|id| id == "node-ip"), "{checks:?}");
}

#[test]
fn invalid_config_stops_startup() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("config.yaml");
    fs::write(&config, "listen: nowhere\n").unwrap();

    let output = Command::new(assert_cmd::cargo::cargo_bin("node-doctor"))
        .args(["agent", "--offline", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("listen in"), "{stderr}");
    assert!(stderr.contains("nowhere"), "{stderr}");
}

#[test]
fn busy_port_stops_startup() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("config.yaml");
    fs::write(&config, "").unwrap();

    let output = Command::new(assert_cmd::cargo::cargo_bin("node-doctor"))
        .args(["agent", "--offline", "--listen", &address, "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {address}")),
        "{stderr}"
    );
}
