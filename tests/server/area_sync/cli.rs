//! `ironclock pull sync ADDR ADDR …`: the same sync from the shell, without a server; the result
//! printed as JSON on stdout, the progress on stderr.

use super::{fingers, pins, plain, set, sim};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_sync_from_the_shell_gives_every_device_the_union_and_prints_the_result() {
    let a = sim(1..=6, 1, plain()).await;
    let b = sim(7..=9, 2, plain()).await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ironclock"))
        .args(["pull", "sync", &a.addr().to_string(), &b.addr().to_string(), "--tcp", "--timeout", "2"])
        .output()
        .await
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value = serde_json::from_str(&stdout).expect("only JSON on stdout");
    assert_eq!(result["success"], true, "{result}");
    // The progress goes to stderr (plain lines when it is no terminal), one per phase step.
    let stderr = String::from_utf8_lossy(&out.stderr);
    for step in ["area sync: counting, 0/2 devices", "area sync: reading, 2/2 devices", "area sync: done, 2/2 devices"]
    {
        assert!(stderr.contains(step), "no {step:?} in stderr:\n{stderr}");
    }
    assert!(
        stderr.contains("area sync: writing, 1/2 devices") || stderr.contains("area sync: reading back"),
        "{stderr}"
    );
    assert_eq!(result["primary_device"]["id"], 1, "{result}: A (6 users + 6 templates) beats B (3 + 6)");
    assert_eq!(result["total_users_synced"], 9, "{result}");
    for device in [&a, &b] {
        assert_eq!(pins(device), set(1..=9));
        assert_eq!(fingers(device).len(), 12, "6 + 6 templates everywhere");
    }
    let unreachable = tokio::process::Command::new(env!("CARGO_BIN_EXE_ironclock"))
        .args(["pull", "sync", &a.addr().to_string(), "127.0.0.1:1", "--tcp", "--timeout", "0.5"])
        .output()
        .await
        .expect("the binary runs");
    assert!(!unreachable.status.success(), "one device cannot be synced with itself");
    let result: serde_json::Value = serde_json::from_slice(&unreachable.stdout).expect("JSON on stdout");
    assert_eq!(result["errors"][0]["device_id"], 2, "{result}: the unreachable device is named");
}
