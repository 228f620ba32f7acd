//! The second factor of local accounts: time-based one-time codes
//! (RFC 6238, through `totp-rs`: HMAC-SHA-1, six digits, 30-second steps,
//! what every authenticator app reads from an `otpauth://` URI) and
//! single-use recovery codes, and who must have one.
//!
//! Pure: the caller brings the secret's bytes, the time and the last step
//! it accepted; the store keeps the step so that a code is never taken twice
//! (RFC 6238 §5.2).

use totp_rs::{Builder, Totp};

use crate::access::{Role, User};
use crate::error::{Error, Result};

/// Seconds per code (what authenticator apps assume).
pub const STEP_SECONDS: u64 = 30;
/// Steps either side of now that are still accepted: a phone whose clock
/// is up to 30 s off, or a code typed as it changed.
pub const SKEW_STEPS: u16 = 1;
/// Bytes of a new secret: 160 bits, RFC 4226's recommendation.
pub const SECRET_BYTES: usize = 20;
/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;
/// The name apps show above the code.
pub const ISSUER: &str = "Trygg";

/// Who must have a second factor (`--require-second-factor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Requirement {
    /// Admins, and everyone with the publish permission (the default):
    /// the accounts that change other accounts or what the public sees.
    #[default]
    AdminsAndPublishers,
    All,
    Off,
}

impl Requirement {
    pub fn parse(s: &str, field: &str) -> Result<Self> {
        match s {
            "admins-and-publishers" => Ok(Self::AdminsAndPublishers),
            "all" => Ok(Self::All),
            "off" => Ok(Self::Off),
            other => Err(Error::invalid(
                field,
                format!("unknown value `{other}`; expected admins-and-publishers, all or off"),
            )),
        }
    }

    /// Whether this user must have a second factor before doing anything
    /// but enrolling one.
    pub fn requires(self, user: &User) -> bool {
        match self {
            Self::AdminsAndPublishers => user.role == Role::Admin || user.can_publish,
            Self::All => true,
            Self::Off => false,
        }
    }
}

/// A user's code generator. `account` is the label an app shows (the
/// username; a `:` would end it early in the URI, so it is replaced).
pub fn generator(secret: &[u8], account: &str) -> Result<Totp> {
    Builder::new()
        .with_digits(6)
        .with_step_duration(STEP_SECONDS)
        .with_skew(SKEW_STEPS)
        .with_secret(secret.to_vec())
        .with_issuer(Some(ISSUER))
        .with_account_name(account.replace(':', "_"))
        .build()
        .map_err(|e| Error::invalid("secret", e))
}

/// The `otpauth://totp/…` URI an authenticator app reads (as a QR code or
/// pasted): it holds the secret, so it is shown to its owner only.
pub fn otpauth_uri(secret: &[u8], account: &str) -> Result<String> {
    generator(secret, account)?
        .to_url()
        .map_err(|e| Error::invalid("secret", e))
}

/// The secret as people type it into an app by hand: base32, in groups of four.
pub fn secret_for_typing(secret: &[u8]) -> String {
    let plain = totp_rs::Secret::from(secret.to_vec()).to_base32();
    plain
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A secret from its base32 text (how the store keeps it).
pub fn secret_from_base32(text: &str) -> Result<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    totp_rs::Secret::try_from_base32(compact.to_uppercase())
        .map(|s| s.as_ref().to_vec())
        .map_err(|e| Error::invalid("secret", format!("{e:?}")))
}

pub fn secret_to_base32(secret: &[u8]) -> String {
    totp_rs::Secret::from(secret.to_vec()).to_base32()
}

/// The step (time / 30 s) a code matches, within ±[`SKEW_STEPS`] of
/// `unix_seconds`, if it is later than `last_used` (a code, once accepted,
/// is never accepted again — nor any older one). Spaces in the code are
/// ignored (apps show "123 456").
pub fn accept(
    secret: &[u8],
    code: &str,
    unix_seconds: u64,
    last_used: Option<u64>,
) -> Result<Option<u64>> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = generator(secret, "")?;
    let origin = unix_seconds / STEP_SECONDS;
    let window = origin.saturating_sub(u64::from(SKEW_STEPS))..=origin + u64::from(SKEW_STEPS);
    // Every step of the window is tried (not the first match only) so that
    // a replay of an older step's code cannot hide behind a newer one.
    Ok(window
        .filter(|step| last_used.is_none_or(|l| *step > l))
        .find(|step| totp.generate(step * STEP_SECONDS).to_string() == digits))
}

/// The code for a moment (tests, and the CLI's check of a new factor).
pub fn code_at(secret: &[u8], unix_seconds: u64) -> Result<String> {
    Ok(generator(secret, "")?.generate(unix_seconds).to_string())
}

