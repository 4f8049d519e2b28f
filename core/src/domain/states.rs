//! ISO 3166-2:IN subdivisions: the current list (28 states, 8 union
//! territories), after the 2019 (Jammu and Kashmir, Ladakh), 2020 (Dadra and
//! Nagar Haveli and Daman and Diu) and 2023 (IN-CG, IN-OD, IN-TS, IN-UK)
//! changes. Withdrawn codes are accepted as aliases of their current code.

/// Whether a subdivision is a state or a union territory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum SubdivisionKind {
    /// A state.
    State,
    /// A union territory.
    UnionTerritory,
}

/// One subdivision of India.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subdivision {
    /// Current ISO 3166-2 code, `IN-TN`.
    pub code: &'static str,
    /// The name as commonly written, without diacritics, `Tamil Nadu`.
    pub name: &'static str,
    /// State or union territory.
    pub kind: SubdivisionKind,
}

const fn s(code: &'static str, name: &'static str) -> Subdivision {
    Subdivision {
        code,
        name,
        kind: SubdivisionKind::State,
    }
}

const fn ut(code: &'static str, name: &'static str) -> Subdivision {
    Subdivision {
        code,
        name,
        kind: SubdivisionKind::UnionTerritory,
    }
}

/// Every current subdivision, states first, each group by code.
pub const SUBDIVISIONS: [Subdivision; 36] = [
    s("IN-AP", "Andhra Pradesh"),
    s("IN-AR", "Arunachal Pradesh"),
    s("IN-AS", "Assam"),
    s("IN-BR", "Bihar"),
    s("IN-CG", "Chhattisgarh"),
    s("IN-GA", "Goa"),
    s("IN-GJ", "Gujarat"),
    s("IN-HP", "Himachal Pradesh"),
    s("IN-HR", "Haryana"),
    s("IN-JH", "Jharkhand"),
    s("IN-KA", "Karnataka"),
    s("IN-KL", "Kerala"),
    s("IN-MH", "Maharashtra"),
    s("IN-ML", "Meghalaya"),
    s("IN-MN", "Manipur"),
    s("IN-MP", "Madhya Pradesh"),
    s("IN-MZ", "Mizoram"),
    s("IN-NL", "Nagaland"),
    s("IN-OD", "Odisha"),
    s("IN-PB", "Punjab"),
    s("IN-RJ", "Rajasthan"),
    s("IN-SK", "Sikkim"),
    s("IN-TN", "Tamil Nadu"),
    s("IN-TR", "Tripura"),
    s("IN-TS", "Telangana"),
    s("IN-UK", "Uttarakhand"),
    s("IN-UP", "Uttar Pradesh"),
    s("IN-WB", "West Bengal"),
    ut("IN-AN", "Andaman and Nicobar Islands"),
    ut("IN-CH", "Chandigarh"),
    ut("IN-DH", "Dadra and Nagar Haveli and Daman and Diu"),
    ut("IN-DL", "Delhi"),
    ut("IN-JK", "Jammu and Kashmir"),
    ut("IN-LA", "Ladakh"),
    ut("IN-LD", "Lakshadweep"),
    ut("IN-PY", "Puducherry"),
];

/// Withdrawn codes and the current code each now stands for.
pub const WITHDRAWN: [(&str, &str); 7] = [
    ("IN-CT", "IN-CG"), // Chhattisgarh, changed 2023
    ("IN-OR", "IN-OD"), // Odisha, changed 2023
    ("IN-TG", "IN-TS"), // Telangana, changed 2023
    ("IN-UT", "IN-UK"), // Uttarakhand, changed 2023
    ("IN-UL", "IN-UK"), // Uttaranchal, the state's name until 2007
    ("IN-DD", "IN-DH"), // Daman and Diu, merged 2020
    ("IN-DN", "IN-DH"), // Dadra and Nagar Haveli, merged 2020
];

/// The subdivision with current code `code` (exact, as stored).
pub fn by_code(code: &str) -> Option<&'static Subdivision> {
    SUBDIVISIONS.iter().find(|s| s.code == code)
}

/// The subdivision an input names: a current or withdrawn code, ignoring
/// case and surrounding spaces, or (so a representation read from the API can
/// be sent back unchanged) its name ignoring case.
pub fn parse(input: &str) -> Option<&'static Subdivision> {
    let input = input.trim();
    let upper = input.to_ascii_uppercase();
    if let Some(found) = by_code(&upper) {
        return Some(found);
    }
    if let Some((_, current)) = WITHDRAWN.iter().find(|(old, _)| *old == upper) {
        return by_code(current);
    }
    SUBDIVISIONS
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(input))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_eight_states_and_eight_union_territories() {
        let states = SUBDIVISIONS
            .iter()
            .filter(|s| s.kind == SubdivisionKind::State)
            .count();
        assert_eq!(states, 28);
        assert_eq!(SUBDIVISIONS.len() - states, 8);
    }

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut codes: Vec<&str> = SUBDIVISIONS.iter().map(|s| s.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 36);
        for s in SUBDIVISIONS {
            assert!(s.code.starts_with("IN-") && s.code.len() == 5, "{}", s.code);
            assert!(s.name.is_ascii(), "{} has diacritics", s.name);
        }
    }

    #[test]
    fn every_current_code_parses_to_itself_in_any_case() {
        for s in SUBDIVISIONS {
            assert_eq!(parse(s.code).map(|f| f.code), Some(s.code));
            assert_eq!(parse(&s.code.to_lowercase()).map(|f| f.code), Some(s.code));
            assert_eq!(
                parse(&format!(" {} ", s.code)).map(|f| f.code),
                Some(s.code)
            );
            assert_eq!(parse(&s.name.to_uppercase()).map(|f| f.code), Some(s.code));
        }
    }

    #[test]
    fn the_2019_2020_2023_changes_are_in() {
        for (code, name) in [
            ("IN-CG", "Chhattisgarh"),
            ("IN-OD", "Odisha"),
            ("IN-TS", "Telangana"),
            ("IN-UK", "Uttarakhand"),
            ("IN-DH", "Dadra and Nagar Haveli and Daman and Diu"),
            ("IN-LA", "Ladakh"),
            ("IN-JK", "Jammu and Kashmir"),
        ] {
            assert_eq!(by_code(code).map(|s| s.name), Some(name));
        }
        assert_eq!(
            by_code("IN-JK").map(|s| s.kind),
            Some(SubdivisionKind::UnionTerritory)
        );
    }

    #[test]
    fn withdrawn_codes_are_aliases_of_their_current_code() {
        for (old, current) in WITHDRAWN {
            assert!(by_code(old).is_none(), "{old} must not be a current code");
            assert_eq!(parse(old).map(|s| s.code), Some(current));
            assert_eq!(parse(&old.to_lowercase()).map(|s| s.code), Some(current));
        }
    }

    #[test]
    fn unknown_codes_are_refused() {
        for bad in ["", "IN-XX", "TN", "IN-", "US-CA", "IN-TNX", "Tamil"] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
