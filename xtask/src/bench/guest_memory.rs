//! Holds off the virtual machine's free page reporting while a bench runs.
//!
//! The guest kernels here report free memory back to the hypervisor (virtio-balloon free
//! page reporting, `/sys/module/page_reporting`). A reported page is unbacked until it is
//! touched again, and that first touch costs a fault in the hypervisor, charged as CPU
//! time to whoever touched it: writing 1 GiB into a new file's page cache took 1.8 s
//! with fresh pages and 0.27 s with backed ones (256 KiB `pwrite`s from a C test,
//! 2026-12-07). Which client of a bench gets unbacked pages depends on what the kernel
//! freed and reported since the last run, so one run of any client could take twice the
//! CPU time of the next for reasons outside it (`bench bt` saw 1.6 s and 4.4 s for the
//! same binary, the profile of the slow one 56% in the kernel's page-cache copy).
//!
//! While a [`GuestMemory`] lives, the reporting order is raised past the largest block
//! the kernel has, so nothing is reported, and the memory the runs will take is touched
//! once up front; the order is put back when it drops. Where the knob is absent or not
//! writable (not root, another kernel) nothing changes, and the report says so.

use std::path::Path;

const ORDER: &str = "/sys/module/page_reporting/parameters/page_reporting_order";
/// Above the largest buddy order (10): no free block qualifies for reporting.
const NEVER: &str = "11";

/// The reporting order to restore, when it was changed.
pub struct GuestMemory {
    restore: Option<String>,
}

impl GuestMemory {
    /// Holds reporting off and touches `touch_mib` MiB once (then frees them, backed).
    pub fn hold(touch_mib: u64) -> GuestMemory {
        let Ok(old) = std::fs::read_to_string(ORDER) else {
            return GuestMemory { restore: None };
        };
        if std::fs::write(ORDER, NEVER).is_err() {
            eprintln!("bench: cannot hold off free page reporting (not root?)");
            return GuestMemory { restore: None };
        }
        eprintln!("bench: free page reporting held off; touching {touch_mib} MiB once");
        touch(touch_mib << 20);
        GuestMemory {
            restore: Some(old.trim().to_string()),
        }
    }

    /// A sentence for the report.
    pub fn describe(&self) -> &'static str {
        if self.restore.is_some() {
            "The VM's free page reporting was held off during the runs and the memory they \
             take touched once before (`xtask/src/bench/guest_memory.rs`): no client pays \
             the hypervisor's first-touch faults."
        } else if Path::new(ORDER).exists() {
            "The VM's free page reporting could not be held off: a client given freshly \
             reported pages pays the hypervisor's first-touch faults as CPU time \
             (`xtask/src/bench/guest_memory.rs`)."
        } else {
            "No free page reporting on this kernel."
        }
    }
}

impl Drop for GuestMemory {
    fn drop(&mut self) {
        if let Some(old) = &self.restore
            && std::fs::write(ORDER, old).is_err()
        {
            eprintln!("bench: cannot restore {ORDER} to {old}");
        }
    }
}

/// Writes one byte per page of `bytes` of fresh memory, then frees it.
fn touch(bytes: u64) {
    let mut mem: Vec<u8> = Vec::with_capacity(bytes as usize);
    let spare = mem.spare_capacity_mut();
    for page in spare.chunks_mut(4096) {
        page[0].write(1);
    }
    drop(mem);
}
