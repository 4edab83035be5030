//! Values derived from a host's files once per run and shared by every check.
//!
//! Several checks read the kubelet's flags, which means loading kubelet.service with its
//! drop-ins and the flags files. A host lives for one run, so a value stored here can be
//! computed once. A check that requests a key while another check computes it waits for that
//! result instead of computing it again.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

type Slot = Arc<OnceLock<Arc<dyn Any + Send + Sync>>>;

#[derive(Default)]
pub struct Memo {
    slots: Mutex<HashMap<String, Slot>>,
}

impl Memo {
    /// Returns the value stored under `key`, computing it on first use. A key always stores
    /// one type, and requesting another type is a programming error.
    pub fn get_or_compute<T: Send + Sync + 'static>(
        &self,
        key: &str,
        compute: impl FnOnce() -> T,
    ) -> Arc<T> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(slots.entry(key.to_string()).or_default())
        };
        let value = slot.get_or_init(|| Arc::new(compute()) as Arc<dyn Any + Send + Sync>);
        Arc::clone(value)
            .downcast::<T>()
            .unwrap_or_else(|_| panic!("memo key {key} stores another type"))
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memo")
    }
}
