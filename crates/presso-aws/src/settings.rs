//! The SDK configuration, from an environment map.
//!
//! `aws-config` reads the process environment; presso runs many functions in one process,
//! each with the environment its template gives it, so the settings here come from a map
//! ([`Env`]). On Lambda the map is the process environment ([`AwsSettings::from_process_env`]).
//! `AWS_ENDPOINT_URL` (the standard variable) points every client at `presso serve`.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use std::collections::HashMap;

/// A function's environment: variable name to value.
pub type Env = HashMap<String, String>;

/// What the SDK clients need to know: where to send requests, for which region, as whom.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`); the provider chain decides when absent.
    pub region: Option<String>,
    /// `AWS_ENDPOINT_URL`: one endpoint for every service (presso's port).
    pub endpoint_url: Option<String>,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; the provider chain
    /// (Lambda's environment, a profile, a container role) decides when absent.
    pub credentials: Option<(String, String, Option<String>)>,
}

impl AwsSettings {
    pub fn from_env(env: &Env) -> Self {
        let get = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
        let credentials = match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => Some((id, secret, get("AWS_SESSION_TOKEN"))),
            _ => None,
        };
        Self {
            region: get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")),
            endpoint_url: get("AWS_ENDPOINT_URL"),
            credentials,
        }
    }

    /// The process environment, read once (Lambda's `main`).
    pub fn from_process_env() -> Self {
        Self::from_env(&std::env::vars().collect())
    }

    /// Whether every request goes to a plain-HTTP endpoint (presso, `cargo lambda watch`),
    /// so no root certificate store is needed.
    pub fn plain_http(&self) -> bool {
        self.endpoint_url.as_deref().is_some_and(|u| {
            u.get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
        })
    }

    /// Loads the shared SDK configuration. Against AWS (or any `https://` endpoint) the
    /// client is rustls on ring; against a plain-HTTP endpoint it trusts no roots, which
    /// spares the cold start loading and parsing the system's root certificates. Against
    /// the presso that hosts the function, it is presso's in-process transport
    /// ([`crate::system::install_host_transport`]).
    pub async fn load(&self) -> SdkConfig {
        let http = self
            .endpoint_url
            .as_deref()
            .and_then(crate::system::host_transport)
            .unwrap_or_else(|| self.network_client());
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        if let Some((id, secret, token)) = &self.credentials {
            loader = loader.credentials_provider(aws_credential_types::Credentials::new(
                id.clone(),
                secret.clone(),
                token.clone(),
                None,
                "environment map",
            ));
        }
        loader.load().await
    }

    /// HTTP over the network: rustls on ring, with no roots against plain HTTP.
    fn network_client(&self) -> SharedHttpClient {
        let mut builder = aws_smithy_http_client::Builder::new().tls_provider(
            tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring),
        );
        if self.plain_http() {
            // Nothing to trust: every request is plain HTTP.
            builder = builder.tls_context(
                tls::TlsContext::builder()
                    .with_trust_store(tls::TrustStore::empty())
                    .build()
                    .expect("an empty trust store is a valid TLS context"),
            );
        }
        builder.build_https()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_the_map_and_ignore_empty_values() {
        let env: Env = [
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:8080"),
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_SESSION_TOKEN", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let s = AwsSettings::from_env(&env);
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s.endpoint_url.as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(s.credentials, Some(("k".into(), "s".into(), None)));
        assert_eq!(AwsSettings::from_env(&Env::new()), AwsSettings::default());
    }

    #[test]
    fn only_a_plain_http_endpoint_skips_tls() {
        let with = |url: Option<&str>| AwsSettings {
            endpoint_url: url.map(str::to_owned),
            ..AwsSettings::default()
        };
        assert!(with(Some("http://127.0.0.1:8080")).plain_http());
        assert!(with(Some("HTTP://localhost")).plain_http());
        assert!(!with(Some("https://dynamodb.us-east-1.amazonaws.com")).plain_http());
        assert!(!with(Some("http")).plain_http());
        assert!(!with(None).plain_http());
    }
}
