//! `ironclock devices list|approve|block`: see pending devices and approve them from a shell.

use std::str::FromStr;

use clap::{Args, Subcommand};

use crate::core::Actor;
use crate::domain::Approval;
use crate::domain::SchoolId;
use crate::store::admin::{SchoolFilter, SchoolScope};
use crate::store::{self, DeviceUpdate, DynStore};

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
    /// Approve a device by serial number into a school (the only school when there is one),
    /// optionally with its own time zone.
    Approve {
        serial: String,
        /// The school the device belongs to (needed when there is more than one school).
        #[arg(long)]
        school: Option<SchoolId>,
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
            let school = match school {
                Some(id) => id,
                None => only_school(&store).await?,
            };
            let update = DeviceUpdate {
                approval: Some(Approval::Approved),
                school_id: Some(Some(school)),
                timezone: timezone.map(Some),
                ..Default::default()
            };
            change(&store, &serial, "device.approve", &update).await?;
            println!("approved {serial}; it is accepted within 5 seconds");
        }
        DevicesAction::Block { serial } => {
            let update = DeviceUpdate { approval: Some(Approval::Blocked), ..Default::default() };
            change(&store, &serial, "device.block", &update).await?;
            println!("blocked {serial}");
        }
    }
    Ok(())
}

/// The school to approve into when none was named: the only one, or an error naming the choices.
async fn only_school(store: &DynStore) -> anyhow::Result<SchoolId> {
    let schools = store.list_schools(SchoolScope::all(), &SchoolFilter::default()).await?.items;
    match schools.as_slice() {
        [one] => Ok(one.id),
        [] => anyhow::bail!("an approved device belongs to a school, and there is none yet: create one first"),
        many => {
            let names: Vec<String> = many.iter().map(|s| format!("{} ({})", s.id, s.name)).collect();
            anyhow::bail!("name the device's school with --school ID; the schools are: {}", names.join(", "))
        }
    }
}

/// Changes a device through the same audited write path as the API (the audit names `cli`).
async fn change(store: &DynStore, serial: &str, action: &str, update: &DeviceUpdate) -> anyhow::Result<()> {
    let device = store.find_device(serial).await?.ok_or_else(|| anyhow::anyhow!("no device with serial {serial}"))?;
    let mut audit = Actor::shell().audit(action, "device", Some(device.id.0), update.school_id.flatten());
    audit.detail = serde_json::json!({ "serial_number": serial });
    store
        .change_device(SchoolScope::all(), device.id.0, update, Some(&audit))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
