//! `r1pick finetune`: the `r1pick.finetune/v1` document and its table.

use schemars::JsonSchema;
use serde::Serialize;

use super::deployment::HardwareSummary;
use super::{align_right, gib, table};
use crate::perf::cost::CostBasis;
use crate::training::settings::FrameworkSetting;
use crate::training::{
    Checkpointing, Method, Optimizer, Sharding, Targets, TrainMemory, TrainSpeed, sharding_id,
};

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FinetuneDocument {
    pub schema: String,
    pub model: String,
    pub method: Method,
    pub setup: SetupReport,
    pub hardware: HardwareSummary,
    pub memory: TrainMemory,
    pub speed: TrainSpeed,
    /// With `--max-seq`: the longest sequence that fits.
    pub max_seq: Option<MaxSeqReport>,
    /// With `--tokens` or `--dataset-tokens`: how long the run takes.
    pub time: Option<TimeReport>,
    /// Null when nothing prices the hardware.
    pub cost: Option<TrainCost>,
    /// The frameworks' own settings that reproduce this plan.
    pub frameworks: Vec<FrameworkSetting>,
    /// With `--cloud`: the search over priced GPU types and counts that chose this plan.
    pub cloud: Option<CloudSearch>,
    /// Assumptions and their sources.
    pub basis: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SetupReport {
    /// LoRA rank; null for full fine-tuning.
    pub lora_rank: Option<u32>,
    pub lora_targets: Option<Targets>,
    /// peft module names of the adapted projections.
    pub target_modules: Vec<String>,
    pub optimizer: Optimizer,
    pub optimizer_in_backward: bool,
    pub seq: u32,
    pub micro_batch: u32,
    pub checkpointing: Checkpointing,
    pub sharding: Sharding,
    pub gpus: u32,
    pub offload_optimizer: bool,
    pub framework: String,
    /// Base weights as stored on the GPU: bf16, fp16 or nf4.
    pub base_precision: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MaxSeqReport {
    /// Longest sequence memory allows (may exceed the model's context); null when none fits.
    pub memory_tokens: Option<u32>,
    pub max_context: u32,
    /// The smaller of the two: the `seq` this plan was sized at.
    pub tokens: Option<u32>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TimeReport {
    pub tokens: f64,
    pub hours: f64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TrainCost {
    pub usd_per_hour: f64,
    /// Cost of the run (with `--tokens` / `--dataset-tokens`).
    pub usd_total: Option<f64>,
    pub usd_per_million_tokens: f64,
    pub basis: CostBasis,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CloudSearch {
    /// GPU type × count × sharding combinations sized.
    pub evaluated: u32,
    /// GPU types on which the run fits (each at the fewest GPUs that hold it).
    pub fitting: u32,
    /// The cheapest of those per trained token, the choice first.
    pub cheapest: Vec<CloudOption>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CloudOption {
    pub gpu: String,
    pub gpus: u32,
    pub sharding: Sharding,
    pub per_gpu_bytes: u64,
    pub tokens_per_s: f64,
    pub usd_per_hour: f64,
    pub usd_per_million_tokens: f64,
    pub hours: Option<f64>,
    pub usd_total: Option<f64>,
}

impl CloudOption {
    pub fn of(d: &FinetuneDocument) -> Self {
        CloudOption {
            gpu: d
                .hardware
                .gpus
                .first()
                .and_then(|g| g.id.clone())
                .unwrap_or_default(),
            gpus: d.setup.gpus,
            sharding: d.setup.sharding,
            per_gpu_bytes: d.memory.total_bytes,
            tokens_per_s: d.speed.tokens_per_s,
            usd_per_hour: d.cost.as_ref().map_or(0.0, |c| c.usd_per_hour),
            usd_per_million_tokens: d.cost.as_ref().map_or(0.0, |c| c.usd_per_million_tokens),
            hours: d.time.as_ref().map(|t| t.hours),
            usd_total: d.cost.as_ref().and_then(|c| c.usd_total),
        }
    }
}

fn method_label(m: Method) -> &'static str {
    match m {
        Method::Lora => "LoRA",
        Method::Qlora => "QLoRA",
        Method::Full => "full fine-tuning",
    }
}

/// The table for people: memory per GPU, then speed, time and the frameworks' settings.
impl super::Render for FinetuneDocument {
    fn table(&self) -> String {
        finetune_table(self)
    }
}

fn finetune_table(d: &FinetuneDocument) -> String {
    let m = &d.memory;
    let s = &d.setup;
    let gpu = d
        .hardware
        .gpus
        .first()
        .map(|g| g.name.as_str())
        .unwrap_or("no GPU");
    let adapters = match (s.lora_rank, s.lora_targets) {
        (Some(r), Some(t)) => format!(
            " r={r} on {} projections",
            match t {
                Targets::Attn => "attention",
                Targets::Mlp => "MLP",
                Targets::All => "all",
            }
        ),
        _ => String::new(),
    };
    let mut out = format!(
        "{} {}{adapters} · seq {} × micro-batch {} on {} × {gpu} ({}, {})\n",
        d.model,
        method_label(d.method),
        s.seq,
        s.micro_batch,
        s.gpus,
        match s.sharding {
            Sharding::None => "single GPU",
            other => sharding_id(other),
        },
        s.framework
    );
    if let Some(cloud) = &d.cloud {
        out.push_str(&cloud_table(cloud));
    }
    let mut t = table(&["per GPU", "bytes"]);
    let rows: [(&str, u64); 9] = [
        ("base weights", m.weights_bytes),
        ("adapters", m.adapter_bytes),
        ("fp32 master weights", m.master_weights_bytes),
        ("gradients", m.gradient_bytes),
        ("optimizer state", m.optimizer_bytes),
        ("activations", m.activation_bytes),
        ("logits", m.logits_bytes),
        ("gathered / dequantized weights", m.working_weights_bytes),
        ("CUDA context and workspaces", m.overhead_bytes),
    ];
    for (name, bytes) in rows.iter().filter(|(_, b)| *b > 0) {
        t.add_row(vec![name.to_string(), gib(*bytes)]);
    }
    t.add_row(vec!["total".into(), gib(m.total_bytes)]);
    t.add_row(vec!["capacity".into(), gib(m.capacity_bytes)]);
    align_right(&mut t, &[1]);
    out.push_str(&format!("{t}\n"));
    out.push_str(&if m.fits {
        format!(
            "fits: yes ({} free per GPU)\n",
            gib(m.capacity_bytes - m.total_bytes)
        )
    } else if m.total_bytes > m.capacity_bytes {
        format!("fits: NO (short by {} per GPU)\n", gib(m.shortfall_bytes))
    } else {
        format!(
            "fits: NO (host RAM: needs {}, has {})\n",
            gib(m.host_bytes),
            gib(m.host_capacity_bytes)
        )
    });
    if m.paged_bytes > 0 {
        out.push_str(&format!(
            "paged optimizer state: {} per GPU (unified memory, evicted to host RAM when the GPU is full)\n",
            gib(m.paged_bytes)
        ));
    }
    if m.host_bytes > 0 {
        out.push_str(&format!("host RAM: {}\n", gib(m.host_bytes)));
    }
    out.push_str(&format!(
        "trainable: {} of {} parameters ({:.3}%)\n",
        thousands(m.trainable_params),
        thousands(m.total_params),
        m.trainable_params as f64 / m.total_params as f64 * 100.0
    ));
    if let Some(ms) = &d.max_seq {
        out.push_str(&match (ms.memory_tokens, ms.tokens) {
            (Some(mem), Some(t)) if mem > t => format!(
                "max seq: {t} tokens (memory allows {mem}; the model's context is {})\n",
                ms.max_context
            ),
            (Some(_), Some(t)) => format!("max seq: {t} tokens at micro-batch {}\n", s.micro_batch),
            _ => "max seq: not even one token fits\n".into(),
        });
    }
    let sp = &d.speed;
    out.push_str(&format!(
        "speed: {:.0} tokens/s ({:.1} GFLOPs per token, MFU {:.2} of {:.0} TFLOPS × {})\n",
        sp.tokens_per_s,
        sp.flops_per_token / 1e9,
        sp.mfu * sp.dequant_efficiency,
        sp.gpu_tflops,
        s.gpus
    ));
    if let Some(time) = &d.time {
        out.push_str(&format!(
            "time: {:.1} h for {} tokens\n",
            time.hours,
            decimal_tokens(time.tokens)
        ));
    }
    if let Some(c) = &d.cost {
        let total = c
            .usd_total
            .map(|u| format!(", ${u:.2} for the run"))
            .unwrap_or_default();
        out.push_str(&format!(
            "cost: ${:.2}/h, ${:.2} per million tokens{total}\n",
            c.usd_per_hour, c.usd_per_million_tokens
        ));
    }
    out.push_str("reproduce:\n");
    for f in &d.frameworks {
        out.push_str(&format!("  {}: {}\n", f.framework, f.setting));
    }
    out
}

/// The cheapest GPU options `--cloud` found.
fn cloud_table(c: &CloudSearch) -> String {
    let mut t = table(&[
        "GPUs",
        "sharding",
        "per GPU",
        "tokens/s",
        "$/h",
        "$/1M tokens",
        "run",
    ]);
    for o in &c.cheapest {
        t.add_row(vec![
            format!("{} × {}", o.gpus, o.gpu),
            sharding_id(o.sharding).into(),
            gib(o.per_gpu_bytes),
            format!("{:.0}", o.tokens_per_s),
            format!("{:.2}", o.usd_per_hour),
            format!("{:.2}", o.usd_per_million_tokens),
            match (o.hours, o.usd_total) {
                (Some(h), Some(u)) => format!("{h:.1} h, ${u:.0}"),
                _ => "-".into(),
            },
        ]);
    }
    align_right(&mut t, &[2, 3, 4, 5, 6]);
    format!(
        "cheapest of {} priced GPU types that fit, each at the fewest GPUs that hold the run ({} plans sized):\n{t}\n",
        c.fitting, c.evaluated
    )
}

/// 41943040 → "41,943,040".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// 2.5e9 → "2.5B", 6e7 → "60M": dataset sizes are quoted in decimal units.
fn decimal_tokens(t: f64) -> String {
    if t >= 1e9 {
        format!("{}B", trim(t / 1e9))
    } else if t >= 1e6 {
        format!("{}M", trim(t / 1e6))
    } else {
        format!("{t:.0}")
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
