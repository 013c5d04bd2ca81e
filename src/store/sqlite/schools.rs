//! Schools and students.

use sqlx::{Row, SqlitePool};

use crate::domain::{NewStudent, School, Student};
use crate::store::{StoreError, StoreResult};

pub async fn create_school(pool: &SqlitePool, name: &str, timezone: &str) -> StoreResult<School> {
    let id: i64 = sqlx::query_scalar("insert into schools (name, timezone) values (?1, ?2) returning id")
        .bind(name)
        .bind(timezone)
        .fetch_one(pool)
        .await?;
    Ok(School { id, name: name.into(), timezone: timezone.into() })
}

pub async fn get_school(pool: &SqlitePool, id: i64) -> StoreResult<Option<School>> {
    let row = sqlx::query("select id, name, timezone from schools where id = ?1").bind(id).fetch_optional(pool).await?;
    Ok(row.map(|r| School { id: r.get(0), name: r.get(1), timezone: r.get(2) }))
}

pub async fn create_student(pool: &SqlitePool, s: &NewStudent) -> StoreResult<Student> {
    let now = chrono::Utc::now();
    let id: i64 = sqlx::query_scalar(
        "insert into students (school_id, class_id, section_id, full_name, rfid_card_id, pin, is_active, created_at, updated_at)
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) returning id",
    )
    .bind(s.school_id)
    .bind(s.class_id)
    .bind(s.section_id)
    .bind(&s.full_name)
    .bind(&s.rfid_card_id)
    .bind(&s.pin)
    .bind(s.is_active)
    .bind(now)
    .fetch_one(pool)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(format!("PIN {} is already used in this school", s.pin))
        }
        _ => StoreError::from(e),
    })?;
    Ok(Student {
        id,
        school_id: s.school_id,
        class_id: s.class_id,
        section_id: s.section_id,
        full_name: s.full_name.clone(),
        rfid_card_id: s.rfid_card_id.clone(),
        pin: s.pin.clone(),
        is_active: s.is_active,
        created_at: now,
        updated_at: now,
    })
}
