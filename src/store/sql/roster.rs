//! Schools, areas, classes and sections. A school's time zone converts its devices' punches on
//! every instance, so changing or deleting a school announces `StoreChange::School` (and
//! `StoreChange::Device` for each device it detaches).

use async_trait::async_trait;
use chrono::Utc;

use super::audit::insert_audit;
use super::{Dialect, SqlStore};
use crate::domain::DeviceId;
use crate::domain::SchoolId;
use crate::store::admin::{
    conflict_on_unique, contains_pattern, AdminError, AdminResult, Group, GroupFilter, GroupKind, GroupPatch, NewAudit,
    NewGroup, NewSchool, Paged, RosterStore, SchoolFilter, SchoolPatch, SchoolRecord, SchoolScope,
};
use crate::store::{StoreChange, StoreResult};

const SCHOOL_COLUMNS: &str =
    "id, name, timezone, pin_start, next_pin, quiet_hours, unknown_user_policy, device_pinning, created_at";
const SCHOOL_WHERE: &str = "where ($1 is null or id = $1)
    and ($2 is null or lower(name) like lower($2) escape '\\')";

fn group_columns(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Section => "id, school_id, name, class_id",
        GroupKind::Area | GroupKind::Class => "id, school_id, name, cast(null as bigint) as class_id",
    }
}

fn group_where(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Section => {
            "where ($1 is null or school_id = $1) and ($2 is null or school_id = $2)
               and ($3 is null or class_id = $3)
               and ($4 is null or lower(name) like lower($4) escape '\\')"
        }
        GroupKind::Area | GroupKind::Class => {
            "where ($1 is null or school_id = $1) and ($2 is null or school_id = $2)
               and $3 is null
               and ($4 is null or lower(name) like lower($4) escape '\\')"
        }
    }
}

/// Checks the school exists (`Invalid` on `school_id` otherwise).
pub(super) async fn check_school<D: Dialect>(conn: &mut D::Connection, id: SchoolId) -> AdminResult<()> {
    let found: Option<i64> =
        SqlStore::<D>::sql("select id from schools where id = $1").bind(id).scalar_optional(conn).await?;
    match found {
        Some(_) => Ok(()),
        None => Err(AdminError::Invalid { field: "school_id", message: format!("no school with id {id}") }),
    }
}

/// Checks that `class_id` is a class of `school_id` (`Invalid` on `class_id` otherwise).
pub(super) async fn check_class<D: Dialect>(
    conn: &mut D::Connection,
    school_id: SchoolId,
    class_id: i64,
) -> AdminResult<()> {
    let found: Option<i64> = SqlStore::<D>::sql("select id from classes where id = $1 and school_id = $2")
        .bind(class_id)
        .bind(school_id)
        .scalar_optional(conn)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(AdminError::Invalid { field: "class_id", message: format!("no class {class_id} in this school") }),
    }
}

fn duplicate_name(kind: GroupKind, name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("{} {name:?} already exists in this school", kind.noun())
}

#[async_trait]
impl<D: Dialect> RosterStore for SqlStore<D> {
    async fn list_schools(&self, scope: SchoolScope, f: &SchoolFilter) -> StoreResult<Paged<SchoolRecord>> {
        let pattern = f.name.as_deref().map(contains_pattern);
        let sql =
            format!("select {SCHOOL_COLUMNS} from schools {SCHOOL_WHERE} {} limit $3 offset $4", f.sort.order_by("id"));
        let count = format!("select count(*) from schools {SCHOOL_WHERE}");
        Self::paged(&mut *self.read().await?, &sql, &count, f.page, |q| q.bind(scope.school_id()).bind(&pattern)).await
    }

    async fn get_school_record(&self, scope: SchoolScope, id: SchoolId) -> StoreResult<Option<SchoolRecord>> {
        let sql = format!("select {SCHOOL_COLUMNS} from schools where id = $1 and ($2 is null or id = $2)");
        Self::in_scope(&mut *self.read().await?, &sql, id, scope).await
    }

