//! The organisations' list (S13: organisations are "listed and read by
//! id"), in the shape of Sunbird's organisation search
//! (`/api/org/v1/search`): filters, `limit` and `offset`, answered with
//! the count of every match and the page.
//!
//! Without filters, a page is found by position ([`crate::store::positions`],
//! format 14): a few reads at any offset. With filters, every organisation
//! is read and tested: an institute has few, and only holders of
//! `add_organisation` make them.

use super::search::{DEFAULT_LIMIT, MAX_FILTER_VALUES, MAX_OR_GROUPS, holds_text};
use crate::api::Admin;
use crate::auth::permissions::{Action, Model, Permission};
use crate::domain::rules;
use crate::domain::sunbird::{
    Condition, EXTERNAL_ID_PART_MAX, Filter, Filters, OrgView, Organisation, fault,
};
use crate::error::Result;
use crate::store::read;
use crate::store::tables::ORGANISATIONS;

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
const ORG_TEXT_MAX: usize = {
    let m = if rules::NAME_MAX > rules::EMAIL_MAX {
        rules::NAME_MAX
    } else {
        rules::EMAIL_MAX
    };
    if m > EXTERNAL_ID_PART_MAX {
        m
    } else {
        EXTERNAL_ID_PART_MAX
    }
};

/// An organisation search: which organisations, and which page of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct OrgSearch {
    /// Conditions on [`ORG_SEARCH_KEYS`], compared ignoring case: `id`,
    /// `orgName`, `channel` (a tenant's own), `organisationType`,
    /// `isTenant`, `isDefault` (`true`/`false`), `rootOrgId` (the
    /// tenant's id), `externalId`, `email`. None: every organisation.
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
        let mut any = Vec::new();
        for group in &request.filters.any {
            let group = checks(&group.all)?;
            if !any.contains(&group) {
                any.push(group);
                if any.len() > MAX_OR_GROUPS {
                    return Err(fault::invalid_value(
                        &format!("more than {MAX_OR_GROUPS} distinct groups"),
                        "$or",
                    ));
                }
            }
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
                let meets = |checks: &[Check]| checks.iter().all(|c| c.holds(&org));
                if meets(&all) && (any.is_empty() || any.iter().any(|g| meets(g))) {
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

/// One filter as it is compared: the key and the condition, its values
/// trimmed and folded as the organisation's are.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Check {
    key: String,
    condition: Condition,
}

/// `filters` as they are compared; a list of more than
/// [`MAX_FILTER_VALUES`] distinct values is refused.
fn checks(filters: &[Filter]) -> Result<Vec<Check>> {
    let fold = |t: &str| crate::text::fold_lookup(t.trim(), ORG_TEXT_MAX);
    let mut out = Vec::with_capacity(filters.len());
    for f in filters {
        let condition = match &f.condition {
            Condition::AnyOf(wanted) => {
                let mut canon: Vec<String> = wanted.iter().filter_map(|w| fold(w)).collect();
                canon.sort_unstable();
                canon.dedup();
                if canon.len() > MAX_FILTER_VALUES {
                    return Err(fault::invalid_value(
                        &format!(
                            "a list of {} distinct values (at most {MAX_FILTER_VALUES})",
                            canon.len()
                        ),
                        &f.key,
                    ));
                }
                Condition::AnyOf(canon)
            }
            // Text too long to be held matches nothing.
            Condition::StartsWith(t) => match fold(t) {
                Some(t) => Condition::StartsWith(t),
                None => Condition::AnyOf(Vec::new()),
            },
            Condition::EndsWith(t) => match fold(t) {
                Some(t) => Condition::EndsWith(t),
                None => Condition::AnyOf(Vec::new()),
            },
            Condition::Range { lt, le, gt, ge } => {
                let bound = |b: &Option<String>| b.as_deref().map(crate::text::fold);
                Condition::Range {
                    lt: bound(lt),
                    le: bound(le),
                    gt: bound(gt),
                    ge: bound(ge),
                }
            }
        };
        out.push(Check {
            key: f.key.clone(),
            condition,
        });
    }
    Ok(out)
}

impl Check {
    /// Whether `org` meets this condition.
    fn holds(&self, org: &Organisation) -> bool {
        let flag = |b: bool| if b { "true" } else { "false" }.to_string();
        let have = match self.key.as_str() {
            "id" => org.id.to_string(),
            "rootOrgId" => org.root_org.to_string(),
            "isTenant" => flag(org.is_tenant),
            "isDefault" => flag(org.is_default),
            "orgName" => crate::text::fold(&org.name),
            "channel" => crate::text::fold(&org.channel),
            "organisationType" => crate::text::fold(&org.org_type),
            "externalId" => crate::text::fold(&org.external_id),
            "email" => crate::text::fold(&org.email),
            _ => return false,
        };
        holds_text(&have, &self.condition)
    }
}
