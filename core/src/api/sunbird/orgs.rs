//! The organisations' list (S13: organisations are "listed and read by
//! id"), in the shape of Sunbird's organisation search
//! (`/api/org/v1/search`): filters, `limit` and `offset`, answered with
//! the count of every match and the page.
//!
//! Without filters, a page is found by position ([`crate::store::positions`],
//! format 14): a few reads at any offset. With filters, every organisation
//! is read and tested: an institute has few, and only holders of
//! `add_organisation` make them.

use super::search::{
    DEFAULT_LIMIT, MAX_FILTER_VALUES, MAX_ID_FILTER_VALUES, distinct_groups, distinct_values,
    holds_text, larger, range,
};
use crate::api::Admin;
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::rules;
use crate::domain::sunbird::{
    Condition, EXTERNAL_ID_PART_MAX, Filter, Filters, OrgView, Organisation,
};
use crate::error::Result;
use crate::store::read;
use crate::store::tables::ORGANISATIONS;
use crate::text::fold;
use std::cell::OnceCell;

/// The keys an organisation search may filter on. Any other key matches
/// no organisation, as a key the user search does not know matches no
/// user.
pub const ORG_SEARCH_KEYS: [&str; 9] = [
    "id",
    "orgName",
    "channel",
    "organisationType",
    "isTenant",
    "isDefault",
    "rootOrgId",
    "externalId",
    "email",
];

/// The longest text a filtered field of an organisation holds: a value
/// longer than this (before folding) can equal none, and is not folded.
const ORG_TEXT_MAX: usize = larger(
    larger(rules::NAME_MAX, rules::EMAIL_MAX),
    EXTERNAL_ID_PART_MAX,
);

/// An organisation search: which organisations, and which page of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct OrgSearch {
    /// Conditions on [`ORG_SEARCH_KEYS`], as in a user search: `id` and
    /// `rootOrgId` (the tenant's id) as numbers (`0123` is 123), `isTenant`
    /// and `isDefault` as `true`/`false`, `orgName`, `channel` (a tenant's
    /// own), `organisationType`, `externalId` and `email` ignoring case.
    /// None: every organisation.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub filters: Filters,
    /// At most this many (default 250, capped by the configuration's
    /// search cap).
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub limit: Option<u64>,
    /// From this match on, by ascending id.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    #[cfg_attr(feature = "tsify", tsify(optional))]
    pub offset: u64,
}

/// An organisation search's answer: every match's count and the page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct OrgSearchResult {
    /// Every match.
    pub count: u64,
    /// The page (`offset`, `limit`), by ascending id.
    pub content: Vec<OrgView>,
}

impl Admin {
    /// Lists organisations (S13), filtered or not, by ascending id: needs
    /// `view_organisation`, as reading one does.
    pub fn search_organisations(&self, request: &OrgSearch) -> Result<OrgSearchResult> {
        self.allow(Permission::new(Action::View, Model::Organisation))?;
        let cap = u64::from(self.config().sunbird.search_cap);
        let limit = request.limit.unwrap_or(DEFAULT_LIMIT).min(cap);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let all = checks(&request.filters.all)?;
        let any = distinct_groups(request.filters.any.iter().map(|g| checks(&g.all)))?;
        // A key organisations do not have matches none: nothing to read.
        if all.iter().any(|c| c.slot.is_none()) {
            return Ok(OrgSearchResult {
                count: 0,
                content: Vec::new(),
            });
        }
        self.store().reading(|s| {
            if all.is_empty() && any.is_empty() {
                let counted = read::counted(s, ORGANISATIONS)?;
                let page: Vec<Organisation> =
                    read::records_page(s, &counted, request.offset, limit)?;
                return Ok(OrgSearchResult {
                    count: counted.total(),
                    content: page.iter().map(OrgView::from).collect(),
                });
            }
            let skip = request.offset;
            let (mut count, mut content) = (0u64, Vec::new());
            read::each_record(s, ORGANISATIONS, &mut |org: Organisation| {
                let values = Values::new(&org);
                if values.meet(&all) && (any.is_empty() || any.iter().any(|g| values.meet(g))) {
                    if count >= skip && content.len() < limit {
                        content.push(OrgView::from(&org));
                    }
                    count += 1;
                }
                Ok(())
            })?;
            Ok(OrgSearchResult { count, content })
        })
    }
}

