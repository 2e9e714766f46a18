//! DNS look-ups as a Zeek `dns.log` (TSV, with Zeek's real header lines), with injected DNS
//! tunnels and a DGA burst for the `dns` detector.
//!
//! Background per host and day: ordinary browsing (popular sites and their usual subdomains,
//! weighted by popularity, and a long tail of 2,500 small sites with a few typos that fail), CDN names with random-looking labels (`d1a2b3….cloudfront.net`,
//! `e1234.dscb.akamaiedge.net`, `rr3---sn-….googlevideo.com`), telemetry
//! (`*.events.data.microsoft.com`, `incoming.telemetry.mozilla.org`, GUID probes under
//! `clo.footprintdns.com`), the organisation's own AD domain (host look-ups, `_ldap` SRV,
//! `wpad` NXDOMAIN), reverse look-ups, and NetBIOS (`WPAD`, `WORKGROUP`, the `*` status query
//! on port 137) and mDNS (`_googlecast._tcp.local` on port 5353) noise.
//!
//! Injections, each with a [`Label`] whose subject is the registered domain the `dns` detector
//! reports:
//! - [`tunnel_injection`]: an iodine-style tunnel (one client, base32 payload labels of up to
//!   63 characters under a delegated zone, NULL and TXT queries) or a dnscat2-style one (hex
//!   payload labels, TXT/CNAME/MX queries);
//! - [`dga_injection`]: one infected host looking up a burst of algorithmically generated
//!   `.com`/`.net`/`.info` names, nearly all NXDOMAIN.

use crate::environment::{Environment, HostRole};
use crate::Label;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::io::Write;

/// One DNS transaction, before rendering.
#[derive(Clone, Debug, PartialEq)]
pub struct DnsRecord {
    /// Nanoseconds since the epoch.
    pub time_ns: i64,
    /// Client address.
    pub client: String,
    /// Server address.
    pub server: String,
    /// Server port (53; 137 NetBIOS; 5353 mDNS).
    pub port: u16,
    /// Question name.
    pub query: String,
    /// Question type number (1 A, 28 AAAA, 5 CNAME, 15 MX, 16 TXT, 10 NULL, 12 PTR, 33 SRV,
    /// 32 NB).
    pub qtype: u16,
    /// Response code (0 NOERROR, 3 NXDOMAIN), `None` when unanswered.
    pub rcode: Option<u8>,
    /// Answers (comma-separated), empty when none.
    pub answers: String,
}

/// The Zeek header of a `dns.log` opened at `open` (`YYYY-MM-DD-HH-MM-SS`).
pub fn zeek_header(open: &str) -> String {
    format!(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#open\t{open}\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\n"
    )
}

/// Zeek's `qtype_name` of a type number.
pub fn qtype_name(qtype: u16, port: u16) -> &'static str {
    match (qtype, port) {
        (32, _) => "NB",
        (33, 137) => "NBSTAT",
        (1, _) => "A",
        (28, _) => "AAAA",
        (5, _) => "CNAME",
        (15, _) => "MX",
        (16, _) => "TXT",
        (10, _) => "NULL",
        (12, _) => "PTR",
        (33, _) => "SRV",
        (6, _) => "SOA",
        _ => "*",
    }
}

