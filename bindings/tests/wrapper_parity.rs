//! The hand-written Kotlin (android/) and Swift (ios/) wrappers expose the same operations, so an
//! app developer finds on one platform what the other has, and neither drifts.
//!
//! An operation is a public function or property a wrapper declares at the top level or in a
//! type (an extension function on `PatrolStore`, `toFix`, the network monitor's `networkState`
//! and `state`); members of local objects (listeners inside a function body) and private or
//! internal ones are not. Names compare as written: Kotlin and Swift both say `issueUpdates`.
//! The generated bindings are not read: they come from one Rust API and match by construction.

use std::collections::BTreeSet;
use std::path::Path;

/// The hand-written Kotlin: every `.kt` file in the wrapper's package, the generated `ffi/` aside.
const KOTLIN_DIR: &str = "android/src/main/kotlin/org/streetpatrol";
/// The hand-written Swift: every `.swift` file in the package's sources, `Generated/` aside.
const SWIFT_DIR: &str = "ios/Sources/StreetPatrol";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Kotlin,
    Swift,
}

/// What a brace opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// A class, object, interface, enum, struct or extension: its public members count.
    Type { public: bool },
    /// A function body, an initialiser, a lambda or any other block: nothing in it counts.
    Body,
}

/// The text of a line with comments and string literals taken out (braces and keywords in them
/// must not count). `in_block` carries a `/* */` comment over lines.
fn code_of(line: &str, in_block: &mut bool) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if *in_block {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                *in_block = false;
            }
            continue;
        }
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '/' if chars.peek() == Some(&'/') => break,
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                *in_block = true;
            }
            _ => out.push(c),
        }
    }
    out
}

const HIDDEN: &[&str] = &["private", "internal", "protected", "fileprivate"];
const TYPE_WORDS: &[&str] = &[
    "class",
    "object",
    "interface",
    "enum",
    "struct",
    "extension",
    "protocol",
    "actor",
];

/// The name a declaration line declares as an operation, if it declares one: `fun Recv.name(`,
/// `func name(`, `val name`, `var name`, `let name`.
fn declared(words: &[&str], lang: Lang) -> Option<String> {
    let keywords: &[&str] = match lang {
        Lang::Kotlin => &["fun", "val", "var"],
        Lang::Swift => &["func", "var", "let"],
    };
    let at = words.iter().position(|w| keywords.contains(w))?;
    let mut rest = *words.get(at + 1)?;
    if rest.starts_with('<') {
        rest = words.get(at + 2)?; // `fun <T> name(`
    }
    let name = rest
        .split(['(', ':', '<', '=', '{'])
        .next()?
        .rsplit('.') // Kotlin's receiver: `PatrolStore.Companion.open`
        .next()?
        .trim_matches('`');
    (!name.is_empty()).then(|| name.to_string())
}

/// The operations a wrapper's source declares.
fn operations(source: &str, lang: Lang) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut scopes: Vec<Scope> = Vec::new();
    let mut in_block = false;
    // A declaration whose body's brace has not come yet (a signature over several lines).
    let mut pending: Option<Scope> = None;
    for line in source.lines() {
        let code = code_of(line, &mut in_block);
        let words: Vec<&str> = code.split_whitespace().collect();
        let visible = scopes.iter().all(|s| *s == Scope::Type { public: true });
        let hidden = words.iter().any(|w| HIDDEN.contains(w));
        let public = match lang {
            // Kotlin's default is public; Swift's is internal.
            Lang::Kotlin => !hidden,
            Lang::Swift => words.iter().any(|w| *w == "public" || *w == "open") && !hidden,
        };
        let is_type = words
            .iter()
            .take_while(|w| !w.contains('('))
            .any(|w| TYPE_WORDS.contains(w))
            && !words.contains(&"fun")
            && !words.contains(&"func");
        if is_type {
            // Swift extensions take the visibility of their members.
            let open = public || (lang == Lang::Swift && words.contains(&"extension") && !hidden);
            pending = Some(Scope::Type { public: open });
        } else if let Some(name) = declared(&words, lang) {
            let in_init = words.first().is_some_and(|w| *w == "init");
            if visible && public && !in_init {
                found.insert(name);
            }
            pending = Some(Scope::Body);
        }
        for c in code.chars() {
            match c {
                '{' => scopes.push(pending.take().unwrap_or(Scope::Body)),
                '}' => {
                    scopes.pop();
                }
                _ => {}
            }
        }
        // A declaration that ended without a brace (`fun f() = x`, `data class X(val a: Int)`)
        // opens nothing; one whose signature goes on (`(`, `,`, `=`, `:`) may still open one.
        if pending.is_some() && !code.trim_end().ends_with(['(', ',', '=', ':']) {
            pending = None;
        }
    }
    found
}

/// The operations of every file with `ext` directly in `dir` and its subfolders other than
/// `skip`.
fn operations_in(dir: &Path, ext: &str, skip: &str, lang: Lang) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()))
        {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != skip) {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|x| x == ext) {
                files.push(path);
            }
        }
    }
    assert!(!files.is_empty(), "no .{ext} file in {}", dir.display());
    for f in files {
        let text = std::fs::read_to_string(&f)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", f.display()));
        found.extend(operations(&text, lang));
    }
    found
}

/// What one side has and the other lacks, as a message; none when they match.
fn difference(kotlin: &BTreeSet<String>, swift: &BTreeSet<String>) -> Option<String> {
    let only_kotlin: Vec<_> = kotlin.difference(swift).cloned().collect();
    let only_swift: Vec<_> = swift.difference(kotlin).cloned().collect();
    if only_kotlin.is_empty() && only_swift.is_empty() {
        return None;
    }
    Some(format!(
        "the Kotlin and Swift wrappers expose different operations:\n  only in Kotlin ({KOTLIN_DIR}): {only_kotlin:?}\n  only in Swift ({SWIFT_DIR}): {only_swift:?}\nadd the missing ones (or remove the extra ones) so both platforms offer the same"
    ))
}