    async fn add_school(&self, s: &NewSchool) -> StoreResult<SchoolRecord> {
        // A new school has no devices yet: nothing cached elsewhere depends on it.
        let sql = format!(
            "insert into schools (name, timezone, pin_start, next_pin, created_at)
             values ($1, $2, coalesce($3, 1000), coalesce($3, 1000), $4)
             returning {SCHOOL_COLUMNS}"
        );
        Self::sql(&sql)
            .bind(&s.name)
            .bind(&s.timezone)
            .bind(s.pin_start)
            .bind(Utc::now())
            .fetch_one(&mut *self.write_once().await?)
            .await
    }

    async fn update_school(&self, scope: SchoolScope, id: SchoolId, p: &SchoolPatch) -> AdminResult<SchoolRecord> {
        let mut tx = self.write().await?;
        // Raising pin_start moves the counter up; lowering it never moves the counter down.
        let sql = format!(
            "update schools set name = coalesce($3, name), timezone = coalesce($4, timezone),
                pin_start = coalesce($5, pin_start), next_pin = {},
                quiet_hours = coalesce($6, quiet_hours),
                unknown_user_policy = coalesce($7, unknown_user_policy),
                device_pinning = coalesce($8, device_pinning)
             where id = $1 and ($2 is null or id = $2) returning {SCHOOL_COLUMNS}",
            D::greatest("next_pin", "coalesce($5, pin_start)")
        );
        let school: SchoolRecord = Self::sql(&sql)
            .bind(id)
            .bind(scope.school_id())
            .bind(&p.name)
            .bind(&p.timezone)
            .bind(p.pin_start)
            .bind(&p.quiet_hours)
            .bind(&p.unknown_user_policy)
            .bind(&p.device_pinning)
            .fetch_optional(&mut tx)
            .await?
            .ok_or(AdminError::NotFound("school"))?;
        // The time zone may have changed, and every instance converts this school's punches with it.
        tx.changed(StoreChange::School(id));
        tx.commit().await?;
        Ok(school)
    }

    async fn delete_school(&self, id: SchoolId, audit: &NewAudit) -> AdminResult<SchoolRecord> {
        let mut tx = self.write().await?;
        // Its devices outlive it and go back to waiting for approval (into another school); the
        // foreign key clears their school. `returning` names exactly the devices it detached.
        let detached: Vec<i64> =
            Self::sql("update devices set approval = 'pending', area_id = null where school_id = $1 returning id")
                .bind(id)
                .scalars(&mut tx)
                .await?;
        let sql = format!("delete from schools where id = $1 returning {SCHOOL_COLUMNS}");
        let school: SchoolRecord =
            Self::sql(&sql).bind(id).fetch_optional(&mut tx).await?.ok_or(AdminError::NotFound("school"))?;
        insert_audit::<D>(&mut tx, audit).await?;
        tx.changed(StoreChange::School(id));
        for device in detached {
            tx.changed(StoreChange::Device(DeviceId(device)));
        }
        tx.commit().await?;
        Ok(school)
    }

    async fn list_groups(&self, kind: GroupKind, f: &GroupFilter) -> StoreResult<Paged<Group>> {
        let pattern = f.name.as_deref().map(contains_pattern);
        let (table, columns, filter) = (kind.table(), group_columns(kind), group_where(kind));
        let sql = format!("select {columns} from {table} {filter} {} limit $5 offset $6", f.sort.order_by("id"));
        let count = format!("select count(*) from {table} {filter}");
        Self::paged(&mut *self.read().await?, &sql, &count, f.page, |q| {
            q.bind(f.scope.school_id()).bind(f.school_id).bind(f.class_id).bind(&pattern)
        })
        .await
    }

    async fn get_group(&self, kind: GroupKind, scope: SchoolScope, id: i64) -> StoreResult<Option<Group>> {
        let sql = format!(
            "select {} from {} where id = $1 and ($2 is null or school_id = $2)",
            group_columns(kind),
            kind.table()
        );
        Self::in_scope(&mut *self.read().await?, &sql, id, scope).await
    }

