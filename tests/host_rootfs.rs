//! RootFs and LiveHost: symlinks resolve under the root and never out of it, and odd files
//! (FIFOs, directories, huge or empty files) fail fast with the right error.

mod support;

use std::fs;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use node_doctor::host::{FileKind, Host, HostError, HostErrorKind, LiveHost, RootFs};
use support::{symlink, write_file};

const CURRENT: &str = "/var/lib/kubelet/pki/kubelet-client-current.pem";
const ROTATED: &str = "/var/lib/kubelet/pki/kubelet-client-2026-12-04-10-00-00.pem";
const LIMIT: u64 = 1024 * 1024;

/// Runs `work` on a thread and fails the test if it does not finish within five seconds, so a
/// blocking read shows up as a failure instead of a hung test run.
fn within_deadline<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    receiver
        .recv_timeout(Duration::from_secs(5))
        .expect("the host call blocked for more than 5 s")
}

fn expect_error<T: std::fmt::Debug>(result: Result<T, HostError>) -> HostError {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => error,
    }
}

#[test]
fn absolute_symlink_resolves_under_root() {
    let root = tempfile::tempdir().unwrap();
    write_file(root.path(), ROTATED, "rotated certificate");
    symlink(root.path(), CURRENT, ROTATED);
    let rootfs = RootFs::new(root.path());

    assert_eq!(
        rootfs.read_file(CURRENT, LIMIT).unwrap(),
        b"rotated certificate"
    );
    assert_eq!(rootfs.canonicalize(CURRENT).unwrap(), ROTATED);
    assert_eq!(rootfs.read_link(CURRENT).unwrap(), ROTATED);
    assert_eq!(rootfs.stat(CURRENT).unwrap().kind, FileKind::Regular);
    assert_eq!(rootfs.lstat(CURRENT).unwrap().kind, FileKind::Symlink);
}

#[test]
fn live_host_honours_root() {
    let root = tempfile::tempdir().unwrap();
    write_file(root.path(), ROTATED, "rotated certificate");
    symlink(root.path(), CURRENT, ROTATED);
    let host = LiveHost::new(root.path(), None);

    assert_eq!(
        host.read_file(CURRENT, LIMIT).unwrap(),
        b"rotated certificate"
    );
    let canonical = host.canonicalize(CURRENT).unwrap();
    assert_eq!(canonical, ROTATED);
    assert!(
        !canonical.contains(&*root.path().to_string_lossy()),
        "canonical path {canonical} shows the root directory"
    );
}

#[test]
fn relative_symlink_and_dotdot_resolve_under_root() {
    let root = tempfile::tempdir().unwrap();
    write_file(root.path(), ROTATED, "rotated");
    symlink(
        root.path(),
        CURRENT,
        "../pki/./kubelet-client-2026-12-04-10-00-00.pem",
    );
    let rootfs = RootFs::new(root.path());

    assert_eq!(rootfs.read_file(CURRENT, LIMIT).unwrap(), b"rotated");
    assert_eq!(rootfs.canonicalize(CURRENT).unwrap(), ROTATED);
    assert_eq!(
        rootfs
            .canonicalize("/var/lib/kubelet/../kubelet/pki/kubelet-client-current.pem")
            .unwrap(),
        ROTATED
    );
}

#[test]
fn directory_symlink_resolves_under_root() {
    let root = tempfile::tempdir().unwrap();
    write_file(root.path(), "/data/kubelet/pki/ca.crt", "ca");
    symlink(root.path(), "/var/lib/kubelet", "/data/kubelet");
    let rootfs = RootFs::new(root.path());

    assert_eq!(
        rootfs
            .read_file("/var/lib/kubelet/pki/ca.crt", LIMIT)
            .unwrap(),
        b"ca"
    );
    assert_eq!(
        rootfs.canonicalize("/var/lib/kubelet/pki/ca.crt").unwrap(),
        "/data/kubelet/pki/ca.crt"
    );
    let names: Vec<String> = rootfs
        .read_dir("/var/lib/kubelet/pki")
        .unwrap()
        .into_iter()
        .map(|entry| entry.name)
        .collect();
    assert_eq!(names, ["ca.crt"]);
}

