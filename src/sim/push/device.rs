//! One simulated push device's life: handshake, take punches, upload them in real time (a
//! backlog in bursts) with re-send after `ErrorDelay`, poll with jitter, stay silent during an
//! outage. See `schedule` for the timing rules.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::Serialize;

use super::client::{execute_and_ack, fetch_commands};
use super::firmware::SimFirmware;
use super::latency::Latencies;
use super::schedule::{announced_error_delay, Schedule};
use super::{PunchGenerator, SimPushArgs};

/// The longest a device sleeps between looks at its clock, buffer and schedule. A device
/// otherwise sleeps until its next event (punch, poll, end of a pause), so 50,000 simulated
/// devices cost about what their traffic costs, not a busy loop each.
const MAX_SLEEP: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Default, Serialize)]
pub struct DeviceReport {
    pub serial: String,
    pub generated: u64,
    pub acknowledged: u64,
    pub still_buffered: u64,
    /// ATTLOG uploads answered `OK`.
    pub uploads: u64,
    pub failed_uploads: u64,
    /// Polls answered with a success status.
    pub polls: u64,
    pub poll_errors: u64,
    pub commands_acked: u64,
    #[serde(skip)]
    pub poll_times: Latencies,
    #[serde(skip)]
    pub upload_times: Latencies,
}

/// Runs one device until generation stops and its buffer drains (or the drain timeout passes).
pub async fn run_device(client: reqwest::Client, args: SimPushArgs, index: usize) -> DeviceReport {
    let serial = args.serial(index);
    let base = args.server.trim_end_matches('/').to_string();
    let schedule = Schedule::from_args(&args);
    let mut rng = StdRng::seed_from_u64((u64::from(args.run) << 32) ^ (args.first_device + index) as u64);
    let mut report = DeviceReport { serial: serial.clone(), ..Default::default() };
    let mut generator = PunchGenerator::new(args.run);
    let mut firmware = SimFirmware::default();
    let mut acc_firmware = super::acc_firmware::AccFirmware::default();
    let acc = args.dialect == super::SimDialect::Acc;
    let mut buffer: VecDeque<String> = VecDeque::new();
    let mut stamp: u64 = 0;
    let start = Instant::now();
    let generate_until = start + Duration::from_secs(args.duration_secs);
    let per_sec = args.punches_per_minute / 60.0;
    // Where in its punch period this device starts, so a fleet's punches arrive spread out
    // rather than all at the same instants.
    let phase: f64 = rng.gen_range(0.0..1.0);
    let mut handshaken = false;
    let mut announced_delay = None;
    // Until it boots the device is off (punches taken meanwhile wait in its buffer); its
    // first poll falls anywhere within one interval, never before it booted.
    let boot = start + schedule.boot(&mut rng);
    let mut quiet_until = boot;
    let mut next_poll = (start + schedule.first_poll(&mut rng)).max(boot);
    loop {
        let now = Instant::now();
        let limit_reached = args.punches_per_device > 0 && generator.generated() >= args.punches_per_device;
        if now < generate_until && !limit_reached {
            let due = (now.duration_since(start).as_secs_f64() * per_sec + phase) as u64;
            let due = if args.punches_per_device > 0 { due.min(args.punches_per_device) } else { due };
            while generator.generated() < due {
                buffer.push_back(generator.next_line());
            }
        } else if buffer.is_empty() || now > generate_until + Duration::from_secs(args.drain_timeout_secs) {
            break;
        }
        let next_punch = if per_sec > 0.0 && now < generate_until {
            start + Duration::from_secs_f64(((generator.generated() + 1) as f64 - phase).max(0.0) / per_sec)
        } else {
            now + MAX_SLEEP
        };
        if now < quiet_until {
            sleep_until(quiet_until.min(next_punch)).await;
            continue;
        }
        if schedule.offline(now - start) {
            sleep_until(next_punch).await; // at most MAX_SLEEP: notices the outage's end
            continue;
        }
        if !handshaken {
            let answered = if acc {
                super::acc::register(&client, &base, &serial).await.ok().flatten()
            } else {
                handshake(&client, &base, &serial).await
            };
            match answered {
                Some(options) => {
                    announced_delay = announced_error_delay(&options);
                    handshaken = true;
                }
                None => {
                    quiet_until = Instant::now() + schedule.error_delay(announced_delay);
                    continue;
                }
            }
        }
        if !buffer.is_empty() {
            // In real time a few lines per request; a backlog goes out in bigger bursts.
            let limit = if buffer.len() > args.realtime_lines { args.batch_lines } else { args.realtime_lines };
            let take = buffer.len().min(limit.max(1));
            stamp += 1;
            let (body, url): (String, String) = if acc {
                // Acc terminals send rtlog rows; `index` is the device's event counter.
                let rows = buffer.iter().take(take).enumerate();
                let body = rows
                    .map(|(i, l)| {
                        format!("{}\r\n", super::acc_firmware::rtlog_row(l, report.acknowledged + i as u64 + 1))
                    })
                    .collect();
                (body, format!("{base}/iclock/cdata?SN={serial}&table=rtlog"))
            } else {
                let body = buffer.iter().take(take).map(|l| format!("{l}\n")).collect();
                (body, format!("{base}/iclock/cdata?SN={serial}&table=ATTLOG&Stamp={stamp}"))
            };
            let sent = Instant::now();
            if upload_acknowledged(&client, &url, body).await {
                report.upload_times.record(sent.elapsed());
                buffer.drain(..take);
                report.acknowledged += take as u64;
                report.uploads += 1;
                continue;
            }
            // Like firmware after a failed upload: keep the data, wait ErrorDelay, reconnect.
            report.failed_uploads += 1;
            quiet_until = Instant::now() + schedule.error_delay(announced_delay);
            handshaken = false;
            continue;
        }
        if now >= next_poll {
            next_poll = now + schedule.next_poll_gap(&mut rng);
            let sent = Instant::now();
            // Most att firmware reports its counters on every poll (push.md 2.7): users,
            // templates, attendance records (which grows with every punch), its address.
            let info = (!acc && !args.no_poll_info).then(|| {
                format!(
                    "Ver%208.0.4.2-20190826,{},0,{},127.0.0.1,10,7,12,0,111",
                    firmware.users.len(),
                    generator.generated()
                )
            });
            match fetch_commands(&client, &base, &serial, info.as_deref()).await {
                Ok((status, reply)) if status.is_success() => {
                    report.poll_times.record(sent.elapsed());
                    report.polls += 1;
                    report.commands_acked += if acc {
                        super::acc::execute_and_ack(&client, &base, &serial, &mut acc_firmware, &reply)
                            .await
                            .unwrap_or(0) as u64
                    } else {
                        run_commands(&client, &base, &serial, &mut firmware, &reply).await
                    };
                }
                _ => {
                    report.poll_errors += 1;
                    quiet_until = Instant::now() + schedule.error_delay(announced_delay);
                }
            }
        }
        sleep_until(next_poll.min(next_punch)).await;
    }
    report.generated = generator.generated();
    report.still_buffered = buffer.len() as u64;
    report
}

