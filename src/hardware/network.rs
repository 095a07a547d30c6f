//! Nodes and the network between them (issue 13), from data/network.toml: the GPUs one node holds,
//! the named inter-node link kinds, and the network assumed when nothing names one.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const TEXT: &str = include_str!("../../data/network.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkData {
    #[allow(dead_code)]
    schema_version: u32,
    node: NodeData,
    default: DefaultNetwork,
    link: Vec<LinkKind>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeData {
    gpus: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultNetwork {
    kind: String,
    ports_per_node: u32,
}

/// One named inter-node link kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkKind {
    pub id: String,
    pub name: String,
    /// Line rate of one port, Gb/s.
    pub gbit_s: f64,
    pub source: String,
}

fn data() -> &'static NetworkData {
    static DATA: OnceLock<NetworkData> = OnceLock::new();
    // The file is compiled in and parsed by the `network_data_parses` test: it cannot fail here.
    DATA.get_or_init(|| toml::from_str(TEXT).expect("data/network.toml parses"))
}

/// Most network ports one node may have (a plausible bound for a file or flag).
pub const MAX_PORTS: u32 = 64;

/// GPUs per node when nothing says otherwise (data/network.toml `[node] gpus`).
pub fn default_node_gpus() -> u32 {
    data().node.gpus
}

/// The named link kinds, in data order.
pub fn kinds() -> &'static [LinkKind] {
    &data().link
}

/// The network between a machine's nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Network {
    /// Link kind id (data/network.toml), e.g. "infiniband-ndr".
    pub kind: String,
    pub name: String,
    /// Line rate of one port, Gb/s.
    pub port_gbit_s: f64,
    pub ports_per_node: u32,
    /// True when nothing named the network and r1pick took its default.
    pub assumed: bool,
}

impl Default for Network {
    /// The default network, marked as assumed.
    fn default() -> Self {
        let d = &data().default;
        // The default kind is one of the file's kinds (tested by `the_default_is_a_known_kind`).
        let mut n = Network::of(&d.kind, Some(d.ports_per_node)).expect("default network kind");
        n.assumed = true;
        n
    }
}

impl Network {
    /// A named link kind with `ports` per node (the default's port count when `None`); the error
    /// names the bad value and lists the valid kinds.
    pub fn of(kind: &str, ports: Option<u32>) -> Result<Network> {
        let key = kind.trim().to_ascii_lowercase();
        let Some(link) = kinds().iter().find(|k| k.id == key) else {
            return Err(Error::input(format!(
                "--network '{kind}': unknown link kind (valid: {})",
                kinds()
                    .iter()
                    .map(|k| k.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let ports = ports.unwrap_or(data().default.ports_per_node);
        if !(1..=MAX_PORTS).contains(&ports) {
            return Err(Error::input(format!(
                "ports_per_node = {ports}: give 1 to {MAX_PORTS}"
            )));
        }
        Ok(Network {
            kind: link.id.clone(),
            name: link.name.clone(),
            port_gbit_s: link.gbit_s,
            ports_per_node: ports,
            assumed: false,
        })
    }

    /// The node's whole network bandwidth per direction, GB/s.
    pub fn node_gb_s(&self) -> f64 {
        self.port_gbit_s * f64::from(self.ports_per_node) / 8.0
    }

    /// "InfiniBand NDR, 8 × 400 Gb/s per node".
    pub fn label(&self) -> String {
        format!(
            "{}, {} × {} Gb/s per node",
            self.name, self.ports_per_node, self.port_gbit_s
        )
    }
}

/// Nodes of a machine of `gpus` GPUs: `asked` when given (it must divide the GPUs into equal
/// nodes), else as many nodes of the default size as the GPUs fill.
pub fn nodes(gpus: u32, asked: Option<u32>) -> Result<u32> {
    match asked {
        None => Ok(gpus.div_ceil(default_node_gpus()).max(1)),
        Some(0) => Err(Error::input("--nodes 0: a machine has at least 1 node")),
        Some(n) if gpus == 0 && n > 1 => Err(Error::input(format!(
            "--nodes {n}: a machine without GPUs is planned as one node"
        ))),
        Some(n) if gpus > 0 && !gpus.is_multiple_of(n) => {
            let valid: Vec<String> = (1..=gpus)
                .filter(|k| gpus.is_multiple_of(*k))
                .map(|k| k.to_string())
                .collect();
            Err(Error::input(format!(
                "--nodes {n} does not split {gpus} GPUs into equal nodes (valid: {})",
                valid.join(", ")
            )))
        }
        Some(n) => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_data_parses() {
        assert_eq!(default_node_gpus(), 8);
        assert_eq!(kinds().len(), 6);
    }

    #[test]
    fn the_default_is_a_known_kind() {
        let n = Network::default();
        assert_eq!(n.kind, "infiniband-ndr");
        assert!(n.assumed);
        // 8 × 400 Gb/s = 400 GB/s per node, 50 GB/s per GPU of an 8-GPU node.
        assert_eq!(n.node_gb_s(), 400.0);
    }

    #[test]
    fn an_unknown_kind_lists_the_valid_ones() {
        let e = Network::of("infiniband-ndr2", None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "--network 'infiniband-ndr2': unknown link kind (valid: infiniband-ndr, infiniband-hdr, infiniband-xdr, roce-400g, roce-200g, ethernet-100g)"
        );
    }

    #[test]
    fn nodes_follow_the_count_or_must_divide_it() {
        assert_eq!(nodes(16, None).unwrap(), 2);
        assert_eq!(nodes(8, None).unwrap(), 1);
        assert_eq!(nodes(12, None).unwrap(), 2);
        assert_eq!(nodes(0, None).unwrap(), 1);
        assert_eq!(nodes(16, Some(4)).unwrap(), 4);
        assert_eq!(
            nodes(16, Some(3)).unwrap_err().to_string(),
            "--nodes 3 does not split 16 GPUs into equal nodes (valid: 1, 2, 4, 8, 16)"
        );
        assert!(nodes(16, Some(0)).is_err());
    }
}
