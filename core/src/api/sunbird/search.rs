//! User search (S4) on indexes.
//!
//! Each condition of the filters says which users may match it from an
//! index, when one answers it; the candidates of the ANDed conditions are
//! intersected (an `$or` is indexed when each of its groups is) and every
//! candidate is then checked against every condition on its records. What
//! the indexes answer:
//!
//! | key | index |
//! | --- | --- |
//! | `userId`/`id`, `userName`, `email`, `phone` | the unique indexes |
//! | `managedBy` | the managed-user pairs |
//! | `firstName`, `lastName`; `startsWith`/`endsWith` on them, `userName`, `email`, `phone` | the n-gram index (candidates, then checked) |
//! | `channel`, `rootOrgId`, `organisations.organisationId`, `roles.role` (but `PUBLIC`, which everyone has), `profileUserType.type`, `profileLocation.code`, `externalIds.id`, `language`, `grade`, `subject` | the Sunbird terms index |
//! | `query` of any length | the n-gram index of userName + email, firstName, lastName, phone |
//!
//! `status`, `gender`, `createdDate`, `dob`, ranges, and `PUBLIC` are
//! checked on the candidates the other conditions leave; alone, they read
//! every user. So does a `sort_by` on anything but the default order.

use super::{Admin, Pair};
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::rules::{self, fold};
use crate::domain::sunbird::{
    Condition, Filter, FilterGroup, Filters, PUBLIC_ROLE, ReadParts, SEARCH_KEYS, SearchRequest,
    SortBy, SunbirdView,
};
use crate::domain::{parse_uuid, uuid_string};
use crate::error::Result;
use crate::store::search::{self, Field, intersect};
use crate::store::tables::{
    Kind, MANAGED_USERS, ORG_BY_CHANNEL, USER_BY_EMAIL, USER_BY_PHONE, USER_BY_USERNAME, USERS,
    UUIDS,
};
use crate::store::terms::{self, Term};
use crate::store::{Snapshot, read};
use std::cmp::Ordering;

/// The default `limit`.
pub const DEFAULT_LIMIT: u64 = 250;

/// A search's answer: every match's count and the page asked for.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct SearchResult {
    /// Every match.
    pub count: u64,
    /// The page (`offset`, `limit`).
    pub content: Vec<SunbirdView>,
}

/// A user as the checks see it: its side record, its root organisation's
/// channel and its manager's id are read only when a condition needs them
/// (a search by name or `query` reads the user record alone).
struct Candidate {
    pair: Pair,
    /// Whether `pair.side` was read (else it is empty).
    side_loaded: bool,
    /// The root organisation's channel, folded (for `channel`).
    channel: String,
    /// The manager's `userId`.
    manager: Option<String>,
}

