//! Serving under load: TTFT, TPOT and throughput of a continuously batching server at a fixed
//! concurrency (closed loop) or a Poisson request rate (open loop), with percentiles.
//!
//! Pure: a function of the deployment, its memory plan, the hardware and the load. The pieces:
//! * `step` — the time of one engine step (decode sequences + prefill tokens), from `perf`;
//! * `config` — each engine's scheduler defaults (token budget, sequence limit, policy) and KV rule;
//! * `flow` — the steady state when arrivals are spread (Poisson, or varying lengths);
//! * `waves` — fixed-length closed-loop traffic on a prefill-first scheduler, which runs in waves.
//!
//! Admission is bounded by KV capacity (`sizing::capacity`) and the sequence limit; what does not
//! fit queues. A rate at or above the highest sustainable one is reported as unsustainable, with no
//! latency figures.

pub mod config;
pub mod flow;
pub mod step;
pub mod waves;

use schemars::JsonSchema;
use serde::Serialize;

use crate::catalog::ParamBreakdown;
use crate::catalog::engine::Batching;
use crate::error::{Error, Result};
use crate::hardware::Hardware;
use crate::sizing::capacity::{KvCapacity, KvRule, Profile, kv_capacity};
use crate::sizing::weights::WeightBytes;
use crate::sizing::{Deployment, MemoryPlan};
pub use config::{Scheduler, SchedulerOverrides};
use step::StepModel;

/// Highest request rate accepted, per second (a million requests a second is no single deployment).
pub const MAX_RATE_PER_S: f64 = 1e6;
/// Most concurrent requests accepted.
pub const MAX_CONCURRENCY: u32 = 1_000_000;

/// The traffic a deployment serves.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Load {
    /// Closed loop: `requests` in flight, a new one as soon as one finishes.
    Concurrency { requests: u32 },
    /// Open loop: Poisson arrivals at `per_second`.
    Rate { per_second: f64 },
}

/// A token count that is fixed (`min == max`) or spread uniformly over `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Span {
    pub min: u32,
    pub max: u32,
}

impl Span {
    pub fn fixed(n: u32) -> Self {
        Span { min: n, max: n }
    }

    pub fn mean(&self) -> f64 {
        (f64::from(self.min) + f64::from(self.max)) / 2.0
    }

    /// The `q` quantile of the uniform spread.
    pub fn at(&self, q: f64) -> f64 {
        f64::from(self.min) + q * (f64::from(self.max) - f64::from(self.min))
    }

    pub fn is_fixed(&self) -> bool {
        self.min == self.max
    }

    /// Squared coefficient of variation of the uniform spread.
    fn cv2(&self) -> f64 {
        let width = f64::from(self.max) - f64::from(self.min);
        width * width / 12.0 / self.mean().powi(2).max(1.0)
    }
}

/// Prompt and output lengths of the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Lengths {
    pub prompt: Span,
    pub output: Span,
}

/// What to estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadRequest<'a> {
    pub load: Load,
    pub lengths: Lengths,
    pub scheduler: SchedulerOverrides<'a>,
}

/// Mean and percentiles of one latency, ms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct Percentiles {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

impl Percentiles {
    /// The `pct` percentile (0 < pct < 100). p50, p90 and p99 are exact; between and beyond them
    /// the value is linear in ln(1/(1 − q)), the scale on which the model's exponential waits
    /// are straight lines; never below zero.
    pub fn at(&self, pct: f64) -> f64 {
        match pct {
            50.0 => return self.p50,
            90.0 => return self.p90,
            99.0 => return self.p99,
            _ => {}
        }
        let z = |q: f64| (1.0 / (1.0 - q)).ln();
        let q = (pct / 100.0).clamp(1e-6, 1.0 - 1e-6);
        let (a, b) = if q <= 0.9 {
            ((0.5, self.p50), (0.9, self.p90))
        } else {
            ((0.9, self.p90), (0.99, self.p99))
        };
        let t = (z(q) - z(a.0)) / (z(b.0) - z(a.0));
        (a.1 + t * (b.1 - a.1)).max(0.0)
    }
}

