//! A reader for systemd unit files that resolves a unit the way systemd does.
//!
//! No maintained crate implements systemd's loading rules, so they are written out here: the
//! unit search path, drop-in folders merged by file name, empty assignments that reset a
//! setting, line continuations and comments (systemd.unit(5), systemd.syntax(7)). Every
//! assignment keeps its file and line, so findings can name them. `systemctl show` output is
//! parsed too, because it shows what the running systemd loaded.

mod conf_files;
mod environment;
mod mount_flags;
mod search_path;
mod show;
mod syntax;
mod unit;

pub use conf_files::{ConfFiles, list_conf_files};
pub use environment::{
    EnvironmentValue, ServiceEnvironment, WordSource, parse_environment_file, split_unit_words,
};
pub use mount_flags::MountPropagation;
pub use search_path::{UNIT_SEARCH_PATH, drop_in_dir_names};
pub use show::{ShowOutput, read_show};
pub use syntax::{Assignment, ParsedFile, parse_unit_file};
pub use unit::Unit;
