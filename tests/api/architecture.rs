//! Architecture rules, checked by reading the source under `src/` (no compiler help, std only).
//!
//! 1. No import cycles: neither between top-level modules (`api`, `server`, `service`, ...) nor
//!    between individual modules, apart from a module and its own ancestors/descendants.
//! 2. Source files stay short (at most 400 lines) or say at the top why they are not.
//!
//! The scanner is deliberately simple. It assumes what this crate does: one module per file
//! (`a/mod.rs` or `a.rs` is `a`, `a/b.rs` is `a::b`), no `#[path]`, no inline modules apart from
//! `#[cfg(test)] mod tests { ... }` (ignored: tests may reach anywhere). Only paths starting with
//! `crate::`, `super::` or `self::` count; a module's own `child::Item` can only point down, and
//! edges between a module and its descendants are allowed anyway.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

/// Files longer than this must explain themselves in their first lines.
const LONG_FILE_LINES: usize = 400;
/// How far down the explanation may be.
const HEADER_LINES: usize = 15;

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let files = source_files();
    let references = references_by_file(&files);
    let modules = ModuleIndex::new(&files, &references);

    // Graph (a): top-level modules. Graph (b): full module paths.
    // Each edge keeps the first reference that created it, as evidence.
    let mut top_level = Graph::new();
    let mut modules_graph = Graph::new();
    for (file, refs) in files.iter().zip(&references) {
        for reference in refs {
            if !is_module_path(&reference.path) {
                continue;
            }
            let Some(full_path) = absolute(&reference.path, &file.module) else {
                continue;
            };
            let target = modules.resolve(full_path);
            let evidence =
                format!("src/{}:{} ({})", file.relative, reference.line, reference.path.join("::"));
            // The crate root (lib.rs) is everybody's parent: not a top-level module of its own.
            if let (Some(from), Some(to)) = (file.module.first(), target.first())
                && from != to
            {
                top_level.add(from, to, &evidence);
            }
            // A child using its parent's items, or a parent using its child, is normal Rust.
            if !is_prefix(&file.module, &target) && !is_prefix(&target, &file.module) {
                modules_graph.add(&module_name(&file.module), &module_name(&target), &evidence);
            }
        }
    }

    let mut problems = top_level.describe_cycles("top-level modules");
    problems.extend(modules_graph.describe_cycles("modules"));
    assert!(
        problems.is_empty(),
        "modules must not import a module that imports them back (move the shared part down, \
         or pass it in from above):\n\n{}",
        problems.join("\n\n")
    );
}

#[test]
fn source_files_are_short_or_say_why() {
    let mut offenders = Vec::new();
    for file in source_files_including_main() {
        let lines = file.text.lines().count();
        // The reason must be a comment (`//`, `//!`, `///`) near the top, where readers look first.
        let explained = file.text.lines().take(HEADER_LINES).any(|line| {
            line.trim_start().starts_with("//") && line.to_lowercase().contains("over 400 lines")
        });
        if lines > LONG_FILE_LINES && !explained {
            offenders.push(format!("src/{}: {lines} lines", file.relative));
        }
    }
    assert!(
        offenders.is_empty(),
        "source files over {LONG_FILE_LINES} lines must say why in their first {HEADER_LINES} \
         lines (e.g. `//! Over 400 lines because ...`), or be split:\n{}",
        offenders.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Source files and their module paths.

struct SourceFile {
    /// Path below `src/`, with `/` separators, e.g. `server/config.rs`.
    relative: String,
    /// Module path, e.g. `["server", "config"]`; empty for the crate root.
    module: Vec<String>,
    text: String,
}

/// Every `.rs` file under `src/` except `main.rs` (a separate binary crate, not a module).
fn source_files() -> Vec<SourceFile> {
    source_files_including_main().into_iter().filter(|file| file.relative != "main.rs").collect()
}

fn source_files_including_main() -> Vec<SourceFile> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    collect_rust_files(&src, &mut paths);
    paths.sort();
    assert!(!paths.is_empty(), "found no .rs files under {}", src.display());
    paths
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(&src)
                .expect("walked from src/")
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let text = fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
            SourceFile { module: module_of(&relative), relative, text }
        })
        .collect()
}

