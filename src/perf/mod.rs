//! The speed model: decode (TPOT), prefill (TTFT), time to answer, throughput.
//!
//! Decode is memory-bound at small batch: every step reads the active weights and the KV cache of
//! every sequence, so its time is bytes over effective bandwidth, plus the engine's fixed cost per
//! layer and per step, plus tensor-parallel all-reduces, bounded below by compute at large batch.
//! Prefill is compute-bound: FLOPs of the prompt over the achievable tensor rate, chunked as the
//! engine does, plus the PCIe upload of host-resident weights under offload (formulas.md §1(e)–(h)).

pub mod alltoall;
pub mod attention;
pub mod cost;
pub mod imbalance;
pub mod network;

use schemars::JsonSchema;
use serde::Serialize;

use crate::catalog::engine::{EngineSpeed, MultiGpu, PerDevice};
use crate::catalog::gpu::MemoryType;
use crate::catalog::params::ParamBreakdown;
use crate::catalog::quant::ComputeDtype;
use crate::catalog::{Model, Quant};
use crate::hardware::{Gpu, Hardware};
use crate::sizing::parallel::{attention_tp, layer_rank_bytes, rank_sequences};
use crate::sizing::weights::{LayerBytes, WeightBytes};
use crate::sizing::{Deployment, KvDtype, MemoryPlan, Parallel, kv};
use network::{Links, cross_node_allreduce_ms, stage_handoff_ms};

/// Bytes per activation element passed between GPUs (bf16).
const ACTIVATION_BYTES: f64 = 2.0;

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Performance {
    pub ttft_ms: f64,
    pub tpot_ms: f64,
    pub decode_tokens_per_s: f64,
    pub aggregate_tokens_per_s: f64,
    pub prefill_tokens_per_s: f64,
    pub time_to_answer_ms: f64,
    /// How the step time splits, for the basis.
    pub breakdown: Breakdown,
}

/// Where one decode step's time goes, ms.
#[derive(Debug, Clone, PartialEq, Default, Serialize, JsonSchema)]
pub struct Breakdown {
    pub weights_ms: f64,
    pub kv_ms: f64,
    pub fixed_ms: f64,
    pub communication_ms: f64,
    /// Extra time when compute, not memory, bounds the step.
    pub compute_bound_ms: f64,
    /// Bytes one decode step reads (all devices).
    pub bytes_per_step: f64,
    /// Effective bandwidth efficiency applied on the main device.
    pub bandwidth_efficiency: f64,
    pub prefill_mfu: f64,
    pub prefill_tflops: f64,
}

/// One device's share of a decode step.
#[derive(Debug, Clone, Copy)]
struct DeviceShare {
    weight_bytes: f64,
    /// Time-equivalent bytes the routed experts add where their GEMMs read below `efficiency`
    /// ([`expert_read_scale`]); not bytes read.
    expert_extra_bytes: f64,
    kv_bytes: f64,
    /// FLOPs of the step on this device.
    flops: f64,
    bandwidth: f64,
    efficiency: f64,
    mfu: f64,
    peak_flops: f64,
}

pub fn estimate(d: &Deployment, hw: &Hardware, mem: &MemoryPlan) -> Performance {
    estimate_with(
        d,
        hw,
        mem,
        &WeightBytes::of(d.model, d.quant),
        &ParamBreakdown::of(d.model),
    )
}

