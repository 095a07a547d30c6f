//! The layer-split planner: llama.cpp, Ollama and transformers give each GPU whole layers and
//! keep what does not fit (whole layers, or an MoE layer's routed experts) in host memory.

use crate::hardware::Hardware;

use super::costs::{activation, capacities, kv_tokens, overhead};
use super::kv;
use super::plan::{Deployment, DeviceMemory, MemoryPlan, Placement, Spread};
use super::weights::WeightBytes;

/// Per-GPU costs that do not depend on which layers a GPU holds.
struct SplitCosts {
    kv_per_layer: f64,
    activation: f64,
    overhead: f64,
    capacity: Vec<f64>,
    /// Embedding bytes kept in host memory (llama.cpp) — 0 when it sits on GPU 0.
    host_embedding: f64,
}

/// Which layers sit on which GPU, and which layers keep their routed experts on the GPU.
struct SplitLayout {
    per_gpu: Vec<Vec<usize>>,
    placed: usize,
    experts_on_gpu: Vec<bool>,
}

/// Whole layers on GPUs in order; what does not fit goes to host memory. For MoE models the routed
/// experts leave the GPUs first (llama.cpp `--fit` measures "dense-only" layers first, formulas.md §4).
pub(super) fn layer_split(d: &Deployment, hw: &Hardware, w: &WeightBytes) -> MemoryPlan {
    let n = d.gpus as usize;
    let layers = w.layers.len();
    let costs = SplitCosts {
        kv_per_layer: kv::per_layer_token(d.model, d.mla_layout(), d.kv_dtype, 1)
            * kv_tokens(d.engine, &d.workload),
        activation: activation(d, 1),
        overhead: overhead(d, false),
        capacity: capacities(d, hw, d.gpus),
        host_embedding: if d.engine.memory.embeddings_on_host {
            w.embedding
        } else {
            0.0
        },
    };
    // Load of each GPU before any layer: GPU 0 the embedding (unless on host), the last the head.
    let fixed: Vec<f64> = (0..n)
        .map(|i| {
            let mut f = costs.overhead + costs.activation;
            if i == 0 && costs.host_embedding == 0.0 {
                f += w.embedding;
            }
            if i == n - 1 {
                f += w.output;
            }
            f
        })
        .collect();
    let assign = |cost: &dyn Fn(usize) -> f64| -> (Vec<Vec<usize>>, usize) {
        let mut per_gpu = vec![vec![]; n];
        let mut next = 0;
        for (g, list) in per_gpu.iter_mut().enumerate() {
            let mut used = fixed[g];
            while next < layers && used + cost(next) <= costs.capacity[g] {
                used += cost(next);
                list.push(next);
                next += 1;
            }
        }
        (per_gpu, next)
    };
    let full = |l: usize| w.layers[l].total() + costs.kv_per_layer;
    let slim = |l: usize| w.layers[l].non_expert() + costs.kv_per_layer;

    let (mut per_gpu, placed) = assign(&full);
    if placed == layers && n > 1 {
        // Everything fits: llama.cpp's default -sm layer split is proportional to each device's
        // free memory (the front-to-back fill above is what --fit does when it does not).
        if let Some(even) = proportional(layers, &costs.capacity, &fixed, &full) {
            per_gpu = even;
        }
    }
    let mut layout = SplitLayout {
        per_gpu,
        placed,
        experts_on_gpu: vec![true; layers],
    };
    if placed < layers && d.model.is_moe() {
        // Every layer without its routed experts first; then the experts come back from the last
        // layer down while room remains. llama.cpp's `--n-cpu-moe N` keeps the experts of layers
        // 0..N in host memory, so the ones that leave are always the first MoE layers — the one
        // placement sizing, speed and the launch command share.
        let (slim_gpu, slim_placed) = assign(&slim);
        if slim_placed == layers {
            let gpu_of: Vec<usize> = slim_gpu
                .iter()
                .enumerate()
                .flat_map(|(g, list)| list.iter().map(move |_| g))
                .collect();
            let mut used: Vec<f64> = slim_gpu
                .iter()
                .enumerate()
                .map(|(g, list)| fixed[g] + list.iter().map(|&l| slim(l)).sum::<f64>())
                .collect();
            let mut experts_on_gpu: Vec<bool> = w.layers.iter().map(|l| l.experts == 0).collect();
            for l in (0..layers).rev().filter(|&l| w.layers[l].experts > 0) {
                let g = gpu_of[l];
                if used[g] + w.layers[l].routed() > costs.capacity[g] {
                    break;
                }
                used[g] += w.layers[l].routed();
                experts_on_gpu[l] = true;
            }
            layout = SplitLayout {
                per_gpu: slim_gpu,
                placed: layers,
                experts_on_gpu,
            };
        }
    }
    build_layer_plan(d, hw, w, &layout, &costs)
}

