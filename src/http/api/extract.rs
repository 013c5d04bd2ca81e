//! Request extractors for the admin API, all answering bad input with the envelope and the
//! name of the offending field: `ApiJson<T>` (JSON body: content type, size limit, syntax,
//! types, unknown fields), `ApiQuery<T>` (query string) and `PathId` (a positive integer id).
//! Target types use `#[serde(deny_unknown_fields)]`, so a typo is an error, not a silent no-op.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures::future::{ready, LocalBoxFuture, Ready};
use futures::StreamExt;
use serde::de::DeserializeOwned;

use super::error::{field, ApiError};

/// Largest JSON body accepted (bodies are small records; CSV imports have their own limit).
pub const JSON_LIMIT: usize = 64 * 1024;

/// A JSON body parsed into `T`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let declared = declared_length(req);
        let payload = payload.take();
        Box::pin(async move {
            if !is_json(content_type.as_deref()) {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "Content-Type must be application/json (got {})",
                    content_type.as_deref().unwrap_or("none")
                )));
            }
            let body = read_body(payload, declared, JSON_LIMIT).await?;
            parse_json(&body).map(ApiJson)
        })
    }
}

fn is_json(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Reads a whole body, refusing more than `limit` bytes (at once when the declared length says so).
pub async fn read_body(mut payload: Payload, declared: Option<usize>, limit: usize) -> Result<Vec<u8>, ApiError> {
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadJson(field("body", format!("could not read the body: {e}"))))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses a JSON object body into `T`, naming the field that failed. Never panics.
/// Only objects are accepted (serde would also fill a struct from an array, by position).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(ApiError::BadJson(field("body", "the body is empty; expected a JSON object"))),
        Some(b'{') => {}
        Some(_) => return Err(ApiError::BadJson(field("body", "expected a JSON object"))),
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::BadJson(field(json_field(&path, &message), message)),
            _ => ApiError::BadJson(field("body", format!("malformed JSON: {}", inner))),
        }
    })?;
    de.end().map_err(|e| ApiError::BadJson(field("body", format!("malformed JSON: {e}"))))?;
    Ok(value)
}

/// The field a data error is about. serde_path_to_error's path already ends in an unknown
/// field's name; a missing field is reported at its parent, so its name is appended.
fn json_field(path: &str, message: &str) -> String {
    let parent = if path == "." { String::new() } else { path.to_string() };
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    let unknown = message.strip_prefix("unknown field `").and_then(|rest| rest.split('`').next());
    match (missing, unknown) {
        (Some(name), _) if parent.is_empty() => name.to_string(),
        (Some(name), _) => format!("{parent}.{name}"),
        (None, Some(name)) if parent.is_empty() => name.to_string(),
        _ if parent.is_empty() => "body".into(),
        _ => parent,
    }
}

/// serde_json appends " at line 1 column 17" to data errors: useful for syntax only.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A query string parsed into `T`.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(ApiQuery))
    }
}

/// Parses a query string into `T`, naming the parameter that failed. Never panics.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        ApiError::InvalidParameter(field(json_field(&path, &message).replace("body", "query"), message))
    })
}

/// The `{id}` segment of the path: a positive integer, else a 400 naming `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathId(pub i64);

impl FromRequest for PathId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_id("id", req.match_info().get("id").unwrap_or("")).map(PathId))
    }
}

/// Parses a positive integer id (`1`..=`i64::MAX`, digits only).
pub fn parse_id(name: &str, raw: &str) -> Result<i64, ApiError> {
    let valid = !raw.is_empty() && raw.len() <= 19 && raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<i64>() {
        Ok(id) if valid && id > 0 => Ok(id),
        _ => Err(ApiError::parameter(name, format!("must be a positive integer, got {:?}", truncate(raw, 40)))),
    }
}

/// At most `max` characters of `s` (for echoing input back in messages).
pub fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: Option<u32>,
    }

    fn fields(e: ApiError) -> (String, String) {
        match e {
            ApiError::BadJson(f) | ApiError::InvalidParameter(f) => (f[0].field.clone(), f[0].message.clone()),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let (name, message) = fields(parse_json::<Body>(br#"{"name": 5}"#).unwrap_err());
        assert_eq!(name, "name");
        assert!(message.contains("expected a string"), "{message}");
        assert_eq!(fields(parse_json::<Body>(br#"{"name": "a", "count": -1}"#).unwrap_err()).0, "count");
    }

    #[test]
    fn an_unknown_field_is_named_itself() {
        let (name, message) = fields(parse_json::<Body>(br#"{"name": "a", "nmae": "b"}"#).unwrap_err());
        assert_eq!(name, "nmae");
        assert!(message.starts_with("unknown field `nmae`"), "{message}");
    }

    #[test]
    fn malformed_empty_and_trailing_bodies_are_bad_json_on_the_body() {
        for body in [&b"{\"name\": "[..], b"", b"   ", b"{\"name\": \"a\"} x", b"\xff\xfe", b"[\"a\", 1]"] {
            assert_eq!(fields(parse_json::<Body>(body).unwrap_err()).0, "body", "{body:?}");
        }
        assert_eq!(fields(parse_json::<Body>(b"{}").unwrap_err()), ("name".into(), "missing field `name`".into()));
    }

    #[test]
    fn query_errors_name_the_parameter() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Q {
            page: Option<u32>,
        }
        assert_eq!(fields(parse_query::<Q>("page=abc").unwrap_err()).0, "page");
        assert_eq!(fields(parse_query::<Q>("pgae=2").unwrap_err()).0, "pgae");
        assert!(parse_query::<Q>("page=2").unwrap().page == Some(2));
    }

    #[test]
    fn ids_are_positive_integers_only() {
        assert_eq!(parse_id("id", "42").unwrap(), 42);
        for bad in ["0", "-1", "abc", "1e3", " 1", "+1", "99999999999999999999", "", "4.0"] {
            assert!(parse_id("id", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn json_content_types_with_parameters_and_suffixes_are_accepted() {
        assert!(is_json(Some("application/json; charset=utf-8")));
        assert!(is_json(Some("application/merge-patch+json")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(None));
    }
}