/// Whether text typed at the code prompt is a one-time code (six digits)
/// rather than a recovery code.
pub fn looks_like_code(text: &str) -> bool {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A recovery code as typed, in the one form its hash is made of: lower
/// case, without spaces or dashes (people copy "ABCD-EFGH" as they like).
pub fn normalise_recovery_code(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Letters and digits of recovery codes: no 0/o, 1/l/i to misread.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A recovery code from random bytes (the caller draws them): ten
/// characters of a 31-letter alphabet (~49 bits), shown as `xxxxx-xxxxx`.
pub fn recovery_code(random: &[u8; 10]) -> String {
    let chars: String = random
        .iter()
        .map(|b| char::from(RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()]))
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use uuid::Uuid;

    /// RFC 6238 Appendix B's SHA-1 key.
    const RFC_KEY: &[u8] = b"12345678901234567890";

    fn user(role: Role, can_publish: bool) -> User {
        User {
            id: Uuid::now_v7(),
            username: "anna".into(),
            display_name: "Anna".into(),
            role,
            can_publish,
            organisation_id: Uuid::now_v7(),
            organisation: "Linköpings kommun".into(),
            disabled: false,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // Appendix B, SHA-1, truncated to six digits.
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(RFC_KEY, t).unwrap(), code, "at {t}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_not_two() {
        let t = 1_234_567_890; // step 41_152_263, 0 s into… whatever: use steps.
        let step = t / STEP_SECONDS;
        let at_step = |s: u64| code_at(RFC_KEY, s * STEP_SECONDS).unwrap();
        // The first and last second of the current step.
        let first = step * STEP_SECONDS;
        let last = first + STEP_SECONDS - 1;
        for now in [first, last] {
            assert_eq!(
                accept(RFC_KEY, &at_step(step), now, None).unwrap(),
                Some(step)
            );
            assert_eq!(
                accept(RFC_KEY, &at_step(step - 1), now, None).unwrap(),
                Some(step - 1)
            );
            assert_eq!(
                accept(RFC_KEY, &at_step(step + 1), now, None).unwrap(),
                Some(step + 1)
            );
            assert_eq!(
                accept(RFC_KEY, &at_step(step - 2), now, None).unwrap(),
                None,
                "two steps late"
            );
            assert_eq!(
                accept(RFC_KEY, &at_step(step + 2), now, None).unwrap(),
                None,
                "two steps early"
            );
        }
        // Typed with the space apps show.
        let spaced = format!("{} {}", &at_step(step)[..3], &at_step(step)[3..]);
        assert_eq!(accept(RFC_KEY, &spaced, first, None).unwrap(), Some(step));
    }

    #[test]
    fn a_used_code_and_every_older_one_are_refused() {
        let now = 2_000_000_000;
        let step = now / STEP_SECONDS;
        let code = |s: u64| code_at(RFC_KEY, s * STEP_SECONDS).unwrap();
        assert_eq!(
            accept(RFC_KEY, &code(step), now, Some(step)).unwrap(),
            None,
            "replayed"
        );
        assert_eq!(
            accept(RFC_KEY, &code(step - 1), now, Some(step)).unwrap(),
            None,
            "older than the last used"
        );
        assert_eq!(
            accept(RFC_KEY, &code(step + 1), now, Some(step)).unwrap(),
            Some(step + 1),
            "the next one is fine"
        );
        assert_eq!(
            accept(RFC_KEY, &code(step), now, Some(step - 1)).unwrap(),
            Some(step)
        );
    }

    #[test]
    fn text_that_is_not_six_digits_is_no_code() {
        for typed in ["", "12345", "1234567", "12a456", "١٢٣٤٥٦"] {
            assert_eq!(accept(RFC_KEY, typed, 59, None).unwrap(), None, "{typed:?}");
        }
        assert!(looks_like_code("123 456") && !looks_like_code("abcde-fghjk"));
    }

    #[test]
    fn the_uri_names_the_issuer_and_the_account_and_holds_the_secret() {
        let uri = otpauth_uri(RFC_KEY, "anna").unwrap();
        assert!(uri.starts_with("otpauth://totp/Trygg:anna?"), "{uri}");
        assert!(
            uri.contains(&format!("secret={}", secret_to_base32(RFC_KEY))),
            "{uri}"
        );
        assert!(uri.contains("issuer=Trygg"), "{uri}");
        assert_eq!(
            secret_from_base32(&secret_for_typing(RFC_KEY)).unwrap(),
            RFC_KEY
        );
    }

    #[test]
    fn recovery_codes_read_the_same_however_they_are_typed() {
        let code = recovery_code(&[0, 1, 2, 3, 4, 250, 251, 252, 253, 254]);
        assert_eq!(code.len(), 11);
        assert_eq!(
            normalise_recovery_code(&code.to_uppercase()),
            normalise_recovery_code(&code)
        );
        assert_eq!(normalise_recovery_code(" abcde fghjk "), "abcdefghjk");
    }

    #[test]
    fn the_default_requires_admins_and_publishers_only() {
        let r = Requirement::default();
        assert!(r.requires(&user(Role::Admin, false)));
        assert!(r.requires(&user(Role::Planner, true)));
        assert!(!r.requires(&user(Role::Planner, false)));
        assert!(!r.requires(&user(Role::Field, false)));
        assert!(Requirement::All.requires(&user(Role::Field, false)));
        assert!(!Requirement::Off.requires(&user(Role::Admin, true)));
        assert!(Requirement::parse("sometimes", "require_second_factor").is_err());
    }
}
