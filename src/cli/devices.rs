//! `ironclock devices list|approve|block`: see pending devices and approve them from a shell.

use std::str::FromStr;

use clap::{Args, Subcommand};

use crate::domain::Approval;
use crate::store::{self, DeviceUpdate};

#[derive(Args, Debug)]
pub struct DevicesArgs {
    #[arg(long, env = "IRONCLOCK_DATABASE_URL", default_value = "sqlite://ironclock.db")]
    pub database_url: String,
    #[command(subcommand)]
    pub action: DevicesAction,
}

#[derive(Subcommand, Debug)]
pub enum DevicesAction {
    /// List devices (all, or one approval state) as a table, or JSON with --json.
    List {
        /// `pending`, `approved` or `blocked`.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Approve a device by serial number, optionally assigning a school and time zone.
    Approve {
        serial: String,
        #[arg(long)]
        school: Option<i64>,
        /// IANA zone for this device (default: the school's).
        #[arg(long)]
        timezone: Option<String>,
    },
    /// Block a device: its requests are refused from now on.
    Block { serial: String },
}

pub async fn run(args: DevicesArgs) -> anyhow::Result<()> {
    let store = store::connect(&args.database_url, 2).await?;
    match args.action {
        DevicesAction::List { status, json } => {
            let filter = match status.as_deref() {
                Some(s) => Some(
                    Approval::parse(s)
                        .ok_or_else(|| anyhow::anyhow!("--status must be pending, approved or blocked"))?,
                ),
                None => None,
            };
            let devices: Vec<_> =
                store.list_devices().await?.into_iter().filter(|d| filter.is_none_or(|f| d.approval == f)).collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&devices)?);
            } else {
                println!(
                    "{:<20} {:<9} {:<16} {:<26} {:<25}",
                    "SERIAL", "STATUS", "LAST IP", "LAST SEEN (UTC)", "FIRMWARE"
                );
                for d in devices {
                    let seen = d.last_seen_at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default();
                    println!(
                        "{:<20} {:<9} {:<16} {:<26} {:<25}",
                        d.serial_number,
                        d.approval.as_str(),
                        d.last_ip.unwrap_or_default(),
                        seen,
                        d.firmware.unwrap_or_default()
                    );
                }
            }
        }
        DevicesAction::Approve { serial, school, timezone } => {
            if let Some(tz) = &timezone {
                chrono_tz::Tz::from_str(tz).map_err(|_| anyhow::anyhow!("{tz:?} is not an IANA time zone"))?;
            }
            if let Some(id) = school {
                store.get_school(id).await?.ok_or_else(|| anyhow::anyhow!("no school with id {id}"))?;
            }
            let device =
                store.find_device(&serial).await?.ok_or_else(|| anyhow::anyhow!("no device with serial {serial}"))?;
            let update = DeviceUpdate {
                approval: Some(Approval::Approved),
                school_id: school.map(Some),
                timezone: timezone.map(Some),
                ..Default::default()
            };
            store.update_device(device.id, &update).await?;
            println!("approved {serial}; it is accepted within 5 seconds");
        }
        DevicesAction::Block { serial } => {
            let device =
                store.find_device(&serial).await?.ok_or_else(|| anyhow::anyhow!("no device with serial {serial}"))?;
            store
                .update_device(device.id, &DeviceUpdate { approval: Some(Approval::Blocked), ..Default::default() })
                .await?;
            println!("blocked {serial}");
        }
    }
    Ok(())
}
