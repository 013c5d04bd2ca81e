//! A simulated pull-mode device.

/// Arguments of `ironclock sim pull`.
#[derive(clap::Args, Debug)]
pub struct SimPullArgs {
    /// Address to listen on (TCP and UDP).
    #[arg(long, default_value = "127.0.0.1:4370")]
    pub listen: String,
}

/// Runs the simulator until interrupted.
pub async fn run(_args: SimPullArgs) -> anyhow::Result<()> {
    anyhow::bail!("the pull simulator is not built yet")
}