fn collect_rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|error| panic!("listing {}: {error}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect_rust_files(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            out.push(path);
        }
    }
}

/// `lib.rs` is the root, `a/mod.rs` and `a.rs` are `a`, `a/b.rs` is `a::b`.
fn module_of(relative: &str) -> Vec<String> {
    let mut parts: Vec<String> = relative.trim_end_matches(".rs").split('/').map(str::to_owned).collect();
    if parts == ["lib"] || parts == ["main"] {
        return Vec::new();
    }
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts
}

fn module_name(module: &[String]) -> String {
    if module.is_empty() { "crate".to_owned() } else { module.join("::") }
}

fn is_prefix(prefix: &[String], path: &[String]) -> bool {
    path.starts_with(prefix)
}

fn is_module_path(path: &[String]) -> bool {
    path.first().is_some_and(|first| first == "crate" || first == "super" || first == "self")
}

// ---------------------------------------------------------------------------------------------
// Cleaning: blank out what must not be read as code, keeping every newline so line numbers hold.

/// Replaces comments (line, doc and block) and the contents of string and char literals with
/// spaces. Strings matter too: `"/usr/lib/*/bin"` must not open a block comment, and a message
/// mentioning `crate::x` is no reference.
fn blank_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let after_identifier = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if !after_identifier && let Some((hashes, open)) = raw_string_start(&chars, i) {
            // r"...", r#"..."#, br"...": no escapes, ends at a quote followed by the same hashes.
            out.push('"');
            out.extend(std::iter::repeat_n(' ', open - i - 1));
            i = open;
            let closes_here = |j: usize| chars.get(j) == Some(&'"') && (1..=hashes).all(|k| at(j + k) == '#');
            while i < chars.len() && !closes_here(i) {
                out.push(blank(chars[i]));
                i += 1;
            }
            out.extend(std::iter::repeat_n(' ', hashes + 1));
            i += hashes + 1;
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if c == '\'' && at(i + 1) == '\\' {
            // Escaped char literal: '\n', '\'', '\u{1F600}'.
            let mut end = i + 3;
            while end < chars.len() && chars[end] != '\'' {
                end += 1;
            }
            out.extend(std::iter::repeat_n(' ', end + 1 - i));
            i = end + 1;
        } else if c == '\'' && at(i + 2) == '\'' {
            // Plain char literal such as '{' (a lifetime like 'a is never followed by a quote).
            out.push_str("   ");
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// If a raw string starts at `i`, returns its number of hashes and the index after its opening quote.
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (chars.get(j) == Some(&'"')).then_some((hashes, j + 1))
}

/// Blanks `#[cfg(test)] mod tests { ... }` by matching braces from the `mod tests` line.
/// Runs after `blank_comments_and_strings`, so braces in strings and comments do not count.
fn blank_test_modules(text: &str) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "#[cfg(test)]" {
            // Other attributes may sit between `#[cfg(test)]` and the module.
            let mut start = i + 1;
            while start < lines.len() && lines[start].trim_start().starts_with("#[") {
                start += 1;
            }
            if start < lines.len() && is_test_module_line(&lines[start]) {
                let mut depth = 0usize;
                let mut end = start;
                while end < lines.len() {
                    depth += lines[end].matches('{').count();
                    depth = depth.saturating_sub(lines[end].matches('}').count());
                    if depth == 0 {
                        break;
                    }
                    end += 1;
                }
                // An unbalanced module (should not compile) runs to the end of the file.
                let end = end.min(lines.len() - 1);
                for line in &mut lines[i..=end] {
                    line.clear();
                }
                i = end;
            }
        }
        i += 1;
    }
    lines.join("\n")
}

/// `mod tests {`, optionally with a visibility (`pub mod tests {`, `pub(crate) mod tests {`).
fn is_test_module_line(line: &str) -> bool {
    let line = line.trim();
    let Some(position) = line.find("mod tests") else {
        return false;
    };
    let visibility = line[..position].trim();
    let rest = line[position + "mod tests".len()..].trim_start();
    (visibility.is_empty() || visibility.starts_with("pub")) && rest.starts_with('{')
}

