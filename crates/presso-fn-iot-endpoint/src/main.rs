//! The IoT endpoint custom resource on Lambda: configuration from the environment once, then
//! the handler.

use lambda_runtime::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    presso_fn_common::logging::init_json();
    let env = presso_fn_common::env::process_env();
    let deps = presso_fn_iot_endpoint::deps_from_env(&env).await;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event| async move {
        presso_fn_iot_endpoint::handle(deps, event).await
    }))
    .await
}
