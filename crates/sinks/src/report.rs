//! The HTML report: one self-contained file an analyst opens in a browser, offline.
//!
//! Contents: the run summary (inputs, time range, events by kind, skipped records and why, the
//! models and their training summaries, each threshold and how it was derived), then per
//! detector its score distribution with the threshold marked, its plots (a session timeline on
//! a log axis, a feature-space scatter coloured by cluster, a process-count heat map, whichever
//! the detector's data supports), and a sortable, filterable, paged findings table whose rows
//! open the explanation, the context and the raw records.
//!
//! Charts: Apache ECharts 6.1 (Apache-2.0, vendored as `assets/echarts.min.js`, 1.1 MB), chosen
//! over plotly.js (4.6 MB per page, plus the `plotly` crate's build cost) and Vega-Lite (three
//! libraries, no heat map and log-axis timeline in one) for size and for a tooltip mode that
//! draws text on the canvas instead of parsing HTML. Tables are plain DOM, paged, so 10,000
//! findings stay responsive.
//!
//! Safety: data goes into the page once, as JSON in a `<script type="application/json">`
//! element with `<`, `>` and `&` escaped, and the page's script renders it with `textContent`
//! only. A Content-Security-Policy allows exactly the two embedded scripts (by SHA-256) and no
//! network, so even an injected `<script>` could neither run nor call home.

use crate::run::RunRecord;
use base64::Engine;
use oddhunt_core::sanitize::{html, json_for_script};
use oddhunt_core::Finding;
use serde::Serialize;
use sha2::{Digest, Sha256};

const ECHARTS: &str = include_str!("../assets/echarts.min.js");
const REPORT_JS: &str = include_str!("../assets/report.js");
const REPORT_CSS: &str = include_str!("../assets/report.css");

/// What the report shows.
pub struct ReportInput<'a> {
    /// Page title.
    pub title: &'a str,
    /// When it was generated (RFC 3339).
    pub generated: String,
    /// Findings, any order.
    pub findings: &'a [Finding],
    /// Run records, one per detector run.
    pub runs: &'a [RunRecord],
}

#[derive(Serialize)]
struct PageData<'a> {
    title: &'a str,
    generated: &'a str,
    version: &'static str,
    runs: &'a [RunRecord],
    findings: Vec<serde_json::Map<String, serde_json::Value>>,
}

fn csp_hash(script: &str) -> String {
    let digest = Sha256::digest(script.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Renders the report as one HTML document.
pub fn render(input: &ReportInput<'_>) -> String {
    let data = PageData {
        title: input.title,
        generated: &input.generated,
        version: env!("CARGO_PKG_VERSION"),
        runs: input.runs,
        findings: input.findings.iter().map(Finding::to_json).collect(),
    };
    let json = serde_json::to_string(&data).unwrap_or_else(|_| "{}".into());
    let csp = format!(
        "default-src 'none'; script-src {} {}; style-src 'unsafe-inline'; img-src data:; \
         base-uri 'none'; form-action 'none'",
        csp_hash(ECHARTS),
        csp_hash(REPORT_JS)
    );
    let mut page = String::with_capacity(ECHARTS.len() + REPORT_JS.len() + json.len() + 4096);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n"
    ));
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str(&format!("<title>{}</title>\n", html(input.title)));
    page.push_str("<style>\n");
    page.push_str(REPORT_CSS);
    page.push_str("</style>\n</head>\n<body>\n<header><h1 id=\"title\"></h1><div class=\"meta\" id=\"meta\"></div></header>\n");
    page.push_str("<main id=\"app\"><noscript>This report needs JavaScript to draw its tables and charts; the findings are also in the JSON lines file it was made from.</noscript></main>\n");
    page.push_str("<script type=\"application/json\" id=\"oddhunt-data\">");
    page.push_str(&json_for_script(&json));
    page.push_str("</script>\n<script>");
    page.push_str(ECHARTS);
    page.push_str("</script>\n<script>");
    page.push_str(REPORT_JS);
    page.push_str("</script>\n</body>\n</html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use oddhunt_core::{Measure, Scored, Severity};

    fn evil_finding() -> Finding {
        let payload =
            "</script><script>alert(1)</script>\"onerror=alert(2) <img src=x onerror=alert(3)>";
        let mut s = Scored::new(payload, 1.0, Measure::new("m", 1.0));
        s.summary = payload.into();
        s.context
            .insert("process.command_line".into(), payload.into());
        s.context.insert("user.name".into(), payload.into());
        s.explanation =
            serde_json::json!({"highlight": {"text": payload, "spans": [[0, 9]]}, "note": payload});
        Finding::new("cmdline", s, 0.5, true, Severity::High)
    }

    #[test]
    fn payloads_stay_data() {
        let findings = [evil_finding()];
        let page = render(&ReportInput {
            title: "<script>alert('title')</script>",
            generated: "2024-01-01T00:00:00Z".into(),
            findings: &findings,
            runs: &[],
        });
        // Exactly the three script elements of the template: data, library, report.
        assert_eq!(
            page.matches("<script").count(),
            3,
            "no injected script element"
        );
        assert!(
            !page.contains("<img src=x"),
            "markup from data never appears raw"
        );
        assert!(page.contains("&lt;script&gt;alert(&#39;title&#39;)"));
        // The embedded JSON still carries the payload exactly.
        let start = page.find("id=\"oddhunt-data\">").unwrap() + "id=\"oddhunt-data\">".len();
        let end = start + page[start..].find("</script>").unwrap();
        let data: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
        assert_eq!(
            data["findings"][0]["oddhunt.subject"],
            "</script><script>alert(1)</script>\"onerror=alert(2) <img src=x onerror=alert(3)>"
        );
    }

    #[test]
    fn csp_pins_the_embedded_scripts_and_forbids_the_network() {
        let page = render(&ReportInput {
            title: "t",
            generated: String::new(),
            findings: &[],
            runs: &[],
        });
        assert!(page.contains(&csp_hash(REPORT_JS)));
        assert!(page.contains(&csp_hash(ECHARTS)));
        assert!(page.contains("default-src 'none'"));
        assert!(
            !page.contains("src=\"http"),
            "nothing loaded from the network"
        );
        assert!(!page.contains("'unsafe-eval'"));
    }
}
