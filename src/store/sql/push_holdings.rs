//! What ironclock knows a push device holds, for area sync: its profile (options, last
//! heartbeat), the users it reported and the students sync has on it or on the way, the
//! templates and user photos it uploaded, and the writes queued to it that have not failed.
//! Written once over the dialect seam.

use super::{Dialect, JsonText, SqlStore};
use crate::domain::DeviceId;
use crate::store::biometrics::{HeldPhoto, HeldTemplate, HeldUser, HeldWrite, PushHoldings};
use crate::store::StoreResult;

#[derive(sqlx::FromRow)]
struct Profile {
    #[sqlx(try_from = "JsonText")]
    options: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct Heartbeat {
    #[sqlx(try_from = "JsonText")]
    poll_info: serde_json::Value,
}

/// The device's `options` and last heartbeat (`Null` when it has none).
pub(super) async fn profile<D: Dialect>(
    conn: &mut D::Connection,
    id: i64,
) -> StoreResult<(serde_json::Value, serde_json::Value)> {
    let profile: Option<Profile> =
        SqlStore::<D>::sql("select options from devices where id = $1").bind(id).fetch_optional(&mut *conn).await?;
    let heartbeat: Option<Heartbeat> =
        SqlStore::<D>::sql("select poll_info from devices where id = $1 and poll_info is not null")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok((profile.map(|p| p.options).unwrap_or_default(), heartbeat.map(|h| h.poll_info).unwrap_or_default()))
}

/// The device's profile and the `FACE` rows it uploaded for `pins` (one query per PIN: an
/// upload names a few people).
pub(super) async fn faces<D: Dialect>(
    conn: &mut D::Connection,
    device: DeviceId,
    pins: &[String],
) -> StoreResult<PushHoldings> {
    let (options, poll_info) = profile::<D>(conn, device.0).await?;
    let mut templates = Vec::new();
    for pin in pins {
        let rows: Vec<HeldTemplate> = SqlStore::<D>::sql(
            "select pin, kind, bio_type, finger_no, template_index, major_ver, valid, duress, template_enc,
                reported_at
             from biometric_templates where device_id = $1 and pin = $2 and kind = 'face' and bio_type = 2
             order by template_index",
        )
        .bind(device.0)
        .bind(pin)
        .fetch_all(&mut *conn)
        .await?;
        templates.extend(rows);
    }
    Ok(PushHoldings { options, poll_info, templates, ..Default::default() })
}

/// Reads the device's [`PushHoldings`] (empty for an unknown device).
pub(super) async fn read<D: Dialect>(conn: &mut D::Connection, device: DeviceId) -> StoreResult<PushHoldings> {
    let id = device.0;
    let (options, poll_info) = profile::<D>(conn, id).await?;
    let mut users: Vec<HeldUser> =
        SqlStore::<D>::sql("select pin, name, privilege, card from device_users where device_id = $1 order by pin")
            .bind(id)
            .fetch_all(conn)
            .await?;
    let students: Vec<HeldUser> = SqlStore::<D>::sql(
        "select st.device_pin as pin, s.full_name as name, cast(null as integer) as privilege, s.rfid_card_id as card
         from device_user_sync_status st join students s on s.id = st.student_id
         where st.device_id = $1 and st.desired = 'present' and st.sync_status in ('pending', 'sent', 'synced')
         order by st.device_pin",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    for s in students {
        if !users.iter().any(|u| u.pin == s.pin) {
            users.push(s);
        }
    }
    let templates: Vec<HeldTemplate> = SqlStore::<D>::sql(
        "select pin, kind, bio_type, finger_no, template_index, major_ver, valid, duress, template_enc,
                reported_at
         from biometric_templates where device_id = $1 order by pin, bio_type, finger_no, template_index",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    let photos: Vec<HeldPhoto> = SqlStore::<D>::sql(
        "select pin, image_enc from device_photos where device_id = $1 and kind = 'userpic' and pin is not null
         order by pin",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    let sent_photos: Vec<HeldPhoto> = SqlStore::<D>::sql(
        "select t.pin, t.image_enc from media_tokens t join device_commands c on c.id = t.command_id
         where t.device_id = $1 and c.state in ('queued', 'sent', 'acked') order by t.pin, t.created_at desc",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    let writes: Vec<HeldWrite> = SqlStore::<D>::sql(
        "select id, kind, pin, payload, created_at from device_commands
         where device_id = $1 and state in ('queued', 'sent', 'acked')
           and kind in ('user_update', 'fingerprint_update', 'biodata_update', 'userpic_update', 'face_update',
                        'face_delete')
         order by id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(PushHoldings { options, poll_info, users, templates, photos, sent_photos, writes })
}