const UID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl DnsRecord {
    /// The record as one Zeek TSV line (no newline).
    pub fn to_zeek_tsv(&self, rng: &mut ChaCha8Rng) -> String {
        let uid: String = std::iter::once('C')
            .chain((0..17).map(|_| UID_CHARS[rng.random_range(0..UID_CHARS.len())] as char))
            .collect();
        let secs = self.time_ns.div_euclid(1_000_000_000);
        let micros = self.time_ns.rem_euclid(1_000_000_000) / 1000;
        let (rcode, rcode_name, rtt) = match self.rcode {
            Some(0) => (
                "0",
                "NOERROR",
                format!("{:.6}", rng.random_range(0.001..0.09)),
            ),
            Some(3) => (
                "3",
                "NXDOMAIN",
                format!("{:.6}", rng.random_range(0.001..0.09)),
            ),
            Some(2) => ("2", "SERVFAIL", "-".to_string()),
            _ => ("-", "-", "-".to_string()),
        };
        let orig_port = if self.port == 53 {
            rng.random_range(49_152..65_535)
        } else {
            self.port
        };
        let (answers, ttls) = if self.answers.is_empty() {
            ("-".to_string(), "-".to_string())
        } else {
            let n = self.answers.split(',').count();
            (self.answers.clone(), vec!["300.000000"; n].join(","))
        };
        let proto = "udp";
        format!(
            "{secs}.{micros:06}\t{uid}\t{}\t{orig_port}\t{}\t{}\t{proto}\t{}\t{rtt}\t{}\t1\tC_INTERNET\t{}\t{}\t{rcode}\t{rcode_name}\tF\tF\t{}\t{}\t0\t{answers}\t{ttls}\tF",
            self.client,
            self.server,
            self.port,
            rng.random_range(0..65_535u32),
            self.query,
            self.qtype,
            qtype_name(self.qtype, self.port),
            if self.port == 53 { "T" } else { "F" },
            if self.rcode.is_some() && self.port == 53 { "T" } else { "F" },
        )
    }
}

/// Options for [`generate`].
#[derive(Clone, Debug)]
pub struct DnsOptions {
    /// Mean look-ups per workstation per weekday (servers make a third as many).
    pub queries_per_host_day: f64,
    /// Inject an iodine-style tunnel on this day (0-based), if any.
    pub tunnel_day: Option<u32>,
    /// Inject a dnscat2-style tunnel on this day, if any.
    pub dnscat_day: Option<u32>,
    /// Inject a DGA burst on this day, if any.
    pub dga_day: Option<u32>,
}

impl Default for DnsOptions {
    fn default() -> Self {
        DnsOptions {
            queries_per_host_day: 400.0,
            tunnel_day: None,
            dnscat_day: None,
            dga_day: None,
        }
    }
}

/// Popular sites: (registered domain, usual subdomains, weight).
const SITES: &[(&str, &[&str], f64)] = &[
    (
        "google.com",
        &[
            "www", "mail", "apis", "accounts", "drive", "docs", "clients4", "ogs", "play", "fonts",
        ],
        30.0,
    ),
    (
        "gstatic.com",
        &["www", "ssl", "fonts", "encrypted-tbn0"],
        12.0,
    ),
    (
        "googleapis.com",
        &[
            "www",
            "fonts",
            "ajax",
            "storage",
            "oauth2",
            "content-autofill",
        ],
        12.0,
    ),
    (
        "microsoft.com",
        &[
            "www",
            "login",
            "go",
            "support",
            "learn",
            "ctldl.windowsupdate",
        ],
        14.0,
    ),
    ("office.com", &["www", "outlook", "login", "portal"], 12.0),
    (
        "office365.com",
        &["outlook", "substrate", "attachments"],
        8.0,
    ),
    ("windowsupdate.com", &["ctldl", "download", "fe2"], 4.0),
    ("live.com", &["login", "outlook", "account"], 6.0),
    (
        "slack.com",
        &["app", "edgeapi", "wss-primary", "files", "ocmcorp"],
        8.0,
    ),
    ("zoom.us", &["us02web", "zoom", "us04web", "log"], 5.0),
    ("github.com", &["www", "api", "codeload", "avatars"], 4.0),
    ("githubusercontent.com", &["raw", "avatars", "objects"], 3.0),
    ("wikipedia.org", &["en", "www", "upload"], 3.0),
    ("nytimes.com", &["www", "static01", "a1"], 2.0),
    ("bbc.co.uk", &["www", "static", "ichef"], 2.0),
    ("amazon.com", &["www", "images-na", "fls-na", "m"], 4.0),
    ("linkedin.com", &["www", "static", "media"], 4.0),
    ("salesforce.com", &["login", "corp", "static"], 3.0),
    ("adobe.com", &["www", "assets", "cc-api-data"], 2.0),
    ("dropbox.com", &["www", "client", "bolt", "d"], 2.0),
    ("apple.com", &["www", "gs", "mesu", "ocsp"], 3.0),
    ("digicert.com", &["ocsp", "crl3", "crl4"], 3.0),
    ("lencr.org", &["r3.o", "x1.c", "r10.o"], 2.0),
    (
        "doubleclick.net",
        &["stats.g", "securepubads.g", "ad", "googleads.g"],
        4.0,
    ),
    ("facebook.com", &["www", "static", "graph"], 3.0),
    ("youtube.com", &["www", "i", "m"], 5.0),
    ("reddit.com", &["www", "oauth", "gql"], 2.0),
    ("stackoverflow.com", &["www", "cdn.sstatic"], 2.0),
    ("yahoo.com", &["www", "mail", "finance", "news"], 2.0),
    ("cnn.com", &["www", "edition", "cdn"], 1.5),
    ("weather.com", &["www", "api"], 1.0),
    ("zendesk.com", &["support", "static"], 1.0),
    ("atlassian.net", &["corp", "api"], 2.0),
    ("okta.com", &["corp", "login", "ok7static"], 3.0),
    ("docusign.net", &["www", "account"], 1.0),
];