/// What bounds the deployment at this load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Limit {
    Compute,
    MemoryBandwidth,
    KvCapacity,
    SequenceLimit,
    /// Requests arrive faster than they are served.
    Queue,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LoadEstimate {
    pub load: Load,
    /// False when the rate is at or above `max_rate_per_s`: latencies grow without bound.
    pub sustainable: bool,
    /// Highest request rate the deployment sustains with these lengths, per second.
    pub max_rate_per_s: f64,
    /// Fixed-length closed-loop traffic on a prefill-first scheduler runs in waves.
    pub waves: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot_ms: Option<Percentiles>,
    /// Gaps between consecutive tokens: most are pure decode steps, a share carry a prefill chunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub itl_ms: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e2e_ms: Option<Percentiles>,
    pub requests_per_s: f64,
    pub output_tokens_per_s: f64,
    pub total_tokens_per_s: f64,
    /// Mean sequences running (prefilling or decoding).
    pub batch: f64,
    /// Sequences the KV cache and the sequence limit admit at once.
    pub max_batch: u32,
    /// Request throughput over the highest sustainable one.
    pub utilization: f64,
    pub limit: Limit,
    pub scheduler: Scheduler,
    pub kv: KvCapacity,
    /// KV tokens one running sequence holds on average (its prompt plus half its answer, the
    /// whole answer where admission reserves it, a whole slot on llama.cpp).
    pub tokens_per_seq: f64,
}

impl LoadEstimate {
    /// The share of the KV pool the running batch holds.
    pub fn kv_use(&self) -> f64 {
        (self.batch * self.tokens_per_seq / (self.kv.tokens.max(1) as f64)).min(1.0)
    }
}

const Z90: f64 = 1.281_551_6;
const Z99: f64 = 2.326_347_9;

/// One-line refusals of loads that cannot be estimated (exit 2 at the CLI).
pub fn validate(req: &LoadRequest) -> Result<()> {
    match req.load {
        Load::Concurrency { requests } if requests == 0 || requests > MAX_CONCURRENCY => {
            return Err(Error::input(format!(
                "concurrency {requests} is out of range: use 1..={MAX_CONCURRENCY}"
            )));
        }
        Load::Rate { per_second } if !(per_second > 0.0 && per_second <= MAX_RATE_PER_S) => {
            return Err(Error::input(format!(
                "rate {per_second}/s is out of range: use a positive rate up to {MAX_RATE_PER_S}/s, e.g. 2/s, 120/min, 100k/day"
            )));
        }
        _ => {}
    }
    for (what, s) in [
        ("prompt", req.lengths.prompt),
        ("output", req.lengths.output),
    ] {
        if s.min == 0 || s.min > s.max {
            return Err(Error::input(format!(
                "{what} length {}..{} is not a spread: use N or MIN..MAX with 1 ≤ MIN ≤ MAX",
                s.min, s.max
            )));
        }
    }
    Ok(())
}

