//! `ironclock pull sync ADDR ADDR …`: an area sync for installers without a server. Every device
//! is reached directly (numbered 1, 2, … in the order given), synced as the server would (no
//! roster, so nobody is removed; no biometric store), and the result is printed as JSON on stdout,
//! the progress on stderr (`sync_bars`).

use anyhow::Context as _;

use crate::domain::DeviceId;
use crate::pull::shell::{options, resolve, PullArgs, PullCommand};
use crate::pull::Client;
use crate::sync::area::device::AreaDevice;
use crate::sync::area::plan::RosterView;
use crate::sync::area::pull::PullAreaDevice;
use crate::sync::area::report::DeviceFailure;
use crate::sync::area::run::converge;
use crate::sync::area::AreaSyncOptions;

/// Runs the sync and prints its result; fails (exit status 1) when the result is not a success.
pub async fn run(args: PullArgs) -> anyhow::Result<()> {
    let PullCommand::Sync { addrs, concurrency } = &args.command else {
        anyhow::bail!("not a sync");
    };
    let addrs: Vec<String> =
        std::iter::once(args.addr.clone()).filter(|a| !a.is_empty()).chain(addrs.clone()).collect();
    anyhow::ensure!(addrs.len() >= 2, "name at least two device addresses: ironclock pull sync ADDR ADDR …");
    let mut opened: Vec<Result<Box<dyn AreaDevice>, DeviceFailure>> = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        let id = DeviceId(i64::try_from(i + 1).unwrap_or(i64::MAX));
        let reached = async {
            let sock = resolve(addr).await?;
            Client::connect(options(&args, sock)).await.with_context(|| format!("connecting to {sock}"))
        }
        .await;
        opened.push(match reached {
            Ok(client) => Ok(Box::new(PullAreaDevice::direct(id, addr.clone(), client))),
            Err(e) => Err(DeviceFailure { device_id: id.0, device: addr.clone(), error: format!("{e:#}") }),
        });
    }
    let bars = super::sync_bars::Bars::new(args.quiet);
    let opts = AreaSyncOptions {
        concurrency: (*concurrency).max(1),
        started_by: "ironclock pull sync".into(),
        progress: bars.sink.clone(),
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let mut result = converge(opened, &RosterView::default(), None, &opts).await;
    bars.finish();
    result.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    println!("{}", serde_json::to_string_pretty(&result)?);
    anyhow::ensure!(result.success, "{}", result.error.unwrap_or_else(|| "the sync did not converge".into()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::config::{Cli, Command};
    use crate::pull::shell::PullCommand;

    #[test]
    fn pull_sync_takes_its_addresses_after_the_word_sync() {
        let cli = Cli::try_parse_from(["ironclock", "pull", "sync", "10.0.0.1", "10.0.0.2:4370"]).unwrap();
        let Command::Pull(args) = cli.into_command() else { panic!("not the pull command") };
        assert!(args.addr.is_empty());
        assert!(matches!(&args.command, PullCommand::Sync { addrs, .. } if addrs == &["10.0.0.1", "10.0.0.2:4370"]));
        let one = Cli::try_parse_from(["ironclock", "pull", "10.0.0.1", "users"]).unwrap();
        let Command::Pull(args) = one.into_command() else { panic!("not the pull command") };
        assert_eq!(args.addr, "10.0.0.1", "the one-device commands are unchanged");
    }
}
