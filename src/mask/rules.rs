//! The secret and PII shapes the masker knows: one pattern per kind, in priority order.

/// Which mode a rule belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Secret,
    Pii,
}

/// A check run on a match before it counts, for shapes a regex cannot decide alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    None,
    /// The value of an assignment must not be a dummy value (`changeme`), a type or a reference to another
    /// variable. The pattern's first two groups are quoted values, the third an unquoted one.
    Assigned,
    /// Card numbers: 13 to 19 digits, a known issuer prefix and a valid Luhn sum.
    Luhn,
    /// IBANs: a valid mod-97 checksum.
    Iban,
    /// Phone numbers: 7 to 15 digits.
    Phone,
}

/// One kind of sensitive text. When the pattern has capture groups, only the first group that
/// took part in the match is replaced (the value of `password=...`), otherwise the whole match.
#[derive(Debug)]
pub(super) struct Rule {
    pub kind: &'static str,
    pub class: Class,
    pub check: Check,
    pub pattern: &'static str,
}

// The private key block is matched line by line (each line's separator, then base64 or an
// armor header), never with an open-ended `.*?` up to the END line: an open-ended search for
// a missing END line would rescan the rest of the text for every BEGIN line.

const fn rule(kind: &'static str, class: Class, check: Check, pattern: &'static str) -> Rule {
    Rule {
        kind,
        class,
        check,
        pattern,
    }
}

/// Specific shapes come first: where two rules replace the same span, the earlier one names it.
pub(super) const RULES: &[Rule] = &[
    rule(
        "private_key",
        Class::Secret,
        Check::None,
        concat!(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
            r"(?:(?:\r?\n|\\r\\n|\\n| )[ \t]*(?:(?:Proc-Type|DEK-Info|Comment|Version|Hash): [^\r\n\\]*|[A-Za-z0-9+/=]+))*",
            r"(?:(?:\r?\n|\\r\\n|\\n| )[ \t]*-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?",
        ),
    ),
    rule(
        "aws_key",
        Class::Secret,
        Check::None,
        r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}(?-u:\b)",
    ),
    rule(
        "aws_secret",
        Class::Secret,
        Check::None,
        r#"(?i)aws_?secret_?(?:access_?)?key["']?[ \t]*(?::=|=>|[:=])[ \t]*["']?([A-Za-z0-9/+]{40})(?-u:\b)"#,
    ),
    rule(
        "github_token",
        Class::Secret,
        Check::None,
        r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})(?-u:\b)",
    ),
    rule(
        "openrouter_key",
        Class::Secret,
        Check::None,
        r"(?-u:\b)sk-or-(?:v[0-9]+-)?[A-Za-z0-9_\-]{16,}",
    ),
    rule(
        "anthropic_key",
        Class::Secret,
        Check::None,
        r"(?-u:\b)sk-ant-[A-Za-z0-9_\-]{20,}",
    ),
    rule(
        "openai_key",
        Class::Secret,
        Check::None,
        r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{32,}",
    ),
    rule(
        "stripe_key",
        Class::Secret,
        Check::None,
        r"(?-u:\b)(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",
    ),
    rule(
        "slack_token",
        Class::Secret,
        Check::None,
        r"(?-u:\b)(?:xox[abposr]-[A-Za-z0-9\-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/]{20,})",
    ),
    rule(
        "google_api_key",
        Class::Secret,
        Check::None,
        r"(?-u:\b)AIza[A-Za-z0-9_\-]{35}",
    ),
    rule(
        "jwt",
        Class::Secret,
        Check::None,
        r"(?-u:\b)eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
    ),
    rule(
        "bearer_token",
        Class::Secret,
        Check::None,
        r"(?i)(?-u:\b)bearer[ \t]+([A-Za-z0-9._~+/\-]{20,}=*)",
    ),
    rule(
        "password",
        Class::Secret,
        Check::None,
        r"(?i)(?-u:\b)[a-z][a-z0-9+.\-]*://[^\s:/@]+:([^\s:/@]+)@",
    ),
    rule(
        "password",
        Class::Secret,
        Check::Assigned,
        r#"(?i)[A-Za-z0-9_.\-]*(?:password|passwd|passphrase|pwd)["']?(?:[ \t]*:[ \t]*&?[A-Za-z_][A-Za-z0-9_.:<>\[\]]*)?[ \t]*(?::=|=>|[:=])[ \t]*(?:"([^"\r\n]+)"|'([^'\r\n]+)'|([^\s"',;]+))"#,
    ),
    rule(
        "secret",
        Class::Secret,
        Check::Assigned,
        r#"(?i)[A-Za-z0-9_.\-]*(?:secret|api_?key|apikey|access_?key|secret_?key|private_?key|auth_?token|access_?token|refresh_?token|client_?secret|token)["']?(?:[ \t]*:[ \t]*&?[A-Za-z_][A-Za-z0-9_.:<>\[\]]*)?[ \t]*(?::=|=>|[:=])[ \t]*(?:"([^"\r\n]+)"|'([^'\r\n]+)'|([^\s"',;]+))"#,
    ),
    rule(
        "email",
        Class::Pii,
        Check::None,
        r"(?-u:\b)[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}(?-u:\b)",
    ),
    rule(
        "card",
        Class::Pii,
        Check::Luhn,
        r"(?-u:\b)[0-9](?:[ \-]?[0-9]){12,18}(?-u:\b)",
    ),
    rule(
        "iban",
        Class::Pii,
        Check::Iban,
        r"(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?-u:\b)",
    ),
    rule(
        "phone",
        Class::Pii,
        Check::Phone,
        r"(?:\+[1-9][0-9]{0,2}(?:[ .\-]?(?:\([0-9]{1,4}\)|[0-9]{2,5})){2,5}|(?:\([0-9]{3}\) ?|(?-u:\b)[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4})(?-u:\b)",
    ),
];
