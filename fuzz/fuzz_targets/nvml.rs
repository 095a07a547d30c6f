//! `R1PICK_NVML_SNAPSHOT`: any text is a snapshot or a refusal, and any snapshot becomes GPUs whose
//! numbers stay within the catalog's bounds and notes that stay on one line; never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use r1pick::catalog::Catalog;
use r1pick::catalog::bounds::{MAX_GPU_GIB, plausible_rate};
use r1pick::hardware::probe::NvmlSnapshot;
use r1pick::hardware::probe::nvidia::{gpus, restrict_to_visible};

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::embedded().expect("the embedded catalog loads"))
}

fuzz_target!(|text: &str| {
    // The first line, when it is not JSON, plays CUDA_VISIBLE_DEVICES.
    let (visible, json) = match text.split_once('\n') {
        Some((v, rest)) if !v.trim_start().starts_with('{') => (Some(v), rest),
        _ => (None, text),
    };
    let Ok(mut snap) = NvmlSnapshot::from_json(json) else {
        return;
    };
    if let Some(v) = visible {
        let _ = restrict_to_visible(&mut snap, v);
    }
    snap.devices.truncate(1024);
    let (found, notes) = gpus(catalog(), &snap);
    for g in &found {
        assert!(g.gpu.memory_bytes <= (MAX_GPU_GIB as u64) << 30);
        assert!(plausible_rate(g.gpu.bandwidth_gb_s), "{}", g.gpu.bandwidth_gb_s);
        assert!(g.gpu.fp16_tflops.is_finite() && g.gpu.interconnect_gb_s.is_finite());
        assert!(!g.gpu.name.contains(r1pick::terminal::is_unsafe), "raw name {:?}", g.gpu.name);
    }
    for n in notes {
        assert!(!r1pick::terminal::escape(&n).contains('\n'));
    }
});
