//! The realtime broker: `presso-mqtt` on the main port at `/mqtt` (WebSocket, subprotocol
//! `mqtt`) and, with `--mqtt-port`, on plain TCP, with the user pool's JWT as the CONNECT
//! password and presso-core's ACL deciding every subscription.
//!
//! A client without a password is anonymous (public topics only); a password that is not a
//! token this presso signed, or an expired one, or one whose issuer is not a local pool, gets
//! CONNACK 5. Clients never publish: the broker closes a connection that tries. Messages enter
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
}

impl JwtAuthorizer {
    pub fn new(idp: Arc<IdentityProvider>) -> JwtAuthorizer {
        JwtAuthorizer { idp }
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

/// A broker authorising with the identity provider's tokens.
pub fn broker(idp: Arc<IdentityProvider>) -> Broker {
    Broker::new(Arc::new(JwtAuthorizer::new(idp)))
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
