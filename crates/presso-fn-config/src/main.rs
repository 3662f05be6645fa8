//! The config function on Lambda: configuration from the environment once, then the router.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    presso_fn_common::logging::init_json();
    let env = presso_fn_common::env::process_env();
    lambda_http::run(presso_fn_config::app(&env).await).await
}
