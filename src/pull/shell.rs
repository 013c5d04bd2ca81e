//! `ironclock pull ADDR …`: talk to one pull-mode device from the shell.

/// Arguments of `ironclock pull`.
#[derive(clap::Args, Debug)]
pub struct PullArgs {
    /// Device address, `HOST[:PORT]` (port 4370 by default).
    pub addr: String,
}

/// Runs the shell command.
pub async fn run(_args: PullArgs) -> anyhow::Result<()> {
    anyhow::bail!("the pull client is not built yet")
}
