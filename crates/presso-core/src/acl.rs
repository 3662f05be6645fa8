//! The MQTT access-control list: one table, enforced by presso's broker and by the IoT Core
//! custom authorizer alike.
//!
//! | topic                               | anonymous | customer      | admin         |
//! |-------------------------------------|-----------|---------------|---------------|
//! | `serverlesspresso-config-<eventId>` | subscribe | subscribe     | subscribe     |
//! | `serverlesspresso-user-<sub>`       | –         | own `sub` only| own `sub` only|
//! | `serverlesspresso-admin-<eventId>`  | –         | –             | subscribe     |
//!
//! Clients never publish. Only exact topic names are granted: a filter with `+` or `#`, a `$`
//! topic and a shared subscription (`$share/...`) are refused, whoever asks.

use crate::identity::Principal;
use crate::topics::{ADMIN_PREFIX, CONFIG_PREFIX, Topic, USER_PREFIX};
use serde_json::{Value, json};

/// Who may subscribe to a topic family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    No,
    /// Only the topic named by the caller's own `sub`.
    Own,
    /// Any topic of the family.
    Any,
}

/// One row of the ACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AclRow {
    /// The topic family, by prefix.
    pub prefix: &'static str,
    pub anonymous: Access,
    pub customer: Access,
    pub admin: Access,
}

/// The ACL. [`markdown_table`] renders it for ARCHITECTURE.md, so a tidy test can check the
/// document against the code.
pub const ACL: [AclRow; 3] = [
    AclRow {
        prefix: CONFIG_PREFIX,
        anonymous: Access::Any,
        customer: Access::Any,
        admin: Access::Any,
    },
    AclRow {
        prefix: USER_PREFIX,
        anonymous: Access::No,
        customer: Access::Own,
        admin: Access::Own,
    },
    AclRow {
        prefix: ADMIN_PREFIX,
        anonymous: Access::No,
        customer: Access::No,
        admin: Access::Any,
    },
];

/// The MQTT client id prefix the IoT policy allows to connect.
pub const CLIENT_ID_PREFIX: &str = "serverlesspresso-";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("empty topic filter")]
    Empty,
    #[error("wildcard subscriptions are not allowed")]
    Wildcard,
    #[error("shared subscriptions are not allowed")]
    SharedSubscription,
    #[error("system topics are not allowed")]
    SystemTopic,
    #[error("no such topic")]
    UnknownTopic,
    #[error("sign in to subscribe to this topic")]
    SignInRequired,
    #[error("this topic belongs to another user")]
    NotYours,
    #[error("this topic is for the admin group")]
    AdminOnly,
    #[error("clients never publish")]
    PublishNotAllowed,
}

fn row_for(topic: &Topic) -> &'static AclRow {
    let i = match topic {
        Topic::Config(_) => 0,
        Topic::User(_) => 1,
        Topic::Admin(_) => 2,
    };
    &ACL[i]
}

/// The ACL as a Markdown table.
pub fn markdown_table() -> String {
    let cell = |a: Access| match a {
        Access::No => "–",
        Access::Own => "own `sub` only",
        Access::Any => "subscribe",
    };
    let mut out = String::from("| topic | anonymous | customer | admin |\n|---|---|---|---|\n");
    for row in &ACL {
        let what = if row.prefix == USER_PREFIX {
            "<sub>"
        } else {
            "<eventId>"
        };
        out.push_str(&format!(
            "| `{}{}` | {} | {} | {} |\n",
            row.prefix,
            what,
            cell(row.anonymous),
            cell(row.customer),
            cell(row.admin)
        ));
    }
    out.push_str(
        "\nClients never publish; wildcard (`+`, `#`), `$` and shared subscriptions are refused.\n",
    );
    out
}

/// Whether `principal` may subscribe to `filter`; on success, the topic it names.
pub fn may_subscribe(principal: &Principal, filter: &str) -> Result<Topic, Denied> {
    if filter.is_empty() {
        return Err(Denied::Empty);
    }
    if filter.starts_with("$share/") || filter.starts_with("$queue/") {
        return Err(Denied::SharedSubscription);
    }
    if filter.starts_with('$') {
        return Err(Denied::SystemTopic);
    }
    if filter.contains(['+', '#']) {
        return Err(Denied::Wildcard);
    }
    let topic = Topic::parse(filter).ok_or(Denied::UnknownTopic)?;
    let row = row_for(&topic);
    let access = match principal {
        Principal::Anonymous => row.anonymous,
        Principal::User(c) if c.is_admin() => row.admin,
        Principal::User(_) => row.customer,
    };
    match access {
        Access::Any => Ok(topic),
        Access::Own => match (&topic, principal) {
            (Topic::User(sub), Principal::User(c)) if *sub == c.user_id => Ok(topic),
            (_, Principal::Anonymous) => Err(Denied::SignInRequired),
            _ => Err(Denied::NotYours),
        },
        Access::No => match principal {
            Principal::Anonymous => Err(Denied::SignInRequired),
            _ => Err(Denied::AdminOnly),
        },
    }
}

