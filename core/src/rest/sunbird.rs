//! The Sunbird user API of seed 004 (SPEC 6-7): `/api/user/...`,
//! `/api/org/v1/...` and the system settings path. Every answer, every
//! failure included, travels in the Sunbird envelope; failures carry
//! `UOS_<OP><NNNN>` codes. The caller is identified by
//! `x-authenticated-user-token`, else by `Authorization: Bearer|JWT`
//! (when both are sent, `Authorization` is the gateway's key and is
//! ignored).

use super::router::{Entry, decode_segment, parse_query};
use super::{Request, Response};
use crate::api::sunbird::IdType;
use crate::domain::sunbird::{CreateRoute, MIGRATION_ATTEMPTS, Migrated, ReadParts, fault};
use crate::error::{Error, ErrorCode};
use crate::json::body::{self, BodyError, MAX_BODY};
use crate::json::sunbird::{Envelope, Params, ResponseCode, timestamp};
use crate::json::sunbird_request::{
    SunbirdAcceptTerms, SunbirdAssignRoles, SunbirdAssignRolesV2, SunbirdBlock, SunbirdDeclaration,
    SunbirdDeclarations, SunbirdMerge, SunbirdMigrate, SunbirdOrgCreate, SunbirdOrgRead,
    SunbirdOrgSearch, SunbirdProfileRead, SunbirdRoleChange, SunbirdSearch, SunbirdSystemSetting,
    SunbirdUserBody, SunbirdUserUpdate, read,
};
use crate::json::sunbird_views::{
    Exists, Flavour, Listing, Org, OrgCreated, SUCCESS, UserCreated, UserRecord, Wrapped,
};
use crate::{Admin, Institute};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashSet;

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
        /// v3-v5 take `withTokens` (S6: from v3 on); v1 and v2 read
        /// without issuing a session, whatever the query says.
        takes_tokens: bool,
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
    Search {
        flavour: Flavour,
    },
    Block,
    Unblock,
    OrgCreate,
    OrgRead,
    OrgSearch,
    Managed {
        user_id: String,
    },
    AssignRole {
        v2: bool,
    },
    AcceptTerms,
    Declarations,
    Merge,
    Migrate,
    SetSetting,
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
    // `v1` to `vmax` as written: one digit, so `v01` and `v+1` (which a
    // number parser takes) are not versions served.
    let versions =
        |v: &str, max: u8| matches!(v.as_bytes(), [b'v', d @ b'1'..=b'9'] if d - b'0' <= max);
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
        ["api", "user", v, "search"] if versions(v, 3) => {
            let flavour = match *v {
                "v1" => Flavour::SearchV1,
                "v2" => Flavour::SearchV2,
                _ => Flavour::SearchV3,
            };
            r(
                Op::Search { flavour },
                "api.user.search",
                v,
                "USRSER",
                "POST",
            )
        }
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
            let user_id = decode_segment(user_id);
            let takes_tokens = !matches!(*v, "v1" | "v2");
            r(
                Op::Read {
                    flavour,
                    user_id,
                    takes_tokens,
                },
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
                id_type: decode_segment(id_type),
                id: decode_segment(id),
            },
            &format!("api.user.get.{}", crate::text::clip(id_type)),
            "v1",
            "USRRED",
            "GET",
        ),
        ["api", "user", v, "exists", id_type, id] if versions(v, 2) => r(
            Op::Exists {
                v2: *v == "v2",
                id_type: decode_segment(id_type),
                id: decode_segment(id),
            },
            &format!("api.user.exists.{}", crate::text::clip(id_type)),
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
        ["api", "org", "v1", "search"] => {
            r(Op::OrgSearch, "api.org.search", "v1", "ORGSRCH", "POST")
        }
        ["api", "user", "v1", "managed", user_id] => r(
            Op::Managed {
                user_id: decode_segment(user_id),
            },
            "api.user.managed",
            "v1",
            "USRRED",
            "GET",
        ),
        ["api", "user", v, "role", "assign"] if versions(v, 2) => r(
            Op::AssignRole { v2: *v == "v2" },
            "api.user.assign.role",
            v,
            "ROLUPD",
            "POST",
        ),
        ["api", "user", "v1", "tnc", "accept"] => r(
            Op::AcceptTerms,
            "api.user.tnc.accept",
            "v1",
            "TNCACCPT",
            "POST",
        ),
        ["api", "user", "v1", "declarations"] => r(
            Op::Declarations,
            "api.user.declarations",
            "v1",
            "UDECLUPD",
            "PATCH",
        ),
        ["api", "user", "v1", "account", "merge"] => {
            r(Op::Merge, "api.user.account.merge", "v1", "USRMRG", "PATCH")
        }
        ["api", "user", "v1", "migrate" | "migration"] => {
            r(Op::Migrate, "api.user.migrate", "v1", "USRMIG", "POST")
        }
        ["api", "data", "v1", "system", "settings", "set"] => r(
            Op::SetSetting,
            "api.system.settings.set",
            "v1",
            "SYSCRT",
            "POST",
        ),
        ["api", "user" | "org", rest @ ..] => {
            // The reference's id of a path: its version becomes `api`.
            let ver = crate::text::clip(rest.first().copied().unwrap_or("v1"));
            let tail: Vec<&str> = rest.iter().skip(1).copied().collect();
            let id = format!("api.{}.{}", segments[1], crate::text::clip(&tail.join(".")));
            Some(Err((id.trim_end_matches('.').to_string(), ver)))
        }
        _ => None,
    }
}

