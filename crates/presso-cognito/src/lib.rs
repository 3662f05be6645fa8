//! A local Amazon Cognito identity provider: the subset of the user-pools API that presso's
//! apps, tools and tests use, with AWS's request and response shapes and error types.
//!
//! The host (presso-local) routes `AWSCognitoIdentityProviderService.<Op>` JSON 1.1 requests
//! to [`IdentityProvider::handle`] (or [`IdentityProvider::call`]), serves [`IdentityProvider::pool_jwks`] at
//! `/<poolId>/.well-known/jwks.json` and the dev outbox at `/_presso/outbox`, and checks bearer
//! tokens with [`IdentityProvider::verify`]. Template loading uses the `ensure_*` methods.
//!
//! What it covers: passwordless email sign-up and sign-in (`SignUp` → `ConfirmSignUp` →
//! `InitiateAuth(USER_AUTH)` with the confirmation session, and `USER_AUTH` +
//! `PREFERRED_CHALLENGE=EMAIL_OTP` → `RespondToAuthChallenge`), passwords for robots and tests
//! (`AdminCreateUser`, `AdminSetUserPassword`, `ADMIN_USER_PASSWORD_AUTH`,
//! `USER_PASSWORD_AUTH`), refresh tokens, groups, and the pool/client/user management calls
//! listed in [`OPERATIONS`].
//!
//! Invariants:
//! - It never sends mail and never opens a socket: codes go to a [`CodeSink`] and the durable
//!   outbox. It has no HTTP server; the host owns transport.
//! - It never reads the wall clock for expiry: codes, sessions, lockouts and tokens expire on the
//!   injected [`Clock`].
//! - Token issuers do not depend on the host's port: `https://cognito-idp.<region>.localhost/<poolId>`.
//! - One signing key per store, generated once and kept with the data (`cognito.sqlite`).
//!
//! Modules: `service` (the facade), `auth` (sign-up and sign-in), `admin` (pools, clients,
//! groups, users), `tokens` (claims and verification), `keys` (RS256 and JWKS), `store`
//! (SQLite), `outbox`, `clock`, `ids`, `error`.

mod admin;
mod auth;
pub mod clock;
mod cx;
pub mod error;
mod ids;
pub mod keys;
pub mod outbox;
mod service;
mod store;
mod tokens;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{CognitoError, ErrorType, VerifyError};
pub use ids::{derive_client_id, derive_pool_id};
pub use keys::{KeyError, SigningKey};
pub use outbox::{CodeMessage, CodePurpose, CodeSink, LogSink};
pub use service::{
    CONTENT_TYPE, ClientSpec, IdentityProvider, OPERATIONS, OpenError, Options, PoolSpec, Storage,
    TARGET_PREFIX, UserSpec,
};
pub use tokens::{Claims, TokenUse, local_issuer};
