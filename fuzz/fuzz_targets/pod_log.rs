//! Container log lines in the CRI format and Docker's json-file format, as a tail that may
//! start in the middle of a line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use node_doctor::host::FileTail;
use node_doctor::kube::pod_log::ContainerLog;

fuzz_target!(|data: &[u8]| {
    let Some((&offset, bytes)) = data.split_first() else {
        return;
    };
    let tail = FileTail {
        bytes: bytes.to_vec(),
        offset: u64::from(offset),
        file_size: u64::from(offset) + bytes.len() as u64,
    };
    let _ = ContainerLog::parse("/var/log/pods/kube-system_p_1/c/0.log", &tail);
    let _ = ContainerLog::parse("/var/lib/docker/containers/abc/abc-json.log", &tail);
});