// ---------------------------------------------------------------------------------------------
// References: the `crate::`/`super::`/`self::` paths a file names, in `use` trees and in code.

struct Token {
    text: String,
    line: usize,
}

/// Identifiers, `::` and single punctuation characters, each with its line number.
fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token { text: chars[start..i].iter().collect(), line });
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push(Token { text: "::".to_owned(), line });
            i += 2;
        } else {
            tokens.push(Token { text: c.to_string(), line });
            i += 1;
        }
    }
    tokens
}

fn is_identifier(token: &Token) -> bool {
    token.text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Use,
    /// `pub use` / `pub(crate) use`: a re-export other modules may name instead of the original.
    PubUse,
    Inline,
}

struct Reference {
    /// As written, e.g. `["super", "config", "Settings"]` or `["crate", "domain", "*"]`.
    path: Vec<String>,
    line: usize,
    kind: Kind,
    /// The name it is known by here: the last segment, or what follows `as`.
    name: String,
}

fn references_by_file(files: &[SourceFile]) -> Vec<Vec<Reference>> {
    files
        .iter()
        .map(|file| {
            let code = blank_test_modules(&blank_comments_and_strings(&file.text));
            references(&tokenize(&code))
        })
        .collect()
}

fn references(tokens: &[Token]) -> Vec<Reference> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let previous = if i > 0 { tokens[i - 1].text.as_str() } else { "" };
        let text = tokens[i].text.as_str();
        if text == "use" && previous != "::" {
            let kind = if is_public(tokens, i) { Kind::PubUse } else { Kind::Use };
            let mut leaves = Vec::new();
            i = use_tree(tokens, i + 1, &[], &mut leaves);
            out.extend(leaves.into_iter().map(|(path, line, name)| Reference { path, line, kind, name }));
        } else if matches!(text, "crate" | "super" | "self")
            && previous != "::"
            && previous != "$" // `$crate::` in macros is the macro's own crate root, not a module.
            && tokens.get(i + 1).is_some_and(|next| next.text == "::")
        {
            // Inline path in code, e.g. `crate::api::rest::router()`: take every `::segment`.
            let line = tokens[i].line;
            let mut path = vec![text.to_owned()];
            i += 1;
            while i + 1 < tokens.len() && tokens[i].text == "::" && is_identifier(&tokens[i + 1]) {
                path.push(tokens[i + 1].text.clone());
                i += 2;
            }
            let name = path.last().cloned().unwrap_or_default();
            out.push(Reference { path, line, kind: Kind::Inline, name });
        } else {
            i += 1;
        }
    }
    out
}

/// Whether the `use` at `tokens[at]` is preceded by `pub` or `pub(...)`.
fn is_public(tokens: &[Token], at: usize) -> bool {
    let mut i = at;
    if i > 0 && tokens[i - 1].text == ")" {
        while i > 0 && tokens[i - 1].text != "(" {
            i -= 1;
        }
        i = i.saturating_sub(1);
    }
    i > 0 && tokens[i - 1].text == "pub"
}

/// Parses one use tree starting at `tokens[i]` below `prefix`, pushing every leaf as
/// (full path, line, name). Handles `a::b`, `a::{b, c::{d, e}}`, `a::*`, `a::{self, b}` and
/// `as`. Returns the index after the tree.
fn use_tree(
    tokens: &[Token],
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, usize, String)>,
) -> usize {
    let mut path = prefix.to_vec();
    let mut line = tokens.get(i).map_or(0, |token| token.line);
    let leaf = |path: Vec<String>, line: usize, alias: Option<&Token>| {
        let name = alias.map_or_else(|| path.last().cloned().unwrap_or_default(), |t| t.text.clone());
        (path, line, name)
    };
    while i < tokens.len() {
        let token = &tokens[i];
        line = token.line;
        if token.text == "{" {
            i += 1;
            while i < tokens.len() && tokens[i].text != "}" {
                if tokens[i].text == "," {
                    i += 1;
                } else {
                    i = use_tree(tokens, i, &path, out);
                }
            }
            return i + 1;
        }
        if token.text == "*" {
            path.push("*".to_owned());
            out.push(leaf(path, line, None));
            return i + 1;
        }
        if token.text == "self" && !path.is_empty() {
            // `a::{self, b}` names `a` itself.
            if tokens.get(i + 1).is_some_and(|next| next.text == "as") {
                out.push(leaf(path, line, tokens.get(i + 2)));
                return i + 3;
            }
            out.push(leaf(path, line, None));
            return i + 1;
        }
        if is_identifier(token) {
            path.push(token.text.clone());
            i += 1;
            match tokens.get(i).map(|next| next.text.as_str()) {
                Some("::") => {
                    i += 1;
                    continue;
                }
                Some("as") => {
                    out.push(leaf(path, line, tokens.get(i + 1)));
                    return i + 2;
                }
                _ => {
                    out.push(leaf(path, line, None));
                    return i;
                }
            }
        }
        // Anything else (`;`, `}` of a malformed tree) ends it.
        break;
    }
    out.push(leaf(path, line, None));
    i
}

