//! Text helpers shared by every layer: the form names are stored in, the
//! key they are unique under, and the cut of a value echoed in a message.
//! They sit below `domain/`, `auth/`, `store/` and `api/` so each can use
//! them without reaching into another's rules.

use std::sync::OnceLock;
#[cfg(feature = "unicode-tables")]
use unicode_normalization::UnicodeNormalization;

/// The NFKC normaliser installed by [`install_nfkc`].
static NFKC_NORMALIZER: OnceLock<fn(&str) -> String> = OnceLock::new();

/// Why [`try_nfkc`] cannot normalise: a build without the cargo feature
/// `unicode-tables` in which no normaliser was installed.
pub const NFKC_MISSING: &str = "This build of roster has no Unicode (NFKC) normaliser: \
     build it with the cargo feature unicode-tables, or install one with \
     roster::domain::rules::install_nfkc before opening an institute.";

/// Installs the NFKC normaliser of a build without the cargo feature
/// `unicode-tables` (roster-wasm installs the JS engine's
/// `String.prototype.normalize("NFKC")` before it makes an institute). It must
/// return the Unicode NFKC form of its argument. The first one installed
/// stays: false when one was installed already. A build with the feature
/// normalises with its own tables and never calls it.
pub fn install_nfkc(normalize: fn(&str) -> String) -> bool {
    NFKC_NORMALIZER.set(normalize).is_ok()
}

/// Whether [`nfkc`] can normalise any text: the build has the cargo
/// feature `unicode-tables`, or a normaliser was installed. Every
/// constructor of an institute checks it (`Config::check`).
pub fn nfkc_available() -> bool {
    cfg!(feature = "unicode-tables") || NFKC_NORMALIZER.get().is_some()
}

/// Unicode compatibility normal form (NFKC), or [`NFKC_MISSING`] in a
/// build that has no normaliser (see [`nfkc`]). ASCII text is its own NFKC
/// form in any build.
pub fn try_nfkc(value: &str) -> Result<String, &'static str> {
    #[cfg(feature = "unicode-tables")]
    {
        if value.is_ascii() {
            return Ok(value.to_owned());
        }
        Ok(value.nfkc().collect())
    }
    #[cfg(not(feature = "unicode-tables"))]
    {
        if value.is_ascii() {
            // Every ASCII character is its own NFKC form.
            Ok(value.to_owned())
        } else {
            NFKC_NORMALIZER
                .get()
                .map(|normalize| normalize(value))
                .ok_or(NFKC_MISSING)
        }
    }
}

/// Unicode compatibility normal form (NFKC): the form usernames and emails
/// are stored in, so that `ＡＬＩＣＥ` (fullwidth) and `ALICE` are one text,
/// as Django's `AbstractBaseUser.normalize_username` makes them.
///
/// # Panics
///
/// Only in a build without the cargo feature `unicode-tables` where no
/// normaliser was installed ([`install_nfkc`]), on text that is not ASCII:
/// it never passes text through unnormalised. An institute cannot be made
/// in such a build (`Config::check` refuses it), so roster itself never
/// gets here; `domain::rules::username` and `email` return [`NFKC_MISSING`] instead.
pub fn nfkc(value: &str) -> String {
    try_nfkc(value).unwrap_or_else(|missing| panic!("{missing}"))
}

/// The key under which a name is unique (usernames and emails in one
/// namespace; batch and group names): the NFKC form with its case folded,
/// so `ＡＬＩＣＥ`, `Alice` and `alice` are one key, and so are `STRASSE`
/// and `straße`, or `ΟΔΟΣ`, `οδοσ` and `οδος`.
///
/// Case is folded as the lower case of the upper case, with the final
/// sigma `ς` as `σ` (format 11; before, the plain lower case left `ß`
/// and `ς`, whose upper cases are `SS` and `Σ`, keys of their own, so two
/// users could hold names equal ignoring case). Text that differs only in
/// case has one upper case, so it has one key, and no letter depends on
/// its neighbours.
///
/// A key is its own key (`fold(fold(x)) == fold(x)`): changing case can
/// make a text that NFKC changes (`Y` + combining ring above becomes `y` +
/// ring, whose NFKC form is the one character `ẙ`), so NFKC and the case
/// fold are applied until neither changes the text (format 6).
pub fn fold(value: &str) -> String {
    if value.is_ascii() {
        // ASCII is its own NFKC form, and its case folds to its lower case.
        return value.to_ascii_lowercase();
    }
    let step = |text: &str| nfkc(&text.to_uppercase().to_lowercase().replace('ς', "σ"));
    let mut key = step(&nfkc(value));
    // Two rounds settle every text met so far (the test below tries every
    // character, alone and before each combining mark); the bound only
    // keeps a future Unicode table from looping.
    for _ in 0..8 {
        let again = step(&key);
        if again == key {
            break;
        }
        key = again;
    }
    key
}