/// [`estimate`] with the model's parameter and weight breakdowns already computed.
pub fn estimate_with(
    d: &Deployment,
    hw: &Hardware,
    mem: &MemoryPlan,
    w: &WeightBytes,
    p: &ParamBreakdown,
) -> Performance {
    let s = &d.engine.speed;
    let batch = f64::from(d.workload.concurrency);
    let context = f64::from(d.workload.context);

    let (shares, comm_ms) = decode_shares(d, hw, mem, w, p, batch, context);
    let mut weights_ms = 0.0;
    let mut kv_ms = 0.0;
    let mut compute_extra = 0.0;
    let mut bytes = 0.0;
    for sh in &shares {
        let wm =
            (sh.weight_bytes + sh.expert_extra_bytes) / (sh.efficiency * sh.bandwidth * 1e9) * 1e3;
        let km = sh.kv_bytes / (sh.efficiency * sh.bandwidth * 1e9) * 1e3;
        let cm = sh.flops / (sh.mfu * sh.peak_flops) * 1e3;
        weights_ms += wm;
        kv_ms += km;
        compute_extra += (cm - wm - km).max(0.0);
        bytes += sh.weight_bytes + sh.kv_bytes;
    }
    // Attention kernels are bound by their KV reads or by their FLOPs, whichever is longer: the
    // busiest rank's sequences, each with its 1 + MTP-steps query tokens.
    let rank_batch =
        f64::from(rank_sequences(&d.parallel, d.workload.concurrency.max(1))).min(batch);
    let queries = rank_batch * f64::from(d.mtp + 1);
    compute_extra += (decode_attention_ms(d, hw, mem) * queries * context - kv_ms).max(0.0);
    let layer_us = layer_us(d, hw, mem);
    let fixed_ms = fixed_step_ms(d.model, d.quant, s, layer_us);
    let step = weights_ms + kv_ms + compute_extra + fixed_ms + comm_ms;
    // MTP: the draft steps run before the verifying step, and the step yields `accepted` tokens.
    let draft_ms = mtp_drafts_ms(d, hw, mem, w, batch, context);
    let accepted = mtp_accepted(d);
    let tpot = (step + draft_ms) / accepted;
    let kv_ms = kv_ms / accepted;

    let prompt = d.workload.prompt;
    let (prefill_ms, prefill_tflops) = prefill_ms(d, hw, mem, w, p);
    let prefill_mfu_used = match hw.gpus.first().filter(|_| mem.placement.gpus > 0) {
        Some(g) => for_gpu(&s.prefill_mfu, g),
        None => s.prefill_mfu.cpu,
    };
    // TTFT: the prompt's prefill plus the step that emits the first token (at the prompt's length).
    let first_step = tpot - kv_ms * (1.0 - f64::from(prompt) / context).max(0.0);
    let ttft = prefill_ms + first_step;
    let output = f64::from(d.workload.output);
    // Later tokens see a growing cache: the mean step reads the KV at the midpoint of the answer.
    let mean_context = (f64::from(prompt) + output / 2.0).min(context);
    let mean_step = tpot - kv_ms * (1.0 - mean_context / context).max(0.0);
    let answer = ttft + (output - 1.0).max(0.0) * mean_step;

    Performance {
        ttft_ms: ttft,
        tpot_ms: tpot,
        decode_tokens_per_s: 1000.0 / tpot,
        aggregate_tokens_per_s: batch * 1000.0 / tpot,
        prefill_tokens_per_s: f64::from(prompt) / prefill_ms * 1000.0,
        time_to_answer_ms: answer,
        breakdown: Breakdown {
            weights_ms,
            kv_ms,
            fixed_ms,
            communication_ms: comm_ms,
            compute_bound_ms: compute_extra,
            bytes_per_step: bytes,
            bandwidth_efficiency: shares.first().map(|s| s.efficiency).unwrap_or(0.0),
            prefill_mfu: prefill_mfu_used,
            prefill_tflops,
        },
    }
}

/// The engine's per-layer fixed cost on the deployment's device family, µs.
fn layer_us(d: &Deployment, hw: &Hardware, mem: &MemoryPlan) -> f64 {
    match hw.gpus.first().filter(|_| mem.placement.gpus > 0) {
        Some(g) => for_gpu(&d.engine.speed.layer_us, g),
        None => d.engine.speed.layer_us.cpu,
    }
}

/// Tokens each verifying step yields per sequence: the engine's measured MTP acceptance at the
/// deployment's draft steps (1 without MTP).
pub fn mtp_accepted(d: &Deployment) -> f64 {
    match d.engine.mtp.as_ref().filter(|_| d.mtp > 0) {
        Some(mtp) => mtp.accepted(d.mtp).unwrap_or(1.0),
        None => 1.0,
    }
}

