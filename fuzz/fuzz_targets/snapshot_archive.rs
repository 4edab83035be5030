//! Snapshot archives from someone else: the input is a tar stream, gzipped here so the fuzzer
//! works on tar headers rather than on gzip framing. Whatever the archive holds, opening it must
//! not panic or write outside its temporary directory, and reads must stay inside rootfs/.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use node_doctor::host::{Host, SnapshotHost};

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = dir.path().join("snapshot.tar.gz");
    let file = std::fs::File::create(&archive).expect("create archive");
    let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    encoder.write_all(data).expect("write archive");
    encoder.finish().expect("finish archive");

    let Ok(host) = SnapshotHost::open(&archive, None) else {
        return;
    };
    for path in ["/etc/kubernetes/kubelet.conf", "/", "/etc", "/../../etc/passwd"] {
        let _ = host.read_file(path, 1 << 20);
        let _ = host.read_dir(path);
        let _ = host.canonicalize(path);
        let _ = host.stat(path);
    }
});