impl Admin {
    /// Searches users (S4): needs `view_user`. Contact data in the answer is
    /// masked; filters match the real values.
    pub fn sunbird_search(&self, request: &SearchRequest) -> Result<SearchResult> {
        self.allow(Permission::new(Action::View, Model::User))?;
        let cap = u64::from(self.config().sunbird.search_cap);
        let limit = request.limit.unwrap_or(DEFAULT_LIMIT).min(cap);
        let query = request
            .query
            .as_deref()
            .map(|q| fold(q.trim()))
            .filter(|q| !q.is_empty());
        self.store().reading(|s| {
            let mut views = super::Views::default();
            let shared = views.shared(self, s)?;
            let deleted = &shared.deleted;
            let plain = request.filters == Filters::default()
                && query.is_none()
                && request.sort_by.is_none();
            if plain {
                // Every user in creation order but the merged-away ones
                // (records too): a page by position.
                let count = read::count(s, USERS)?.saturating_sub(deleted.len() as u64);
                let users: Vec<crate::domain::user::User> =
                    read::records_page_except(s, USERS, request.offset, limit as usize, deleted)?;
                let mut content = Vec::with_capacity(users.len());
                for user in users {
                    content.push(self.shown(s, user, None, &mut views)?);
                }
                return Ok(SearchResult { count, content });
            }
            // Candidates from the indexes, or every user; `exact`: the
            // indexes answered every condition exactly, so the count needs
            // no record read (the page's users are still checked).
            let mut sets = Vec::new();
            let mut exact = request.sort_by.is_none();
            for Filter {
                key,
                condition: cond,
            } in &request.filters.all
            {
                match indexed(s, key, cond, &mut views)? {
                    Some((ids, precise)) => {
                        exact &= precise;
                        sets.push(ids);
                    }
                    None if !SEARCH_KEYS.contains(&key.as_str()) => {
                        // An unknown key matches nothing.
                        return Ok(SearchResult {
                            count: 0,
                            content: Vec::new(),
                        });
                    }
                    None => exact = false,
                }
            }
            if !request.filters.any.is_empty() {
                let mut union: Option<Vec<u64>> = Some(Vec::new());
                for group in &request.filters.any {
                    let mut group_sets = Vec::new();
                    for Filter {
                        key,
                        condition: cond,
                    } in &group.all
                    {
                        match indexed(s, key, cond, &mut views)? {
                            Some((ids, precise)) => {
                                exact &= precise;
                                group_sets.push(ids);
                            }
                            None => exact = false,
                        }
                    }
                    match (intersect(group_sets), union.as_mut()) {
                        (Some(ids), Some(all)) => all.extend(ids),
                        _ => union = None,
                    }
                }
                if let Some(mut all) = union {
                    all.sort_unstable();
                    all.dedup();
                    sets.push(all);
                }
            }
            if let Some(q) = &query {
                // Up to a gram's length, each field's grams answer exactly.
                exact &= search::exact(q);
                let fields = [Field::Q, Field::FirstName, Field::LastName, Field::Phone];
                sets.push(search::candidates_in(s, &fields, q)?);
            }
            let ids = match intersect(sets) {
                Some(ids) => ids,
                // A filter nothing indexes reads every user.
                None => read::ids(s, USERS)?,
            };
            let needs = Needs::of(request);
            let checks = checked(&request.filters);
            // Ascending (the terms index's order): looked up, not copied.
            let gone = |id: &u64| deleted.binary_search(id).is_ok();
            if exact {
                let ids: Vec<u64> = ids.into_iter().filter(|id| !gone(id)).collect();
                let count = ids.len() as u64;
                let mut content = Vec::new();
                for id in page(ids, request.offset, limit) {
                    // Every user shown is checked against its records.
                    let c = candidate(s, id, needs, &mut views)?.ok_or_else(|| {
                        read::index_mismatch("Sunbird search", id, "which does not exist")
                    })?;
                    if !meets(&c, &checks, query.as_deref()) {
                        return Err(read::index_mismatch(
                            "Sunbird search",
                            id,
                            "which does not match",
                        ));
                    }
                    let side = c.side_loaded.then_some(c.pair.side);
                    content.push(self.shown(s, c.pair.user, side, &mut views)?);
                }
                return Ok(SearchResult { count, content });
            }
            if needs.light && request.sort_by.is_none() {
                // Conditions on the user record's texts alone: checked on
                // the texts borrowed from each candidate's frame, and only
                // the page's users read whole.
                let mut matched = Vec::new();
                for id in ids {
                    if gone(&id) {
                        continue;
                    }
                    let hit = read::with_user_texts(s, id, |t| {
                        let all = checks
                            .all
                            .iter()
                            .all(|f| light_holds(t, &f.key, &f.condition));
                        let any = checks.any.is_empty()
                            || checks.any.iter().any(|g| {
                                g.all.iter().all(|f| light_holds(t, &f.key, &f.condition))
                            });
                        let text = query.as_deref().is_none_or(|q| {
                            [t.username, t.email, t.first_name, t.last_name, t.phone]
                                .iter()
                                .any(|x| contains_folded(x, q))
                        });
                        all && any && text
                    })?;
                    if hit == Some(true) {
                        matched.push(id);
                    }
                }
                let count = matched.len() as u64;
                let mut content = Vec::new();
                for id in page(matched, request.offset, limit) {
                    let Some(user) = read::user(s, id)? else {
                        continue;
                    };
                    content.push(self.shown(s, user, None, &mut views)?);
                }
                return Ok(SearchResult { count, content });
            }
            let mut matches = Vec::new();
            for id in ids {
                if gone(&id) {
                    continue;
                }
                let Some(c) = candidate(s, id, needs, &mut views)? else {
                    continue;
                };
                if meets(&c, &checks, query.as_deref()) {
                    matches.push(c);
                }
            }
            if let Some(SortBy { key, descending }) = &request.sort_by {
                matches.sort_by(|a, b| {
                    let order = compare(&values(a, key), &values(b, key))
                        .then(a.pair.user.id.cmp(&b.pair.user.id));
                    if *descending { order.reverse() } else { order }
                });
            }
            let count = matches.len() as u64;
            let mut content = Vec::new();
            for c in page(matches, request.offset, limit) {
                let side = c.side_loaded.then_some(c.pair.side);
                content.push(self.shown(s, c.pair.user, side, &mut views)?);
            }
            Ok(SearchResult { count, content })
        })
    }

