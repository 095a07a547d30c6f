//! Every node's commands in order, the head first: what to type on each machine.

use super::Target;
use crate::decide::launch::Role;

pub fn render(t: &Target) -> String {
    let scripts = t.plan.node_scripts();
    if scripts.len() == 1 {
        return format!("{}\n", scripts[0].2);
    }
    let mut out = String::new();
    for (rank, role, text) in scripts {
        let role = match role {
            Role::Head => "head",
            Role::Worker => "worker",
        };
        out.push_str(&format!("# node {rank} ({role})\n{text}\n"));
    }
    out
}
