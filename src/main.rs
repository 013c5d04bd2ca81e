//! Thin entry point: parse the command line, start telemetry, dispatch the subcommand.

use clap::Parser;
use ironclock::config::{Cli, Command, SimCommand};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        match cli.into_command() {
            Command::Serve(args) => {
                ironclock::telemetry::init(args.log_format(), args.dev);
                ironclock::app::serve(args).await
            }
            Command::Migrate(args) => {
                ironclock::telemetry::init(args.log_format, false);
                ironclock::app::migrate(&args.database_url).await
            }
            Command::Devices(args) => {
                ironclock::telemetry::init_cli();
                ironclock::cli::devices::run(args).await
            }
            Command::Admin(args) => {
                ironclock::telemetry::init_cli();
                ironclock::cli::admin::run(args).await
            }
            Command::Sim(SimCommand::Push(args)) => {
                ironclock::telemetry::init_cli();
                ironclock::sim::push::run(args).await
            }
            Command::Sim(SimCommand::Pull(args)) => {
                ironclock::telemetry::init_cli();
                ironclock::sim::pull::run(args).await
            }
            Command::PullService(args) => {
                ironclock::telemetry::init(args.log_format, false);
                ironclock::app::pull_service(args).await
            }
            Command::Backup(args) => {
                ironclock::telemetry::init_cli();
                ironclock::cli::backup::run(args).await
            }
            Command::Pull(args) if matches!(args.command, ironclock::pull::shell::PullCommand::Sync { .. }) => {
                ironclock::telemetry::init_cli();
                ironclock::cli::area_sync::run(args).await
            }
            Command::Pull(args) => {
                ironclock::telemetry::init_cli();
                ironclock::pull::shell::run(args).await
            }
        }
    })
}