    /// `user` as a search shows it, with its side record (read here when
    /// the checks did not read it).
    fn shown(
        &self,
        s: &Snapshot<'_>,
        user: crate::domain::user::User,
        side: Option<crate::domain::sunbird::SunbirdUser>,
        views: &mut super::Views,
    ) -> Result<SunbirdView> {
        let side = match side {
            Some(side) => side,
            None => read::sunbird(s, user.id)?.unwrap_or_default(),
        };
        self.sunbird_view_with(s, Pair { user, side }, ReadParts::default(), views)
    }
}

/// The items of page `offset`, `limit` of `all`.
fn page<T>(all: Vec<T>, offset: u64, limit: u64) -> impl Iterator<Item = T> {
    all.into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
}

/// Whether `c` meets every condition of `request` and its folded `query`.
fn meets(c: &Candidate, f: &Filters, query: Option<&str>) -> bool {
    f.all.iter().all(|x| holds(c, &x.key, &x.condition))
        && (f.any.is_empty()
            || f.any
                .iter()
                .any(|g| g.all.iter().all(|x| holds(c, &x.key, &x.condition))))
        && query.is_none_or(|q| query_holds(c, q))
}

/// What the conditions of a search read besides the user record.
#[derive(Debug, Clone, Copy, Default)]
struct Needs {
    side: bool,
    channel: bool,
    manager: bool,
    /// Every condition is on the user record's texts.
    light: bool,
}

impl Needs {
    fn of(request: &SearchRequest) -> Needs {
        let keys = request
            .filters
            .all
            .iter()
            .chain(request.filters.any.iter().flat_map(|g| &g.all))
            .map(|f| f.key.as_str())
            .chain(request.sort_by.iter().map(|s| s.key.as_str()));
        let mut needs = Needs {
            light: true,
            ..Needs::default()
        };
        for key in keys {
            match key {
                "userId" | "id" | "userName" | "firstName" | "lastName" | "email" | "phone" => {}
                "status" | "createdDate" | "dob" | "gender" => needs.light = false,
                "channel" => {
                    needs.side = true;
                    needs.channel = true;
                    needs.light = false;
                }
                "managedBy" => {
                    needs.side = true;
                    needs.manager = true;
                    needs.light = false;
                }
                _ => {
                    needs.side = true;
                    needs.light = false;
                }
            }
        }
        needs
    }
}

