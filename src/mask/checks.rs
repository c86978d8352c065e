//! The checks a regex cannot make: Luhn sums, IBAN mod-97, phone digit counts, dummy values (`changeme`, `<password>`).

/// Issuer prefixes of the card networks (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay).
fn known_issuer(digits: &[u8]) -> bool {
    let prefix = |n: usize| -> u32 {
        digits[..n]
            .iter()
            .fold(0, |acc, d| acc * 10 + u32::from(*d))
    };
    match digits[0] {
        4 => true,
        5 => (51..=55).contains(&prefix(2)),
        2 => (2221..=2720).contains(&prefix(4)),
        3 => matches!(prefix(2), 34 | 37 | 35 | 36 | 38 | 30),
        6 => {
            prefix(4) == 6011
                || prefix(2) == 65
                || prefix(2) == 62
                || (644..=649).contains(&prefix(3))
        }
        _ => false,
    }
}

/// A card number: 13 to 19 digits (spaces and dashes ignored), a known issuer and a valid Luhn sum.
pub(super) fn card(text: &str) -> bool {
    let digits: Vec<u8> = text
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    if !(13..=19).contains(&digits.len()) || !known_issuer(&digits) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// An IBAN: 15 to 34 characters (spaces ignored) whose rearranged number is 1 mod 97.
pub(super) fn iban(text: &str) -> bool {
    let compact: Vec<u8> = text.bytes().filter(|b| *b != b' ').collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut remainder: u32 = 0;
    for &b in tail.iter().chain(head) {
        let value = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// A phone number has 8 to 15 digits (E.164 allows at most 15).
pub(super) fn phone(text: &str) -> bool {
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    (8..=15).contains(&digits)
}

/// Words that stand for "no value here" rather than a secret.
const DUMMY_VALUES: &[&str] = &[
    "null",
    "none",
    "nil",
    "true",
    "false",
    "undefined",
    "required",
    "optional",
];

/// Type names that follow `password:` in code (`password: String`, `password: str = ...`).
const TYPES: &[&str] = &[
    "string",
    "str",
    "bool",
    "int",
    "bytes",
    "secretstring",
    "secretstr",
    "password",
    "any",
];

/// The value of `password=...`: a real value, not a dummy value, a template or a variable read
/// (`$DB_PASSWORD`, `${X}`, `{{ x }}`, `<your-key>`, `config.api_key`). An unquoted value must
/// also not be code: a type (`&str`, `Option<String>`), a call (`getpass()`) or an index.
pub(super) fn assigned(value: &str, unquoted: bool) -> bool {
    let value = value.trim();
    if value.chars().count() < 3 || value.starts_with("[masked:") {
        return false;
    }
    if value.starts_with("${") || value.starts_with("{{") || value.starts_with('<') {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    if DUMMY_VALUES.contains(&lower.as_str()) {
        return false;
    }
    !unquoted || !looks_like_code(value, &lower)
}

fn looks_like_code(value: &str, lower: &str) -> bool {
    value.starts_with(['$', '%', '&', '*'])
        || value.contains(['(', ')', '<', '>', '[', ']', '{', '}'])
        || TYPES.contains(&lower)
        || is_attribute_path(value)
}

/// `self.api_key`, `settings.DB_PASSWORD`, `os.environ`: identifiers joined by dots.
fn is_attribute_path(value: &str) -> bool {
    let mut parts = value.split('.');
    let identifier = |s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    value.contains('.') && parts.all(identifier)
}
