//! `SimAccDevice`: one simulated access-control (acc, push 3.x) terminal driven step by step,
//! speaking HTTP to a real server as SenseFace firmware in "Access Control PUSH" mode does:
//! `POST /iclock/registry`, `/iclock/push`, rtlog punches, command polls answered by
//! [`AccFirmware`], `DATA QUERY` answers on `/iclock/querydata` before the ack. The load
//! generator (`ironclock sim push --dialect acc`) uses the same requests.

use super::acc_firmware::{AccFirmware, QueryAnswer};

pub struct SimAccDevice {
    client: reqwest::Client,
    base: String,
    pub serial: String,
    pub firmware: AccFirmware,
    /// The device's rtlog event counter (`index=`).
    pub next_index: u64,
}

/// The registry body a SenseFace 2A sends (capture 07).
pub const REGISTRY_BODY: &str =
    "DeviceType=acc,~DeviceName=SenseFace 2A,FirmVer=ZAM70-NF24HA-Ver3.0.15,PushVersion=Ver 3.0.4S-20240809,FaceFunOn=1,FingerFunOn=1";

impl SimAccDevice {
    pub fn new(base: &str, serial: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_string(),
            serial: serial.to_string(),
            firmware: AccFirmware::default(),
            next_index: 1,
        }
    }

    /// Registers and fetches the config block; returns the block (`None` when refused).
    pub async fn register(&self) -> reqwest::Result<Option<String>> {
        register(&self.client, &self.base, &self.serial).await
    }

    /// Uploads rtlog rows; returns the reply text.
    pub async fn upload_rtlog(&self, rows: &[String]) -> reqwest::Result<String> {
        let body: String = rows.iter().map(|r| format!("{r}\r\n")).collect();
        let url = format!("{}/iclock/cdata?SN={}&table=rtlog", self.base, self.serial);
        self.client.post(url).body(body).send().await?.text().await
    }

    /// One poll: runs the commands, posts query answers, then the acks. Returns commands run.
    pub async fn poll_once(&mut self) -> reqwest::Result<usize> {
        let url = format!("{}/iclock/getrequest?SN={}", self.base, self.serial);
        let reply = self.client.get(url).send().await?.text().await?;
        execute_and_ack(&self.client, &self.base, &self.serial, &mut self.firmware, &reply).await
    }

    /// Polls until a poll brings no command (at most `max_polls`); returns commands run.
    pub async fn poll_until_idle(&mut self, max_polls: usize) -> reqwest::Result<usize> {
        let mut total = 0;
        for _ in 0..max_polls {
            match self.poll_once().await? {
                0 => break,
                n => total += n,
            }
        }
        Ok(total)
    }
}

/// `POST /iclock/registry` then `GET /iclock/push`: the config block, or `None` when the
/// server refused the registration or answered no RegistryCode.
pub(crate) async fn register(client: &reqwest::Client, base: &str, serial: &str) -> reqwest::Result<Option<String>> {
    let url = format!("{base}/iclock/registry?SN={serial}");
    let resp = client.post(url).body(REGISTRY_BODY).send().await?;
    if !resp.status().is_success() || !resp.text().await?.starts_with("RegistryCode=") {
        return Ok(None);
    }
    let block = client.get(format!("{base}/iclock/push?SN={serial}")).send().await?.text().await?;
    Ok(block.contains("SessionID=").then_some(block))
}

/// Executes a poll reply's `C:<id>:<cmd>` lines; posts each query answer on `/iclock/querydata`
/// (one packet) before the acks, as firmware does (push.md 2.9). Returns the commands run.
pub(crate) async fn execute_and_ack(
    client: &reqwest::Client,
    base: &str,
    serial: &str,
    firmware: &mut AccFirmware,
    reply: &str,
) -> reqwest::Result<usize> {
    let mut acks = Vec::new();
    for line in reply.lines() {
        let Some((id, command)) = line.strip_prefix("C:").and_then(|r| r.split_once(':')) else { continue };
        let outcome = firmware.execute(id, command);
        if let Some(answer) = outcome.answer {
            post_answer(client, base, serial, &answer).await?;
        }
        acks.push(outcome.ack);
    }
    if !acks.is_empty() {
        let url = format!("{base}/iclock/devicecmd?SN={serial}");
        client.post(url).body(acks.join("\n")).send().await?.error_for_status()?;
    }
    Ok(acks.len())
}

async fn post_answer(client: &reqwest::Client, base: &str, serial: &str, a: &QueryAnswer) -> reqwest::Result<()> {
    let url = format!(
        "{base}/iclock/querydata?SN={serial}&type=tabledata&cmdid={}&tablename={}&count={}&packcnt=1&packidx=1",
        a.cmd_id,
        a.tablename,
        a.rows.len()
    );
    client.post(url).body(a.rows.concat()).send().await?.error_for_status()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::sim::push::{SimDialect, SimPushArgs};

    #[test]
    fn sim_push_takes_dialect_acc_and_defaults_to_att() {
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: SimPushArgs,
        }
        let acc = Cli::parse_from(["sim", "--server", "http://127.0.0.1:8080", "--dialect", "acc"]).args;
        assert_eq!(acc.dialect, SimDialect::Acc);
        assert_eq!(SimPushArgs::new("http://127.0.0.1:8080").dialect, SimDialect::Att);
    }
}