/// Lower-case letters and digits, as CDN and cache labels use.
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const BASE32: &[u8] = b"abcdefghijklmnopqrstuvwxyz012345";

fn random_label(rng: &mut ChaCha8Rng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

fn zipf_pick(rng: &mut ChaCha8Rng, total: f64, weights: impl Iterator<Item = f64>) -> usize {
    let mut pick = rng.random::<f64>() * total;
    let mut last = 0;
    for (i, w) in weights.enumerate() {
        last = i;
        if pick < w {
            return i;
        }
        pick -= w;
    }
    last
}

fn public_ip(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.random_range(13..223),
        rng.random_range(0..255),
        rng.random_range(0..255),
        rng.random_range(1..254)
    )
}

/// The DNS server every client asks: the domain controller.
fn resolver(env: &Environment) -> String {
    env.hosts
        .iter()
        .find(|h| h.role == HostRole::DomainController)
        .map(|h| h.ip.clone())
        .unwrap_or_else(|| "10.10.0.10".to_string())
}

/// Words for the long tail of small sites (shops, blogs, local businesses, suppliers).
const WORDS: &[&str] = &[
    "alpine", "blue", "finch", "books", "river", "stone", "garden", "tours", "coffee", "harbor",
    "maple", "studio", "north", "craft", "pixel", "green", "valley", "bright", "metro", "urban",
    "forest", "lake", "summit", "cedar", "ocean", "sun", "silver", "golden", "swift", "nova",
    "prime", "smart", "happy", "daily", "city", "home", "travel", "market", "tech", "cloud",
    "data", "media", "press", "news", "shop", "store", "supply", "parts", "auto", "bike", "pet",
    "kitchen", "wine", "bakery", "dental", "clinic", "law", "finance", "energy", "solar",
];
const TLDS: &[&str] = &[
    "com", "com", "com", "net", "org", "io", "de", "co.uk", "fr", "nl", "ca",
];

/// Stable per-organisation names (CDN distributions, the long tail of small sites), so the
/// same names recur every day.
struct Cdn {
    cloudfront: Vec<String>,
    akamai: Vec<String>,
    googlevideo: Vec<String>,
    small_sites: Vec<String>,
}

impl Cdn {
    fn new(env: &Environment) -> Cdn {
        // Derived from the organisation, not from the day's stream: stable across days.
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(
            env.hosts.len() as u64 * 7919 + env.users.len() as u64,
        );
        Cdn {
            cloudfront: (0..40)
                .map(|_| format!("d{}.cloudfront.net", random_label(&mut rng, ALNUM, 13)))
                .collect(),
            akamai: (0..30)
                .map(|_| {
                    format!(
                        "e{}.{}.akamaiedge.net",
                        rng.random_range(1000..99_999),
                        ["dscb", "dscx", "dsca", "b", "a"][rng.random_range(0..5)]
                    )
                })
                .collect(),
            googlevideo: (0..60)
                .map(|_| {
                    format!(
                        "rr{}---sn-{}.googlevideo.com",
                        rng.random_range(1..9),
                        random_label(&mut rng, ALNUM, 8)
                    )
                })
                .collect(),
            small_sites: (0..2500)
                .map(|_| {
                    let a = WORDS[rng.random_range(0..WORDS.len())];
                    let b = WORDS[rng.random_range(0..WORDS.len())];
                    let sep = if rng.random_bool(0.3) { "-" } else { "" };
                    let tld = TLDS[rng.random_range(0..TLDS.len())];
                    if rng.random_bool(0.2) {
                        format!("{a}{sep}{b}{}.{tld}", rng.random_range(1..99))
                    } else {
                        format!("{a}{sep}{b}.{tld}")
                    }
                })
                .collect(),
        }
    }
}

