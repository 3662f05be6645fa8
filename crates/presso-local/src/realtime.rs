//! The realtime broker: `presso-mqtt` on the main port at `/mqtt` (WebSocket, subprotocol
//! `mqtt`) and, with `--mqtt-port`, on plain TCP, with the user pool's JWT as the CONNECT
//! password and presso-core's ACL deciding every subscription.
//!
//! A client without a password is anonymous (public topics only); a password that is not a
//! token this presso signed, or an expired one, or one whose issuer is not a local pool, gets
//! CONNACK 5. With a template, only the pool and app clients the template gives its IoT
//! custom authorizer (`USER_POOL_ID`, `USER_POOL_CLIENT_IDS`) connect, as on AWS. Clients never publish: the broker closes a connection that tries. Messages enter
//! only through the IoT data plane's `Publish` ([`crate::iot`]) and in-process publishers.

use crate::server::AppState;
use axum::Router;
use presso_cognito::IdentityProvider;
use presso_core::acl;
use presso_core::identity::{Caller, Principal as CorePrincipal};
use presso_core::ids::UserId;
use presso_mqtt::{Authorizer, Broker, ConnectRefused, Principal};
use std::sync::Arc;

/// Checks CONNECT tokens against the identity provider and subscriptions against the ACL.
pub struct JwtAuthorizer {
    idp: Arc<IdentityProvider>,
    /// Once a template is running: the one pool and the app clients whose tokens connect (what
    /// the template gives its IoT custom authorizer). Before, any local pool's token does.
    trusted: std::sync::RwLock<Option<Trusted>>,
}

/// The pool and clients a broker accepts tokens from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trusted {
    pub user_pool_id: String,
    /// Empty: any client of the pool.
    pub client_ids: Vec<String>,
}

impl JwtAuthorizer {
    pub fn new(idp: Arc<IdentityProvider>) -> JwtAuthorizer {
        JwtAuthorizer {
            idp,
            trusted: std::sync::RwLock::new(None),
        }
    }

    /// From now on, only tokens of this pool and these clients connect.
    pub fn trust_only(&self, trusted: Trusted) {
        *self
            .trusted
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(trusted);
    }

    fn trusts(&self, claims: &presso_cognito::Claims) -> bool {
        match &*self
            .trusted
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            None => true,
            Some(t) => {
                claims.user_pool_id == t.user_pool_id
                    && (t.client_ids.is_empty() || t.client_ids.contains(&claims.client_id))
            }
        }
    }
}

impl Authorizer for JwtAuthorizer {
    fn connect(
        &self,
        client_id: &str,
        _username: Option<&str>,
        password: Option<&[u8]>,
    ) -> Result<Principal, ConnectRefused> {
        let Some(password) = password else {
            return Ok(Principal::anonymous());
        };
        let token = std::str::from_utf8(password).map_err(|_| ConnectRefused::NotAuthorized)?;
        let claims = self.idp.verify(token.trim()).map_err(|e| {
            tracing::info!(client_id, error = %e, "mqtt connect refused");
            ConnectRefused::NotAuthorized
        })?;
        if !self.trusts(&claims) {
            tracing::info!(
                client_id,
                pool = %claims.user_pool_id,
                app_client = %claims.client_id,
                "mqtt connect refused: a token of a pool or app client the template does not trust"
            );
            return Err(ConnectRefused::NotAuthorized);
        }
        match CorePrincipal::from_claims(&claims.raw) {
            Ok(CorePrincipal::User(caller)) => Ok(Principal {
                sub: Some(caller.user_id.as_str().to_string()),
                groups: caller.groups,
            }),
            _ => Err(ConnectRefused::NotAuthorized),
        }
    }

    fn may_subscribe(&self, principal: &Principal, filter: &str) -> bool {
        let principal = match &principal.sub {
            None => CorePrincipal::Anonymous,
            Some(sub) => match UserId::parse(sub) {
                Ok(user_id) => CorePrincipal::User(Caller {
                    user_id,
                    display_name: None,
                    groups: principal.groups.clone(),
                }),
                Err(_) => return false,
            },
        };
        acl::may_subscribe(&principal, filter).is_ok()
    }
}

/// A broker authorising with the identity provider's tokens, and its authorizer (to narrow
/// the trust once the template is known).
pub fn broker(idp: Arc<IdentityProvider>) -> (Broker, Arc<JwtAuthorizer>) {
    let auth = Arc::new(JwtAuthorizer::new(idp));
    (Broker::new(auth.clone()), auth)
}

/// `/mqtt`: MQTT over WebSocket.
pub fn routes(broker: &Broker) -> Router<Arc<AppState>> {
    Router::new().route("/mqtt", broker.websocket_route())
}

/// Binds the plain MQTT listener when `--mqtt-port` asks for one and serves it until the broker
/// shuts down. Returns the bound address (port 0 picks a free one).
pub async fn serve_tcp(
    broker: &Broker,
    host: &str,
    port: u16,
) -> std::io::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind((host, port)).await?;
    let addr = listener.local_addr()?;
    let broker = broker.clone();
    tokio::spawn(async move { broker.serve_tcp(listener, std::future::pending()).await });
    tracing::info!("presso is accepting MQTT connections on mqtt://{addr}");
    Ok(addr)
}
