//! A small EDN reader (the Clojure data notation Jepsen, Knossos and Porcupine's test
//! data use), enough for operation histories: nil, booleans, integers, floats, strings,
//! characters, keywords, symbols, lists, vectors, maps, sets, `;` comments, `#_` discards
//! and tagged literals (the tag is dropped). Every form remembers the line it starts on
//! so parse errors can name it.

/// One EDN value.
#[derive(Clone, Debug, PartialEq)]
pub enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    /// A keyword without its leading colon: `:ok` is `Keyword("ok")`.
    Keyword(String),
    Symbol(String),
    List(Vec<Edn>),
    Vector(Vec<Edn>),
    Map(Vec<(Edn, Edn)>),
    Set(Vec<Edn>),
}

impl Edn {
    /// The value under keyword `name` in a map, if this is a map holding it.
    pub fn get(&self, name: &str) -> Option<&Edn> {
        let Edn::Map(entries) = self else { return None };
        entries.iter().find_map(|(key, value)| match key {
            Edn::Keyword(keyword) if keyword == name => Some(value),
            _ => None,
        })
    }

    /// The elements of a list or vector.
    pub fn as_sequence(&self) -> Option<&[Edn]> {
        match self {
            Edn::List(items) | Edn::Vector(items) => Some(items),
            _ => None,
        }
    }

    /// A short rendering for error messages.
    pub fn render(&self) -> String {
        match self {
            Edn::Nil => "nil".to_string(),
            Edn::Bool(value) => value.to_string(),
            Edn::Int(value) => value.to_string(),
            Edn::Float(value) => value.to_string(),
            Edn::Text(value) => format!("{value:?}"),
            Edn::Keyword(value) => format!(":{value}"),
            Edn::Symbol(value) => value.clone(),
            Edn::List(items) => format!("({})", render_items(items)),
            Edn::Vector(items) => format!("[{}]", render_items(items)),
            Edn::Set(items) => format!("#{{{}}}", render_items(items)),
            Edn::Map(entries) => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(key, value)| format!("{} {}", key.render(), value.render()))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }
}

fn render_items(items: &[Edn]) -> String {
    items.iter().map(Edn::render).collect::<Vec<_>>().join(" ")
}

/// A top-level form and the 1-based line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub struct LocatedForm {
    pub line: usize,
    pub form: Edn,
    /// For a top-level list or vector, the line each element starts on.
    pub element_lines: Vec<usize>,
}

/// Reads every top-level form of `text`. Errors say `line N: problem`.
pub fn read_all(text: &str) -> Result<Vec<LocatedForm>, String> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        position: 0,
        line: 1,
    };
    let mut forms = Vec::new();
    loop {
        reader.skip_blank()?;
        if reader.position >= reader.bytes.len() {
            break;
        }
        let line = reader.line;
        let mut element_lines = Vec::new();
        let form = reader.read_form(Some(&mut element_lines))?;
        let Some(form) = form else {
            return Err(format!("line {}: unexpected closing bracket", reader.line));
        };
        forms.push(LocatedForm {
            line,
            form,
            element_lines,
        });
    }
    Ok(forms)
}

struct Reader<'text> {
    bytes: &'text [u8],
    position: usize,
    line: usize,
}

