//! One simulated push device's life: handshake, generate punches, upload with re-send, poll.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::client::poll_and_ack;
use super::firmware::SimFirmware;
use super::{PunchGenerator, SimPushArgs};

#[derive(Debug, Clone, Default, Serialize)]
pub struct DeviceReport {
    pub serial: String,
    pub generated: u64,
    pub acknowledged: u64,
    pub still_buffered: u64,
    pub failed_uploads: u64,
    pub polls: u64,
    pub commands_acked: u64,
}

/// Runs one device until generation stops and its buffer drains (or the drain timeout passes).
pub async fn run_device(client: reqwest::Client, args: SimPushArgs, index: usize) -> DeviceReport {
    let serial = args.serial(index);
    let base = args.server.trim_end_matches('/').to_string();
    let mut report = DeviceReport { serial: serial.clone(), ..Default::default() };
    let mut generator = PunchGenerator::new(args.run);
    let mut firmware = SimFirmware::default();
    let mut buffer: VecDeque<String> = VecDeque::new();
    let mut stamp: u64 = 0;
    let start = Instant::now();
    let generate_until = start + Duration::from_secs(args.duration_secs);
    let per_sec = args.punches_per_minute / 60.0;
    let mut handshaken = false;
    let mut last_poll = Instant::now() - Duration::from_millis(args.poll_interval_ms);
    let mut backoff = Duration::from_millis(100);
    loop {
        let now = Instant::now();
        let limit_reached = args.punches_per_device > 0 && generator.generated() >= args.punches_per_device;
        let generating = now < generate_until && !limit_reached;
        if generating {
            let due = (now.duration_since(start).as_secs_f64() * per_sec) as u64;
            let due = if args.punches_per_device > 0 { due.min(args.punches_per_device) } else { due };
            while generator.generated() < due {
                buffer.push_back(generator.next_line());
            }
        } else if buffer.is_empty() || now > generate_until + Duration::from_secs(args.drain_timeout_secs) {
            break;
        }
        if !handshaken {
            handshaken = handshake(&client, &base, &serial).await;
        }
        if handshaken && !buffer.is_empty() {
            let take = buffer.len().min(args.batch_lines.max(1));
            let body: String = buffer.iter().take(take).map(|l| format!("{l}\n")).collect();
            stamp += 1;
            let url = format!("{base}/iclock/cdata?SN={serial}&table=ATTLOG&Stamp={stamp}");
            match client.post(&url).body(body).send().await {
                Ok(resp) if resp.status().is_success() => match resp.text().await {
                    Ok(text) if text.starts_with("OK") => {
                        buffer.drain(..take);
                        report.acknowledged += take as u64;
                        backoff = Duration::from_millis(100);
                        continue;
                    }
                    _ => report.failed_uploads += 1,
                },
                _ => report.failed_uploads += 1,
            }
            // Like firmware after a failed upload: keep the data, wait, try again.
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
            handshaken = false;
            continue;
        }
        if handshaken && last_poll.elapsed() >= Duration::from_millis(args.poll_interval_ms) {
            last_poll = Instant::now();
            report.polls += 1;
            report.commands_acked += poll(&client, &base, &serial, &mut firmware).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    report.generated = generator.generated();
    report.still_buffered = buffer.len() as u64;
    report
}

async fn handshake(client: &reqwest::Client, base: &str, serial: &str) -> bool {
    let url = format!("{base}/iclock/cdata?SN={serial}&options=all&pushver=2.4.1&language=69");
    match client.get(&url).send().await {
        Ok(resp) if resp.status().is_success() => resp.text().await.is_ok_and(|t| t.starts_with("GET OPTION FROM")),
        _ => false,
    }
}

/// Polls once, executes what arrives in the simulated firmware, acknowledges it and sends the
/// firmware's own uploads; returns how many commands ran.
async fn poll(client: &reqwest::Client, base: &str, serial: &str, firmware: &mut SimFirmware) -> u64 {
    let Ok(ran) = poll_and_ack(client, base, serial, firmware).await else { return 0 };
    for upload in firmware.take_uploads() {
        let url = format!("{base}/iclock/cdata?SN={serial}&table={}&Stamp=9999", upload.table);
        let _ = client.post(url).body(upload.body).send().await;
    }
    ran as u64
}