/// One filter as it is compared: the key's slot in [`ORG_SEARCH_KEYS`]
/// (`None`: a key organisations do not have) and the condition, its values
/// in the form the organisation's are compared in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Check {
    slot: Option<usize>,
    condition: Condition,
}

/// Whether `key` holds an id (compared as a number: `0123` is 123).
fn is_id(key: &str) -> bool {
    matches!(key, "id" | "rootOrgId")
}

/// Wanted value `w` of `key` as the organisation's values are compared:
/// an id's digits without leading zeros, any other text trimmed and
/// folded; `None` for a value no organisation can have (not digits for an
/// id, too long for a text).
fn canonical(key: &str, w: &str) -> Option<String> {
    let w = w.trim();
    if is_id(key) {
        if w.is_empty() || !w.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits = w.trim_start_matches('0');
        return Some(if digits.is_empty() { "0" } else { digits }.to_string());
    }
    crate::text::fold_lookup(w, ORG_TEXT_MAX)
}

/// `filters` as they are compared: lists trimmed, folded, sorted and
/// without duplicates (more than [`MAX_FILTER_VALUES`] distinct values, or
/// [`MAX_ID_FILTER_VALUES`] ids, refused); prefixes and suffixes folded as
/// sent, as the user search folds them; range bounds as the user search
/// takes them ([`super::search::range`]).
fn checks(filters: &[Filter]) -> Result<Vec<Check>> {
    let mut out = Vec::with_capacity(filters.len());
    for f in filters {
        let key = f.key.as_str();
        let condition = match &f.condition {
            Condition::AnyOf(wanted) => {
                let canon = wanted.iter().filter_map(|w| canonical(key, w)).collect();
                let most = match is_id(key) {
                    true => MAX_ID_FILTER_VALUES,
                    false => MAX_FILTER_VALUES,
                };
                distinct_values(key, canon, most)?
            }
            // Text too long to be held matches nothing.
            Condition::StartsWith(t) | Condition::EndsWith(t) => {
                match (crate::text::fold_lookup(t, ORG_TEXT_MAX), &f.condition) {
                    (None, _) => Condition::AnyOf(Vec::new()),
                    (Some(t), Condition::StartsWith(_)) => Condition::StartsWith(t),
                    (Some(t), _) => Condition::EndsWith(t),
                }
            }
            Condition::Range { .. } => range(key, &f.condition)?,
        };
        out.push(Check {
            slot: ORG_SEARCH_KEYS.iter().position(|k| *k == key),
            condition,
        });
    }
    Ok(out)
}

/// An organisation's values of [`ORG_SEARCH_KEYS`], each worked out the
/// first time a check asks for it (a request may hold many checks).
struct Values<'o> {
    org: &'o Organisation,
    slots: [OnceCell<String>; ORG_SEARCH_KEYS.len()],
}

impl<'o> Values<'o> {
    fn new(org: &'o Organisation) -> Values<'o> {
        Values {
            org,
            slots: Default::default(),
        }
    }

    /// Whether the organisation meets every check of `checks`.
    fn meet(&self, checks: &[Check]) -> bool {
        checks.iter().all(|c| match c.slot {
            Some(slot) => holds_text(self.value(slot), &c.condition),
            None => false,
        })
    }

    /// The value of key `slot` of [`ORG_SEARCH_KEYS`], as it is compared.
    fn value(&self, slot: usize) -> &str {
        self.slots[slot].get_or_init(|| {
            let o = self.org;
            let flag = |b: bool| if b { "true" } else { "false" }.to_string();
            match ORG_SEARCH_KEYS[slot] {
                "id" => o.id.to_string(),
                "rootOrgId" => o.root_org.to_string(),
                "isTenant" => flag(o.is_tenant),
                "isDefault" => flag(o.is_default),
                "orgName" => fold(&o.name),
                "channel" => fold(&o.channel),
                "organisationType" => fold(&o.org_type),
                "externalId" => fold(&o.external_id),
                _ => fold(&o.email),
            }
        })
    }
}
