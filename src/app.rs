//! Application wiring: build (bind, store, background tasks) and run until shutdown.

use crate::config::ServeArgs;

pub async fn serve(_args: ServeArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}

pub async fn migrate(_url: &str) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
