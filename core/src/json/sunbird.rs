//! The Sunbird user API's wire forms that do not depend on a record (seed
//! 004, SPEC 6-7): the envelope every answer travels in, its timestamp and
//! response codes, and the masking of contact data. The representations
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
            ResponseCode::ServerError => 500,
        }
    }
}

/// `params` of the envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
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

/// An email as Sunbird shows another person's: the first two characters
/// of the local part, the rest of it `*`, the domain as it is
/// (`se*************@yopmail.com`). A value that is not an email is shown
/// as it is.
pub fn mask_email(email: &str) -> String {
    let valid = crate::domain::rules::email(email).is_ok();
    let Some((local, domain)) = email.rsplit_once('@').filter(|_| valid) else {
        return email.to_string();
    };
    let kept: String = local.chars().take(2).collect();
    let hidden = local.chars().count() - kept.chars().count();
    format!("{kept}{}@{domain}", "*".repeat(hidden))
}

/// A phone number as Sunbird shows another person's: its last four
/// characters, the rest `*` (`******7890`). One shorter than ten
/// characters is shown as it is.
pub fn mask_phone(phone: &str) -> String {
    let n = phone.chars().count();
    if n < 10 {
        return phone.to_string();
    }
    let last: String = phone.chars().skip(n - 4).collect();
    format!("{}{last}", "*".repeat(n - 4))
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

    #[test]
    fn emails_keep_two_characters_and_the_domain() {
        // Seed 004's masked email: a local part of 15 characters.
        assert_eq!(
            mask_email("selfdeclaredev5@yopmail.com"),
            "se*************@yopmail.com"
        );
        assert_eq!(mask_email("ab@x.in"), "ab@x.in");
        assert_eq!(mask_email("a@x.in"), "a@x.in");
        assert_eq!(
            mask_email("ravi.kumar@example.com"),
            "ra********@example.com"
        );
        // Not an email by roster's rule (ASCII local parts): as it is.
        for not_an_email in ["", "plain", "@x.in", "a@", "a b@x.in", "élodie@example.fr"] {
            assert_eq!(mask_email(not_an_email), not_an_email);
        }
    }

    #[test]
    fn phones_keep_their_last_four() {
        assert_eq!(mask_phone("9876547890"), "******7890");
        assert_eq!(mask_phone("+919876547890"), "*********7890");
        for short in ["", "123", "987654789"] {
            assert_eq!(mask_phone(short), short);
        }
    }
}