/// The most characters [`fold`] makes of one character (U+FDFA's NFKC
/// form has 18; a test tries every character).
pub const FOLD_GROWTH: usize = 18;

/// The most characters [`fold`] merges into one (a canonical composite
/// stands for at most four: `ᾂ` is α and three marks).
pub const FOLD_SHRINK: usize = 4;

/// How many characters, per character of a stored text, request text may
/// have and still equal (or be held in) that text's fold: a stored text of
/// `n` characters folds to at most `FOLD_GROWTH × n`, and request text
/// folds to at least a `FOLD_SHRINK`th of its characters. (Names are
/// stored as given, not in NFKC form, so a stored `ﷺ` counts its 18.)
pub const FOLD_REACH: usize = FOLD_GROWTH * FOLD_SHRINK;

/// Whether `value` is short enough to fold to (or into) the key of a
/// stored text of at most `max` characters ([`FOLD_REACH`]): counted up to
/// the bound, never folded. Folding a megabyte of `ﷺ` takes half a second,
/// so request text is measured before it is folded.
pub fn may_fold_to(value: &str, max: usize) -> bool {
    let reach = max.saturating_mul(FOLD_REACH);
    // No more bytes than the bound: no more characters either (most text).
    value.len() <= reach
        || (value.len() <= reach.saturating_mul(4) && value.chars().nth(reach).is_none())
}

/// [`fold`] of request text to be looked up among the keys of values of at
/// most `max` characters; `None`, without folding, for text too long to
/// match any of them ([`may_fold_to`]).
pub fn fold_lookup(value: &str, max: usize) -> Option<String> {
    may_fold_to(value, max).then(|| fold(value))
}

/// At most this many characters of a rejected value are echoed in a report.
pub const ECHO_MAX: usize = 200;

/// `text` cut to at most [`ECHO_MAX`] characters (on a character boundary),
/// the cut marked with how much was left out.
pub fn clip(text: &str) -> String {
    match text.char_indices().nth(ECHO_MAX) {
        None => text.to_string(),
        Some((at, _)) => {
            let rest = text[at..].chars().count();
            format!("{}… [{rest} more characters]", &text[..at])
        }
    }
}

/// What a secret reads as in `Debug` and `Display` text.
pub(crate) const REDACTED: &str = "<redacted>";

/// Stands in for a secret in formatted text: prints [`REDACTED`].
pub(crate) struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A secret field as formatted text shows it: whether it is there, never
/// what it is.
pub(crate) trait Secret {
    /// The stand-in to format.
    fn redacted(&self) -> impl std::fmt::Debug;
}

impl Secret for String {
    fn redacted(&self) -> impl std::fmt::Debug {
        Redacted
    }
}

impl Secret for Option<String> {
    fn redacted(&self) -> impl std::fmt::Debug {
        self.as_ref().map(|_| Redacted)
    }
}

/// `Debug` and `Display` for a record that carries a password or a token:
/// the text `#[derive(Debug)]` would write, with each field marked `secret`
/// shown as `<redacted>` (`Some(<redacted>)` when optional). The bindings
/// export both traits (`#[uniffi::export(Debug, Display)]`), so Python's
/// `repr`/`str`, Kotlin's `toString` and Swift's `description` hide the
/// secret too. Every field is named: the pattern is exhaustive, so a field
/// added to the record and not here does not compile.
macro_rules! debug_without_secrets {
    ($record:ident { $($field:ident $($secret:ident)?),* $(,)? }) => {
        impl ::std::fmt::Debug for $record {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let $record { $($field),* } = self;
                f.debug_struct(stringify!($record))
                    $(.field(stringify!($field), &$crate::text::shown!($field $($secret)?)))*
                    .finish()
            }
        }

        impl ::std::fmt::Display for $record {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(self, f)
            }
        }
    };
}
pub(crate) use debug_without_secrets;

