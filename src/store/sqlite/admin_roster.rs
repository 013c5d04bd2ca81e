//! Schools, areas, classes and sections on SQLite.

use async_trait::async_trait;
use sqlx::SqliteConnection;

use super::admin_audit::insert_audit;
use super::SqliteStore;
use crate::store::admin::{
    conflict_on_unique, contains_pattern, AdminError, AdminResult, Group, GroupFilter, GroupKind, GroupPatch, NewAudit,
    NewGroup, NewSchool, Paged, RosterStore, SchoolFilter, SchoolPatch, SchoolRecord, SchoolScope,
};
use crate::store::StoreResult;

const SCHOOL_COLUMNS: &str = "id, name, timezone, pin_start, next_pin, quiet_hours, unknown_user_policy, created_at";
const SCHOOL_WHERE: &str = "where (?1 is null or id = ?1)
    and (?2 is null or lower(name) like lower(?2) escape '\\')";

fn group_columns(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Section => "id, school_id, name, class_id",
        GroupKind::Area | GroupKind::Class => "id, school_id, name, null as class_id",
    }
}

fn group_where(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Section => {
            "where (?1 is null or school_id = ?1) and (?2 is null or school_id = ?2)
               and (?3 is null or class_id = ?3)
               and (?4 is null or lower(name) like lower(?4) escape '\\')"
        }
        GroupKind::Area | GroupKind::Class => {
            "where (?1 is null or school_id = ?1) and (?2 is null or school_id = ?2)
               and ?3 is null
               and (?4 is null or lower(name) like lower(?4) escape '\\')"
        }
    }
}

async fn school_exists(conn: &mut SqliteConnection, id: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("select id from schools where id = ?1").bind(id).fetch_optional(conn).await?;
    Ok(found.is_some())
}

