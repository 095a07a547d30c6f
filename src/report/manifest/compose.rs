//! A `docker compose` file for one host: the engine's service with its GPU reservation (compose
//! spec "deploy.resources.reservations.devices"; ROCm devices for AMD), shared memory, the model
//! cache volume, the HF token from the environment and the plan's files as inline configs.

use std::collections::BTreeMap;

use serde::Serialize;

use super::images::Images;
use super::{Target, argv, yaml};
use crate::catalog::Vendor;
use crate::error::{Error, Result};

#[derive(Debug, Serialize)]
struct Compose {
    services: BTreeMap<String, ComposeService>,
    volumes: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    configs: BTreeMap<String, InlineConfig>,
}

#[derive(Debug, Serialize)]
struct ComposeService {
    image: String,
    command: Vec<String>,
    /// The image's entrypoint is replaced: the command is the whole argv.
    entrypoint: Vec<String>,
    environment: BTreeMap<String, String>,
    ports: Vec<String>,
    volumes: Vec<String>,
    shm_size: String,
    ipc: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    devices: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    group_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    configs: Vec<ConfigMount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deploy: Option<Deploy>,
}

#[derive(Debug, Serialize)]
struct ConfigMount {
    source: String,
    target: String,
}

#[derive(Debug, Serialize)]
struct InlineConfig {
    content: String,
}

#[derive(Debug, Serialize)]
struct Deploy {
    resources: Resources,
}

#[derive(Debug, Serialize)]
struct Resources {
    reservations: Reservations,
}

#[derive(Debug, Serialize)]
struct Reservations {
    devices: Vec<DeviceRequest>,
}

#[derive(Debug, Serialize)]
struct DeviceRequest {
    driver: &'static str,
    count: u32,
    capabilities: Vec<&'static str>,
}

pub fn render(t: &Target, images: &Images, image: &str) -> Result<String> {
    if t.plan.nodes.len() > 1 {
        return Err(Error::input(format!(
            "--emit compose runs one host, and this plan spans {} nodes; use --emit kubernetes or --emit command",
            t.plan.nodes.len()
        )));
    }
    let head = &t.plan.nodes[0];
    let mut command = argv(t.plan, head, None, None);
    let entrypoint = vec![command.remove(0)];
    let mut environment: BTreeMap<String, String> = t.plan.env.iter().cloned().collect();
    // Compose interpolates the token from the shell that runs it; unset, it is empty.
    environment.insert("HF_TOKEN".into(), "${HF_TOKEN:-}".into());
    let port = t.plan.port.unwrap_or_default();
    let configs: BTreeMap<String, InlineConfig> = t
        .plan
        .files
        .iter()
        .map(|f| {
            (
                config_name(&f.path),
                InlineConfig {
                    content: f.content.clone(),
                },
            )
        })
        .collect();
    let (devices, group_add, deploy) = match t.vendor {
        Some(Vendor::Nvidia) => (
            vec![],
            vec![],
            Some(Deploy {
                resources: Resources {
                    reservations: Reservations {
                        devices: vec![DeviceRequest {
                            driver: "nvidia",
                            count: t.gpus_per_node,
                            capabilities: vec!["gpu"],
                        }],
                    },
                },
            }),
        ),
        // ROCm containers reach the GPUs through these devices (ROCm docs, "Running ROCm Docker
        // containers").
        Some(Vendor::Amd) => (
            vec!["/dev/kfd".into(), "/dev/dri".into()],
            vec!["video".into()],
            None,
        ),
        Some(Vendor::Intel) => (vec!["/dev/dri".into()], vec![], None),
        _ => (vec![], vec![], None),
    };
    let service = ComposeService {
        image: image.to_string(),
        command,
        entrypoint,
        environment,
        ports: vec![format!("{port}:{port}")],
        volumes: vec![format!("model-cache:{}", images.cache)],
        shm_size: "16gb".into(),
        ipc: "host",
        devices,
        group_add,
        configs: t
            .plan
            .files
            .iter()
            .map(|f| ConfigMount {
                source: config_name(&f.path),
                target: f.path.clone(),
            })
            .collect(),
        deploy,
    };
    let doc = Compose {
        services: BTreeMap::from([(t.name.clone(), service)]),
        volumes: BTreeMap::from([("model-cache".to_string(), BTreeMap::new())]),
        configs,
    };
    yaml(&doc)
}

fn config_name(path: &str) -> String {
    super::object_name(&[path.rsplit('/').next().unwrap_or(path)])
}