/// One field's value in [`debug_without_secrets`]: as it is, or redacted.
macro_rules! shown {
    ($field:ident) => {
        $field
    };
    ($field:ident secret) => {
        $crate::text::Secret::redacted($field)
    };
}
pub(crate) use shown;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_character_folds_to_more_than_fold_growth() {
        // The bound that lets an overlong needle go unfolded.
        let most = (0..=char::MAX as u32)
            .filter_map(char::from_u32)
            .map(|c| fold(c.encode_utf8(&mut [0; 4])).chars().count())
            .max();
        assert_eq!(most, Some(FOLD_GROWTH));
        // Composition merges characters: at most FOLD_SHRINK into one (a
        // composite's canonical decomposition has at most four).
        assert_eq!(fold("\u{3B1}\u{313}\u{300}").chars().count(), 1);
        assert_eq!(fold("\u{1100}\u{1161}\u{11A8}").chars().count(), 1);
    }

    #[test]
    fn request_text_is_measured_before_it_is_folded() {
        let reach = FOLD_REACH * 150;
        assert!(may_fold_to(&"a".repeat(reach), 150));
        assert!(!may_fold_to(&"a".repeat(reach + 1), 150));
        // Characters, not bytes: as many four-byte characters still may.
        assert!(may_fold_to(&"\u{1F600}".repeat(reach), 150));
        assert!(!may_fold_to(&"\u{1F600}".repeat(reach + 1), 150));
        // The whole fold of the longest stored name may.
        assert!(may_fold_to(&fold(&"\u{FDFA}".repeat(150)), 150));
        assert_eq!(fold_lookup(&"\u{FDFA}".repeat(300_000), 254), None);
        assert_eq!(fold_lookup("ＡＬＩＣＥ", 150).as_deref(), Some("alice"));
    }

    #[test]
    fn fold_of_ascii_is_its_plain_lower_case() {
        assert_eq!(fold("Asha.K@Example.COM"), "asha.k@example.com");
        assert_eq!(fold("ＡＬＩＣＥ"), "alice");
        assert_eq!(nfkc("plain"), "plain");
    }

    /// Whether `text`'s key is its own key, with the three texts for the
    /// failure message.
    fn settled(text: &str) -> Result<(), String> {
        let once = fold(text);
        let twice = fold(&once);
        match once == twice {
            true => Ok(()),
            false => Err(format!("{text:?} -> {once:?} -> {twice:?}")),
        }
    }

    /// Names equal ignoring case share a key, whatever their letters'
    /// case mappings do (`ß` upper-cases to two letters, `ς` is `σ` at the
    /// end of a word, `ẞ` lower-cases to `ß`).
    #[test]
    fn names_equal_ignoring_case_share_a_key() {
        for same in [
            &["ΟΔΟΣ", "οδοσ", "οδος", "Οδος"][..],
            &["STRASSE", "straße", "STRAẞE", "Strasse"],
            &["ſtop", "STOP", "stop"],
            &["ǅemal", "DŽEMAL", "džemal"],
            &["ＡＬＩＣＥ", "Alice"],
        ] {
            let keys: std::collections::BTreeSet<String> = same.iter().map(|s| fold(s)).collect();
            assert_eq!(keys.len(), 1, "{same:?}: {keys:?}");
        }
        assert_eq!(fold("ΟΔΟΣ"), "οδοσ");
        assert_eq!(fold("straße"), "strasse");
        // A substring keeps its meaning: a key's piece is the piece's key.
        assert!(fold("ΟΔΟΣ ΟΣΑ").contains(&fold("ος")));
        assert_ne!(fold("οδος"), fold("οδοι"));
    }

    #[test]
    fn fold_is_its_own_key() {
        // The case a fuzzer found: the lower case composes with the mark.
        assert_eq!(fold("Y\u{30a}"), "\u{1e99}");
        assert_eq!(fold("\u{1e99}"), "\u{1e99}");
        let mut failures = Vec::new();
        // Every character alone.
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            failures.extend(settled(c.encode_utf8(&mut [0; 4])).err());
        }
        // Every character a change of case changes, before every combining
        // mark of the main block: where changing case can make a pair NFKC
        // composes.
        let cased = (0..=0x10ffff).filter_map(char::from_u32).filter(|c| {
            c.to_lowercase().ne(std::iter::once(*c)) || c.to_uppercase().ne(std::iter::once(*c))
        });
        for c in cased {
            for mark in (0x300..=0x36f).filter_map(char::from_u32) {
                failures.extend(settled(&format!("{c}{mark}")).err());
            }
        }
        assert!(
            failures.is_empty(),
            "{} texts: {:?}",
            failures.len(),
            &failures[..failures.len().min(10)]
        );
    }

    #[test]
    fn clip_cuts_on_a_character_boundary_and_marks_the_cut() {
        assert_eq!(clip("short"), "short");
        let exact = "é".repeat(ECHO_MAX);
        assert_eq!(clip(&exact), exact);
        let long = "é".repeat(ECHO_MAX + 50);
        let clipped = clip(&long);
        assert!(clipped.starts_with(&"é".repeat(ECHO_MAX)));
        assert!(clipped.ends_with("… [50 more characters]"), "{clipped}");
    }
}
