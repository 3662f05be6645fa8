//! Who is calling: a [`Principal`] built from verified JWT claims.
//!
//! Claims reach the functions in two shapes: API Gateway's JWT authorizer flattens every claim
//! to a string (`"cognito:groups": "[admin barista]"`), while a raw token (the MQTT authorizer,
//! presso's own checks) carries a JSON array. [`parse_groups`] reads both, and is the only place
//! that does. The user is always the token's `sub`; a request body never names the user.

use crate::ids::{DisplayName, IdError, UserId};
use serde_json::{Map, Value};

/// The Cognito group whose members run the bar (baristas, displays, operators).
pub const ADMIN_GROUP: &str = "admin";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No token: public data only.
    Anonymous,
    User(Caller),
}

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    /// `given_name`, when the token carries it (ID tokens do, access tokens do not).
    pub display_name: Option<DisplayName>,
    pub groups: Vec<String>,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.groups.iter().any(|g| g == ADMIN_GROUP)
    }
}

impl Principal {
    pub fn caller(&self) -> Option<&Caller> {
        match self {
            Self::Anonymous => None,
            Self::User(c) => Some(c),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.caller().is_some_and(Caller::is_admin)
    }

    /// Builds the principal from claims as API Gateway's JWT authorizer passes them: every
    /// value a string (`requestContext.authorizer.jwt.claims`).
    pub fn from_claim_strings<'a>(
        claims: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, IdentityError> {
        let map: Map<String, Value> = claims
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
        Self::from_claims(&map)
    }

    /// Builds the principal from verified claims. No claims at all means anonymous; claims
    /// without a usable `sub` are an error (a verified token always has one).
    pub fn from_claims(claims: &Map<String, Value>) -> Result<Self, IdentityError> {
        if claims.is_empty() {
            return Ok(Self::Anonymous);
        }
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or(IdentityError::MissingSub)?;
        let user_id = UserId::parse(sub).map_err(IdentityError::BadSub)?;
        let display_name = claims
            .get("given_name")
            .and_then(Value::as_str)
            .and_then(DisplayName::from_claim);
        let groups = claims
            .get("cognito:groups")
            .map(parse_groups)
            .unwrap_or_default();
        Ok(Self::User(Caller {
            user_id,
            display_name,
            groups,
        }))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("the token has no sub claim")]
    MissingSub,
    #[error("the token's sub is not a valid user id: {0}")]
    BadSub(IdError),
}

/// Reads `cognito:groups` in every shape it arrives in: a JSON array (raw token), API Gateway's
/// flattened `"[admin barista]"`, a JSON array inside a string (`"[\"admin\"]"`), or a plain
/// comma- or space-separated string.
pub fn parse_groups(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Value::String(s) => {
            let s = s.trim();
            if s.starts_with('[')
                && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(s)
            {
                return parse_groups(&Value::Array(items));
            }
            s.trim_start_matches('[')
                .trim_end_matches(']')
                .split(|c: char| c == ',' || c.is_whitespace())
                .map(|g| g.trim_matches('"'))
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn groups_are_read_in_both_the_flattened_and_the_array_form() {
        let cases = [
            (json!("[admin barista]"), vec!["admin", "barista"]),
            (json!(["admin", "barista"]), vec!["admin", "barista"]),
            (json!("[\"admin\",\"barista\"]"), vec!["admin", "barista"]),
            (json!("admin,barista"), vec!["admin", "barista"]),
            (json!("[admin]"), vec!["admin"]),
            (json!("[]"), vec![]),
            (json!(""), vec![]),
            (json!(42), vec![]),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_groups(&value), expected, "{value}");
        }
    }

    #[test]
    fn a_group_merely_containing_admin_is_not_admin() {
        let claims = json!({"sub": "u1", "cognito:groups": "[administrators notadmin]"});
        let p = Principal::from_claims(claims.as_object().unwrap()).unwrap();
        assert!(!p.is_admin());
    }

    #[test]
    fn the_principal_takes_user_and_display_name_from_the_claims() {
        let claims = json!({"sub": "1b2c-3d", "given_name": " Ana ", "cognito:groups": ["admin"]});
        let p = Principal::from_claims(claims.as_object().unwrap()).unwrap();
        let c = p.caller().unwrap();
        assert_eq!(c.user_id.as_str(), "1b2c-3d");
        assert_eq!(c.display_name.as_ref().map(|d| d.as_str()), Some("Ana"));
        assert!(p.is_admin());
    }

    #[test]
    fn api_gateway_string_claims_give_the_same_principal() {
        let p = Principal::from_claim_strings([
            ("sub", "u-1"),
            ("cognito:groups", "[admin]"),
            ("given_name", "Bo"),
        ])
        .unwrap();
        assert!(p.is_admin());
        assert_eq!(p.caller().unwrap().user_id.as_str(), "u-1");
    }

    #[test]
    fn no_claims_is_anonymous_and_claims_without_sub_are_refused() {
        assert_eq!(
            Principal::from_claims(&Map::new()),
            Ok(Principal::Anonymous)
        );
        let claims = json!({"email": "a@b.c"});
        assert_eq!(
            Principal::from_claims(claims.as_object().unwrap()),
            Err(IdentityError::MissingSub)
        );
    }
}