#[test]
fn kotlin_and_swift_wrappers_expose_the_same_operations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bindings/ is in the repository");
    let kotlin = operations_in(&root.join(KOTLIN_DIR), "kt", "ffi", Lang::Kotlin);
    let swift = operations_in(&root.join(SWIFT_DIR), "swift", "Generated", Lang::Swift);
    // The wrappers are read for real: the operations every platform has are found on both sides.
    for op in ["issueUpdates", "recordingUpdates", "toFix", "networkState"] {
        assert!(
            kotlin.contains(op) && swift.contains(op),
            "{op} not found: Kotlin {kotlin:?}, Swift {swift:?}"
        );
    }
    if let Some(d) = difference(&kotlin, &swift) {
        panic!("{d}");
    }
}

#[cfg(test)]
mod parser {
    use super::*;

    const KOTLIN: &str = r#"
package org.streetpatrol

/** A doc comment mentioning fun notAnOperation() { } and "use { }". */
fun PatrolStore.issueUpdates(query: IssueQuery = IssueQuery()): Flow<List<IssueSummary>> =
    observed { send, fail ->
        observeIssues(query, object : IssueListListener {
            override fun onIssues(issues: List<IssueSummary>) = send(issues)
        })
    }

suspend fun PatrolStore.Companion.open(
    context: Context,
    fileName: String = "x.db",
): PatrolStore = withContext(io) {
    val file = context.getDatabasePath(fileName)
    open(file.path)
}

private fun <T> observed(start: () -> T): Flow<T> = callbackFlow { awaitClose { } }

fun Location.toFix(): Fix = Fix(
    lat = latitude,
)

class AndroidNetworkMonitor(context: Context) : NetworkMonitor, AutoCloseable {
    private val connectivity = context.getSystemService("${'$'}{x} }")
    val state: StateFlow<NetworkState> = current.asStateFlow()
    init {
        register()
    }
    override fun networkState(): NetworkState = current.value
    override fun close() {
        unregister()
    }
    private companion object {
        fun stateOf(c: Int): NetworkState = when {
            else -> NetworkState.OFFLINE
        }
    }
}
"#;

    const SWIFT: &str = r#"
import Foundation

extension PatrolStore {
    /// Mentions func notAnOperation() { } in a comment.
    public func issueUpdates(query: IssueQuery = IssueQuery()) -> AsyncThrowingStream<[IssueSummary], Error> {
        observed { send, fail in
            try self.observeIssues(query: query, listener: Forwarder(send: send))
        }
    }

    public static func `open`(
        fileName: String = "x.db"
    ) async throws -> PatrolStore {
        try await Task.detached { let path = "}" }.value
    }

    private func observed<T>(_ start: () -> T) -> AsyncThrowingStream<T, Error> {
        fatalError()
    }
}

extension CLLocation {
    public func toFix() -> Fix {
        Fix(lat: coordinate.latitude)
    }
}

private final class Forwarder: IssueListListener {
    func onIssues(issues: [IssueSummary]) { }
    public func leaked() { }
}

public final class PathNetworkMonitor: NetworkMonitor, @unchecked Sendable {
    private let monitor = NWPathMonitor()
    public init(queue: DispatchQueue = DispatchQueue(label: "q")) {
        monitor.start(queue: queue)
    }
    public func networkState() -> NetworkState { current }
    public var state: AsyncStream<NetworkState> {
        AsyncStream { continuation in let x = 1 }
    }
    public func close() { monitor.cancel() }
}
"#;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn kotlin_operations_are_public_declarations_outside_bodies() {
        assert_eq!(
            operations(KOTLIN, Lang::Kotlin),
            set(&[
                "issueUpdates",
                "open",
                "toFix",
                "state",
                "networkState",
                "close"
            ])
        );
    }

    #[test]
    fn swift_operations_are_public_declarations_outside_bodies() {
        assert_eq!(
            operations(SWIFT, Lang::Swift),
            set(&[
                "issueUpdates",
                "open",
                "toFix",
                "state",
                "networkState",
                "close"
            ])
        );
    }

    #[test]
    fn a_drifted_wrapper_is_reported_with_what_each_side_lacks() {
        let kotlin = operations(KOTLIN, Lang::Kotlin);
        let swift_without_close = operations(
            &SWIFT.replace("public func close()", "func close()"),
            Lang::Swift,
        );
        let swift_with_extra = operations(
            &SWIFT.replace(
                "extension CLLocation {",
                "extension CLLocation {\n    public func rejectedSyncItems() -> [Int] { [] }",
            ),
            Lang::Swift,
        );
        assert_eq!(difference(&kotlin, &operations(SWIFT, Lang::Swift)), None);
        let missing = difference(&kotlin, &swift_without_close).expect("close is only in Kotlin");
        assert!(
            missing
                .contains("only in Kotlin (android/src/main/kotlin/org/streetpatrol): [\"close\"]"),
            "{missing}"
        );
        assert!(
            missing.contains("only in Swift (ios/Sources/StreetPatrol): []"),
            "{missing}"
        );
        let extra = difference(&kotlin, &swift_with_extra).expect("an extra Swift operation");
        assert!(
            extra.contains("only in Swift (ios/Sources/StreetPatrol): [\"rejectedSyncItems\"]"),
            "{extra}"
        );
    }
}
