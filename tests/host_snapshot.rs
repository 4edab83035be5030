//! SnapshotHost: the directory and .tar.gz forms read the same, `special` files show their
//! type, hostile archives stay inside their temporary directory, and bad snapshots exit 2.

mod support;

use std::fs;
use std::path::Path;

use node_doctor::host::{FileKind, Host, HostCommand, HostErrorKind, SnapshotHost, Source};
use support::{node_doctor, pack_tar_gz, symlink, write_file, write_manifest};

const CURRENT: &str = "/var/lib/kubelet/pki/kubelet-client-current.pem";
const ROTATED: &str = "/var/lib/kubelet/pki/kubelet-client-2026-12-04-10-00-00.pem";
const SOCKET: &str = "/run/containerd/containerd.sock";
const LIMIT: u64 = 1024 * 1024;

/// Builds a small snapshot directory with an absolute symlink, a special socket and a captured
/// journal.
fn build_snapshot(dir: &Path) {
    write_manifest(
        dir,
        node_doctor::host::SNAPSHOT_FORMAT,
        "worker-1",
        &[(SOCKET, "socket"), ("/run/fifo-only/pipe", "fifo")],
    );
    let rootfs = dir.join("rootfs");
    write_file(&rootfs, "/etc/hostname", "worker-1\n");
    write_file(&rootfs, ROTATED, "rotated certificate");
    symlink(&rootfs, CURRENT, ROTATED);
    write_file(
        &rootfs,
        "/run/containerd/io.containerd.runtime.v2.task/.keep",
        "",
    );
    write_file(
        &dir.join("commands"),
        "journal/kubelet.log",
        "2026-12-04T09:59:59+0000 worker-1 kubelet[1]: started\n",
    );
}

/// Reads the same set of paths through a host, as a comparable string.
fn describe(host: &dyn Host) -> String {
    let mut out = String::new();
    for path in [CURRENT, ROTATED, "/etc/hostname", "/etc/missing"] {
        let read = match host.read_file(path, LIMIT) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(error) => format!("error {error}"),
        };
        let canonical = host.canonicalize(path).map_err(|e| e.to_string());
        out.push_str(&format!("{path}: {read:?} -> {canonical:?}\n"));
    }
    for path in [SOCKET, CURRENT, "/run/containerd", "/run"] {
        let stat = host.stat(path).map(|m| m.kind).map_err(|e| e.to_string());
        let lstat = host.lstat(path).map(|m| m.kind).map_err(|e| e.to_string());
        out.push_str(&format!("stat {path}: {stat:?} lstat {lstat:?}\n"));
    }
    for path in ["/run", "/run/containerd", "/var/lib/kubelet/pki"] {
        let listing = host.read_dir(path).map(|entries| {
            entries
                .into_iter()
                .map(|e| format!("{}:{:?}", e.name, e.kind))
                .collect::<Vec<_>>()
        });
        out.push_str(&format!(
            "ls {path}: {:?}\n",
            listing.map_err(|e| e.to_string())
        ));
    }
    out.push_str(&format!("link {:?}\n", host.read_link(CURRENT).ok()));
    out.push_str(&format!("now {}\n", host.now()));
    out.push_str(&format!("node {:?}\n", host.recorded_node_name()));
    let journal = HostCommand::Journal {
        unit: "kubelet".to_string(),
        lines: 100,
    };
    out.push_str(&format!(
        "journal {:?}\n",
        host.run(&journal)
            .map(|o| o.stdout)
            .map_err(|e| e.to_string())
    ));
    out
}

#[test]
fn snapshot_directory_reads() {
    let dir = tempfile::tempdir().unwrap();
    build_snapshot(dir.path());
    let host = SnapshotHost::open(dir.path(), None).unwrap();

    assert_eq!(host.source(), Source::Snapshot);
    assert_eq!(host.recorded_node_name().as_deref(), Some("worker-1"));
    assert_eq!(host.now().to_string(), "2026-12-04T10:00:00Z");
    assert_eq!(
        host.read_file(CURRENT, LIMIT).unwrap(),
        b"rotated certificate"
    );
    assert_eq!(host.canonicalize(CURRENT).unwrap(), ROTATED);
    assert_eq!(host.lstat(CURRENT).unwrap().kind, FileKind::Symlink);

    let journal = HostCommand::Journal {
        unit: "kubelet".to_string(),
        lines: 100,
    };
    assert!(host.run(&journal).unwrap().stdout.contains("started"));
    let missing = HostCommand::Journal {
        unit: "containerd".to_string(),
        lines: 100,
    };
    let error = host.run(&missing).unwrap_err();
    assert!(error.is_unavailable(), "got {error}");
}

