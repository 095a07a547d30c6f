//! Capability gates (issue 10 item 7): what the engines refuse is refused with their reason and
//! exit 2 by `size` and `estimate`, never offered by `recommend`; what they run instead is what
//! r1pick plans (FP16 with `--dtype half` on a V100). Reasons and sources: data/engines.toml.

use crate::util::{assert_refused, r1pick};

/// A command's JSON document, after checking it exits 0.
fn json(args: &[&str]) -> serde_json::Value {
    let out = r1pick().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn both(args: &[&str], needle: &str) {
    for cmd in ["size", "estimate"] {
        let mut full = vec![cmd];
        full.extend_from_slice(args);
        assert_refused(&full, needle);
    }
}

#[test]
fn bf16_below_compute_capability_8_is_refused_for_fp16() {
    // (SGLang does not run on a V100 at all: compute capability 7.5 and up.)
    for (gpu, engine) in [("v100-sxm2-32gb", "vllm"), ("t4", "vllm"), ("t4", "sglang")] {
        both(
            &["8b", "--quant", "bf16", "--engine", engine, "--gpu", gpu],
            "use --quant fp16",
        );
    }
}

#[test]
fn recommend_on_a_v100_runs_fp16_with_dtype_half() {
    let v = json(&[
        "recommend",
        "--task",
        "chat",
        "--gpu",
        "v100-sxm2-32gb",
        "--engine",
        "vllm",
        "--json",
    ]);
    let r = &v["recommendation"];
    assert_eq!(r["quant"], "fp16");
    let args: Vec<&str> = r["launch"]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        args.windows(2).any(|w| w == ["--dtype", "half"]),
        "{args:?}"
    );
    // nothing in the alternatives is BF16 either
    for alt in v["alternatives"].as_array().unwrap() {
        assert_ne!(alt["quant"], "bf16", "{alt}");
    }
}

#[test]
fn fp8_w8a8_on_an_a100_is_refused_by_trtllm_and_sglang() {
    both(
        &[
            "8b",
            "--quant",
            "fp8",
            "--engine",
            "trtllm",
            "--gpu",
            "a100-sxm-80gb",
        ],
        "TensorRT-LLM runs FP8 on Ada, Hopper and Blackwell only",
    );
    both(
        &[
            "8b",
            "--quant",
            "fp8",
            "--engine",
            "sglang",
            "--gpu",
            "a100-sxm-80gb",
        ],
        "compute capability 8.9",
    );
}

