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
//!
//! What one request may cost is bounded: a filter's values are
//! de-duplicated in the form the checks compare (`["Asha", " ASHA "]` is
//! one value) and at most [`MAX_FILTER_VALUES`] remain
//! ([`MAX_ID_FILTER_VALUES`] for `userId`/`id`); identical `$or` groups
//! are one and at most [`MAX_OR_GROUPS`] remain; more is refused
//! (`UOS_USRSER0017`). Each distinct (key, value) is looked up once a
//! request and the candidates are united in bitmaps. A text needle longer
//! than any stored value of its key could fold to ([`NEEDLE_GROWTH`]) is
//! no match, known without folding it.

use super::{Admin, Pair};
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::rules::{self, EMAIL_MAX, NAME_MAX, USERNAME_MAX, fold};
use crate::domain::sunbird::{
    Condition, Filter, Filters, PUBLIC_ROLE, ReadParts, SEARCH_KEYS, SearchRequest, SortBy,
    SunbirdView, fault,
};
use crate::domain::user::User;
use crate::domain::{parse_uuid, uuid_string};
use crate::error::Result;
use crate::store::search::{self, Field, IdSet, Needle, intersect};
use crate::store::tables::{
    Kind, MANAGED_USERS, SUNBIRD_USERS, USER_BY_EMAIL, USER_BY_PHONE, USER_BY_USERNAME, USERS,
    UUIDS,
};
use crate::store::terms::{self, Term};
use crate::store::{Snapshot, read};
use crate::text::{FOLD_GROWTH, FOLD_REACH, may_fold_to};
use std::cell::OnceCell;
use std::cmp::Ordering;
use std::collections::HashMap;

/// The default `limit`.
pub const DEFAULT_LIMIT: u64 = 250;

/// Most distinct values one filter's list may hold (`{"firstName": [...]}`),
/// counted after the normalisation the checks use (case folded, trimmed;
/// a phone number normalised); each is an index lookup. More is refused
/// with `UOS_USRSER0017`.
pub const MAX_FILTER_VALUES: usize = 1_000;

/// [`MAX_FILTER_VALUES`] for `userId`/`id`, whose values are point reads.
pub const MAX_ID_FILTER_VALUES: usize = 10_000;

/// Most distinct groups in one `$or` (identical groups count once). More
/// is refused with `UOS_USRSER0017`.
pub const MAX_OR_GROUPS: usize = 100;

/// How many characters, per character a stored text may have, a needle may
/// have and still be held in a stored text's fold: 18, the most characters
/// one character folds to, times 4, the most that fold into one.
pub const NEEDLE_GROWTH: usize = FOLD_REACH;

/// The most characters a stored phone number has (`+` and 15 digits).
const PHONE_MAX: usize = 16;

/// The most characters a stored text of `key` has, for the keys with a
/// length rule.
fn stored_max(key: &str) -> Option<usize> {
    match key {
        "userName" => Some(USERNAME_MAX),
        "email" => Some(EMAIL_MAX),
        "firstName" | "lastName" => Some(NAME_MAX),
        "phone" => Some(PHONE_MAX),
        _ => None,
    }
}

/// The longest text `query` searches ([`stored_max`] of its keys).
const QUERY_STORED_MAX: usize =
    larger(larger(USERNAME_MAX, NAME_MAX), larger(EMAIL_MAX, PHONE_MAX));

/// The larger of `a` and `b`, for constants (`Ord::max` is not `const`).
pub(super) const fn larger(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// Whether `raw` (not yet folded) has too many characters to be held in
/// the fold of a stored text of at most `max` characters: counted up to
/// the bound, never folded.
fn overlong(raw: &str, max: usize) -> bool {
    !may_fold_to(raw, max)
}

/// Whether `folded` is longer than the fold of any stored text of at most
/// `max` characters.
fn overlong_folded(folded: &str, max: usize) -> bool {
    let bound = FOLD_GROWTH * max;
    folded.len() > bound && folded.chars().nth(bound).is_some()
}

/// The folded `query` (`None`: there is none), or `Err` when no stored
/// text can hold it.
fn folded_query(query: Option<&str>) -> std::result::Result<Option<String>, ()> {
    let Some(q) = query.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    if overlong(q, QUERY_STORED_MAX) {
        return Err(());
    }
    let q = fold(q);
    match overlong_folded(&q, QUERY_STORED_MAX) {
        true => Err(()),
        false => Ok(Some(q)),
    }
}

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
    /// Its folded values of each key of the search ([`Plan::keys`]), each
    /// worked out the first time a check or the order asks.
    cells: Vec<OnceCell<Vec<String>>>,
}

