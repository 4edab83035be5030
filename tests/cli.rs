//! The command line: every option has help text, and completions and the man page are
//! generated from it.

mod support;

use clap::CommandFactory;
use node_doctor::cli::Cli;
use support::node_doctor;

/// Long options every generated document must mention.
const OPTIONS: [&str; 9] = [
    "root",
    "snapshot",
    "now",
    "output",
    "fail-on",
    "only",
    "skip",
    "expiry-warning",
    "offline",
];

#[test]
fn command_definition_is_valid() {
    Cli::command().debug_assert();
}

#[test]
fn every_option_has_help() {
    let mut missing = Vec::new();
    let mut pending = vec![(String::from("node-doctor"), Cli::command())];
    while let Some((path, command)) = pending.pop() {
        if path != "node-doctor" && command.get_about().is_none() {
            missing.push(format!("command `{path}`"));
        }
        for argument in command.get_arguments() {
            let id = argument.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if argument.get_help().is_none() && argument.get_long_help().is_none() {
                missing.push(format!("`{path}` argument {id}"));
            }
        }
        for sub in command.get_subcommands() {
            if sub.get_name() != "help" {
                pending.push((format!("{path} {}", sub.get_name()), sub.clone()));
            }
        }
    }

    assert!(missing.is_empty(), "missing help text: {missing:?}");
}

#[test]
fn help_lists_options() {
    let output = node_doctor().arg("--help").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);

    assert!(output.status.success());
    for option in OPTIONS {
        assert!(
            stdout.contains(&format!("--{option}")),
            "--{option}: {stdout}"
        );
    }
}

#[test]
fn completions_mention_options() {
    for shell in ["bash", "zsh", "fish"] {
        let output = node_doctor().args(["completions", shell]).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);

        assert!(output.status.success(), "{shell}: {:?}", output.status);
        for option in OPTIONS {
            assert!(stdout.contains(option), "{shell} completion lacks {option}");
        }
        for command in ["check", "list", "explain", "certs"] {
            assert!(
                stdout.contains(command),
                "{shell} completion lacks {command}"
            );
        }
    }
}

#[test]
fn unknown_shell_exits_2() {
    let output = node_doctor()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn man_page_mentions_options() {
    let output = node_doctor().arg("man").output().unwrap();
    let page = String::from_utf8_lossy(&output.stdout);

    assert!(output.status.success());
    assert!(
        page.starts_with(".ie") || page.contains(".TH"),
        "not roff: {page}"
    );
    assert!(page.contains("node\\-doctor"), "{page}");
    for option in OPTIONS {
        let escaped = option.replace('-', "\\-");
        assert!(page.contains(&escaped), "man page lacks {option}");
    }
}

/// Runs node-doctor with stdout connected to a pipe whose read end is already closed, as in
/// `node-doctor man | head -1` after head has exited.
fn run_into_closed_pipe(args: &[&str]) -> std::process::Output {
    let (read_end, write_end) = nix::unistd::pipe().expect("create a pipe");
    drop(read_end);
    let binary = assert_cmd::cargo::cargo_bin("node-doctor");
    std::process::Command::new(binary)
        .args(args)
        .env_remove("NODE_DOCTOR_LOG")
        .stdout(std::process::Stdio::from(write_end))
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run node-doctor")
}

#[test]
fn closed_pipe_is_not_an_error() {
    let snapshot = support::kubeadm_real();
    let snapshot = snapshot.to_str().unwrap();
    let cases: [&[&str]; 6] = [
        &["completions", "bash"],
        &["completions", "zsh"],
        &["completions", "fish"],
        &["man"],
        &["list"],
        &["check", "--snapshot", snapshot],
    ];

    for args in cases {
        let output = run_into_closed_pipe(args);
        let stderr = String::from_utf8_lossy(&output.stderr);

        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panic"), "{args:?}: {stderr}");
    }
}

#[test]
fn logs_have_no_colour_off_terminal() {
    let output = node_doctor()
        .args(["check", "-vv", "--snapshot"])
        .arg(support::kubeadm_real())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(stderr.contains("run started"), "no log lines: {stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "stderr is a pipe but the log has ANSI escapes: {stderr:?}"
    );
}

#[test]
fn only_and_skip_same_check_exits_2() {
    let output = support::node_doctor()
        .args(["check", "--only", "pki", "--skip", "pki", "--snapshot"])
        .arg(support::kubeadm_real())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no check left to run"), "{stderr}");
}
