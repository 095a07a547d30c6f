//! Expert-parallel communication (issue 13): with DP attention each rank sends its tokens to the
//! ranks holding their top-k experts (dispatch) and gets the weighted outputs back (combine), once
//! per MoE layer. Bytes per rank = tokens × hidden × top-k × bytes per element, the share bound
//! for other GPUs leaving over NVLink inside a node and over the network across nodes.

use crate::hardware::Gpu;

/// GPUs per node when a deployment spans several (the 8-GPU HGX/DGX baseboards every cited
/// multi-node 671B run used: DeepSeek's H800 nodes, LMSYS's 12 × 8 H100, TRT-LLM's 8 × H200).
pub const NODE_GPUS: u32 = 8;

/// Network bandwidth per GPU across nodes, GB/s per direction: one 400 Gb/s InfiniBand NDR /
/// RoCE port per GPU (NVIDIA DGX H100/H200 user guide: 8 × ConnectX-7 400 Gb/s compute fabric per
/// node; DeepSeek's H800 nodes the same per day-6 overview "CX7 400 Gbps InfiniBand").
pub const NETWORK_GB_S: f64 = 50.0;

/// Fixed cost of one dispatch or combine, µs: kernel launch, the routing metadata exchange and the
/// synchronisation of every rank. Calibrated (with the link efficiency below) on the two attention-DP
/// rows of reference/serving.md B (TRT-LLM 8×H200 max-throughput, SGLang TP8 + DP attention on
/// GPUStack), one value for both; of the order of DeepEP's published low-latency kernels.
pub const ALLTOALL_US: f64 = 80.0;

/// Share of the link's bandwidth an all-to-all reaches (many small messages to every peer).
pub const ALLTOALL_EFFICIENCY: f64 = 0.5;

/// One all-to-all of `bytes` leaving each of `ep` ranks, ms: the part for the peers of its node
/// over the GPU fabric, the part for other nodes over the network, whichever takes longer.
pub fn alltoall_ms(gpu: &Gpu, ep: u32, bytes: f64) -> f64 {
    if ep <= 1 {
        return 0.0;
    }
    let epf = f64::from(ep);
    let local_peers = f64::from(ep.min(NODE_GPUS) - 1);
    let remote_peers = epf - 1.0 - local_peers;
    let fabric = if gpu.interconnect.is_fabric() {
        gpu.interconnect_gb_s
    } else {
        gpu.pcie_gb_s.max(1.0)
    };
    let local = bytes * local_peers / epf / (fabric * ALLTOALL_EFFICIENCY * 1e9);
    let remote = bytes * remote_peers / epf / (NETWORK_GB_S * ALLTOALL_EFFICIENCY * 1e9);
    ALLTOALL_US / 1e3 + local.max(remote) * 1e3
}
