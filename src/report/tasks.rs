//! `tasks`: the task policies of data/tasks.toml — the benchmark and floor each task holds a
//! candidate to, its default workload and its default service level.

use schemars::JsonSchema;
use serde::Serialize;

use super::{Render, align_right, duration_ms, table};
use crate::catalog::Task;

/// `tasks --json`: every task as data/tasks.toml states it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TasksDocument {
    pub schema: String,
    pub tasks: Vec<Task>,
}

impl Render for TasksDocument {
    fn table(&self) -> String {
        let mut t = table(&[
            "task",
            "quality floor",
            "prompt",
            "reasoning",
            "answer",
            "context",
            "TTFT ≤",
            "tok/s ≥",
        ]);
        for task in &self.tasks {
            t.add_row(vec![
                task.id.clone(),
                format!("{} ≥ {}", task.benchmark.label(), task.min_score),
                task.prompt_tokens.to_string(),
                task.reasoning_tokens.to_string(),
                task.answer_tokens.to_string(),
                task.context.to_string(),
                duration_ms(task.latency_ms),
                format!("{}", task.min_speed),
            ]);
        }
        align_right(&mut t, &[2, 3, 4, 5, 6, 7]);
        format!(
            "{t}\nGive an id with --task. The floor applies to the paper score × the quant's retention; \
             --latency, --min-speed, --context and the length flags override the defaults.\n\
             Each task's aliases and why it has its floor: r1pick tasks --json, or data/tasks.toml.\n"
        )
    }
}