#[test]
fn now_option_overrides_capture_time() {
    let dir = tempfile::tempdir().unwrap();
    build_snapshot(dir.path());
    let now: jiff::Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    let host = SnapshotHost::open(dir.path(), Some(now)).unwrap();

    assert_eq!(host.now(), now);
}

#[test]
fn special_socket_has_its_type() {
    let dir = tempfile::tempdir().unwrap();
    build_snapshot(dir.path());
    let host = SnapshotHost::open(dir.path(), None).unwrap();

    assert_eq!(host.stat(SOCKET).unwrap().kind, FileKind::Socket);
    assert_eq!(host.lstat(SOCKET).unwrap().kind, FileKind::Socket);
    assert!(host.exists(SOCKET));
    let error = host.read_file(SOCKET, LIMIT).unwrap_err();
    assert!(
        matches!(error.kind, HostErrorKind::NotRegularFile(FileKind::Socket)),
        "got {error}"
    );

    let entries = host.read_dir("/run/containerd").unwrap();
    let socket = entries
        .iter()
        .find(|entry| entry.name == "containerd.sock")
        .expect("the socket is listed");
    assert_eq!(socket.kind, FileKind::Socket);
    assert!(
        entries
            .iter()
            .any(|entry| entry.name == "io.containerd.runtime.v2.task"),
        "real entries are kept: {entries:?}"
    );
}

#[test]
fn special_parents_are_directories() {
    let dir = tempfile::tempdir().unwrap();
    build_snapshot(dir.path());
    let host = SnapshotHost::open(dir.path(), None).unwrap();

    // rootfs/run/fifo-only does not exist: only the special map implies it.
    let meta = host.stat("/run/fifo-only").unwrap();
    assert_eq!(meta.kind, FileKind::Directory);
    assert!(host.exists("/run/fifo-only"));
    let entries = host.read_dir("/run/fifo-only").unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].name, "pipe");
    assert_eq!(entries[0].kind, FileKind::Fifo);

    let run: Vec<(String, FileKind)> = host
        .read_dir("/run")
        .unwrap()
        .into_iter()
        .map(|entry| (entry.name, entry.kind))
        .collect();
    assert_eq!(
        run,
        [
            ("containerd".to_string(), FileKind::Directory),
            ("fifo-only".to_string(), FileKind::Directory),
        ]
    );
}

#[test]
fn special_found_through_symlink() {
    let dir = tempfile::tempdir().unwrap();
    build_snapshot(dir.path());
    symlink(&dir.path().join("rootfs"), "/var/run", "/run");
    let host = SnapshotHost::open(dir.path(), None).unwrap();

    let meta = host.stat("/var/run/containerd/containerd.sock").unwrap();
    assert_eq!(meta.kind, FileKind::Socket);
    let listed = host.read_dir("/var/run/containerd").unwrap();
    assert!(
        listed
            .iter()
            .any(|entry| entry.name == "containerd.sock" && entry.kind == FileKind::Socket),
        "got {listed:?}"
    );
}

#[test]
fn tar_gz_reads_like_directory() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("worker-1");
    build_snapshot(&snapshot);
    let expected = describe(&SnapshotHost::open(&snapshot, None).unwrap());
    assert!(
        expected.contains("rotated certificate"),
        "sanity: {expected}"
    );

    for prefix in ["worker-1", ""] {
        let archive = dir.path().join(format!("snapshot-{}.tar.gz", prefix.len()));
        pack_tar_gz(&snapshot, &archive, prefix);
        let host = SnapshotHost::open(&archive, None).unwrap();
        assert_eq!(
            describe(&host),
            expected,
            "archive with prefix {prefix:?} differs from the directory"
        );
    }
}

#[test]
fn tar_gz_keeps_absolute_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snap");
    build_snapshot(&snapshot);
    let archive = dir.path().join("snap.tar.gz");
    pack_tar_gz(&snapshot, &archive, "snap");

    let host = SnapshotHost::open(&archive, None).unwrap();
    assert_eq!(host.lstat(CURRENT).unwrap().kind, FileKind::Symlink);
    assert_eq!(host.read_link(CURRENT).unwrap(), ROTATED);
    assert_eq!(
        host.read_file(CURRENT, LIMIT).unwrap(),
        b"rotated certificate"
    );
}

