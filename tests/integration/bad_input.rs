//! The README's bad-input table, row by row: every bad input gets its exit code, one line on
//! stderr that names the bad value, and nothing on stdout. The README table is checked against
//! these rows, so the documentation shows what r1pick really answers.

use std::path::{Path, PathBuf};

use crate::util::r1pick;

/// One README row: the command as typed (in tests/fixtures/bad/), the exit code, and a piece of
/// the message that names the bad value.
struct Row {
    command: &'static str,
    code: i32,
    names: &'static str,
}

const fn row(command: &'static str, code: i32, names: &'static str) -> Row {
    Row {
        command,
        code,
        names,
    }
}

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // unknown names
    row("r1pick size 13b --gpu l40s", 2, "'13b'; did you mean '14b'?"),
    row("r1pick size 7b --quant q4_k_n --gpu l40s", 2, "'q4_k_n'; did you mean 'q4_k_m'?"),
    row("r1pick estimate 7b --engine vlm --gpu l40s", 2, "'vlm'; did you mean 'vllm'?"),
    row("r1pick size 7b --gpu h1000", 2, "unknown GPU 'h1000'"),
    row("r1pick size 7b --gpu rtx", 2, "GPU 'rtx' is ambiguous"),
    row("r1pick size 7b --gpu a100", 2, "GPU 'a100' is ambiguous; it matches a100-pcie-40gb"),
    row("r1pick check 7b --gpu l40s --task cooking", 2, "unknown task 'cooking'"),
    row("r1pick check 7b --gpu l40s --budget gold", 2, "unknown budget tier 'gold'"),
    row("r1pick size 7b --gpu l40s --kv-dtype int3", 2, "'int3'"),
    row("r1pick models --format yaml", 2, "'yaml'"),
    row("r1pick completions tcsh", 2, "'tcsh'"),
    row("r1pick gpus --bogus", 2, "'--bogus'"),
    // malformed and absurd numbers
    row("r1pick size 7b --gpu h100-sxm:0", 2, "'h100-sxm:0'"),
    row("r1pick size 7b --gpu h100-sxm:two", 2, "'h100-sxm:two'"),
    row("r1pick size 7b --gpu h100-sxm:5000", 2, "'h100-sxm:5000'"),
    row("r1pick size 7b --no-gpu --ram 0", 2, "'0' needs a unit"),
    row("r1pick size 7b --no-gpu --ram 0GiB", 2, "'0GiB' must be greater than zero"),
    row("r1pick size 7b --no-gpu --ram 64", 2, "'64' needs a unit"),
    row("r1pick size 7b --no-gpu --ram 24XB", 2, "'24XB'"),
    row("r1pick size 7b --no-gpu --cpu-bandwidth 0", 2, "bandwidth '0'"),
    row("r1pick size 7b --gpu h100-sxm --context 10000000", 2, "--context 10000000"),
    row("r1pick size 7b --gpu h100-sxm --context 64x", 2, "'64x'"),
    row("r1pick size 7b --gpu l40s --output 0", 2, "'0'"),
    row("r1pick estimate 7b --gpu h100-sxm --concurrency 0", 2, "'0' must be at least 1"),
    row("r1pick estimate 7b --gpu h100-sxm --price -2", 2, "'-2' must be zero or more"),
    row("r1pick estimate 7b --gpu l40s --kwh-price abc", 2, "'abc'"),
    row("r1pick check 7b --gpu l40s --budget -3/h", 2, "'-3/h'"),
    row("r1pick check 7b --gpu l40s --budget 3", 2, "'3' needs a period"),
    row("r1pick check 7b --gpu l40s --budget 3/week", 2, "'/week'"),
    row("r1pick check 7b --gpu l40s --latency 200", 2, "'200' needs a unit"),
    row("r1pick check 7b --gpu l40s --latency fast", 2, "'fast'"),
    row("r1pick check 7b --gpu l40s --answer-within 2d", 2, "'d' in '2d'"),
    row("r1pick check 7b --gpu l40s --min-speed 0", 2, "speed '0'"),
    row("r1pick check 7b --gpu l40s --min-quality 5000", 2, "score '5000'"),
    // load
    row("r1pick estimate 7b --gpu h100-sxm --rate 5/s --concurrency 8", 2, "--rate 5/s and --concurrency 8"),
    row("r1pick estimate 7b --gpu h100-sxm --rate 0/s", 2, "rate '0/s' must be more than zero"),
    row("r1pick estimate 7b --gpu h100-sxm --rate -2/s", 2, "rate '-2/s' must be more than zero"),
    row("r1pick estimate 7b --gpu h100-sxm --rate 5", 2, "rate '5' needs a period"),
    row("r1pick estimate 7b --gpu h100-sxm --rate 1e9/s", 2, "rate 1000000000/s is out of range"),
    row("r1pick check 7b --gpu h100-sxm --prompt 4k..512", 2, "spread '4k..512' runs backwards"),
    row("r1pick check 7b --gpu h100-sxm --percentile 0", 2, "percentile '0' must be above 0"),
    row("r1pick check 7b --gpu h100-sxm --percentile 100.5", 2, "percentile '100.5' must be above 0"),
    // contradictions and impossible deployments
    row("r1pick size", 2, "<MODEL>"),
    row("r1pick check --gpu l40s", 2, "check needs a MODEL"),
    row("r1pick size 7b --no-gpu --gpu h100-sxm", 2, "--no-gpu contradicts --gpu"),
    row("r1pick size 7b --gpus 4", 2, "--gpus N needs --gpu"),
    row("r1pick size 7b --gpu h100-sxm:2 --tp 4", 2, "--tp 4 needs 4 GPUs"),
    row("r1pick size 7b --gpu l40s --engine ollama --tp 2", 2, "ollama splits layers"),
    row("r1pick size 7b --gpu h100-sxm --context 4k --prompt 8k", 2, "--prompt 8192"),
    row("r1pick size 7b --gpu l40s --quant ud-iq1_s", 2, "ud-iq1_s"),
    row("r1pick size 7b --no-gpu --engine vllm", 2, "vllm needs a GPU"),
    row("r1pick size 7b --gpu m3-max-40c --engine vllm", 2, "vllm does not run on Apple M3 Max"),
    row("r1pick estimate 671b --quant fp8 --engine llama.cpp --gpu h100-sxm", 2, "llama.cpp cannot load fp8"),
    row("r1pick estimate 7b --gpu h100-sxm --engine transformers --concurrency 4", 2, "transformers serves one sequence"),
    // files: missing, unreadable, broken TOML, unknown keys
    row("r1pick --catalog missing.toml models", 2, "'missing.toml'"),
    row("r1pick --catalog binary.toml models", 2, "'binary.toml'"),
    row("r1pick --catalog broken.toml gpus", 2, "broken.toml: line 2"),
    row("r1pick --catalog typo.toml models", 2, "typo.toml: line 4: unknown field `memory_gb`"),
    row("r1pick --catalog huge-gpu.toml gpus", 2, "gpu 'huge' has an implausible value"),
    row("r1pick --config missing.toml models", 2, "'missing.toml'"),
    row("r1pick --config typo-config.toml check 7b", 2, "line 3: unknown key 'latncy'; did you mean 'latency'?"),
    row("r1pick --config sections.toml check 7b", 2, "sections.toml: line 2"),
    // the environment
    row("R1PICK_LATENCY=fast r1pick check 7b --gpu l40s", 2, "R1PICK_LATENCY: 'fast'"),
    row("R1PICK_FORMAT=yaml r1pick models", 2, "R1PICK_FORMAT: 'yaml'"),
    row("R1PICK_GPU=h1000 r1pick size 7b", 2, "R1PICK_GPU: unknown GPU 'h1000'"),
    row("r1pick --config gpu-config.toml size 7b", 2, "gpu-config.toml: line 2: gpu: unknown GPU 'h1000'"),
    row("R1PICK_CONFIG=missing.toml r1pick models", 2, "'missing.toml'"),
    // the machine
    row("R1PICK_NVML_LIB=/nonexistent/libnvidia-ml.so.1 r1pick probe --require-gpu", 3, "no GPU could be probed"),
    // the recommender
    row("r1pick recommend --task poetry --gpu l40s", 2, "unknown task 'poetry'"),
    row("r1pick recommend --task code --latency 0ms --gpu l40s", 2, "'0ms'"),
    row("r1pick recommend --task code --engine vllm --quant q4_k_m --gpu l40s", 2, "cannot run --quant q4_k_m"),
    row("r1pick recommend --task code --cloud --gpu h100", 2, "--cloud chooses the GPUs"),
    row("r1pick recommend --task code --answer-within 100ms --latency 200ms --gpu l40s", 2, "shorter than --latency"),
    row("r1pick recommend --task code --tpot 100ms --min-speed 50 --gpu l40s", 2, "--min-speed 50"),
    row("r1pick recommend --task code --prefer cheapest --gpu l40s", 2, "'cheapest'"),
    // fine-tuning
    row("r1pick finetune 8b --gpu rtx-4090 --lora-rank 0", 2, "--lora-rank 0"),
    row("r1pick finetune 8b --gpu rtx-4090 --lora-rank 5000", 2, "--lora-rank 5000"),
    row("r1pick finetune 8b --gpu rtx-4090 --method qlora --quant q4_k_m", 2, "--quant q4_k_m"),
    row("r1pick finetune 8b --gpu rtx-4090 --seq 200k", 2, "--seq 204800"),
    row("r1pick finetune 8b --gpu rtx-4090 --sharding fsdp", 2, "--sharding fsdp"),
    row("r1pick finetune 671b --gpu h200:8", 2, "mixture of experts"),
    row("r1pick finetune 8b --no-gpu", 2, "finetune needs a GPU"),
    row("r1pick finetune 8b --cloud --gpu h100", 2, "--cloud chooses the GPUs"),
    row("r1pick recommend --finetune lora", 2, "--model <MODEL>"),
    // special files: refused before they are opened (FIFOs are in io_faults.rs)
    row("r1pick --config . models", 2, "'.': not a regular file (a directory)"),
    row("r1pick --config /dev/zero models", 2, "'/dev/zero': not a regular file (a character device)"),
    row("r1pick --catalog /dev/zero models", 2, "catalog file '/dev/zero': not a regular file"),
    row("r1pick size 7b --hardware /dev/zero", 2, "hardware file '/dev/zero': not a regular file"),
    row("R1PICK_NVML_SNAPSHOT=/dev/zero r1pick probe", 2, "NVML snapshot file '/dev/zero': not a regular file"),
    row("R1PICK_NVML_LIB=/dev/zero r1pick probe", 2, "R1PICK_NVML_LIB='/dev/zero': not a regular file"),
    // catalog overrides: the same bounds as the embedded catalog
    row("r1pick --catalog nan-score.toml models", 2, "score gpqa_diamond = NaN"),
    row("r1pick --catalog nan-retention.toml models", 2, "quant 'q4_k_m' has a retention outside"),
    row("r1pick --catalog tiny-gpu.toml gpus", 2, "gpu 'tiny' has an implausible value"),
    row("r1pick --catalog twice.toml gpus", 2, "gpu 'huge' is defined twice"),
    row("r1pick --catalog alias-clash.toml gpus", 2, "the name 'h100' already names gpu 'h100-sxm'"),
    row("r1pick --catalog bidi-id.toml gpus", 2, "'evil\\u{202e}gpu'"),
    // machine files: the catalog's bounds, at the file's line
    row("r1pick size 7b --hardware fast-gpu.toml", 2, "line 5: bandwidth_gb_s = 1e300"),
    row("r1pick size 7b --hardware slow-gpu.toml", 2, "line 6: fp16_tflops = 1e-300"),
    row("r1pick size 7b --hardware price.toml", 2, "line 4: usd_per_hour = 1e308"),
    row("r1pick size 7b --hardware huge-memory.toml", 2, "line 4: memory = \"1000000TiB\""),
    row("r1pick size 7b --hardware cores.toml", 2, "line 3: cores = 4294967295"),
    row("r1pick size 7b --hardware pcie.toml", 2, "line 7: pcie_gen = 0"),
    row("r1pick size 7b --hardware host-bandwidth.toml", 2, "host-bandwidth.toml: line 3: cpu_bandwidth_gb_s"),
    row("r1pick size 7b --hardware escape-name.toml", 2, "Acme\\u{1b}[31m X1"),
    // contradictions named, not resolved silently
    row("r1pick size 7b --gpu h100-sxm:4 --gpus 2", 2, "--gpu 'h100-sxm:4' gives a count and --gpus 2 another"),
    row("r1pick size 7b --gpu h100-sxm --gpu l40s --gpus 2", 2, "--gpus 2 counts a single --gpu"),
    row("r1pick recommend --task code --cloud --gpus 2", 2, "--cloud chooses the GPUs"),
    row("r1pick models --json --format table", 2, "--json contradicts --format table"),
    row("r1pick size 7b --gpu h100-sxm --mla-kv expanded", 2, "--mla-kv applies to the MLA cache"),
    // negative and non-finite numbers name their flag
    row("r1pick size 7b --no-gpu --ram -5GB", 2, "'-5GB' for '--ram <SIZE>'"),
    row("r1pick size 7b --gpu l40s --context -1", 2, "'-1' for '--context <TOKENS>'"),
    row("r1pick estimate 7b --gpu l40s --concurrency -1", 2, "'-1' for '--concurrency <N>'"),
    row("r1pick size 7b --gpu l40s --gpus -1", 2, "'-1' for '--gpus <N>'"),
    row("r1pick size 7b --gpu l40s --tp -1", 2, "'-1' for '--tp <N>'"),
    row("r1pick size 7b --no-gpu --cpu-bandwidth -1", 2, "'-1' for '--cpu-bandwidth <GB/S>'"),
    row("r1pick check 7b --gpu l40s --latency -5ms", 2, "'-5ms' for '--latency <DURATION>'"),
    row("r1pick check 7b --gpu l40s --tpot -1ms", 2, "'-1ms' for '--tpot <DURATION>'"),
    row("r1pick size 7b --gpu l40s --context 1e400", 2, "'1e400' is not a token count"),
    row("r1pick size 7b --gpu l40s --context NaN", 2, "'NaN' is not a token count"),
    row("r1pick size 7b --no-gpu --ram 0.0000001B", 2, "'0.0000001B' is less than one byte"),
    row("r1pick size 7b --no-gpu --ram 2000TiB", 2, "give at most 1024 TiB"),
    row("r1pick size 7b --gpu :4", 2, "--gpu ':4': a GPU name must come before ':'"),
    row("r1pick size 7b --gpu h100-sxm:2:3", 2, "--gpu 'h100-sxm:2:3': give one count"),
    // models you bring
    row("r1pick size missing/config.json --gpu l40s", 2, "'missing/config.json' does not exist"),
    row("r1pick size gemma-config.json --gpu l40s", 2, "model_type 'gemma3_text' is not supported"),
    row("r1pick size wrong-magic.gguf --gpu l40s", 2, "not a GGUF file"),
    row("r1pick size truncated.gguf --gpu l40s", 2, "truncated or corrupt"),
    row("r1pick size hf:deepseek-ai --gpu l40s", 2, "hf:deepseek-ai is not a repo id"),
    row("r1pick recommend --model 7b --score gpqa_diamond=50 --gpu l40s", 2, "--score applies to a model you bring"),
    row("r1pick recommend --model mistral-config.json --score mmlu=60 --gpu l40s", 2, "unknown benchmark 'mmlu'"),
    row("HF_ENDPOINT=http://127.0.0.1:1 HF_HOME=/nonexistent/hf r1pick size hf:org/model --gpu l40s", 3, "offline? pass a local config.json or .gguf instead"),
    // sweeps and plots
    row("r1pick estimate 7b --gpu h100-sxm --sweep batch=1,2", 2, "unknown sweep axis 'batch'"),
    row("r1pick estimate 7b --gpu h100-sxm --sweep concurrency=", 2, "'concurrency=' has an empty value"),
    row("r1pick estimate 7b --gpu h100-sxm --sweep concurrency=8..8", 2, "range '8..8' is empty"),
    row("r1pick estimate 7b --gpu h100-sxm --sweep concurrency=256..1", 2, "range '256..1' runs backwards"),
    row("r1pick estimate 7b --gpu h100-sxm --sweep concurrency=1..300:257", 2, "asks for 257 points; at most 256"),
    row("r1pick estimate 7b --gpu h100-sxm --sweep concurrency=1..8 --concurrency 4", 2, "--concurrency 4 and --sweep concurrency"),
    row("r1pick estimate 7b --gpu h100-sxm --plot chart.svg", 2, "--plot chart.svg draws a sweep"),
    row("r1pick estimate 7b --gpu h100-sxm --sweep concurrency=1..8 --plot chart.png", 2, "--plot chart.png: r1pick draws SVG only"),
    row("r1pick estimate 7b --gpu h100-sxm --sweep concurrency=1..8 --plot .", 2, "--plot . is a directory"),
    row("r1pick estimate 7b --gpu h100-sxm --sweep concurrency=1..8 --plot /nonexistent/sweep.svg", 3, "cannot write --plot /nonexistent/sweep.svg"),
    row("r1pick recommend --task chat --gpu h100-sxm --plot /nonexistent/pareto.svg", 3, "cannot write --plot /nonexistent/pareto.svg"),
    // fleets
    row("r1pick plan --gpu h100-sxm --rate 20", 2, "rate '20' needs a period"),
    row("r1pick plan --gpu h100-sxm --daily 100k --rate 2/s", 2, "'--daily <N>' cannot be used with '--rate <RATE>'"),
    row("r1pick check 7b --gpu h100-sxm --rate 2/s --replicas 0", 2, "invalid value '0' for '--replicas <N>'"),
    row("r1pick plan --gpu h100-sxm --rate 2/s --headroom 0", 2, "--headroom '0' must be above 0 and below 1"),
    row("r1pick plan --gpu h100-sxm --rate 2/s --headroom 1", 2, "--headroom '1' must be above 0 and below 1"),
    row("r1pick plan --gpu h100-sxm --rate 2/s --headroom 1.5", 2, "--headroom '1.5' must be above 0 and below 1"),
    row("r1pick plan --gpu h100-sxm", 2, "plan needs a load"),
    row("r1pick plan --gpu h100-sxm --daily 100k/day", 2, "--daily '100k/day' is requests per day already"),
    row("r1pick plan --gpu h100-sxm --rate 2/s --peak-factor 3", 2, "--peak-factor scales --daily"),
    row("r1pick plan --cloud --gpu h100 --rate 2/s", 2, "--cloud chooses the GPU type itself"),
    row("r1pick estimate 671b --quant q4_k_m --engine llama.cpp --gpu h200:8 --mtp 3", 2, "llama.cpp has no MTP speculative decoding"),
    row("r1pick estimate 671b --quant fp8 --engine sglang --gpu h200:8 --mtp 5", 2, "--mtp 5: sglang's MTP acceptance is measured only"),
    row("r1pick estimate 7b --engine vllm --gpu h100-sxm --mtp 1", 2, "has no MTP module"),
    row("r1pick size 671b --quant fp8 --engine sglang --gpu h200:8 --ep 512", 2, "--ep 512: deepseek-r1's 256 routed experts do not split evenly over 512 ranks"),
    row("r1pick size 671b --quant fp8 --engine sglang --gpu h200:8 --ep 3", 2, "--ep 3: deepseek-r1's 256 routed experts do not split evenly"),
    row("r1pick size 671b --quant q4_k_m --engine llama.cpp --gpu h200:8 --dp-attention", 2, "llama.cpp has no DP attention"),
    row("r1pick size 70b --engine vllm --gpu h200:8 --ep 8", 2, "--ep 8: deepseek-r1-distill-llama-70b is a dense model"),
    row("r1pick size 671b --quant nvfp4 --engine trtllm --gpu h200:8", 2, "NVFP4 only on GPUs with FP4 tensor cores"),
    // nodes and the network
    row("r1pick estimate 671b --gpu h100-sxm:16 --nodes 3", 2, "--nodes 3 does not split 16 GPUs"),
    row("r1pick estimate 671b --gpu h100-sxm:16 --network myrinet", 2, "--network 'myrinet': unknown link kind"),
    row("r1pick estimate 7b --nodes 2", 2, "--nodes and --network describe a simulated cluster"),
    // --emit
    row("r1pick estimate 7b --gpu l40s --emit helm", 2, "'helm' for '--emit <FORMAT>'"),
    row("r1pick estimate 7b --quant q4_k_m --engine llama.cpp --gpu m2-ultra --emit kubernetes", 2, "Apple Silicon has none"),
    row("r1pick estimate 671b --quant fp8 --gpu h100-sxm:16 --emit compose", 2, "--emit compose runs one host"),
    row("r1pick estimate 671b --quant fp8 --engine vllm --gpu h100-sxm:32 --ep 32 --dp 32 --emit kubernetes", 2, "vLLM's DP ranks over 4 nodes need a start rank per worker"),
    row("r1pick recommend --task chat --gpu l40s --emit compose --json", 2, "give --emit or --json"),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad")
}