#[test]
fn relative_escape_stays_in_root() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("root");
    fs::create_dir(&root).unwrap();
    // The kernel would resolve root/etc/kubernetes/link -> ../../../../shadow to outer/shadow
    // (and beyond), where this file is.
    write_file(outer.path(), "shadow", "outside the root");
    symlink(&root, "/etc/kubernetes/link", "../../../../shadow");
    symlink(
        &root,
        "/etc/kubernetes/etc-shadow",
        "../../../../etc/shadow",
    );
    let rootfs = RootFs::new(&root);

    let error = expect_error(rootfs.read_file("/etc/kubernetes/link", LIMIT));
    assert!(error.is_not_found(), "got {error}");
    let error = expect_error(rootfs.stat("/etc/kubernetes/link"));
    assert!(error.is_not_found(), "got {error}");
    assert_eq!(
        rootfs.canonicalize("/etc/kubernetes/link").unwrap(),
        "/shadow"
    );
    let error = expect_error(rootfs.read_file("/etc/kubernetes/etc-shadow", LIMIT));
    assert!(error.is_not_found(), "got {error}");

    // `..` stops at the root, so the same link finds the root's own /shadow.
    write_file(&root, "/shadow", "inside the root");
    assert_eq!(
        rootfs.read_file("/etc/kubernetes/link", LIMIT).unwrap(),
        b"inside the root"
    );
}

#[test]
fn dotdot_in_request_stays_in_root() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("root");
    fs::create_dir(&root).unwrap();
    write_file(outer.path(), "secret", "outside the root");
    let rootfs = RootFs::new(&root);

    let error = expect_error(rootfs.read_file("/../secret", LIMIT));
    assert!(error.is_not_found(), "got {error}");
    let error = expect_error(rootfs.read_file("../../secret", LIMIT));
    assert!(error.is_not_found(), "got {error}");
}

#[test]
fn absolute_escape_stays_in_root() {
    let root = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let outside_file = write_file(elsewhere.path(), "shadow", "only on the real host");
    let outside_dir = elsewhere.path().to_path_buf();
    assert!(outside_file.is_absolute());

    symlink(root.path(), CURRENT, &outside_file);
    symlink(root.path(), "/etc/kubernetes", &outside_dir);
    let rootfs = RootFs::new(root.path());

    let error = expect_error(rootfs.read_file(CURRENT, LIMIT));
    assert!(error.is_not_found(), "got {error}");
    let error = expect_error(rootfs.stat(CURRENT));
    assert!(error.is_not_found(), "got {error}");
    // lstat returns the link itself, which is inside the root.
    assert_eq!(rootfs.lstat(CURRENT).unwrap().kind, FileKind::Symlink);

    let error = expect_error(rootfs.read_file("/etc/kubernetes/shadow", LIMIT));
    assert!(error.is_not_found(), "got {error}");
    let error = expect_error(rootfs.read_dir("/etc/kubernetes"));
    assert!(error.is_not_found(), "got {error}");
}

#[test]
fn symlink_loops_fail_fast() {
    let root = tempfile::tempdir().unwrap();
    symlink(root.path(), "/loop/a", "b");
    symlink(root.path(), "/loop/b", "/loop/a");
    symlink(root.path(), "/loop/self", "self");
    symlink(root.path(), "/loop/dir", "/loop/dir/next");
    let rootfs = RootFs::new(root.path());

    for path in ["/loop/a", "/loop/b", "/loop/self", "/loop/dir", "/loop/a/x"] {
        let started = Instant::now();
        let reader = rootfs.clone();
        let owned = path.to_string();
        let error = within_deadline(move || reader.read_file(&owned, LIMIT).unwrap_err());
        assert!(
            matches!(error.kind, HostErrorKind::SymlinkLoop),
            "read_file {path}: got {error}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "read_file {path} took {:?}",
            started.elapsed()
        );

        let error = expect_error(rootfs.stat(path));
        assert!(
            matches!(error.kind, HostErrorKind::SymlinkLoop),
            "stat {path}: got {error}"
        );
        let error = expect_error(rootfs.canonicalize(path));
        assert!(
            matches!(error.kind, HostErrorKind::SymlinkLoop),
            "canonicalize {path}: got {error}"
        );
        assert_eq!(error.path, path, "the error names the requested host path");
    }

    assert_eq!(rootfs.lstat("/loop/self").unwrap().kind, FileKind::Symlink);
    assert_eq!(rootfs.read_link("/loop/a").unwrap(), "b");
}