/// The MTP draft passes of one step of `batch` sequences at `context`, ms (0 without MTP). Each
/// pass runs the MTP module's decoder layer (an MoE layer like the model's last) and the shared
/// lm_head on the busiest rank: the layer's weights as its rank holds them, its attention over the
/// rank's sequences (one layer's KV read, or its FLOPs where longer), the layer's fixed costs and
/// the two all-reduces of its tensor-parallel group, and the engine's per-draft overhead.
pub fn mtp_drafts_ms(
    d: &Deployment,
    hw: &Hardware,
    mem: &MemoryPlan,
    w: &WeightBytes,
    batch: f64,
    context: f64,
) -> f64 {
    let Some(mtp) = d.engine.mtp.as_ref().filter(|_| d.mtp > 0) else {
        return 0.0;
    };
    let s = &d.engine.speed;
    let tp = mem.placement.tensor_parallel.max(1);
    let par = &d.parallel;
    let atp = attention_tp(par, tp);
    let rank_batch = f64::from(rank_sequences(par, d.workload.concurrency.max(1))).min(batch);
    // on the host where there is no GPU
    let gpu = slowest(hw, mem.placement.gpus).filter(|_| mem.placement.gpus > 0);
    let scale = gpu.map_or(1.0, |g| expert_read_scale(s, g));
    let layer = w.layers.last().map_or(0.0, |l| {
        let routed = busiest_routed(l, par, w.layer_read(l, batch) - l.non_expert());
        layer_rank_bytes(l, par, tp, routed * scale)
    });
    let bytes = layer + w.output / f64::from(tp);
    let read_rate = match gpu {
        Some(gpu) => for_gpu(&s.bw_efficiency, gpu) * gpu.bandwidth_gb_s,
        None => s.bw_efficiency.cpu * hw.host.cpu_bandwidth_gb_s,
    };
    let kv_bytes =
        kv::per_layer_token(d.model, d.mla_layout(), d.kv_dtype, atp) * context * rank_batch;
    let kv_ms = kv_bytes / (read_rate * 1e9) * 1e3;
    let layers = f64::from(d.model.layers().max(1));
    let attention_ms = (decode_attention_ms(d, hw, mem) / layers * context * rank_batch).max(kv_ms);
    let read_ms = bytes / (read_rate * 1e9) * 1e3 + attention_ms;
    let message = rank_batch * f64::from(d.model.hidden()) * ACTIVATION_BYTES;
    let comm_ms = match gpu {
        Some(gpu) if atp > 1 => 2.0 * allreduce_ms(s, gpu, &Links::of(hw), atp, message),
        _ => 0.0,
    };
    let fixed_us = layer_us(d, hw, mem) + s.moe_layer_us + d.quant.moe_layer_us + mtp.draft_step_us;
    f64::from(d.mtp) * (read_ms + comm_ms + fixed_us / 1e3)
}

/// Decode attention compute of one query token per cached token on one GPU of the deployment, ms:
/// its heads' FLOPs ([`attention::decode_flops_per_cached_token`]) at the KV dtype's tensor rate
/// (FP8 for an FP8 cache, else the 16-bit rate: softmax accumulates in FP32) and the engine's
/// tensor efficiency on the device family (`prefill_mfu`, the rate its prefill GEMMs reach).
pub fn decode_attention_ms(d: &Deployment, hw: &Hardware, mem: &MemoryPlan) -> f64 {
    let s = &d.engine.speed;
    let atp = match d.engine.multi_gpu {
        MultiGpu::Tensor => attention_tp(&d.parallel, mem.placement.tensor_parallel),
        MultiGpu::Layer => 1,
    };
    let flops = attention::decode_flops_per_cached_token(d.model, d.mla_layout(), atp);
    let rate = match slowest(hw, mem.placement.gpus).filter(|_| mem.placement.gpus > 0) {
        Some(gpu) => {
            let tflops = match d.kv_dtype {
                KvDtype::Fp8 => gpu.fp8_tflops.unwrap_or(gpu.fp16_tflops),
                _ => gpu.fp16_tflops,
            };
            for_gpu(&s.prefill_mfu, gpu) * tflops * 1e12
        }
        None => s.prefill_mfu.cpu * hw.host.cpu_tflops * 1e12,
    };
    flops / rate.max(1.0) * 1e3
}

