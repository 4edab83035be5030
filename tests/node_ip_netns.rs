//! The node-ip check on real kernel interfaces. Each test builds its own network namespace with
//! a veth pair, addresses and a default route. It runs node-doctor inside it with
//! `ip netns exec` and --root pointing at a temporary directory with the kubelet files.
//!
//! Creating namespaces needs root. Without it the tests are skipped with a printed reason,
//! unless NODE_DOCTOR_REQUIRE_NETNS is set (as .ci/run does), which fails them instead. Only
//! documentation (TEST-NET) and private ranges are used, and the metadata server each test runs
//! listens on 127.0.0.1 inside the test's own namespace.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// A network namespace that is deleted when dropped, also when the test fails.
struct Namespace {
    name: String,
}

impl Namespace {
    /// Creates `nd-test-PID-N`, or returns None (after printing why) when the test cannot run.
    fn create() -> Option<Namespace> {
        if !netns_available() {
            return None;
        }
        let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
        let name = format!("nd-test-{}-{id}", std::process::id());
        run_ip(&["netns", "add", &name]);
        let namespace = Namespace { name };
        namespace.ip(&["link", "set", "lo", "up"]);
        Some(namespace)
    }

    /// Runs `ip -n NAME ARGS`, failing the test when it fails.
    fn ip(&self, args: &[&str]) {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        run_ip(&full);
    }

    /// Adds an interface `name` (one end of a veth pair whose other end stays unconfigured).
    fn add_interface(&self, name: &str) {
        let peer = format!("{name}-peer");
        self.ip(&["link", "add", name, "type", "veth", "peer", "name", &peer]);
        self.ip(&["link", "set", &peer, "up"]);
        self.ip(&["link", "set", name, "up"]);
    }

    /// Runs node-doctor's node-ip check inside the namespace and returns the report and how
    /// long it took.
    fn run_node_doctor(&self, root: &Path, extra: &[&str]) -> (Value, Duration) {
        let binary = assert_cmd::cargo::cargo_bin("node-doctor");
        let started = Instant::now();
        let output = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .arg(binary)
            .args(["check", "-o", "json", "--only", "node-ip", "--root"])
            .arg(root)
            .args(extra)
            .env_remove("NODE_DOCTOR_LOG")
            .output()
            .expect("run ip netns exec");
        let elapsed = started.elapsed();
        let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "invalid JSON ({error}): {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (report, elapsed)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let status = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        if !matches!(status, Ok(status) if status.success()) {
            eprintln!("could not delete network namespace {}", self.name);
        }
    }
}

