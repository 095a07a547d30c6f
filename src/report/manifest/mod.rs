//! `--emit kubernetes|compose|command`: what deploys a plan, rendered from its [`LaunchPlan`], the
//! replica count and the accelerators. Kubernetes objects are k8s-openapi's typed definitions (the
//! LeaderWorkerSet a small typed struct around its PodTemplateSpecs) and compose files typed
//! structs, all serialized to YAML; nothing is assembled as text.

mod autoscaler;
mod command;
mod compose;
mod images;
mod kubernetes;

use serde::Serialize;

use crate::catalog::Vendor;
use crate::decide::launch::{LaunchPlan, Node, Role, shell_words};
use crate::error::{Error, Result};

pub use autoscaler::{Autoscale, rule as autoscale_rule};
pub use images::image;

/// The formats `--emit` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Emit {
    /// A Deployment (or a LeaderWorkerSet across nodes) and its Service.
    Kubernetes,
    /// A docker compose file for one host.
    Compose,
    /// Every node's commands, the head first.
    Command,
}

/// What to deploy: one replica's launch, how many replicas, and on what.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// Object name stem: `r1pick-<model>-<quant>-<engine>`, made DNS-safe.
    pub name: String,
    pub engine: &'a str,
    pub plan: &'a LaunchPlan,
    pub replicas: u32,
    /// The accelerators' vendor; `None` on a machine without a GPU.
    pub vendor: Option<Vendor>,
    /// GPUs one node of a replica uses.
    pub gpus_per_node: u32,
    /// A HorizontalPodAutoscaler for `--emit kubernetes`, for a plan made under a load whose
    /// engine exports a queue gauge ([`queue_metric`]).
    pub autoscale: Option<Autoscale>,
}

/// The queue gauge `engine` exports for an autoscaler, or why it has none.
pub fn queue_metric(engine: &str) -> std::result::Result<&'static str, String> {
    let images = image(engine).ok_or_else(|| format!("{engine} publishes no container image"))?;
    match (&images.queue_metric, &images.no_queue_metric) {
        (Some(m), _) => Ok(m),
        (None, Some(why)) => Err(why.clone()),
        (None, None) => Err(format!("{engine} exports no queue gauge")),
    }
}

/// The manifest or script for `t` in `format`, or why it cannot be made (exit 2).
pub fn render(t: &Target, format: Emit) -> Result<String> {
    match format {
        Emit::Command => Ok(command::render(t)),
        Emit::Compose => {
            let (images, image) = runnable(t, "compose")?;
            compose::render(t, images, image)
        }
        Emit::Kubernetes => {
            let (images, image) = runnable(t, "kubernetes")?;
            kubernetes::render(t, images, image)
        }
    }
}

/// The image a container runtime can start for `t`, or why there is none.
fn runnable(t: &Target, format: &str) -> Result<(&'static images::Images, &'static str)> {
    if t.vendor == Some(Vendor::Apple) {
        return Err(Error::input(format!(
            "--emit {format} needs a container runtime that reaches the GPU, and Apple Silicon has none (containers on macOS cannot use Metal); use --emit command"
        )));
    }
    if t.plan.port.is_none() {
        return Err(Error::input(format!(
            "--emit {format} deploys a server, and {} is not one; use --emit command or --engine vllm, sglang, trtllm, llama.cpp or ollama",
            t.engine
        )));
    }
    let on = match t.vendor {
        Some(v) => format!("{v:?} GPUs").to_lowercase(),
        None => "a machine without a GPU".to_string(),
    };
    image(t.engine)
        .and_then(|i| Some((i, i.for_vendor(t.vendor)?)))
        .ok_or_else(|| {
            Error::input(format!(
                "--emit {format}: {} publishes no container image for {on} (data/images.toml); use --emit command",
                t.engine
            ))
        })
}

/// An object name Kubernetes and compose accept: lower-case letters, digits and dashes, at most
/// 63 characters, starting and ending with a letter or digit (RFC 1123 label).
pub fn object_name(parts: &[&str]) -> String {
    let raw = parts.join("-").to_ascii_lowercase();
    let mut name = String::new();
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    let name: String = name.chars().take(63).collect();
    name.trim_matches('-').to_string()
}