#[test]
fn fifo_read_does_not_block() {
    let root = tempfile::tempdir().unwrap();
    let fifo = root.path().join("etc/kubernetes/kubelet.conf");
    fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let rootfs = RootFs::new(root.path());

    let reader = rootfs.clone();
    let error = within_deadline(move || {
        reader
            .read_file("/etc/kubernetes/kubelet.conf", LIMIT)
            .unwrap_err()
    });
    assert!(
        matches!(error.kind, HostErrorKind::NotRegularFile(FileKind::Fifo)),
        "got {error}"
    );
    assert_eq!(
        rootfs.stat("/etc/kubernetes/kubelet.conf").unwrap().kind,
        FileKind::Fifo
    );

    // A symlink to the FIFO is no different.
    symlink(root.path(), "/etc/kubernetes/link.conf", "kubelet.conf");
    let reader = rootfs.clone();
    let error = within_deadline(move || {
        reader
            .read_file("/etc/kubernetes/link.conf", LIMIT)
            .unwrap_err()
    });
    assert!(
        matches!(error.kind, HostErrorKind::NotRegularFile(FileKind::Fifo)),
        "got {error}"
    );
}

#[test]
fn directory_is_not_regular_file() {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("etc/kubernetes/kubelet.conf")).unwrap();
    let rootfs = RootFs::new(root.path());

    let error = expect_error(rootfs.read_file("/etc/kubernetes/kubelet.conf", LIMIT));
    assert!(
        matches!(
            error.kind,
            HostErrorKind::NotRegularFile(FileKind::Directory)
        ),
        "got {error}"
    );
    assert_eq!(
        error.to_string(),
        "/etc/kubernetes/kubelet.conf: is a directory, not a regular file"
    );
}

#[test]
fn sparse_gigabyte_is_too_large() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("var/log/huge.log");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = fs::File::create(&path).unwrap();
    file.set_len(1 << 30).unwrap();
    let rootfs = RootFs::new(root.path());

    let started = Instant::now();
    let error = expect_error(rootfs.read_file("/var/log/huge.log", LIMIT));
    // The size is the file's full length, so it came from metadata, not from reading.
    match error.kind {
        HostErrorKind::TooLarge { size, max } => {
            assert_eq!(size, 1 << 30);
            assert_eq!(max, LIMIT);
        }
        other => panic!("expected TooLarge, got {other}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn file_at_limit_is_read() {
    let root = tempfile::tempdir().unwrap();
    write_file(root.path(), "/etc/exact", vec![b'x'; 16]);
    write_file(root.path(), "/etc/over", vec![b'x'; 17]);
    let rootfs = RootFs::new(root.path());

    assert_eq!(rootfs.read_file("/etc/exact", 16).unwrap().len(), 16);
    let error = expect_error(rootfs.read_file("/etc/over", 16));
    assert!(
        matches!(error.kind, HostErrorKind::TooLarge { size: 17, max: 16 }),
        "got {error}"
    );
}

#[test]
fn empty_file_reads_empty() {
    let root = tempfile::tempdir().unwrap();
    write_file(root.path(), "/proc/swaps", "");
    let rootfs = RootFs::new(root.path());

    assert_eq!(rootfs.read_file("/proc/swaps", LIMIT).unwrap(), b"");
    let host = LiveHost::new(root.path(), None);
    assert_eq!(host.read_text("/proc/swaps", LIMIT).unwrap(), "");
    assert_eq!(host.stat("/proc/swaps").unwrap().size, 0);
}

#[test]
fn missing_paths_are_not_found() {
    let root = tempfile::tempdir().unwrap();
    write_file(root.path(), "/etc/hostname", "node-1\n");
    let host = LiveHost::new(root.path(), None);

    for path in ["/etc/missing", "/missing/dir/file", "/etc/hostname/child"] {
        let error = expect_error(host.read_file(path, LIMIT));
        assert_eq!(error.path, path);
        assert!(
            error.is_not_found() || matches!(error.kind, HostErrorKind::Io(_)),
            "{path}: got {error}"
        );
    }
    assert!(!host.exists("/etc/missing"));
    assert!(host.exists("/etc/hostname"));
}

#[test]
fn host_error_shows_host_path() {
    let root = tempfile::tempdir().unwrap();
    let host = LiveHost::new(root.path(), None);

    let error = expect_error(host.read_file("/etc/kubernetes/kubelet.conf", LIMIT));
    let message = error.to_string();
    assert_eq!(
        message,
        "/etc/kubernetes/kubelet.conf: no such file or directory"
    );
    assert!(
        !message.contains(&*root.path().to_string_lossy()),
        "message {message} shows the root directory"
    );
}

#[test]
fn read_dir_is_sorted_with_kinds() {
    let root = tempfile::tempdir().unwrap();
    write_file(root.path(), "/etc/cni/net.d/10-b.conflist", "{}");
    write_file(root.path(), "/etc/cni/net.d/05-a.conf", "{}");
    fs::create_dir_all(root.path().join("etc/cni/net.d/sub")).unwrap();
    symlink(root.path(), "/etc/cni/net.d/link", "05-a.conf");
    let rootfs = RootFs::new(root.path());

    let entries = rootfs.read_dir("/etc/cni/net.d").unwrap();
    let listing: Vec<(String, FileKind)> = entries
        .into_iter()
        .map(|entry| (entry.name, entry.kind))
        .collect();
    assert_eq!(
        listing,
        [
            ("05-a.conf".to_string(), FileKind::Regular),
            ("10-b.conflist".to_string(), FileKind::Regular),
            ("link".to_string(), FileKind::Symlink),
            ("sub".to_string(), FileKind::Directory),
        ]
    );
}

#[test]
fn tail_of_sparse_file_is_cheap() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("var/log/pods/huge.log");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = fs::File::create(&path).unwrap();
    file.set_len(10 << 30).unwrap();
    drop(file);
    let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
    std::io::Write::write_all(&mut file, b"\nlast line\n").unwrap();
    drop(file);
    let rootfs = RootFs::new(root.path());

    let started = Instant::now();
    let tail = rootfs.read_tail("/var/log/pods/huge.log", 64).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(tail.bytes.len(), 64);
    assert!(tail.bytes.ends_with(b"\nlast line\n"));
    assert_eq!(tail.file_size, (10 << 30) + 11);
    assert_eq!(tail.offset, tail.file_size - 64);
}

