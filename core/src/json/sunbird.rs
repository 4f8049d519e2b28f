//! The Sunbird user API's wire forms that do not depend on a record (seed
//! 004, SPEC 6-7): the envelope every answer travels in, its timestamp and
//! and response codes. The representations
//! and bodies of the Sunbird paths come with them (Step 8).

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

/// What a Sunbird answer says about itself: HTTP status and
/// `responseCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseCode {
    /// 200 `OK`.
    Ok,
    /// 400 `CLIENT_ERROR`.
    ClientError,
    /// 401 `UNAUTHORIZED`.
    Unauthorized,
    /// 403 `FORBIDDEN`.
    Forbidden,
    /// 404 `RESOURCE_NOT_FOUND`.
    ResourceNotFound,
    /// 405 (a path asked with another method): `CLIENT_ERROR`.
    MethodNotAllowed,
    /// 503 `SERVICE_UNAVAILABLE` (too many password checks waiting).
    ServiceUnavailable,
    /// 500 `SERVER_ERROR`.
    ServerError,
}

impl ResponseCode {
    /// The `responseCode` text.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseCode::Ok => "OK",
            ResponseCode::ClientError => "CLIENT_ERROR",
            ResponseCode::Unauthorized => "UNAUTHORIZED",
            ResponseCode::Forbidden => "FORBIDDEN",
            ResponseCode::ResourceNotFound => "RESOURCE_NOT_FOUND",
            ResponseCode::MethodNotAllowed => "CLIENT_ERROR",
            ResponseCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ResponseCode::ServerError => "SERVER_ERROR",
        }
    }

    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            ResponseCode::Ok => 200,
            ResponseCode::ClientError => 400,
            ResponseCode::Unauthorized => 401,
            ResponseCode::Forbidden => 403,
            ResponseCode::ResourceNotFound => 404,
            ResponseCode::MethodNotAllowed => 405,
            ResponseCode::ServiceUnavailable => 503,
            ResponseCode::ServerError => 500,
        }
    }
}

/// `params` of the envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Params {
    /// A fresh UUID for this answer.
    pub resmsgid: String,
    /// The request's `X-msgid`, or a fresh UUID when it had none.
    pub msgid: String,
    /// The error code (`UOS_USRCRT0030`), or null on success.
    pub err: Option<String>,
    /// `success`, or `FAILED`.
    pub status: &'static str,
    /// The error message, or null on success.
    pub errmsg: Option<String>,
}

/// Every Sunbird answer: `{id, ver, ts, params, responseCode, result}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", schemars(rename = "Envelope_{T}"))]
#[serde(rename_all = "camelCase")]
pub struct Envelope<T> {
    /// The operation: `api.user.create`.
    pub id: String,
    /// The path's version: `v1`.
    pub ver: String,
    /// When it was answered ([`timestamp`]).
    pub ts: String,
    /// Message ids and the error, if any.
    pub params: Params,
    /// `OK`, `CLIENT_ERROR`, ...
    pub response_code: &'static str,
    /// The operation's answer; `{}` on failure.
    pub result: T,
}

/// An instant as the envelope writes it: `2020-11-23 10:03:39:935+0000`.
pub fn timestamp(t: DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M:%S:%3f%z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_envelope_has_the_documents_keys_in_their_order() {
        let envelope = Envelope {
            id: "api.user.create".into(),
            ver: "v1".into(),
            ts: timestamp(
                FixedOffset::east_opt(0)
                    .unwrap()
                    .with_ymd_and_hms(2020, 11, 23, 10, 3, 39)
                    .unwrap()
                    + chrono::Duration::milliseconds(935),
            ),
            params: Params {
                resmsgid: "r".into(),
                msgid: "5398bdd7-f80d-4a9e-9c13-90ae3c6bbcb0".into(),
                err: None,
                status: "success",
                errmsg: None,
            },
            response_code: ResponseCode::Ok.as_str(),
            result: serde_json::json!({"response": "SUCCESS"}),
        };
        let text = serde_json::to_string(&envelope).unwrap();
        // Seed 004, Create User V1.
        assert_eq!(
            text,
            r#"{"id":"api.user.create","ver":"v1","ts":"2020-11-23 10:03:39:935+0000","params":{"resmsgid":"r","msgid":"5398bdd7-f80d-4a9e-9c13-90ae3c6bbcb0","err":null,"status":"success","errmsg":null},"responseCode":"OK","result":{"response":"SUCCESS"}}"#
        );
    }

    #[test]
    fn timestamps_carry_their_offset() {
        let ist = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        let t = ist.with_ymd_and_hms(2021, 4, 9, 21, 9, 5).unwrap()
            + chrono::Duration::milliseconds(331);
        // Seed 004, Read User V4.
        assert_eq!(timestamp(t), "2021-04-09 21:09:05:331+0530");
    }

    #[test]
    fn response_codes_and_statuses() {
        for (code, text, status) in [
            (ResponseCode::Ok, "OK", 200),
            (ResponseCode::ClientError, "CLIENT_ERROR", 400),
            (ResponseCode::Unauthorized, "UNAUTHORIZED", 401),
            (ResponseCode::Forbidden, "FORBIDDEN", 403),
            (ResponseCode::ResourceNotFound, "RESOURCE_NOT_FOUND", 404),
            (ResponseCode::ServerError, "SERVER_ERROR", 500),
        ] {
            assert_eq!((code.as_str(), code.status()), (text, status));
        }
    }
}
