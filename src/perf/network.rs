//! Collectives that cross nodes (issue 13): a tensor-parallel all-reduce whose group spans nodes,
//! and the pipeline hand-off between stages on different nodes, timed on the machine's network
//! (`Hardware::nodes`, `Hardware::network`, data/network.toml). The all-to-all of expert
//! parallelism is in [`super::alltoall`]; all three share its link efficiency and fixed cost.

use super::alltoall::{ALLTOALL_EFFICIENCY, ALLTOALL_US};
use crate::hardware::Hardware;

/// What a collective sees of the machine's nodes. Ranks are placed in order, node by node (GPU g
/// on node g / `node_gpus`), as vLLM, SGLang and TRT-LLM number them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Links {
    pub node_gpus: u32,
    /// Each GPU's share of its node's network, GB/s per direction.
    pub network_gb_s: f64,
}

impl Links {
    pub fn of(hw: &Hardware) -> Links {
        Links {
            node_gpus: hw.node_gpus(),
            network_gb_s: hw.network_gb_s_per_gpu(),
        }
    }

    /// Nodes a group of the first `n` GPUs spans.
    pub fn nodes(&self, n: u32) -> u32 {
        n.div_ceil(self.node_gpus.max(1)).max(1)
    }

    /// GPUs of such a group inside one node.
    pub fn local(&self, n: u32) -> u32 {
        n.min(self.node_gpus.max(1))
    }

    /// Bytes over the network at the collectives' efficiency, ms.
    fn network_ms(&self, bytes: f64) -> f64 {
        bytes / (self.network_gb_s * ALLTOALL_EFFICIENCY * 1e9) * 1e3
    }
}

/// The network stage of a hierarchical all-reduce of `bytes` over the first `n` GPUs, ms; 0 when
/// they share a node. NCCL's two-level all-reduce: a reduce-scatter over NVLink inside each node
/// (timed by the caller with the intra-node all-reduce), then each GPU all-reduces its 1/g share
/// with its counterparts on the other k nodes — a ring over nodes, 2(k−1)/k of the share leaving
/// over the GPU's network port — then the all-gather over NVLink. Its fixed cost is the
/// all-to-all's: every rank synchronises over the network once per collective.
pub fn cross_node_allreduce_ms(links: &Links, n: u32, bytes: f64) -> f64 {
    let k = links.nodes(n);
    if k <= 1 {
        return 0.0;
    }
    let g = f64::from(links.local(n));
    let kf = f64::from(k);
    ALLTOALL_US / 1e3 + links.network_ms(2.0 * (kf - 1.0) / kf * bytes / g)
}

/// Transfer time of one step's pipeline hand-offs that cross nodes, ms: stage s (GPUs s·tp …
/// (s+1)·tp − 1) sends its output activations (`bytes`) from each rank to the same rank of the next
/// stage, over the network where the two stages sit on different nodes. The hop's fixed cost is
/// the engine's `split_hop_us`, counted by the caller for every hop.
pub fn stage_handoff_ms(links: &Links, tp: u32, stages: u32, bytes: f64) -> f64 {
    let node = |gpu: u32| gpu / links.node_gpus.max(1);
    let crossing = (1..stages.max(1))
        .filter(|s| node(s * tp) != node(s * tp - 1))
        .count();
    crossing as f64 * links.network_ms(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two DGX H100 nodes: 8 × 400 Gb/s per node, 50 GB/s per GPU.
    const DGX: Links = Links {
        node_gpus: 8,
        network_gb_s: 50.0,
    };

    #[test]
    fn inside_one_node_nothing_crosses_the_network() {
        assert_eq!(cross_node_allreduce_ms(&DGX, 8, 1e6), 0.0);
        assert_eq!(stage_handoff_ms(&DGX, 4, 2, 1e6), 0.0);
    }

    #[test]
    fn tp16_over_two_nodes_sends_one_eighth_of_the_message_each_way() {
        // The 671B's hidden state of one token: 7168 × 2 B = 14,336 B. After the NVLink
        // reduce-scatter each GPU holds 14,336 / 8 = 1,792 B; a ring over 2 nodes sends
        // 2 × 1/2 of that = 1,792 B over 50 GB/s × 0.5: 0.0717 µs, on top of the 80 µs.
        let t = cross_node_allreduce_ms(&DGX, 16, 14_336.0);
        assert!((t - (0.080 + 1_792.0 / 25e9 * 1e3)).abs() < 1e-12, "{t}");
        // A prefill chunk of 8,192 tokens: 117.4 MB; 14.68 MB per GPU over 25 GB/s = 0.587 ms.
        let t = cross_node_allreduce_ms(&DGX, 16, 8192.0 * 14_336.0);
        assert!(
            (t - (0.080 + 14_680_064.0 / 25e9 * 1e3)).abs() < 1e-9,
            "{t}"
        );
    }

    #[test]
    fn four_nodes_send_three_quarters_of_twice_the_share() {
        let t = cross_node_allreduce_ms(&DGX, 32, 8e6);
        // 2 × 3/4 × 1 MB = 1.5 MB over 25 GB/s = 0.06 ms.
        assert!((t - (0.080 + 0.06)).abs() < 1e-12, "{t}");
    }

    #[test]
    fn tp8_pp2_hands_off_once_over_the_network() {
        // 64 tokens × 14,336 B = 917,504 B over 25 GB/s = 0.0367 ms.
        let t = stage_handoff_ms(&DGX, 8, 2, 917_504.0);
        assert!((t - 917_504.0 / 25e9 * 1e3).abs() < 1e-12, "{t}");
        // TP4 × PP4 on two nodes: stages 0,1 on node 0 and 2,3 on node 1; one hop crosses.
        assert_eq!(stage_handoff_ms(&DGX, 4, 4, 1e6), 1e6 / 25e9 * 1e3);
    }
}
