//! `AdminStore`: what the admin API needs from storage, on top of the device-facing `Store`.
//!
//! It is split by concern into small traits (accounts, audit and jobs, roster, students, devices,
//! attendance), each implemented once for both backends in `sql/`. `AdminStore` is their union,
//! implemented for every type that implements all of them.
//!
//! Contract shared by both backends (tested by `tests/store/admin_contract.rs` on both):
//! - tenancy is enforced in SQL: every read or write of school-owned rows takes a [`SchoolScope`],
//!   and a row outside the scope behaves exactly like a missing row;
//! - each write operation is ONE transaction, including its audit entry when it has one;
//! - a student's PIN is never handed to another student of the same school, even after deletion.

mod accounts;
mod attendance;
mod audit;
mod devices;
mod error;
mod page;
mod roster;
mod students;

pub use accounts::{AccountStore, AdminRole, AdminUser, AdminUserPatch, Credentials, NewAdminUser, RefreshOutcome};
pub use attendance::{AttendanceStore, DailyAttendance, PunchQuery, PunchRecord, PunchSort};
pub use audit::{AuditFilter, AuditRecord, AuditStore, JobFilter, JobRecord, JobStatus, NewAudit};
pub use devices::{DeviceAdminStore, DeviceFilter, DeviceRecord, DeviceSort, NewPullDevice, PullStatus};
pub(crate) use error::conflict_on_unique;
pub use error::{AdminError, AdminResult, UnknownValue};
pub use page::{contains_pattern, Page, Paged, SchoolScope, Sort, SortDir, SortKey, SortTable};
pub use roster::{
    Group, GroupFilter, GroupKind, GroupPatch, GroupSort, NewGroup, NewSchool, RosterStore, SchoolFilter, SchoolPatch,
    SchoolRecord, SchoolSort,
};
pub use students::{
    ImportReport, NewStudentInput, StudentFilter, StudentPatch, StudentRecord, StudentSort, StudentStore,
};

/// Everything the admin API needs from a backend.
pub trait AdminStore:
    AccountStore + AuditStore + RosterStore + StudentStore + DeviceAdminStore + AttendanceStore + Send + Sync
{
}

impl<T> AdminStore for T where
    T: AccountStore + AuditStore + RosterStore + StudentStore + DeviceAdminStore + AttendanceStore + Send + Sync
{
}
