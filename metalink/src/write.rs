//! Writing the model as a Metalink 4 (RFC 5854) document.

use std::fmt::{self, Write as _};

use crate::hash::to_hex;
use crate::model::{File, Metalink};
use crate::parse::NS_V4;

/// A model that cannot be written as a valid Metalink 4 document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// RFC 5854 requires at least one `file`.
    NoFiles,
    /// A character XML 1.0 cannot carry, even escaped (most C0 controls, U+FFFE,
    /// U+FFFF).
    UnrepresentableCharacter {
        /// Which field holds it, e.g. `file description`.
        field: &'static str,
        /// The character.
        character: char,
    },
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::NoFiles => f.write_str("metalink: a document needs at least one file"),
            WriteError::UnrepresentableCharacter { field, character } => write!(
                f,
                "metalink: {field} holds {character:?}, which XML cannot represent"
            ),
        }
    }
}

impl std::error::Error for WriteError {}

/// Writes `metalink` as a Metalink 4 document (UTF-8, indented).
///
/// Whenever this succeeds, [`parse`](crate::parse) gives back an equal model,
/// provided text fields have no surrounding white space: the parser trims space,
/// tab, CR and LF around text content and most attribute values, as pretty-printed
/// documents need.
pub fn write(metalink: &Metalink) -> Result<String, WriteError> {
    if metalink.files.is_empty() {
        return Err(WriteError::NoFiles);
    }
    let mut w = Writer {
        out: String::with_capacity(256 + metalink.files.len() * 512),
    };
    w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    w.raw("<metalink xmlns=\"");
    w.raw(NS_V4);
    w.raw("\">\n");
    if let Some(generator) = &metalink.generator {
        w.element(1, "generator", &[], generator, "generator")?;
    }
    if let Some(origin) = &metalink.origin {
        let dynamic = if origin.dynamic { "true" } else { "false" };
        w.element(
            1,
            "origin",
            &[("dynamic", dynamic)],
            origin.url.as_str(),
            "origin",
        )?;
    }
    if let Some(published) = metalink.published {
        w.element(1, "published", &[], &published.to_string(), "published")?;
    }
    if let Some(updated) = metalink.updated {
        w.element(1, "updated", &[], &updated.to_string(), "updated")?;
    }
    for file in &metalink.files {
        w.file(file)?;
    }
    w.raw("</metalink>\n");
    Ok(w.out)
}

struct Writer {
    out: String,
}

impl Writer {
    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn indent(&mut self, level: usize) {
        for _ in 0..level {
            self.out.push_str("  ");
        }
    }

    fn open(
        &mut self,
        level: usize,
        name: &str,
        attributes: &[(&str, &str)],
        field: &'static str,
    ) -> Result<(), WriteError> {
        self.indent(level);
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attributes {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            escape(&mut self.out, value, true, field)?;
            self.out.push('"');
        }
        self.out.push('>');
        Ok(())
    }

    fn element(
        &mut self,
        level: usize,
        name: &str,
        attributes: &[(&str, &str)],
        text: &str,
        field: &'static str,
    ) -> Result<(), WriteError> {
        self.open(level, name, attributes, field)?;
        escape(&mut self.out, text, false, field)?;
        let _ = writeln!(self.out, "</{name}>");
        Ok(())
    }