/// Clients never publish: every topic is refused.
pub fn may_publish(_principal: &Principal, _topic: &str) -> Result<(), Denied> {
    Err(Denied::PublishNotAllowed)
}

/// The topic names (with `*` standing for any event id) a principal may receive from, as the
/// IoT policy lists them.
pub fn granted_topic_patterns(principal: &Principal) -> Vec<String> {
    let mut out = Vec::new();
    for row in &ACL {
        let access = match principal {
            Principal::Anonymous => row.anonymous,
            Principal::User(c) if c.is_admin() => row.admin,
            Principal::User(_) => row.customer,
        };
        match (access, principal) {
            (Access::Any, _) => out.push(format!("{}*", row.prefix)),
            (Access::Own, Principal::User(c)) => out.push(format!("{}{}", row.prefix, c.user_id)),
            _ => {}
        }
    }
    out
}

/// The IoT Core policy document the custom authorizer returns for `principal`.
/// `arn_prefix` is `arn:aws:iot:<region>:<account>`.
///
/// IoT policies treat `+` and `#` in a resource as literal characters, so an `Allow` on
/// `topicfilter/serverlesspresso-config-*` alone would also admit the filter
/// `serverlesspresso-config-#`; explicit `Deny` statements close that, and `$` topics (shared
/// subscriptions included), and every publish.
pub fn iot_policy_document(principal: &Principal, arn_prefix: &str) -> Value {
    let patterns = granted_topic_patterns(principal);
    let filters: Vec<String> = patterns
        .iter()
        .map(|p| format!("{arn_prefix}:topicfilter/{p}"))
        .collect();
    let topics: Vec<String> = patterns
        .iter()
        .map(|p| format!("{arn_prefix}:topic/{p}"))
        .collect();
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iot:Connect",
                "Resource": format!("{arn_prefix}:client/{CLIENT_ID_PREFIX}*")
            },
            { "Effect": "Allow", "Action": "iot:Subscribe", "Resource": filters },
            { "Effect": "Allow", "Action": "iot:Receive", "Resource": topics },
            {
                "Effect": "Deny",
                "Action": "iot:Subscribe",
                "Resource": [
                    format!("{arn_prefix}:topicfilter/*+*"),
                    format!("{arn_prefix}:topicfilter/*#*"),
                    format!("{arn_prefix}:topicfilter/$*"),
                    format!("{arn_prefix}:topicfilter/*/*")
                ]
            },
            { "Effect": "Deny", "Action": ["iot:Publish", "iot:RetainPublish"], "Resource": "*" }
        ]
    })
}

/// The IoT Core custom authorizer's answer: allowed, with the principal's policy, or denied
/// (a bad token). `disconnect_after_seconds` is the token's remaining lifetime.
pub fn iot_authorizer_response(
    principal: &Principal,
    arn_prefix: &str,
    disconnect_after_seconds: u32,
) -> Value {
    // IoT wants an alphanumeric principal id of at most 128 characters.
    let principal_id: String = match principal {
        Principal::Anonymous => "anonymous".to_owned(),
        Principal::User(c) => c
            .user_id
            .as_str()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(128)
            .collect(),
    };
    json!({
        "isAuthenticated": true,
        "principalId": if principal_id.is_empty() { "user".to_owned() } else { principal_id },
        "disconnectAfterInSeconds": disconnect_after_seconds.clamp(300, 86_400),
        "refreshAfterInSeconds": 300,
        "policyDocuments": [iot_policy_document(principal, arn_prefix).to_string()]
    })
}