fn is_delimiter(byte: u8) -> bool {
    byte.is_ascii_whitespace()
        || matches!(
            byte,
            b',' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b';'
        )
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn skip_blank(&mut self) -> Result<(), String> {
        while let Some(byte) = self.peek() {
            match byte {
                b'\n' => {
                    self.line += 1;
                    self.position += 1;
                }
                b',' => self.position += 1,
                byte if byte.is_ascii_whitespace() => self.position += 1,
                b';' => {
                    while let Some(byte) = self.peek() {
                        if byte == b'\n' {
                            break;
                        }
                        self.position += 1;
                    }
                }
                b'#' if self.bytes.get(self.position + 1) == Some(&b'_') => {
                    self.position += 2;
                    self.skip_blank()?;
                    if self.read_form(None)?.is_none() {
                        return Err(format!("line {}: #_ needs a form to discard", self.line));
                    }
                }
                _ => break,
            }
        }
        Ok(())
    }

    /// Reads one form; `Ok(None)` if the next byte closes an enclosing collection.
    fn read_form(
        &mut self,
        mut element_lines: Option<&mut Vec<usize>>,
    ) -> Result<Option<Edn>, String> {
        self.skip_blank()?;
        let line = self.line;
        let Some(byte) = self.peek() else {
            return Err(format!("line {line}: unexpected end of file"));
        };
        let form = match byte {
            b')' | b']' | b'}' => return Ok(None),
            b'(' => {
                self.position += 1;
                Edn::List(self.read_until(b')', line, element_lines.as_deref_mut())?)
            }
            b'[' => {
                self.position += 1;
                Edn::Vector(self.read_until(b']', line, element_lines)?)
            }
            b'{' => {
                self.position += 1;
                let items = self.read_until(b'}', line, None)?;
                if items.len() % 2 != 0 {
                    return Err(format!("line {line}: a map needs an even number of forms"));
                }
                let mut entries = Vec::with_capacity(items.len() / 2);
                let mut items = items.into_iter();
                while let (Some(key), Some(value)) = (items.next(), items.next()) {
                    entries.push((key, value));
                }
                Edn::Map(entries)
            }
            b'#' => {
                self.position += 1;
                match self.peek() {
                    Some(b'{') => {
                        self.position += 1;
                        Edn::Set(self.read_until(b'}', line, None)?)
                    }
                    _ => {
                        // Tagged literal such as #inst "...": read the tag, keep the value.
                        let _tag = self.read_token();
                        match self.read_form(None)? {
                            Some(form) => form,
                            None => return Err(format!("line {line}: a tag needs a value")),
                        }
                    }
                }
            }
            b'"' => Edn::Text(self.read_string(line)?),
            b'\\' => {
                self.position += 1;
                let token = self.read_token();
                let character = match token.as_str() {
                    "newline" => "\n".to_string(),
                    "space" => " ".to_string(),
                    "tab" => "\t".to_string(),
                    other => other.to_string(),
                };
                Edn::Text(character)
            }
            _ => self.read_atom(line)?,
        };
        Ok(Some(form))
    }

    fn read_until(
        &mut self,
        closing: u8,
        opening_line: usize,
        mut element_lines: Option<&mut Vec<usize>>,
    ) -> Result<Vec<Edn>, String> {
        let mut items = Vec::new();
        loop {
            self.skip_blank()?;
            let line = self.line;
            match self.peek() {
                None => {
                    return Err(format!(
                        "line {opening_line}: collection opened here is never closed (missing `{}`)",
                        closing as char
                    ))
                }
                Some(byte) if byte == closing => {
                    self.position += 1;
                    return Ok(items);
                }
                Some(byte @ (b')' | b']' | b'}')) => {
                    return Err(format!(
                        "line {line}: `{}` closes a collection opened at line {opening_line} with `{}` expected",
                        byte as char, closing as char
                    ))
                }
                Some(_) => {
                    let form = self
                        .read_form(None)?
                        .expect("a non-closing byte always starts a form");
                    if let Some(lines) = element_lines.as_deref_mut() {
                        lines.push(line);
                    }
                    items.push(form);
                }
            }
        }
    }

    fn read_string(&mut self, line: usize) -> Result<String, String> {
        assert_eq!(self.peek(), Some(b'"'));
        self.position += 1;
        let mut bytes = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(format!("line {line}: string never closed"));
            };
            self.position += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    let Some(escaped) = self.peek() else {
                        return Err(format!("line {line}: string never closed"));
                    };
                    self.position += 1;
                    bytes.push(match escaped {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        other => other,
                    });
                }
                b'\n' => {
                    self.line += 1;
                    bytes.push(byte);
                }
                _ => bytes.push(byte),
            }
        }
        String::from_utf8(bytes).map_err(|_| format!("line {line}: string is not UTF-8"))
    }

    fn read_token(&mut self) -> String {
        let start = self.position;
        while let Some(byte) = self.peek() {
            if is_delimiter(byte) {
                break;
            }
            self.position += 1;
        }
        String::from_utf8_lossy(&self.bytes[start..self.position]).into_owned()
    }

    fn read_atom(&mut self, line: usize) -> Result<Edn, String> {
        let token = self.read_token();
        assert!(
            !token.is_empty(),
            "read_atom is only called on a non-delimiter"
        );
        if let Some(keyword) = token.strip_prefix(':') {
            if keyword.is_empty() {
                return Err(format!("line {line}: empty keyword"));
            }
            return Ok(Edn::Keyword(keyword.to_string()));
        }
        match token.as_str() {
            "nil" => return Ok(Edn::Nil),
            "true" => return Ok(Edn::Bool(true)),
            "false" => return Ok(Edn::Bool(false)),
            _ => {}
        }
        let first = token.as_bytes()[0];
        let second = token.as_bytes().get(1).copied();
        let numeric = first.is_ascii_digit()
            || (matches!(first, b'-' | b'+') && second.is_some_and(|byte| byte.is_ascii_digit()));
        if !numeric {
            return Ok(Edn::Symbol(token));
        }
        let integer = token.strip_suffix('N').unwrap_or(&token);
        if let Ok(value) = integer.parse::<i64>() {
            return Ok(Edn::Int(value));
        }
        let float = token.strip_suffix('M').unwrap_or(&token);
        if let Ok(value) = float.parse::<f64>() {
            return Ok(Edn::Float(value));
        }
        Err(format!("line {line}: cannot read number {token:?}"))
    }
}