/// Sleeps until `at`, but at most [`MAX_SLEEP`] (and at least a millisecond).
async fn sleep_until(at: Instant) {
    let now = Instant::now();
    let wait = at.saturating_duration_since(now).clamp(Duration::from_millis(1), MAX_SLEEP);
    tokio::time::sleep(wait).await;
}

/// `GET cdata?options=all`; the option block when the server answered with one.
async fn handshake(client: &reqwest::Client, base: &str, serial: &str) -> Option<String> {
    let url = format!("{base}/iclock/cdata?SN={serial}&options=all&pushver=2.4.1&language=69");
    let resp = client.get(&url).send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.text().await.ok().filter(|t| t.starts_with("GET OPTION FROM"))
}

/// Whether the server answered the upload with 200 `OK…` (only then may the device forget it).
async fn upload_acknowledged(client: &reqwest::Client, url: &str, body: String) -> bool {
    match client.post(url).body(body).send().await {
        Ok(resp) if resp.status().is_success() => resp.text().await.is_ok_and(|t| t.starts_with("OK")),
        _ => false,
    }
}

/// Executes a poll's commands in the simulated firmware, acknowledges them and sends the
/// firmware's own uploads; returns how many commands ran.
async fn run_commands(
    client: &reqwest::Client,
    base: &str,
    serial: &str,
    firmware: &mut SimFirmware,
    reply: &str,
) -> u64 {
    let Ok(ran) = execute_and_ack(client, base, serial, firmware, reply).await else { return 0 };
    for upload in firmware.take_uploads() {
        let url = format!("{base}/iclock/cdata?SN={serial}&table={}&Stamp=9999", upload.table);
        let _ = client.post(url).body(upload.body).send().await;
    }
    ran as u64
}