#[test]
fn tail_of_small_file_is_whole() {
    let root = tempfile::tempdir().unwrap();
    write_file(root.path(), "/var/log/pods/small.log", "one\ntwo\n");
    let rootfs = RootFs::new(root.path());

    let tail = rootfs.read_tail("/var/log/pods/small.log", 1024).unwrap();
    assert_eq!(tail.bytes, b"one\ntwo\n");
    assert_eq!(tail.offset, 0);
}

#[test]
fn tail_follows_symlinks_under_root() {
    let root = tempfile::tempdir().unwrap();
    write_file(
        root.path(),
        "/var/lib/docker/containers/abc/abc-json.log",
        "inside\n",
    );
    symlink(
        root.path(),
        "/var/log/containers/kube-proxy-x_kube-system_kube-proxy-abc.log",
        "/var/lib/docker/containers/abc/abc-json.log",
    );
    // An absolute target resolves under the root, so this never reads the real /etc/hostname.
    symlink(
        root.path(),
        "/var/log/containers/escape.log",
        "/etc/hostname",
    );
    let host = LiveHost::new(root.path(), None);

    let tail = host
        .read_tail(
            "/var/log/containers/kube-proxy-x_kube-system_kube-proxy-abc.log",
            1024,
        )
        .unwrap();
    assert_eq!(tail.bytes, b"inside\n");
    let error = expect_error(host.read_tail("/var/log/containers/escape.log", 1024));
    assert!(error.is_not_found(), "got {error}");
}

#[test]
fn tail_of_fifo_does_not_block() {
    let root = tempfile::tempdir().unwrap();
    let fifo = root.path().join("var/log/pods/0.log");
    fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let rootfs = RootFs::new(root.path());

    let error = within_deadline(move || rootfs.read_tail("/var/log/pods/0.log", 1024).unwrap_err());
    assert!(
        matches!(error.kind, HostErrorKind::NotRegularFile(FileKind::Fifo)),
        "got {error}"
    );
}
