//! Institute-defined user fields (T12) and the values users hold for them.

use super::rules::{self, BLANK, NAME_MAX, REQUIRED, TEXT_MAX};
use super::{Micros, instant, uuid_string};
use crate::error::FieldErrors;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The type of a custom field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum FieldKind {
    /// Free text.
    Text,
    /// A JSON number.
    Number,
    /// A date, `yyyy-mm-dd`.
    Date,
    /// One of the definition's choices.
    Choice,
}

impl FieldKind {
    /// The wire name: `text`, `number`, `date`, `choice`.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Choice => "choice",
        }
    }

    /// Parses a wire name.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Text, Self::Number, Self::Date, Self::Choice]
            .into_iter()
            .find(|k| k.as_str() == value)
    }
}

/// A stored custom field definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomField {
    /// Id, never reused.
    pub id: u64,
    /// Random UUID.
    #[serde(with = "crate::domain::uuid_serde")]
    pub uuid: u128,
    /// Name as defined; unique ignoring case and surrounding spaces.
    pub name: String,
    /// Type of the values.
    pub kind: FieldKind,
    /// Allowed values of a `choice` field.
    pub choices: Vec<String>,
    /// Whether every new user must give a value.
    pub required: bool,
    /// Creation instant.
    pub created: Micros,
    /// Last change.
    pub modified: Micros,
}

/// Input to create or change a definition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CustomFieldInput {
    /// Name: required on create.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub name: Option<String>,
    /// `text`, `number`, `date` or `choice`: required on create.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub kind: Option<String>,
    /// Choices of a `choice` field.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub choices: Option<Vec<String>>,
    /// Whether a value is required.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub required: Option<bool>,
}

/// A definition as returned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CustomFieldView {
    /// Id.
    pub id: u64,
    /// UUID, hyphenated.
    pub uuid: String,
    /// Name.
    pub name: String,
    /// Type.
    pub kind: FieldKind,
    /// Choices (empty unless `choice`).
    pub choices: Vec<String>,
    /// Whether a value is required.
    pub required: bool,
    /// Creation instant.
    pub created: DateTime<Utc>,
    /// Last change.
    pub modified: DateTime<Utc>,
}

impl From<&CustomField> for CustomFieldView {
    fn from(f: &CustomField) -> Self {
        CustomFieldView {
            id: f.id,
            uuid: uuid_string(f.uuid),
            name: f.name.clone(),
            kind: f.kind,
            choices: f.choices.clone(),
            required: f.required,
            created: instant(f.created),
            modified: instant(f.modified),
        }
    }
}

/// The most choices a choice field has.
pub const CHOICES_MAX: usize = 1_000;

/// The key under which definition names are unique.
pub fn name_key(name: &str) -> String {
    rules::fold(name.trim())
}

/// Applies `input` to `field` (a default one when creating), collecting every
/// problem. Uniqueness of the name is the caller's (it needs the store).
pub fn apply(
    field: &mut CustomField,
    input: &CustomFieldInput,
    creating: bool,
    errors: &mut FieldErrors,
) {
    match &input.name {
        Some(name) => match rules::text(name, NAME_MAX) {
            Ok(name) if name.is_empty() => errors.add("name", BLANK),
            Ok(name) => field.name = name,
            Err(m) => errors.add("name", m),
        },
        None if creating => errors.add("name", REQUIRED),
        None => {}
    }
    match &input.kind {
        Some(kind) => match FieldKind::parse(kind) {
            Some(kind) => field.kind = kind,
            None => errors.add("type", format!("\"{kind}\" is not a valid choice.")),
        },
        None if creating => errors.add("type", REQUIRED),
        None => {}
    }
    match &input.choices {
        // Every value of the field is looked up among its choices, and the
        // definition is read by every user write: a list is bounded before
        // any item of it is judged (DRF's `ListField(max_length=...)`).
        Some(choices) if choices.len() > CHOICES_MAX => errors.add(
            "choices",
            format!("Ensure this field has no more than {CHOICES_MAX} elements."),
        ),
        Some(choices) => {
            let mut clean = Vec::with_capacity(choices.len());
            // Each choice folded once: a repeat is found by its key.
            let mut keys = std::collections::HashSet::with_capacity(choices.len());
            for choice in choices {
                match rules::text(choice, NAME_MAX) {
                    Ok(c) if c.is_empty() => errors.add("choices", BLANK),
                    Ok(c) if !keys.insert(rules::fold(&c)) => {
                        errors.add("choices", format!("\"{c}\" is listed twice."))
                    }
                    Ok(c) => clean.push(c),
                    Err(m) => errors.add("choices", m),
                }
            }
            field.choices = clean;
        }
        None => {}
    }
    if let Some(required) = input.required {
        field.required = required;
    }
    if field.kind == FieldKind::Choice && field.choices.is_empty() && !errors.has("type") {
        errors.add("choices", "A choice field needs at least one choice.");
    }
    if field.kind != FieldKind::Choice && !field.choices.is_empty() {
        errors.add("choices", "Only choice fields have choices.");
    }
}

