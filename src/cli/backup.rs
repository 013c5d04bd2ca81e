//! `ironclock backup --to FILE`: a consistent copy of a live SQLite database (`VACUUM INTO`,
//! made while the server keeps running). PostgreSQL is backed up with `pg_dump`: the command
//! says so and prints the command line to use.
//!
//! A backup holds biometric templates and comm keys encrypted with the data key, which is NOT in
//! the database: keep the key file (or `IRONCLOCK_DATA_KEY`) with the backup, or they are lost.

use std::path::PathBuf;

use clap::Args;

use crate::store;

#[derive(Args, Debug)]
pub struct BackupArgs {
    #[arg(long, env = "IRONCLOCK_DATABASE_URL", default_value = "sqlite://ironclock.db")]
    pub database_url: String,
    /// The file to write (must not exist).
    #[arg(long)]
    pub to: PathBuf,
}

pub async fn run(args: BackupArgs) -> anyhow::Result<()> {
    let store = store::connect(&args.database_url, 2).await?;
    store.backup_to(&args.to).await?;
    let bytes = std::fs::metadata(&args.to).map(|m| m.len()).unwrap_or(0);
    println!(
        "backup written to {} ({bytes} bytes). Keep the data key (IRONCLOCK_DATA_KEY_FILE, default \
         ironclock-data.key) with it: without the key the fingerprint, face and comm-key data in the backup cannot be read.",
        args.to.display()
    );
    Ok(())
}
