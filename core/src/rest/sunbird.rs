//! The Sunbird user API of seed 004 (SPEC 6-7): `/api/user/...`,
//! `/api/org/v1/...` and the system settings path. Every answer, every
//! failure included, travels in the Sunbird envelope; failures carry
//! `UOS_<OP><NNNN>` codes. The caller is identified by
//! `x-authenticated-user-token`, else by `Authorization: Bearer|JWT`
//! (when both are sent, `Authorization` is the gateway's key and is
//! ignored).

use super::router::{Entry, parse_query};
use super::{Request, Response};
use crate::api::sunbird::{IdType, OrgInput};
use crate::domain::sunbird::{CreateRoute, ReadParts, fault};
use crate::error::{Error, ErrorCode};
use crate::json::body::{self, BodyError, MAX_BODY};
use crate::json::sunbird::{Envelope, Params, ResponseCode, timestamp};
use crate::json::sunbird_request::{Reader, user_input};
use crate::json::sunbird_views::{
    Exists, Flavour, Org, OrgCreated, SUCCESS, UserCreated, UserRecord, Wrapped,
};
use crate::{Admin, Institute};
use serde::Serialize;
use serde_json::{Map, Value};

/// One Sunbird operation: what the path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Create(CreateRoute),
    Update {
        v1: bool,
    },
    Read {
        flavour: Flavour,
        user_id: String,
    },
    ProfileRead,
    Get {
        id_type: String,
        id: String,
    },
    Exists {
        v2: bool,
        id_type: String,
        id: String,
    },
    Block,
    Unblock,
    OrgCreate,
    OrgRead,
}

/// A routed request: the operation, its envelope id and version, the
/// `UOS_` operation code and the one method it takes.
#[derive(Debug, Clone)]
struct Route {
    op: Op,
    id: String,
    ver: String,
    code: &'static str,
    method: &'static str,
}

/// The Sunbird route of `segments` (the path's, `api` first), or `None`
/// when the path is not a Sunbird one. `Some(Err(..))`: a Sunbird path
/// that names no operation.
fn route(segments: &[&str]) -> Option<Result<Route, (String, String)>> {
    let r = |op: Op, id: &str, ver: &str, code, method| {
        Some(Ok(Route {
            op,
            id: id.to_string(),
            ver: ver.to_string(),
            code,
            method,
        }))
    };
    let versions = |v: &str, max: u8| {
        v.strip_prefix('v')
            .and_then(|n| n.parse::<u8>().ok())
            .is_some_and(|n| (1..=max).contains(&n))
    };
    match segments {
        ["api", "user", v, "create"] if versions(v, 3) => r(
            Op::Create(CreateRoute::Create),
            "api.user.create",
            v,
            "USRCRT",
            "POST",
        ),
        ["api", "user", "v4", "create"] => r(
            Op::Create(CreateRoute::Managed),
            "api.manageduser.create",
            "v4",
            "USRCRT",
            "POST",
        ),
        ["api", "user", "v1", "managed", "create"] => r(
            Op::Create(CreateRoute::Managed),
            "api.manageduser.create",
            "v1",
            "USRCRT",
            "POST",
        ),
        ["api", "user", "v1", "sso", "create"] => r(
            Op::Create(CreateRoute::Sso),
            "api.user.create",
            "v1",
            "USRCRT",
            "POST",
        ),
        ["api", "user", v, "signup"] if versions(v, 2) => r(
            Op::Create(CreateRoute::Signup),
            "api.user.signup",
            v,
            "USRCRT",
            "POST",
        ),
        ["api", "user", v, "update"] if versions(v, 3) => r(
            Op::Update { v1: *v == "v1" },
            "api.user.update",
            v,
            "USRUPD",
            "PATCH",
        ),
        ["api", "user", v, "read", user_id] if versions(v, 5) => {
            let flavour = match *v {
                "v4" => Flavour::V4,
                "v5" => Flavour::V5,
                _ => Flavour::Full,
            };
            let user_id = user_id.to_string();
            r(
                Op::Read { flavour, user_id },
                "api.user.read",
                v,
                "USRRED",
                "GET",
            )
        }
        ["api", "user", "v1", "profile", "read"] => r(
            Op::ProfileRead,
            "api.user.profile.read",
            "v1",
            "USRRED",
            "POST",
        ),
        ["api", "user", "v1", "get", id_type, id] => r(
            Op::Get {
                id_type: id_type.to_string(),
                id: id.to_string(),
            },
            &format!("api.user.get.{id_type}"),
            "v1",
            "USRRED",
            "GET",
        ),
        ["api", "user", v, "exists", id_type, id] if versions(v, 2) => r(
            Op::Exists {
                v2: *v == "v2",
                id_type: id_type.to_string(),
                id: id.to_string(),
            },
            &format!("api.user.exists.{id_type}"),
            v,
            "UEXIST",
            "GET",
        ),
        ["api", "user", "v1", "block"] => r(Op::Block, "api.user.block", "v1", "USRBLOK", "POST"),
        ["api", "user", "v1", "unblock"] => {
            r(Op::Unblock, "api.user.unblock", "v1", "USRUNBLOK", "POST")
        }
        ["api", "org", "v1", "create"] => {
            r(Op::OrgCreate, "api.org.create", "v1", "ORGCRT", "POST")
        }
        ["api", "org", "v1", "read"] => r(Op::OrgRead, "api.org.read", "v1", "ORGRED", "POST"),
        ["api", "user" | "org", rest @ ..] => {
            // The reference's id of a path: its version becomes `api`.
            let ver = rest.first().copied().unwrap_or("v1").to_string();
            let tail: Vec<&str> = rest.iter().skip(1).copied().collect();
            let id = format!("api.{}.{}", segments[1], tail.join("."));
            Some(Err((id.trim_end_matches('.').to_string(), ver)))
        }
        _ => None,
    }
}

