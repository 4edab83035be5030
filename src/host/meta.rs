use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use jiff::Timestamp;

/// The type of a file system object, as `stat(2)` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Regular,
    Directory,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
}

impl FileKind {
    pub fn from_file_type(file_type: fs::FileType) -> FileKind {
        if file_type.is_dir() {
            FileKind::Directory
        } else if file_type.is_symlink() {
            FileKind::Symlink
        } else if file_type.is_fifo() {
            FileKind::Fifo
        } else if file_type.is_socket() {
            FileKind::Socket
        } else if file_type.is_char_device() {
            FileKind::CharDevice
        } else if file_type.is_block_device() {
            FileKind::BlockDevice
        } else {
            FileKind::Regular
        }
    }

    /// Parses the type names a snapshot's `special` map uses.
    pub fn from_snapshot_name(name: &str) -> Option<FileKind> {
        match name {
            "socket" => Some(FileKind::Socket),
            "fifo" => Some(FileKind::Fifo),
            "char-device" | "chardev" => Some(FileKind::CharDevice),
            "block-device" | "blockdev" => Some(FileKind::BlockDevice),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Regular => "regular file",
            FileKind::Directory => "directory",
            FileKind::Symlink => "symbolic link",
            FileKind::Fifo => "FIFO",
            FileKind::Socket => "socket",
            FileKind::CharDevice => "character device",
            FileKind::BlockDevice => "block device",
        }
    }

    pub fn with_article(self) -> String {
        let name = self.as_str();
        match self {
            FileKind::Fifo => format!("a {name}"),
            _ if name.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {name}"),
            _ => format!("a {name}"),
        }
    }
}

/// The parts of a file's metadata that checks use.
#[derive(Clone, Debug)]
pub struct FileMeta {
    pub kind: FileKind,
    pub size: u64,
    /// Permission bits, such as 0o600.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub modified: Option<Timestamp>,
}

impl FileMeta {
    pub fn from_metadata(metadata: &fs::Metadata) -> FileMeta {
        FileMeta {
            kind: FileKind::from_file_type(metadata.file_type()),
            size: metadata.len(),
            mode: metadata.mode() & 0o7777,
            uid: metadata.uid(),
            gid: metadata.gid(),
            modified: Timestamp::from_second(metadata.mtime()).ok(),
        }
    }

    /// Metadata for a special file that a snapshot lists but cannot carry.
    pub fn special(kind: FileKind) -> FileMeta {
        FileMeta {
            kind,
            size: 0,
            mode: 0o600,
            uid: 0,
            gid: 0,
            modified: None,
        }
    }
}

/// One entry of a directory listing.
#[derive(Clone, Debug)]
pub struct DirEntry {
    pub name: String,
    pub kind: FileKind,
}

/// The end of a file, as [`crate::host::Host::read_tail`] returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileTail {
    pub bytes: Vec<u8>,
    /// The offset of `bytes` in the file. When it is above 0, the first line in `bytes` may be
    /// the end of a longer line.
    pub offset: u64,
    /// The file's size when it was opened.
    pub file_size: u64,
}