/// User `id` with what the checks need (managers' ids from the answer's
/// cache: the users of one manager share one).
fn candidate(
    s: &Snapshot<'_>,
    id: u64,
    needs: Needs,
    views: &mut super::Views,
) -> Result<Option<Candidate>> {
    let Some(user) = read::user(s, id)? else {
        return Ok(None);
    };
    let side = match needs.side {
        true => match views.sides.remove(&id) {
            Some(side) => side,
            None => read::sunbird(s, id)?.unwrap_or_default(),
        },
        false => Default::default(),
    };
    let channel = match side.root_org.filter(|_| needs.channel) {
        Some(o) => read::organisation(s, o)?
            .map(|o| fold(&o.channel))
            .unwrap_or_default(),
        None => String::new(),
    };
    let manager = match needs.manager {
        true => views.uuid_of(s, side.managed_by)?,
        false => None,
    };
    Ok(Some(Candidate {
        side_loaded: needs.side,
        pair: Pair { user, side },
        channel,
        manager,
    }))
}

/// The users an index says may match `key` `cond`, ascending, and whether
/// exactly those (the n-gram index gives a superset); `None` when no index
/// answers it.
fn indexed(
    s: &Snapshot<'_>,
    key: &str,
    cond: &Condition,
    views: &mut super::Views,
) -> Result<Option<(Vec<u64>, bool)>> {
    let values = match cond {
        Condition::AnyOf(values) => values,
        Condition::StartsWith(t) | Condition::EndsWith(t) => {
            let field = match key {
                "userName" | "email" => Field::Q,
                "firstName" => Field::FirstName,
                "lastName" => Field::LastName,
                "phone" => Field::Phone,
                _ => return Ok(None),
            };
            let needle = fold(t);
            if needle.is_empty() {
                return Ok(None);
            }
            return Ok(Some((search::candidates(s, field, &needle)?, false)));
        }
        Condition::Range { .. } => return Ok(None),
    };
    let mut out = Vec::new();
    let precise = !matches!(key, "firstName" | "lastName");
    for value in values {
        let v = fold(value.trim());
        let user = |id: Option<u64>| id.into_iter().collect::<Vec<u64>>();
        let ids = match key {
            "userId" | "id" => match parse_uuid(&v) {
                Some(uuid) => user(
                    s.get(UUIDS, &uuid)?
                        .filter(|(k, _)| *k == Kind::User as u8)
                        .map(|(_, id)| id),
                ),
                None => Vec::new(),
            },
            // The entries are not checked here: every user shown is
            // checked against its record, as every candidate counted when
            // an index is not exact.
            "userName" => user(s.get(USER_BY_USERNAME, v.as_str())?),
            "email" => user(s.get(USER_BY_EMAIL, v.as_str())?),
            "phone" => match rules::phone(&v) {
                Ok(p) => user(s.get(USER_BY_PHONE, p.as_str())?),
                Err(_) => Vec::new(),
            },
            "managedBy" => {
                let manager = parse_uuid(&v)
                    .map(|u| s.get(UUIDS, &u))
                    .transpose()?
                    .flatten()
                    .filter(|(k, _)| *k == Kind::User as u8);
                match manager {
                    // The side records are read to check the pairs: kept
                    // for the candidates, which would read them again.
                    Some((_, id)) => read::related_records(s, MANAGED_USERS, id)?
                        .into_iter()
                        .map(|(user, side)| {
                            views.sides.insert(user, side);
                            user
                        })
                        .collect(),
                    None => Vec::new(),
                }
            }
            "firstName" | "lastName" if !v.is_empty() => {
                let field = match key {
                    "firstName" => Field::FirstName,
                    _ => Field::LastName,
                };
                search::candidates(s, field, &v)?
            }
            "channel" => match read::lookup(s, ORG_BY_CHANNEL, &v)? {
                Some(org) => terms::users_with(s, Term::RootOrg, &org.to_string())?,
                None => Vec::new(),
            },
            "roles.role" if v == fold(PUBLIC_ROLE) => return Ok(None),
            other => {
                let term = match other {
                    "rootOrgId" => Term::RootOrg,
                    "organisations.organisationId" => Term::Organisation,
                    "roles.role" => Term::Role,
                    "profileUserType.type" => Term::UserType,
                    "profileLocation.code" => Term::Location,
                    "externalIds.id" => Term::ExternalId,
                    "language" => Term::Language,
                    "grade" => Term::Grade,
                    "subject" => Term::Subject,
                    _ => return Ok(None),
                };
                terms::users_with(s, term, &v)?
            }
        };
        out.extend(ids);
    }
    out.sort_unstable();
    out.dedup();
    Ok(Some((out, precise)))
}