/// Turns `crate::a::b`, `super::c` or `self::d` into an absolute path (no `crate` segment),
/// relative to the module `here`. In `a::b` (file a/b.rs) `super::c` is `a::c`; in `a/mod.rs`
/// (module `a`) `super::c` is `c`. `None` for a `super` above the crate root.
fn absolute(path: &[String], here: &[String]) -> Option<Vec<String>> {
    if path.first().is_some_and(|first| first == "crate") {
        return Some(path[1..].to_vec());
    }
    let mut module = here.to_vec();
    let mut rest = path;
    while let Some(first) = rest.first() {
        match first.as_str() {
            "super" => {
                module.pop()?;
            }
            "self" => {}
            _ => break,
        }
        rest = &rest[1..];
    }
    module.extend(rest.iter().cloned());
    Some(module)
}

// ---------------------------------------------------------------------------------------------
// Resolving a path to the module that defines what it names.

struct ModuleIndex {
    modules: BTreeSet<Vec<String>>,
    /// (module, name) -> absolute path of the original, from `pub use` in that module: so
    /// `crate::server::Settings` (re-exported by server/mod.rs) counts as `server::config`.
    reexports: HashMap<(Vec<String>, String), Vec<String>>,
}

impl ModuleIndex {
    fn new(files: &[SourceFile], references: &[Vec<Reference>]) -> Self {
        let modules: BTreeSet<Vec<String>> = files.iter().map(|file| file.module.clone()).collect();
        let mut reexports = HashMap::new();
        for (file, refs) in files.iter().zip(references) {
            for reference in refs.iter().filter(|r| r.kind == Kind::PubUse) {
                let path = &reference.path;
                if path.last().is_none_or(|last| last == "*") {
                    continue; // A glob re-exports no single name we can follow.
                }
                let original = if is_module_path(path) {
                    absolute(path, &file.module)
                } else {
                    // `pub use config::Settings;` is relative to this module if `config` is a
                    // child module; otherwise it names another crate.
                    let mut child = file.module.clone();
                    child.push(path[0].clone());
                    modules.contains(&child).then(|| [file.module.clone(), path.clone()].concat())
                };
                if let Some(original) = original {
                    reexports.insert((file.module.clone(), reference.name.clone()), original);
                }
            }
        }
        Self { modules, reexports }
    }