/// Routed-expert bytes the busiest EP rank reads in a layer, from the mean `routed` bytes: with
/// uniform routing the ranks' touched experts spread binomially ([`imbalance::read_factor`]).
fn busiest_routed(l: &LayerBytes, par: &Parallel, routed: f64) -> f64 {
    let ep = par.ep();
    if ep <= 1 || l.experts == 0 || l.expert <= 0.0 {
        return routed;
    }
    let p = routed / l.routed();
    routed * imbalance::read_factor(ep, f64::from(l.experts) / f64::from(ep), p)
}

/// Per-layer and per-step fixed cost of one decode step on a device family, ms.
fn fixed_step_ms(model: &Model, quant: &Quant, s: &EngineSpeed, layer_us: f64) -> f64 {
    let moe = f64::from(model.moe_layers());
    (f64::from(model.layers()) * layer_us + moe * (s.moe_layer_us + quant.moe_layer_us) + s.step_us)
        / 1e3
}

/// The value of a per-family constant for a GPU.
pub fn for_gpu(table: &PerDevice, gpu: &Gpu) -> f64 {
    if gpu.unified_memory {
        return table.unified;
    }
    match gpu.memory_type {
        MemoryType::Hbm => table.hbm,
        MemoryType::Gddr => table.gddr,
        MemoryType::Lpddr => table.unified,
    }
}

/// Dense tensor FLOPS a quant's matmuls run at on a GPU.
pub fn peak_flops(s: &EngineSpeed, gpu: &Gpu, compute: ComputeDtype) -> f64 {
    let fp16 = match gpu.fp16_acc16_tflops {
        Some(acc16) if s.fp16_accumulate => acc16,
        _ => gpu.fp16_tflops,
    };
    let tflops = match compute {
        ComputeDtype::Fp8 => gpu.fp8_tflops.unwrap_or(fp16),
        // W8A8 INT8 runs on the INT8 tensor cores where the engine has the kernels (data/engines.toml
        // `int8_gemm`) and the GPU the units; otherwise at the 16-bit rate (V100, B300: no INT8 rate).
        ComputeDtype::Int8 if s.int8_gemm => gpu.int8_tops.unwrap_or(fp16),
        ComputeDtype::Int8 => fp16,
        // FP4 GEMMs on FP4 tensor cores; activations stay higher-precision elsewhere.
        ComputeDtype::Fp4 => gpu.fp4_tflops.or(gpu.fp8_tflops).unwrap_or(fp16),
        ComputeDtype::Bf16 | ComputeDtype::Fp16 => fp16,
    };
    tflops * 1e12
}

