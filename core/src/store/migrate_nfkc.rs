//! Format 3 sub-step: usernames and emails in Unicode NFKC form, and every
//! name index keyed by [`fold`] (the lower case of the NFKC form).
//!
//! Format 2 stored usernames and emails as given and keyed them by their
//! lower case, so `ＡＬＩＣＥ` (fullwidth) and `alice` were two users. Format 3
//! stores both in NFKC and keys them by `fold`, which makes such pairs one
//! name. Users that now collide are **kept**: the index points to the lowest
//! id of each key (deterministic), and [`collisions`] reports every such
//! pair to `roster check` / `Institute::check_integrity`, so an
//! administrator renames one of them. Batch, group and custom field name
//! indexes are keyed by `fold` too, so they are rebuilt the same way.
//!
//! Records are read and written only through [`read`] and [`write`], so the
//! step keeps working whatever the record encoding is: it must run after the
//! records are in format 3's encoding.

use super::Txn;
use super::read;
use super::tables::*;
use super::write;
use crate::domain::user::User;
use crate::error::Result;
use crate::text::{fold, nfkc};
use std::collections::BTreeMap;

/// Re-normalises stored usernames and emails to NFKC and rebuilds the
/// username, email, batch name, group name and custom field name indexes
/// under `fold` keys, the lowest id winning a shared key.
// Called by schema.rs's format 2 -> 3 migration, after the records are
// re-framed.
pub(crate) fn nfkc_v2_to_v3(txn: &Txn<'_>) -> Result<()> {
    // The keys only: a million users' records would not all fit.
    let (mut names, mut emails) = (Vec::new(), Vec::new());
    for id in read::ids(txn, USERS)? {
        let Some(mut user) = read::user(txn, id)? else {
            continue;
        };
        let (name, email) = (nfkc(&user.username), nfkc(&user.profile.email));
        if name != user.username || email != user.profile.email {
            user.username = name;
            user.profile.email = email;
            // The stored version given as `old` with the same keys: the
            // record is rewritten, its indexes are left to the rebuild below.
            write::put_user(txn, Some(&user), &user)?;
        }
        names.push((fold(&user.username), id));
        emails.push((fold(&user.profile.email), id));
    }
    rebuild(txn, USER_BY_USERNAME, names)?;
    rebuild(txn, USER_BY_EMAIL, emails)?;
    let mut batches = Vec::new();
    for id in read::ids(txn, BATCHES)? {
        if let Some(b) = read::batch(txn, id)?
            && !b.is_local()
        {
            batches.push((fold(&b.name), b.id));
        }
    }
    rebuild(txn, BATCH_BY_NAME, batches)?;
    let mut groups = Vec::new();
    for id in read::ids(txn, GROUPS)? {
        if let Some(g) = read::group(txn, id)? {
            groups.push((fold(&g.name), g.id));
        }
    }
    rebuild(txn, GROUP_BY_NAME, groups)?;
    let fields = read::custom_fields(txn)?;
    let keys = fields
        .iter()
        .map(|f| (crate::domain::custom_field::name_key(&f.name), f.id));
    rebuild(txn, CUSTOM_FIELD_BY_NAME, keys)
}

/// Formats 6 and 11: [`fold`] settles (format 6) and folds case fully
/// (format 11). Format 6: [`fold`] settles (NFKC and the lower case until neither
/// changes the text), so every index keyed by it is rebuilt: the username,
/// email, batch, group and custom field name indexes (as
/// [`nfkc_v2_to_v3`] builds them, the lowest id winning a key two names now
/// share, which [`collisions`] reports), the organisation channels, the
/// Sunbird filter index, and the n-gram index (whose grams also grow from
/// three characters to four).
pub(crate) fn refold_v5_to_v6(txn: &Txn<'_>) -> Result<()> {
    nfkc_v2_to_v3(txn)?;
    let orgs: Vec<crate::domain::sunbird::Organisation> = read::records(txn, ORGANISATIONS)?;
    rebuild(
        txn,
        ORG_BY_CHANNEL,
        orgs.iter().map(|o| (fold(&o.channel), o.id)),
    )?;
    let sides = read::sunbird_users(txn)?;
    txn.clear(super::terms::TERMS)?;
    for key in super::terms::expected(sides.iter().map(|(id, side)| (id, side))) {
        txn.put(super::terms::TERMS, key.as_slice(), &())?;
    }
    super::search::build(txn)
}