    fn file(&mut self, file: &File) -> Result<(), WriteError> {
        self.open(1, "file", &[("name", file.name.as_str())], "file name")?;
        self.raw("\n");
        if let Some(identity) = &file.identity {
            self.element(2, "identity", &[], identity, "file identity")?;
        }
        if let Some(version) = &file.version {
            self.element(2, "version", &[], version, "file version")?;
        }
        if let Some(size) = file.size {
            self.element(2, "size", &[], &size.to_string(), "file size")?;
        }
        for language in &file.languages {
            self.element(2, "language", &[], language, "file language")?;
        }
        for os in &file.oses {
            self.element(2, "os", &[], os, "file os")?;
        }
        if let Some(description) = &file.description {
            self.element(2, "description", &[], description, "file description")?;
        }
        if let Some(publisher) = &file.publisher {
            let mut attributes = vec![("name", publisher.name.as_str())];
            if let Some(url) = &publisher.url {
                attributes.push(("url", url.as_str()));
            }
            self.open(2, "publisher", &attributes, "file publisher")?;
            self.raw("</publisher>\n");
        }
        if let Some(copyright) = &file.copyright {
            self.element(2, "copyright", &[], copyright, "file copyright")?;
        }
        for hash in &file.hashes {
            let kind = hash.algorithm().metalink4_name();
            self.element(2, "hash", &[("type", kind)], &hash.to_hex(), "file hash")?;
        }
        for pieces in &file.pieces {
            let length = pieces.length().to_string();
            let kind = pieces.algorithm().metalink4_name();
            self.open(
                2,
                "pieces",
                &[("length", &length), ("type", kind)],
                "file pieces",
            )?;
            self.raw("\n");
            for digest in pieces.iter() {
                self.element(3, "hash", &[], &to_hex(digest), "file pieces")?;
            }
            self.indent(2);
            self.raw("</pieces>\n");
        }
        for resource in &file.urls {
            let priority = resource.priority.map(|p| p.to_string());
            let mut attributes = Vec::new();
            if let Some(location) = &resource.location {
                attributes.push(("location", location.as_str()));
            }
            if let Some(priority) = &priority {
                attributes.push(("priority", priority.as_str()));
            }
            self.element(2, "url", &attributes, resource.url.as_str(), "file url")?;
        }
        for metaurl in &file.metaurls {
            let priority = metaurl.priority.map(|p| p.to_string());
            let mut attributes = vec![("mediatype", metaurl.media_type.as_str())];
            if let Some(priority) = &priority {
                attributes.push(("priority", priority.as_str()));
            }
            if let Some(name) = &metaurl.name {
                attributes.push(("name", name.as_str()));
            }
            self.element(
                2,
                "metaurl",
                &attributes,
                metaurl.url.as_str(),
                "file metaurl",
            )?;
        }
        if let Some(signature) = &file.signature {
            self.element(
                2,
                "signature",
                &[("mediatype", signature.media_type.as_str())],
                &signature.body,
                "file signature",
            )?;
        }
        self.indent(1);
        self.raw("</file>\n");
        Ok(())
    }
}

/// Appends `text` escaped for XML content or (with `attribute`) a double-quoted
/// attribute value. CR, and in attributes tab and LF, are written as character
/// references so that XML's line-end and attribute normalisation leave them intact.
fn escape(
    out: &mut String,
    text: &str,
    attribute: bool,
    field: &'static str,
) -> Result<(), WriteError> {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' | '\n' => out.push(c),
            c if is_xml_char(c) => out.push(c),
            character => return Err(WriteError::UnrepresentableCharacter { field, character }),
        }
    }
    Ok(())
}

/// XML 1.0 `Char`, minus the three white-space controls handled by the caller.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::FileName;

    #[test]
    fn special_characters_are_escaped() {
        let mut out = String::new();
        escape(&mut out, "a&b<c>\"d\"\r", false, "t").unwrap();
        assert_eq!(out, "a&amp;b&lt;c&gt;\"d\"&#13;");
        out.clear();
        escape(&mut out, "\"x\"\t\n", true, "t").unwrap();
        assert_eq!(out, "&quot;x&quot;&#9;&#10;");
    }

    #[test]
    fn characters_xml_cannot_carry_are_an_error() {
        let mut m = Metalink::default();
        let mut file = File::new(FileName::new("f").unwrap());
        file.description = Some("bell\u{7}".into());
        m.files.push(file);
        assert_eq!(
            write(&m),
            Err(WriteError::UnrepresentableCharacter {
                field: "file description",
                character: '\u{7}'
            })
        );
        assert_eq!(write(&Metalink::default()), Err(WriteError::NoFiles));
    }
}
