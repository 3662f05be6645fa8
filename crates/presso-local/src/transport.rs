//! The hosted functions' way to presso's AWS APIs without a socket.
//!
//! A function hosted in-process builds its SDK clients from `AWS_ENDPOINT_URL`, which is
//! presso's own URL. Over the network each concurrent SDK call would hold a loopback
//! connection, two file descriptors of this very process, and under a burst those run out
//! (`accept: Too many open files`) long before the CPU does. Installed for presso's URL
//! (`presso_aws::system::install_host_transport`), this connector hands each signed request
//! to the AWS router as it is and turns the router's response back into the SDK's: the
//! request is still built, signed and checked exactly as over the wire.

use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpClient, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use axum::Router;
use axum::body::Body;
use std::sync::{Arc, Weak};
use tower::ServiceExt;

/// The largest response body the transport reads (DynamoDB answers up to 16 MB for a batch).
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// A connector that calls `router` in-process. It holds the router weakly: a stopped presso
/// (its router dropped) is let go of, and calls after that fail as a refused connection would.
#[derive(Clone)]
pub struct InProcess {
    router: Weak<Router>,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcess")
    }
}

impl InProcess {
    /// The SDK HTTP client that sends every request to `router`, while it lives.
    pub fn client(router: &Arc<Router>) -> SharedHttpClient {
        let connector = SharedHttpConnector::new(InProcess {
            router: Arc::downgrade(router),
        });
        http_client_fn(move |_, _| connector.clone())
    }
}

impl HttpConnector for InProcess {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let Some(router) = self.router.upgrade() else {
            return HttpConnectorFuture::ready(Err(ConnectorError::io(
                "presso has stopped".into(),
            )));
        };
        let router = Router::clone(&router);
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::other(Box::new(e), None))?;
            let (mut parts, body) = request.into_parts();
            // The SDK's JSON requests are in memory; a streaming body is not one of them.
            let bytes = body
                .bytes()
                .map(bytes::Bytes::copy_from_slice)
                .ok_or_else(|| {
                    ConnectorError::other(
                        "a streaming request body is not supported in-process".into(),
                        None,
                    )
                })?;
            // What a socket would have told the router.
            parts
                .extensions
                .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                    [127, 0, 0, 1],
                    0,
                ))));
            let request = http::Request::from_parts(parts, Body::from(bytes));
            let response = router
                .oneshot(request)
                .await
                .map_err(|e| ConnectorError::other(Box::new(e), None))?;
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, MAX_RESPONSE)
                .await
                .map_err(|e| ConnectorError::io(Box::new(e)))?;
            HttpResponse::try_from(http::Response::from_parts(parts, SdkBody::from(bytes)))
                .map_err(|e| ConnectorError::other(Box::new(e), None))
        })
    }
}
