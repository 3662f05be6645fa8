//! The apps and their runtime settings: `/display/`, `/barista/` and `/order/` from the static
//! folder (each falling back to its own `index.html`, so client-side routes reload), the shared
//! assets beside them, and `/config.json`.

use std::path::Path;

use axum::Router;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use serde_json::{Value, json};
use tower_http::services::{ServeDir, ServeFile};

/// The three apps, each a folder of the static build.
pub const APPS: &[&str] = &["display", "barista", "order"];

/// `/config.json` as design.md specifies it.
pub fn config_json(
    region: &str,
    user_pool_id: Option<&str>,
    client_id: Option<&str>,
    public_url: &str,
) -> Value {
    let base = public_url.trim_end_matches('/');
    let mqtt = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}/mqtt")
    } else {
        format!("ws://{}/mqtt", base.strip_prefix("http://").unwrap_or(base))
    };
    json!({
        "region": region,
        "userPoolId": user_pool_id,
        "userPoolClientId": client_id,
        "cognitoEndpoint": base,
        "apiBase": "/api",
        "mqttUrl": mqtt,
        "mqttAuth": "jwt",
        "defaultEventId": "default",
        "orderAppUrl": format!("{base}/order/"),
    })
}

/// `/config.json`, and the apps when there is a static folder (shared assets are the
/// caller's fallback).
pub fn router(config: Value, static_dir: Option<&Path>) -> Router {
    let body = config.to_string();
    let mut router = Router::new().route(
        "/config.json",
        get(move || {
            let body = body.clone();
            async move {
                (
                    [
                        (axum::http::header::CONTENT_TYPE, "application/json"),
                        // The apps read it on every load; a stale copy would point at a dead pool.
                        (axum::http::header::CACHE_CONTROL, "no-store"),
                    ],
                    body,
                )
                    .into_response()
            }
        }),
    );
    let Some(dir) = static_dir else {
        return router;
    };
    for app in APPS {
        // The service sees the full path, so it serves from the build's root; a path that is
        // no file is a client-side route of this app.
        let files = ServeDir::new(dir).fallback(ServeFile::new(dir.join(app).join("index.html")));
        router = router
            .route(
                &format!("/{app}"),
                get(move || async move { Redirect::permanent(&format!("/{app}/")) }),
            )
            .route_service(&format!("/{app}/"), files.clone())
            .route_service(&format!("/{app}/{{*rest}}"), files);
    }
    router
}