/// Run a row as typed: leading `NAME=value` words are environment variables.
fn run(row: &Row) -> (i32, String, String) {
    let mut words = row.command.split_whitespace();
    let mut cmd = r1pick();
    cmd.current_dir(fixtures());
    for word in words.by_ref() {
        match word.split_once('=') {
            Some((name, value)) if name.starts_with("R1PICK_") || name.starts_with("HF_") => {
                cmd.env(name, value);
            }
            _ => {
                assert_eq!(word, "r1pick", "{}", row.command);
                break;
            }
        }
    }
    let out = cmd.args(words).output().expect("r1pick runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Exit code, silence on stdout, one `error:` line naming the bad value; `Err` says what is wrong.
fn check_row(row: &Row) -> Result<(), String> {
    let (code, stdout, stderr) = run(row);
    let cmd = row.command;
    if code != row.code {
        return Err(format!("`{cmd}`: exit {code}, not {}: {stderr}", row.code));
    }
    if !stdout.is_empty() {
        return Err(format!("`{cmd}` printed on stdout: {stdout}"));
    }
    if stderr.lines().count() != 1 || !stderr.starts_with("error: ") {
        return Err(format!("`{cmd}` must say one `error:` line: {stderr}"));
    }
    if !stderr.contains(row.names) {
        return Err(format!(
            "`{cmd}` must name the bad value ({}): {stderr}",
            row.names
        ));
    }
    Ok(())
}

fn check_rows(rows: &[Row]) {
    let failures: Vec<String> = rows.iter().filter_map(|r| check_row(r).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_bad_input_gets_its_code_and_one_line() {
    assert!(ROWS.len() >= 60);
    check_rows(ROWS);
}

/// The README's "Bad input" rows: (command, exit code, answer), in order.
fn readme_rows() -> Vec<(String, i32, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("### Bad input")
        .nth(1)
        .expect("README has a '### Bad input' section");
    let section = section.split("\n#").next().unwrap_or_default();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            let unquote = |c: &str| c.trim_matches('`').trim().to_string();
            (
                unquote(cells[0]),
                cells[1].parse().expect("exit code"),
                unquote(cells[2]),
            )
        })
        .collect()
}

/// The README shows each row's real answer (a long one cut with "…").
#[test]
fn the_readme_table_is_what_r1pick_answers() {
    let readme = readme_rows();
    let commands: Vec<&str> = ROWS.iter().map(|r| r.command).collect();
    let documented: Vec<&str> = readme.iter().map(|(c, _, _)| c.as_str()).collect();
    assert_eq!(documented, commands, "README rows and test rows differ");
    for ((command, code, answer), row) in readme.iter().zip(ROWS) {
        assert_eq!(*code, row.code, "README exit code of `{command}`");
        let (_, _, stderr) = run(row);
        let line = stderr.trim_end().trim_start_matches("error: ");
        let shown = answer.trim_end_matches('…');
        assert!(
            line.starts_with(shown),
            "README answer of `{command}` is not what r1pick says:\n  README: {shown}\n  actual: {line}"
        );
    }
}
