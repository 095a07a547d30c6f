//! Fit decisions that must match reality.

use r1pick::sizing::{Deployment, KvDtype, Workload, plan};

use crate::util::{catalog, machine};

fn fits(model: &str, quant: &str, engine: &str, gpu: &str, context: u32) -> bool {
    let c = catalog();
    let hw = machine(gpu);
    let d = Deployment {
        model: c.model(model).unwrap(),
        quant: c.quant(quant).unwrap(),
        engine: c.engine(engine).unwrap(),
        gpus: hw.gpu_count(),
        tensor_parallel: None,
        kv_dtype: KvDtype::Bf16,
        mla_kv: None,
        workload: Workload {
            context,
            prompt: 1024,
            output: 1024,
            concurrency: 1,
        },
    };
    plan(&d, &hw).unwrap().fits
}

#[test]
fn the_671b_in_fp8_needs_more_than_8_h100() {
    assert!(!fits("671b", "fp8", "vllm", "h100-sxm:8", 8192));
    assert!(fits("671b", "fp8", "vllm", "h200:8", 8192));
    assert!(fits("671b", "fp8", "sglang", "h200:8", 32768));
}

#[test]
fn the_70b_in_bf16_does_not_fit_one_80gb_gpu() {
    assert!(!fits("70b", "bf16", "vllm", "h100-sxm", 4096));
    assert!(!fits("70b", "bf16", "vllm", "a100-sxm-80gb", 4096));
    assert!(fits("70b", "bf16", "vllm", "h100-sxm:2", 8192));
}

#[test]
fn the_7b_in_bf16_fits_a_24gb_gpu_at_8k() {
    assert!(fits("7b", "bf16", "vllm", "rtx-4090", 8192));
    assert!(fits("7b", "bf16", "llama.cpp", "rtx-4090", 8192));
    assert!(!fits("14b", "bf16", "vllm", "rtx-4090", 8192));
}
