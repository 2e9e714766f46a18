//! Feature helpers shared by the feature-table detectors (`dns`, `web`, `exeprev`) and the
//! masquerade detector: string entropy, registered-domain split, URL parts, executable-path
//! normalisation, user-writable folders, and the bounded, mergeable counters their training
//! states are made of.
//!
//! Every counter here merges exactly: merging the states of two halves of a log gives the same
//! value, bit for bit, as counting the whole log, whatever the order (`merge(A, B) =
//! state(A ∪ B)`), which is what lets training run as partial states on many shards.
//!
//! - [`Distinct`] counts distinct values in bounded memory: it keeps the `K` smallest 64-bit
//!   hashes of the values seen (a bottom-k sketch). Up to `K` distinct values the count is
//!   exact; beyond, it is the standard KMV estimate `(K − 1) / (h₍K₎ / 2⁶⁴)` (relative error
//!   about `1/√K`) and the sketch is marked saturated. The kept set is the bottom-k of all
//!   values seen, so it does not depend on the order of events or on how a log was split.
//! - [`Sample`] keeps up to `K` values (the ones with the smallest hashes) with their exact
//!   counts: an element that ends in the sample was in it from its first occurrence on, in
//!   every partial state, so its count is exact and merges exactly.
//! - [`Kept`] keeps the `K` smallest items of an ordered type (provenance records: for a
//!   single file, its first `K` records).

use oddhunt_core::Timestamp;
use serde::{Deserialize, Serialize};

/// The hash map of the per-subject tables: foldhash (hashed once or twice per event; a plain
/// `HashMap`'s SipHash cost a tenth of the dns detector's time). Its iteration order is random:
/// detectors sort subjects before fitting, so results do not depend on it.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Shannon entropy of a string's bytes, in bits per byte (0 for an empty string, at most 8).
///
/// The DNS features measure how random a subdomain looks: `www` scores 0, a base32 iodine
/// label about 4.5–5, a hexadecimal dnscat2 label about 3.8–4.
pub fn shannon_entropy(text: &[u8]) -> f64 {
    if text.is_empty() {
        return 0.0;
    }
    // Count, remembering which symbols occur, so the sum visits only those (names use a few
    // dozen of the 256 byte values).
    let mut counts = [0u32; 256];
    let mut present = [0u8; 256];
    let mut distinct = 0;
    for &b in text {
        let c = &mut counts[b as usize];
        if *c == 0 {
            present[distinct] = b;
            distinct += 1;
        }
        *c += 1;
    }
    let n = text.len() as f64;
    let mut h = 0.0;
    for &b in &present[..distinct] {
        let p = f64::from(counts[b as usize]) / n;
        h -= p * p.log2();
    }
    h
}

/// A 64-bit hash that is the same on every platform and in every oddhunt version (partial
/// training states hashed on different machines must agree). Eight bytes at a time with a
/// multiply–xorshift step, then MurmurHash3's 64-bit finaliser so every output bit depends on
/// every input bit. Not cryptographic: an attacker who grinds names to get large hashes can only
/// make a distinct count saturate early (at about `2K`), not hide the values themselves.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    const MUL: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = 0x243F_6A88_85A3_08D3 ^ (bytes.len() as u64).wrapping_mul(MUL);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(word)).wrapping_mul(MUL);
        h ^= h >> 29;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(word)).wrapping_mul(MUL);
        h ^= h >> 29;
    }
    fmix64(h)
}

/// MurmurHash3's 64-bit finaliser.
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// Hashes of [`stable_hash`] are already well mixed: the hash set of a [`Distinct`] uses them as
/// they are instead of hashing them again.
#[derive(Clone, Copy, Debug, Default)]
pub struct PremixedHasher(u64);

impl std::hash::Hasher for PremixedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed; anything else is folded in for completeness.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type PremixedSet = std::collections::HashSet<u64, std::hash::BuildHasherDefault<PremixedHasher>>;

/// Distinct values in bounded memory (a bottom-k sketch of `K` hashes; see the module doc).
///
/// The kept hashes live in a hash set (membership in O(1), no shifting), with their maximum at
/// hand: once the sketch is saturated, a value whose hash is above the maximum — nearly every
/// value of a busy domain — is rejected by one comparison.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distinct<const K: usize> {
    /// The smallest hashes seen, at most `K`.
    hashes: PremixedSet,
    /// The largest kept hash (0 when empty).
    max: u64,
    /// More than `K` distinct values were seen.
    saturated: bool,
}

