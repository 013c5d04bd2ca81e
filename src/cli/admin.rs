//! `ironclock admin create --email E --password P --role super_admin|school_admin [--school ID]`:
//! creates an admin directly in the database (the first super admin, or a recovery account)
//! and prints the new admin's id. The password may come from `IRONCLOCK_ADMIN_PASSWORD`
//! instead of the command line, so it does not show in the process list.

use clap::{Args, Subcommand, ValueEnum};

use crate::domain::SchoolId;
use crate::http::api::auth::password::{check_new_password, hash_password};
use crate::store;
use crate::store::admin::{AdminRole, NewAdminUser, NewAudit};

#[derive(Args, Debug)]
pub struct AdminArgs {
    #[arg(long, env = "IRONCLOCK_DATABASE_URL", default_value = "sqlite://ironclock.db")]
    pub database_url: String,
    #[command(subcommand)]
    pub action: AdminAction,
}

/// The role of a new admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum RoleArg {
    SuperAdmin,
    SchoolAdmin,
}

#[derive(Subcommand)]
pub enum AdminAction {
    /// Create an admin and print its id.
    Create {
        #[arg(long)]
        email: String,
        /// At least 10 characters.
        #[arg(long, env = "IRONCLOCK_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The school of a school admin.
        #[arg(long)]
        school: Option<SchoolId>,
    },
}

impl std::fmt::Debug for AdminAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminAction::Create { email, role, school, .. } => f
                .debug_struct("Create")
                .field("email", email)
                .field("password", &"<redacted>")
                .field("role", role)
                .field("school", school)
                .finish(),
        }
    }
}

/// Runs `ironclock admin …`.
pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    match args.action {
        AdminAction::Create { email, password, role, school } => {
            let email = crate::http::api::validate_email(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            check_new_password(&password).map_err(|e| anyhow::anyhow!("--password {e}"))?;
            let role = match (role, school) {
                (RoleArg::SuperAdmin, None) => AdminRole::SuperAdmin,
                (RoleArg::SchoolAdmin, Some(_)) => AdminRole::SchoolAdmin,
                (RoleArg::SuperAdmin, Some(_)) => anyhow::bail!("a super admin has no school: drop --school"),
                (RoleArg::SchoolAdmin, None) => anyhow::bail!("a school admin needs --school ID"),
            };
            let password_hash = hash_password(&password).map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
            let store = store::connect(&args.database_url, 2).await?;
            let admin = NewAdminUser { email: email.clone(), password_hash, role, school_id: school };
            let audit = NewAudit {
                actor_email: Some("ironclock admin create (shell)".into()),
                action: "admin.create".into(),
                target_type: Some("admin_user".into()),
                school_id: school,
                ..Default::default()
            };
            let user = store.create_admin(&admin, Some(&audit)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", user.id);
            Ok(())
        }
    }
}