/// Nearest-rank quantile of sorted values.
fn rank(sorted: &[f64], q: f64) -> f64 {
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn percentiles(mut v: Vec<f64>) -> Percentiles {
    v.sort_by(f64::total_cmp);
    Percentiles {
        mean: v.iter().sum::<f64>() / v.len().max(1) as f64,
        p50: rank(&v, 0.5),
        p90: rank(&v, 0.9),
        p99: rank(&v, 0.99),
    }
}

/// Quantile of a wait that is 0 with probability 1 − `p` and exponential otherwise, mean `mean`.
fn wait_at(mean: f64, p: f64, q: f64) -> f64 {
    if mean <= 0.0 || p <= 0.0 || 1.0 - q >= p {
        return 0.0;
    }
    mean / p * (p / (1.0 - q)).ln()
}

/// The engine's resolved scheduler for `d` on `hw` (its current release unless pinned).
pub fn scheduler(
    d: &Deployment,
    hw: &Hardware,
    mem: &MemoryPlan,
    pins: &SchedulerOverrides,
) -> Result<Scheduler> {
    let profile = config::engine(&d.engine.id)?;
    let large = match hw.gpus.first().filter(|_| mem.placement.gpus > 0) {
        Some(g) => config::large_gpu(g.memory_bytes as f64, &g.name),
        None => false,
    };
    let mut s = profile.resolve(pins, large, d.workload.context, d.workload.concurrency);
    if d.engine.batching == Batching::Single {
        s.max_seqs = 1;
    }
    Ok(s)
}

/// KV capacity of `d` under its engine's memory rule and default scheduler (what `size` and
/// `estimate` report as `memory.kv_capacity_tokens`, `max_concurrency`, `max_context`).
pub fn kv_capacity_of(d: &Deployment, hw: &Hardware, mem: &MemoryPlan) -> Result<KvCapacity> {
    let profile = config::engine(&d.engine.id)?;
    let s = scheduler(d, hw, mem, &SchedulerOverrides::default())?;
    Ok(kv_capacity(
        d,
        hw,
        mem,
        &profile.kv_rule,
        Profile {
            tokens: s.token_budget,
            seqs: s.max_seqs,
        },
        profile.non_torch_mib,
    ))
}

/// Estimate `d` (planned as `mem` on `hw`) under `req`.
pub fn estimate(
    d: &Deployment,
    hw: &Hardware,
    mem: &MemoryPlan,
    req: &LoadRequest,
) -> Result<LoadEstimate> {
    let w = WeightBytes::of(d.model, d.quant);
    estimate_with(d, hw, mem, req, &w, &ParamBreakdown::of(d.model))
}

/// [`estimate`] from the deployment's weights and parameters, already counted.
pub fn estimate_with(
    d: &Deployment,
    hw: &Hardware,
    mem: &MemoryPlan,
    req: &LoadRequest,
    weights: &WeightBytes,
    params: &ParamBreakdown,
) -> Result<LoadEstimate> {
    validate(req)?;
    Server::with_weights(d, hw, mem, req.lengths, &req.scheduler, weights, params)?.at(req.load)
}

/// A deployment with its lengths, prepared for loads: the scheduler, KV capacity, step model and
/// saturated flow do not depend on the load, so a search that tries one deployment at several
/// loads (the fleet planner's replica counts) builds them once. [`Server::at`] is then exactly
/// what [`estimate`] gives at that load.
#[derive(Debug, Clone)]
pub struct Server {
    lengths: Lengths,
    scheduler: Scheduler,
    kv: KvCapacity,
    step: StepModel,
    /// KV tokens a running sequence holds, on average (see [`LoadEstimate::tokens_per_seq`]).
    tokens_per_seq: f64,
    /// Sequences of the longest request a wave admits.
    kv_seqs_full: u32,
    max_batch: u32,
    cap_limit: Limit,
    saturated: flow::Flow,
}

impl Server {
    /// Prepare `d` (planned as `mem` on `hw`) for requests of `lengths`; `Err` when the lengths
    /// are out of range or a request does not fit the deployment.
    pub fn new(
        d: &Deployment,
        hw: &Hardware,
        mem: &MemoryPlan,
        lengths: Lengths,
        pins: &SchedulerOverrides,
    ) -> Result<Server> {
        let w = WeightBytes::of(d.model, d.quant);
        let p = ParamBreakdown::of(d.model);
        Self::with_weights(d, hw, mem, lengths, pins, &w, &p)
    }

    /// [`Server::new`] from the deployment's weights and parameters, already counted.
    pub fn with_weights(
        d: &Deployment,
        hw: &Hardware,
        mem: &MemoryPlan,
        lengths: Lengths,
        pins: &SchedulerOverrides,
        weights: &WeightBytes,
        params: &ParamBreakdown,
    ) -> Result<Server> {
        validate(&LoadRequest {
            load: Load::Concurrency { requests: 1 },
            lengths,
            scheduler: *pins,
        })?;
        let profile = config::engine(&d.engine.id)?;
        let scheduler = scheduler(d, hw, mem, pins)?;
        let kv = kv_capacity(
            d,
            hw,
            mem,
            &profile.kv_rule,
            Profile {
                tokens: scheduler.token_budget,
                seqs: scheduler.max_seqs,
            },
            profile.non_torch_mib,
        );
        // Each DP-attention rank runs its own scheduler with the engine's limits (TRT-LLM's
        // max_batch_size 128 per rank for 1024 in flight on 8 ranks, reference/serving.md B3): the
        // deployment's sequence limit and token budget are the ranks' together.
        let dp = d.parallel.dp();
        let mut scheduler = scheduler;
        scheduler.max_seqs = scheduler.max_seqs.saturating_mul(dp);
        scheduler.token_budget = scheduler.token_budget.saturating_mul(dp);
        let (p, o) = (lengths.prompt, lengths.output);
        let (isl, osl) = (p.mean(), o.mean());
        let longest = u64::from(p.max) + u64::from(o.max);
        let per_seq_limit = match profile.kv_rule {
            KvRule::Slots => u64::from(d.workload.context),
            _ => kv.tokens,
        };
        if longest > per_seq_limit {
            return Err(Error::input(format!(
                "a request of up to {longest} tokens (prompt + output) does not fit: the deployment holds {per_seq_limit} tokens per sequence"
            )));
        }
        let occupancy = isl
            + if scheduler.reserves_output {
                f64::from(o.max)
            } else {
                osl / 2.0
            };
        let kv_seqs = match profile.kv_rule {
            KvRule::Slots => d.workload.concurrency,
            _ => u32::try_from((kv.tokens as f64 / occupancy).floor() as u64).unwrap_or(u32::MAX),
        }
        .max(1);
        let max_batch = kv_seqs.min(scheduler.max_seqs).max(1);
        let cap_limit = if kv_seqs < scheduler.max_seqs {
            Limit::KvCapacity
        } else {
            Limit::SequenceLimit
        };
        let k = config::data().model;
        let step = StepModel::with_weights(d, hw, mem, &k, weights, params)
            .with_rank_budget(f64::from(scheduler.token_budget / dp.max(1)));
        let budget = f64::from(scheduler.token_budget);
        let saturated = flow::flow(
            &step,
            budget,
            isl,
            osl,
            f64::from(max_batch),
            scheduler.prefill_first,
            p.cv2(),
            None,
        );
        Ok(Server {
            lengths,
            scheduler,
            kv_seqs_full: kv_seqs_full(&kv, &profile.kv_rule, d, longest, scheduler),
            tokens_per_seq: match profile.kv_rule {
                KvRule::Slots => f64::from(d.workload.context),
                _ => occupancy,
            },
            kv,
            step,
            max_batch,
            cap_limit,
            saturated,
        })
    }

    /// Highest request rate the deployment sustains with these lengths, per second.
    pub fn max_rate_per_s(&self) -> f64 {
        self.saturated.lambda * 1e3
    }

    /// The estimate under `load`.
    pub fn at(&self, load: Load) -> Result<LoadEstimate> {
        validate(&LoadRequest {
            load,
            lengths: self.lengths,
            scheduler: SchedulerOverrides::default(),
        })?;
        let (p, o) = (self.lengths.prompt, self.lengths.output);
        let (isl, osl) = (p.mean(), o.mean());
        let (scheduler, max_batch, cap_limit) = (self.scheduler, self.max_batch, self.cap_limit);
        let step = &self.step;
        let saturated = &self.saturated;
        let budget = f64::from(scheduler.token_budget);
        let separate = scheduler.prefill_first;
        let cv2 = p.cv2();
        let bound = |memory_bound: bool| {
            if memory_bound {
                Limit::MemoryBandwidth
            } else {
                Limit::Compute
            }
        };
        let tokens_per_request = (isl + osl, osl);
        let mut est = LoadEstimate {
            load,
            sustainable: true,
            max_rate_per_s: saturated.lambda * 1e3,
            waves: false,
            ttft_ms: None,
            tpot_ms: None,
            itl_ms: None,
            e2e_ms: None,
            requests_per_s: 0.0,
            output_tokens_per_s: 0.0,
            total_tokens_per_s: 0.0,
            batch: 0.0,
            max_batch,
            utilization: 0.0,
            limit: bound(saturated.memory_bound),
            scheduler,
            kv: self.kv,
            tokens_per_seq: self.tokens_per_seq,
        };
        let set_rate = |est: &mut LoadEstimate, per_ms: f64| {
            est.requests_per_s = per_ms * 1e3;
            est.output_tokens_per_s = est.requests_per_s * tokens_per_request.1;
            est.total_tokens_per_s = est.requests_per_s * tokens_per_request.0;
        };
        match load {
            Load::Concurrency { requests }
                if p.is_fixed() && o.is_fixed() && scheduler.prefill_first =>
            {
                let size = requests.min(self.kv_seqs_full);
                let w = waves::waves(
                    step,
                    budget,
                    scheduler.packs_prompts,
                    isl,
                    osl,
                    size,
                    requests,
                );
                // Queued clients wait whole waves: the fraction past the last full wave waits one more.
                let whole = w.queued_waves.floor();
                let extra = w.queued_waves - whole;
                let n = w.ttft.len();
                let mut ttft = Vec::with_capacity(n);
                let mut e2e = Vec::with_capacity(n);
                for (i, t) in w.ttft.iter().enumerate() {
                    let waits = whole + f64::from(u8::from((i as f64) < extra * n as f64));
                    ttft.push(t + waits * w.cycle);
                    e2e.push(w.cycle * (1.0 + waits));
                }
                est.waves = true;
                est.ttft_ms = Some(percentiles(ttft));
                est.itl_ms = Some(percentiles(w.tpot.clone()));
                est.tpot_ms = Some(percentiles(w.tpot));
                est.e2e_ms = Some(percentiles(e2e));
                set_rate(&mut est, f64::from(size) / w.cycle);
                est.batch = f64::from(size);
                est.limit = if requests > size {
                    cap_limit
                } else {
                    bound(w.memory_bound)
                };
            }
            Load::Concurrency { requests } => {
                let n = requests.min(max_batch);
                let f = flow::flow(step, budget, isl, osl, f64::from(n), separate, cv2, None);
                let queue = f64::from(requests - n) / f.lambda + f.step_wait;
                est.ttft_ms = Some(ttft_percentiles(&f, p, queue, 0.0, 0.0, f.interference));
                est.tpot_ms = Some(tpot_percentiles(&f, osl));
                est.itl_ms = Some(itl_percentiles(&f));
                est.e2e_ms = Some(e2e_percentiles(est.ttft_ms, &f, o));
                set_rate(&mut est, f.lambda);
                est.batch = f64::from(n);
                est.limit = if requests > max_batch {
                    cap_limit
                } else {
                    bound(f.memory_bound)
                };
            }
            Load::Rate { per_second } => {
                let target = per_second / 1e3;
                if target >= saturated.lambda {
                    est.sustainable = false;
                    est.limit = Limit::Queue;
                    set_rate(&mut est, saturated.lambda);
                    est.batch = f64::from(max_batch);
                    est.utilization = 1.0;
                    return Ok(est);
                }
                // The running set whose throughput is the arrival rate (λ rises with n).
                let (n, f) = running_set(target, f64::from(max_batch), saturated, |n, near| {
                    flow::flow(step, budget, isl, osl, n, separate, cv2, near)
                });
                // Poisson arrivals: M/G/1 on the prefill pipeline (plus the residual of the running step); admission to the `max_batch` slots
                // by Sakasegawa's M/G/c approximation (cs² from the spread of answer lengths).
                let rho_p = f.chunk_share.min(0.999);
                let prefill_wait = rho_p / (2.0 * (1.0 - rho_p)) * f.prefill * (1.0 + cv2);
                let rho = target / saturated.lambda;
                let c = f64::from(max_batch);
                let p_wait = rho.powf((2.0 * (c + 1.0)).sqrt() - 1.0).min(1.0);
                let admission = p_wait / (saturated.lambda * (1.0 - rho)) * (1.0 + o.cv2()) / 2.0;
                est.ttft_ms = Some(ttft_percentiles(
                    &flow::Flow { wait: 0.0, ..f },
                    p,
                    f.residual,
                    prefill_wait,
                    admission,
                    rho_p.max(p_wait),
                ));
                est.tpot_ms = Some(tpot_percentiles(&f, osl));
                est.itl_ms = Some(itl_percentiles(&f));
                est.e2e_ms = Some(e2e_percentiles(est.ttft_ms, &f, o));
                set_rate(&mut est, target);
                est.batch = n;
                est.utilization = rho;
                if n >= 0.95 * f64::from(max_batch) {
                    est.limit = cap_limit;
                } else {
                    est.limit = bound(f.memory_bound);
                }
                return Ok(est);
            }
        }
        est.utilization = (est.requests_per_s / est.max_rate_per_s).min(1.0);
        Ok(est)
    }
}

/// Steps of the bisection the running set is defined by: it is the midpoint of the interval of
/// width `max_batch` / 2³² that holds the crossing.
const STEPS: i32 = 32;
/// Relative width of the bracket the warm-started probes of [`running_set`] narrow to: wide
/// against their difference from the cold flow (about the fixed point's 1e-7 tolerance).
const WARM_WIDTH: f64 = 1e-5;
/// Probes of each phase of [`running_set`] at most (each needs under ten).
const MAX_PROBES: usize = 60;
/// Largest running-set limit whose bisection points k · max / 2³² are exact in an f64.
const EXACT_MAX: f64 = (1u64 << (f64::MANTISSA_DIGITS - STEPS as u32 - 1)) as f64;

/// The running set `n` in (0, `max`) whose flow completes `target` requests per ms, and that
/// flow: the midpoint of the bisection interval of width `max` / 2³² whose ends' λ bracket
/// `target` (λ rises with n, from 0 at n = 0 to `saturated.lambda` > `target` at `max`).
/// `probe(n, near)` is the flow at `n`, its fixed point started from `near` (a cheap flow, nearly
/// equal) or, with `None`, from the single stream: the flow [`Server::at`] reports.
///
/// The 32 cold probes of that bisection cost most of a search under `--rate`; the same interval
/// is found with fewer: regula falsi with the Illinois step (the end that stays twice has its
/// miss halved, which keeps the convergence superlinear) first brackets the crossing with
/// warm-started probes, then, with cold probes on the bisection's own grid of points, closes
/// on its interval. Where λ rises monotonically that is the interval the bisection ends in, so
/// the answer is the same bit for bit.
fn running_set(
    target: f64,
    max: f64,
    saturated: &flow::Flow,
    probe: impl Fn(f64, Option<&flow::Flow>) -> flow::Flow,
) -> (f64, flow::Flow) {
    if max > EXACT_MAX {
        return bisection(target, max, &probe);
    }
    let mut near = *saturated;
    let Some((lo, hi)) = illinois(
        (0.0, -target),
        (max, saturated.lambda - target),
        |n| {
            near = probe(n, Some(&near));
            near.lambda - target
        },
        |lo, hi, x| if x > lo && x < hi { x } else { 0.5 * (lo + hi) },
        |lo, hi| hi - lo <= WARM_WIDTH * hi,
    ) else {
        return bisection(target, max, &probe);
    };
    // On the grid k · step, k = 0..=2³²: cold probes at those points, as the bisection's.
    let grid = f64::from(2u32).powi(STEPS);
    let step = max / grid;
    let miss = |k: f64| {
        if k <= 0.0 {
            -target
        } else if k >= grid {
            saturated.lambda - target
        } else {
            probe(k * step, None).lambda - target
        }
    };
    // Ends just outside the warm bracket, widened until their cold misses bracket the crossing.
    let pad = (WARM_WIDTH * hi / step).ceil();
    let mut lo = (((lo / step).floor() - pad).max(0.0), 0.0);
    let mut hi = (((hi / step).ceil() + pad).min(grid), 0.0);
    let mut bracketed = false;
    for _ in 0..MAX_PROBES {
        (lo.1, hi.1) = (miss(lo.0), miss(hi.0));
        if lo.1 < 0.0 && hi.1 >= 0.0 {
            bracketed = true;
            break;
        }
        let width = hi.0 - lo.0;
        if lo.1 >= 0.0 {
            lo.0 = (lo.0 - 4.0 * width).max(0.0);
        }
        if hi.1 < 0.0 {
            hi.0 = (hi.0 + 4.0 * width).min(grid);
        }
    }
    let closed = bracketed
        .then(|| {
            illinois(
                lo,
                hi,
                miss,
                // A grid point strictly inside; a bracket of a few points bisects.
                |lo, hi, x| {
                    if hi - lo <= 4.0 {
                        (0.5 * (lo + hi)).floor()
                    } else {
                        x.round().clamp(lo + 1.0, hi - 1.0)
                    }
                },
                |lo, hi| hi - lo <= 1.0,
            )
        })
        .flatten();
    match closed {
        Some((lo, hi)) => {
            let n = 0.5 * (lo * step + hi * step);
            (n, probe(n, None))
        }
        None => bisection(target, max, &probe),
    }
}

/// The bisection [`running_set`] reproduces, probe by probe.
fn bisection(
    target: f64,
    max: f64,
    probe: &impl Fn(f64, Option<&flow::Flow>) -> flow::Flow,
) -> (f64, flow::Flow) {
    let (mut lo, mut hi) = (0.0, max);
    for _ in 0..STEPS {
        let mid = 0.5 * (lo + hi);
        if probe(mid, None).lambda < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let n = 0.5 * (lo + hi);
    (n, probe(n, None))
}

/// Regula falsi (Illinois) on an increasing `miss` over the bracket `lo`, `hi` (each a point and
/// its miss: < 0 at `lo`, ≥ 0 at `hi`, as the bisection's `λ < target` test splits them), each
/// interpolated point `x` moved by `place(lo, hi, x)`, until `done(lo, hi)`; the bracket's ends,
/// or `None` when it does not close within [`MAX_PROBES`].
fn illinois(
    mut lo: (f64, f64),
    mut hi: (f64, f64),
    mut miss: impl FnMut(f64) -> f64,
    place: impl Fn(f64, f64, f64) -> f64,
    done: impl Fn(f64, f64) -> bool,
) -> Option<(f64, f64)> {
    let mut moved = 0i8;
    for _ in 0..MAX_PROBES {
        if done(lo.0, hi.0) {
            return Some((lo.0, hi.0));
        }
        let x = place(lo.0, hi.0, (lo.0 * hi.1 - hi.0 * lo.1) / (hi.1 - lo.1));
        let m = miss(x);
        if m < 0.0 {
            lo = (x, m);
            if moved < 0 {
                hi.1 *= 0.5;
            }
            moved = -1;
        } else {
            hi = (x, m);
            if moved > 0 {
                lo.1 *= 0.5;
            }
            moved = 1;
        }
    }
    None
}

/// Sequences of the longest request a wave admits: KV for the whole request (the wave grows to it).
fn kv_seqs_full(kv: &KvCapacity, rule: &KvRule, d: &Deployment, longest: u64, s: Scheduler) -> u32 {
    let by_kv = match rule {
        KvRule::Slots => d.workload.concurrency,
        _ => u32::try_from(kv.tokens / longest.max(1)).unwrap_or(u32::MAX),
    };
    by_kv.min(s.max_seqs).max(1)
}

fn ttft_percentiles(
    f: &flow::Flow,
    prompt: Span,
    queue: f64,
    extra_wait: f64,
    admission: f64,
    p_wait: f64,
) -> Percentiles {
    let own = |isl: f64| f.prefill * isl / prompt.mean() + f.first;
    let waits = f.wait + extra_wait + admission;
    let at = |q: f64| queue + own(prompt.at(q)) + wait_at(waits, p_wait.max(1e-12), q);
    Percentiles {
        mean: queue + waits + own(prompt.mean()),
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
    }
}

fn tpot_percentiles(f: &flow::Flow, osl: f64) -> Percentiles {
    // A request's TPOT averages its steps; the share carrying a chunk varies binomially.
    let steps = (osl - 1.0).max(1.0);
    let sd =
        (f.mixed_step - f.pure_step) * (f.interference * (1.0 - f.interference) / steps).sqrt();
    Percentiles {
        mean: f.tpot,
        p50: f.tpot,
        p90: f.tpot + Z90 * sd,
        p99: f.tpot + Z99 * sd,
    }
}

fn itl_percentiles(f: &flow::Flow) -> Percentiles {
    let at = |q: f64| {
        if 1.0 - q < f.interference {
            f.mixed_step
        } else {
            f.pure_step
        }
    };
    Percentiles {
        mean: f.tpot,
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
    }
}

fn e2e_percentiles(ttft: Option<Percentiles>, f: &flow::Flow, output: Span) -> Percentiles {
    let t = ttft.unwrap_or(Percentiles {
        mean: 0.0,
        p50: 0.0,
        p90: 0.0,
        p99: 0.0,
    });
    let decode = |osl: f64| (osl - 1.0).max(0.0) * f.tpot;
    Percentiles {
        mean: t.mean + decode(output.mean()),
        p50: t.p50 + decode(output.at(0.5)),
        p90: t.p90 + decode(output.at(0.9)),
        p99: t.p99 + decode(output.at(0.99)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::hardware::simulate::{SimulationRequest, simulate};
    use crate::sizing::{KvDtype, Workload, plan};

    /// The running set is the bisection's, bit for bit, across engines, models and rates from
    /// light to near saturation (the fast search must change no answer).
    #[test]
    fn running_set_is_the_bisections_bit_for_bit() {
        let cat = Catalog::embedded().expect("the embedded catalog parses");
        let cases = [
            (
                "deepseek-r1-distill-llama-70b",
                "fp8",
                "trtllm",
                "h100-sxm:2",
            ),
            ("deepseek-r1", "fp8", "sglang", "h200:8"),
            ("deepseek-r1-distill-qwen-14b", "bf16", "vllm", "h100-sxm:1"),
            (
                "deepseek-r1-distill-qwen-7b",
                "q4_k_m",
                "llama.cpp",
                "rtx-4090:1",
            ),
        ];
        let mut checked = 0;
        for (m, q, e, gpu) in cases {
            let hw = simulate(
                &cat,
                &SimulationRequest {
                    gpu_specs: vec![gpu.into()],
                    ..Default::default()
                },
            )
            .expect("a simulated machine");
            let d = Deployment {
                model: cat.model(m).expect("in the catalog"),
                quant: cat.quant(q).expect("in the catalog"),
                engine: cat.engine(e).expect("in the catalog"),
                gpus: hw.gpu_count(),
                tensor_parallel: None,
                kv_dtype: KvDtype::Bf16,
                mla_kv: None,
                mtp: 0,
                parallel: Default::default(),
                workload: Workload {
                    context: 8192,
                    prompt: 2048,
                    output: 512,
                    concurrency: 4,
                },
            };
            let mem = plan(&d, &hw).expect("it plans");
            for lengths in [
                Lengths {
                    prompt: Span::fixed(2048),
                    output: Span::fixed(512),
                },
                Lengths {
                    prompt: Span {
                        min: 256,
                        max: 4096,
                    },
                    output: Span { min: 64, max: 1024 },
                },
            ] {
                let s = Server::new(&d, &hw, &mem, lengths, &SchedulerOverrides::default())
                    .expect("the requests fit");
                let (isl, osl) = (lengths.prompt.mean(), lengths.output.mean());
                let (budget, separate) = (
                    f64::from(s.scheduler.token_budget),
                    s.scheduler.prefill_first,
                );
                let probe = |n: f64, near: Option<&flow::Flow>| {
                    flow::flow(
                        &s.step,
                        budget,
                        isl,
                        osl,
                        n,
                        separate,
                        lengths.prompt.cv2(),
                        near,
                    )
                };
                let max = f64::from(s.max_batch);
                for share in [0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999] {
                    let target = share * s.saturated.lambda;
                    let fast = running_set(target, max, &s.saturated, probe);
                    let slow = bisection(target, max, &probe);
                    assert_eq!(fast.0.to_bits(), slow.0.to_bits(), "{m} {e} at {share}");
                    assert_eq!(fast.1, slow.1, "{m} {e} at {share}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 64);
    }
}
