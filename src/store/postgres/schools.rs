//! Schools and students.

use sqlx::{PgPool, Row};

use crate::domain::{NewStudent, School, Student};
use crate::store::{StoreError, StoreResult};

pub async fn create_school(pool: &PgPool, name: &str, timezone: &str) -> StoreResult<School> {
    let row = sqlx::query("insert into schools (name, timezone) values ($1, $2) returning id")
        .bind(name)
        .bind(timezone)
        .fetch_one(pool)
        .await?;
    Ok(School { id: row.get(0), name: name.into(), timezone: timezone.into() })
}

pub async fn get_school(pool: &PgPool, id: i64) -> StoreResult<Option<School>> {
    let row = sqlx::query("select id, name, timezone from schools where id = $1").bind(id).fetch_optional(pool).await?;
    Ok(row.map(|r| School { id: r.get(0), name: r.get(1), timezone: r.get(2) }))
}

pub async fn create_student(pool: &PgPool, s: &NewStudent) -> StoreResult<Student> {
    let row = sqlx::query(
        "insert into students (school_id, class_id, section_id, full_name, rfid_card_id, pin, is_active)
         values ($1, $2, $3, $4, $5, $6, $7)
         returning id, school_id, class_id, section_id, full_name, rfid_card_id, pin, is_active, created_at, updated_at",
    )
    .bind(s.school_id)
    .bind(s.class_id)
    .bind(s.section_id)
    .bind(&s.full_name)
    .bind(&s.rfid_card_id)
    .bind(&s.pin)
    .bind(s.is_active)
    .fetch_one(pool)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(format!("PIN {} is already used in this school", s.pin))
        }
        _ => StoreError::from(e),
    })?;
    Ok(Student {
        id: row.get(0),
        school_id: row.get(1),
        class_id: row.get(2),
        section_id: row.get(3),
        full_name: row.get(4),
        rfid_card_id: row.get(5),
        pin: row.get(6),
        is_active: row.get(7),
        created_at: row.get(8),
        updated_at: row.get(9),
    })
}
