//! Kubernetes: a Deployment and a Service for a plan on one node per replica; a LeaderWorkerSet
//! (leaderworkerset.x-k8s.io/v1, the SIG API the vLLM and SGLang multi-node docs deploy with) and
//! a Service on its leaders for a plan across nodes; a ConfigMap for the files the engine reads;
//! and, for a plan under a load, a HorizontalPodAutoscaler on either.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar,
    EnvVarSource, HTTPGetAction, ObjectFieldSelector, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SecretKeySelector, Service, ServicePort, ServiceSpec, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::autoscaler::hpa;
use super::images::Images;
use super::{Target, argv, stream, yaml};
use crate::catalog::Vendor;
use crate::decide::launch::{LaunchPlan, Node, Role, node_address};
use crate::error::{Error, Result};

/// The Secret the Hugging Face token is read from (`kubectl create secret generic hf-token
/// --from-literal=token=hf_...`); optional, since the R1 repos are public.
pub const HF_SECRET: &str = "hf-token";
/// NCCL and PyTorch's shared-memory transport need more /dev/shm than a container's 64 MiB default
/// (vLLM docs deployment/k8s: an emptyDir of medium Memory mounted at /dev/shm).
const SHM_LIMIT: &str = "16Gi";
/// Loading the 671B takes tens of minutes: the startup probe allows an hour before liveness applies.
const STARTUP_PERIOD_S: i32 = 10;
const STARTUP_FAILURES: i32 = 360;

/// The label LWS puts the group's index in on every pod of a group (sigs.k8s.io/lws
/// `leaderworkerset.sigs.k8s.io/group-index`), and the variable the leader reads it into.
const GROUP_INDEX_LABEL: &str = "leaderworkerset.sigs.k8s.io/group-index";
const GROUP_INDEX_ENV: &str = "LWS_GROUP_INDEX";

/// LeaderWorkerSet, typed as its CRD defines it (sigs.k8s.io/lws api/leaderworkerset/v1).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LeaderWorkerSet {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: LwsSpec,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LwsSpec {
    replicas: i32,
    leader_worker_template: LeaderWorkerTemplate,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LeaderWorkerTemplate {
    /// Pods per group: the leader and its workers.
    size: i32,
    /// A failed pod restarts its whole group (a TP/PP group cannot lose a rank).
    restart_policy: &'static str,
    leader_template: PodTemplateSpec,
    worker_template: PodTemplateSpec,
}