/// Generates the look-ups of one day (unsorted).
pub fn day_records(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    day: u32,
    options: &DnsOptions,
) -> Vec<DnsRecord> {
    let cdn = Cdn::new(env);
    let server = resolver(env);
    let weekend = env.is_weekend(day);
    let day_start = env.day_start(day).unix_nanos();
    let site_total: f64 = SITES.iter().map(|s| s.2).sum();
    let mut out = Vec::new();
    for host in &env.hosts {
        let human = host.role == HostRole::Workstation;
        let scale = match (human, weekend) {
            (true, false) => 1.0,
            (true, true) => 0.2,
            (false, _) => 0.33,
        };
        let mean = options.queries_per_host_day * scale;
        let n = (mean * (0.7 + 0.6 * rng.random::<f64>())).round() as usize;
        for _ in 0..n {
            let offset = if human {
                env.working_time(rng)
            } else {
                env.machine_time(rng)
            };
            let record =
                |query: String, qtype: u16, rcode: Option<u8>, answers: String| DnsRecord {
                    time_ns: day_start + offset,
                    client: host.ip.clone(),
                    server: server.clone(),
                    port: 53,
                    query,
                    qtype,
                    rcode,
                    answers,
                };
            let kind = rng.random_range(0..1000);
            let qtype = if rng.random_bool(0.35) { 28 } else { 1 };
            let r = match kind {
                // The long tail of small sites, and now and then a typo that fails.
                0..=159 if human => {
                    let site = &cdn.small_sites[rng.random_range(0..cdn.small_sites.len())];
                    if rng.random_bool(0.04) {
                        let typo = format!("{}x{site}", random_label(rng, ALNUM, 1));
                        record(typo, qtype, Some(3), String::new())
                    } else {
                        let sub = [
                            "",
                            "www.",
                            "www.",
                            "cdn.",
                            "static.",
                            "img.",
                            "api.",
                            "shop.",
                            "static-assets.",
                            "cdn-images.eu.",
                            "autodiscover.",
                            "media.prod.",
                            "login.secure.",
                            "tracking.region1.",
                        ][rng.random_range(0..14)];
                        record(format!("{sub}{site}"), qtype, Some(0), public_ip(rng))
                    }
                }
                // Browsing (only people browse).
                160..=479 if human => {
                    let i = zipf_pick(rng, site_total, SITES.iter().map(|s| s.2));
                    let (domain, subs, _) = SITES[i];
                    let name = if rng.random_bool(0.15) {
                        domain.to_string()
                    } else {
                        format!("{}.{domain}", subs[rng.random_range(0..subs.len())])
                    };
                    record(name, qtype, Some(0), public_ip(rng))
                }
                0..=479 => record(
                    format!(
                        "{}.windowsupdate.com",
                        ["ctldl", "download"][rng.random_range(0..2)]
                    ),
                    qtype,
                    Some(0),
                    public_ip(rng),
                ),
                // CDNs with random-looking labels.
                480..=599 => {
                    let name = match rng.random_range(0..3) {
                        0 => cdn.cloudfront[rng.random_range(0..cdn.cloudfront.len())].clone(),
                        1 => cdn.akamai[rng.random_range(0..cdn.akamai.len())].clone(),
                        _ if human => {
                            cdn.googlevideo[rng.random_range(0..cdn.googlevideo.len())].clone()
                        }
                        _ => cdn.akamai[rng.random_range(0..cdn.akamai.len())].clone(),
                    };
                    record(name, qtype, Some(0), public_ip(rng))
                }
                // Telemetry.
                600..=699 => {
                    let name = match rng.random_range(0..6) {
                        0 => "v10.events.data.microsoft.com".to_string(),
                        1 => "self.events.data.microsoft.com".to_string(),
                        2 => "settings-win.data.microsoft.com".to_string(),
                        3 => "incoming.telemetry.mozilla.org".to_string(),
                        4 => format!(
                            "{}.clo.footprintdns.com",
                            crate::windows::guid(rng).to_lowercase()
                        ),
                        _ => format!(
                            "{}-{}.{}.events.data.microsoft.com",
                            ["umwatson", "watson", "mobile"][rng.random_range(0..3)],
                            random_label(rng, HEX, 6),
                            ["eu", "us"][rng.random_range(0..2)]
                        ),
                    };
                    let rcode = Some(0);
                    record(name, qtype, rcode, public_ip(rng))
                }
                // The organisation's own AD domain.
                700..=899 => {
                    let (name, qt, rcode) = match rng.random_range(0..10) {
                        0..=4 => {
                            let other = &env.hosts[rng.random_range(0..env.hosts.len())];
                            (other.fqdn.clone(), 1, Some(0))
                        }
                        5..=6 => (
                            format!("_ldap._tcp.dc._msdcs.{}", env.dns_domain),
                            33,
                            Some(0),
                        ),
                        7 => (format!("_kerberos._tcp.{}", env.dns_domain), 33, Some(0)),
                        8 => (format!("wpad.{}", env.dns_domain), 1, Some(3)),
                        _ => (env.dns_domain.to_string(), 1, Some(0)),
                    };
                    let answer = if rcode == Some(0) {
                        format!("10.10.0.{}", rng.random_range(10..250))
                    } else {
                        String::new()
                    };
                    record(name, qt, rcode, answer)
                }
                // Reverse look-ups.
                900..=949 => {
                    let name = format!(
                        "{}.{}.10.10.in-addr.arpa",
                        rng.random_range(10..250),
                        rng.random_range(0..2)
                    );
                    record(
                        name,
                        12,
                        Some(if rng.random_bool(0.5) { 0 } else { 3 }),
                        String::new(),
                    )
                }
                // NetBIOS name service.
                950..=974 => {
                    let (name, qt) = match rng.random_range(0..4) {
                        0 => ("WPAD".to_string(), 32),
                        1 => ("WORKGROUP".to_string(), 32),
                        2 => (env.domain.to_string(), 32),
                        _ => (format!("*{}", "\\x00".repeat(15)), 33),
                    };
                    let broadcast = "10.10.255.255".to_string();
                    let mut r = record(name, qt, None, String::new());
                    r.server = broadcast;
                    r.port = 137;
                    r
                }
                // mDNS.
                _ => {
                    let name = [
                        "_googlecast._tcp.local",
                        "_spotify-connect._tcp.local",
                        "_ipp._tcp.local",
                    ][rng.random_range(0..3)]
                    .to_string();
                    let mut r = record(name, 12, None, String::new());
                    r.server = "224.0.0.251".to_string();
                    r.port = 5353;
                    r
                }
            };
            out.push(r);
        }
    }
    out
}