/// Decode-step work of every device, and the communication time, ms.
fn decode_shares(
    d: &Deployment,
    hw: &Hardware,
    mem: &MemoryPlan,
    w: &WeightBytes,
    p: &ParamBreakdown,
    batch: f64,
    context: f64,
) -> (Vec<DeviceShare>, f64) {
    let s = &d.engine.speed;
    let layers = d.model.layers();
    // With MTP each sequence verifies its drafts in the same step: 1 + steps tokens per sequence.
    let verified = batch * f64::from(d.mtp + 1);
    let read_all = w.read_per_step(verified);
    let flops_all = 2.0 * (p.non_embedding_active() as f64) * verified;
    let placement = &mem.placement;
    let host_share = |weight_bytes: f64, kv_bytes: f64, flops: f64| DeviceShare {
        weight_bytes,
        expert_extra_bytes: 0.0,
        kv_bytes,
        flops,
        bandwidth: hw.host.cpu_bandwidth_gb_s,
        efficiency: s.bw_efficiency.cpu,
        mfu: s.prefill_mfu.cpu,
        peak_flops: hw.host.cpu_tflops * 1e12,
    };
    let kv_token_layer = |tp: u32| kv::per_layer_token(d.model, d.mla_layout(), d.kv_dtype, tp);

    let on_host = || {
        let kv_bytes = kv_token_layer(1) * f64::from(layers) * context * batch;
        (vec![host_share(read_all, kv_bytes, flops_all)], 0.0)
    };
    if placement.gpus == 0 {
        return on_host();
    }

    match d.engine.multi_gpu {
        MultiGpu::Tensor if !d.parallel.is_plain() => {
            parallel_share(d, hw, mem, w, p, batch, context).unwrap_or_else(on_host)
        }
        MultiGpu::Tensor => {
            let tp = f64::from(placement.tensor_parallel);
            let replicated: f64 = w
                .layers
                .iter()
                .map(|l| l.attention_replicated + l.router)
                .sum();
            // Every GPU of a stage reads its slice at the same time: one stage's time is its
            // per-GPU bytes over one GPU's bandwidth; stages run one after another.
            let per_gpu = (read_all - replicated) / tp + replicated;
            let kv_bytes =
                kv_token_layer(placement.tensor_parallel) * f64::from(layers) * context * batch;
            let Some(gpu) = slowest(hw, placement.gpus) else {
                return on_host();
            };
            let routed: f64 = w
                .layer_reads(verified)
                .map(|(l, read)| read - l.non_expert())
                .sum();
            let share = DeviceShare {
                weight_bytes: per_gpu,
                expert_extra_bytes: routed * (expert_read_scale(s, gpu) - 1.0) / tp,
                kv_bytes,
                flops: flops_all / tp,
                bandwidth: gpu.bandwidth_gb_s,
                efficiency: for_gpu(&s.bw_efficiency, gpu),
                mfu: for_gpu(&s.prefill_mfu, gpu),
                peak_flops: peak_flops(s, gpu, d.quant.compute),
            };
            let links = Links::of(hw);
            let message = verified * f64::from(d.model.hidden()) * ACTIVATION_BYTES;
            let mut comm = 0.0;
            if placement.tensor_parallel > 1 {
                comm += 2.0
                    * f64::from(layers)
                    * allreduce_ms(s, gpu, &links, placement.tensor_parallel, message);
            }
            comm += f64::from(placement.pipeline_stages - 1) * s.split_hop_us / 1e3
                + stage_handoff_ms(
                    &links,
                    placement.tensor_parallel,
                    placement.pipeline_stages,
                    message,
                );
            (vec![share], comm)
        }
        MultiGpu::Layer => {
            let mut shares = Vec::new();
            let kv_layer = kv_token_layer(1) * context * batch;
            let mut layer = 0usize;
            let n = placement.layers_per_gpu.len();
            for (i, &count) in placement.layers_per_gpu.iter().enumerate() {
                let range = layer..layer + count as usize;
                layer += count as usize;
                // the placement sizing chose (the experts of the first MoE layers on the host)
                let cpu_experts =
                    |l: usize| !placement.experts_on_gpu.get(l).copied().unwrap_or(true);
                let mut bytes: f64 = range
                    .clone()
                    .map(|l| {
                        let lb = &w.layers[l];
                        if lb.experts > 0 && cpu_experts(l) {
                            lb.non_expert()
                        } else {
                            w.layer_read(lb, batch)
                        }
                    })
                    .sum();
                if i == n - 1 {
                    bytes += w.output;
                }
                let Some(gpu) = hw.gpus.get(i) else {
                    return on_host(); // a split over more GPUs than the machine has
                };
                let frac = f64::from(count) / f64::from(layers);
                shares.push(DeviceShare {
                    weight_bytes: bytes,
                    expert_extra_bytes: 0.0,
                    kv_bytes: kv_layer * f64::from(count),
                    flops: flops_all * frac,
                    bandwidth: gpu.bandwidth_gb_s,
                    efficiency: for_gpu(&s.bw_efficiency, gpu),
                    mfu: for_gpu(&s.prefill_mfu, gpu),
                    peak_flops: peak_flops(s, gpu, d.quant.compute),
                });
            }
            // What runs on the CPU: whole layers that did not fit, and routed experts sent to RAM.
            let cpu_layer_bytes: f64 = (layer..layers as usize)
                .map(|l| w.layer_read(&w.layers[l], batch))
                .sum();
            let expert_bytes: f64 = (0..layer)
                .filter(|&l| {
                    w.layers[l].experts > 0
                        && l >= layers as usize - placement.cpu_expert_layers as usize
                })
                .map(|l| w.layer_read(&w.layers[l], batch) - w.layers[l].non_expert())
                .sum();
            let cpu_layers = f64::from(placement.cpu_layers);
            if cpu_layer_bytes + expert_bytes > 0.0 {
                let frac = (cpu_layer_bytes + expert_bytes) / read_all;
                shares.push(host_share(
                    cpu_layer_bytes + expert_bytes,
                    kv_layer * cpu_layers,
                    flops_all * frac,
                ));
            }
            let hops = (shares.len().saturating_sub(1)) as f64 * s.split_hop_us / 1e3;
            (shares, hops)
        }
    }
}