pub fn render(t: &Target, images: &Images, image: &str) -> Result<String> {
    // An autoscaled server exports its queue: the flag that turns /metrics on, and the pod
    // annotations Prometheus's kubernetes-pods scrape job (the prometheus-community chart) reads.
    let scaled = t.autoscale.zip(images.queue_metric.as_deref());
    let with_metrics;
    let t = match (scaled, &images.metrics_flag) {
        (Some(_), Some(flag)) => {
            with_metrics = metrics_on(t.plan, flag);
            &Target {
                plan: &with_metrics,
                ..t.clone()
            }
        }
        _ => t,
    };
    let scrape = scaled.map(|_| {
        let port = t.plan.port.unwrap_or_default().to_string();
        BTreeMap::from([
            ("prometheus.io/scrape".to_string(), "true".to_string()),
            ("prometheus.io/port".to_string(), port),
            ("prometheus.io/path".to_string(), "/metrics".to_string()),
        ])
    });
    let mut docs = vec![];
    let config = config_map(t);
    if let Some(c) = &config {
        docs.push(yaml(c)?);
    }
    let labels = BTreeMap::from([("app".to_string(), t.name.clone())]);
    let head = &t.plan.nodes[0];
    // One worker template serves every worker; a start rank that differs per worker (vLLM's DP
    // ranks) cannot be read from the LWS index without arithmetic.
    if t.plan.nodes.len() > 2
        && t.plan.nodes[1]
            .args
            .iter()
            .any(|a| a == "--data-parallel-start-rank")
    {
        return Err(Error::input(format!(
            "--emit kubernetes: vLLM's DP ranks over {} nodes need a start rank per worker, which one LeaderWorkerSet worker template cannot give; use --emit command (2 nodes work)",
            t.plan.nodes.len()
        )));
    }
    if t.plan.nodes.len() > 1 {
        // LWS exports the leader's address and each pod's index to its containers.
        let leader = pod(
            t,
            images,
            image,
            head,
            Some("$(LWS_LEADER_ADDRESS)"),
            None,
            true,
        );
        let worker_node = &t.plan.nodes[1];
        let worker = pod(
            t,
            images,
            image,
            worker_node,
            Some("$(LWS_LEADER_ADDRESS)"),
            Some("$(LWS_WORKER_INDEX)"),
            false,
        );
        let lws = LeaderWorkerSet {
            api_version: "leaderworkerset.x-k8s.io/v1",
            kind: "LeaderWorkerSet",
            metadata: meta(&t.name, &labels),
            spec: LwsSpec {
                replicas: t.replicas as i32,
                leader_worker_template: LeaderWorkerTemplate {
                    size: t.plan.nodes.len() as i32,
                    restart_policy: "RecreateGroupOnPodRestart",
                    leader_template: template(&labels, Some("leader"), scrape, leader),
                    worker_template: template(&labels, Some("worker"), None, worker),
                },
            },
        };
        docs.push(yaml(&lws)?);
        let mut selector = labels.clone();
        selector.insert("role".into(), "leader".into());
        docs.push(yaml(&service(t, selector))?);
        if let Some((a, metric)) = scaled {
            let api = "leaderworkerset.x-k8s.io/v1";
            docs.push(yaml(&hpa(&t.name, api, "LeaderWorkerSet", metric, a))?);
        }
    } else {
        let spec = pod(t, images, image, head, None, None, true);
        let deployment = Deployment {
            metadata: meta(&t.name, &labels),
            spec: Some(DeploymentSpec {
                replicas: Some(t.replicas as i32),
                selector: LabelSelector {
                    match_labels: Some(labels.clone()),
                    ..Default::default()
                },
                template: template(&labels, None, scrape, spec),
                ..Default::default()
            }),
            ..Default::default()
        };
        docs.push(yaml(&deployment)?);
        docs.push(yaml(&service(t, labels))?);
        if let Some((a, metric)) = scaled {
            docs.push(yaml(&hpa(&t.name, "apps/v1", "Deployment", metric, a))?);
        }
    }
    Ok(stream(docs))
}

/// `plan` with `flag` added to the head's server, which serves the API and its /metrics.
fn metrics_on(plan: &LaunchPlan, flag: &str) -> LaunchPlan {
    let mut plan = plan.clone();
    plan.args.push(flag.to_string());
    if let Some(head) = plan.nodes.first_mut() {
        head.args.push(flag.to_string());
    }
    plan
}

fn meta(name: &str, labels: &BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        labels: Some(labels.clone()),
        ..Default::default()
    }
}

fn template(
    labels: &BTreeMap<String, String>,
    role: Option<&str>,
    annotations: Option<BTreeMap<String, String>>,
    spec: PodSpec,
) -> PodTemplateSpec {
    let mut labels = labels.clone();
    if let Some(r) = role {
        labels.insert("role".into(), r.into());
    }
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            annotations,
            ..Default::default()
        }),
        spec: Some(spec),
    }
}

/// The files of the plan (TRT-LLM's options, Ollama's Modelfile) as one ConfigMap.
fn config_map(t: &Target) -> Option<ConfigMap> {
    if t.plan.files.is_empty() {
        return None;
    }
    let data = t
        .plan
        .files
        .iter()
        .map(|f| (file_key(&f.path), f.content.clone()))
        .collect();
    Some(ConfigMap {
        metadata: ObjectMeta {
            name: Some(format!("{}-files", t.name)),
            ..Default::default()
        },
        data: Some(data),
        ..Default::default()
    })
}