/// Appends an entry whose stored name is `name` verbatim, bypassing the tar crate's path
/// checks, as a hostile archive would.
fn append_raw(builder: &mut tar::Builder<impl std::io::Write>, name: &str, data: &[u8]) {
    let mut header = tar::Header::new_gnu();
    let field = &mut header.as_gnu_mut().unwrap().name;
    field[..name.len()].copy_from_slice(name.as_bytes());
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    builder.append(&header, data).unwrap();
}

fn append_symlink(builder: &mut tar::Builder<impl std::io::Write>, name: &str, target: &Path) {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_size(0);
    header.set_mode(0o777);
    builder
        .append_link(&mut header, name, target)
        .expect("append symlink");
}

#[test]
fn tar_escape_entries_stay_inside() {
    let work = tempfile::tempdir().unwrap();
    let temp = work.path().join("tmp");
    fs::create_dir(&temp).unwrap();
    let victim = work.path().join("victim");
    fs::create_dir(&victim).unwrap();

    let archive = work.path().join("evil.tar.gz");
    {
        let file = fs::File::create(&archive).unwrap();
        let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut builder = tar::Builder::new(encoder);
        let manifest = format!(
            r#"{{"format":"{}","node":"evil","capturedAt":"2026-12-04T10:00:00Z"}}"#,
            node_doctor::host::SNAPSHOT_FORMAT
        );
        append_raw(&mut builder, "snapshot.json", manifest.as_bytes());
        append_raw(&mut builder, "../evil", b"escaped one level");
        append_raw(&mut builder, "../../evil", b"escaped two levels");
        append_raw(
            &mut builder,
            "rootfs/../../evil-inner",
            b"escaped via rootfs",
        );
        // A symlink to a real directory outside, then a file written through it.
        append_symlink(&mut builder, "rootfs/outside", &victim);
        append_raw(
            &mut builder,
            "rootfs/outside/planted",
            b"written through a link",
        );
        builder.into_inner().unwrap().finish().unwrap();
    }

    let output = node_doctor()
        .env("TMPDIR", &temp)
        .args(["check", "-o", "json", "--snapshot"])
        .arg(&archive)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(!temp.join("evil").exists(), "../evil escaped; {stderr}");
    assert!(!work.path().join("evil").exists(), "../../evil escaped");
    assert!(!temp.join("evil-inner").exists(), "rootfs/../../ escaped");
    assert!(
        !victim.join("planted").exists(),
        "an entry was written through a symlink out of the archive"
    );
    let leftovers: Vec<_> = fs::read_dir(&temp).unwrap().collect();
    assert!(
        leftovers.is_empty(),
        "the unpacked snapshot was not removed: {leftovers:?}"
    );
    // The archive is hostile but still names a snapshot; either outcome is fine as long as
    // node-doctor did not crash.
    assert!(
        matches!(output.status.code(), Some(0..=2)),
        "status {:?}: {stderr}",
        output.status
    );
}

#[test]
fn tar_gz_run_removes_unpacked_dir() {
    let work = tempfile::tempdir().unwrap();
    let temp = work.path().join("tmp");
    fs::create_dir(&temp).unwrap();
    let archive = work.path().join("kubeadm-real.tar.gz");
    pack_tar_gz(&support::kubeadm_real(), &archive, "kubeadm-real");

    // One run without findings and one with them, since the leak showed up in both.
    for now in ["2026-12-05T00:00:00Z", "2030-01-01T00:00:00Z"] {
        for _ in 0..5 {
            let output = node_doctor()
                .env("TMPDIR", &temp)
                .args(["check", "-o", "json", "--now", now, "--snapshot"])
                .arg(&archive)
                .output()
                .unwrap();
            assert!(
                matches!(output.status.code(), Some(0 | 1)),
                "status {:?}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    let leftovers: Vec<_> = fs::read_dir(&temp)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(
        leftovers.is_empty(),
        "unpacked snapshots left in TMPDIR: {leftovers:?}"
    );
}

#[test]
fn wrong_format_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    build_snapshot(dir.path());
    write_manifest(dir.path(), "node-doctor-snapshot/v0", "worker-1", &[]);

    let output = node_doctor()
        .args(["check", "--snapshot"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    let manifest = dir.path().join("snapshot.json");
    assert!(
        stderr.contains(&*manifest.to_string_lossy()),
        "stderr does not name {}: {stderr}",
        manifest.display()
    );
    assert!(stderr.contains("node-doctor-snapshot/v0"), "{stderr}");
    assert!(output.stdout.is_empty(), "no report on a bad snapshot");
}

#[test]
fn wrong_format_in_tar_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snap");
    build_snapshot(&snapshot);
    write_manifest(&snapshot, "something-else/v1", "worker-1", &[]);
    let archive = dir.path().join("snap.tar.gz");
    pack_tar_gz(&snapshot, &archive, "snap");

    let output = node_doctor()
        .args(["check", "--snapshot"])
        .arg(&archive)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("snapshot.json"), "{stderr}");
    assert!(stderr.contains("something-else/v1"), "{stderr}");
    assert!(
        stderr.contains(&format!("{}/snap/snapshot.json", archive.display())),
        "the message does not name the file inside the archive: {stderr}"
    );
    assert!(
        !stderr.contains("node-doctor-snapshot-"),
        "the message names the temporary directory: {stderr}"
    );
}

#[test]
fn invalid_manifest_json_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "snapshot.json", "{not json");

    let output = node_doctor()
        .args(["check", "--snapshot"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("snapshot.json"), "{stderr}");
}

