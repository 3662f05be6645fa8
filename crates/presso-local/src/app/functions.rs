//! Function hosting: a registry from crate name to an in-process implementation, and the
//! functions of one template built from it.
//!
//! An HTTP function is a constructor from its environment to an `axum::Router` (the same router
//! `lambda_http::run` serves on Lambda); an event function is a constructor from its
//! environment to an async handler of a JSON event. The environment is passed in as a map, never
//! through the process environment, so several functions (and tests) live in one process.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

/// A function's environment: the template's `Environment.Variables`, plus what Lambda sets
/// (`AWS_REGION`, ...) and `AWS_ENDPOINT_URL` pointing at presso.
pub type Env = BTreeMap<String, String>;

/// A boxed future, as constructors and handlers return them.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// An event function's handler: the event in, the function's result (or its error) out.
pub type EventHandler = Arc<dyn Fn(Value) -> BoxFuture<Result<Value, String>> + Send + Sync>;

type HttpCtor = Arc<dyn Fn(Env) -> BoxFuture<Result<axum::Router, String>> + Send + Sync>;
type EventCtor = Arc<dyn Fn(Env) -> BoxFuture<Result<EventHandler, String>> + Send + Sync>;

#[derive(Clone)]
enum Implementation {
    Http(HttpCtor),
    Event(EventCtor),
    /// A crate only AWS needs, whose work presso does itself (say, the IoT custom authorizer,
    /// replaced by the broker's own token check): the function is not started.
    Replaced(&'static str),
}

/// Which crates presso can host, by crate name (the last segment of a function's `CodeUri`).
#[derive(Clone, Default)]
pub struct FunctionRegistry {
    crates: BTreeMap<String, Implementation>,
}

impl fmt::Debug for FunctionRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.crates.keys()).finish()
    }
}

impl FunctionRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers an HTTP function: `ctor` builds its router from its environment.
    pub fn http<F, Fut>(mut self, crate_name: &str, ctor: F) -> Self
    where
        F: Fn(Env) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<axum::Router, String>> + Send + 'static,
    {
        let ctor: HttpCtor = Arc::new(move |env| Box::pin(ctor(env)));
        self.crates
            .insert(crate_name.to_string(), Implementation::Http(ctor));
        self
    }

    /// Registers an event function: `ctor` builds its handler from its environment.
    pub fn event<F, Fut>(mut self, crate_name: &str, ctor: F) -> Self
    where
        F: Fn(Env) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<EventHandler, String>> + Send + 'static,
    {
        let ctor: EventCtor = Arc::new(move |env| Box::pin(ctor(env)));
        self.crates
            .insert(crate_name.to_string(), Implementation::Event(ctor));
        self
    }

    /// Declares a crate whose job presso does natively, with the reason that start-up logs.
    pub fn replaced(mut self, crate_name: &str, reason: &'static str) -> Self {
        self.crates
            .insert(crate_name.to_string(), Implementation::Replaced(reason));
        self
    }

    pub fn contains(&self, crate_name: &str) -> bool {
        self.crates.contains_key(crate_name)
    }

    pub fn crate_names(&self) -> impl Iterator<Item = &str> {
        self.crates.keys().map(String::as_str)
    }
}

/// Wraps an async closure as an [`EventHandler`].
pub fn event_handler<F, Fut>(f: F) -> EventHandler
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, String>> + Send + 'static,
{
    Arc::new(move |event| Box::pin(f(event)))
}

/// One template function, built.
#[derive(Clone)]
pub enum Hosted {
    Http(axum::Router),
    Event(EventHandler),
    /// Not started: presso does this function's job itself, for the reason given.
    Replaced(&'static str),
}

/// Why a function could not be hosted.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(
        "function {function} needs crate {crate_name}, which this presso does not host (it hosts: {known})"
    )]
    UnknownCrate {
        function: String,
        crate_name: String,
        known: String,
    },
    #[error("function {function} ({crate_name}) failed to start: {message}")]
    Start {
        function: String,
        crate_name: String,
        message: String,
    },
}

impl FunctionRegistry {
    /// Builds the function `logical_id` of crate `crate_name` with `env`.
    pub async fn build(
        &self,
        function: &str,
        crate_name: &str,
        env: Env,
    ) -> Result<Hosted, HostError> {
        let implementation =
            self.crates
                .get(crate_name)
                .ok_or_else(|| HostError::UnknownCrate {
                    function: function.to_string(),
                    crate_name: crate_name.to_string(),
                    known: if self.crates.is_empty() {
                        "none".to_string()
                    } else {
                        self.crate_names().collect::<Vec<_>>().join(", ")
                    },
                })?;
        let start_error = |message| HostError::Start {
            function: function.to_string(),
            crate_name: crate_name.to_string(),
            message,
        };
        match implementation {
            Implementation::Http(ctor) => ctor(env).await.map(Hosted::Http).map_err(start_error),
            Implementation::Event(ctor) => ctor(env).await.map(Hosted::Event).map_err(start_error),
            Implementation::Replaced(reason) => Ok(Hosted::Replaced(reason)),
        }
    }
}