impl Candidate {
    /// Its values under `key`, whose slot is `slot` ([`values`], once).
    fn values(&self, slot: usize, key: &str) -> &[String] {
        match self.cells.get(slot) {
            Some(cell) => cell.get_or_init(|| values(self, key)),
            None => &[],
        }
    }
}

impl Admin {
    /// Searches users (S4): needs `view_user`. Contact data in the answer is
    /// masked; filters match the real values.
    pub fn sunbird_search(&self, request: &SearchRequest) -> Result<SearchResult> {
        self.allow(Permission::new(Action::View, Model::User))?;
        let cap = u64::from(self.config().sunbird.search_cap);
        let limit = request.limit.unwrap_or(DEFAULT_LIMIT).min(cap);
        let sort_key = request.sort_by.as_ref().map(|s| s.key.as_str());
        let plan = Plan::of(&request.filters, sort_key)?;
        let none = || SearchResult {
            count: 0,
            content: Vec::new(),
        };
        let Ok(query) = folded_query(request.query.as_deref()) else {
            // Longer than any stored text could fold to.
            return Ok(none());
        };
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
                let counted = read::counted(s, USERS)?;
                let count = counted.total().saturating_sub(deleted.len() as u64);
                let users: Vec<crate::domain::user::User> = read::records_page_except(
                    s,
                    &counted,
                    request.offset,
                    limit as usize,
                    deleted,
                )?;
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
            let mut lookups = Lookups::new(&plan);
            for check in &plan.all {
                match indexed(s, check, &mut views, &mut lookups)? {
                    Some((ids, precise)) => {
                        exact &= precise;
                        sets.push(ids);
                    }
                    None if !SEARCH_KEYS.contains(&check.key.as_str()) => {
                        // An unknown key matches nothing.
                        return Ok(none());
                    }
                    None => exact = false,
                }
            }
            if !plan.any.is_empty() {
                // The groups' candidates united (`None`: a group no index
                // answers, so every user).
                let mut union = Some(Union::default());
                for group in &plan.any {
                    let mut group_sets = Vec::new();
                    for check in group {
                        match indexed(s, check, &mut views, &mut lookups)? {
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
                    if union.is_none() {
                        // Every user is a candidate: no more lookups.
                        break;
                    }
                }
                if let Some(all) = union {
                    sets.push(all.into_vec());
                }
            }
            drop(lookups);
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
            // Ascending (the terms index's order): looked up, not copied.
            let gone = |id: &u64| deleted.binary_search(id).is_ok();
            let slots = plan.keys.len();
            if exact {
                let ids: Vec<u64> = ids.into_iter().filter(|id| !gone(id)).collect();
                let count = ids.len() as u64;
                let shown: Vec<u64> = page(ids, request.offset, limit).collect();
                let mut content = Vec::with_capacity(shown.len());
                candidates(s, &shown, needs, slots, &mut views, |id, c, views| {
                    // Every user shown is checked against its records.
                    let c = c.ok_or_else(|| {
                        read::index_mismatch("Sunbird search", id, "which does not exist")
                    })?;
                    if !meets(&c, &plan, query.as_deref()) {
                        return Err(read::index_mismatch(
                            "Sunbird search",
                            id,
                            "which does not match",
                        ));
                    }
                    let side = c.side_loaded.then_some(c.pair.side);
                    content.push(self.shown(s, c.pair.user, side, views)?);
                    Ok(())
                })?;
                return Ok(SearchResult { count, content });
            }
            if needs.light && request.sort_by.is_none() {
                // Conditions on the user record's texts alone: checked on
                // the texts borrowed from each candidate's frame (each
                // text folded once), and only the page's users read whole.
                let ids: Vec<u64> = ids.into_iter().filter(|id| !gone(id)).collect();
                let hits = read::users_texts_hold(s, &ids, |t| {
                    let t = LightTexts::new(t);
                    let all = plan.all.iter().all(|c| t.holds(c));
                    let any = plan.any.is_empty()
                        || plan.any.iter().any(|g| g.iter().all(|c| t.holds(c)));
                    let text = query.as_deref().is_none_or(|q| {
                        let t = t.texts;
                        [t.username, t.email, t.first_name, t.last_name, t.phone]
                            .iter()
                            .any(|x| contains_folded(x, q))
                    });
                    all && any && text
                })?;
                let matched: Vec<u64> = ids
                    .into_iter()
                    .zip(hits)
                    .filter_map(|(id, hit)| (hit == Some(true)).then_some(id))
                    .collect();
                let count = matched.len() as u64;
                let shown: Vec<u64> = page(matched, request.offset, limit).collect();
                let mut content = Vec::with_capacity(shown.len());
                for user in read::records_of::<User>(s, USERS, &shown)?
                    .into_iter()
                    .flatten()
                {
                    content.push(self.shown(s, user, None, &mut views)?);
                }
                return Ok(SearchResult { count, content });
            }
            // The matches' ids and, for an order, each one's value of its
            // key, worked out once: the records are not kept (a sort over
            // every user would hold them all), and the page's are read
            // again.
            let sort = request.sort_by.as_ref().zip(plan.sort_slot);
            let mut matches: Vec<(Option<String>, u64)> = Vec::new();
            let ids: Vec<u64> = ids.into_iter().filter(|id| !gone(id)).collect();
            candidates(s, &ids, needs, slots, &mut views, |id, c, _| {
                if let Some(c) = c
                    && meets(&c, &plan, query.as_deref())
                {
                    let key = sort.and_then(|(by, slot)| c.values(slot, &by.key).first().cloned());
                    matches.push((key, id));
                }
                Ok(())
            })?;
            if let Some((SortBy { descending, .. }, _)) = sort {
                matches.sort_by(|(key_a, a), (key_b, b)| {
                    let order = compare(key_a.as_slice(), key_b.as_slice()).then(a.cmp(b));
                    if *descending { order.reverse() } else { order }
                });
            }
            let count = matches.len() as u64;
            let shown = page(matches, request.offset, limit);
            let mut content = Vec::with_capacity(shown.len());
            for (_, id) in shown {
                let Some(user) = read::user(s, id)? else {
                    continue;
                };
                content.push(self.shown(s, user, None, &mut views)?);
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
fn page<T>(all: Vec<T>, offset: u64, limit: u64) -> impl ExactSizeIterator<Item = T> {
    all.into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
}

/// Whether `c` meets every condition of `plan` and the folded `query`.
fn meets(c: &Candidate, plan: &Plan, query: Option<&str>) -> bool {
    plan.all.iter().all(|x| holds(c, x))
        && (plan.any.is_empty() || plan.any.iter().any(|g| g.iter().all(|x| holds(c, x))))
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

/// Candidates read at a time: their users (and side records) are read with
/// one `get_many` each.
const CANDIDATE_CHUNK: usize = 64;

/// Calls `each` with each of users `ids` (ascending) with what the checks
/// need, or `None` for one that does not exist. The users are read
/// [`CANDIDATE_CHUNK`] at a time, so that ids near each other (a manager's
/// managed users, created one after another) share walks of the tree.
fn candidates(
    s: &Snapshot<'_>,
    ids: &[u64],
    needs: Needs,
    slots: usize,
    views: &mut super::Views,
    mut each: impl FnMut(u64, Option<Candidate>, &mut super::Views) -> Result<()>,
) -> Result<()> {
    for chunk in ids.chunks(CANDIDATE_CHUNK) {
        let users: Vec<Option<User>> = read::records_of(s, USERS, chunk)?;
        if needs.side {
            let unread: Vec<u64> = chunk
                .iter()
                .copied()
                .filter(|id| !views.sides.contains_key(id))
                .collect();
            let sides = read::records_of(s, SUNBIRD_USERS, &unread)?;
            for (id, side) in unread.into_iter().zip(sides) {
                views.sides.insert(id, side.unwrap_or_default());
            }
        }
        for (&id, user) in chunk.iter().zip(users) {
            let c = match user {
                Some(user) => Some(candidate(s, user, needs, slots, views)?),
                None => {
                    views.sides.remove(&id);
                    None
                }
            };
            each(id, c, views)?;
        }
    }
    Ok(())
}

/// `user` with what the checks need (its side record from `views`, where
/// [`candidates`] put it; managers' ids from the answer's cache: the users
/// of one manager share one).
fn candidate(
    s: &Snapshot<'_>,
    user: User,
    needs: Needs,
    slots: usize,
    views: &mut super::Views,
) -> Result<Candidate> {
    let id = user.id;
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
    Ok(Candidate {
        side_loaded: needs.side,
        pair: Pair { user, side },
        channel,
        manager,
        cells: (0..slots).map(|_| OnceCell::new()).collect(),
    })
}

/// Ids united: a list while few (most searches name a user or two, and a
/// bitmap block costs 512 bytes however few ids it holds), a bitmap once
/// many (a list would repeat them, a group's candidates can be every
/// user).
#[derive(Default)]
struct Union {
    list: Vec<u64>,
    bits: Option<IdSet>,
}

impl Union {
    /// Ids a list holds before they move to a bitmap.
    const LIST_MAX: usize = 1 << 12;

    fn extend(&mut self, ids: impl IntoIterator<Item = u64>) {
        match &mut self.bits {
            Some(bits) => bits.extend(ids),
            None => {
                self.list.extend(ids);
                if self.list.len() > Self::LIST_MAX {
                    let mut bits = IdSet::default();
                    bits.extend(self.list.drain(..));
                    self.bits = Some(bits);
                }
            }
        }
    }

    /// The ids, ascending, each once.
    fn into_vec(self) -> Vec<u64> {
        match self.bits {
            Some(bits) => bits.into_vec(),
            None => {
                let mut list = self.list;
                list.sort_unstable();
                list.dedup();
                list
            }
        }
    }
}

/// The users each (key, value) that a search's filters name more than once
/// (in several `$or` groups) is found under, kept for the request as
/// ascending ids (a bitmap costs 512 bytes a block, however few ids it
/// holds): each is looked up once. A value named once is not kept.
struct Lookups<'p> {
    /// Sorted.
    repeated: Vec<(&'p str, &'p str)>,
    kept: HashMap<(&'p str, &'p str), Vec<u64>>,
}

impl<'p> Lookups<'p> {
    fn new(plan: &'p Plan) -> Lookups<'p> {
        // A filter's values are distinct and so are its keys: only `$or`
        // groups can name a value again. Found by sorting, which allocates
        // one list (a search's every microsecond counts: most name a value
        // or two).
        let mut named: Vec<(&str, &str)> = Vec::new();
        if !plan.any.is_empty() {
            for check in plan.all.iter().chain(plan.any.iter().flatten()) {
                if let Condition::AnyOf(values) = &check.condition {
                    named.extend(values.iter().map(|v| (check.key.as_str(), v.as_str())));
                }
            }
        }
        named.sort_unstable();
        let mut repeated: Vec<(&str, &str)> = named
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        repeated.dedup();
        Lookups {
            repeated,
            kept: HashMap::new(),
        }
    }
}

/// The users an index says may match `check`, ascending, and whether
/// exactly those (the n-gram index gives a superset); `None` when no index
/// answers it. The values of a list (de-duplicated by [`Plan::of`]) are
/// united in a bitmap.
fn indexed<'p>(
    s: &Snapshot<'_>,
    check: &'p Check,
    views: &mut super::Views,
    lookups: &mut Lookups<'p>,
) -> Result<Option<(Vec<u64>, bool)>> {
    let key = check.key.as_str();
    let values = match &check.condition {
        Condition::AnyOf(values) => values,
        // Folded by [`Plan::of`].
        Condition::StartsWith(needle) | Condition::EndsWith(needle) => {
            let field = match key {
                "userName" | "email" => Field::Q,
                "firstName" => Field::FirstName,
                "lastName" => Field::LastName,
                "phone" => Field::Phone,
                _ => return Ok(None),
            };
            if needle.is_empty() {
                return Ok(None);
            }
            return Ok(Some((search::candidates(s, field, needle)?, false)));
        }
        Condition::Range { .. } => return Ok(None),
    };
    let precise = !matches!(key, "firstName" | "lastName");
    if values.is_empty() {
        // Nothing wanted (or only what no stored text can be).
        return Ok(Some((Vec::new(), precise)));
    }
    let answered = match key {
        "userId" | "id" | "userName" | "email" | "phone" | "managedBy" | "channel" => true,
        // An empty name is no one's (names are indexed when given).
        "firstName" | "lastName" => values.iter().all(|v| !v.is_empty()),
        // Everyone has `PUBLIC`: no index lists it.
        "roles.role" => !values.contains(&fold(PUBLIC_ROLE)),
        other => term_of(other).is_some(),
    };
    if !answered {
        return Ok(None);
    }
    if let Some(point) = point_index(key) {
        // Each value names one user at most: a list, not a bitmap (whose
        // blocks cost 512 bytes however few ids they hold).
        let mut out = Vec::with_capacity(values.len());
        for v in values {
            out.extend(point_lookup(s, point, v)?);
        }
        out.sort_unstable();
        out.dedup();
        return Ok(Some((out, precise)));
    }
    let mut out = IdSet::default();
    for v in values {
        let at = (key, v.as_str());
        if let Some(ids) = lookups.kept.get(&at) {
            out.extend(ids.iter().copied());
            continue;
        }
        let ids = lookup(s, key, v, views)?;
        if lookups.repeated.binary_search(&at).is_ok() {
            out.union_with(&ids);
            lookups.kept.insert(at, ids.into_vec());
        } else {
            out.union(ids);
        }
    }
    Ok(Some((out.into_vec(), precise)))
}

/// The terms index's term of `key`, if it has one.
fn term_of(key: &str) -> Option<Term> {
    Some(match key {
        "rootOrgId" => Term::RootOrg,
        "organisations.organisationId" => Term::Organisation,
        "roles.role" => Term::Role,
        "profileUserType.type" => Term::UserType,
        "profileLocation.code" => Term::Location,
        "externalIds.id" => Term::ExternalId,
        "language" => Term::Language,
        "grade" => Term::Grade,
        "subject" => Term::Subject,
        _ => return None,
    })
}

/// The users an index names for `key` equal to `v` (in [`canonical`]
/// form), for a key [`indexed`] answers.
fn lookup(s: &Snapshot<'_>, key: &str, v: &str, views: &mut super::Views) -> Result<IdSet> {
    let mut ids = IdSet::default();
    if let Some(point) = point_index(key) {
        ids.extend(point_lookup(s, point, v)?);
        return Ok(ids);
    }
    match key {
        "managedBy" => {
            let manager = parse_uuid(v)
                .map(|u| s.get(UUIDS, &u))
                .transpose()?
                .flatten()
                .filter(|(k, _)| *k == Kind::User as u8);
            if let Some((_, id)) = manager {
                // The manager's UUID is the one asked for: each candidate's
                // check and view names it without reading its record.
                views.uuids.insert(id, Some(v.to_string()));
                // The side records are read to check the pairs: kept for
                // the candidates, which would read them again.
                let managed = read::related_records(s, MANAGED_USERS, id)?;
                views.sides.reserve(managed.len());
                for (user, side) in managed {
                    views.sides.insert(user, side);
                    ids.extend([user]);
                }
            }
        }
        "firstName" | "lastName" => {
            let field = match key {
                "firstName" => Field::FirstName,
                _ => Field::LastName,
            };
            ids = search::set_of(s, field, &Needle::new(v))?;
        }
        "channel" => {
            if let Some(org) = super::org_by_channel(s, v)? {
                ids.extend(terms::users_with(s, Term::RootOrg, &org.to_string())?);
            }
        }
        other => {
            if let Some(term) = term_of(other) {
                ids.extend(terms::users_with(s, term, v)?);
            }
        }
    }
    Ok(ids)
}

/// The index of a key whose value names one user at most.
#[derive(Clone, Copy)]
enum Point {
    Uuid,
    Username,
    Email,
    Phone,
}

fn point_index(key: &str) -> Option<Point> {
    Some(match key {
        "userId" | "id" => Point::Uuid,
        "userName" => Point::Username,
        "email" => Point::Email,
        "phone" => Point::Phone,
        _ => return None,
    })
}

/// The user `point`'s index names for `v` (in [`canonical`] form). The
/// entry is not checked here: every user shown is checked against its
/// record, as every candidate counted when an index is not exact.
fn point_lookup(s: &Snapshot<'_>, point: Point, v: &str) -> Result<Option<u64>> {
    Ok(match point {
        Point::Uuid => match parse_uuid(v) {
            Some(uuid) => s
                .get(UUIDS, &uuid)?
                .filter(|(k, _)| *k == Kind::User as u8)
                .map(|(_, id)| id),
            None => None,
        },
        Point::Username => s.get(USER_BY_USERNAME, v)?,
        Point::Email => s.get(USER_BY_EMAIL, v)?,
        Point::Phone => match rules::phone(v) {
            Ok(p) => s.get(USER_BY_PHONE, p.as_str())?,
            Err(_) => None,
        },
    })
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
            .map(crate::domain::iso_date)
            .into_iter()
            .collect(),
        "gender" => p.gender.map(|g| g.code().to_string()).into_iter().collect(),
        "language" => list(&side.language),
        "grade" => list(&side.grade),
        "subject" => list(&side.subject),
        _ => Vec::new(),
    }
}

/// One condition as the checks and the indexes read it: its key, the slot
/// a candidate keeps its values of the key in, and the condition in the
/// form compared (see [`Plan::of`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Check {
    slot: usize,
    key: String,
    condition: Condition,
}

/// A search's filters as the checks compare them, worked out once per
/// search (a request may carry many values; each candidate must not cost
/// their normalisation again).
#[derive(Debug, Default)]
struct Plan {
    /// ANDed.
    all: Vec<Check>,
    /// `$or`: distinct groups, each ANDed.
    any: Vec<Vec<Check>>,
    /// The keys of the checks and of the order, by slot.
    keys: Vec<String>,
    /// The slot of the order's key.
    sort_slot: Option<usize>,
}

impl Plan {
    /// `filters` (and the order's key) as the checks compare them: each
    /// wanted value in its key's canonical form ([`canonical`]), sorted and
    /// without duplicates; prefixes and suffixes folded; a text no stored
    /// value of its key can equal or hold (longer than any could fold to)
    /// dropped without being folded, a prefix or suffix that no stored
    /// value can hold made an empty list (which matches no one); identical
    /// `$or` groups made one. Too many values in a list, or too many
    /// groups, are refused.
    fn of(filters: &Filters, sort_key: Option<&str>) -> Result<Plan> {
        let mut slots: HashMap<String, usize> = HashMap::new();
        let mut slot_of = |key: &str| -> usize {
            let next = slots.len();
            *slots.entry(key.to_string()).or_insert(next)
        };
        let mut all = Vec::with_capacity(filters.all.len());
        for f in &filters.all {
            all.push(check(f, slot_of(&f.key))?);
        }
        let any = distinct_groups(filters.any.iter().map(|group| {
            group
                .all
                .iter()
                .map(|f| check(f, slot_of(&f.key)))
                .collect::<Result<Vec<Check>>>()
        }))?;
        let sort_slot = sort_key.map(&mut slot_of);
        let mut keys = vec![String::new(); slots.len()];
        for (key, slot) in slots {
            keys[slot] = key;
        }
        Ok(Plan {
            all,
            any,
            keys,
            sort_slot,
        })
    }
}

/// Filter `f` as the checks compare it (see [`Plan::of`]).
fn check(f: &Filter, slot: usize) -> Result<Check> {
    let key = f.key.as_str();
    let max = stored_max(key);
    let never = || Condition::AnyOf(Vec::new());
    let condition = match &f.condition {
        Condition::AnyOf(wanted) => {
            // The same text once (folded once), then the same value once.
            let mut raw: Vec<&str> = wanted.iter().map(|w| w.trim()).collect();
            raw.sort_unstable();
            raw.dedup();
            let mut canon: Vec<String> = Vec::with_capacity(raw.len().min(MAX_ID_FILTER_VALUES));
            for w in raw {
                // A phone number is normalised, not folded: its separators
                // may be many.
                if let Some(max) = max.filter(|_| key != "phone")
                    && overlong(w, max)
                {
                    continue;
                }
                let Some(c) = canonical(key, w) else {
                    continue;
                };
                if max.is_some_and(|max| overlong_folded(&c, max)) {
                    continue;
                }
                canon.push(c);
            }
            let most = match key {
                "userId" | "id" => MAX_ID_FILTER_VALUES,
                _ => MAX_FILTER_VALUES,
            };
            distinct_values(key, canon, most)?
        }
        Condition::StartsWith(t) | Condition::EndsWith(t) => {
            let folded = match max {
                Some(max) if overlong(t, max) => None,
                Some(max) => Some(fold(t)).filter(|t| !overlong_folded(t, max)),
                None => Some(fold(t)),
            };
            match (folded, &f.condition) {
                (None, _) => never(),
                (Some(t), Condition::StartsWith(_)) => Condition::StartsWith(t),
                (Some(t), _) => Condition::EndsWith(t),
            }
        }
        Condition::Range { .. } => range(key, &f.condition)?,
    };
    Ok(Check {
        slot,
        key: f.key.clone(),
        condition,
    })
}

/// `$or`'s groups, each as the checks compare it, the same group kept once
/// (compared with the groups kept, never more than the bound): more than
/// [`MAX_OR_GROUPS`] distinct groups are refused.
pub(super) fn distinct_groups<T: PartialEq>(
    groups: impl Iterator<Item = Result<T>>,
) -> Result<Vec<T>> {
    let mut kept: Vec<T> = Vec::new();
    for group in groups {
        let group = group?;
        if !kept.contains(&group) {
            kept.push(group);
            if kept.len() > MAX_OR_GROUPS {
                return Err(fault::invalid_value(
                    &format!("more than {MAX_OR_GROUPS} distinct groups"),
                    "$or",
                ));
            }
        }
    }
    Ok(kept)
}

/// The wanted values of `key` in their canonical form (see [`canonical`]),
/// sorted and each once, as one condition; more than `most` distinct
/// values are refused.
pub(super) fn distinct_values(key: &str, mut canon: Vec<String>, most: usize) -> Result<Condition> {
    canon.sort_unstable();
    canon.dedup();
    if canon.len() > most {
        return Err(fault::invalid_value(
            &format!("a list of {} distinct values (at most {most})", canon.len()),
            key,
        ));
    }
    Ok(Condition::AnyOf(canon))
}

/// Most characters of a range's bound (`{"<": ...}`), before folding:
/// more than any stored value a range compares with has (dates, numbers,
/// names, emails). A longer bound is refused with `UOS_USRSER0017`: each
/// candidate compares with it, and it was folded and parsed as a number
/// again for each one.
pub const MAX_RANGE_BOUND: usize = 256;

/// Range `condition` of `key` as the checks compare it: each bound folded,
/// as the values are (a date or a number folds to itself), so a range on
/// a text ignores case as every other condition does; a bound of more than
/// [`MAX_RANGE_BOUND`] characters refused.
pub(super) fn range(key: &str, condition: &Condition) -> Result<Condition> {
    let Condition::Range { lt, le, gt, ge } = condition else {
        return Ok(condition.clone());
    };
    let bound = |b: &Option<String>| -> Result<Option<String>> {
        match b.as_deref() {
            None => Ok(None),
            Some(b) if b.chars().nth(MAX_RANGE_BOUND).is_some() => Err(fault::invalid_value(
                &format!("a bound of more than {MAX_RANGE_BOUND} characters"),
                key,
            )),
            Some(b) => Ok(Some(fold(b))),
        }
    };
    Ok(Condition::Range {
        lt: bound(lt)?,
        le: bound(le)?,
        gt: bound(gt)?,
        ge: bound(ge)?,
    })
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

/// Whether `c` meets `check` (its values of the key worked out once).
fn holds(c: &Candidate, check: &Check) -> bool {
    let have = c.values(check.slot, &check.key);
    match &check.condition {
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
/// Sunbird's forms order as text), numbers before text. A total order, as
/// a sort needs: compared as numbers or as text by the pair, `2 < 10`,
/// `10 < 1x` and `1x < 2` went round, and `nan` (which parses) was equal
/// to every number; the standard library's sort may panic on such an
/// order, and a panic in a read marks the store for reopening.
fn compare_one(a: &str, b: &str) -> Ordering {
    let number = |v: &str| v.parse::<f64>().ok().filter(|x| x.is_finite());
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
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

/// A candidate's user texts as the light checks read them, each key's
/// text folded the first time a check asks.
struct LightTexts<'t, 'a> {
    texts: &'t read::UserTexts<'a>,
    /// `userId`, `userName`, `firstName`, `lastName`, `email`, `phone`.
    cells: [OnceCell<String>; 6],
}

impl<'t, 'a> LightTexts<'t, 'a> {
    fn new(texts: &'t read::UserTexts<'a>) -> Self {
        LightTexts {
            texts,
            cells: Default::default(),
        }
    }

    /// Whether the texts meet `check` (a light key: see [`Needs`]).
    fn holds(&self, check: &Check) -> bool {
        let t = self.texts;
        let (at, text) = match check.key.as_str() {
            "userId" | "id" => {
                let id = self.cells[0].get_or_init(|| uuid_string(t.uuid));
                return match &check.condition {
                    Condition::AnyOf(w) => w.binary_search(id).is_ok(),
                    cond => holds_text(id, cond),
                };
            }
            "userName" => (1, t.username),
            "firstName" => (2, t.first_name),
            "lastName" => (3, t.last_name),
            "email" => (4, t.email),
            "phone" => (5, t.phone),
            _ => return false,
        };
        if text.is_empty() {
            return false;
        }
        let have = self.cells[at].get_or_init(|| match at {
            5 => text.to_string(),
            _ => fold(text),
        });
        holds_text(have, &check.condition)
    }
}

/// Whether one text (folded as its key folds) meets `cond`.
pub(super) fn holds_text(have: &str, cond: &Condition) -> bool {
    if have.is_empty() {
        return false;
    }
    match cond {
        Condition::AnyOf(wanted) => wanted.binary_search_by(|w| w.as_str().cmp(have)).is_ok(),
        Condition::StartsWith(p) => have.starts_with(p.as_str()),
        Condition::EndsWith(p) => have.ends_with(p.as_str()),
        Condition::Range { lt, le, gt, ge } => {
            let cmp = |bound: &str| compare_one(have, bound);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_needle_is_overlong_only_past_what_a_stored_text_can_fold_to() {
        let bound = NEEDLE_GROWTH * NAME_MAX;
        assert!(!overlong(&"\u{FDFA}".repeat(bound), NAME_MAX));
        assert!(overlong(&"\u{FDFA}".repeat(bound + 1), NAME_MAX));
        assert!(overlong(&"a".repeat(bound + 1), NAME_MAX));
        // The whole fold of the longest name is not overlong, folded or not.
        let longest = fold(&"\u{FDFA}".repeat(NAME_MAX));
        assert!(!overlong(&longest, NAME_MAX));
        assert!(!overlong_folded(&longest, NAME_MAX));
        assert!(overlong_folded(&format!("{longest}x"), NAME_MAX));
        assert_eq!(folded_query(Some("  ")), Ok(None));
        assert_eq!(folded_query(Some(" ASHA ")), Ok(Some("asha".into())));
        let huge = "\u{FDFA}".repeat(NEEDLE_GROWTH * QUERY_STORED_MAX + 1);
        assert_eq!(folded_query(Some(&huge)), Err(()));
    }

    #[test]
    fn a_plan_keeps_each_value_and_group_once_and_bounds_them() {
        let filters = |all: Vec<Filter>, any: Vec<Vec<Filter>>| Filters {
            all,
            any: any
                .into_iter()
                .map(|all| crate::domain::sunbird::FilterGroup { all })
                .collect(),
        };
        let names = vec![" ASHA "; 5000];
        let plan = Plan::of(
            &filters(
                vec![Filter::any_of("firstName", &names)],
                vec![vec![Filter::any_of("status", &["1"])]; 5000],
            ),
            Some("firstName"),
        )
        .unwrap();
        assert_eq!(plan.all[0].condition, Condition::AnyOf(vec!["asha".into()]));
        assert_eq!(plan.any.len(), 1);
        assert_eq!(plan.keys, ["firstName", "status"]);
        assert_eq!(plan.sort_slot, Some(0));
        let many: Vec<String> = (0..=MAX_FILTER_VALUES).map(|i| format!("n{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let over = filters(vec![Filter::any_of("lastName", &many)], vec![]);
        assert!(Plan::of(&over, None).is_err());
        let at = filters(vec![Filter::any_of("lastName", &many[1..])], vec![]);
        assert!(Plan::of(&at, None).is_ok());
        let groups: Vec<Vec<Filter>> = many[..=MAX_OR_GROUPS]
            .iter()
            .map(|n| vec![Filter::any_of("firstName", &[n])])
            .collect();
        assert!(Plan::of(&filters(vec![], groups.clone()), None).is_err());
        assert!(Plan::of(&filters(vec![], groups[1..].to_vec()), None).is_ok());
        // A prefix no stored name can hold matches no one, unfolded.
        let huge = "\u{FDFA}".repeat(NEEDLE_GROWTH * NAME_MAX + 1);
        let prefix = Filter {
            key: "firstName".into(),
            condition: Condition::StartsWith(huge),
        };
        let plan = Plan::of(&filters(vec![prefix], vec![]), None).unwrap();
        assert_eq!(plan.all[0].condition, Condition::AnyOf(Vec::new()));
    }

    #[test]
    fn a_union_is_ascending_and_distinct_as_a_list_and_as_a_bitmap() {
        // A few ids stay a list; past `LIST_MAX` they move to a bitmap and
        // later ids join it. Either way: ascending, each once.
        let mut union = Union::default();
        union.extend([9, 3, 9, 1 << 40]);
        assert!(union.bits.is_none());
        assert_eq!(union.into_vec(), [3, 9, 1 << 40]);
        let mut union = Union::default();
        let mut want = std::collections::BTreeSet::new();
        for round in 0..3u64 {
            let ids: Vec<u64> = (0..Union::LIST_MAX as u64)
                .map(|i| (i * 7919 + round * 3) % 10_000)
                .collect();
            want.extend(ids.iter().copied());
            union.extend(ids);
            assert_eq!(union.bits.is_some(), round > 0, "round {round}");
        }
        union.extend([5_000_000]);
        want.insert(5_000_000);
        assert_eq!(union.into_vec(), want.into_iter().collect::<Vec<_>>());
    }
}