/// Replaces every entry of unique index `def` with `entries` (empty keys
/// skipped), the lowest id winning a key several share; a shared key
/// marks the index as holding one ([`shared_mark`]).
fn rebuild(
    txn: &Txn<'_>,
    def: Unique,
    entries: impl IntoIterator<Item = (String, u64)>,
) -> Result<()> {
    let mut wanted: BTreeMap<String, u64> = BTreeMap::new();
    let mut shared = false;
    for (key, id) in entries {
        if !key.is_empty() {
            let entry = wanted.entry(key).or_insert(id);
            shared |= *entry != id;
            *entry = (*entry).min(id);
        }
    }
    // Cleared, not read: a store older than format 12 holds its entries
    // without their seals, which format 12's step adds last.
    txn.clear(def)?;
    for (key, id) in wanted {
        txn.put(def, key.as_str(), &id)?;
    }
    if shared && let Some(mark) = shared_mark(def) {
        txn.put(META, mark, &1)?;
    }
    Ok(())
}

/// The [`META`] entry present once a migration kept several records under
/// one key of unique index `def`; `None` for an index no migration
/// shares. A store without it (every store made since format 6) pays
/// nothing for [`next_holder`] but the read of this entry.
pub(crate) fn shared_mark(def: Unique) -> Option<&'static str> {
    Some(match def.name {
        "user_by_username" => "shared_keys.user_by_username",
        "user_by_email" => "shared_keys.user_by_email",
        "batch_by_name" => "shared_keys.batch_by_name",
        "group_by_name" => "shared_keys.group_by_name",
        "custom_field_by_name" => "shared_keys.custom_field_by_name",
        "org_by_channel" => "shared_keys.org_by_channel",
        _ => return None,
    })
}

/// Of the records a migration kept under `key` of unique index `def`, the
/// lowest id but `gone`'s: the record the key passes to when `gone`, the
/// one it pointed to, is deleted or takes another key. Without it the
/// others would drop out of every lookup by the key, and a new record
/// could take it beside them. `None` where no other record holds the key,
/// or the index never held a shared one ([`shared_mark`]).
pub(crate) fn next_holder(txn: &Txn<'_>, def: Unique, key: &str, gone: u64) -> Result<Option<u64>> {
    let Some(mark) = shared_mark(def) else {
        return Ok(None);
    };
    if txn.get(META, mark)?.is_none() {
        return Ok(None);
    }
    let holds = |id: u64, held: String| (id != gone && held == key).then_some(id);
    let mut holders: Vec<u64> = Vec::new();
    match def.name {
        "user_by_username" | "user_by_email" => {
            // The n-gram index names every user whose username or email
            // holds the key; each is checked against its record.
            let email = def.name == "user_by_email";
            for id in super::search::candidates(txn, super::search::Field::Q, key)? {
                if let Some(user) = read::user(txn, id)? {
                    let held = if email {
                        &user.profile.email
                    } else {
                        &user.username
                    };
                    holders.extend(holds(id, fold(held)));
                }
            }
        }
        "batch_by_name" => {
            for id in read::ids(txn, BATCHES)? {
                if let Some(b) = read::batch(txn, id)?
                    && !b.is_local()
                {
                    holders.extend(holds(id, fold(&b.name)));
                }
            }
        }
        "group_by_name" => {
            for id in read::ids(txn, GROUPS)? {
                if let Some(g) = read::group(txn, id)? {
                    holders.extend(holds(id, fold(&g.name)));
                }
            }
        }
        "custom_field_by_name" => {
            for f in read::custom_fields(txn)?.iter() {
                holders.extend(holds(f.id, crate::domain::custom_field::name_key(&f.name)));
            }
        }
        _ => {
            let orgs: Vec<crate::domain::sunbird::Organisation> =
                read::records(txn, ORGANISATIONS)?;
            for o in orgs {
                holders.extend(holds(o.id, fold(&o.channel)));
            }
        }
    }
    Ok(holders.into_iter().min())
}