#[test]
fn missing_snapshot_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-snapshot");

    for extra in [&[][..], &["-o", "json"][..], &["-o", "prometheus"][..]] {
        let output = node_doctor()
            .args(["check", "--snapshot"])
            .arg(&missing)
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);

        assert_eq!(output.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(
            stderr.contains(&*missing.to_string_lossy()),
            "stderr does not name the path: {stderr}"
        );
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn not_a_tar_gz_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = write_file(dir.path(), "snapshot.tar.gz", "this is not gzip");

    let output = node_doctor()
        .args(["check", "--snapshot"])
        .arg(&bogus)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(&*bogus.to_string_lossy()), "{stderr}");
}

#[test]
fn directory_without_manifest_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("rootfs")).unwrap();

    let output = node_doctor()
        .args(["check", "--snapshot"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("snapshot.json"), "{stderr}");
}

#[test]
fn kubeadm_real_opens() {
    let host = SnapshotHost::open(&support::kubeadm_real(), None).unwrap();

    assert_eq!(host.recorded_node_name().as_deref(), Some("node-1"));
    assert_eq!(
        host.canonicalize("/var/lib/kubelet/pki/kubelet-client-current.pem")
            .unwrap(),
        "/var/lib/kubelet/pki/kubelet-client-2026-12-04-19-31-38.pem"
    );
    assert_eq!(
        host.stat("/run/containerd/containerd.sock").unwrap().kind,
        FileKind::Socket
    );
}

/// Writes a valid snapshot of a node named `node` outside the snapshot under test, as the
/// target that hostile symlinks point at.
fn build_outside_node(dir: &Path, node: &str) {
    write_manifest(dir, node_doctor::host::SNAPSHOT_FORMAT, node, &[]);
    write_file(&dir.join("rootfs"), "/etc/hostname", format!("{node}\n"));
}

