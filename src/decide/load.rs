//! The traffic a deployment is judged under, and what it does to the deployment's numbers: the
//! serving model's estimate at that load (`serving::estimate`), whose means replace the idle-server
//! TTFT, TPOT, speed, throughput and time to answer, and whose percentiles the latency
//! constraints hold at.

use crate::catalog::ParamBreakdown;
use crate::error::{Error, Result};
use crate::hardware::Hardware;
use crate::perf::Performance;
use crate::serving::{self, Lengths, Load, LoadEstimate, LoadRequest, SchedulerOverrides, Span};
use crate::sizing::weights::WeightBytes;
use crate::sizing::{Deployment, MemoryPlan, Workload};

/// The percentile latency constraints hold at unless `--percentile` says otherwise.
pub const DEFAULT_PERCENTILE: f64 = 90.0;

/// Load as the user stated it; lengths not given as spreads come from each workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Traffic {
    pub load: Load,
    pub prompt: Option<Span>,
    pub output: Option<Span>,
    /// Percent, in (0, 100).
    pub percentile: f64,
}

impl Traffic {
    /// The traffic the flags describe, or `None` when they describe none (one request on an idle
    /// server, the numbers r1pick gave before it modelled load). `concurrency` is the flag's value.
    pub fn from_flags(
        rate: Option<f64>,
        concurrency: Option<u32>,
        prompt: Option<Span>,
        output: Option<Span>,
        percentile: Option<f64>,
    ) -> Result<Option<Traffic>> {
        let spread = [prompt, output].iter().flatten().any(|s| !s.is_fixed());
        let load = match (rate, concurrency) {
            (Some(r), Some(n)) => {
                return Err(Error::input(format!(
                    "--rate {} and --concurrency {n} are two load shapes: give --rate (arrivals per second) or --concurrency (requests in flight), not both",
                    rate_label(r)
                )));
            }
            (Some(per_second), None) => Load::Rate { per_second },
            (None, Some(requests)) => Load::Concurrency { requests },
            (None, None) if spread || percentile.is_some() => Load::Concurrency { requests: 1 },
            (None, None) => return Ok(None),
        };
        let t = Traffic {
            load,
            prompt,
            output,
            percentile: percentile.unwrap_or(DEFAULT_PERCENTILE),
        };
        // The range checks of the serving model, before anything is sized.
        serving::validate(&t.request(&Workload {
            context: 1,
            prompt: 1,
            output: 1,
            concurrency: 1,
        }))?;
        Ok(Some(t))
    }

    /// Prompt and output lengths for `w`: the spreads given, else the workload's fixed lengths.
    pub fn lengths(&self, w: &Workload) -> Lengths {
        Lengths {
            prompt: self.prompt.unwrap_or(Span::fixed(w.prompt)),
            output: self.output.unwrap_or(Span::fixed(w.output)),
        }
    }

    fn request(&self, w: &Workload) -> LoadRequest<'static> {
        LoadRequest {
            load: self.load,
            lengths: self.lengths(w),
            scheduler: SchedulerOverrides::default(),
        }
    }

    /// "rate 5/s, p90" or "concurrency 64, p90": what a constraint under load holds at.
    pub fn label(&self) -> String {
        format!(
            "{}, {}",
            load_label(&self.load),
            percentile_label(self.percentile)
        )
    }
}

/// "rate 5/s" or "concurrency 64".
pub fn load_label(load: &Load) -> String {
    match load {
        Load::Concurrency { requests } => format!("concurrency {requests}"),
        Load::Rate { per_second } => format!("rate {}", rate_label(*per_second)),
    }
}

/// A rate as people write it: "5/s", "0.25/s".
pub fn rate_label(per_second: f64) -> String {
    let r = crate::quantity::round(per_second, 3);
    format!("{r}/s")
}

/// "p90", "p99.9".
pub fn percentile_label(pct: f64) -> String {
    format!("p{}", crate::quantity::round(pct, 3))
}

/// A deployment's estimate under load, with the percentile its constraints are read at.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub estimate: LoadEstimate,
    /// Percent, in (0, 100).
    pub percentile: f64,
}

/// The deployment as launched. A paged engine's memory is planned for one request under load
/// ([`memory_basis`]), but its server must admit what the serving model ran: under a rate the
/// most it admits (`max_batch`), under a concurrency its requests in flight up to that; idle, the
/// workload as stated.
pub fn launched<'a>(d: &Deployment<'a>, load: Option<&Loaded>) -> Deployment<'a> {
    let concurrency = match load.map(|l| (l.estimate.load, l.estimate.max_batch)) {
        Some((Load::Rate { .. }, batch)) => batch.max(1),
        // Never more than the server admits: a slot engine's slots are what its memory holds.
        Some((Load::Concurrency { requests }, batch)) => requests.min(batch).max(1),
        None => return *d,
    };
    Deployment {
        workload: Workload {
            concurrency,
            ..d.workload
        },
        ..*d
    }
}

/// The deployment whose memory is checked under load. A paged KV pool (vLLM, SGLang, TRT-LLM)
/// admits the sequences it holds and queues the rest, so under load the memory fits when one
/// request of the full context does, and the pool then bounds the batch (the serving model's
/// `max_batch`, reported with the fit). llama.cpp and Ollama allocate context × slots at start,
/// and a single-request engine runs one: their plan keeps the workload as stated.
pub fn memory_basis<'a>(d: &Deployment<'a>, under_load: bool) -> Deployment<'a> {
    let pooled = serving::config::engine(&d.engine.id).is_ok_and(|p| {
        !matches!(
            p.kv_rule,
            crate::sizing::capacity::KvRule::Slots | crate::sizing::capacity::KvRule::Single
        )
    });
    if under_load && pooled {
        Deployment {
            workload: Workload {
                concurrency: 1,
                ..d.workload
            },
            ..*d
        }
    } else {
        *d
    }
}

/// `d` under `t`: the serving model's estimate.
pub fn under_load(d: &Deployment, hw: &Hardware, mem: &MemoryPlan, t: &Traffic) -> Result<Loaded> {
    under_load_with(
        d,
        hw,
        mem,
        t,
        &WeightBytes::of(d.model, d.quant),
        &ParamBreakdown::of(d.model),
    )
}

/// [`under_load`] with the deployment's weights and parameters already counted (a search has
/// them for every GPU count it tries).
pub fn under_load_with(
    d: &Deployment,
    hw: &Hardware,
    mem: &MemoryPlan,
    t: &Traffic,
    weights: &WeightBytes,
    params: &ParamBreakdown,
) -> Result<Loaded> {
    Ok(Loaded {
        estimate: serving::estimate_with(d, hw, mem, &t.request(&d.workload), weights, params)?,
        percentile: t.percentile,
    })
}

/// The idle-server numbers replaced by the means under load. An unsustainable rate has no
/// latencies: TTFT, TPOT and time to answer stay the idle server's, and the estimate says so.
pub fn apply(p: &mut Performance, l: &Loaded) {
    let e = &l.estimate;
    p.aggregate_tokens_per_s = e.output_tokens_per_s;
    if let (Some(ttft), Some(tpot), Some(e2e)) = (e.ttft_ms, e.tpot_ms, e.e2e_ms) {
        p.ttft_ms = ttft.mean;
        p.tpot_ms = tpot.mean;
        p.decode_tokens_per_s = 1000.0 / tpot.mean.max(1e-9);
        p.time_to_answer_ms = e2e.mean;
    }
}
