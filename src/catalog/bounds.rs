//! Plausibility bounds shared by every loader of numbers that describe hardware or quality: the
//! catalog (embedded and `--catalog`), `--hardware` files and NVML readings. A value outside them
//! is bad input (exit 2), so nothing downstream can turn it into `inf`, `NaN` or a 300-digit
//! figure; one place defines each bound.

use super::{Catalog, Model};

/// Largest GPU memory an entry may claim, GiB (16 TiB; the largest part today has 288 GB).
pub const MAX_GPU_GIB: f64 = 16384.0;
/// Smallest GPU memory, GiB (1 MiB): below it no layer fits and byte counts round to zero.
pub const MIN_GPU_GIB: f64 = 1.0 / 1024.0;
/// Largest bandwidth (GB/s), TFLOPS, watts or dollars per hour a GPU entry may claim.
pub const MAX_GPU_RATE: f64 = 1e6;
/// Smallest bandwidth (GB/s) or TFLOPS a GPU may have: 1 MB/s, 1 GFLOPS. Smaller rates turn a
/// token's time into hours of hours and its speed into zero.
pub const MIN_GPU_RATE: f64 = 1e-3;
/// Largest host memory: 1 PiB (the largest shared-memory servers have 32 TiB).
pub const MAX_RAM_BYTES: u64 = 1 << 50;
/// Most CPU cores a host may claim (the largest sockets have 192; 65,536 leaves room for
/// anything sold).
pub const MAX_CORES: u32 = 65_536;
/// PCIe generations that exist or are specified (1 to 7).
pub const PCIE_GENS: std::ops::RangeInclusive<u32> = 1..=7;
/// Percent scores are 0..100; Codeforces is a rating, at most 4000.
pub const MAX_PERCENT: f64 = 100.0;
pub const MAX_RATING: f64 = 4000.0;
/// A quant keeps at most twice the unquantized score (measured retentions are 0.8 to 1.02).
pub const MAX_RETENTION: f64 = 2.0;

/// `v` is a finite rate within [MIN_GPU_RATE, MAX_GPU_RATE].
pub fn plausible_rate(v: f64) -> bool {
    (MIN_GPU_RATE..=MAX_GPU_RATE).contains(&v)
}

/// The checks the cross-reference pass does not make: quality numbers, hardware rates, and names
/// that two entries would share. `at(id)` locates an entry for the message.
pub fn check(c: &Catalog, at: &dyn Fn(&str) -> String) -> Result<(), String> {
    for m in &c.models {
        scores(m).map_err(|e| format!("{}: model '{}': {e}", at(&m.id), m.id))?;
    }
    for q in &c.quants {
        let r = [q.retention.small, q.retention.medium, q.retention.large];
        // 0 marks a size the quant is not made for (the MoE-only dynamic quants).
        if r.iter().any(|v| !(0.0..=MAX_RETENTION).contains(v)) {
            return Err(format!(
                "{}: quant '{}' has a retention outside 0..{MAX_RETENTION} ({}, {}, {})",
                at(&q.id),
                q.id,
                r[0],
                r[1],
                r[2]
            ));
        }
    }
    for g in &c.gpus {
        let rates = [
            Some(g.bandwidth_gb_s),
            Some(g.fp16_tflops),
            g.fp8_tflops,
            g.fp16_acc16_tflops,
            g.int8_tops,
        ];
        if !(MIN_GPU_GIB..=MAX_GPU_GIB).contains(&g.memory_gib)
            || rates.iter().flatten().any(|v| !plausible_rate(*v))
        {
            return Err(format!(
                "{}: gpu '{}' has an implausible value (memory outside 1 MiB..{MAX_GPU_GIB} GiB, or a rate outside {MIN_GPU_RATE}..{MAX_GPU_RATE})",
                at(&g.id),
                g.id
            ));
        }
        if g.pcie_gen.is_some_and(|p| !PCIE_GENS.contains(&p)) {
            return Err(format!(
                "{}: gpu '{}' has pcie_gen {:?} (1 to 7)",
                at(&g.id),
                g.id,
                g.pcie_gen.unwrap_or_default()
            ));
        }
    }
    for t in &c.tasks {
        let ok = (0.0..=MAX_RATING).contains(&t.min_score)
            && t.latency_ms > 0.0
            && t.latency_ms <= 1e9
            && t.min_speed > 0.0
            && t.min_speed <= 1e6;
        if !ok {
            return Err(format!(
                "{}: task '{}' needs min_score 0..{MAX_RATING}, latency_ms 0..1e9 and min_speed 0..1e6",
                at(&t.id),
                t.id
            ));
        }
    }
    for t in &c.tiers {
        if t.usd_per_hour > MAX_GPU_RATE {
            return Err(format!(
                "{}: tier '{}' costs more than ${MAX_GPU_RATE}/h",
                at(&t.id),
                t.id
            ));
        }
    }
    names(c, at)
}