#[test]
fn fifo_manifest_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("rootfs")).unwrap();
    nix::unistd::mkfifo(
        &dir.path().join("snapshot.json"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();

    let output = node_doctor()
        .timeout(std::time::Duration::from_secs(20))
        .args(["check", "--snapshot"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("snapshot.json"), "{stderr}");
    assert!(stderr.contains("FIFO"), "{stderr}");
}

#[test]
fn manifest_symlinks_stay_inside() {
    let work = tempfile::tempdir().unwrap();
    let outside = work.path().join("outside");
    build_outside_node(&outside, "outside-node");

    for target in [outside.join("snapshot.json"), Path::new("/dev/zero").into()] {
        let snapshot = work.path().join("snapshot");
        let _ = fs::remove_dir_all(&snapshot);
        fs::create_dir_all(snapshot.join("rootfs")).unwrap();
        std::os::unix::fs::symlink(&target, snapshot.join("snapshot.json")).unwrap();

        let output = node_doctor()
            .timeout(std::time::Duration::from_secs(20))
            .args(["check", "-o", "json", "--snapshot"])
            .arg(&snapshot)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);

        assert_eq!(output.status.code(), Some(2), "{target:?}: {stderr}");
        assert!(stderr.contains("snapshot.json"), "{stderr}");
    }
}

#[test]
fn tar_rootfs_symlink_stays_inside() {
    let work = tempfile::tempdir().unwrap();
    let outside = work.path().join("outside");
    build_outside_node(&outside, "outside-node");

    let archive = work.path().join("linked.tar.gz");
    {
        let file = fs::File::create(&archive).unwrap();
        let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut builder = tar::Builder::new(encoder);
        let manifest = format!(r#"{{"format":"{}"}}"#, node_doctor::host::SNAPSHOT_FORMAT);
        append_raw(&mut builder, "snapshot.json", manifest.as_bytes());
        append_symlink(&mut builder, "rootfs", &outside.join("rootfs"));
        builder.into_inner().unwrap().finish().unwrap();
    }

    let output = node_doctor()
        .args(["check", "-o", "json", "--snapshot"])
        .arg(&archive)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(
        !stdout.contains("outside-node"),
        "the report read the node name from outside the archive: {stdout}"
    );
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("rootfs"), "{stderr}");
}

#[test]
fn tar_folder_symlink_is_ignored() {
    let work = tempfile::tempdir().unwrap();
    let outside = work.path().join("outside");
    build_outside_node(&outside, "outside-node");

    let archive = work.path().join("folder-link.tar.gz");
    {
        let file = fs::File::create(&archive).unwrap();
        let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut builder = tar::Builder::new(encoder);
        append_symlink(&mut builder, "snap", &outside);
        builder.into_inner().unwrap().finish().unwrap();
    }

    let output = node_doctor()
        .args(["check", "-o", "json", "--snapshot"])
        .arg(&archive)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(
        !stdout.contains("outside-node"),
        "the archive's folder symlink was followed: {stdout}"
    );
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("snapshot.json"), "{stderr}");
}

#[test]
fn tar_with_too_many_entries_exits_2() {
    let work = tempfile::tempdir().unwrap();
    let temp = work.path().join("tmp");
    fs::create_dir(&temp).unwrap();
    let archive = work.path().join("many.tar.gz");
    {
        let file = fs::File::create(&archive).unwrap();
        let encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut builder = tar::Builder::new(encoder);
        let manifest = format!(r#"{{"format":"{}"}}"#, node_doctor::host::SNAPSHOT_FORMAT);
        append_raw(&mut builder, "snapshot.json", manifest.as_bytes());
        for index in 0..60_000 {
            append_raw(&mut builder, &format!("rootfs/many/{index}"), b"");
        }
        builder.into_inner().unwrap().finish().unwrap();
    }

    let started = std::time::Instant::now();
    let output = node_doctor()
        .env("TMPDIR", &temp)
        .args(["check", "--snapshot"])
        .arg(&archive)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("more than 50000 entries"), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    let leftovers: Vec<_> = fs::read_dir(&temp).unwrap().collect();
    assert!(leftovers.is_empty(), "left in TMPDIR: {leftovers:?}");
}

/// A decompression bomb: entries whose headers add up to more than the 2 GiB cap. The data is
/// not in the archive, so the test is small; the first pass rejects it from the headers alone,
/// before anything is written.
#[test]
fn tar_over_size_cap_exits_2() {
    let work = tempfile::tempdir().unwrap();
    let temp = work.path().join("tmp");
    fs::create_dir(&temp).unwrap();
    let archive = work.path().join("bomb.tar.gz");
    {
        let mut builder = tar::Builder::new(Vec::new());
        let manifest = format!(r#"{{"format":"{}"}}"#, node_doctor::host::SNAPSHOT_FORMAT);
        append_raw(&mut builder, "snapshot.json", manifest.as_bytes());
        let mut stream = builder.into_inner().unwrap();
        // Drops the two zero blocks that end the archive, so the next header is read.
        stream.truncate(stream.len() - 1024);
        let mut header = tar::Header::new_gnu();
        header.set_path("rootfs/huge.log").unwrap();
        header.set_size(3 * 1024 * 1024 * 1024);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_cksum();
        stream.extend_from_slice(header.as_bytes());
        let file = fs::File::create(&archive).unwrap();
        let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        std::io::Write::write_all(&mut encoder, &stream).unwrap();
        encoder.finish().unwrap();
    }

    let output = node_doctor()
        .env("TMPDIR", &temp)
        .args(["check", "--snapshot"])
        .arg(&archive)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("unpacks to more than"), "{stderr}");
    let leftovers: Vec<_> = fs::read_dir(&temp).unwrap().collect();
    assert!(leftovers.is_empty(), "left in TMPDIR: {leftovers:?}");
}
