//! A decoded record: the common shape every decoder produces and every profile reads.
//!
//! A [`Record`] is a tree of named values stored flat ("tape" order: a container node is
//! followed by its descendants, and knows where they end), with all keys and values in one
//! `String`. JSON objects become it directly; a CSV row or a Zeek line is a one-level record
//! whose keys are the column names; an EVTX record is `System.*` plus its `EventData` named by
//! each `Data` element's `Name`. Decoders reuse one `Record` per source, so decoding a record
//! allocates nothing once buffers have grown.
//!
//! Profiles look values up with a [`Key`]: a dotted path (`winlog.event_data.CommandLine`;
//! keys that contain dots themselves, like Zeek's `id.orig_h`, match literally) that remembers
//! where it matched last, so records of one schema are looked up in O(1).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// Marker for "no node" / "no span".
const NONE: u32 = u32::MAX;

/// The JSON type of a value (text formats produce only `String` and `Null`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// Text.
    String,
    /// A number, kept as the source wrote it.
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`, or a text format's "unset" marker (Zeek `-`).
    Null,
    /// An object or element with named children.
    Object,
    /// An array; its children have no keys and are addressed by position.
    Array,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    pub(crate) const EMPTY: Span = Span { start: 0, len: 0 };
    pub(crate) const NONE: Span = Span {
        start: NONE,
        len: 0,
    };
}

#[derive(Clone, Copy, Debug)]
struct Node {
    key: Span,
    value: Span,
    kind: ValueKind,
    parent: u32,
    /// Index one past this node's last descendant.
    end: u32,
}

/// Index of a node inside a [`Record`].
pub type NodeId = u32;

/// One decoded record. See the module documentation.
#[derive(Clone, Debug, Default)]
pub struct Record {
    text: String,
    nodes: Vec<Node>,
    /// Nodes decoded from the source; nodes after it were expanded from JSON held in strings.
    base: u32,
    /// `(string node, expanded container)` pairs, so each string is parsed at most once.
    expanded: Vec<(u32, u32)>,
    /// Column names of tabular sources (CSV, Zeek, W3C), stored once per header instead of
    /// once per row; key spans with [`KEY_TEXT`] set point here.
    column_text: String,
    columns: Vec<Span>,
    /// Identifies the current columns (0: none): lookups remember the schema they matched in.
    schema: u32,
}

/// Marks a key span that points into the column names rather than the record's text.
const KEY_TEXT: u32 = 1 << 31;

/// Schema ids are unique per process, so a key's cached position is never trusted for another
/// header.
static NEXT_SCHEMA: AtomicU32 = AtomicU32::new(1);

/// A lookup path into records, caching where it matched last. The cache is a relaxed atomic
/// (a plain load and store on common CPUs) so profiles can be shared with the evtx crate's
/// worker threads; each worker still uses its own clone.
#[derive(Debug)]
pub struct Key {
    path: Arc<str>,
    hint: AtomicU32,
    /// `(schema id << 32) | column` of the last tabular match (`u64::MAX`: absent there).
    column: AtomicU64,
}

impl Clone for Key {
    fn clone(&self) -> Self {
        Key {
            path: Arc::clone(&self.path),
            hint: AtomicU32::new(self.hint.load(Ordering::Relaxed)),
            column: AtomicU64::new(self.column.load(Ordering::Relaxed)),
        }
    }
}

impl Key {
    /// A key for `path` (dotted for nested values).
    pub fn new(path: &str) -> Self {
        Key {
            path: path.into(),
            hint: AtomicU32::new(NONE),
            column: AtomicU64::new(0),
        }
    }

    /// The path as given.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl Record {
    /// An empty record.
    pub fn new() -> Self {
        Record::default()
    }

    /// An empty record with room for `text` bytes and `nodes` fields.
    pub fn with_capacity(text: usize, nodes: usize) -> Self {
        Record {
            text: String::with_capacity(text),
            nodes: Vec::with_capacity(nodes),
            ..Record::default()
        }
    }

    /// Removes everything, keeping the buffers.
    pub fn clear(&mut self) {
        self.text.clear();
        self.nodes.clear();
        self.base = 0;
        self.expanded.clear();
    }

    /// Sets the column names of a tabular source (kept across [`Record::clear`]); rows are then
    /// built with [`Record::push_column`].
    pub fn set_columns<S: AsRef<str>>(&mut self, names: &[S]) {
        self.column_text.clear();
        self.columns.clear();
        for name in names {
            let start = self.column_text.len();
            self.column_text.push_str(name.as_ref());
            self.columns.push(Span {
                start: start as u32 | KEY_TEXT,
                len: name.as_ref().len() as u32,
            });
        }
        self.schema = NEXT_SCHEMA.fetch_add(1, Ordering::Relaxed).max(1);
    }

    /// Appends the value of column `index` (`None`: unset). Columns must be pushed in order,
    /// all of them, starting from a cleared record.
    pub fn push_column(&mut self, index: usize, value: Option<&str>) -> NodeId {
        let key = self.columns.get(index).copied().unwrap_or(Span::EMPTY);
        match value {
            Some(v) => {
                let value = self.push_text(v);
                self.push_node(key, value, ValueKind::String, None)
            }
            None => self.push_node(key, Span::NONE, ValueKind::Null, None),
        }
    }

    /// Appends a whole line's text once; its fields are then added with
    /// [`Record::push_column_at`] as spans into it (no copy per field).
    pub(crate) fn push_line(&mut self, line: &str) -> u32 {
        let start = self.text.len() as u32;
        self.text.reserve(line.len() * 2);
        self.text.push_str(line);
        start
    }

    /// Appends column `index` whose value is `len` bytes of the text at `start` (see
    /// [`Record::push_line`]).
    pub(crate) fn push_column_at(&mut self, index: usize, start: u32, len: u32) -> NodeId {
        let key = self.columns.get(index).copied().unwrap_or(Span::EMPTY);
        self.push_node(key, Span { start, len }, ValueKind::String, None)
    }

    /// Whether the record's nodes are exactly its columns, in order (lookups may then go by
    /// column).
    fn tabular(&self) -> bool {
        self.schema != 0
            && self.nodes.len() == self.columns.len()
            && self.base as usize == self.columns.len()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Bytes of key and value text held (for size limits and statistics).
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    // ----- building (decoders) -----

    pub(crate) fn text_mut(&mut self) -> &mut String {
        &mut self.text
    }

    /// Appends `s` to the text buffer and returns its span.
    pub(crate) fn push_text(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        Span {
            start: start as u32,
            len: s.len() as u32,
        }
    }

    /// The span of text appended since `start` (a `text_len()` taken before appending).
    pub(crate) fn span_since(&self, start: usize) -> Span {
        Span {
            start: start as u32,
            len: (self.text.len() - start) as u32,
        }
    }

    /// Appends a node under `parent` (`None` for top level) and returns its id. Containers must
    /// be closed with [`Record::close`] after their children are pushed.
    pub(crate) fn push_node(
        &mut self,
        key: Span,
        value: Span,
        kind: ValueKind,
        parent: Option<NodeId>,
    ) -> NodeId {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            key,
            value,
            kind,
            parent: parent.unwrap_or(NONE),
            end: id + 1,
        });
        id
    }

    /// Sets a node's value (an XML element whose text is known after its children).
    pub(crate) fn set_value(&mut self, id: NodeId, value: Span, kind: ValueKind) {
        if let Some(node) = self.nodes.get_mut(id as usize) {
            node.value = value;
            node.kind = kind;
        }
    }

    /// Whether a node has children.
    pub(crate) fn has_children(&self, id: NodeId) -> bool {
        self.nodes.get(id as usize).is_some_and(|n| n.end > id + 1)
    }

    /// Marks the end of a container's children.
    pub(crate) fn close(&mut self, id: NodeId) {
        let end = self.nodes.len() as u32;
        if let Some(node) = self.nodes.get_mut(id as usize) {
            node.end = end;
        }
    }

    /// Declares the record complete: everything pushed so far came from the source.
    pub(crate) fn seal(&mut self) {
        self.base = self.nodes.len() as u32;
    }

    /// Appends a top-level text field (CSV column, Zeek field, ...). `None` is an unset value.
    pub fn push_field(&mut self, key: &str, value: Option<&str>) -> NodeId {
        let key = self.push_text(key);
        match value {
            Some(v) => {
                let value = self.push_text(v);
                self.push_node(key, value, ValueKind::String, None)
            }
            None => self.push_node(key, Span::NONE, ValueKind::Null, None),
        }
    }

    /// Appends a text field under `parent`.
    #[cfg(test)]
    pub(crate) fn push_child(&mut self, parent: NodeId, key: &str, value: &str) -> NodeId {
        let key = self.push_text(key);
        let value = self.push_text(value);
        self.push_node(key, value, ValueKind::String, Some(parent))
    }

    /// Opens an object under `parent` (or at top level).
    #[cfg(test)]
    pub(crate) fn open_object(&mut self, key: &str, parent: Option<NodeId>) -> NodeId {
        let key = self.push_text(key);
        self.push_node(key, Span::NONE, ValueKind::Object, parent)
    }

    // ----- reading (profiles) -----

    fn span(&self, span: Span) -> &str {
        if span.start == NONE {
            return "";
        }
        let (text, start) = if span.start & KEY_TEXT != 0 {
            (&self.column_text, (span.start & !KEY_TEXT) as usize)
        } else {
            (&self.text, span.start as usize)
        };
        text.get(start..start + span.len as usize).unwrap_or("")
    }

    /// The node's own key (empty for array elements).
    pub fn key(&self, id: NodeId) -> &str {
        self.nodes.get(id as usize).map_or("", |n| self.span(n.key))
    }

    /// The node's kind.
    pub fn kind(&self, id: NodeId) -> ValueKind {
        self.nodes
            .get(id as usize)
            .map_or(ValueKind::Null, |n| n.kind)
    }

    /// The node's scalar text: `None` for null and containers (an element with both text and
    /// attributes, as in EVTX XML, has both a value and children).
    pub fn value(&self, id: NodeId) -> Option<&str> {
        let node = self.nodes.get(id as usize)?;
        if node.value.start == NONE {
            return None;
        }
        Some(self.span(node.value))
    }

    /// The node's parent.
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        let node = self.nodes.get(id as usize)?;
        (node.parent != NONE).then_some(node.parent)
    }

    /// The direct children of a node.
    pub fn children(&self, id: NodeId) -> Children<'_> {
        match self.nodes.get(id as usize) {
            Some(node) => Children {
                record: self,
                next: id + 1,
                end: node.end,
            },
            None => Children {
                record: self,
                next: 0,
                end: 0,
            },
        }
    }

    /// The top-level fields, in source order.
    pub fn top_level(&self) -> Children<'_> {
        Children {
            record: self,
            next: 0,
            end: self.decoded_len(),
        }
    }

    fn decoded_len(&self) -> u32 {
        if self.base == 0 {
            self.nodes.len() as u32
        } else {
            self.base
        }
    }

    /// Finds the node a key names.
    pub fn find(&self, key: &Key) -> Option<NodeId> {
        if self.tabular() {
            // Rows of one header: the column a key names is known after the first row.
            let cached = key.column.load(Ordering::Relaxed);
            if (cached >> 32) as u32 == self.schema {
                let column = cached as u32;
                return (column != NONE).then_some(column);
            }
            let found = self.find_in(0, self.decoded_len(), &key.path, false);
            key.column.store(
                (u64::from(self.schema) << 32) | u64::from(found.unwrap_or(NONE)),
                Ordering::Relaxed,
            );
            return found;
        }
        let hint = key.hint.load(Ordering::Relaxed);
        if hint < self.decoded_len() && self.node_has_path(hint, &key.path) {
            return Some(hint);
        }
        let found = self.find_in(0, self.decoded_len(), &key.path, false)?;
        // Built-in keys are shared by all threads: write only when the position changed, so the
        // cache line stays shared while records of one schema are read.
        if hint != found {
            key.hint.store(found, Ordering::Relaxed);
        }
        Some(found)
    }

    /// Finds a path below a node.
    pub fn find_below(&self, id: NodeId, path: &str) -> Option<NodeId> {
        let node = self.nodes.get(id as usize)?;
        self.find_in(id + 1, node.end, path, node.kind == ValueKind::Array)
    }

    /// Finds a direct child by key, ignoring ASCII case.
    pub fn child_ignore_case(&self, id: NodeId, key: &str) -> Option<NodeId> {
        self.children(id)
            .find(|&c| self.key(c).eq_ignore_ascii_case(key))
    }

    /// The scalar text a key names (`None` when absent, null or a container).
    pub fn get(&self, key: &Key) -> Option<&str> {
        self.value(self.find(key)?)
    }

    fn find_in(&self, mut id: u32, end: u32, path: &str, array: bool) -> Option<u32> {
        // Array elements are addressed by their position: the path's leading number.
        let digits = path.bytes().take_while(u8::is_ascii_digit).count();
        let wanted: Option<usize> = if array {
            path[..digits].parse().ok()
        } else {
            None
        };
        let mut ordinal = 0usize;
        while id < end {
            let node = self.nodes.get(id as usize)?;
            let matched_len = if array {
                (wanted == Some(ordinal)).then_some(digits)
            } else {
                let key = self.span(node.key);
                path.starts_with(key).then_some(key.len())
            };
            if let Some(len) = matched_len {
                if path.len() == len {
                    return Some(id);
                }
                if path.as_bytes()[len] == b'.' && node.end > id + 1 {
                    if let Some(found) = self.find_in(
                        id + 1,
                        node.end,
                        &path[len + 1..],
                        node.kind == ValueKind::Array,
                    ) {
                        return Some(found);
                    }
                }
            }
            ordinal += 1;
            id = node.end.max(id + 1);
        }
        None
    }

    /// Whether node `id`'s full path is `path` (for the lookup cache).
    fn node_has_path(&self, mut id: u32, path: &str) -> bool {
        let mut rest = path;
        loop {
            let Some(node) = self.nodes.get(id as usize) else {
                return false;
            };
            let key = self.span(node.key);
            if let Some(parent) = self.nodes.get(node.parent as usize) {
                if parent.kind == ValueKind::Array {
                    return false;
                }
            }
            let Some(prefix) = rest.strip_suffix(key) else {
                return false;
            };
            if node.parent == NONE {
                return prefix.is_empty();
            }
            let Some(prefix) = prefix.strip_suffix('.') else {
                return false;
            };
            rest = prefix;
            id = node.parent;
        }
    }

    /// Parses a string node holding JSON (an Exchange `Parameters` cell, an AAD `InitiatedBy`
    /// column) and returns the container it becomes; containers are returned as they are.
    /// `None` when the text is not a JSON object or array.
    pub fn expand_json(&mut self, id: NodeId) -> Option<NodeId> {
        match self.kind(id) {
            ValueKind::Object | ValueKind::Array => return Some(id),
            ValueKind::String => {}
            _ => return None,
        }
        if let Some(&(_, expanded)) = self.expanded.iter().find(|(s, _)| *s == id) {
            return (expanded != NONE).then_some(expanded);
        }
        if self.base == 0 {
            self.seal();
        }
        let text = self.value(id)?.trim_start();
        let lenient = match text.as_bytes().first() {
            Some(b'{' | b'[') => !text.contains('"') && text.contains('\''),
            _ => {
                self.expanded.push((id, NONE));
                return None;
            }
        };
        let text = text.to_string();
        let nodes_before = self.nodes.len();
        let text_before = self.text.len();
        let result = crate::json::parse_nested(&text, self, id, lenient);
        match result {
            Ok(root) => {
                self.expanded.push((id, root));
                Some(root)
            }
            Err(_) => {
                self.nodes.truncate(nodes_before);
                self.text.truncate(text_before);
                self.expanded.push((id, NONE));
                None
            }
        }
    }

    /// Looks a key up, expanding JSON held in strings along the way (`InitiatedBy.user.ipAddress`
    /// where `InitiatedBy` is a string of JSON).
    pub fn find_deep(&mut self, key: &Key) -> Option<NodeId> {
        if let Some(id) = self.find(key) {
            return Some(id);
        }
        let path = key.path();
        // Find the longest prefix naming a string node, expand it, and look below.
        let mut cut = path.len();
        while let Some(dot) = path[..cut].rfind('.') {
            cut = dot;
            let prefix = Key::new(&path[..cut]);
            if let Some(id) = self.find(&prefix) {
                let container = self.expand_json(id)?;
                let rest = path[cut + 1..].to_string();
                return self.find_below(container, &rest);
            }
        }
        None
    }

    /// Writes a node as compact JSON (strings escaped), for parameter values and extra fields.
    pub fn write_json(&self, id: NodeId, out: &mut String) {
        let Some(node) = self.nodes.get(id as usize) else {
            return;
        };
        match node.kind {
            ValueKind::String => write_json_string(self.span(node.value), out),
            ValueKind::Number | ValueKind::Bool => out.push_str(self.span(node.value)),
            ValueKind::Null => out.push_str("null"),
            ValueKind::Object => {
                out.push('{');
                for (i, child) in self.children(id).enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(self.key(child), out);
                    out.push(':');
                    self.write_json(child, out);
                }
                out.push('}');
            }
            ValueKind::Array => {
                out.push('[');
                for (i, child) in self.children(id).enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.write_json(child, out);
                }
                out.push(']');
            }
        }
    }

    /// A node as display text: scalars as they are, arrays of scalars joined by `,` (Zeek's
    /// set separator), other containers as compact JSON. `None` for null.
    pub fn text_of(&self, id: NodeId, out: &mut String) -> bool {
        match self.kind(id) {
            ValueKind::Null => false,
            ValueKind::String | ValueKind::Number | ValueKind::Bool => {
                out.push_str(self.value(id).unwrap_or(""));
                true
            }
            ValueKind::Array
                if self
                    .children(id)
                    .all(|c| !matches!(self.kind(c), ValueKind::Object | ValueKind::Array)) =>
            {
                for (i, child) in self.children(id).enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    if let Some(v) = self.value(child) {
                        out.push_str(v);
                    }
                }
                true
            }
            ValueKind::Object if self.value(id).is_some() => {
                out.push_str(self.value(id).unwrap_or(""));
                true
            }
            _ => {
                self.write_json(id, out);
                true
            }
        }
    }

    /// Visits every leaf as `(dotted key, text)` in source order, skipping nodes for which
    /// `skip` is true (fields a profile already mapped). Objects are flattened; arrays are
    /// given as one value (see [`Record::text_of`]); nulls are left out.
    pub fn for_each_leaf(&self, skip: &dyn Fn(NodeId) -> bool, visit: &mut dyn FnMut(&str, &str)) {
        let mut key = String::new();
        let mut value = String::new();
        for id in self.top_level() {
            self.leaf_walk(id, skip, &mut key, &mut value, visit);
        }
    }

    fn leaf_walk(
        &self,
        id: NodeId,
        skip: &dyn Fn(NodeId) -> bool,
        key: &mut String,
        value: &mut String,
        visit: &mut dyn FnMut(&str, &str),
    ) {
        if skip(id) {
            return;
        }
        // Top-level scalars (every field of a CSV, Zeek or W3C record) need no key or value
        // buffer.
        if key.is_empty() {
            match self.kind(id) {
                ValueKind::String | ValueKind::Number | ValueKind::Bool => {
                    if let Some(v) = self.value(id) {
                        visit(self.key(id), v);
                    }
                    return;
                }
                ValueKind::Null => return,
                _ => {}
            }
        }
        let mark = key.len();
        if !key.is_empty() {
            key.push('.');
        }
        key.push_str(self.key(id));
        match self.kind(id) {
            ValueKind::Object => {
                if let Some(text) = self.value(id) {
                    if !text.is_empty() {
                        visit(key, text);
                    }
                }
                for child in self.children(id) {
                    self.leaf_walk(child, skip, key, value, visit);
                }
            }
            ValueKind::Null => {}
            ValueKind::String | ValueKind::Number | ValueKind::Bool => {
                if let Some(v) = self.value(id) {
                    visit(key, v);
                }
            }
            ValueKind::Array => {
                value.clear();
                if self.text_of(id, value) {
                    visit(key, value);
                }
            }
        }
        key.truncate(mark);
    }

    /// Every node id, for building per-node flags.
    pub fn ids(&self) -> std::ops::Range<NodeId> {
        0..self.nodes.len() as u32
    }

    /// Key paths of the top-level fields (for "unrecognised record" messages).
    pub fn describe_keys(&self, max: usize) -> String {
        let mut out = String::new();
        for (i, id) in self.top_level().enumerate() {
            if i == max {
                out.push_str(", …");
                break;
            }
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{}", crate::error::excerpt(self.key(id)));
        }
        out
    }
}

/// Iterator over the children of a node.
pub struct Children<'a> {
    record: &'a Record,
    next: u32,
    end: u32,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next >= self.end {
            return None;
        }
        let id = self.next;
        let node = self.record.nodes.get(id as usize)?;
        self.next = node.end.max(id + 1);
        Some(id)
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(escape);
        }
        last = i + 1;
    }
    out.push_str(&s[last..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        let mut r = Record::new();
        r.push_field("id.orig_h", Some("10.0.0.1"));
        let winlog = r.open_object("winlog", None);
        let data = r.open_object("event_data", Some(winlog));
        r.push_child(data, "CommandLine", "cmd /c whoami");
        r.close(data);
        r.push_child(winlog, "channel", "Security");
        r.close(winlog);
        r.push_field("unset", None);
        r.seal();
        r
    }

    #[test]
    fn finds_literal_dotted_and_nested_keys() {
        let r = sample();
        assert_eq!(r.get(&Key::new("id.orig_h")), Some("10.0.0.1"));
        let cmd = Key::new("winlog.event_data.CommandLine");
        assert_eq!(r.get(&cmd), Some("cmd /c whoami"));
        // Second lookup goes through the cached position.
        assert_eq!(r.get(&cmd), Some("cmd /c whoami"));
        assert_eq!(r.get(&Key::new("winlog.channel")), Some("Security"));
        assert_eq!(r.get(&Key::new("winlog.event")), None);
        assert_eq!(r.get(&Key::new("unset")), None);
        assert_eq!(r.top_level().count(), 3);
    }

    #[test]
    fn stale_hints_are_checked() {
        let r = sample();
        let key = Key::new("winlog.channel");
        assert!(r.find(&key).is_some());
        let mut other = Record::new();
        other.push_field("a", Some("1"));
        other.push_field("b", Some("2"));
        other.push_field("c", Some("3"));
        other.push_field("channel", Some("x"));
        other.seal();
        assert_eq!(other.get(&key), None);
    }

    #[test]
    fn flattens_leaves_with_dotted_keys() {
        let r = sample();
        let mut seen = Vec::new();
        r.for_each_leaf(&|_| false, &mut |k, v| seen.push(format!("{k}={v}")));
        assert_eq!(
            seen,
            vec![
                "id.orig_h=10.0.0.1",
                "winlog.event_data.CommandLine=cmd /c whoami",
                "winlog.channel=Security"
            ]
        );
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        write_json_string("a\"b\\c\n\u{1}", &mut out);
        assert_eq!(out, r#""a\"b\\c\n\u0001""#);
    }
}
