//! Reliability under crashes: the server process is SIGKILLed repeatedly while simulated devices
//! upload; it is restarted each time, the devices re-send what was not acknowledged, and in the
//! end every generated punch is stored exactly once (on every backend).

use crate::support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ironclock::sim::push::{run_all, SimPushArgs};

const DEVICES: usize = 4;
/// Kills per backend: `IRONCLOCK_FAULT_KILLS` (default 6 keeps CI short; BENCHMARKS.md §7 runs 50).
fn kills() -> usize {
    std::env::var("IRONCLOCK_FAULT_KILLS").ok().and_then(|s| s.parse().ok()).unwrap_or(6)
}

struct Server {
    child: Child,
}

impl Server {
    fn start(port: u16, db_url: &str, key_file: &std::path::Path) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_ironclock"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--database-url", db_url, "--auto-approve-devices"])
            .arg("--data-key-file")
            .arg(key_file)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ironclock serve");
        Server { child }
    }

    /// SIGKILL: no graceful shutdown, no flushing, like a power cut of the process.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = reqwest::Client::new();
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/healthz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server on port {port} did not become healthy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn punches_survive_repeated_sigkill_of_the_server_exactly_once() {
    let kills = kills();
    // Enough punches that uploads are still running at the last kill.
    let punches_per_device: u64 = 50 * kills as u64;
    for db in support::backends().await {
        let key_dir = tempfile::tempdir().unwrap();
        let key_file = key_dir.path().join("data.key");
        let port = free_port();
        let mut server = Server::start(port, &db.url, &key_file);
        wait_healthy(port).await;

        let args = SimPushArgs {
            devices: DEVICES,
            punches_per_minute: 60.0 * 50.0,
            serial_prefix: "KILL".into(),
            duration_secs: 600,
            punches_per_device,
            batch_lines: 20,
            poll_interval_ms: 500,
            error_delay_ms: Some(100),
            drain_timeout_secs: 120,
            ..SimPushArgs::new(&format!("http://127.0.0.1:{port}"))
        };
        let sim = tokio::spawn(run_all(args));
        for round in 0..kills {
            tokio::time::sleep(Duration::from_millis(150 + 70 * (round % 6) as u64)).await;
            server.kill();
            tokio::time::sleep(Duration::from_millis(100)).await;
            server = Server::start(port, &db.url, &key_file);
            wait_healthy(port).await;
        }
        let report = sim.await.unwrap().unwrap();
        assert_eq!(report.generated, DEVICES as u64 * punches_per_device, "{}", db.backend);
        assert_eq!(report.still_buffered, 0, "{}: devices still hold unacknowledged punches", db.backend);
        assert!(report.failed_uploads > 0, "{}: the kills must actually have interrupted uploads", db.backend);
        server.kill();

        let store = ironclock::store::connect(&db.url, 2).await.unwrap();
        let unique = support::punches::stored_once(&store, db.backend).await;
        let expected = support::punches::generated("KILL", DEVICES, punches_per_device);
        let missing = expected.difference(&unique).count();
        assert_eq!(missing, 0, "{}: {missing} generated punches were lost", db.backend);
        assert_eq!(unique.len(), expected.len(), "{}: unexpected extra punches", db.backend);
        eprintln!(
            "{}: {} punches, {} failed uploads re-sent, {kills} kills, 0 lost, 0 doubled",
            db.backend,
            unique.len(),
            report.failed_uploads
        );
    }
}
