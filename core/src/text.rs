//! Text normal forms shared by every layer: the form names are stored in
//! and the key they are unique under. They sit below `domain/`, `auth/` and
//! `store/` so each can use them without reaching into another's rules.

use unicode_normalization::UnicodeNormalization;

/// Unicode compatibility normal form (NFKC): the form usernames and emails
/// are stored in, so that `ＡＬＩＣＥ` (fullwidth) and `ALICE` are one text,
/// as Django's `AbstractBaseUser.normalize_username` makes them.
pub fn nfkc(value: &str) -> String {
    value.nfkc().collect()
}

/// The key under which a name is unique (usernames and emails in one
/// namespace; batch and group names): the lower case of the NFKC form, so
/// `ＡＬＩＣＥ`, `Alice` and `alice` are one key.
pub fn fold(value: &str) -> String {
    nfkc(value).to_lowercase()
}