/// How a tunnel encodes its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelKind {
    /// iodine: base32 labels up to 63 characters under a delegated zone; NULL queries (its
    /// default downstream) with some TXT.
    Iodine,
    /// dnscat2: hex labels, TXT, CNAME and MX queries.
    Dnscat2,
}

/// A DNS tunnel from one workstation: `queries` look-ups spread over a few hours of `day`.
pub fn tunnel_injection(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    day: u32,
    kind: TunnelKind,
    queries: usize,
    labels: &mut Vec<Label>,
) -> Vec<DnsRecord> {
    let workstations: Vec<usize> = (0..env.hosts.len())
        .filter(|&h| env.hosts[h].role == HostRole::Workstation)
        .collect();
    let host = workstations
        .get(rng.random_range(0..workstations.len().max(1)))
        .copied()
        .unwrap_or(0);
    let client = env
        .hosts
        .get(host)
        .map_or("10.10.0.99".to_string(), |h| h.ip.clone());
    let (zone, registered) = match kind {
        TunnelKind::Iodine => ("t1.zonecheck-update.net", "zonecheck-update.net"),
        TunnelKind::Dnscat2 => ("cdnsync-status.org", "cdnsync-status.org"),
    };
    let start = env.day_start(day).unix_nanos() + 13 * 3_600_000_000_000;
    let span = 3 * 3_600_000_000_000i64;
    let server = resolver(env);
    let mut out = Vec::with_capacity(queries);
    for i in 0..queries {
        let time_ns =
            start + span * i as i64 / queries.max(1) as i64 + rng.random_range(0..1_000_000);
        let (query, qtype) = match kind {
            TunnelKind::Iodine => {
                // iodine packs up to ~200 bytes of encoded data in labels of at most 63.
                let total = rng.random_range(60..190);
                let mut labels_text = Vec::new();
                let mut left = total;
                while left > 0 {
                    let n = left.min(63);
                    labels_text.push(random_label(rng, BASE32, n));
                    left -= n;
                }
                let qtype = if rng.random_bool(0.8) { 10 } else { 16 };
                (format!("{}.{zone}", labels_text.join(".")), qtype)
            }
            TunnelKind::Dnscat2 => {
                let total = rng.random_range(40..120);
                let hex = random_label(rng, HEX, total);
                let split: Vec<&str> = hex
                    .as_bytes()
                    .chunks(60)
                    .map(|c| std::str::from_utf8(c).unwrap_or(""))
                    .collect();
                let qtype = [16, 16, 16, 5, 15][rng.random_range(0..5)];
                (format!("dnscat.{}.{zone}", split.join(".")), qtype)
            }
        };
        out.push(DnsRecord {
            time_ns,
            client: client.clone(),
            server: server.clone(),
            port: 53,
            query,
            qtype,
            rcode: Some(0),
            answers: match qtype {
                16 => random_label(rng, BASE32, 40),
                10 => String::new(),
                _ => format!("{}.{zone}", random_label(rng, HEX, 12)),
            },
        });
    }
    labels.push(Label {
        detector: "dns".into(),
        subject: registered.to_string(),
        technique: "T1071.004".into(),
        description: format!(
            "{} DNS tunnel from {} ({queries} look-ups under {zone})",
            match kind {
                TunnelKind::Iodine => "iodine-style",
                TunnelKind::Dnscat2 => "dnscat2-style",
            },
            env.hosts.get(host).map_or("?", |h| h.name.as_str())
        ),
    });
    out
}

