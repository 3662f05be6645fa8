//! A function's environment, as a map: Lambda's `main` passes the process environment, presso
//! the environment the template gives the function.

pub use presso_aws::Env;

/// The process environment, read once in `main`.
pub fn process_env() -> Env {
    std::env::vars().collect()
}

/// A variable, when set and not empty.
pub fn get<'a>(env: &'a Env, name: &str) -> Option<&'a str> {
    env.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// A variable or a default.
pub fn get_or(env: &Env, name: &str, default: &str) -> String {
    get(env, name).unwrap_or(default).to_owned()
}

/// Builds an environment map from pairs (tests, presso).
pub fn env_of<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Env {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
