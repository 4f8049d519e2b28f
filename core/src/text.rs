//! Text helpers shared by every layer: the form names are stored in, the
//! key they are unique under, and the cut of a value echoed in a message.
//! They sit below `domain/`, `auth/`, `store/` and `api/` so each can use
//! them without reaching into another's rules.

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

#[cfg(test)]
mod tests {
    use super::*;

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
