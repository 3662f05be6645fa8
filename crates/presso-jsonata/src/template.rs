//! Step Functions' way of marking a JSONata expression inside a JSON string: `"{% expr %}"`.
//!
//! Only a string that begins with `{%` and ends with `%}`, with nothing outside them, is an
//! expression; anything else is a literal string.

/// The expression inside `{% ... %}`, or `None` when `text` is a literal string.
pub fn expression_of(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("{%")?.strip_suffix("%}")?;
    Some(inner.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fully_delimited_strings_are_expressions() {
        assert_eq!(expression_of("{% $states.input %}"), Some("$states.input"));
        assert_eq!(expression_of("{%1%}"), Some("1"));
        assert_eq!(expression_of(" {% 1 %}"), None);
        assert_eq!(expression_of("{% 1 %} "), None);
        assert_eq!(expression_of("plain"), None);
        assert_eq!(expression_of("{%"), None);
    }
}