/// Checks that `class_id` is a class of `school_id`.
async fn check_class(conn: &mut SqliteConnection, school_id: i64, class_id: i64) -> AdminResult<()> {
    let found: Option<i64> = sqlx::query_scalar("select id from classes where id = ?1 and school_id = ?2")
        .bind(class_id)
        .bind(school_id)
        .fetch_optional(conn)
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
impl RosterStore for SqliteStore {
    async fn list_schools(&self, scope: SchoolScope, f: &SchoolFilter) -> StoreResult<Paged<SchoolRecord>> {
        let pattern = f.name.as_deref().map(contains_pattern);
        let sql =
            format!("select {SCHOOL_COLUMNS} from schools {SCHOOL_WHERE} {} limit ?3 offset ?4", f.sort.order_by("id"));
        let items = sqlx::query_as(&sql)
            .bind(scope.school_id())
            .bind(&pattern)
            .bind(f.page.limit)
            .bind(f.page.offset)
            .fetch_all(&self.pool)
            .await?;
        let total = sqlx::query_scalar(&format!("select count(*) from schools {SCHOOL_WHERE}"))
            .bind(scope.school_id())
            .bind(&pattern)
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged { items, total })
    }

    async fn get_school_record(&self, scope: SchoolScope, id: i64) -> StoreResult<Option<SchoolRecord>> {
        let sql = format!("select {SCHOOL_COLUMNS} from schools where id = ?1 and (?2 is null or id = ?2)");
        Ok(sqlx::query_as(&sql).bind(id).bind(scope.school_id()).fetch_optional(&self.pool).await?)
    }

    async fn add_school(&self, s: &NewSchool) -> StoreResult<SchoolRecord> {
        let _w = self.writer.lock().await;
        let sql = format!(
            "insert into schools (name, timezone, pin_start, next_pin) values (?1, ?2, coalesce(?3, 1000), coalesce(?3, 1000))
             returning {SCHOOL_COLUMNS}"
        );
        Ok(sqlx::query_as(&sql).bind(&s.name).bind(&s.timezone).bind(s.pin_start).fetch_one(&self.pool).await?)
    }

    async fn update_school(&self, scope: SchoolScope, id: i64, p: &SchoolPatch) -> AdminResult<SchoolRecord> {
        let _w = self.writer.lock().await;
        // Raising pin_start moves the counter up; lowering it never moves the counter down.
        let sql = format!(
            "update schools set name = coalesce(?3, name), timezone = coalesce(?4, timezone),
                pin_start = coalesce(?5, pin_start), next_pin = max(next_pin, coalesce(?5, pin_start)),
                quiet_hours = coalesce(?6, quiet_hours),
                unknown_user_policy = coalesce(?7, unknown_user_policy)
             where id = ?1 and (?2 is null or id = ?2) returning {SCHOOL_COLUMNS}"
        );
        sqlx::query_as(&sql)
            .bind(id)
            .bind(scope.school_id())
            .bind(&p.name)
            .bind(&p.timezone)
            .bind(p.pin_start)
            .bind(&p.quiet_hours)
            .bind(&p.unknown_user_policy)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(AdminError::NotFound("school"))
    }

    async fn delete_school(&self, id: i64, audit: &NewAudit) -> AdminResult<SchoolRecord> {
        let _w = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        // Its devices outlive it and go back to waiting for approval (into another school).
        sqlx::query("update devices set approval = 'pending', area_id = null where school_id = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let sql = format!("delete from schools where id = ?1 returning {SCHOOL_COLUMNS}");
        let school: SchoolRecord =
            sqlx::query_as(&sql).bind(id).fetch_optional(&mut *tx).await?.ok_or(AdminError::NotFound("school"))?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(school)
    }

    async fn list_groups(&self, kind: GroupKind, f: &GroupFilter) -> StoreResult<Paged<Group>> {
        let pattern = f.name.as_deref().map(contains_pattern);
        let (table, columns, filter) = (kind.table(), group_columns(kind), group_where(kind));
        let sql = format!("select {columns} from {table} {filter} {} limit ?5 offset ?6", f.sort.order_by("id"));
        let items = sqlx::query_as(&sql)
            .bind(f.scope.school_id())
            .bind(f.school_id)
            .bind(f.class_id)
            .bind(&pattern)
            .bind(f.page.limit)
            .bind(f.page.offset)
            .fetch_all(&self.pool)
            .await?;
        let total = sqlx::query_scalar(&format!("select count(*) from {table} {filter}"))
            .bind(f.scope.school_id())
            .bind(f.school_id)
            .bind(f.class_id)
            .bind(&pattern)
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged { items, total })
    }

    async fn get_group(&self, kind: GroupKind, scope: SchoolScope, id: i64) -> StoreResult<Option<Group>> {
        let sql = format!(
            "select {} from {} where id = ?1 and (?2 is null or school_id = ?2)",
            group_columns(kind),
            kind.table()
        );
        Ok(sqlx::query_as(&sql).bind(id).bind(scope.school_id()).fetch_optional(&self.pool).await?)
    }

    async fn add_group(&self, kind: GroupKind, g: &NewGroup) -> AdminResult<Group> {
        let _w = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        if !school_exists(&mut tx, g.school_id).await? {
            return Err(AdminError::Invalid {
                field: "school_id",
                message: format!("no school with id {}", g.school_id),
            });
        }
        if let (GroupKind::Section, Some(class_id)) = (kind, g.class_id) {
            check_class(&mut tx, g.school_id, class_id).await?;
        }
        let sql = match kind {
            GroupKind::Section => format!(
                "insert into sections (school_id, name, class_id) values (?1, ?2, ?3) returning {}",
                group_columns(kind)
            ),
            _ => format!(
                "insert into {} (school_id, name) values (?1, ?2) returning {}",
                kind.table(),
                group_columns(kind)
            ),
        };
        let mut query = sqlx::query_as(&sql).bind(g.school_id).bind(&g.name);
        if kind == GroupKind::Section {
            query = query.bind(g.class_id);
        }
        let group = query
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, "name", duplicate_name(kind, &g.name)))?;
        tx.commit().await?;
        Ok(group)
    }

    async fn update_group(&self, kind: GroupKind, scope: SchoolScope, id: i64, p: &GroupPatch) -> AdminResult<Group> {
        let _w = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "select {} from {} where id = ?1 and (?2 is null or school_id = ?2)",
            group_columns(kind),
            kind.table()
        );
        let current: Group = sqlx::query_as(&sql)
            .bind(id)
            .bind(scope.school_id())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AdminError::NotFound(kind.noun()))?;
        let name = p.name.clone().unwrap_or(current.name.clone());
        let group = if kind == GroupKind::Section {
            let class_id = p.class_id.unwrap_or(current.class_id);
            if let Some(class_id) = class_id {
                check_class(&mut tx, current.school_id, class_id).await?;
            }
            sqlx::query_as(&format!(
                "update sections set name = ?2, class_id = ?3 where id = ?1 returning {}",
                group_columns(kind)
            ))
            .bind(id)
            .bind(&name)
            .bind(class_id)
            .fetch_one(&mut *tx)
            .await
        } else {
            sqlx::query_as(&format!(
                "update {} set name = ?2 where id = ?1 returning {}",
                kind.table(),
                group_columns(kind)
            ))
            .bind(id)
            .bind(&name)
            .fetch_one(&mut *tx)
            .await
        }
        .map_err(|e| conflict_on_unique(e, "name", duplicate_name(kind, &name)))?;
        tx.commit().await?;
        Ok(group)
    }

    async fn delete_group(&self, kind: GroupKind, scope: SchoolScope, id: i64, audit: &NewAudit) -> AdminResult<Group> {
        let _w = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "delete from {} where id = ?1 and (?2 is null or school_id = ?2) returning {}",
            kind.table(),
            group_columns(kind)
        );
        let group: Group = sqlx::query_as(&sql)
            .bind(id)
            .bind(scope.school_id())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AdminError::NotFound(kind.noun()))?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(group)
    }
}