fn run_ip(args: &[&str]) {
    let output = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        output.status.success(),
        "ip {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Returns whether namespaces can be created: root and the `ip` command.
fn netns_available() -> bool {
    let required = std::env::var_os("NODE_DOCTOR_REQUIRE_NETNS").is_some();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { nix::libc::geteuid() } == 0;
    let has_ip = Command::new("ip").arg("-V").output().is_ok();
    if root && has_ip {
        return true;
    }
    let why = if root {
        "the ip command (Debian package iproute2) is not installed"
    } else {
        "creating network namespaces needs root"
    };
    assert!(!required, "{why}, but NODE_DOCTOR_REQUIRE_NETNS is set");
    eprintln!("skipped: {why}; set NODE_DOCTOR_REQUIRE_NETNS=1 to fail instead");
    false
}

/// What the test's metadata server does with a request.
#[derive(Clone, Copy)]
enum Behaviour {
    Answer(&'static str),
    /// Accepts the connection and never sends a response.
    Hang,
}

/// An HTTP server on 127.0.0.1 inside a namespace that records the request lines it gets.
struct MetadataServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl MetadataServer {
    fn start(namespace: &Namespace, behaviour: Behaviour) -> MetadataServer {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (port_sender, port_receiver) = std::sync::mpsc::channel();
        let netns_path = format!("/run/netns/{}", namespace.name);
        let thread_requests = Arc::clone(&requests);
        let thread_stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            // setns moves only this thread; a socket stays in the namespace it was made in.
            let netns = std::fs::File::open(&netns_path).expect("open the namespace");
            // SAFETY: setns is called with a valid namespace file descriptor for this thread.
            let joined = unsafe { nix::libc::setns(netns.as_raw_fd(), nix::libc::CLONE_NEWNET) };
            assert_eq!(joined, 0, "setns into {netns_path} failed");
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
            listener.set_nonblocking(true).unwrap();
            port_sender
                .send(listener.local_addr().unwrap().port())
                .unwrap();
            serve(&listener, behaviour, &thread_requests, &thread_stop);
        });
        let port = port_receiver
            .recv_timeout(Duration::from_secs(5))
            .expect("metadata server started");
        MetadataServer {
            port,
            requests,
            stop,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for MetadataServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Serves until stopped or for 30 seconds at most, so a failed test cannot leave it running.
fn serve(
    listener: &TcpListener,
    behaviour: Behaviour,
    requests: &Mutex<Vec<String>>,
    stop: &AtomicBool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut held = Vec::new();
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        let Ok((stream, _)) = listener.accept() else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        let _ = reader.read_line(&mut request_line);
        requests
            .lock()
            .unwrap()
            .push(request_line.trim().to_string());
        match behaviour {
            Behaviour::Answer(body) => {
                let mut stream = stream;
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
            }
            Behaviour::Hang => held.push(stream),
        }
    }
}

const DEBIAN: &str = "NAME=\"Debian GNU/Linux\"\nID=debian\n";

/// Writes the node's kubelet files under a temporary root.
fn node_root(
    node: &str,
    vendor: &str,
    joined: bool,
    extra_args: Option<&str>,
) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let write = |relative: &str, text: &str| {
        let path = root.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("etc/os-release", DEBIAN);
    write("etc/hostname", &format!("{node}\n"));
    write("sys/class/dmi/id/sys_vendor", &format!("{vendor}\n"));
    if joined {
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://cp.example.test:6443\n    certificate-authority: /etc/kubernetes/pki/ca.crt\n  name: c\ncontexts:\n- context:\n    cluster: c\n    user: system:node:{node}\n  name: d\ncurrent-context: d\nusers:\n- name: system:node:{node}\n  user:\n    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n"
        );
        write("etc/kubernetes/kubelet.conf", &kubeconfig);
    }
    if let Some(args) = extra_args {
        write(
            "etc/default/kubelet",
            &format!("KUBELET_EXTRA_ARGS=\"{args}\"\n"),
        );
    }
    root
}

/// Sets up a droplet's eth0 with `first` and `second` in that kernel order and a default route
/// via the public network's gateway.
fn droplet(namespace: &Namespace, first: &str, second: &str) {
    namespace.add_interface("eth0");
    namespace.ip(&["addr", "add", first, "dev", "eth0"]);
    namespace.ip(&["addr", "add", second, "dev", "eth0"]);
    namespace.ip(&[
        "route",
        "add",
        "default",
        "via",
        "203.0.112.1",
        "dev",
        "eth0",
    ]);
}

fn finding<'a>(report: &'a Value, code: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn text(value: &Value) -> String {
    serde_json::to_string(value).unwrap().replace("\\\"", "\"")
}

const ANCHOR_REQUEST: &str = "GET /metadata/v1/interfaces/public/0/anchor_ipv4/address HTTP/1.1";

#[test]
fn droplet_pinned_to_anchor_confirmed() {
    let Some(namespace) = Namespace::create() else {
        return;
    };
    droplet(&namespace, "203.0.113.24/20", "10.19.0.57/16");
    let server = MetadataServer::start(&namespace, Behaviour::Answer("10.19.0.57"));
    let root = node_root(
        "droplet-1",
        "DigitalOcean",
        true,
        Some("--v=2 --node-ip=10.19.0.57"),
    );

    // The node has joined, so the check also requests its Node object. Port 1 on the
    // namespace's own loopback keeps that request inside the test.
    let metadata_url = server.url();
    let args = [
        "--metadata-url",
        &metadata_url,
        "--api-server",
        "https://127.0.0.1:1",
    ];
    let (report, _) = namespace.run_node_doctor(root.path(), &args);

    assert_eq!(server.requests(), vec![ANCHOR_REQUEST.to_string()]);
    let anchor = finding(&report, "node-ip/anchor-ip-selected")
        .unwrap_or_else(|| panic!("got {:?}", codes(&report)));
    assert_eq!(anchor["severity"], "critical");
    assert!(
        anchor["summary"]
            .as_str()
            .unwrap()
            .contains("DigitalOcean's anchor address on eth0")
    );
    let evidence = text(&anchor["evidence"]);
    assert!(
        evidence.contains("/etc/default/kubelet (KUBELET_EXTRA_ARGS)"),
        "{evidence}"
    );
    assert!(
        evidence.contains("203.0.113.24/20, 10.19.0.57/16"),
        "{evidence}"
    );
    let metadata = "anchor_ipv4/address\",\"source\":\"metadata\",\"value\":\"10.19.0.57\"";
    assert!(evidence.contains(metadata), "{evidence}");
    let fix = text(&anchor["fix"]);
    assert!(
        fix.contains("KUBELET_EXTRA_ARGS=\"--v=2 --node-ip=203.0.113.24\""),
        "{fix}"
    );
    assert!(
        fix.contains("systemctl daemon-reload && systemctl restart kubelet"),
        "{fix}"
    );
}

#[test]
fn droplet_before_join_predicts_anchor() {
    let Some(namespace) = Namespace::create() else {
        return;
    };
    droplet(&namespace, "10.19.0.57/16", "203.0.113.24/20");
    let server = MetadataServer::start(&namespace, Behaviour::Answer("10.19.0.57\n"));
    let root = node_root("droplet-2", "DigitalOcean", false, None);

    let (report, _) = namespace.run_node_doctor(root.path(), &["--metadata-url", &server.url()]);

    let anchor = finding(&report, "node-ip/anchor-ip-selected")
        .unwrap_or_else(|| panic!("got {:?}", codes(&report)));
    let summary = anchor["summary"].as_str().unwrap();
    assert!(
        summary.contains("the kubelet will choose 10.19.0.57"),
        "{summary}"
    );
    let fix = text(&anchor["fix"]);
    assert!(fix.contains("nodeRegistration.kubeletExtraArgs"), "{fix}");
    assert!(fix.contains("value: \"203.0.113.24\""), "{fix}");
}

#[test]
fn metadata_not_asked_off_digitalocean() {
    let Some(namespace) = Namespace::create() else {
        return;
    };
    droplet(&namespace, "10.19.0.57/16", "203.0.113.24/20");
    let server = MetadataServer::start(&namespace, Behaviour::Answer("10.19.0.57"));
    let root = node_root("vm-1", "QEMU", false, None);

    let (report, _) = namespace.run_node_doctor(root.path(), &["--metadata-url", &server.url()]);

    assert!(
        server.requests().is_empty(),
        "asked: {:?}",
        server.requests()
    );
    let anchor = finding(&report, "node-ip/anchor-ip-selected").expect("heuristic applies");
    assert!(anchor["summary"].as_str().unwrap().contains("probably"));
}

#[test]
fn metadata_not_asked_offline() {
    let Some(namespace) = Namespace::create() else {
        return;
    };
    droplet(&namespace, "10.19.0.57/16", "203.0.113.24/20");
    let server = MetadataServer::start(&namespace, Behaviour::Answer("10.19.0.57"));
    let root = node_root("droplet-3", "DigitalOcean", false, None);

    let (report, _) =
        namespace.run_node_doctor(root.path(), &["--metadata-url", &server.url(), "--offline"]);

    assert!(
        server.requests().is_empty(),
        "asked: {:?}",
        server.requests()
    );
    let anchor = finding(&report, "node-ip/anchor-ip-selected").expect("heuristic applies");
    assert!(anchor["details"].as_str().unwrap().contains("--offline"));
}

#[test]
fn metadata_hang_meets_deadline() {
    let Some(namespace) = Namespace::create() else {
        return;
    };
    droplet(&namespace, "10.19.0.57/16", "203.0.113.24/20");
    let server = MetadataServer::start(&namespace, Behaviour::Hang);
    let root = node_root("droplet-4", "DigitalOcean", false, None);

    let (report, elapsed) =
        namespace.run_node_doctor(root.path(), &["--metadata-url", &server.url()]);

    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(server.requests().len(), 1);
    assert_eq!(report["checks"][0]["status"], "failed");
    let anchor = finding(&report, "node-ip/anchor-ip-selected").expect("heuristic applies");
    let details = anchor["details"].as_str().unwrap();
    assert!(details.contains("could not confirm"), "{details}");
}

#[test]
fn metadata_garbage_is_not_trusted() {
    let Some(namespace) = Namespace::create() else {
        return;
    };
    droplet(&namespace, "10.19.0.57/16", "203.0.113.24/20");
    let server = MetadataServer::start(&namespace, Behaviour::Answer("<html>teapot</html>"));
    let root = node_root("droplet-5", "DigitalOcean", false, None);

    let (report, _) = namespace.run_node_doctor(root.path(), &["--metadata-url", &server.url()]);

    let anchor = finding(&report, "node-ip/anchor-ip-selected").expect("heuristic applies");
    assert!(anchor["summary"].as_str().unwrap().contains("probably"));
    assert!(
        anchor["details"]
            .as_str()
            .unwrap()
            .contains("not an IPv4 address")
    );
}

#[test]
fn virtualbox_nat_address_predicted() {
    let Some(namespace) = Namespace::create() else {
        return;
    };
    namespace.add_interface("eth0");
    namespace.add_interface("eth1");
    namespace.ip(&["addr", "add", "10.0.2.15/24", "dev", "eth0"]);
    namespace.ip(&["addr", "add", "192.168.56.11/24", "dev", "eth1"]);
    namespace.ip(&["route", "add", "default", "via", "10.0.2.2", "dev", "eth0"]);
    let root = node_root("kube1", "innotek GmbH", true, None);

    let (report, _) = namespace.run_node_doctor(root.path(), &["--offline"]);

    let nat = finding(&report, "node-ip/shared-nat-address")
        .unwrap_or_else(|| panic!("got {:?}", codes(&report)));
    assert_eq!(nat["severity"], "critical");
    assert!(
        nat["summary"]
            .as_str()
            .unwrap()
            .contains("the kubelet will choose 10.0.2.15")
    );
    let fix = text(&nat["fix"]);
    assert!(fix.contains("/etc/default/kubelet"), "{fix}");
    assert!(
        fix.contains("KUBELET_EXTRA_ARGS=\"--node-ip=192.168.56.11\""),
        "{fix}"
    );
}

#[test]
fn ipv6_only_node_passes() {
    let Some(namespace) = Namespace::create() else {
        return;
    };
    namespace.add_interface("eth0");
    namespace.ip(&["addr", "add", "2001:db8:10::5/64", "dev", "eth0", "nodad"]);
    namespace.ip(&[
        "-6",
        "route",
        "add",
        "default",
        "via",
        "2001:db8:10::1",
        "dev",
        "eth0",
    ]);
    let root = node_root("v6-1", "QEMU", true, None);

    let (report, _) = namespace.run_node_doctor(root.path(), &["--offline"]);

    assert_eq!(
        report["checks"][0]["status"],
        "passed",
        "got {:?}",
        codes(&report)
    );
}

#[test]
fn no_default_route_warns() {
    let Some(namespace) = Namespace::create() else {
        return;
    };
    namespace.add_interface("eth0");
    namespace.ip(&["addr", "add", "192.168.56.12/24", "dev", "eth0"]);
    let root = node_root("isolated-1", "QEMU", true, None);

    let (report, _) = namespace.run_node_doctor(root.path(), &["--offline"]);

    let found = finding(&report, "node-ip/no-default-route")
        .unwrap_or_else(|| panic!("got {:?}", codes(&report)));
    assert!(text(&found["fix"]).contains("--node-ip=192.168.56.12"));
}