impl<const K: usize> Distinct<K> {
    /// Adds a value by its [`stable_hash`].
    pub fn insert_hash(&mut self, hash: u64) {
        if self.saturated && hash >= self.max {
            return;
        }
        if self.hashes.len() < K {
            if self.hashes.insert(hash) && hash > self.max {
                self.max = hash;
            }
            return;
        }
        if hash >= self.max || self.hashes.contains(&hash) {
            self.saturated |= hash > self.max;
            return;
        }
        // Smaller than the largest kept: it replaces it.
        self.saturated = true;
        self.hashes.remove(&self.max);
        self.hashes.insert(hash);
        self.max = self.hashes.iter().copied().max().unwrap_or(0);
    }

    /// Adds a value.
    pub fn insert(&mut self, value: &[u8]) {
        self.insert_hash(stable_hash(value));
    }

    /// Merges another sketch: the result is the sketch of the union.
    pub fn merge(&mut self, other: &Distinct<K>) {
        let mut all: Vec<u64> = self
            .hashes
            .iter()
            .chain(other.hashes.iter())
            .copied()
            .collect();
        all.sort_unstable();
        all.dedup();
        let dropped = all.len() > K;
        all.truncate(K);
        self.saturated = self.saturated || other.saturated || dropped;
        self.max = all.last().copied().unwrap_or(0);
        self.hashes = all.into_iter().collect();
    }

    /// The kept hashes, ascending (all values' hashes while the count is exact).
    pub fn hashes(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.hashes.iter().copied().collect();
        v.sort_unstable();
        v
    }

    /// Whether more than `K` distinct values were seen (the count is an estimate).
    pub fn is_estimate(&self) -> bool {
        self.saturated
    }

    /// The number of distinct values: exact up to `K`, the KMV estimate beyond.
    pub fn count(&self) -> f64 {
        if !self.saturated {
            return self.hashes.len() as f64;
        }
        if self.max > 0 && K > 1 {
            // (K − 1) / U(K), U(K) = h(K) / 2⁶⁴ the K-th smallest hash as a fraction of the range.
            let u = (self.max as f64 + 1.0) / 18_446_744_073_709_551_616.0;
            ((K - 1) as f64 / u).max(K as f64)
        } else {
            K as f64
        }
    }
}

/// Up to `K` values with exact counts (the values with the smallest hashes; see the module doc).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample<const K: usize> {
    /// `(hash, value, count)`, ascending by hash then value.
    entries: Vec<(u64, String, u64)>,
}

impl<const K: usize> Sample<K> {
    /// Counts `n` occurrences of `value`.
    pub fn add(&mut self, value: &str, n: u64) {
        self.add_hashed(stable_hash(value.as_bytes()), value, n);
    }

    /// Counts `n` occurrences of `value` whose [`stable_hash`] is `hash` (when the caller has
    /// it already).
    pub fn add_hashed(&mut self, hash: u64, value: &str, n: u64) {
        let at = self
            .entries
            .binary_search_by(|(h, v, _)| h.cmp(&hash).then_with(|| v.as_str().cmp(value)));
        match at {
            Ok(i) => self.entries[i].2 += n,
            Err(i) if i < K => {
                self.entries.insert(i, (hash, value.to_string(), n));
                self.entries.truncate(K);
            }
            Err(_) => {}
        }
    }

    /// Merges another sample (counts of shared values add).
    pub fn merge(&mut self, other: &Sample<K>) {
        for (h, v, n) in &other.entries {
            self.add_hashed(*h, v, *n);
        }
    }