/// Weight bytes one rank of a `tp` group reads in a step of `tokens` tokens (all ranks' tokens
/// route to the experts together) under expert parallelism and DP attention.
/// `expert_scale` weighs the routed experts' bytes by their read time ([`expert_read_scale`]; 1 for
/// the bytes themselves).
pub fn rank_weight_bytes(
    par: &Parallel,
    tp: u32,
    w: &WeightBytes,
    tokens: f64,
    expert_scale: f64,
) -> f64 {
    let layers: f64 = w
        .layer_reads(tokens)
        .map(|(l, read)| {
            let routed = busiest_routed(l, par, read - l.non_expert());
            layer_rank_bytes(l, par, tp, routed * expert_scale)
        })
        .sum();
    layers + w.output / f64::from(tp.max(1))
}

/// How much longer the routed experts' bytes take to read than the engine's other weights on
/// `gpu`: its `bw_efficiency` over the `expert_bw` efficiency of the GPU's generation (1 where
/// the engine names none).
pub fn expert_read_scale(s: &EngineSpeed, gpu: &Gpu) -> f64 {
    let Some(cc) = gpu.cuda_cc() else {
        return 1.0;
    };
    let in_range = |e: &&crate::catalog::engine::ExpertBandwidth| {
        let min = crate::catalog::gpu::parse_cc(&e.min_compute_capability);
        let below = crate::catalog::gpu::parse_cc(&e.below_compute_capability);
        min.is_some_and(|m| cc >= m) && below.is_some_and(|b| cc < b)
    };
    match s.expert_bw.iter().find(in_range) {
        Some(e) if e.bw_efficiency > 0.0 => for_gpu(&s.bw_efficiency, gpu) / e.bw_efficiency,
        _ => 1.0,
    }
}