/// YAML of one serializable object. The types are plain structs and maps of strings and numbers.
fn yaml<T: Serialize>(value: &T) -> Result<String> {
    let fail = |e: serde_yaml_ng::Error| {
        Error::Environment(format!("cannot write the manifest as YAML: {e}"))
    };
    let value = serde_yaml_ng::to_value(value).map_err(fail)?;
    if let Some(word) = yaml11_bool(&value) {
        return Err(Error::Environment(format!(
            "cannot write the manifest: the value '{word}' would be read as a boolean by Kubernetes"
        )));
    }
    serde_yaml_ng::to_string(&value).map_err(fail)
}

/// A string Kubernetes would misread. It parses YAML with YAML 1.1 booleans (sigs.k8s.io/yaml over
/// go-yaml v2), where a plain `on`, `off`, `yes`, `no`, `y` or `n` is a bool; serde_yaml_ng writes
/// YAML 1.2, where they are strings and stay unquoted, and it cannot be told to quote them. So no
/// argument r1pick emits may be one (llama-server gets `--flash-attn enabled`, not `on`).
fn yaml11_bool(v: &serde_yaml_ng::Value) -> Option<&str> {
    use serde_yaml_ng::Value;
    const YAML11_BOOLS: [&str; 16] = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF",
    ];
    match v {
        Value::String(s) => YAML11_BOOLS.contains(&s.as_str()).then_some(s.as_str()),
        Value::Sequence(items) => items.iter().find_map(yaml11_bool),
        Value::Mapping(m) => m
            .iter()
            .find_map(|(k, v)| yaml11_bool(k).or(yaml11_bool(v))),
        Value::Tagged(t) => yaml11_bool(&t.value),
        _ => None,
    }
}

/// A multi-document YAML stream.
fn stream(docs: Vec<String>) -> String {
    docs.iter()
        .map(|d| format!("---\n{d}"))
        .collect::<Vec<_>>()
        .join("")
}

/// The container's argv for `node`: its program and arguments, or `sh -c` when the node runs
/// steps before its server (a Ray head) or after it (Ollama's pull and create). `address`
/// replaces `HEAD_NODE_IP`; `rank` the node's `--node-rank` value.
fn argv(plan: &LaunchPlan, node: &Node, address: Option<&str>, rank: Option<&str>) -> Vec<String> {
    let fix = |args: &[String]| -> Vec<String> {
        let mut out: Vec<String> = args
            .iter()
            .map(|a| match address {
                Some(addr) => a.replace("HEAD_NODE_IP", addr),
                None => a.clone(),
            })
            .collect();
        if let (Some(r), Some(i)) = (rank, out.iter().position(|a| a == "--node-rank"))
            && let Some(v) = out.get_mut(i + 1)
        {
            *v = r.to_string();
        }
        out
    };
    let mut main = vec![node.program.clone()];
    main.extend(fix(&node.args));
    let after = if node.role == Role::Head {
        plan.after.as_slice()
    } else {
        &[]
    };
    if node.before.is_empty() && after.is_empty() {
        return main;
    }
    let line = |c: &[String]| shell_words(&fix(c));
    let mut steps: Vec<String> = node.before.iter().map(|c| line(c)).collect();
    if after.is_empty() {
        steps.push(format!("exec {}", shell_words(&main)));
        return vec!["sh".into(), "-c".into(), steps.join(" && ")];
    }
    // The server in the background, the steps after it, then wait on the server.
    let mut script = steps.iter().map(|s| format!("{s} && ")).collect::<String>();
    script.push_str(&format!("{{ {} & }}; ", shell_words(&main)));
    for c in after {
        script.push_str(&format!("{} && ", line(c)));
    }
    script.push_str("wait");
    vec!["sh".into(), "-c".into(), script]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_kubernetes_would_read_as_a_boolean_is_refused() {
        assert!(yaml(&vec!["--flash-attn", "on"]).is_err());
        let out = yaml(&vec!["--flash-attn", "enabled", "8000"]).unwrap();
        assert_eq!(out, "- --flash-attn\n- enabled\n- '8000'\n");
    }

    #[test]
    fn object_names_are_rfc1123_labels() {
        assert_eq!(
            object_name(&[
                "r1pick",
                "deepseek-r1-distill-qwen-1.5b",
                "q4_k_m",
                "llama.cpp"
            ]),
            "r1pick-deepseek-r1-distill-qwen-1-5b-q4-k-m-llama-cpp"
        );
        let long = object_name(&["x"; 40]);
        assert!(long.len() <= 63 && !long.ends_with('-'));
    }
}