    /// The kept values and counts, most frequent first (ties by value).
    pub fn by_count(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self
            .entries
            .iter()
            .map(|(_, s, n)| (s.as_str(), *n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }

    /// The most frequent kept value.
    pub fn most_frequent(&self) -> Option<&str> {
        self.by_count().first().map(|(s, _)| *s)
    }

    /// Number of kept values.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing was kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The `K` smallest items seen (ascending).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: Deserialize<'de> + Ord"))]
pub struct Kept<T, const K: usize> {
    items: Vec<T>,
}

impl<T, const K: usize> Default for Kept<T, K> {
    fn default() -> Self {
        Kept { items: Vec::new() }
    }
}

impl<T: Ord + Clone, const K: usize> Kept<T, K> {
    /// Offers an item (cloned only when kept).
    pub fn offer(&mut self, item: &T) {
        if self.items.len() == K && self.items.last().is_some_and(|last| item >= last) {
            return;
        }
        if let Err(at) = self.items.binary_search(item) {
            self.items.insert(at, item.clone());
            self.items.truncate(K);
        }
    }

    /// Merges another set.
    pub fn merge(&mut self, other: &Kept<T, K>) {
        for item in &other.items {
            self.offer(item);
        }
    }

    /// The kept items, ascending.
    pub fn items(&self) -> &[T] {
        &self.items
    }
}

/// The UTC calendar days (days since 1970-01-01) on which a subject was seen: the divisor of
/// its per-day features. Counting the subject's own days, not the log's, gives a tool that ran
/// on one day of a month the same rate in a month-long hunt as in that day's log, and keeps
/// gaps and files from other periods (a capture stamped 1970 next to this week's log) out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveDays(std::collections::BTreeSet<i64>);

impl ActiveDays {
    /// Notes the day of `time` (nothing for events without a time).
    pub fn add(&mut self, time: Option<Timestamp>) {
        if let Some(t) = time {
            let day = t.unix_seconds().div_euclid(86_400);
            // Most events repeat the last day seen: skip the tree walk for them.
            if self.0.last() != Some(&day) {
                self.0.insert(day);
            }
        }
    }

    /// Adds another set of days.
    pub fn merge(&mut self, other: &ActiveDays) {
        self.0.extend(other.0.iter().copied());
    }

    /// Days seen, at least 1 (a subject without times counts as one day).
    pub fn count(&self) -> f64 {
        self.0.len().max(1) as f64
    }
}

/// Earliest of two optional times.
pub fn min_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Latest of two optional times.
pub fn max_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// A DNS question name split at its registered domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DomainParts<'a> {
    /// The registered (registrable) domain: `example.co.uk` of `a.b.example.co.uk`.
    pub registered: &'a str,
    /// What lies left of it, without the joining dot (`a.b`); empty when none.
    pub subdomain: &'a str,
}

/// Splits a lower-case question name (no trailing dot) at its registered domain, by the public
/// suffix list compiled into the `psl` crate (ICANN and private sections: each CloudFront
/// distribution or S3 bucket is its own registered domain, as its owner differs). A name that is
/// itself a public suffix, or has no dot, is its own registered domain.
pub fn split_domain(name: &str) -> DomainParts<'_> {
    let registered = psl::domain_str(name).unwrap_or(name);
    // `domain_str` returns a suffix of `name`; anything else (it never should) keeps the name.
    let subdomain = match name.strip_suffix(registered) {
        Some("") => "",
        Some(rest) => rest.strip_suffix('.').unwrap_or(rest),
        None => {
            return DomainParts {
                registered: name,
                subdomain: "",
            }
        }
    };
    DomainParts {
        registered,
        subdomain,
    }
}

/// Writes `name` into `out` as the DNS features compare names: lower case, without surrounding
/// white space and trailing dots.
pub fn normalise_query(name: &str, out: &mut String) {
    out.clear();
    let trimmed = name.trim().trim_end_matches('.');
    out.push_str(trimmed);
    out.make_ascii_lowercase();
}

/// Folders where users (and malware) can write: a binary running from one of them is worth a
/// second look on its own. `folder_lower` is a lower-case folder (or full path) with Windows or
/// POSIX separators.
pub fn is_user_writable(folder_lower: &str) -> bool {
    const MARKERS: &[&str] = &[
        "\\temp\\",
        "\\tmp\\",
        "\\appdata\\",
        "\\users\\public\\",
        "\\programdata\\",
        "\\downloads\\",
        "\\desktop\\",
        "\\documents\\",
        "$recycle.bin",
        "\\perflogs\\",
        "\\windows\\tasks\\",
        "\\windows\\debug\\",
        "\\windows\\fonts\\",
        "/tmp/",
        "/var/tmp/",
        "/dev/shm/",
    ];
    let f = format!("{folder_lower}\\");
    let f = if folder_lower.contains('/') && !folder_lower.contains('\\') {
        format!("{folder_lower}/")
    } else {
        f
    };
    MARKERS.iter().any(|m| f.contains(m))
}

/// The folder part of a Windows or POSIX path (without the trailing separator).
pub fn folder_of(path: &str) -> &str {
    match path.rfind(['\\', '/']) {
        Some(i) => &path[..i],
        None => "",
    }
}

/// An executable path as the prevalence detector compares them: surrounding quotes and space
/// removed, lower case, the NT device prefix (`\??\`, `\\?\`) dropped, and the profile folder's
/// user name replaced by `*` (`c:\users\*\appdata\local\app\app.exe`), so one program installed
/// per user counts as one executable.
pub fn normalise_executable(path: &str) -> String {
    let trimmed = path.trim().trim_matches('"').trim();
    let mut p = trimmed.to_lowercase();
    for prefix in ["\\??\\", "\\\\?\\"] {
        if let Some(rest) = p.strip_prefix(prefix) {
            p = rest.to_string();
        }
    }
    for marker in ["\\users\\", "/home/", "/users/"] {
        if let Some(at) = p.find(marker) {
            let start = at + marker.len();
            let end = p[start..].find(['\\', '/']).map_or(p.len(), |i| start + i);
            // Keep the shared profiles: their name says something.
            let user = &p[start..end];
            if end < p.len() && !matches!(user, "public" | "default" | "all users") {
                p.replace_range(start..end, "*");
            }
            break;
        }
    }
    p
}

/// Parts of a request URI: the path (without query or fragment) and the query string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UriParts<'a> {
    /// Path without query and fragment (`/a/b.php`).
    pub path: &'a str,
    /// Query string without the `?` (empty when none).
    pub query: &'a str,
}

