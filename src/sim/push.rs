//! Simulated push (ADMS) devices.

/// Arguments of `ironclock sim push`.
#[derive(clap::Args, Debug)]
pub struct SimPushArgs {
    /// Server base URL, e.g. `http://127.0.0.1:8080`.
    #[arg(long)]
    pub server: String,
}

/// Runs the simulated devices.
pub async fn run(_args: SimPushArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
