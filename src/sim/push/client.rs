//! `SimPushDevice`: one simulated device driven step by step (tests call `poll_once` and
//! `upload` directly), speaking HTTP to a real server and executing commands in `SimFirmware`.

use super::firmware::{Faults, SimFirmware};

pub struct SimPushDevice {
    client: reqwest::Client,
    base: String,
    pub serial: String,
    pub firmware: SimFirmware,
}

impl SimPushDevice {
    pub fn new(base: &str, serial: &str, faults: Faults) -> Self {
        Self {
            client: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_string(),
            serial: serial.to_string(),
            firmware: SimFirmware::new(faults),
        }
    }

    /// `GET /iclock/cdata?options=all`: returns the option block.
    pub async fn handshake(&self) -> reqwest::Result<String> {
        let url = format!("{}/iclock/cdata?SN={}&options=all&pushver=2.4.1&language=69", self.base, self.serial);
        self.client.get(url).send().await?.text().await
    }

    /// One poll: executes every command received, acknowledges them (INFO in its own body, as
    /// firmware does), then sends what the firmware wants to upload. Returns the commands run.
    pub async fn poll_once(&mut self) -> reqwest::Result<usize> {
        let reply = poll_and_ack(&self.client, &self.base, &self.serial, &mut self.firmware).await?;
        for upload in self.firmware.take_uploads() {
            self.upload(upload.table, &upload.body).await?;
        }
        Ok(reply)
    }

    /// Polls until a poll brings no command (at most `max_polls`); returns commands run.
    pub async fn poll_until_idle(&mut self, max_polls: usize) -> reqwest::Result<usize> {
        let mut total = 0;
        for _ in 0..max_polls {
            let n = self.poll_once().await?;
            if n == 0 {
                break;
            }
            total += n;
        }
        Ok(total)
    }

    /// `POST /iclock/cdata?table=<table>`: returns the reply text.
    pub async fn upload(&self, table: &str, body: &str) -> reqwest::Result<String> {
        let url = format!("{}/iclock/cdata?SN={}&table={table}&Stamp=9999", self.base, self.serial);
        self.client.post(url).body(body.to_string()).send().await?.text().await
    }
}

/// Polls once, executes the `C:<id>:<cmd>` lines in `firmware` and posts the acks.
pub(crate) async fn poll_and_ack(
    client: &reqwest::Client,
    base: &str,
    serial: &str,
    firmware: &mut SimFirmware,
) -> reqwest::Result<usize> {
    let (_, reply) = fetch_commands(client, base, serial, None).await?;
    execute_and_ack(client, base, serial, firmware, &reply).await
}

/// `GET /iclock/getrequest`, with the firmware's `INFO=` counters when given (already
/// URL-encoded): the reply's status and text.
pub(crate) async fn fetch_commands(
    client: &reqwest::Client,
    base: &str,
    serial: &str,
    info: Option<&str>,
) -> reqwest::Result<(reqwest::StatusCode, String)> {
    let info = info.map(|i| format!("&INFO={i}")).unwrap_or_default();
    let resp = client.get(format!("{base}/iclock/getrequest?SN={serial}{info}")).send().await?;
    let status = resp.status();
    Ok((status, resp.text().await?))
}

/// Executes the `C:<id>:<cmd>` lines of a poll reply in `firmware` and posts the acks (single-line
/// acks in one body, each multi-line ack in its own, as firmware does); returns the commands run.
pub(crate) async fn execute_and_ack(
    client: &reqwest::Client,
    base: &str,
    serial: &str,
    firmware: &mut SimFirmware,
    reply: &str,
) -> reqwest::Result<usize> {
    let mut plain = Vec::new();
    let mut multi_line = Vec::new();
    for line in reply.lines() {
        let Some((id, command)) = line.strip_prefix("C:").and_then(|r| r.split_once(':')) else { continue };
        let ack = firmware.execute(id, command);
        if ack.contains('\n') {
            multi_line.push(ack);
        } else {
            plain.push(ack);
        }
    }
    let count = plain.len() + multi_line.len();
    let url = format!("{base}/iclock/devicecmd?SN={serial}");
    if !plain.is_empty() {
        client.post(&url).body(plain.join("\n")).send().await?.error_for_status()?;
    }
    for body in multi_line {
        client.post(&url).body(body).send().await?.error_for_status()?;
    }
    Ok(count)
}