/// A DGA burst: one infected workstation looks up `domains` generated names within minutes,
/// all but a few NXDOMAIN. Each generated name is its own registered domain (and label).
pub fn dga_injection(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    day: u32,
    domains: usize,
    labels: &mut Vec<Label>,
) -> Vec<DnsRecord> {
    let workstations: Vec<usize> = (0..env.hosts.len())
        .filter(|&h| env.hosts[h].role == HostRole::Workstation)
        .collect();
    let host = workstations
        .get(rng.random_range(0..workstations.len().max(1)))
        .copied()
        .unwrap_or(0);
    let client = env
        .hosts
        .get(host)
        .map_or("10.10.0.98".to_string(), |h| h.ip.clone());
    let server = resolver(env);
    let start = env.day_start(day).unix_nanos() + 10 * 3_600_000_000_000;
    let consonants = b"bcdfghjklmnpqrstvwxz";
    let vowels = b"aeiouy";
    let mut out = Vec::new();
    for i in 0..domains {
        // Simda-like pronounceable names: consonant-vowel pairs.
        let pairs = rng.random_range(3..6);
        let mut name = String::new();
        for _ in 0..pairs {
            name.push(consonants[rng.random_range(0..consonants.len())] as char);
            name.push(vowels[rng.random_range(0..vowels.len())] as char);
        }
        if rng.random_bool(0.5) {
            name.push(consonants[rng.random_range(0..consonants.len())] as char);
        }
        let tld = ["com", "net", "info", "biz"][rng.random_range(0..4)];
        let domain = format!("{name}.{tld}");
        let resolves = i % 25 == 7;
        let tries = rng.random_range(1..3);
        for t in 0..tries {
            out.push(DnsRecord {
                time_ns: start
                    + (i as i64 * 2 + t) * 1_500_000_000
                    + rng.random_range(0..500_000_000),
                client: client.clone(),
                server: server.clone(),
                port: 53,
                query: domain.clone(),
                qtype: 1,
                rcode: Some(if resolves { 0 } else { 3 }),
                answers: if resolves {
                    public_ip(rng)
                } else {
                    String::new()
                },
            });
        }
        labels.push(Label {
            detector: "dns".into(),
            subject: domain.clone(),
            technique: "T1568.002".into(),
            description: format!(
                "DGA look-up from {}",
                env.hosts.get(host).map_or("?", |h| h.name.as_str())
            ),
        });
    }
    out
}

