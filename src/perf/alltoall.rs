//! Expert-parallel communication (issue 13): with DP attention each rank sends its tokens to the
//! ranks holding their top-k experts (dispatch) and gets the weighted outputs back (combine), once
//! per MoE layer. Bytes per rank = tokens × hidden × top-k × bytes per element, the share bound
//! for other GPUs leaving over NVLink inside a node and over the network across nodes.

use super::network::Links;
use crate::hardware::Gpu;

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
/// over the GPU fabric, the part for other nodes over the GPU's share of the network (`links`:
/// the machine's nodes and network, data/network.toml), whichever takes longer.
pub fn alltoall_ms(gpu: &Gpu, links: &Links, ep: u32, bytes: f64) -> f64 {
    if ep <= 1 {
        return 0.0;
    }
    let epf = f64::from(ep);
    let local_peers = f64::from(links.local(ep) - 1);
    let remote_peers = epf - 1.0 - local_peers;
    let fabric = if gpu.interconnect.is_fabric() {
        gpu.interconnect_gb_s
    } else {
        gpu.pcie_gb_s.max(1.0)
    };
    let local = bytes * local_peers / epf / (fabric * ALLTOALL_EFFICIENCY * 1e9);
    let remote = bytes * remote_peers / epf / (links.network_gb_s * ALLTOALL_EFFICIENCY * 1e9);
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

    /// Nodes of 8 with one 400 Gb/s port per GPU (the default network).
    const NDR: Links = Links {
        node_gpus: 8,
        network_gb_s: 50.0,
    };

    #[test]
    fn one_rank_sends_nothing() {
        assert_eq!(alltoall_ms(&pcie_card(), &NDR, 1, 8e6), 0.0);
    }

    #[test]
    fn inside_a_node_seven_eighths_cross_the_fabric() {
        // 8 MB × 7/8 over 31.5 GB/s × 0.5 = 0.4444 ms, plus the 80 µs fixed cost.
        let t = alltoall_ms(&pcie_card(), &NDR, 8, 8e6);
        assert!((t - (0.080 + 7e6 / 15.75e9 * 1e3)).abs() < 1e-9, "{t}");
    }

    #[test]
    fn across_two_nodes_the_slower_side_sets_the_time() {
        // EP16: 7/16 of the bytes to node peers over 15.75 GB/s (0.2222 ms), 8/16 over the network
        // at 50 × 0.5 GB/s (0.16 ms): the fabric side is the slower one here.
        let t = alltoall_ms(&pcie_card(), &NDR, 16, 8e6);
        assert!((t - (0.080 + 3.5e6 / 15.75e9 * 1e3)).abs() < 1e-9, "{t}");
    }

    #[test]
    fn a_slower_network_sets_the_time_across_nodes() {
        // 100 GbE, one port per 8-GPU node: 12.5 / 8 = 1.5625 GB/s per GPU. EP16 sends 8/16 of
        // 8 MB = 4 MB over 0.78125 GB/s: 5.12 ms, far above the fabric's 0.2222 ms.
        let slow = Links {
            node_gpus: 8,
            network_gb_s: 1.5625,
        };
        let t = alltoall_ms(&pcie_card(), &slow, 16, 8e6);
        assert!((t - (0.080 + 5.12)).abs() < 1e-9, "{t}");
    }
}