    async fn add_group(&self, kind: GroupKind, g: &NewGroup) -> AdminResult<Group> {
        let mut tx = self.write().await?;
        check_school::<D>(&mut tx, g.school_id).await?;
        if let (GroupKind::Section, Some(class_id)) = (kind, g.class_id) {
            check_class::<D>(&mut tx, g.school_id, class_id).await?;
        }
        let columns = group_columns(kind);
        // Only areas have a created_at column; it is bound like every timestamp.
        let (sql, query);
        match kind {
            GroupKind::Section => {
                sql =
                    format!("insert into sections (school_id, name, class_id) values ($1, $2, $3) returning {columns}");
                query = Self::sql(&sql).bind(g.school_id).bind(&g.name).bind(g.class_id);
            }
            GroupKind::Area => {
                sql =
                    format!("insert into areas (school_id, name, created_at) values ($1, $2, $3) returning {columns}");
                query = Self::sql(&sql).bind(g.school_id).bind(&g.name).bind(Utc::now());
            }
            GroupKind::Class => {
                sql = format!("insert into classes (school_id, name) values ($1, $2) returning {columns}");
                query = Self::sql(&sql).bind(g.school_id).bind(&g.name);
            }
        }
        let group: Group =
            query.fetch_one(&mut tx).await.map_err(|e| conflict_on_unique(e, "name", duplicate_name(kind, &g.name)))?;
        tx.commit().await?;
        Ok(group)
    }

    async fn update_group(&self, kind: GroupKind, scope: SchoolScope, id: i64, p: &GroupPatch) -> AdminResult<Group> {
        let mut tx = self.write().await?;
        let sql = format!(
            "select {} from {} where id = $1 and ($2 is null or school_id = $2) {}",
            group_columns(kind),
            kind.table(),
            D::FOR_UPDATE
        );
        let current: Group =
            Self::in_scope(&mut tx, &sql, id, scope).await?.ok_or(AdminError::NotFound(kind.noun()))?;
        let name = p.name.clone().unwrap_or(current.name.clone());
        let group: Group = if kind == GroupKind::Section {
            let class_id = p.class_id.unwrap_or(current.class_id);
            if let Some(class_id) = class_id {
                check_class::<D>(&mut tx, current.school_id, class_id).await?;
            }
            let sql =
                format!("update sections set name = $2, class_id = $3 where id = $1 returning {}", group_columns(kind));
            Self::sql(&sql).bind(id).bind(&name).bind(class_id).fetch_one(&mut tx).await
        } else {
            let sql = format!("update {} set name = $2 where id = $1 returning {}", kind.table(), group_columns(kind));
            Self::sql(&sql).bind(id).bind(&name).fetch_one(&mut tx).await
        }
        .map_err(|e| conflict_on_unique(e, "name", duplicate_name(kind, &name)))?;
        tx.commit().await?;
        Ok(group)
    }

    async fn delete_group(&self, kind: GroupKind, scope: SchoolScope, id: i64, audit: &NewAudit) -> AdminResult<Group> {
        let mut tx = self.write().await?;
        // Deleting an area clears the area of the devices in it (what the foreign key would do,
        // done here so that `returning` names them): their cached rows change on every instance.
        // Rolled back with the rest when the area is not found (or out of scope).
        let detached: Vec<i64> = if kind == GroupKind::Area {
            Self::sql("update devices set area_id = null where area_id = $1 returning id")
                .bind(id)
                .scalars(&mut tx)
                .await?
        } else {
            Vec::new()
        };
        let sql = format!(
            "delete from {} where id = $1 and ($2 is null or school_id = $2) returning {}",
            kind.table(),
            group_columns(kind)
        );
        let group: Group = Self::in_scope(&mut tx, &sql, id, scope).await?.ok_or(AdminError::NotFound(kind.noun()))?;
        for device in detached {
            tx.changed(StoreChange::Device(DeviceId(device)));
        }
        insert_audit::<D>(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(group)
    }
}