/// The folded values `c` has under `key` (several for list fields).
fn values(c: &Candidate, key: &str) -> Vec<String> {
    let (user, side) = (&c.pair.user, &c.pair.side);
    let p = &user.profile;
    let one = |v: String| if v.is_empty() { Vec::new() } else { vec![v] };
    let list = |l: &[String]| l.iter().map(|v| fold(v)).collect();
    match key {
        "userId" | "id" => vec![uuid_string(user.uuid)],
        "userName" => one(fold(&user.username)),
        "firstName" => one(fold(&p.first_name)),
        "lastName" => one(fold(&p.last_name)),
        "email" => one(fold(&p.email)),
        "phone" => one(p.phone.clone()),
        // Merged-away users never get here.
        "status" => vec![u8::from(!user.is_blocked).to_string()],
        "managedBy" => c.manager.clone().into_iter().collect(),
        "channel" => one(c.channel.clone()),
        "rootOrgId" => side.root_org.iter().map(u64::to_string).collect(),
        "organisations.organisationId" => side.organisations.iter().map(u64::to_string).collect(),
        "roles.role" => {
            let mut roles = vec![fold(PUBLIC_ROLE)];
            roles.extend(side.roles.iter().map(|g| fold(&g.role)));
            roles
        }
        "profileUserType.type" => side.user_types.iter().map(|t| fold(&t.kind)).collect(),
        "profileLocation.code" => side.locations.iter().map(|l| fold(&l.code)).collect(),
        "externalIds.id" => side.external_ids.iter().map(|e| fold(&e.id)).collect(),
        "createdDate" => vec![crate::domain::sunbird::timestamp(user.created)],
        "dob" => p
            .birth_date
            .map(|d| d.format("%Y-%m-%d").to_string())
            .into_iter()
            .collect(),
        "gender" => p.gender.map(|g| g.code().to_string()).into_iter().collect(),
        "language" => list(&side.language),
        "grade" => list(&side.grade),
        "subject" => list(&side.subject),
        _ => Vec::new(),
    }
}

/// `filters` as the checks compare them, worked out once per search (a
/// request may carry many values; each candidate must not cost their
/// normalisation again): each wanted value in its key's canonical form
/// ([`canonical`]), sorted and without duplicates; prefixes and suffixes
/// folded. The indexes read the request as given.
fn checked(filters: &Filters) -> Filters {
    let one = |f: &Filter| Filter {
        key: f.key.clone(),
        condition: match &f.condition {
            Condition::AnyOf(wanted) => {
                let mut canon: Vec<String> =
                    wanted.iter().filter_map(|w| canonical(&f.key, w)).collect();
                canon.sort_unstable();
                canon.dedup();
                Condition::AnyOf(canon)
            }
            Condition::StartsWith(t) => Condition::StartsWith(fold(t)),
            Condition::EndsWith(t) => Condition::EndsWith(fold(t)),
            range @ Condition::Range { .. } => range.clone(),
        },
    };
    Filters {
        all: filters.all.iter().map(one).collect(),
        any: filters
            .any
            .iter()
            .map(|g| FilterGroup {
                all: g.all.iter().map(one).collect(),
            })
            .collect(),
    }
}

/// Wanted value `w` of `key` in the form the checks compare: a phone
/// number normalised (as given when it is not one), a UUID in its text
/// form (`None`: not a UUID, which matches no one), anything else folded.
fn canonical(key: &str, w: &str) -> Option<String> {
    let w = w.trim();
    match key {
        "phone" => Some(rules::phone(w).unwrap_or_else(|_| w.to_string())),
        "userId" | "id" | "managedBy" => parse_uuid(w).map(uuid_string),
        _ => Some(fold(w)),
    }
}