/// One rank's decode step under expert parallelism and DP attention, and its communication, ms.
/// Each DP rank runs attention on its own `batch / dp` sequences (their KV only); the MoE layers
/// see every rank's tokens, so the experts touched follow the whole batch. With DP attention the
/// tokens reach their experts by all-to-all dispatch and combine in every MoE layer (FP8
/// dispatch where the GEMMs run in FP8 or FP4, as DeepEP and TRT-LLM do; BF16 combine); attention,
/// dense FFN and shared expert all-reduce over the rank's tp / dp GPUs only. Without DP
/// attention, EP keeps TP's two all-reduces per layer (every rank holds every token).
/// `None` when the machine has none of the placement's GPUs (the caller computes on the host).
fn parallel_share(
    d: &Deployment,
    hw: &Hardware,
    mem: &MemoryPlan,
    w: &WeightBytes,
    p: &ParamBreakdown,
    batch: f64,
    context: f64,
) -> Option<(Vec<DeviceShare>, f64)> {
    let s = &d.engine.speed;
    let placement = &mem.placement;
    let tp = placement.tensor_parallel.max(1);
    let par = &d.parallel;
    let dp = par.dp();
    let atp = attention_tp(par, tp);
    let steps = f64::from(d.mtp + 1);
    let verified = batch * steps;
    // The busiest DP rank's sequences.
    let rank_batch = f64::from(rank_sequences(par, d.workload.concurrency.max(1))).min(batch);
    let rank_tokens = rank_batch * steps;
    let weights = rank_weight_bytes(par, tp, w, verified, 1.0);
    let layers = f64::from(d.model.layers());
    let kv_bytes = kv::per_layer_token(d.model, d.mla_layout(), d.kv_dtype, atp)
        * layers
        * context
        * rank_batch;
    let gpu = slowest(hw, placement.gpus)?;
    let expert_extra = rank_weight_bytes(par, tp, w, verified, expert_read_scale(s, gpu)) - weights;
    // The busiest EP rank's routed-expert FLOPs ([`imbalance::compute_factor`]).
    let routed = p.routed_touched(1.0) as f64;
    let dense = p.non_embedding_active() as f64 - routed;
    let routings = verified * f64::from(w.experts_per_token);
    let active = dense + routed * imbalance::compute_factor(par.ep(), routings);
    let share = DeviceShare {
        weight_bytes: weights,
        expert_extra_bytes: expert_extra,
        kv_bytes,
        flops: 2.0 * active * verified / f64::from(tp),
        bandwidth: gpu.bandwidth_gb_s,
        efficiency: for_gpu(&s.bw_efficiency, gpu),
        mfu: for_gpu(&s.prefill_mfu, gpu),
        peak_flops: peak_flops(s, gpu, d.quant.compute),
    };
    let h = f64::from(d.model.hidden());
    let moe = f64::from(d.model.moe_layers());
    let links = Links::of(hw);
    let mut comm = 0.0;
    if dp > 1 {
        let top_k = f64::from(w.experts_per_token);
        let dispatch_bytes = match d.quant.compute {
            crate::catalog::quant::ComputeDtype::Fp8 | crate::catalog::quant::ComputeDtype::Fp4 => {
                1.0
            }
            _ => ACTIVATION_BYTES,
        };
        let routed = rank_tokens * h * top_k;
        comm += if par.ep() > 1 {
            moe * (alltoall::alltoall_ms(gpu, &links, par.ep(), routed * dispatch_bytes)
                + alltoall::alltoall_ms(gpu, &links, par.ep(), routed * ACTIVATION_BYTES))
        } else {
            // TP-sharded experts under DP attention: every rank's tokens are gathered before the
            // MoE and scattered after (SGLang's DP attention without --ep-size): an all-reduce's
            // traffic in two collectives.
            moe * 2.0 * allreduce_ms(s, gpu, &links, tp, verified * h * ACTIVATION_BYTES / 2.0)
        };
        // Attention, the dense FFNs and the shared expert all-reduce within a DP rank only.
        if atp > 1 {
            comm += 2.0
                * layers
                * allreduce_ms(s, gpu, &links, atp, rank_tokens * h * ACTIVATION_BYTES);
        }
    } else if tp > 1 {
        comm += 2.0 * layers * allreduce_ms(s, gpu, &links, tp, verified * h * ACTIVATION_BYTES);
    }
    comm += f64::from(placement.pipeline_stages.saturating_sub(1)) * s.split_hop_us / 1e3
        + stage_handoff_ms(
            &links,
            tp,
            placement.pipeline_stages,
            verified * h * ACTIVATION_BYTES,
        );
    Some((vec![share], comm))
}

/// The GPU with the least bandwidth among the first `n`: tensor-parallel ranks step together.
/// `None` on a machine without GPUs, where the caller computes on the host.
fn slowest(hw: &Hardware, n: u32) -> Option<&Gpu> {
    let n = (n as usize).max(1).min(hw.gpus.len());
    hw.gpus[..n]
        .iter()
        .min_by(|a, b| a.bandwidth_gb_s.total_cmp(&b.bandwidth_gb_s))
}

/// One all-reduce of `bytes` over the first `n` GPUs: fixed latency + ring transfer over the GPUs
/// of a node (formulas.md §1(g)), and where the group spans nodes the network stage of the
/// hierarchical all-reduce ([`cross_node_allreduce_ms`]).
fn allreduce_ms(s: &EngineSpeed, gpu: &Gpu, links: &Links, n: u32, bytes: f64) -> f64 {
    let (latency_us, link) = if gpu.interconnect.is_fabric() {
        (s.allreduce_fabric_us, gpu.interconnect_gb_s)
    } else {
        (s.allreduce_pcie_us, gpu.pcie_gb_s.max(1.0))
    };
    let nf = f64::from(links.local(n));
    latency_us / 1e3
        + 2.0 * (nf - 1.0) / nf * bytes / (link * 1e9) * 1e3
        + cross_node_allreduce_ms(links, n, bytes)
}