/// Whether `segments` is a Sunbird path.
pub(super) fn is_sunbird(segments: &[&str]) -> bool {
    route(segments).is_some()
}

/// One answer being built: the envelope's ids, echoed `X-msgid`.
struct Answer<'a> {
    id: &'a str,
    ver: &'a str,
    code: &'a str,
    msgid: String,
    institute: &'a Institute,
    /// The managed-create paths answer the limit as
    /// `MANAGED_USER_LIMIT_EXCEEDED`.
    managed_create: bool,
}

impl Answer<'_> {
    fn envelope<T: Serialize>(
        &self,
        response: ResponseCode,
        err: Option<String>,
        errmsg: Option<String>,
        result: T,
    ) -> Response {
        let now = self.institute.config().clock.now();
        let failed = response != ResponseCode::Ok;
        let body = Envelope {
            id: self.id.to_string(),
            ver: self.ver.to_string(),
            ts: timestamp(now.fixed_offset()),
            params: Params {
                resmsgid: fresh_uuid(),
                msgid: self.msgid.clone(),
                err,
                status: if failed { "FAILED" } else { "success" },
                errmsg,
            },
            response_code: response.as_str(),
            result,
        };
        Response {
            status: response.status(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(serde_json::to_string(&body).unwrap_or_default()),
        }
    }

    fn ok<T: Serialize>(&self, result: T) -> Response {
        self.envelope(ResponseCode::Ok, None, None, result)
    }

    fn fail(&self, response: ResponseCode, err: String, errmsg: &str) -> Response {
        self.envelope(
            response,
            Some(err),
            Some(errmsg.to_string()),
            Map::<String, Value>::new(),
        )
    }

    /// The envelope of a failed operation.
    fn error(&self, e: &Error) -> Response {
        let op = self.code;
        match (e.code(), e.reference()) {
            (ErrorCode::Unauthenticated, _) => self.fail(
                ResponseCode::Unauthorized,
                "UOS_0070".into(),
                "You are not authorized.",
            ),
            (ErrorCode::Forbidden, _) => self.fail(
                ResponseCode::Forbidden,
                format!("UOS_{op}0071"),
                "You are forbidden from accessing specified resource.",
            ),
            (_, Some("0066")) if self.managed_create => self.fail(
                ResponseCode::ClientError,
                "MANAGED_USER_LIMIT_EXCEEDED".into(),
                e.message(),
            ),
            (ErrorCode::NotFound, number) => self.fail(
                ResponseCode::ResourceNotFound,
                format!("UOS_{op}{}", number.unwrap_or("0013")),
                e.message(),
            ),
            (ErrorCode::Validation | ErrorCode::Conflict, Some(number)) => self.fail(
                ResponseCode::ClientError,
                format!("UOS_{op}{number}"),
                e.message(),
            ),
            (ErrorCode::Validation | ErrorCode::Conflict, None) => {
                // A shared rule's refusal: its first field's message.
                let message = e
                    .fields()
                    .iter()
                    .next()
                    .map(|(f, _)| e.fields().messages(f).join(" "))
                    .unwrap_or_else(|| e.message().to_string());
                self.fail(ResponseCode::ClientError, format!("UOS_{op}0028"), &message)
            }
            (ErrorCode::Busy, _) => self.fail(
                ResponseCode::ServiceUnavailable,
                "UOS_0069".into(),
                e.message(),
            ),
            _ => self.fail(ResponseCode::ServerError, "UOS_0069".into(), e.message()),
        }
    }
}