/// The authorizer's answer to a token that does not verify.
pub fn iot_authorizer_denied() -> Value {
    json!({ "isAuthenticated": false })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Caller;
    use crate::ids::UserId;

    fn customer(sub: &str) -> Principal {
        Principal::User(Caller {
            user_id: UserId::parse(sub).unwrap(),
            display_name: None,
            groups: vec![],
        })
    }
    fn admin(sub: &str) -> Principal {
        Principal::User(Caller {
            user_id: UserId::parse(sub).unwrap(),
            display_name: None,
            groups: vec!["admin".to_owned()],
        })
    }

    #[test]
    fn the_acl_table_decides_every_principal_and_topic() {
        use Denied::*;
        let anon = Principal::Anonymous;
        let alice = customer("alice");
        let boss = admin("boss");
        let cases: Vec<(&Principal, &str, Result<(), Denied>)> = vec![
            (&anon, "serverlesspresso-config-default", Ok(())),
            (&anon, "serverlesspresso-user-alice", Err(SignInRequired)),
            (&anon, "serverlesspresso-admin-default", Err(SignInRequired)),
            (&alice, "serverlesspresso-config-default", Ok(())),
            (&alice, "serverlesspresso-user-alice", Ok(())),
            (&alice, "serverlesspresso-user-bob", Err(NotYours)),
            (&alice, "serverlesspresso-admin-default", Err(AdminOnly)),
            (&boss, "serverlesspresso-admin-default", Ok(())),
            (&boss, "serverlesspresso-user-boss", Ok(())),
            (&boss, "serverlesspresso-user-alice", Err(NotYours)),
            (&boss, "serverlesspresso-admin-+", Err(Wildcard)),
            (&boss, "serverlesspresso-user-#", Err(Wildcard)),
            (&boss, "#", Err(Wildcard)),
            (
                &boss,
                "$share/g/serverlesspresso-admin-default",
                Err(SharedSubscription),
            ),
            (&boss, "$aws/things/x/shadow/get", Err(SystemTopic)),
            (&boss, "$SYS/broker", Err(SystemTopic)),
            (&boss, "serverlesspresso-admin-default/x", Err(UnknownTopic)),
            (&boss, "other", Err(UnknownTopic)),
            (&boss, "", Err(Empty)),
        ];
        for (p, filter, expected) in cases {
            assert_eq!(
                may_subscribe(p, filter).map(|_| ()),
                expected,
                "{p:?} {filter}"
            );
        }
    }

    #[test]
    fn the_markdown_table_has_a_row_per_topic_family() {
        let md = markdown_table();
        assert!(
            md.contains("| `serverlesspresso-user-<sub>` | – | own `sub` only | own `sub` only |")
        );
        assert!(md.contains("| `serverlesspresso-admin-<eventId>` | – | – | subscribe |"));
    }

    #[test]
    fn the_authorizer_response_carries_an_alphanumeric_principal_and_the_policy() {
        let r = iot_authorizer_response(&customer("ab-12-cd"), "arn:aws:iot:r:1", 3600);
        assert_eq!(r["isAuthenticated"], true);
        assert_eq!(r["principalId"], "ab12cd");
        let policy: Value =
            serde_json::from_str(r["policyDocuments"][0].as_str().unwrap()).unwrap();
        assert_eq!(policy["Version"], "2012-10-17");
        assert_eq!(iot_authorizer_denied()["isAuthenticated"], false);
    }

    #[test]
    fn clients_never_publish() {
        assert_eq!(
            may_publish(&admin("boss"), "serverlesspresso-admin-default"),
            Err(Denied::PublishNotAllowed)
        );
    }

    #[test]
    fn the_iot_policy_grants_exactly_the_acl_topics_and_denies_wildcards_and_publish() {
        let doc = iot_policy_document(&customer("alice"), "arn:aws:iot:eu-west-1:123");
        let text = doc.to_string();
        assert!(text.contains("arn:aws:iot:eu-west-1:123:topicfilter/serverlesspresso-user-alice"));
        assert!(text.contains("topicfilter/serverlesspresso-config-*"));
        assert!(!text.contains("serverlesspresso-admin-"));
        assert!(text.contains("topicfilter/*#*"));
        assert!(text.contains("iot:Publish"));
        assert_eq!(doc["Statement"][4]["Effect"], "Deny");
    }

    #[test]
    fn admins_receive_every_event_admin_topic_and_their_own_user_topic() {
        assert_eq!(
            granted_topic_patterns(&admin("boss")),
            vec![
                "serverlesspresso-config-*",
                "serverlesspresso-user-boss",
                "serverlesspresso-admin-*"
            ]
        );
        assert_eq!(
            granted_topic_patterns(&Principal::Anonymous),
            vec!["serverlesspresso-config-*"]
        );
    }
}