/// Layers in proportion to each GPU's capacity (largest remainder), if every GPU still fits.
fn proportional(
    layers: usize,
    capacity: &[f64],
    fixed: &[f64],
    cost: &dyn Fn(usize) -> f64,
) -> Option<Vec<Vec<usize>>> {
    let total: f64 = capacity.iter().sum();
    let shares: Vec<f64> = capacity.iter().map(|c| layers as f64 * c / total).collect();
    let mut counts: Vec<usize> = shares.iter().map(|s| s.floor() as usize).collect();
    let mut by_remainder: Vec<usize> = (0..counts.len()).collect();
    by_remainder.sort_by(|&a, &b| {
        (shares[b] - shares[b].floor()).total_cmp(&(shares[a] - shares[a].floor()))
    });
    for &g in by_remainder
        .iter()
        .take(layers - counts.iter().sum::<usize>())
    {
        counts[g] += 1;
    }
    let mut next = 0;
    let mut per_gpu = Vec::with_capacity(counts.len());
    for (g, &count) in counts.iter().enumerate() {
        let list: Vec<usize> = (next..next + count).collect();
        next += count;
        if fixed[g] + list.iter().map(|&l| cost(l)).sum::<f64>() > capacity[g] {
            return None;
        }
        per_gpu.push(list);
    }
    Some(per_gpu)
}

fn build_layer_plan(
    d: &Deployment,
    hw: &Hardware,
    w: &WeightBytes,
    layout: &SplitLayout,
    costs: &SplitCosts,
) -> MemoryPlan {
    let n = layout.per_gpu.len();
    let layers = w.layers.len();
    let on_gpu = |l: usize| {
        if layout.experts_on_gpu[l] {
            w.layers[l].total()
        } else {
            w.layers[l].non_expert()
        }
    };
    let mut gpus = Vec::with_capacity(n);
    for (g, list) in layout.per_gpu.iter().enumerate() {
        let mut weights: f64 = list.iter().map(|&l| on_gpu(l)).sum();
        if g == 0 && costs.host_embedding == 0.0 {
            weights += w.embedding;
        }
        if g == n - 1 {
            weights += w.output;
        }
        let kv = costs.kv_per_layer * list.len() as f64;
        gpus.push(DeviceMemory::new(
            weights,
            kv,
            costs.activation,
            costs.overhead,
            costs.capacity[g],
        ));
    }
    // Host: the embedding (llama.cpp), layers that did not fit, experts sent to the CPU.
    let cpu_layers = layers - layout.placed;
    let cpu_layer_weights: f64 = (layout.placed..layers).map(|l| w.layers[l].total()).sum();
    let cpu_experts: f64 = (0..layout.placed)
        .filter(|&l| !layout.experts_on_gpu[l])
        .map(|l| w.layers[l].routed())
        .sum();
    let host_kv = costs.kv_per_layer * cpu_layers as f64;
    let host = DeviceMemory::new(
        costs.host_embedding + cpu_layer_weights + cpu_experts,
        host_kv,
        0.0,
        0.0,
        host_capacity(hw, &gpus),
    );
    let spread = Spread::Layers(layout.per_gpu.iter().map(|l| l.len() as u32).collect());
    let placement = Placement::new(
        spread,
        w,
        layout.experts_on_gpu.clone(),
        cpu_layer_weights + cpu_experts,
    );
    let mut plan = MemoryPlan::of(placement, gpus, host);
    if plan.placement.offloaded_bytes > 0 && !d.engine.cpu_offload {
        plan.fits = false;
        plan.shortfall = Some(format!(
            "{} cannot offload layers to host memory",
            d.engine.name
        ));
    }
    plan
}

/// Host memory left for weights: available RAM; on unified memory, what the GPU side leaves.
fn host_capacity(hw: &Hardware, gpus: &[DeviceMemory]) -> f64 {
    let unified = hw.gpus.first().is_some_and(|g| g.unified_memory);
    let ram = hw.host.available_ram_bytes as f64;
    if unified {
        (ram - gpus.iter().map(|g| g.total as f64).sum::<f64>()).max(0.0)
    } else {
        ram
    }
}

pub(super) fn cpu_only(d: &Deployment, hw: &Hardware, w: &WeightBytes) -> MemoryPlan {
    let layers = d.model.layers();
    let kv = kv::per_layer_token(d.model, d.mla_layout(), d.kv_dtype, 1)
        * f64::from(layers)
        * kv_tokens(d.engine, &d.workload);
    let act = activation(d, 1);
    let host = DeviceMemory::new(w.total(), kv, act, 0.0, hw.host.available_ram_bytes as f64);
    let placement = Placement::new(Spread::Cpu, w, vec![false; layers as usize], w.total());
    MemoryPlan::of(placement, vec![], host)
}