/// A fresh random UUID string (an answer's `resmsgid`).
fn fresh_uuid() -> String {
    crate::random::uuid()
        .map(crate::domain::uuid_string)
        .unwrap_or_default()
}

/// The session token of a Sunbird request: `x-authenticated-user-token`,
/// else `Authorization: Bearer|JWT <token>`.
fn token(request: &Request) -> Option<String> {
    if let Some(t) = request.header("x-authenticated-user-token") {
        return Some(t.trim().to_string());
    }
    let value = request.header("authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let known = scheme.eq_ignore_ascii_case("jwt") || scheme.eq_ignore_ascii_case("bearer");
    known.then(|| token.trim().to_string())
}

/// Serves one Sunbird request (`segments`: the normalised path's).
pub(super) fn serve(entry: Entry<'_>, request: &Request, segments: &[&str]) -> Response {
    let institute = entry.institute();
    let msgid = request
        .header("x-msgid")
        .map(|m| crate::text::clip(m.trim()))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(fresh_uuid);
    let found = route(segments).unwrap_or_else(|| Err(("api.unknown".into(), "v1".into())));
    let route = match found {
        Ok(route) => route,
        Err((id, ver)) => {
            let answer = Answer {
                id: &id,
                ver: &ver,
                code: "",
                msgid,
                institute,
                managed_create: false,
            };
            return answer.fail(
                ResponseCode::ResourceNotFound,
                "RESOURCE_NOT_FOUND".into(),
                "Requested resource not found",
            );
        }
    };
    let answer = Answer {
        id: &route.id,
        ver: &route.ver,
        code: route.code,
        msgid,
        institute,
        managed_create: route.op == Op::Create(CreateRoute::Managed),
    };
    if request.method != route.method {
        return answer.fail(
            ResponseCode::MethodNotAllowed,
            "METHOD_NOT_ALLOWED".into(),
            &format!(
                "Method \"{}\" not allowed; this path takes {}.",
                crate::text::clip(&request.method),
                route.method
            ),
        );
    }
    // The caller: a session, or (signup when self-signup is on) nobody.
    let admin = match entry {
        Entry::As(admin) => admin.clone(),
        Entry::Authenticate(i) => match token(request) {
            Some(t) => match i.session(&t) {
                Ok(admin) => admin,
                Err(e) => return answer.error(&e),
            },
            None if route.op == Op::Create(CreateRoute::Signup)
                && i.config().sunbird.self_signup =>
            {
                // Self-signup checks nothing of its caller: the operator
                // handle runs this one create and nothing else.
                i.operator()
            }
            None => {
                return answer.error(&Error::new(ErrorCode::Unauthenticated, "no token"));
            }
        },
    };
    let body = match route.method {
        "GET" => Map::new(),
        _ => match request_object(request) {
            Ok(map) => map,
            Err(e) => return answer.error(&e),
        },
    };
    let query = parse_query(&request.query);
    let param = |name: &str| {
        query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let parts = ReadParts::parse(param("fields").unwrap_or(""));
    match run(&admin, &route.op, body, parts, &answer) {
        Ok(response) | Err(response) => response,
    }
}

/// The `request` object of a body: a malformed body is `0028`, a missing
/// or non-object `request` is `0030`.
fn request_object(request: &Request) -> Result<Map<String, Value>, Error> {
    let bytes = request.body.as_deref().unwrap_or_default();
    if bytes.len() > MAX_BODY {
        return Err(
            Error::new(ErrorCode::Validation, "Request body is too large.").numbered("0028"),
        );
    }
    if let Some(ct) = request.header("content-type") {
        let media = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !bytes.iter().all(u8::is_ascii_whitespace)
            && media != "application/json"
            && !media.ends_with("+json")
        {
            return Err(Error::new(
                ErrorCode::Validation,
                format!(
                    "Unsupported media type \"{}\" in request.",
                    crate::text::clip(ct)
                ),
            )
            .numbered("0028"));
        }
    }
    let mut map = body::parse(bytes).map_err(|e| {
        let why = match e {
            BodyError::Parse(m) => format!("Requested data for this operation is not valid: {m}"),
            BodyError::NotObject(t) => {
                format!("Requested data for this operation is not valid: a {t}, not an object.")
            }
        };
        Error::new(ErrorCode::Validation, why).numbered("0028")
    })?;
    match map.remove("request") {
        Some(Value::Object(inner)) => Ok(inner),
        _ => Err(fault::missing("request")),
    }
}

/// The reference's answer to a field of the wrong type.
fn type_error(reader: &Reader) -> Result<(), Error> {
    match &reader.error {
        Some((field, kind)) => {
            let field = crate::text::clip(field);
            Err(Error::new(
                ErrorCode::Validation,
                format!("Data type of {field} should be {kind}."),
            )
            .numbered("0003"))
        }
        None => Ok(()),
    }
}

/// Runs `op` as `admin`: the answer, or the envelope of its failure.
fn run(
    admin: &Admin,
    op: &Op,
    body: Map<String, Value>,
    parts: ReadParts,
    answer: &Answer<'_>,
) -> Result<Response, Response> {
    let fail = |e: Error| answer.error(&e);
    let mut reader = Reader::new(body);
    match op {
        Op::Create(route) => {
            let input = user_input(&mut reader, true);
            type_error(&reader).map_err(fail)?;
            let user_id = admin.sunbird_create(input, *route).map_err(fail)?;
            let errors = (*route != CreateRoute::Managed).then(Vec::new);
            Ok(answer.ok(UserCreated {
                user_id,
                response: "SUCCESS",
                errors,
            }))
        }
        Op::Update { v1 } => {
            let user_id = reader
                .text("userId")
                .value()
                .or_else(|| reader.text("id").value());
            let input = user_input(&mut reader, !v1);
            type_error(&reader).map_err(fail)?;
            let user_id = user_id.ok_or_else(|| fail(fault::missing("userId")))?;
            admin.sunbird_update(&user_id, input).map_err(fail)?;
            Ok(answer.ok(SUCCESS))
        }
        Op::Read { flavour, user_id } => {
            let view = admin.sunbird_read(user_id, parts).map_err(fail)?;
            Ok(answer.ok(Wrapped {
                response: UserRecord::new(&view, *flavour),
            }))
        }
        Op::ProfileRead => {
            let login = reader.text("loginId").value();
            type_error(&reader).map_err(fail)?;
            let login = login
                .filter(|l| !l.trim().is_empty())
                .ok_or_else(|| fail(fault::missing("loginId")))?;
            let view = admin.sunbird_read_login(&login, parts).map_err(fail)?;
            Ok(answer.ok(Wrapped {
                response: UserRecord::new(&view, Flavour::Full),
            }))
        }
        Op::Get { id_type, id } => {
            let kind = IdType::parse(id_type).ok_or_else(|| {
                fail(fault::invalid_key(
                    "key",
                    id_type,
                    "email, phone, loginId, userName",
                ))
            })?;
            let view = admin
                .sunbird_get(kind, &percent_decoded(id))
                .map_err(fail)?;
            Ok(answer.ok(Wrapped {
                response: UserRecord::new(&view, Flavour::Full),
            }))
        }
        Op::Exists { v2, id_type, id } => {
            let kind = IdType::parse(id_type)
                .filter(|k| *k != IdType::LoginId)
                .ok_or_else(|| {
                    fail(fault::invalid_key("key", id_type, "email, phone, userName"))
                })?;
            let found = admin
                .sunbird_exists(kind, &percent_decoded(id))
                .map_err(fail)?;
            Ok(answer.ok(Exists {
                exists: found.is_some(),
                id: found.as_ref().filter(|_| *v2).map(|f| f.user_id.clone()),
                name: found.filter(|_| *v2).map(|f| f.name),
            }))
        }
        Op::Block | Op::Unblock => {
            let user_id = reader.text("userId").value().unwrap_or_default();
            type_error(&reader).map_err(fail)?;
            match op {
                Op::Block => admin.sunbird_block(&user_id),
                _ => admin.sunbird_unblock(&user_id),
            }
            .map_err(fail)?;
            Ok(answer.ok(SUCCESS))
        }
        Op::OrgCreate => {
            let input = OrgInput {
                name: reader.text("orgName").value(),
                org_type: reader.text("organisationType").value(),
                channel: reader.text("channel").value(),
                is_tenant: reader.flag("isTenant").value(),
                email: reader.text("email").value(),
                external_id: reader.text("externalId").value(),
            };
            type_error(&reader).map_err(fail)?;
            let organisation_id = admin.create_organisation(input).map_err(fail)?;
            Ok(answer.ok(OrgCreated {
                organisation_id,
                response: "SUCCESS",
            }))
        }
        Op::OrgRead => {
            let sent = reader.has("organisationId");
            let id = reader.org_id("organisationId");
            type_error(&reader).map_err(fail)?;
            let id = match id.value() {
                Some(id) => id,
                None if sent => return Err(fail(fault::not_found("organisation"))),
                None => return Err(fail(fault::missing("organisationId"))),
            };
            let org = admin.organisation(id).map_err(fail)?;
            Ok(answer.ok(Wrapped {
                response: Org::new(&org),
            }))
        }
    }
}

/// A path segment percent-decoded (an email's `@` may come as `%40`).
fn percent_decoded(segment: &str) -> String {
    parse_query(&format!("x={}", segment.replace('+', "%2B")))
        .pop()
        .map(|(_, v)| v)
        .unwrap_or_default()
}
