//! `Text`: a kv value with its `TextDigest` kept up to date as it changes.
//!
//! Why: a get of a long value (a key appended to many times) is recorded in the history
//! as the value's digest, and digesting the value on every get made a run's cost grow
//! with the square of its length. An append extends the digest by the appended text
//! alone, so recording a get costs the same however long the value.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use sim_core::lincheck::TextDigest;

/// A string and its digest. Hashed, compared and ordered as the string alone (the digest
/// is a function of it), so machines, outputs and traces hash as they did with a string.
#[derive(Clone)]
pub struct Text {
    text: String,
    digest: TextDigest,
}

impl Text {
    pub fn new(text: String) -> Text {
        let digest = TextDigest::of(&text);
        Text { text, digest }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn digest(&self) -> &TextDigest {
        &self.digest
    }

    pub fn push_str(&mut self, suffix: &str) {
        self.text.push_str(suffix);
        self.digest = self.digest.concat(&TextDigest::of(suffix));
    }
}

impl Default for Text {
    fn default() -> Text {
        Text::new(String::new())
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text::new(text.to_string())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.text, f)
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.text == other.text
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> Ordering {
        self.text.cmp(&other.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appending_keeps_the_digest_of_the_whole_text() {
        let mut text = Text::default();
        for part in ["c1s1 ", "", "c22s7 ", "ü"] {
            text.push_str(part);
            assert_eq!(*text.digest(), TextDigest::of(text.as_str()));
        }
        assert_eq!(text, Text::from("c1s1 c22s7 ü"));
        assert_eq!(format!("{text:?}"), "\"c1s1 c22s7 ü\"");
    }
}
