//! What can go wrong reading a template: every error names the place in the template it is about.

use std::path::PathBuf;

/// Why a template could not be read. Messages start with the template path of the offending
/// construct (`Resources.OrderTable.Properties.Foo: Fn::ImportValue is not supported`).
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid YAML or JSON: {message}")]
    Syntax { path: String, message: String },
    /// A construct presso does not evaluate, in a place it has to evaluate.
    #[error("{path}: {what} is not supported")]
    Unsupported { path: String, what: String },
    /// A construct presso understands, used wrongly (bad reference, missing parameter, wrong
    /// shape).
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl TemplateError {
    pub(crate) fn invalid(path: &str, message: impl Into<String>) -> Self {
        TemplateError::Invalid {
            path: path.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn unsupported(path: &str, what: impl Into<String>) -> Self {
        TemplateError::Unsupported {
            path: path.to_string(),
            what: what.into(),
        }
    }
}

/// Something presso skipped: the caller logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}