/// Whether `c` meets `key` `cond` (a condition of [`checked`]).
fn holds(c: &Candidate, key: &str, cond: &Condition) -> bool {
    let have = values(c, key);
    match cond {
        Condition::AnyOf(wanted) => have.iter().any(|h| wanted.binary_search(h).is_ok()),
        Condition::StartsWith(t) => have.iter().any(|h| h.starts_with(t.as_str())),
        Condition::EndsWith(t) => have.iter().any(|h| h.ends_with(t.as_str())),
        Condition::Range { lt, le, gt, ge } => have.iter().any(|h| {
            let cmp = |bound: &str| compare_one(h, bound);
            lt.as_deref().is_none_or(|b| cmp(b) == Ordering::Less)
                && le.as_deref().is_none_or(|b| cmp(b) != Ordering::Greater)
                && gt.as_deref().is_none_or(|b| cmp(b) == Ordering::Greater)
                && ge.as_deref().is_none_or(|b| cmp(b) != Ordering::Less)
        }),
    }
}

/// `a` against `b`: as numbers when both are, else as text (dates in
/// Sunbird's forms order as text).
fn compare_one(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.cmp(b),
    }
}

/// The order of two users' values under a key (the first value; none
/// sorts first).
fn compare(a: &[String], b: &[String]) -> Ordering {
    match (a.first(), b.first()) {
        (Some(x), Some(y)) => compare_one(x, y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

/// Whether `text` holds the folded `needle`, ignoring case (ASCII without
/// allocating).
fn contains_folded(text: &str, needle: &str) -> bool {
    if text.is_ascii() && needle.is_ascii() {
        let (t, n) = (text.as_bytes(), needle.as_bytes());
        return n.is_empty()
            || t.windows(n.len())
                .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b));
    }
    fold(text).contains(needle)
}

/// Whether user texts `t` meet `key` `cond` (a light key: see [`Needs`]).
fn light_holds(t: &read::UserTexts<'_>, key: &str, cond: &Condition) -> bool {
    let text = match key {
        "userId" | "id" => {
            let id = uuid_string(t.uuid);
            return match cond {
                Condition::AnyOf(w) => w.binary_search(&id).is_ok(),
                _ => holds_text(&id, key, cond),
            };
        }
        "userName" => t.username,
        "firstName" => t.first_name,
        "lastName" => t.last_name,
        "email" => t.email,
        "phone" => t.phone,
        _ => return false,
    };
    holds_text(text, key, cond)
}

/// Whether one text meets `cond` (folded as `key` folds).
fn holds_text(text: &str, key: &str, cond: &Condition) -> bool {
    if text.is_empty() {
        return false;
    }
    let have = match key {
        "phone" => text.to_string(),
        _ => fold(text),
    };
    match cond {
        Condition::AnyOf(wanted) => wanted.binary_search(&have).is_ok(),
        Condition::StartsWith(p) => have.starts_with(p.as_str()),
        Condition::EndsWith(p) => have.ends_with(p.as_str()),
        Condition::Range { lt, le, gt, ge } => {
            let cmp = |bound: &str| compare_one(&have, bound);
            lt.as_deref().is_none_or(|b| cmp(b) == Ordering::Less)
                && le.as_deref().is_none_or(|b| cmp(b) != Ordering::Greater)
                && gt.as_deref().is_none_or(|b| cmp(b) == Ordering::Greater)
                && ge.as_deref().is_none_or(|b| cmp(b) != Ordering::Less)
        }
    }
}

/// Whether `c` holds the folded `query` in a searched text.
fn query_holds(c: &Candidate, query: &str) -> bool {
    let u = &c.pair.user;
    let p = &u.profile;
    [&u.username, &p.email, &p.first_name, &p.last_name, &p.phone]
        .iter()
        .any(|t| contains_folded(t, query))
}
