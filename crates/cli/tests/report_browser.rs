//! The HTML report in a real browser (headless Chromium): it renders its tables and charts
//! without errors, and attacker-controlled payloads in every field stay text.
//!
//! Needs Debian's `chromium`. Without it the test says so and passes, unless
//! `ODDHUNT_REQUIRE_BROWSER` is set (CI sets it, so there it must run).

use std::path::Path;
use std::process::Command;

fn chromium() -> Option<String> {
    for candidate in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(candidate.to_string());
        }
    }
    None
}

/// Renders `url` headless and returns the DOM after scripts ran.
fn dump_dom(browser: &str, url: &str, profile: &Path) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=8000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const PAYLOAD_IMG: &str = "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">";
const PAYLOAD_SCRIPT: &str =
    "</script><script>document.body.setAttribute('data-pwned','script')</script>";
const PAYLOAD_ATTR: &str = "\"onerror=document.body.setAttribute('data-pwned','attr') x=\"";

#[test]
fn report_renders_and_payloads_never_execute() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("ODDHUNT_REQUIRE_BROWSER").is_none(),
            "ODDHUNT_REQUIRE_BROWSER is set but no chromium was found"
        );
        eprintln!("skipping: no chromium on this machine (CI installs it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // A Sentinel-shaped 4688 log: a common svchost.exe, and a look-alike whose every field
    // carries a payload.
    let mut log = String::new();
    let row = |path: &str, cmd: &str, user: &str, host: &str, t: u32| {
        serde_json::json!({
            "TimeGenerated": format!("2024-03-04T10:{:02}:{:02}.000Z", t / 60 % 60, t % 60),
            "Type": "SecurityEvent", "EventID": 4688, "Channel": "Security",
            "Computer": host, "SubjectUserName": user, "SubjectDomainName": "CORP",
            "NewProcessName": path, "CommandLine": cmd,
            "ParentProcessName": "C:\\Windows\\System32\\services.exe",
        })
        .to_string()
    };
    for t in 0..200 {
        for name in [
            "svchost.exe",
            "conhost.exe",
            "dllhost.exe",
            "taskhostw.exe",
            "cmd.exe",
        ] {
            log.push_str(&row(
                &format!("C:\\Windows\\System32\\{name}"),
                name,
                "SYSTEM",
                "WKS-1",
                t,
            ));
            log.push('\n');
        }
    }
    let evil_path = format!("C:\\Users\\{PAYLOAD_IMG}\\AppData\\Temp\\svch0st.exe");
    let evil_cmd = format!("svch0st.exe {PAYLOAD_SCRIPT} {PAYLOAD_ATTR}");
    log.push_str(&row(&evil_path, &evil_cmd, PAYLOAD_ATTR, PAYLOAD_SCRIPT, 7));
    log.push('\n');
    let log_path = dir.path().join("evil.jsonl");
    std::fs::write(&log_path, log).unwrap();
    let report = dir.path().join("report.html");
    let findings = dir.path().join("findings.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_oddhunt"))
        .args(["hunt", "masquerade", "-q", "--format", "jsonl"])
        .arg("-i")
        .arg(&log_path)
        .arg("-o")
        .arg(&findings)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&findings).unwrap();
    let finding: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(finding["oddhunt.subject"], "svch0st.exe");
    let id = finding["oddhunt.id"].as_str().unwrap();

    // Open the report on that finding, its details expanded.
    let url = format!("file://{}#finding={id}", report.display());
    let dom = dump_dom(&browser, &url, &dir.path().join("profile"));
    let body = &dom[dom.find("<body").expect("a body")..];
    let body_tag = &body[..body.find('>').unwrap()];
    assert!(
        body_tag.contains("data-rendered=\"true\""),
        "report.js ran to the end: {body_tag}"
    );
    assert!(
        !body_tag.contains("data-errors"),
        "no script errors: {body_tag}"
    );
    assert!(
        !body_tag.contains("data-csp-violations"),
        "no blocked script or request: {body_tag}"
    );
    assert!(
        !body_tag.contains("data-pwned"),
        "a payload executed: {body_tag}"
    );
    assert!(dom.matches("<canvas").count() >= 2, "charts drawn");
    assert!(dom.contains("class=\"finding\""), "findings table rendered");
    assert!(
        dom.contains("class=\"detail\""),
        "the linked finding opened"
    );
    // The payloads are shown as text: escaped in the DOM, never elements.
    assert!(!dom.contains("<img src=\"x\""), "no img element from data");
    assert!(
        dom.contains("&lt;img src=x onerror="),
        "the img payload is visible as text"
    );
    assert!(
        dom.contains("&lt;/script&gt;&lt;script&gt;document.body"),
        "the script payload is visible as text"
    );
    // Exactly the page's own three script elements.
    assert_eq!(dom.matches("<script").count(), 3);
}