fn scores(m: &Model) -> Result<(), String> {
    let s = &m.scores;
    let named = [
        ("aime_2024", s.aime_2024, MAX_PERCENT),
        ("math_500", s.math_500, MAX_PERCENT),
        ("gpqa_diamond", s.gpqa_diamond, MAX_PERCENT),
        ("livecodebench", s.livecodebench, MAX_PERCENT),
        ("codeforces", s.codeforces, MAX_RATING),
    ];
    for (name, v, max) in named {
        if let Some(v) = v
            && !(0.0..=max).contains(&v)
        {
            return Err(format!("score {name} = {v} is outside 0..{max}"));
        }
    }
    Ok(())
}

/// Lookups take the first entry whose id or alias matches, so a name two entries share would make
/// one of them unreachable (an override's alias "h100" would never be found).
fn names(c: &Catalog, at: &dyn Fn(&str) -> String) -> Result<(), String> {
    fn table<'a>(
        kind: &str,
        entries: impl Iterator<Item = (&'a String, &'a Vec<String>)>,
        at: &dyn Fn(&str) -> String,
    ) -> Result<(), String> {
        let mut seen: std::collections::HashMap<String, &String> = Default::default();
        for (id, aliases) in entries {
            for name in std::iter::once(id).chain(aliases) {
                if name.chars().any(crate::terminal::is_unsafe) {
                    return Err(format!(
                        "{}: {kind} '{}': a name with a control or bidirectional character ('{}')",
                        at(id),
                        crate::terminal::escape(id),
                        crate::terminal::escape(name)
                    ));
                }
                let key = name.trim().to_lowercase().replace('_', "-");
                match seen.get(&key) {
                    Some(owner) if *owner != id => {
                        return Err(format!(
                            "{}: {kind} '{id}': the name '{name}' already names {kind} '{owner}'",
                            at(id)
                        ));
                    }
                    _ => {
                        seen.insert(key, id);
                    }
                }
            }
        }
        Ok(())
    }
    let shown = c
        .models
        .iter()
        .map(|m| (&m.id, std::iter::once(&m.name).collect::<Vec<_>>()))
        .chain(c.gpus.iter().map(|g| {
            (
                &g.id,
                std::iter::once(&g.name).chain(&g.nvml_names).collect(),
            )
        }));
    for (id, names) in shown {
        if let Some(bad) = names
            .iter()
            .find(|n| n.chars().any(crate::terminal::is_unsafe))
        {
            return Err(format!(
                "{}: '{}': a name with a control or bidirectional character ('{}')",
                at(id),
                crate::terminal::escape(id),
                crate::terminal::escape(bad)
            ));
        }
    }
    table("model", c.models.iter().map(|m| (&m.id, &m.aliases)), at)?;
    table("quant", c.quants.iter().map(|q| (&q.id, &q.aliases)), at)?;
    table("engine", c.engines.iter().map(|e| (&e.id, &e.aliases)), at)?;
    table("gpu", c.gpus.iter().map(|g| (&g.id, &g.aliases)), at)?;
    table("task", c.tasks.iter().map(|t| (&t.id, &t.aliases)), at)
}

/// An id given twice in one file: the second would silently replace the first.
pub fn duplicate_id<'a>(ids: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().find(|id| !seen.insert(id.as_str()))
}