/// Users whose names share a key (usernames and emails are one namespace),
/// in words: what the NFKC migration kept and an administrator must resolve
/// by renaming one of them. Sign-in and lookups find the lowest id.
pub(crate) fn collisions<'a>(users: impl IntoIterator<Item = &'a User>) -> Vec<String> {
    // Sorted pairs rather than a map of sets: a set per name cost a node
    // each (38 MB of a 100,000-user restore's check).
    let mut keys: Vec<(String, u64)> = users
        .into_iter()
        .flat_map(|user| {
            [fold(&user.username), fold(&user.profile.email)]
                .into_iter()
                .filter(|key| !key.is_empty())
                .map(move |key| (key, user.id))
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys.chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
        .map(|run| {
            let ids: Vec<String> = run.iter().map(|(_, id)| id.to_string()).collect();
            format!(
                "users {} share the name {:?} (the same in Unicode NFKC, ignoring case): \
                 sign-in finds user {}; rename the others",
                ids.join(", "),
                run[0].0,
                ids[0]
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::integrity;

    fn user(id: u64, username: &str, email: &str) -> User {
        let mut u = User::blank(id, username);
        u.uuid = id as u128;
        u.profile.email = email.to_string();
        u
    }

    /// A store as format 2 left it: names as given, keyed by their plain
    /// lower case (written with the index entries format 2 would have).
    fn v2_store(users: &[User]) -> Store {
        let store = Store::in_memory().unwrap();
        store
            .write(|txn| {
                for u in users {
                    assert_eq!(write::next_id(txn, Kind::User)?, u.id);
                    // Written under a placeholder name, then the record
                    // alone is replaced and the index entries are set to
                    // format 2's keys.
                    let placeholder = User {
                        username: format!("placeholder{}", u.id),
                        profile: Default::default(),
                        ..u.clone()
                    };
                    write::put_user(txn, None, &placeholder)?;
                    write::put_user(txn, Some(u), u)?;
                    txn.delete(USER_BY_USERNAME, fold(&placeholder.username).as_str())?;
                    let old_key = u.username.to_lowercase();
                    if txn.get(USER_BY_USERNAME, old_key.as_str())?.is_none() {
                        txn.put(USER_BY_USERNAME, old_key.as_str(), &u.id)?;
                    }
                    if !u.profile.email.is_empty() {
                        txn.put(
                            USER_BY_EMAIL,
                            u.profile.email.to_lowercase().as_str(),
                            &u.id,
                        )?;
                    }
                }
                Ok(())
            })
            .unwrap();
        store
    }

    /// The search index as format 4 builds it after this step.
    fn rebuild_search(store: &Store) {
        store.write(crate::store::search::build).unwrap();
    }

    #[test]
    fn names_become_nfkc_and_colliding_users_are_kept_and_reported() {
        let store = v2_store(&[
            user(1, "alice", "alice@example.com"),
            user(2, "ＡＬＩＣＥ", "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
            user(3, "ＣＡＲＯＬ", ""),
            user(4, "bob", "Bob@Example.com"),
        ]);
        store.write(nfkc_v2_to_v3).unwrap();
        rebuild_search(&store);
        store
            .reading(|txn| {
                let two = read::user(txn, 2)?.unwrap();
                assert_eq!(two.username, "ALICE");
                assert_eq!(two.profile.email, "alice@example.com");
                assert_eq!(read::user(txn, 3)?.unwrap().username, "CAROL");
                // Every user is kept; each key points to the lowest id.
                for id in 1..=4 {
                    assert!(read::user(txn, id)?.is_some());
                }
                assert_eq!(read::lookup(txn, USER_BY_USERNAME, "alice")?, Some(1));
                assert_eq!(
                    read::lookup(txn, USER_BY_EMAIL, "alice@example.com")?,
                    Some(1)
                );
                assert_eq!(read::lookup(txn, USER_BY_USERNAME, "carol")?, Some(3));
                assert_eq!(read::lookup(txn, USER_BY_USERNAME, "ｃａｒｏｌ")?, None);
                assert_eq!(
                    read::lookup(txn, USER_BY_EMAIL, "bob@example.com")?,
                    Some(4)
                );
                // The check reports the collision, and nothing else.
                let problems = integrity::check(txn)?;
                assert_eq!(problems.len(), 2, "{problems:#?}");
                assert!(
                    problems.iter().all(|p| p.starts_with("users 1, 2 share")),
                    "{problems:#?}"
                );
                Ok(())
            })
            .unwrap();
        // Renaming the user a shared key does not point to leaves that
        // key to the user it names; so does deleting it.
        store
            .write(|txn| {
                let two = read::user(txn, 2)?.unwrap();
                let renamed = User {
                    username: "alice2".into(),
                    ..two.clone()
                };
                write::put_user(txn, Some(&two), &renamed)?;
                assert_eq!(read::lookup(txn, USER_BY_USERNAME, "alice")?, Some(1));
                assert_eq!(read::lookup(txn, USER_BY_USERNAME, "alice2")?, Some(2));
                write::delete_user(txn, &renamed)?;
                assert_eq!(
                    read::lookup(txn, USER_BY_EMAIL, "alice@example.com")?,
                    Some(1)
                );
                assert_eq!(integrity::check(txn)?, Vec::<String>::new());
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_shared_name_passes_to_the_next_user_when_its_holder_leaves_it() {
        let store = v2_store(&[
            user(1, "alice", "alice@example.com"),
            user(2, "ＡＬＩＣＥ", "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
            user(3, "Alice", "other@example.com"),
            user(4, "alicea", "alice@example.org"),
        ]);
        store.write(nfkc_v2_to_v3).unwrap();
        rebuild_search(&store);
        store
            .write(|txn| {
                // User 1, which both keys name, takes other names: the
                // username passes to user 2, the lowest of 2 and 3, and the
                // email to user 2, its one other holder.
                let one = read::user(txn, 1)?.unwrap();
                let mut renamed = one.clone();
                renamed.username = "amal".into();
                renamed.profile.email = "amal@example.com".into();
                write::put_user(txn, Some(&one), &renamed)?;
                assert_eq!(read::lookup(txn, USER_BY_USERNAME, "alice")?, Some(2));
                assert_eq!(
                    read::lookup(txn, USER_BY_EMAIL, "alice@example.com")?,
                    Some(2)
                );
                Ok(())
            })
            .unwrap();
        // A new user cannot take the name the others still share.
        let clash = store.write(|txn| {
            let mut new = user(write::next_id(txn, Kind::User)?, "ALICE", "");
            new.uuid = 99;
            write::put_user(txn, None, &new)
        });
        assert!(clash.is_err());
        store
            .write(|txn| {
                // Deleting user 2 passes the username to user 3 and leaves
                // the email to no one: nobody else holds it.
                write::delete_user(txn, &read::user(txn, 2)?.unwrap())?;
                assert_eq!(read::lookup(txn, USER_BY_USERNAME, "alice")?, Some(3));
                assert_eq!(read::lookup(txn, USER_BY_EMAIL, "alice@example.com")?, None);
                assert_eq!(read::lookup(txn, USER_BY_USERNAME, "alicea")?, Some(4));
                assert_eq!(integrity::check(txn)?, Vec::<String>::new());
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_shared_batch_name_passes_to_the_other_batch_when_its_holder_is_deleted() {
        use crate::domain::Batch;
        let store = Store::in_memory().unwrap();
        store
            .write(|txn| {
                for (id, name) in [(1, "Maths"), (2, "ＭＡＴＨＳ"), (3, "Physics")] {
                    assert_eq!(write::next_id(txn, Kind::Batch)?, id);
                    let b = Batch {
                        id,
                        uuid: 100 + id as u128,
                        name: name.into(),
                        course: None,
                        created: 0,
                        modified: 0,
                    };
                    write::put_batch(
                        txn,
                        None,
                        &Batch {
                            name: format!("placeholder{id}"),
                            ..b.clone()
                        },
                    )?;
                    txn.put(
                        BATCHES,
                        &id,
                        super::super::encode(BATCHES, id, &b)?.as_slice(),
                    )?;
                }
                Ok(())
            })
            .unwrap();
        store.write(nfkc_v2_to_v3).unwrap();
        store
            .reading(|txn| {
                let problems = integrity::check(txn)?;
                assert!(
                    problems.iter().any(|p| p.starts_with(
                        "batches 1, 2 share the name \"maths\" (the same in Unicode NFKC"
                    )),
                    "{problems:#?}"
                );
                Ok(())
            })
            .unwrap();
        store
            .write(|txn| {
                assert_eq!(read::lookup(txn, BATCH_BY_NAME, "maths")?, Some(1));
                write::delete_batch(txn, &read::batch(txn, 1)?.unwrap())?;
                assert_eq!(read::lookup(txn, BATCH_BY_NAME, "maths")?, Some(2));
                assert_eq!(read::lookup(txn, BATCH_BY_NAME, "physics")?, Some(3));
                Ok(())
            })
            .unwrap();
    }

    /// Format 5's key: NFKC, then the lower case, once.
    fn v5_key(text: &str) -> String {
        nfkc(text).to_lowercase()
    }

    #[test]
    fn format_6_rekeys_names_whose_fold_settles_and_reports_new_collisions() {
        // "Y" + combining ring: format 5 keyed it "y" + ring; format 6's
        // key is the one character "ẙ", which user 3's name already is.
        let store = Store::in_memory().unwrap();
        store
            .write(|txn| {
                for (id, name) in [(1, "Y\u{30a}"), (2, "plain"), (3, "\u{1e99}")] {
                    assert_eq!(write::next_id(txn, Kind::User)?, id);
                    let mut u = user(id, &format!("placeholder{id}"), "");
                    write::put_user(txn, None, &u)?;
                    txn.delete(USER_BY_USERNAME, u.username.as_str())?;
                    u.username = name.to_string();
                    write::put_user(txn, Some(&u), &u)?;
                    txn.put(USER_BY_USERNAME, v5_key(name).as_str(), &id)?;
                }
                Ok(())
            })
            .unwrap();
        store
            .reading(|txn| {
                // Format 5's entry (format 6's reads refuse it: the record's
                // own key differs).
                assert_eq!(txn.get(USER_BY_USERNAME, "y\u{30a}")?, Some(1));
                Ok(())
            })
            .unwrap();
        store.write(refold_v5_to_v6).unwrap();
        store
            .reading(|txn| {
                // The old key is gone; the settled one names the lowest id.
                assert_eq!(read::lookup(txn, USER_BY_USERNAME, "y\u{30a}")?, None);
                assert_eq!(read::lookup(txn, USER_BY_USERNAME, "\u{1e99}")?, Some(1));
                assert_eq!(read::lookup(txn, USER_BY_USERNAME, "plain")?, Some(2));
                // Both users are kept, and the check names the pair.
                assert!(read::user(txn, 3)?.is_some());
                let problems = integrity::check(txn)?;
                assert!(
                    problems.iter().any(|p| p.starts_with("users 1, 3 share")),
                    "{problems:#?}"
                );
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_store_without_collisions_is_sound_after_the_step_and_the_step_is_idempotent() {
        let store = v2_store(&[
            user(1, "ＤＡＶＥ", ""),
            user(2, "erin", "Erin@x.com"),
            user(3, "frank", "ｆｒａｎｋ＠ｘ．ｃｏｍ"),
        ]);
        store.write(nfkc_v2_to_v3).unwrap();
        store.write(nfkc_v2_to_v3).unwrap();
        rebuild_search(&store);
        store
            .reading(|txn| {
                assert_eq!(integrity::check(txn)?, Vec::<String>::new());
                assert_eq!(read::lookup(txn, USER_BY_USERNAME, "dave")?, Some(1));
                // An email alone not in NFKC is rewritten too.
                assert_eq!(read::user(txn, 3)?.unwrap().profile.email, "frank@x.com");
                assert_eq!(read::lookup(txn, USER_BY_EMAIL, "frank@x.com")?, Some(3));
                // Nothing shared, nothing marked: a later rename reads no more.
                for def in [
                    USER_BY_USERNAME,
                    USER_BY_EMAIL,
                    BATCH_BY_NAME,
                    GROUP_BY_NAME,
                ] {
                    let mark = shared_mark(def).unwrap();
                    assert_eq!(txn.get(META, mark)?, None, "{mark}");
                }
                Ok(())
            })
            .unwrap();
    }
}
