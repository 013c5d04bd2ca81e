//! `/students/{id}/biometrics`: what the biometric store keeps for a student (fingers, face
//! sets, photo: where from, size, hash), scoped like the student. Template bytes only with
//! `?include=bytes`, only for a super admin, and every such read is audit-logged.

use actix_web::{web, HttpResponse};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::envelope::{ok, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::{ApiQuery, PathId};
use crate::domain::biometric::{BiometricKind, BiometricSummary};
use crate::http::State;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BiometricQuery {
    /// `bytes`: also return each copy's bytes, base64 (super admins only; audit-logged).
    pub include: Option<String>,
}

/// A student's master copies.
#[derive(Debug, Serialize, ToSchema)]
pub struct StudentBiometrics {
    pub student_id: i64,
    pub fingerprints: usize,
    pub faces: usize,
    pub photos: usize,
    pub items: Vec<BiometricSummary>,
}

/// One master copy with its bytes (super admin, `?include=bytes`).
#[derive(Debug, Serialize, ToSchema)]
pub struct BiometricBytes {
    pub kind: BiometricKind,
    pub slot: i32,
    pub version: String,
    pub size: i32,
    pub hash: String,
    pub source_device_id: Option<i64>,
    pub data_base64: String,
}

/// What the biometric store keeps for a student.
#[utoipa::path(get, path = "/api/v1/students/{id}/biometrics", tag = "students", params(("id" = i64, Path,
    description = "Student id"), BiometricQuery), security(("bearer" = [])),
    responses((status = 200, description = "The student's master copies (no bytes unless a super admin asks)",
                body = Envelope<StudentBiometrics>),
              (status = 403, description = "Bytes asked for by a school admin", body = ErrorEnvelope),
              (status = 404, description = "No such student in your scope", body = ErrorEnvelope),
              (status = 422, description = "Unknown `include`", body = ErrorEnvelope)))]
pub async fn get(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    q: ApiQuery<BiometricQuery>,
) -> Result<HttpResponse, ApiError> {
    match q.0.include.as_deref() {
        None => {}
        Some("bytes") => return bytes(&ctx, &caller, id.0).await,
        Some(_) => return Err(ApiError::invalid("include", "must be `bytes`")),
    }
    let items = ctx
        .store
        .student_biometrics(caller.scope(), id.0)
        .await?
        .ok_or_else(|| ApiError::NotFound("student not found".into()))?;
    let count = |k: BiometricKind| items.iter().filter(|i| i.kind == k).count();
    let view = StudentBiometrics {
        student_id: id.0,
        fingerprints: count(BiometricKind::Finger),
        faces: count(BiometricKind::Face),
        photos: count(BiometricKind::Photo),
        items,
    };
    Ok(ok("student biometrics", view))
}

async fn bytes(ctx: &State, caller: &Caller, student: i64) -> Result<HttpResponse, ApiError> {
    caller.require_super("read biometric template bytes")?;
    let copies = ctx
        .store
        .student_biometric_copies(caller.scope(), student)
        .await?
        .ok_or_else(|| ApiError::NotFound("student not found".into()))?;
    let mut out = Vec::with_capacity(copies.len());
    for c in copies {
        let plain = ctx
            .cipher
            .open(&c.data_enc)
            .map_err(|_| ApiError::Internal("a biometric copy does not open with this server's data key".into()))?;
        out.push(BiometricBytes {
            kind: c.kind,
            slot: c.slot,
            version: c.version,
            size: c.size,
            hash: c.hash,
            source_device_id: c.source_device_id,
            data_base64: B64.encode(plain),
        });
    }
    let mut entry = caller.audit("student.biometrics.bytes", "student", Some(student), None);
    entry.detail = serde_json::json!({ "copies": out.len() });
    ctx.store.record_audit(&entry).await?;
    Ok(ok("student biometrics with bytes", out))
}