/// vLLM runs FP8 on an A100 weight-only through Marlin: it loads, and its prefill runs at the
/// 16-bit rate (A100 has no FP8 tensor cores), so FP8 prefill is no faster than BF16's.
#[test]
fn vllm_fp8_on_an_a100_runs_at_weight_only_speed() {
    let prefill = |quant: &str| {
        let out = r1pick()
            .args([
                "estimate",
                "8b",
                "--quant",
                quant,
                "--engine",
                "vllm",
                "--gpu",
                "a100-sxm-80gb",
                "--json",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{quant}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["performance"]["prefill_tokens_per_s"].as_f64().unwrap()
    };
    let (fp8, bf16) = (prefill("fp8"), prefill("bf16"));
    assert!((fp8 / bf16 - 1.0).abs() < 0.05, "fp8 {fp8} vs bf16 {bf16}");
}

#[test]
fn fp8_on_v100_and_t4_is_refused() {
    for gpu in ["v100-sxm2-32gb", "t4"] {
        both(
            &["8b", "--quant", "fp8", "--engine", "vllm", "--gpu", gpu],
            "vLLM runs FP8 checkpoints on compute capability 8.0 or newer only",
        );
    }
}

#[test]
fn w4a16_marlin_needs_compute_capability_8() {
    for engine in ["vllm", "sglang"] {
        both(
            &["8b", "--quant", "int4", "--engine", engine, "--gpu", "t4"],
            "Marlin kernels, which need compute capability 8.0",
        );
    }
    // An A10 (8.6) runs it.
    let v = json(&[
        "size", "8b", "--quant", "int4", "--engine", "vllm", "--gpu", "a10", "--json",
    ]);
    assert_eq!(v["quant"], "int4", "{v}");
}

/// vLLM's and SGLang's W4A16 kernels (Marlin, Machete) are CUDA-only: on ROCm the catalog's INT4
/// checkpoints have no kernel, on the MI300X as on the MI250X (data/engines.toml cites the vLLM
/// docs' supported-hardware table and the 0.9.2 source). INT8 W8A8 runs there (vLLM's ROCm
/// scaled-mm kernels: AITER, Triton) and FP8 runs on the MI300X's FP8 units.
#[test]
fn w4a16_is_refused_on_rocm_by_vllm_and_sglang() {
    for gpu in ["mi300x", "mi250x"] {
        both(
            &["8b", "--quant", "int4", "--engine", "vllm", "--gpu", gpu],
            "vLLM's ROCm build has no kernel for these W4A16 checkpoints",
        );
    }
    both(
        &[
            "8b", "--quant", "int4", "--engine", "sglang", "--gpu", "mi300x",
        ],
        "SGLang on ROCm has no kernel for these W4A16 checkpoints",
    );
    for quant in ["int8", "fp8", "bf16"] {
        let v = json(&[
            "size", "8b", "--quant", quant, "--engine", "vllm", "--gpu", "mi300x", "--json",
        ]);
        assert_eq!(v["quant"], quant, "{v}");
    }
}

/// `recommend` on AMD GPUs never offers what the ROCm builds refuse: no INT4 on vLLM or SGLang,
/// no FP8 on the MI250X.
#[test]
fn recommend_on_rocm_never_offers_w4a16_or_fp8_without_fp8_units() {
    for gpu in ["mi300x", "mi250x:2"] {
        let v = json(&["recommend", "--task", "chat", "--gpu", gpu, "--json"]);
        let offered =
            std::iter::once(&v["recommendation"]).chain(v["alternatives"].as_array().unwrap());
        let mut seen = 0;
        for o in offered {
            let (engine, quant) = (o["engine"].as_str().unwrap(), o["quant"].as_str().unwrap());
            seen += 1;
            assert!(
                !(quant == "int4" && (engine == "vllm" || engine == "sglang")),
                "{engine} {quant} offered on {gpu}"
            );
            assert!(
                !(gpu.starts_with("mi250x") && quant == "fp8"),
                "{engine} {quant} offered on {gpu}"
            );
        }
        assert!(seen > 1, "{gpu}: {v}");
    }
}

#[test]
fn llama_cpp_kv_types_are_refused_by_vllm_and_sglang() {
    for engine in ["vllm", "sglang", "trtllm"] {
        for kv in ["q8_0", "q4_0"] {
            both(
                &[
                    "8b",
                    "--engine",
                    engine,
                    "--gpu",
                    "h100-sxm",
                    "--kv-dtype",
                    kv,
                ],
                &format!(
                    "{engine} does not allocate a {kv} KV cache (--kv-dtype: bf16, fp16, fp8)"
                ),
            );
        }
    }
}

#[test]
fn fp8_kv_is_refused_by_llama_cpp_and_ollama() {
    for engine in ["llama.cpp", "ollama"] {
        both(
            &[
                "8b",
                "--engine",
                engine,
                "--quant",
                "q4_k_m",
                "--gpu",
                "h100-sxm",
                "--kv-dtype",
                "fp8",
            ],
            &format!(
                "{engine} does not allocate a fp8 KV cache (--kv-dtype: bf16, fp16, q8_0, q4_0)"
            ),
        );
    }
}

/// The launch command allocates the KV type that was sized.
#[test]
fn launch_commands_carry_the_sized_kv_dtype() {
    use r1pick::decide::launch;
    use r1pick::sizing::{Deployment, KvDtype, Workload, plan};
    let c = crate::util::catalog();
    let hw = crate::util::machine("h100-sxm");
    let cases = [
        ("vllm", "bf16", KvDtype::Fp8, " --kv-cache-dtype fp8"),
        ("sglang", "bf16", KvDtype::Fp8, " --kv-cache-dtype fp8_e4m3"),
        (
            "llama.cpp",
            "q4_k_m",
            KvDtype::Q8_0,
            " --cache-type-k q8_0 --cache-type-v q8_0",
        ),
        (
            "ollama",
            "q4_k_m",
            KvDtype::Q4_0,
            "OLLAMA_KV_CACHE_TYPE=q4_0 ",
        ),
    ];
    for (engine, quant, kv, flag) in cases {
        let mut d = Deployment::new(
            c.model("8b").unwrap(),
            c.quant(quant).unwrap(),
            c.engine(engine).unwrap(),
            1,
            Workload {
                context: 8192,
                prompt: 1024,
                output: 1024,
                concurrency: 1,
            },
        );
        d.kv_dtype = kv;
        let command = launch::command(&d, &plan(&d, &hw).unwrap()).unwrap();
        assert!(command.contains(flag), "{engine}: {command}");
    }
}

/// `check` may not pass on a KV type the engine does not have (it passed before, sized at q4_0).
#[test]
fn check_refuses_a_kv_type_the_engine_lacks() {
    let out = r1pick()
        .args([
            "check",
            "8b",
            "--engine",
            "vllm",
            "--gpu",
            "h100-sxm",
            "--kv-dtype",
            "q4_0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn tensor_parallel_degrees_the_engines_reject_list_the_valid_ones() {
    both(
        &["14b", "--gpu", "h100-sxm:5", "--tp", "5"],
        "8 KV heads: tensor parallel 5 neither divides them nor is a multiple of them (valid: 1, 2, 4)",
    );
    both(
        &["1.5b", "--gpu", "h100-sxm:3", "--tp", "3"],
        "2 KV heads: tensor parallel 3 neither divides them nor is a multiple of them (valid: 1, 2)",
    );
    both(
        &["7b", "--gpu", "h100-sxm:7", "--tp", "7"],
        "4 KV heads: tensor parallel 7 neither divides them nor is a multiple of them (valid: 1, 2, 4)",
    );
}

#[test]
fn recommend_never_offers_a_refused_tp_or_quant() {
    let v = json(&[
        "recommend",
        "--task",
        "chat",
        "--gpu",
        "a100-sxm-80gb",
        "--json",
        "--explain",
    ]);
    let offered =
        std::iter::once(&v["recommendation"]).chain(v["alternatives"].as_array().unwrap());
    for o in offered {
        let (engine, quant) = (o["engine"].as_str().unwrap(), o["quant"].as_str().unwrap());
        assert!(
            !(quant == "fp8" && (engine == "sglang" || engine == "trtllm")),
            "{engine} {quant} offered on an A100"
        );
    }
}

#[test]
fn fp8_on_amd_runs_only_where_the_gpu_has_fp8_units() {
    // MI250X (gfx90a) has no FP8; vLLM's ROCm platform refuses FP8 there (vllm/platforms/rocm.py).
    both(
        &[
            "8b", "--quant", "fp8", "--engine", "vllm", "--gpu", "mi250x",
        ],
        "vLLM runs FP8 on AMD only where the GPU has FP8 units",
    );
    // The MI300X (gfx942) runs it, with vLLM and SGLang.
    for engine in ["vllm", "sglang"] {
        let v = json(&[
            "size", "8b", "--quant", "fp8", "--engine", engine, "--gpu", "mi300x", "--json",
        ]);
        assert_eq!(
            (&v["quant"], &v["engine"]),
            (&"fp8".into(), &engine.into()),
            "{v}"
        );
    }
}
