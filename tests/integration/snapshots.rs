//! The output corpus: the real binary on simulated hardware only, one snapshot per command with
//! its exit code, stdout and stderr. It pins every byte r1pick prints, so a change that should not
//! change output (a refactoring) proves it did not. Never accept a changed snapshot to make a
//! refactoring pass: a difference here means the output changed.

use crate::util::r1pick;

/// One command: environment variables, then the arguments, as a user would type them.
#[rustfmt::skip]
const CORPUS: &[(&str, &str)] = &[
    // the catalog
    ("models", "models"),
    ("models-json", "models --json"),
    ("gpus", "gpus"),
    ("gpus-json", "--format json gpus"),
    ("tasks", "tasks"),
    ("tasks-json", "tasks --json"),
    // probe, simulated only
    ("probe-h100x8", "probe --gpu h100-sxm:8"),
    ("probe-h200-json", "probe --gpu h200 --json"),
    ("probe-no-gpu", "probe --no-gpu --ram 64GiB --cpu-bandwidth 90"),
    ("probe-mixed", "probe --gpu rtx-4090 --gpu rtx-3090:2"),
    ("probe-file", "probe --hardware machine.toml"),
    ("probe-file-json", "probe --hardware machine.toml --ram 512GiB --json"),
    ("probe-m3", "probe --gpu m3-max-40c --json"),
    // size
    ("size-7b-h100", "size 7b --gpu h100-sxm"),
    ("size-671b-fp8-h200x8", "size 671b --quant fp8 --gpu h200:8"),
    ("size-671b-fp8-h100x8", "size 671b --quant fp8 --gpu h100-sxm:8"),
    ("size-70b-llamacpp-json", "size 70b --quant q4_k_m --engine llama.cpp --gpu rtx-4090:2 --json"),
    ("size-14b-cpu", "size 14b --no-gpu --ram 64GiB"),
    ("size-32b-tp-json", "size 32b --gpu a100-sxm-80gb:4 --tp 2 --context 32k --concurrency 8 --json"),
    ("size-671b-fp8-h100x16", "size 671b --quant fp8 --gpu h100-sxm:16 --json"),
    ("size-file", "size 8b --hardware machine.toml --kv-dtype fp8"),
    ("size-671b-mla", "size 671b --quant ud-iq1_s --engine llama.cpp --gpu rtx-4090:4 --ram 256GiB --mla-kv expanded"),
    // estimate
    ("estimate-70b-llamacpp-json", "estimate 70b --quant q4_k_m --engine llama.cpp --gpu rtx-4090:2 --json"),
    ("estimate-7b-32k", "estimate 7b --gpu h100-sxm --context 32k --concurrency 16"),
    ("estimate-671b-sglang", "estimate 671b --quant fp8 --engine sglang --gpu h200:8"),
    ("estimate-671b-sglang-json", "estimate 671b --quant fp8 --engine sglang --gpu h200:8 --json"),
    ("estimate-32b-ollama", "estimate 32b --engine ollama --gpu rtx-4090"),
    ("estimate-7b-transformers", "estimate 7b --engine transformers --gpu l40s"),
    ("estimate-7b-trtllm-json", "estimate 7b --engine trtllm --gpu h100-sxm --json"),
    ("estimate-671b-offload", "estimate 671b --quant ud-iq1_s --engine llama.cpp --gpu rtx-4090 --ram 256GiB"),
    ("estimate-14b-cpu", "estimate 14b --no-gpu --ram 64GiB --kwh-price 0.3"),
    ("estimate-8b-m3-json", "estimate 8b --gpu m3-max-40c --json"),
    ("estimate-14b-task-price", "estimate 14b --gpu l40s --task code --price 1.5"),
    ("estimate-7b-vllm-tp", "estimate 7b --engine vllm --gpu l40s:2 --prompt 4k --output 2k"),
    // under load: the README's two examples
    ("estimate-70b-nim-concurrency", "estimate 70b --quant fp8 --engine trtllm --kv-dtype fp8 --gpu h100-sxm:2 --context 8k --prompt 5000 --output 500 --concurrency 250"),
    ("check-671b-rate-unsustainable", "check 671b --quant fp8 --engine sglang --gpu h200:8 --prompt 1k --output 1k --rate 6/s --latency 500ms"),
    // recommend
    ("recommend-code", "recommend --task code --latency 200ms --gpu h100-sxm"),
    ("recommend-code-json", "recommend --task code --latency 200ms --gpu h100-sxm --json"),
    ("recommend-research-cloud", "recommend --task research --cloud --budget 3/h"),
    ("recommend-research-cloud-json", "recommend --task research --cloud --budget 3/h --json"),
    ("recommend-chat-explain", "recommend --task chat --gpu rtx-4090 --explain"),
    ("recommend-chat-explain-json", "recommend --task chat --gpu rtx-4090 --explain --json"),
    ("recommend-hardest-none", "recommend --task hardest --gpu l40s"),
    ("recommend-hardest-none-json", "recommend --task hardest --gpu l40s --json"),
    ("recommend-hardest-best-effort", "recommend --task hardest --gpu l40s --best-effort"),
    ("recommend-math-cost-cloud", "recommend --task math --prefer cost --cloud --budget startup"),
    ("recommend-speed", "recommend --task chat --prefer speed --gpu h100-sxm:2 --json"),
    ("recommend-cpu", "recommend --task extraction --no-gpu --ram 64GiB"),
    ("recommend-long-doc-pins", "recommend --task long-document --engine vllm --gpu a100-sxm-80gb:2 --answer-within 2m"),
    ("recommend-file", "recommend --task summarization --hardware machine.toml --tpot 50ms"),
    ("recommend-cloud-explain-json", "recommend --task code --cloud --budget 2000/month --min-speed 20 --explain --json"),
    // check
    ("check-7b-chat", "check 7b --gpu l40s --task chat"),
    ("check-7b-chat-json", "check 7b --gpu l40s --task chat --json"),
    ("check-7b-latency-fail", "check 7b --gpu l40s --latency 10ms"),
    ("check-7b-latency-fail-json", "check 7b --gpu l40s --latency 10ms --budget 1/h --json"),
    ("check-best", "check --task code --gpu h100-sxm"),
    ("check-671b-no-fit", "check 671b --gpu l40s --json"),
    ("check-quiet", "--quiet check 14b --gpu h100-sxm --task code"),
    ("check-quality", "check 1.5b --quant int4 --gpu l40s --task classification --min-quality 80"),
    ("check-replicas", "check 671b --quant fp8 --engine sglang --gpu h200:8 --prompt 1k --output 1k --rate 6/s --replicas 2 --latency 1s"),
    ("plan-h100", "plan --task chat --gpu h100-sxm --rate 20/s --spares 1"),
    ("plan-671b-json", "plan --model 671b --quant fp8 --task research --gpu h100-sxm --rate 0.2/s --json"),
    ("plan-beyond", "plan --model 14b --task chat --gpu h100-sxm --rate 50000/s"),
    // configuration and the environment
    ("config-file", "--config r1pick-config.toml check 7b"),
    ("config-file-flag-wins", "--config r1pick-config.toml check 7b --latency 1s --json"),
    ("env-gpu", "R1PICK_GPU=h200 size 14b"),
    ("env-format", "R1PICK_FORMAT=json R1PICK_CONTEXT=16k size 7b --gpu l40s"),
    ("env-latency-bad", "R1PICK_LATENCY=fast check 7b --gpu l40s"),
    // errors and exit codes
    ("err-unknown-model", "size 13b --gpu l40s"),
    ("err-unknown-quant", "size 7b --quant q4_k_n --gpu l40s"),
    ("err-unknown-engine", "estimate 7b --engine vlm --gpu l40s"),
    ("err-unknown-gpu", "size 7b --gpu h1000"),
    ("err-ambiguous-gpu", "size 7b --gpu rtx"),
    ("err-unknown-task", "recommend --task poetry --gpu l40s"),
    ("err-format", "models --format yaml"),
    ("err-flag", "gpus --bogus"),
    ("err-ram-unit", "size 7b --no-gpu --ram 64"),
    ("err-context", "size 7b --gpu h100-sxm --context 10000000"),
    ("err-missing-model", "size"),
    ("err-check-needs-model", "check --gpu l40s"),
    ("err-no-gpu-contradiction", "size 7b --no-gpu --gpu h100-sxm"),
    ("err-tp", "size 7b --gpu h100-sxm:2 --tp 4"),
    ("err-engine-quant", "estimate 671b --quant fp8 --engine llama.cpp --gpu h100-sxm"),
    ("err-transformers-batch", "estimate 7b --gpu h100-sxm --engine transformers --concurrency 4"),
    ("err-vllm-cpu", "size 7b --no-gpu --engine vllm"),
    ("err-budget", "check 7b --gpu l40s --budget 3/week"),
    ("err-cloud-gpu", "recommend --task code --cloud --gpu h100"),
    ("err-answer-within", "recommend --task code --answer-within 100ms --latency 200ms --gpu l40s"),
    ("err-catalog-missing", "--catalog missing.toml models"),
    ("err-catalog-typo", "--catalog ../bad/typo.toml models"),
    ("err-config-typo", "--config ../bad/typo-config.toml check 7b"),
    ("err-hardware-missing", "probe --hardware nowhere.toml"),
    ("no-subcommand", ""),
    // generated help
    ("help-recommend", "recommend --help"),
    ("completions-bash", "completions bash"),
];

fn run(line: &str) -> String {
    let mut cmd = r1pick();
    cmd.current_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/snapshots"
    ));
    let mut args = Vec::new();
    for word in line.split_whitespace() {
        match word.split_once('=') {
            Some((key, value)) if key.starts_with("R1PICK_") && args.is_empty() => {
                cmd.env(key, value);
            }
            _ => args.push(word),
        }
    }
    let out = cmd.args(&args).output().expect("the binary runs");
    format!(
        "$ r1pick {line}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status
            .code()
            .map_or("signal".to_string(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn every_command_of_the_corpus_prints_what_it_printed_before() {
    assert_eq!(
        CORPUS.len(),
        95,
        "the README counts the commands of the corpus"
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (name, line) in CORPUS {
            insta::assert_snapshot!(*name, run(line));
        }
    });
}
