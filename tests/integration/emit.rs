//! `--emit kubernetes|compose|command`: a snapshot per engine per kind (the cases of
//! tests/data/emit-cases.txt, which CI also validates against the Kubernetes schemas), the
//! multi-node 671B as a LeaderWorkerSet whose leader and worker commands are the sized plan's, and
//! the refusals.

use crate::util::{argv, assert_refused, r1pick, two_nodes};

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
        &argv("estimate 70b --quant bf16 --engine vllm --gpu mi300x:2"),
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
        &argv("estimate 7b --quant q4_k_m --engine llama.cpp --no-gpu --ram 32GB"),
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
        &argv("estimate 7b --quant q4_k_m --engine llama.cpp --gpu m2-ultra --emit kubernetes"),
        "Apple Silicon has none",
    );
    assert_refused(
        &argv("estimate 7b --quant q4_k_m --gpu h100-sxm --emit helm"),
        "'helm'",
    );
    assert_refused(
        &argv("recommend --task chat --gpu l40s --emit compose --json"),
        "give --emit or --json",
    );
}

fn kind<'a>(all: &'a [Yaml], kind: &str) -> Option<&'a Yaml> {
    all.iter().find(|d| d["kind"] == kind)
}

/// `plan --emit kubernetes` scales the fleet it sized: an autoscaling/v2 HPA on the Deployment,
/// min = replicas + spares, max = ⌈replicas × 2⌉ + spares, on SGLang's queue gauge (which needs
/// `--enable-metrics`) through prometheus-adapter's name, at ⌊rate per replica × TTFT limit⌋.
#[test]
fn a_plan_under_a_load_scales_its_deployment_on_the_engines_queue() {
    let args: Vec<&str> = "plan --task chat --gpu h100-sxm --rate 20/s --spares 1"
        .split(' ')
        .collect();
    let out = r1pick().args(&args).arg("--json").output().unwrap();
    let plan: Yaml = serde_json::from_slice(&out.stdout).unwrap();
    let replicas = plan["replicas"].as_u64().unwrap();
    let spares = plan["spares"].as_u64().unwrap();
    let latency_s = plan["slo"]["latency_ms"].as_f64().unwrap() / 1000.0;
    assert_eq!((replicas, spares, latency_s), (2, 1, 1.0));
    let (code, stdout, stderr) = emit(&args, "kubernetes");
    assert_eq!(code, 0, "{stderr}");
    let all = docs(&stdout);
    let hpa = kind(&all, "HorizontalPodAutoscaler").expect("an HPA");
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    let spec = &hpa["spec"];
    assert_eq!(spec["minReplicas"], 3);
    assert_eq!(spec["maxReplicas"], 5);
    let deployment = kind(&all, "Deployment").unwrap();
    assert_eq!(spec["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(spec["scaleTargetRef"]["apiVersion"], "apps/v1");
    assert_eq!(
        spec["scaleTargetRef"]["name"],
        deployment["metadata"]["name"]
    );
    let pods = &spec["metrics"][0]["pods"];
    assert_eq!(spec["metrics"][0]["type"], "Pods");
    assert_eq!(pods["metric"]["name"], "sglang_num_queue_reqs");
    // 20/s over 2 replicas × a 1 s TTFT limit: a mean queue of 10 waits 1 s.
    assert_eq!(pods["target"]["type"], "AverageValue");
    assert_eq!(pods["target"]["averageValue"], "10");
    let template = &deployment["spec"]["template"];
    let container = &template["spec"]["containers"][0];
    assert!(strings(&container["args"]).contains(&"--enable-metrics".to_string()));
    let scrape = &template["metadata"]["annotations"];
    assert_eq!(scrape["prometheus.io/scrape"], "true");
    assert_eq!(scrape["prometheus.io/port"], "30000");
    assert_eq!(scrape["prometheus.io/path"], "/metrics");
}

/// A LeaderWorkerSet scales through the scale subresource its CRD declares; the leaders, which
/// serve the API, export the queue and are the pods its HPA selector picks.
#[test]
fn a_plan_across_nodes_scales_its_leader_worker_set() {
    let args = [
        "plan",
        "--model",
        "671b",
        "--quant",
        "fp8",
        "--engine",
        "sglang",
        "--task",
        "research",
        "--gpu",
        "h100-sxm:16",
        "--rate",
        "0.2/s",
    ];
    let (code, stdout, stderr) = emit(&args, "kubernetes");
    assert_eq!(code, 0, "{stderr}");
    let all = docs(&stdout);
    let lws = kind(&all, "LeaderWorkerSet").unwrap();
    let hpa = kind(&all, "HorizontalPodAutoscaler").unwrap();
    let target = &hpa["spec"]["scaleTargetRef"];
    assert_eq!(target["apiVersion"], "leaderworkerset.x-k8s.io/v1");
    assert_eq!(target["kind"], "LeaderWorkerSet");
    assert_eq!(target["name"], lws["metadata"]["name"]);
    assert_eq!(hpa["spec"]["minReplicas"], lws["spec"]["replicas"]);
    // one DP16 + EP16 replica carries 0.2/s (issue 13): min 1, max twice that
    assert_eq!(hpa["spec"]["minReplicas"], 1);
    assert_eq!(hpa["spec"]["maxReplicas"], 2);
    // 0.2/s on one replica under a 3 s TTFT limit: 0.6 requests, so the floor of one.
    assert_eq!(
        hpa["spec"]["metrics"][0]["pods"]["target"]["averageValue"],
        "1"
    );
    let t = &lws["spec"]["leaderWorkerTemplate"];
    let leader = &t["leaderTemplate"];
    let worker = &t["workerTemplate"];
    let flag = "--enable-metrics".to_string();
    assert!(strings(&leader["spec"]["containers"][0]["args"]).contains(&flag));
    assert!(!strings(&worker["spec"]["containers"][0]["args"]).contains(&flag));
    assert_eq!(
        leader["metadata"]["annotations"]["prometheus.io/scrape"],
        "true"
    );
    assert!(worker["metadata"]["annotations"].is_null());
}

/// TensorRT-LLM and Ollama export no Prometheus queue gauge: no HPA, and a note says why.
#[test]
fn an_engine_without_a_queue_gauge_gets_no_autoscaler_and_a_note() {
    for (engine, why) in [
        ("trtllm", "JSON iteration statistics"),
        ("ollama", "no Prometheus /metrics"),
    ] {
        let args = [
            "plan", "--task", "chat", "--gpu", "h100-sxm", "--rate", "2/s", "--engine", engine,
        ];
        let (code, stdout, stderr) = emit(&args, "kubernetes");
        assert_eq!(code, 0, "{engine}: {stderr}");
        assert!(kind(&docs(&stdout), "Deployment").is_some());
        assert!(kind(&docs(&stdout), "HorizontalPodAutoscaler").is_none());
        assert!(
            stderr.contains("no HorizontalPodAutoscaler") && stderr.contains(why),
            "{stderr}"
        );
    }
}

/// `recommend --rate` plans one replica under the load: its HPA may add one more; without a rate
/// (and for `estimate`) there is no autoscaler.
#[test]
fn recommend_with_a_rate_gets_an_autoscaler_and_without_one_none() {
    let base = [
        "recommend",
        "--task",
        "chat",
        "--gpu",
        "h100-sxm",
        "--engine",
        "vllm",
    ];
    let mut with_rate = base.to_vec();
    with_rate.extend(["--rate", "2/s"]);
    let (code, stdout, stderr) = emit(&with_rate, "kubernetes");
    assert_eq!(code, 0, "{stderr}");
    let all = docs(&stdout);
    let hpa = kind(&all, "HorizontalPodAutoscaler").unwrap();
    assert_eq!(
        (&hpa["spec"]["minReplicas"], &hpa["spec"]["maxReplicas"]),
        (&1.into(), &2.into())
    );
    assert_eq!(
        hpa["spec"]["metrics"][0]["pods"]["metric"]["name"],
        "vllm_num_requests_waiting"
    );
    let (code, stdout, _) = emit(&base, "kubernetes");
    assert_eq!(code, 0);
    assert!(kind(&docs(&stdout), "HorizontalPodAutoscaler").is_none());
}

/// The 671B's EP / DP-attention / MTP plans start each engine with its documented flags and what
/// was sized: vLLM 0.11.0 `--data-parallel-size 8 --enable-expert-parallel` over TP1 per rank and
/// `--speculative-config {"method":"mtp",…}`; SGLang 0.5.2 `--tp 8 --enable-dp-attention --dp 8
/// --ep-size 8` and `--speculative-algorithm EAGLE --speculative-num-steps N …`; TensorRT-LLM's
/// options file `enable_attention_dp`, `moe_expert_parallel_size` and `speculative_config`
/// (`decoding_type: MTP`, `num_nextn_predict_layers`).
#[test]
fn the_671b_ep_dp_and_mtp_plans_start_the_engines_with_their_documented_flags() {
    let case = |name: &str| {
        let (_, args) = cases().into_iter().find(|(n, _)| *n == name).unwrap();
        let out = r1pick().args(&args).arg("--json").output().unwrap();
        let sized: Yaml = serde_json::from_slice(&out.stdout).unwrap();
        let (code, command, stderr) = emit(&args, "command");
        assert_eq!(code, 0, "{name}: {stderr}");
        (sized["workload"].clone(), command)
    };
    let has = |command: &str, words: &str| {
        assert!(command.contains(words), "'{words}' missing from\n{command}");
    };
    let (w, vllm) = case("vllm-671b-dp8-ep");
    assert_eq!(
        (&w["context"], &w["concurrency"]),
        (&8192.into(), &256.into())
    );
    // 256 sequences over 8 DP ranks: vLLM's --max-num-seqs bounds each rank.
    has(
        &vllm,
        "--tensor-parallel-size 1 --max-model-len 8192 --max-num-seqs 32",
    );
    has(
        &vllm,
        "--gpu-memory-utilization 0.9 --data-parallel-size 8 --enable-expert-parallel",
    );
    let (w, sglang) = case("sglang-671b-dp8-ep");
    assert_eq!(w["concurrency"], 256);
    // SGLang divides --max-running-requests by the DP size itself (tp_worker.py).
    has(
        &sglang,
        "--tp 8 --context-length 8192 --max-running-requests 256",
    );
    has(&sglang, "--enable-dp-attention --dp 8 --ep-size 8");
    let (w, trtllm) = case("trtllm-671b-dp8-ep");
    assert_eq!(
        (&w["context"], &w["concurrency"]),
        (&8192.into(), &1024.into())
    );
    has(
        &trtllm,
        "--tp_size 8 --pp_size 1 --max_seq_len 8192 --max_batch_size 128",
    );
    has(
        &trtllm,
        "enable_attention_dp: true\nkv_cache_config:\n  dtype: fp8\n  free_gpu_memory_fraction: 0.9\nmoe_expert_parallel_size: 8\n",
    );
    let (_, vllm) = case("vllm-671b-mtp1");
    has(
        &vllm,
        r#"--speculative-config "{\"method\":\"mtp\",\"num_speculative_tokens\":1}""#,
    );
    let (_, sglang) = case("sglang-671b-mtp3");
    has(
        &sglang,
        "--speculative-algorithm EAGLE --speculative-num-steps 3 --speculative-eagle-topk 1 --speculative-num-draft-tokens 4",
    );
    let (_, trtllm) = case("trtllm-671b-mtp3");
    has(
        &trtllm,
        "speculative_config:\n  decoding_type: MTP\n  num_nextn_predict_layers: 3\n",
    );
    assert!(!trtllm.contains("--mtp") && !trtllm.contains("speculative-"));
}