/// A value given for a custom field, before it is checked against its
/// definition.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum CustomInput {
    /// `null`: clears the value.
    Null,
    /// A string.
    Text(String),
    /// A number, as its decimal text (`2020`, `7.5`).
    Number(String),
    /// A boolean (never valid: no field type takes one).
    Bool(bool),
    /// A list or an object (never valid).
    Compound,
}

/// A stored custom value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum CustomValue {
    /// Text or a choice (in the definition's spelling).
    Text(String),
    /// A number as its canonical decimal text.
    Number(String),
    /// A date.
    Date(NaiveDate),
}

/// The longest number text taken: more digits than any `f64` keeps.
const NUMBER_TEXT_MAX: usize = 1_000;

/// `text` as a stored number: a JSON number (no `+`, no leading zero, no
/// bare `.`), finite, in the form the REST surface stores one (serde_json's
/// text of it), so that a number given through a binding is the same value
/// as the same number in a request body, and as short.
fn number(text: &str) -> Option<String> {
    let text = text.trim();
    if text.len() > NUMBER_TEXT_MAX {
        return None;
    }
    let n: serde_json::Number = serde_json::from_str(text).ok()?;
    n.as_f64().filter(|f| f.is_finite())?;
    Some(n.to_string())
}

/// Checks `input` against `field`: `Ok(None)` clears the value.
pub fn check(field: &CustomField, input: &CustomInput) -> Result<Option<CustomValue>, String> {
    let text = match input {
        CustomInput::Null => return Ok(None),
        CustomInput::Text(t) if t.trim().is_empty() => return Ok(None),
        CustomInput::Text(t) => Some(t.as_str()),
        _ => None,
    };
    match field.kind {
        FieldKind::Text => match text {
            Some(t) => rules::multiline_text(t, TEXT_MAX).map(|t| Some(CustomValue::Text(t))),
            None => Err("Not a valid string.".into()),
        },
        FieldKind::Number => match input {
            CustomInput::Number(n) => number(n)
                .map(|n| Some(CustomValue::Number(n)))
                .ok_or_else(|| "A valid number is required.".into()),
            _ => Err("A valid number is required.".into()),
        },
        FieldKind::Date => match text.map(|t| rules::parse_ymd(t.trim())) {
            Some(Some(date)) => Ok(Some(CustomValue::Date(date))),
            _ => Err("Date has wrong format. Use one of these formats instead: YYYY-MM-DD.".into()),
        },
        FieldKind::Choice => {
            // The value folded once, and not at all when it is too long to
            // be any choice's fold (choices are at most `NAME_MAX`).
            let key = text.and_then(|t| crate::text::fold_lookup(t.trim(), NAME_MAX));
            let found = key.and_then(|key| field.choices.iter().find(|c| rules::fold(c) == key));
            match (found, text) {
                (Some(choice), _) => Ok(Some(CustomValue::Text(choice.clone()))),
                (None, Some(t)) => Err(format!("\"{t}\" is not a valid choice.")),
                (None, None) => Err("Not a valid string.".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(kind: FieldKind, choices: &[&str]) -> CustomField {
        CustomField {
            id: 1,
            uuid: 0,
            name: "F".into(),
            kind,
            choices: choices.iter().map(|c| c.to_string()).collect(),
            required: false,
            created: 0,
            modified: 0,
        }
    }

    #[test]
    fn choices_are_bounded_and_each_once_ignoring_case() {
        let input = |choices: Vec<String>| CustomFieldInput {
            name: Some("State".into()),
            kind: Some("choice".into()),
            choices: Some(choices),
            required: None,
        };
        let mut field = def(FieldKind::Choice, &[]);
        let mut errors = FieldErrors::new();
        let twice = vec!["Tamil Nadu".into(), "Kerala".into(), " TAMIL NADU ".into()];
        apply(&mut field, &input(twice), true, &mut errors);
        assert_eq!(
            errors.messages("choices"),
            vec!["\"TAMIL NADU\" is listed twice."]
        );
        let many: Vec<String> = (0..=CHOICES_MAX).map(|i| format!("c{i}")).collect();
        let mut errors = FieldErrors::new();
        apply(
            &mut field,
            &input(many[..CHOICES_MAX].to_vec()),
            true,
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(field.choices.len(), CHOICES_MAX);
        // One more is one message, whatever the items hold.
        let mut over = many;
        over.extend(std::iter::repeat_n(String::new(), 5));
        let mut errors = FieldErrors::new();
        apply(&mut field, &input(over), false, &mut errors);
        assert_eq!(
            errors.messages("choices"),
            vec![format!(
                "Ensure this field has no more than {CHOICES_MAX} elements."
            )]
        );
        assert_eq!(field.choices.len(), CHOICES_MAX, "the old choices stay");
    }

    #[test]
    fn a_choice_is_found_by_its_fold_and_a_long_value_is_none() {
        let states = def(FieldKind::Choice, &["Tamil Nadu", "ﷺ"]);
        assert_eq!(
            check(&states, &CustomInput::Text("  tAMIL nADU ".into())),
            Ok(Some(CustomValue::Text("Tamil Nadu".into())))
        );
        // U+FDFA's NFKC form is 18 characters: its fold matches.
        let spelled = crate::text::fold("ﷺ");
        assert_eq!(
            check(&states, &CustomInput::Text(spelled)),
            Ok(Some(CustomValue::Text("ﷺ".into())))
        );
        let long = "ﷺ".repeat(NAME_MAX * crate::text::FOLD_REACH + 1);
        assert_eq!(
            check(&states, &CustomInput::Text(long.clone())),
            Err(format!("\"{long}\" is not a valid choice."))
        );
    }

    #[test]
    fn values_are_checked_against_their_type() {
        let text = def(FieldKind::Text, &[]);
        assert_eq!(
            check(&text, &CustomInput::Text(" Delhi University ".into())),
            Ok(Some(CustomValue::Text("Delhi University".into())))
        );
        assert!(
            check(&text, &CustomInput::Number("2020".into())).is_err(),
            "numbers are not coerced to text"
        );
        assert!(check(&text, &CustomInput::Bool(true)).is_err());

        let number = def(FieldKind::Number, &[]);
        assert_eq!(
            check(&number, &CustomInput::Number("2020".into())),
            Ok(Some(CustomValue::Number("2020".into())))
        );
        assert!(
            check(&number, &CustomInput::Text("2020".into())).is_err(),
            "strings are not coerced to numbers"
        );
        assert!(check(&number, &CustomInput::Compound).is_err());

        let date = def(FieldKind::Date, &[]);
        assert_eq!(
            check(&date, &CustomInput::Text("2020-02-29".into())),
            Ok(NaiveDate::from_ymd_opt(2020, 2, 29).map(CustomValue::Date))
        );
        assert!(check(&date, &CustomInput::Text("2021-02-29".into())).is_err());
        assert!(check(&date, &CustomInput::Text("29/02/2020".into())).is_err());

        let choice = def(FieldKind::Choice, &["Science", "Commerce"]);
        assert_eq!(
            check(&choice, &CustomInput::Text("science".into())),
            Ok(Some(CustomValue::Text("Science".into())))
        );
        assert!(
            check(&choice, &CustomInput::Text("Arts".into()))
                .unwrap_err()
                .contains("not a valid choice")
        );
    }

    /// A number given as text (the bindings' way) is held to what a JSON
    /// number is and stored in the form a request body's number is: the
    /// same value given either way is the same stored text, and as short.
    #[test]
    fn numbers_are_json_numbers_stored_as_the_rest_surface_stores_them() {
        let number = def(FieldKind::Number, &[]);
        let stored = |text: &str| match check(&number, &CustomInput::Number(text.into())) {
            Ok(Some(CustomValue::Number(n))) => Some(n),
            _ => None,
        };
        for (given, kept) in [
            ("2020", "2020"),
            (" -7 ", "-7"),
            ("7.50", "7.5"),
            ("1E3", "1000.0"),
            (&format!("0.{}1", "0".repeat(100)), "1e-101"),
            (&format!("0.{}1", "0".repeat(900)), "0.0"),
        ] {
            let from_body: serde_json::Number = serde_json::from_str(given.trim()).unwrap();
            assert_eq!(stored(given).as_deref(), Some(kept), "{given}");
            assert_eq!(from_body.to_string(), kept, "as a body's number: {given}");
        }
        for refused in [
            "+5", "5.", "007", ".5", "0x10", "1e400", "NaN", "inf", "", "1 2",
        ] {
            assert_eq!(stored(refused), None, "{refused}");
        }
        assert_eq!(stored(&format!("0.{}1", "0".repeat(1_000))), None);
    }

    #[test]
    fn null_and_blank_clear() {
        let number = def(FieldKind::Number, &[]);
        assert_eq!(check(&number, &CustomInput::Null), Ok(None));
        assert_eq!(check(&number, &CustomInput::Text("  ".into())), Ok(None));
    }

    #[test]
    fn definitions_need_a_name_a_type_and_choices_for_choice() {
        let mut field = def(FieldKind::Text, &[]);
        let mut errors = FieldErrors::new();
        apply(&mut field, &CustomFieldInput::default(), true, &mut errors);
        assert!(errors.has("name") && errors.has("type"));

        let mut errors = FieldErrors::new();
        let input = CustomFieldInput {
            name: Some("Stream".into()),
            kind: Some("choice".into()),
            choices: Some(vec![]),
            required: None,
        };
        apply(&mut field, &input, true, &mut errors);
        assert!(errors.has("choices"));

        let mut errors = FieldErrors::new();
        let input = CustomFieldInput {
            name: Some("Stream".into()),
            kind: Some("colour".into()),
            choices: None,
            required: None,
        };
        apply(&mut field, &input, true, &mut errors);
        assert_eq!(
            errors.messages("type"),
            vec!["\"colour\" is not a valid choice."]
        );
    }

    #[test]
    fn names_match_ignoring_case_and_surrounding_spaces() {
        assert_eq!(name_key("  Graduation Year "), name_key("graduation year"));
    }
}
