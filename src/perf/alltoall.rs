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
/// synchronisation of every rank — the order of DeepEP's low-latency kernels at EP8 (77 µs dispatch,
/// 114 µs combine for 128 tokens per rank, deepseek-ai/DeepEP README; not in reference/). With the
/// link efficiency below it is one pair for every row of tests/integration/moe.rs: DeepSeek's EP144
/// decode on H800 (+4% of 14.8k tok/s per node), SGLang's DP-attention gain on GPUStack's 8×H200
/// (1.10× against 1.08×) and TRT-LLM's 8×H200 attention-DP run (+6% of 11,489 output tok/s).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Vendor;

    /// A PCIe 4.0 x16 card: 31.5 GB/s per direction is both its host link and its GPU-to-GPU path.
    fn pcie_card() -> Gpu {
        Gpu::uncatalogued("card".into(), Vendor::Nvidia, 1 << 34, 1000.0, 100.0)
    }

    #[test]
    fn one_rank_sends_nothing() {
        assert_eq!(alltoall_ms(&pcie_card(), 1, 8e6), 0.0);
    }

    #[test]
    fn inside_a_node_seven_eighths_cross_the_fabric() {
        // 8 MB × 7/8 over 31.5 GB/s × 0.5 = 0.4444 ms, plus the 80 µs fixed cost.
        let t = alltoall_ms(&pcie_card(), 8, 8e6);
        assert!((t - (0.080 + 7e6 / 15.75e9 * 1e3)).abs() < 1e-9, "{t}");
    }

    #[test]
    fn across_two_nodes_the_slower_side_sets_the_time() {
        // EP16: 7/16 of the bytes to node peers over 15.75 GB/s (0.2222 ms), 8/16 over the network
        // at 50 × 0.5 GB/s (0.16 ms): the fabric side is the slower one here.
        let t = alltoall_ms(&pcie_card(), 16, 8e6);
        assert!((t - (0.080 + 3.5e6 / 15.75e9 * 1e3)).abs() < 1e-9, "{t}");
    }
}