    /// The longest prefix of `path` that is a module with a file, ignoring item names at the
    /// end, after following re-exports.
    fn resolve(&self, mut path: Vec<String>) -> Vec<String> {
        let mut followed = BTreeSet::new();
        loop {
            let length =
                (0..=path.len()).rev().find(|&length| self.modules.contains(&path[..length])).unwrap_or(0);
            let module = path[..length].to_vec();
            if let Some(item) = path.get(length) {
                let key = (module.clone(), item.clone());
                if let Some(original) = self.reexports.get(&key)
                    && followed.insert(key)
                {
                    path = [original.clone(), path[length + 1..].to_vec()].concat();
                    continue;
                }
            }
            return module;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Graphs and cycles.

/// Directed graph; every edge remembers the first reference that created it.
struct Graph {
    edges: BTreeMap<String, BTreeMap<String, String>>,
}

impl Graph {
    fn new() -> Self {
        Self { edges: BTreeMap::new() }
    }

    fn add(&mut self, from: &str, to: &str, evidence: &str) {
        self.edges
            .entry(from.to_owned())
            .or_default()
            .entry(to.to_owned())
            .or_insert_with(|| evidence.to_owned());
        self.edges.entry(to.to_owned()).or_default();
    }

    fn successors(&self, node: &str) -> impl Iterator<Item = &String> {
        self.edges.get(node).into_iter().flat_map(BTreeMap::keys)
    }

    /// One message per distinct cycle: for every strongly connected component (Tarjan), the
    /// shortest cycle through each of its members, so every member shows up at least once.
    fn describe_cycles(&self, title: &str) -> Vec<String> {
        let mut messages = Vec::new();
        for component in self.strongly_connected_components() {
            let mut seen = BTreeSet::new();
            for start in &component {
                let cycle = self.shortest_cycle(start, &component);
                let edges: BTreeSet<(String, String)> =
                    cycle.windows(2).map(|pair| (pair[0].clone(), pair[1].clone())).collect();
                if !seen.insert(edges) {
                    continue;
                }
                let mut message = vec![format!("{title}: cycle {}", cycle.join(" -> "))];
                for pair in cycle.windows(2) {
                    let evidence = &self.edges[&pair[0]][&pair[1]];
                    message.push(format!("    {} -> {}: {evidence}", pair[0], pair[1]));
                }
                messages.push(message.join("\n"));
            }
        }
        messages
    }

    /// Components with more than one node (there are no self-edges: those are filtered out).
    fn strongly_connected_components(&self) -> Vec<BTreeSet<String>> {
        struct Tarjan<'g> {
            graph: &'g Graph,
            index: HashMap<&'g str, usize>,
            low: HashMap<&'g str, usize>,
            stack: Vec<&'g str>,
            on_stack: BTreeSet<&'g str>,
            components: Vec<BTreeSet<String>>,
        }
        impl<'g> Tarjan<'g> {
            fn visit(&mut self, node: &'g str) {
                let number = self.index.len();
                self.index.insert(node, number);
                self.low.insert(node, number);
                self.stack.push(node);
                self.on_stack.insert(node);
                let graph = self.graph;
                for next in graph.successors(node) {
                    let next = next.as_str();
                    if !self.index.contains_key(next) {
                        self.visit(next);
                        let low = self.low[node].min(self.low[next]);
                        self.low.insert(node, low);
                    } else if self.on_stack.contains(next) {
                        let low = self.low[node].min(self.index[next]);
                        self.low.insert(node, low);
                    }
                }
                if self.low[node] == self.index[node] {
                    let mut component = BTreeSet::new();
                    while let Some(member) = self.stack.pop() {
                        self.on_stack.remove(member);
                        component.insert(member.to_owned());
                        if member == node {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        self.components.push(component);
                    }
                }
            }
        }
        let mut tarjan = Tarjan {
            graph: self,
            index: HashMap::new(),
            low: HashMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            components: Vec::new(),
        };
        for node in self.edges.keys() {
            if !tarjan.index.contains_key(node.as_str()) {
                tarjan.visit(node);
            }
        }
        tarjan.components
    }

    /// Breadth-first search from `start` back to itself inside `component`, as
    /// `[start, ..., start]`. Every member of a strongly connected component is on a cycle.
    fn shortest_cycle(&self, start: &String, component: &BTreeSet<String>) -> Vec<String> {
        let mut came_from: HashMap<&String, &String> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            for next in self.successors(node).filter(|next| component.contains(*next)) {
                if next == start {
                    let mut cycle = vec![start.clone()];
                    let mut at = node;
                    while at != start {
                        cycle.push(at.clone());
                        at = came_from[at];
                    }
                    cycle.push(start.clone());
                    cycle.reverse();
                    return cycle;
                }
                if !came_from.contains_key(next) {
                    came_from.insert(next, node);
                    queue.push_back(next);
                }
            }
        }
        unreachable!("{start} is in a strongly connected component, so on a cycle")
    }
}
