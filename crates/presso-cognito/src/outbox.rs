//! Where codes go instead of email.
//!
//! Every confirmation or sign-in code is handed to a [`CodeSink`] (the host logs it) and kept in
//! the durable dev outbox, which presso serves at `/_presso/outbox`. Nothing here sends mail.

use serde::Serialize;

/// Why a code was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CodePurpose {
    /// `SignUp` / `ResendConfirmationCode`: confirms the account.
    SignUp,
    /// `InitiateAuth(USER_AUTH)` with the `EMAIL_OTP` challenge: signs in.
    EmailOtp,
}

impl CodePurpose {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::SignUp => "SIGN_UP",
            Self::EmailOtp => "EMAIL_OTP",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        if s == "EMAIL_OTP" {
            Self::EmailOtp
        } else {
            Self::SignUp
        }
    }
}

/// One code "sent" to an address. Serialises as `{to, code, sentAt, purpose, userPoolId}` with
/// `sentAt` in RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeMessage {
    pub to: String,
    pub code: String,
    #[serde(serialize_with = "rfc3339")]
    pub sent_at: i64,
    pub purpose: CodePurpose,
    pub user_pool_id: String,
}

fn rfc3339<S: serde::Serializer>(millis: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_rfc3339(*millis))
}

pub(crate) fn format_rfc3339(millis: i64) -> String {
    let nanos = i128::from(millis) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| millis.to_string())
}

/// Receives every code as it is issued (after it is stored). Must not block for long.
pub trait CodeSink: Send + Sync {
    fn deliver(&self, message: &CodeMessage);
}

/// Logs each code at `info` level, so a developer signing in can read it from the console.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSink;

impl CodeSink for LogSink {
    fn deliver(&self, message: &CodeMessage) {
        tracing::info!(
            to = %message.to,
            code = %message.code,
            purpose = message.purpose.as_str(),
            user_pool_id = %message.user_pool_id,
            "cognito code issued"
        );
    }
}

impl<F> CodeSink for F
where
    F: Fn(&CodeMessage) + Send + Sync,
{
    fn deliver(&self, message: &CodeMessage) {
        self(message)
    }
}