/// Writes `env.days` days of look-ups as one Zeek `dns.log`, in time order, with the
/// injections `options` asks for, and returns how many records were written.
pub fn generate(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    options: &DnsOptions,
    out: &mut dyn Write,
    labels: &mut Vec<Label>,
) -> std::io::Result<u64> {
    let open = env.start.to_string();
    let open = open
        .get(..19)
        .unwrap_or("2024-03-04T00:00:00")
        .replace(['T', ':'], "-");
    out.write_all(zeek_header(&open).as_bytes())?;
    let mut written = 0;
    for day in 0..env.days {
        let mut records = day_records(env, rng, day, options);
        if options.tunnel_day == Some(day) {
            records.extend(tunnel_injection(
                env,
                rng,
                day,
                TunnelKind::Iodine,
                2000,
                labels,
            ));
        }
        if options.dnscat_day == Some(day) {
            records.extend(tunnel_injection(
                env,
                rng,
                day,
                TunnelKind::Dnscat2,
                800,
                labels,
            ));
        }
        if options.dga_day == Some(day) {
            records.extend(dga_injection(env, rng, day, 60, labels));
        }
        records.sort_by_key(|r| r.time_ns);
        for r in &records {
            writeln!(out, "{}", r.to_zeek_tsv(rng))?;
            written += 1;
        }
    }
    writeln!(out, "#close\t{open}")?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn env(rng: &mut ChaCha8Rng) -> Environment {
        let start = oddhunt_core::Timestamp::parse("2024-03-04T00:00:00Z").unwrap();
        Environment::new(rng, 20, 30, 2, start)
    }

    #[test]
    fn zeek_lines_have_every_column_and_injections_are_labelled() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let env = env(&mut rng);
        let mut labels = Vec::new();
        let tunnel = tunnel_injection(&env, &mut rng, 1, TunnelKind::Iodine, 50, &mut labels);
        assert_eq!(tunnel.len(), 50);
        assert!(tunnel
            .iter()
            .all(|r| r.query.ends_with(".t1.zonecheck-update.net")));
        assert!(tunnel.iter().all(|r| r.client == tunnel[0].client));
        let dga = dga_injection(&env, &mut rng, 1, 10, &mut labels);
        assert!(dga.iter().filter(|r| r.rcode == Some(3)).count() > dga.len() / 2);
        assert_eq!(labels.len(), 11);
        assert_eq!(labels[0].subject, "zonecheck-update.net");
        let line = tunnel[0].to_zeek_tsv(&mut rng);
        assert_eq!(line.split('\t').count(), 24, "{line}");
        let header = zeek_header("2024-03-04-00-00-00");
        let fields = header
            .lines()
            .find(|l| l.starts_with("#fields"))
            .unwrap()
            .split('\t')
            .count();
        assert_eq!(fields - 1, 24);
    }

    #[test]
    fn deterministic_for_a_seed() {
        let run = || {
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let env = env(&mut rng);
            let mut out = Vec::new();
            let mut labels = Vec::new();
            let options = DnsOptions {
                queries_per_host_day: 50.0,
                tunnel_day: Some(1),
                ..DnsOptions::default()
            };
            generate(&env, &mut rng, &options, &mut out, &mut labels).unwrap();
            (out, labels)
        };
        let (a, la) = run();
        let (b, lb) = run();
        assert_eq!(a, b);
        assert_eq!(la, lb);
        let text = String::from_utf8(a).unwrap();
        assert!(text.starts_with("#separator \\x09\n"));
        assert!(text.contains("\tWPAD\t"));
        assert!(text.contains(".cloudfront.net\t"));
    }
}