/// The Sunbird API's versions, as a 404 names them. The `read` route has
/// the most (v1 to v5); a test checks this against [`route`].
pub(super) const SERVED: &str = "/api/user/v1/ to /api/user/v5/ and /api/org/v1/";

/// The versions under which the operation of `segments` (a Sunbird path
/// that routed to none) is served: its version segment replaced by each
/// version the routing table might know.
fn versions_of(segments: &[&str]) -> Vec<String> {
    let Some(asked) = segments.get(2) else {
        return Vec::new();
    };
    (1..=20)
        .map(|n| format!("v{n}"))
        .filter(|v| v != asked)
        .filter(|v| {
            let mut other = segments.to_vec();
            other[2] = v;
            matches!(route(&other), Some(Ok(_)))
        })
        .collect()
}

/// The message of a Sunbird path that names no operation: the generic one,
/// or, when the path's version is the wrong one, the versions served.
fn not_found_message(segments: &[&str]) -> String {
    const GENERIC: &str = "Requested resource not found";
    let Some(version) = segments.get(2).filter(|v| super::router::version_like(v)) else {
        return GENERIC.to_string();
    };
    let version = crate::text::clip(version);
    let others = versions_of(segments);
    if !others.is_empty() {
        return format!(
            "{GENERIC}: this operation is served under {}, not {version}",
            others.join(", ")
        );
    }
    // A version some operation has (`read` has them all): the operation is
    // what is unknown.
    if matches!(route(&["api", "user", &version, "read", "x"]), Some(Ok(_))) {
        return GENERIC.to_string();
    }
    format!(
        "{GENERIC}: roster serves no API version \"{version}\"; {}",
        super::router::served_versions()
    )
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
        let now = self.institute.config().now();
        let failed = err.is_some();
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
/// else (absent, or blank as a gateway may forward it)
/// `Authorization: Bearer|JWT <token>`.
fn token(request: &Request) -> Option<String> {
    if let Some(t) = request
        .header("x-authenticated-user-token")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Some(t.to_string());
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
                &not_found_message(segments),
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
        let mut response = answer.fail(
            ResponseCode::MethodNotAllowed,
            "METHOD_NOT_ALLOWED".into(),
            &format!(
                "Method \"{}\" not allowed; this path takes {}.",
                crate::text::clip(&request.method),
                route.method
            ),
        );
        // RFC 9110 15.5.6: a 405 lists the methods the path takes.
        response.headers.push(("Allow".into(), route.method.into()));
        return response;
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
    // A manager acting as one of its managed users (`caller` stays the
    // manager: `withTokens` issues tokens for the caller's managed users).
    let caller = admin.clone();
    let admin = match request.header("x-authenticated-for").map(str::trim) {
        Some(t) if !t.is_empty() => match admin.acting_for(t) {
            Ok(managed) => managed,
            Err(e) => return answer.error(&e),
        },
        _ => admin,
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
    let with_tokens = matches!(param("withTokens"), Some("true" | "True" | "TRUE" | "1"));
    let tokens = with_tokens.then_some(&caller);
    match run(&admin, &route.op, body, parts, tokens, &answer) {
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

/// Runs `op` as `admin`: the answer, or the envelope of its failure.
fn run(
    admin: &Admin,
    op: &Op,
    body: Map<String, Value>,
    parts: ReadParts,
    tokens: Option<&Admin>,
    answer: &Answer<'_>,
) -> Result<Response, Response> {
    let with_tokens = tokens.is_some();
    let fail = |e: Error| answer.error(&e);
    match op {
        Op::Create(route) => {
            let input = read::<SunbirdUserBody>(body).map_err(fail)?;
            let input = input.into_input(true);
            let user_id = admin.sunbird_create(input, *route).map_err(fail)?;
            let errors = (*route != CreateRoute::Managed).then(Vec::new);
            Ok(answer.ok(UserCreated {
                user_id,
                response: "SUCCESS",
                errors,
            }))
        }
        Op::Update { v1 } => {
            let update = read::<SunbirdUserUpdate>(body).map_err(fail)?;
            let (user_id, input) = update.into_parts(!v1);
            let user_id = user_id.ok_or_else(|| fail(fault::missing("userId")))?;
            admin.sunbird_update(&user_id, input).map_err(fail)?;
            Ok(answer.ok(SUCCESS))
        }
        Op::Read {
            flavour,
            user_id,
            takes_tokens,
        } => {
            let view = admin.sunbird_read(user_id, parts).map_err(fail)?;
            // `withTokens`: a managed user read by its manager carries a
            // token acting as it, as in the managed list.
            let managed_token = match (tokens, &view.managed_by) {
                (Some(caller), Some(_)) if *takes_tokens => {
                    caller.sunbird_managed_token(user_id).map_err(fail)?
                }
                _ => None,
            };
            Ok(answer.ok(Wrapped {
                response: ManagedUser {
                    user: UserRecord::new(&view, *flavour),
                    managed_token,
                },
            }))
        }
        Op::ProfileRead => {
            let body = read::<SunbirdProfileRead>(body).map_err(fail)?;
            let login = body
                .login_id
                .into_value()
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
            let view = admin.sunbird_get(kind, id).map_err(fail)?;
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
            let found = admin.sunbird_exists(kind, id).map_err(fail)?;
            Ok(answer.ok(Exists {
                exists: found.is_some(),
                id: found.as_ref().filter(|_| *v2).map(|f| f.user_id.clone()),
                name: found.filter(|_| *v2).map(|f| f.name),
            }))
        }
        Op::Block | Op::Unblock => {
            let body = read::<SunbirdBlock>(body).map_err(fail)?;
            let user_id = body.user_id.into_value().unwrap_or_default();
            match op {
                Op::Block => admin.sunbird_block(&user_id),
                _ => admin.sunbird_unblock(&user_id),
            }
            .map_err(fail)?;
            Ok(answer.ok(SUCCESS))
        }
        Op::OrgCreate => {
            let input = read::<SunbirdOrgCreate>(body).map_err(fail)?;
            let input = input.into_input();
            let organisation_id = admin.create_organisation(input).map_err(fail)?;
            Ok(answer.ok(OrgCreated {
                organisation_id,
                response: "SUCCESS",
            }))
        }
        Op::OrgRead => {
            let body = read::<SunbirdOrgRead>(body).map_err(fail)?;
            // Sent, the id was read (or the body failed above).
            let id = body.organisation_id.into_value();
            let id = id.ok_or_else(|| fail(fault::missing("organisationId")))?;
            let org = admin.organisation(id).map_err(fail)?;
            Ok(answer.ok(Wrapped {
                response: Org::new(&org),
            }))
        }
        Op::OrgSearch => {
            let search = read::<SunbirdOrgSearch>(body).map_err(fail)?;
            let request = search.into_request().map_err(fail)?;
            let found = admin.search_organisations(&request).map_err(fail)?;
            Ok(answer.ok(Wrapped {
                response: Listing {
                    count: found.count,
                    content: found.content.iter().map(Org::new).collect::<Vec<_>>(),
                },
            }))
        }
        Op::Search { flavour } => {
            let search = read::<SunbirdSearch>(body).map_err(fail)?;
            let (request, fields) = search.into_request().map_err(fail)?;
            let found = admin.sunbird_search(&request).map_err(fail)?;
            // The names once, as a set: a projection costs the keys of
            // each user, whatever the list's length.
            let fields: Option<HashSet<&str>> = fields
                .as_deref()
                .map(|f| f.iter().map(String::as_str).collect());
            let content = found
                .content
                .iter()
                .map(|v| project(UserRecord::new(v, *flavour), fields.as_ref()))
                .collect();
            Ok(answer.ok(Wrapped {
                response: Listing {
                    count: found.count,
                    content,
                },
            }))
        }
        Op::Managed { user_id } => {
            let entries = admin.managed_users(user_id, with_tokens).map_err(fail)?;
            let content = entries
                .iter()
                .map(|e| ManagedUser {
                    user: UserRecord::new(&e.view, Flavour::Managed),
                    managed_token: e.token.clone(),
                })
                .collect::<Vec<_>>();
            Ok(answer.ok(Wrapped {
                response: Listing {
                    count: content.len() as u64,
                    content,
                },
            }))
        }
        Op::AssignRole { v2 } => {
            if *v2 {
                let body = read::<SunbirdAssignRolesV2>(body).map_err(fail)?;
                let user_id = body.user_id.into_value().unwrap_or_default();
                let roles = body.roles.into_value();
                let roles = roles.ok_or_else(|| fail(fault::missing("roles")))?;
                let changes = roles
                    .into_iter()
                    .map(SunbirdRoleChange::into_change)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(fail)?;
                admin.change_roles(&user_id, &changes).map_err(fail)?;
            } else {
                // `"roles": null` is no roles sent, not the empty list
                // (which takes every role at the organisation away): a
                // client that writes an unset field as null must not
                // strip a user's roles.
                let unset = matches!(body.get("roles"), Some(Value::Null));
                let body = read::<SunbirdAssignRoles>(body).map_err(fail)?;
                let user_id = body.user_id.into_value().unwrap_or_default();
                let roles = body.roles.into_value().filter(|_| !unset);
                let roles = roles.ok_or_else(|| fail(fault::missing("roles")))?;
                // Sent, the organisation was read (or the body failed).
                let org = body.organisation_id.into_value();
                admin.assign_roles(&user_id, org, &roles).map_err(fail)?;
            }
            Ok(answer.ok(SUCCESS))
        }
        Op::AcceptTerms => {
            let body = read::<SunbirdAcceptTerms>(body).map_err(fail)?;
            let version = body.version.into_value().unwrap_or_default();
            let user_id = body.user_id.into_value();
            let kind = body.tnc_type.into_value();
            admin
                .accept_terms(&version, user_id.as_deref(), kind.as_deref())
                .map_err(fail)?;
            Ok(answer.ok(SUCCESS))
        }
        Op::Declarations => {
            let body = read::<SunbirdDeclarations>(body).map_err(fail)?;
            let changes = body
                .declarations
                .into_value()
                .unwrap_or_default()
                .into_iter()
                .map(SunbirdDeclaration::into_change)
                .collect::<Result<Vec<_>, _>>()
                .map_err(fail)?;
            admin.update_declarations(&changes).map_err(fail)?;
            Ok(answer.ok(SUCCESS))
        }
        Op::Merge => {
            let body = read::<SunbirdMerge>(body).map_err(fail)?;
            let from = body.from_account_id.into_value().unwrap_or_default();
            let to = body.to_account_id.into_value().unwrap_or_default();
            admin.merge_accounts(&from, &to).map_err(fail)?;
            Ok(answer.ok(SUCCESS))
        }
        Op::Migrate => {
            // `feedId` names the notification the claim came from: kept by
            // no one in process, but checked.
            let body = read::<SunbirdMigrate>(body).map_err(fail)?;
            let user_id = body.user_id.into_value().unwrap_or_default();
            let channel = body.channel.into_value().unwrap_or_default();
            let action = body.action.into_value().unwrap_or_default();
            let ext = body.user_ext_id.into_value().unwrap_or_default();
            let accept = match action.trim().to_ascii_lowercase().as_str() {
                "accept" => true,
                "reject" => false,
                "" => return Err(fail(fault::missing("action"))),
                _ => return Err(fail(fault::invalid_value(&action, "action"))),
            };
            match admin
                .migrate(&user_id, &channel, accept, &ext)
                .map_err(fail)?
            {
                Migrated::WrongId { remaining, given } => Ok(answer
                    .envelope(
                        ResponseCode::ServerError,
                        None,
                        None,
                        WrongExtId {
                            max_attempt: MIGRATION_ATTEMPTS,
                            remaining_attempt: remaining,
                            err: true,
                            message: format!(
                                "provided ext user id {} is incorrect",
                                crate::text::clip(&given)
                            ),
                        },
                    )
                    .with_status(200)),
                Migrated::Accepted | Migrated::Rejected => Ok(answer.ok(SUCCESS)),
            }
        }
        Op::SetSetting => {
            let body = read::<SunbirdSystemSetting>(body).map_err(fail)?;
            let id = body.id.into_value().unwrap_or_default();
            let field = body.field.into_value().unwrap_or_default();
            let value = body.value.into_value().unwrap_or_default();
            admin
                .set_system_setting(&id, &field, &value)
                .map_err(fail)?;
            Ok(answer.ok(Wrapped { response: id }))
        }
    }
}

/// `record` with only the keys of `fields` (all when `None`; a name no
/// key has keeps nothing).
fn project(record: UserRecord, fields: Option<&HashSet<&str>>) -> Value {
    let mut value = serde_json::to_value(record).unwrap_or_default();
    if let (Some(fields), Value::Object(map)) = (fields, &mut value) {
        map.retain(|k, _| fields.contains(k.as_str()));
    }
    value
}

/// A managed user in the manager's list: the user and, with
/// `withTokens`, its token.
#[derive(Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub(super) struct ManagedUser {
    #[serde(flatten)]
    user: UserRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    managed_token: Option<String>,
}

/// The seed's answer to a wrong `userExtId` (S11).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub(super) struct WrongExtId {
    max_attempt: u8,
    remaining_attempt: u8,
    err: bool,
    message: String,
}

impl Response {
    /// This response with another HTTP status.
    fn with_status(mut self, status: u16) -> Response {
        self.status = status;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_versions_named_in_a_404_are_the_routing_table_s() {
        // SERVED: user v1 to v5 (read has them all), org v1.
        let routes = |path: &[&str]| matches!(route(path), Some(Ok(_)));
        for n in 1..=5 {
            let v = format!("v{n}");
            assert!(routes(&["api", "user", &v, "read", "x"]), "{v}");
        }
        for n in 6..=20 {
            let v = format!("v{n}");
            for path in [
                ["api", "user", v.as_str(), "read", "x"].as_slice(),
                &["api", "user", &v, "create"],
                &["api", "user", &v, "search"],
                &["api", "org", &v, "create"],
            ] {
                assert!(!routes(path), "{path:?}");
            }
        }
        assert!(routes(&["api", "org", "v1", "create"]));
        assert!(!routes(&["api", "org", "v2", "create"]));
        assert_eq!(SERVED, "/api/user/v1/ to /api/user/v5/ and /api/org/v1/");
    }
}
