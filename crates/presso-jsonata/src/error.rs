//! The one error type of this crate: a JSONata error code (`S0201`, `T2001`, `D3030`, ...), its
//! message, and where it is known the character offset in the expression.
//!
//! Codes follow the JSONata reference implementation so that hosts and tests can match on them.
//! Codes this crate adds for Step Functions' own functions live in the `D32xx` range (see
//! [`codes`]). The ASL host maps every error of this type to `States.QueryEvaluationError`.

/// The error codes this crate raises itself (the rest come from the evaluator and follow the
/// JSONata reference implementation).
pub mod codes {
    /// A function argument does not match the function's signature.
    pub const ARGUMENT_TYPE: &str = "T0410";
    /// The evaluation went too deep or took too long (the reference suite's `depth` and
    /// `timelimit`), or the input or result is nested too deeply to convert.
    pub const LIMIT_EXCEEDED: &str = "U1001";
    /// An error the evaluator raised without a JSONata code (one about arguments becomes
    /// [`ARGUMENT_TYPE`] instead).
    pub const UNCODED: &str = "D1000";
    /// The evaluator failed internally (a bug, never the expression's fault).
    pub const INTERNAL: &str = "U1000";
    /// A syntax error the parser raised without a JSONata code.
    pub const UNCODED_SYNTAX: &str = "S0201";
    /// `$partition`: the chunk size is not a positive integer.
    pub const PARTITION_SIZE: &str = "D3201";
    /// `$range`: the step is zero or the range has too many items.
    pub const RANGE_INVALID: &str = "D3202";
    /// `$hash`: the algorithm is not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512.
    pub const HASH_ALGORITHM: &str = "D3203";
    /// `$parse`: the string is not JSON.
    pub const PARSE_INVALID: &str = "D3204";
    /// A function was asked to build a string longer than this crate allows (`$pad`, Roman
    /// numerals in `$formatInteger`).
    pub const STRING_TOO_LONG: &str = "D3206";
    /// A date function was given an instant or timezone outside what a date can be.
    pub const DATE_OUT_OF_RANGE: &str = "D3207";
    /// `$eval` is not available to Step Functions expressions.
    pub const EVAL_UNSUPPORTED: &str = "D3205";
}

/// The name of the Step Functions error every JSONata failure becomes.
pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";

/// Why an expression could not be compiled or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The expression is not valid JSONata (codes `S0xxx`, and `U1002` for nesting too deep).
    #[error("{code}: {message}")]
    Compile {
        code: String,
        message: String,
        position: Option<usize>,
    },
    /// The expression failed while evaluating (codes `Txxxx`, `Dxxxx`, `U1001`).
    #[error("{code}: {message}")]
    Evaluate {
        code: String,
        message: String,
        position: Option<usize>,
    },
}

impl Error {
    /// The JSONata error code, such as `T2001` or `S0201`.
    pub fn code(&self) -> &str {
        match self {
            Error::Compile { code, .. } | Error::Evaluate { code, .. } => code,
        }
    }

    /// The message without the code.
    pub fn message(&self) -> &str {
        match self {
            Error::Compile { message, .. } | Error::Evaluate { message, .. } => message,
        }
    }

    /// The character offset in the expression the error points at, where it is known.
    pub fn position(&self) -> Option<usize> {
        match self {
            Error::Compile { position, .. } | Error::Evaluate { position, .. } => *position,
        }
    }

    /// The Step Functions error name a host reports for this failure.
    pub fn states_error(&self) -> &'static str {
        QUERY_EVALUATION_ERROR
    }

    pub(crate) fn evaluate(code: &str, message: impl Into<String>) -> Self {
        Error::Evaluate {
            code: code.to_owned(),
            message: message.into(),
            position: None,
        }
    }

    /// Splits a `X0000: message` string, as the evaluator words its errors.
    pub(crate) fn from_coded(compile: bool, text: &str) -> Self {
        let (code, message) = match split_code(text) {
            Some((code, message)) => (code.to_owned(), message.to_owned()),
            None if compile => (codes::UNCODED_SYNTAX.to_owned(), text.to_owned()),
            None if text.contains("argument") => (codes::ARGUMENT_TYPE.to_owned(), text.to_owned()),
            None => (codes::UNCODED.to_owned(), text.to_owned()),
        };
        // The evaluator reports its own depth and time guards as D1011/D1012; the reference suite
        // (and jsonata-js's harness) call both U1001, and so does this crate.
        let code = match code.as_str() {
            "D1011" | "D1012" => codes::LIMIT_EXCEEDED.to_owned(),
            _ => code,
        };
        let position = find_position(&message);
        if compile {
            Error::Compile {
                code,
                message,
                position,
            }
        } else {
            Error::Evaluate {
                code,
                message,
                position,
            }
        }
    }
}

/// `T2001: message` -> (`T2001`, `message`); also finds the code after a `Type error: ` prefix.
fn split_code(text: &str) -> Option<(&str, &str)> {
    fn leading_code(s: &str) -> Option<(&str, &str)> {
        let b = s.as_bytes();
        let coded = b.len() >= 6
            && b[0].is_ascii_uppercase()
            && b[1..5].iter().all(u8::is_ascii_digit)
            && b[5] == b':';
        coded.then(|| (&s[..5], s[6..].trim_start()))
    }
    leading_code(text).or_else(|| leading_code(text.split_once(": ")?.1))
}

/// Messages that carry a position say "at position N" or "at column N".
fn find_position(message: &str) -> Option<usize> {
    for marker in ["at position ", "position ", "at column "] {
        if let Some(i) = message.find(marker) {
            let digits: String = message[i + marker.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse() {
                return Some(n);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coded_messages_split_into_code_and_message() {
        let e = Error::from_coded(false, "T2002: The right side of the + operator");
        assert_eq!(e.code(), "T2002");
        assert_eq!(e.message(), "The right side of the + operator");
    }

    #[test]
    fn a_kind_prefix_before_the_code_is_skipped() {
        let e = Error::from_coded(false, "Type error: T0410: Argument count mismatch");
        assert_eq!(e.code(), "T0410");
    }

    #[test]
    fn depth_and_time_guards_report_u1001() {
        assert_eq!(
            Error::from_coded(false, "D1011: Stack overflow").code(),
            "U1001"
        );
        assert_eq!(Error::from_coded(false, "D1012: Timeout").code(), "U1001");
    }

    #[test]
    fn uncoded_messages_get_a_generic_code() {
        assert_eq!(Error::from_coded(true, "bad").code(), "S0201");
        assert_eq!(Error::from_coded(false, "bad").code(), "D1000");
        assert_eq!(
            Error::from_coded(false, "sift() requires 1 or 2 arguments").code(),
            "T0410"
        );
    }

    #[test]
    fn every_error_maps_to_query_evaluation_error() {
        let e = Error::evaluate("D3201", "x");
        assert_eq!(e.states_error(), "States.QueryEvaluationError");
        assert_eq!(e.to_string(), "D3201: x");
    }
}
