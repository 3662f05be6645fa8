//! State names that copy without touching shared memory.
//!
//! Every state transition records two history events that carry the state's name.
//! Names are almost always short, so they are stored inline (no allocation, and no
//! atomic reference count to bump on every clone); long ones fall back to `Arc<str>`.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

const INLINE: usize = 23;

/// A state's name: inline up to 23 bytes, shared beyond.
#[derive(Clone)]
pub struct StateName(Repr);

/// Word-aligned so a copy is two or three plain moves (an odd layout made the
/// compiler copy it piecewise, and the byte-wise stores stalled the loads after them).
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Inline {
    buf: [u8; INLINE],
    len: u8,
}

#[derive(Clone)]
enum Repr {
    Inline(Inline),
    Shared(Arc<str>),
}

impl StateName {
    pub fn new(s: &str) -> StateName {
        if s.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            StateName(Repr::Inline(Inline {
                buf,
                len: s.len() as u8,
            }))
        } else {
            StateName(Repr::Shared(Arc::from(s)))
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Built from a `&str` cut at its length, so always valid UTF-8.
            Repr::Inline(i) => std::str::from_utf8(&i.buf[..usize::from(i.len)]).unwrap_or(""),
            Repr::Shared(s) => s,
        }
    }
}

impl Deref for StateName {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for StateName {
    fn from(s: &str) -> Self {
        StateName::new(s)
    }
}

impl PartialEq for StateName {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for StateName {}

impl fmt::Debug for StateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for StateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_names_read_back_unchanged() {
        for s in ["", "A", "Wait for barista", "ÜnicodeName✓", &"x".repeat(80)] {
            let n = StateName::new(s);
            assert_eq!(n.as_str(), s);
            assert_eq!(n.clone(), n);
            assert_eq!(format!("{n}"), s);
        }
    }
}