/// Splits a request URI into path and query. An absolute URI (`http://host/x`, proxy style)
/// keeps only its path.
pub fn split_uri(uri: &str) -> UriParts<'_> {
    let mut rest = uri;
    if let Some(scheme_end) = rest.find("://") {
        if rest[..scheme_end]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        {
            let after = &rest[scheme_end + 3..];
            rest = after.find('/').map_or("/", |i| &after[i..]);
        }
    }
    let rest = rest.split('#').next().unwrap_or(rest);
    match rest.split_once('?') {
        Some((path, query)) => UriParts { path, query },
        None => UriParts {
            path: rest,
            query: "",
        },
    }
}

/// Query parameters: how many, and the entropy of their values joined (what a SQL injection or
/// an encoded payload raises).
pub fn query_stats(query: &str) -> (u32, f64) {
    if query.is_empty() {
        return (0, 0.0);
    }
    let mut count = 0u32;
    let mut values: Vec<u8> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        count += 1;
        if let Some((_, value)) = pair.split_once('=') {
            values.extend_from_slice(value.as_bytes());
        }
    }
    (count, shannon_entropy(&values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_known_strings() {
        assert_eq!(shannon_entropy(b""), 0.0);
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"ab") - 1.0).abs() < 1e-12);
        // scipy.stats.entropy([1, 1, 1, 1], base=2) == 2.0
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-12);
        // "google": g 2, o 2, l 1, e 1 -> 1.9183 bits.
        assert!((shannon_entropy(b"google") - 1.918_295_834_054_489_6).abs() < 1e-12);
    }

    #[test]
    fn registered_domain_split() {
        let p = split_domain("a.b.example.co.uk");
        assert_eq!((p.registered, p.subdomain), ("example.co.uk", "a.b"));
        let p = split_domain("example.com");
        assert_eq!((p.registered, p.subdomain), ("example.com", ""));
        let p = split_domain("wpad");
        assert_eq!((p.registered, p.subdomain), ("wpad", ""));
        // The private section: each distribution is its own registered domain.
        let p = split_domain("d111111abcdef8.cloudfront.net");
        assert_eq!(p.registered, "d111111abcdef8.cloudfront.net");
        // Akamai lists its edge domains as private suffixes.
        let p = split_domain("e1234.dscb.akamaiedge.net");
        assert_eq!(
            (p.registered, p.subdomain),
            ("dscb.akamaiedge.net", "e1234")
        );
        let p = split_domain("238.0.0.10.in-addr.arpa");
        assert_eq!((p.registered, p.subdomain), ("10.in-addr.arpa", "238.0.0"));
        let mut s = String::new();
        normalise_query(" WWW.Example.COM. ", &mut s);
        assert_eq!(s, "www.example.com");
    }

    #[test]
    fn hash_is_stable() {
        // Fixed values: a change here breaks merging states from older oddhunt versions.
        assert_eq!(stable_hash(b""), stable_hash(b""));
        assert_ne!(stable_hash(b"a"), stable_hash(b"b"));
        assert_ne!(stable_hash(b"abcdefgh"), stable_hash(b"abcdefgh\0"));
        assert_eq!(stable_hash(b"example.com"), 0xc0f1_2df4_a60a_ecc9);
    }

    #[test]
    fn distinct_is_exact_then_estimates() {
        let mut d: Distinct<64> = Distinct::default();
        for i in 0..50 {
            d.insert(format!("v{i}").as_bytes());
            d.insert(format!("v{i}").as_bytes());
        }
        assert_eq!(d.count(), 50.0);
        assert!(!d.is_estimate());
        let mut big: Distinct<256> = Distinct::default();
        for i in 0..20_000 {
            big.insert(format!("label{i}.example").as_bytes());
        }
        assert!(big.is_estimate());
        let c = big.count();
        assert!((c - 20_000.0).abs() / 20_000.0 < 0.2, "{c}");
    }

    #[test]
    fn merges_equal_the_union() {
        let values: Vec<String> = (0..300).map(|i| format!("x{}", i % 200)).collect();
        let mut whole: Distinct<64> = Distinct::default();
        let mut whole_s: Sample<4> = Sample::default();
        for v in &values {
            whole.insert(v.as_bytes());
            whole_s.add(v, 1);
        }
        let (a, b) = values.split_at(123);
        let (mut left, mut right): (Distinct<64>, Distinct<64>) = Default::default();
        let (mut left_s, mut right_s): (Sample<4>, Sample<4>) = Default::default();
        a.iter().for_each(|v| {
            left.insert(v.as_bytes());
            left_s.add(v, 1);
        });
        b.iter().for_each(|v| {
            right.insert(v.as_bytes());
            right_s.add(v, 1);
        });
        right.merge(&left);
        right_s.merge(&left_s);
        assert_eq!(right, whole);
        assert_eq!(right_s, whole_s);
        let mut kept: Kept<u32, 3> = Kept::default();
        for v in [9, 4, 7, 4, 1, 8] {
            kept.offer(&v);
        }
        assert_eq!(kept.items(), &[1, 4, 7]);
    }

    #[test]
    fn executables_and_folders() {
        assert_eq!(
            normalise_executable(r#""C:\Users\Bob\AppData\Local\Temp\x.exe""#),
            r"c:\users\*\appdata\local\temp\x.exe"
        );
        assert_eq!(
            normalise_executable(r"C:\Users\Public\x.exe"),
            r"c:\users\public\x.exe"
        );
        assert_eq!(
            normalise_executable(r"\??\C:\Windows\System32\conhost.exe"),
            r"c:\windows\system32\conhost.exe"
        );
        assert!(is_user_writable(r"c:\windows\temp"));
        assert!(is_user_writable(r"c:\users\*\appdata\local\x"));
        assert!(is_user_writable(r"c:\users\bob\downloads\setup.exe"));
        assert!(is_user_writable("/tmp"));
        assert!(!is_user_writable(r"c:\windows\system32"));
        assert!(!is_user_writable(r"c:\program files\tempest\app.exe"));
        assert_eq!(folder_of(r"C:\Windows\Temp\a.exe"), r"C:\Windows\Temp");
    }

    #[test]
    fn uri_parts() {
        let u = split_uri("/index.php?id=1%27+OR+1=1&x=2#frag");
        assert_eq!(u.path, "/index.php");
        assert_eq!(u.query, "id=1%27+OR+1=1&x=2");
        assert_eq!(split_uri("http://example.com/a?b").path, "/a");
        assert_eq!(split_uri("http://example.com").path, "/");
        assert_eq!(split_uri("*").path, "*");
        let (n, h) = query_stats("id=1&flag&q=abcd");
        assert_eq!(n, 3);
        assert!(h > 2.0);
        assert_eq!(query_stats(""), (0, 0.0));
    }
}