/// Prefill time of one prompt, ms, and the tensor rate it ran at (TFLOPS, all GPUs).
fn prefill_ms(
    d: &Deployment,
    hw: &Hardware,
    mem: &MemoryPlan,
    w: &WeightBytes,
    p: &ParamBreakdown,
) -> (f64, f64) {
    let s = &d.engine.speed;
    let prompt = f64::from(d.workload.prompt);
    let chunk = match d.engine.memory.batched_tokens {
        0 => prompt,
        n => f64::from(n).min(prompt),
    };
    let chunks = (prompt / chunk).ceil();
    let linear_flops = 2.0 * p.non_embedding_active() as f64 * prompt;
    let attention_flops = attention::prefill_flops(d.model, prompt);
    let flops = linear_flops + attention_flops;
    let placement = &mem.placement;

    // tensor parallelism waits for its slowest rank; a layer split starts on GPU 0
    let gpu = match (placement.gpus, d.engine.multi_gpu) {
        (0, _) => None,
        (_, MultiGpu::Tensor) => slowest(hw, placement.gpus),
        (_, MultiGpu::Layer) => hw.gpus.first(),
    };
    let Some(gpu) = gpu else {
        let rate = hw.host.cpu_tflops * 1e12 * s.prefill_mfu.cpu;
        return (flops / rate * 1e3, rate / 1e12);
    };
    let mfu = for_gpu(&s.prefill_mfu, gpu);
    let gpu_flops: f64 = match d.engine.multi_gpu {
        MultiGpu::Tensor => {
            peak_flops(s, gpu, d.quant.compute) * f64::from(placement.tensor_parallel)
        }
        // Layer split runs devices one after another: the rate of one device.
        MultiGpu::Layer => peak_flops(s, gpu, d.quant.compute),
    };
    let compute_ms = flops / (mfu * gpu_flops) * 1e3;
    // Each chunk also reads the weights it touches (all experts once chunks are large).
    let eff = for_gpu(&s.bw_efficiency, gpu);
    let per_chunk_bytes = w.read_per_step(chunk) / f64::from(placement.tensor_parallel.max(1));
    let memory_ms = chunks * per_chunk_bytes / (eff * gpu.bandwidth_gb_s * 1e9) * 1e3;
    let mut total = compute_ms.max(memory_ms);
    if placement.tensor_parallel > 1 {
        let message = chunk * f64::from(d.model.hidden()) * ACTIVATION_BYTES;
        total += chunks
            * 2.0
            * f64::from(d.model.layers())
            * allreduce_ms(s, gpu, &Links::of(hw), placement.tensor_parallel, message);
    }
    // Host-resident weights go over PCIe for every ubatch (llama.cpp op_offload, formulas.md §1(h)).
    if placement.offloaded_bytes > 0 {
        let pcie = gpu.pcie_gb_s.max(1.0);
        let upload_ms = chunks * placement.offloaded_bytes as f64 / (pcie * 1e9) * 1e3;
        total = total.max(upload_ms);
    }
    (total, mfu * gpu_flops / 1e12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Vendor};

    fn gpu(cc: Option<&str>) -> Gpu {
        let mut g = Gpu::uncatalogued("g".into(), Vendor::Nvidia, 1 << 37, 4800.0, 989.0);
        g.memory_type = MemoryType::Hbm;
        g.compute_capability = cc.map(str::to_string);
        g
    }

    #[test]
    fn trtllm_reads_routed_experts_at_half_its_dense_rate_on_hopper_only() {
        // the embedded catalog parses (its own tests hold it)
        let c = Catalog::embedded().unwrap();
        let trtllm = &c.engine("trtllm").unwrap().speed;
        // data/engines.toml: 0.80 dense, 0.40 for the routed experts on compute capability 9.x.
        assert_eq!(expert_read_scale(trtllm, &gpu(Some("9.0"))), 2.0);
        assert_eq!(expert_read_scale(trtllm, &gpu(Some("10.0"))), 1.0);
        assert_eq!(expert_read_scale(trtllm, &gpu(Some("8.9"))), 1.0);
        assert_eq!(expert_read_scale(trtllm, &gpu(None)), 1.0);
        let vllm = &c.engine("vllm").unwrap().speed;
        assert_eq!(expert_read_scale(vllm, &gpu(Some("9.0"))), 1.0);
    }
}
