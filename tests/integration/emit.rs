//! `--emit kubernetes|compose|command`: a snapshot per engine per kind (the cases of
//! tests/data/emit-cases.txt, which CI also validates against the Kubernetes schemas), the
//! multi-node 671B as a LeaderWorkerSet whose leader and worker commands are the sized plan's, and
//! the refusals.

use crate::util::{assert_refused, r1pick, two_nodes};

const CASES: &str = include_str!("../data/emit-cases.txt");

fn cases() -> Vec<(&'static str, Vec<&'static str>)> {
    CASES
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next().unwrap();
            (name, words.collect())
        })
        .collect()
}

fn emit(args: &[&str], kind: &str) -> (i32, String, String) {
    let out = r1pick().args(args).args(["--emit", kind]).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn every_engine_emits_every_kind_as_snapshotted() {
    for (name, args) in cases() {
        for kind in ["kubernetes", "compose", "command"] {
            let (code, stdout, stderr) = emit(&args, kind);
            let multi_node = name.ends_with("-2x8");
            if kind == "compose" && multi_node {
                assert_eq!(code, 2, "{name}: compose is one host");
                assert!(stderr.contains("--emit compose runs one host"), "{stderr}");
                continue;
            }
            assert_eq!(code, 0, "{name} {kind}: {stderr}");
            insta::assert_snapshot!(format!("emit-{name}-{kind}"), stdout);
        }
    }
}

type Yaml = serde_json::Value;

fn docs(stream: &str) -> Vec<Yaml> {
    stream
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_yaml_ng::from_str(d).unwrap())
        .collect()
}

fn strings(v: &Yaml) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The LaunchPlan of the deployment `estimate` sized for these arguments: its workload read from
/// `estimate --json`, planned through `r1pick::decide::launch` directly.
fn sized_plan(engine: &str) -> r1pick::decide::launch::LaunchPlan {
    let out = r1pick()
        .args(two_nodes(engine))
        .arg("--json")
        .output()
        .unwrap();
    let doc: Yaml = serde_json::from_slice(&out.stdout).unwrap();
    let w = &doc["workload"];
    let n = |k: &str| w[k].as_u64().unwrap() as u32;
    let c = crate::util::catalog();
    let hw = crate::util::machine("h100-sxm:16");
    let workload = crate::util::workload(n("context"), n("prompt"), n("output"), n("concurrency"));
    let d = crate::util::deployment(&c, "671b", "fp8", engine, 16, workload);
    let mem = r1pick::sizing::plan(&d, &hw).unwrap();
    r1pick::decide::launch::plan(&d, &mem).unwrap()
}

#[test]
fn the_671b_on_two_nodes_is_a_leader_worker_set_running_the_sized_commands() {
    for engine in ["vllm", "sglang"] {
        let (code, stdout, stderr) = emit(&two_nodes(engine), "kubernetes");
        assert_eq!(code, 0, "{stderr}");
        let all = docs(&stdout);
        let lws = all.iter().find(|d| d["kind"] == "LeaderWorkerSet").unwrap();
        assert_eq!(lws["apiVersion"], "leaderworkerset.x-k8s.io/v1");
        let t = &lws["spec"]["leaderWorkerTemplate"];
        assert_eq!(
            t["size"], 2,
            "{engine}: one leader and one worker per replica"
        );
        let leader = &t["leaderTemplate"]["spec"]["containers"][0];
        let worker = &t["workerTemplate"]["spec"]["containers"][0];
        assert_eq!(leader["resources"]["limits"]["nvidia.com/gpu"], "8");
        assert_eq!(worker["resources"]["limits"]["nvidia.com/gpu"], "8");
        let plan = sized_plan(engine);
        let at_leader = |a: &str| a.replace("HEAD_NODE_IP", "$(LWS_LEADER_ADDRESS)");
        match engine {
            "vllm" => {
                // The Ray head, then the sized vllm serve; the worker joins the head's Ray.
                let script = strings(&leader["args"]).join(" ");
                assert_eq!(strings(&leader["command"]), ["sh"]);
                assert!(script.starts_with("-c ray start --head --port=6379 && exec vllm serve"));
                let serve = r1pick::decide::launch::shell_words(&plan.args);
                assert!(script.ends_with(&serve), "{script}\n{serve}");
                let mut w = strings(&worker["command"]);
                w.extend(strings(&worker["args"]));
                let expected: Vec<String> = std::iter::once(plan.nodes[1].program.clone())
                    .chain(plan.nodes[1].args.iter().map(|a| at_leader(a)))
                    .collect();
                assert_eq!(w, expected);
            }
            _ => {
                let expected: Vec<String> =
                    plan.nodes[0].args.iter().map(|a| at_leader(a)).collect();
                assert_eq!(strings(&leader["args"]), expected);
                // Every worker's rank is its LWS index.
                let mut expected: Vec<String> =
                    plan.nodes[1].args.iter().map(|a| at_leader(a)).collect();
                let rank = expected.iter().position(|a| a == "--node-rank").unwrap();
                assert_eq!(expected[rank + 1], "1");
                expected[rank + 1] = "$(LWS_WORKER_INDEX)".into();
                assert_eq!(strings(&worker["args"]), expected);
                assert!(
                    expected.iter().any(|a| a == "--tp") && expected.contains(&"16".to_string())
                );
            }
        }
        let service = all.iter().find(|d| d["kind"] == "Service").unwrap();
        assert_eq!(service["spec"]["selector"]["role"], "leader");
    }
}

#[test]
fn a_plan_for_amd_gpus_asks_for_amd_gpus_and_runs_the_rocm_image() {
    let (code, stdout, _) = emit(
        &[
            "estimate", "70b", "--quant", "bf16", "--engine", "vllm", "--gpu", "mi300x:2",
        ],
        "kubernetes",
    );
    assert_eq!(code, 0);
    let all = docs(&stdout);
    let c = &all[0]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["resources"]["limits"]["amd.com/gpu"], "2");
    assert!(c["image"].as_str().unwrap().starts_with("rocm/vllm:"));
}

#[test]
fn a_cpu_only_plan_runs_the_cpu_image_without_gpu_limits() {
    let (code, stdout, _) = emit(
        &[
            "estimate",
            "7b",
            "--quant",
            "q4_k_m",
            "--engine",
            "llama.cpp",
            "--no-gpu",
            "--ram",
            "32GB",
        ],
        "kubernetes",
    );
    assert_eq!(code, 0);
    let all = docs(&stdout);
    let c = &all[0]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "ghcr.io/ggml-org/llama.cpp:server-b6700");
    assert!(c["resources"].is_null());
}

#[test]
fn manifests_are_refused_where_no_container_can_run_them() {
    assert_refused(
        &[
            "estimate",
            "7b",
            "--quant",
            "q4_k_m",
            "--engine",
            "llama.cpp",
            "--gpu",
            "m2-ultra",
            "--emit",
            "kubernetes",
        ],
        "Apple Silicon has none",
    );
    assert_refused(
        &[
            "estimate", "7b", "--quant", "q4_k_m", "--gpu", "h100-sxm", "--emit", "helm",
        ],
        "'helm'",
    );
    assert_refused(
        &[
            "recommend",
            "--task",
            "chat",
            "--gpu",
            "l40s",
            "--emit",
            "compose",
            "--json",
        ],
        "give --emit or --json",
    );
}
