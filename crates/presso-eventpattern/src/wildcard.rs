//! `wildcard` conditions: `*` stands for any run of characters, `\*` for a star, `\\` for a backslash.
//!
//! A wildcard is compiled once into its literal pieces. Matching checks the first piece as a prefix,
//! the last as a suffix and finds the middle pieces left to right, taking the leftmost occurrence each
//! time. For patterns whose only metacharacter is `*` the leftmost choice is always safe, so matching
//! never backtracks and costs at most one substring search per piece.

/// A compiled wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wildcard {
    /// The literal text between stars; `pieces.len() - 1` is the number of stars.
    pieces: Box<[Box<str>]>,
    /// The total length of all pieces, the shortest string that can match.
    min_len: usize,
}

impl Wildcard {
    /// Compiles a wildcard, refusing what EventBridge refuses: two stars in a row, and a backslash that
    /// escapes anything but a star or a backslash. Positions in messages count from 1, as EventBridge's
    /// do (it counts an opening quote at position 0).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let bytes = text.as_bytes();
        let mut pieces = Vec::new();
        let mut current: Vec<u8> = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'*' => {
                    if bytes.get(i + 1) == Some(&b'*') {
                        return Err(format!("Consecutive wildcard characters at pos {}", i + 1));
                    }
                    pieces.push(std::mem::take(&mut current));
                }
                b'\\' => match bytes.get(i + 1) {
                    Some(&next @ (b'*' | b'\\')) => {
                        current.push(next);
                        i += 1;
                    }
                    _ => return Err(format!("Invalid escape character at pos {}", i + 1)),
                },
                other => current.push(other),
            }
            i += 1;
        }
        pieces.push(current);
        // Pieces are split only at ASCII bytes of valid UTF-8, so each piece is valid UTF-8 again.
        let pieces: Vec<Box<str>> = pieces
            .into_iter()
            .map(|p| String::from_utf8_lossy(&p).into_owned().into_boxed_str())
            .collect();
        let min_len = pieces.iter().map(|p| p.len()).sum();
        Ok(Wildcard {
            pieces: pieces.into_boxed_slice(),
            min_len,
        })
    }

    pub(crate) fn matches(&self, value: &str) -> bool {
        let pieces = &self.pieces[..];
        let [first, middle @ .., last] = pieces else {
            // A single piece: no star, so the value must be exactly the text.
            return pieces.first().is_some_and(|p| **p == *value);
        };
        if value.len() < self.min_len || !value.starts_with(&**first) || !value.ends_with(&**last) {
            return false;
        }
        let mut rest = &value[first.len()..value.len() - last.len()];
        for piece in middle {
            match rest.find(&**piece) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wildcard(text: &str) -> Wildcard {
        Wildcard::parse(text).expect("valid wildcard")
    }

    #[test]
    fn a_star_matches_any_run_including_none() {
        let w = wildcard("Simple*Service");
        assert!(w.matches("SimpleService"));
        assert!(w.matches("Simple Queue Service"));
        assert!(!w.matches("Simple Queue"));
    }

    #[test]
    fn pieces_must_appear_in_order_without_overlap() {
        let w = wildcard("*ab*ab*");
        assert!(w.matches("abab"));
        assert!(!w.matches("aba"));
        let w = wildcard("a*a");
        assert!(!w.matches("a"));
        assert!(w.matches("aa"));
    }

    #[test]
    fn escaped_stars_and_backslashes_are_literal() {
        let w = wildcard(r"a\*b");
        assert!(w.matches("a*b"));
        assert!(!w.matches("axb"));
        assert!(wildcard(r"c:\\*").matches(r"c:\temp"));
    }

    #[test]
    fn consecutive_stars_and_stray_escapes_are_refused() {
        assert_eq!(
            Wildcard::parse("a**").unwrap_err(),
            "Consecutive wildcard characters at pos 2"
        );
        assert_eq!(
            Wildcard::parse(r"a\b").unwrap_err(),
            "Invalid escape character at pos 2"
        );
        assert_eq!(
            Wildcard::parse("a\\").unwrap_err(),
            "Invalid escape character at pos 2"
        );
    }
}
