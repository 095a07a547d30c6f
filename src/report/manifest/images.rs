//! data/images.toml: the pinned container image of each engine per accelerator vendor, and the
//! queue gauge its /metrics exports for an autoscaler.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::catalog::Vendor;

const TEXT: &str = include_str!("../../../data/images.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    schema_version: u32,
    image: Vec<Images>,
}

/// One engine's images.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Images {
    pub engine: String,
    pub nvidia: Option<String>,
    pub amd: Option<String>,
    pub intel: Option<String>,
    pub cpu: Option<String>,
    /// Where the engine caches downloaded weights.
    pub cache: String,
    /// The Prometheus gauge of requests waiting for a batch slot.
    pub queue_metric: Option<String>,
    /// The server flag that turns its /metrics on, where it is off by default.
    pub metrics_flag: Option<String>,
    /// Why the engine has no such gauge.
    pub no_queue_metric: Option<String>,
}

impl Images {
    /// The image for `vendor`'s GPUs, or for the CPU when `None`.
    pub fn for_vendor(&self, vendor: Option<Vendor>) -> Option<&str> {
        match vendor {
            None => self.cpu.as_deref(),
            Some(Vendor::Nvidia) => self.nvidia.as_deref(),
            Some(Vendor::Amd) => self.amd.as_deref(),
            Some(Vendor::Intel) => self.intel.as_deref(),
            Some(Vendor::Apple | Vendor::Other) => None,
        }
    }
}

fn all() -> &'static [Images] {
    static DATA: OnceLock<Vec<Images>> = OnceLock::new();
    DATA.get_or_init(|| {
        // The file is embedded at build time; tests::the_image_table_parses reads it.
        toml::from_str::<File>(TEXT)
            .map(|f| f.image)
            .unwrap_or_default()
    })
}

/// The images of `engine`, if it has any.
pub fn image(engine: &str) -> Option<&'static Images> {
    all().iter().find(|i| i.engine == engine)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_image_table_parses_and_names_every_serving_engine() {
        let f: super::File = toml::from_str(super::TEXT).unwrap();
        let engines: Vec<&str> = f.image.iter().map(|i| i.engine.as_str()).collect();
        assert_eq!(engines, ["vllm", "sglang", "trtllm", "llama.cpp", "ollama"]);
        // Every engine either names its queue gauge or says why it has none, never both.
        for i in &f.image {
            assert!(
                i.queue_metric.is_some() != i.no_queue_metric.is_some(),
                "{}",
                i.engine
            );
        }
    }
}