/// A ConfigMap key for a path: its file name.
fn file_key(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

fn pod(
    t: &Target,
    images: &Images,
    image: &str,
    node: &Node,
    address: Option<&str>,
    rank: Option<&str>,
    serves: bool,
) -> PodSpec {
    let plan = t.plan;
    let mut command = argv(plan, node, address, rank);
    // Pods of a LeaderWorkerSet are `<name>-<group>-<index>` in its headless Service `<name>`
    // (sigs.k8s.io/lws, "Design": pod names and subdomain): the other nodes' addresses of an
    // `mpirun -H` host list, with the group from the pod's label. Highest first, so WORKER1 does
    // not match inside WORKER10.
    let mut group_index = false;
    if address.is_some() {
        for n in (1..plan.nodes.len() as u32).rev() {
            let from = node_address(n);
            let to = format!("{}-$({GROUP_INDEX_ENV})-{n}.{}", t.name, t.name);
            for word in command.iter_mut().filter(|w| w.contains(&from)) {
                *word = word.replace(&from, &to);
                group_index = true;
            }
        }
    }
    let args = command.split_off(1);
    let mut env: Vec<EnvVar> = if node.role == Role::Head {
        plan.env
            .iter()
            .map(|(k, v)| EnvVar {
                name: k.clone(),
                value: Some(v.clone()),
                ..Default::default()
            })
            .collect()
    } else {
        vec![]
    };
    if group_index {
        env.push(EnvVar {
            name: GROUP_INDEX_ENV.into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: format!("metadata.labels['{GROUP_INDEX_LABEL}']"),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    env.push(EnvVar {
        name: "HF_TOKEN".into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: HF_SECRET.into(),
                key: "token".into(),
                optional: Some(true),
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    let mut mounts = vec![
        VolumeMount {
            name: "dshm".into(),
            mount_path: "/dev/shm".into(),
            ..Default::default()
        },
        VolumeMount {
            name: "model-cache".into(),
            mount_path: images.cache.clone(),
            ..Default::default()
        },
    ];
    let mut volumes = vec![
        Volume {
            name: "dshm".into(),
            empty_dir: Some(EmptyDirVolumeSource {
                medium: Some("Memory".into()),
                size_limit: Some(Quantity(SHM_LIMIT.into())),
            }),
            ..Default::default()
        },
        Volume {
            name: "model-cache".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        },
    ];
    if node.role == Role::Head && !plan.files.is_empty() {
        volumes.push(Volume {
            name: "files".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: format!("{}-files", t.name),
                ..Default::default()
            }),
            ..Default::default()
        });
        mounts.extend(plan.files.iter().map(|f| VolumeMount {
            name: "files".into(),
            mount_path: f.path.clone(),
            sub_path: Some(file_key(&f.path)),
            read_only: Some(true),
            ..Default::default()
        }));
    }
    let port = plan.port.unwrap_or_default();
    let probe = |period: i32, failures: i32| Probe {
        http_get: Some(HTTPGetAction {
            path: Some(plan.health_path.clone()),
            port: IntOrString::Int(i32::from(port)),
            ..Default::default()
        }),
        period_seconds: Some(period),
        failure_threshold: Some(failures),
        ..Default::default()
    };
    let gpu_resource = match t.vendor {
        Some(Vendor::Amd) => Some("amd.com/gpu"),
        Some(Vendor::Nvidia) => Some("nvidia.com/gpu"),
        Some(Vendor::Intel) => Some("gpu.intel.com/i915"),
        _ => None,
    };
    let resources = gpu_resource.map(|r| ResourceRequirements {
        limits: Some(BTreeMap::from([(
            r.to_string(),
            Quantity(t.gpus_per_node.to_string()),
        )])),
        ..Default::default()
    });
    let container = Container {
        name: t.engine.replace('.', "-"),
        image: Some(image.to_string()),
        command: Some(command),
        args: Some(args),
        env: Some(env),
        ports: serves.then(|| {
            vec![ContainerPort {
                container_port: i32::from(port),
                name: Some("http".into()),
                ..Default::default()
            }]
        }),
        startup_probe: serves.then(|| probe(STARTUP_PERIOD_S, STARTUP_FAILURES)),
        readiness_probe: serves.then(|| probe(10, 3)),
        liveness_probe: serves.then(|| probe(30, 3)),
        resources,
        volume_mounts: Some(mounts),
        ..Default::default()
    };
    PodSpec {
        containers: vec![container],
        volumes: Some(volumes),
        ..Default::default()
    }
}

fn service(t: &Target, selector: BTreeMap<String, String>) -> Service {
    let port = i32::from(t.plan.port.unwrap_or_default());
    Service {
        metadata: ObjectMeta {
            name: Some(t.name.clone()),
            labels: Some(BTreeMap::from([("app".to_string(), t.name.clone())])),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            selector: Some(selector),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port,
                target_port: Some(IntOrString::Int(port)),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}
