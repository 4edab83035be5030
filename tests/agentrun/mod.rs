//! A `node-doctor agent` process for tests: started on 127.0.0.1 with an ephemeral port,
//! its JSON log read from standard error, and plain HTTP requests to its endpoints.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The maximum wait for something the agent should do within a few runs.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A running agent with its JSON log lines collected from standard error.
pub struct Agent {
    pub child: Child,
    pub address: String,
    log: mpsc::Receiver<Value>,
    pub seen: Vec<Value>,
}

impl Agent {
    /// Starts the agent on 127.0.0.1 with an ephemeral port and reads the bound address
    /// from its "agent started" log line.
    pub fn start(args: &[&std::ffi::OsStr]) -> Agent {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("node-doctor"))
            .env_remove("NODE_DOCTOR_LOG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .args(["agent", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"));
                if sender.send(value).is_err() {
                    return;
                }
            }
        });
        let mut agent = Agent {
            child,
            address: String::new(),
            log,
            seen: Vec::new(),
        };
        let started = agent.wait_for_log(|line| line["message"] == "agent started");
        agent.address = started["address"].as_str().unwrap().to_string();
        agent
    }

    /// Waits for a log line that `accept` matches, keeping every line read.
    pub fn wait_for_log(&mut self, accept: impl Fn(&Value) -> bool) -> Value {
        if let Some(line) = self.seen.iter().find(|line| accept(line)) {
            return line.clone();
        }
        let deadline = Instant::now() + PATIENCE;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.log.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if accept(&line) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no matching log line; log so far: {:#?}", self.seen);
    }

    /// Sends `GET path` over plain HTTP/1.1 and returns the status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(&self.address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.address
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(
            !head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked"),
            "{head}"
        );
        (status, body.to_string())
    }

    /// Returns the metrics once the agent has completed more than `runs` runs.
    pub fn metrics_after(&self, runs: u64) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (status, text) = self.get("/metrics");
            if status == 200 && runs_total(&text) > runs {
                return text;
            }
            assert!(Instant::now() < deadline, "no run after run {runs}: {text}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).unwrap();
    }

    /// Waits for the agent to exit and returns its status code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the agent did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn runs_total(metrics: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("node_doctor_agent_runs_total "))
        .map(|value| value.trim().parse().unwrap())
        .unwrap_or(0)
}
