//! A synthetic organisation: hosts, users, who works where, and when things happen.

use oddhunt_core::Timestamp;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// What a host is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostRole {
    /// A user's desktop or laptop.
    Workstation,
    /// A domain controller.
    DomainController,
    /// A file, SQL or application server.
    Server,
}

/// A host.
#[derive(Clone, Debug)]
pub struct Host {
    /// NetBIOS-style name, e.g. `WKS-FIN-014`.
    pub name: String,
    /// Fully qualified name.
    pub fqdn: String,
    /// Its role.
    pub role: HostRole,
    /// Index of its primary user (workstations).
    pub primary_user: Option<usize>,
    /// Its IPv4 address.
    pub ip: String,
}

/// A user.
#[derive(Clone, Debug)]
pub struct User {
    /// Account name, e.g. `jsmith`.
    pub name: String,
    /// Department, used in host names.
    pub department: &'static str,
    /// Whether the user administers systems.
    pub admin: bool,
    /// Source IP the user usually connects from (admin sessions).
    pub office_ip: String,
}

/// The organisation.
#[derive(Clone, Debug)]
pub struct Environment {
    /// NetBIOS domain, e.g. `CORP`.
    pub domain: &'static str,
    /// DNS domain, e.g. `corp.example.com`.
    pub dns_domain: &'static str,
    /// Hosts.
    pub hosts: Vec<Host>,
    /// Users.
    pub users: Vec<User>,
    /// Midnight UTC of the first day.
    pub start: Timestamp,
    /// Number of days.
    pub days: u32,
}

const FIRST: &[&str] = &[
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "william",
    "elizabeth",
    "david",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "christopher",
    "nancy",
    "daniel",
    "lisa",
    "matthew",
    "betty",
    "anthony",
    "margaret",
    "mark",
    "sandra",
    "donald",
    "ashley",
    "steven",
    "kimberly",
    "paul",
    "emily",
    "andrew",
    "donna",
    "joshua",
    "michelle",
    "kenneth",
    "dorothy",
    "kevin",
    "carol",
    "brian",
    "amanda",
    "george",
    "melissa",
    "timothy",
    "deborah",
    "ahmed",
    "mei",
    "olga",
    "raj",
    "ingrid",
];
const LAST: &[&str] = &[
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "kowalski",
    "novak",
    "chen",
    "patel",
];
const DEPARTMENTS: &[&str] = &["FIN", "HR", "ENG", "SAL", "MKT", "OPS", "LEG", "IT"];

impl Environment {
    /// An organisation with `hosts` hosts and `users` users over `days` days from `start`.
    pub fn new(
        rng: &mut ChaCha8Rng,
        hosts: usize,
        users: usize,
        days: u32,
        start: Timestamp,
    ) -> Environment {
        let users = users.max(1);
        let mut taken = std::collections::HashSet::new();
        let mut user_list = Vec::with_capacity(users);
        for i in 0..users {
            let first = FIRST[rng.random_range(0..FIRST.len())];
            let last = LAST[rng.random_range(0..LAST.len())];
            let mut name = format!("{}{}", &first[..1], last);
            let mut n = 2;
            while !taken.insert(name.clone()) {
                name = format!("{}{}{}", &first[..1], last, n);
                n += 1;
            }
            let department = DEPARTMENTS[rng.random_range(0..DEPARTMENTS.len())];
            user_list.push(User {
                name,
                department,
                admin: department == "IT" || i % 25 == 0,
                office_ip: format!("10.20.{}.{}", i / 200, 10 + i % 200),
            });
        }
        let hosts = hosts.max(1);
        let servers = if hosts >= 10 { (hosts / 10).max(2) } else { 0 };
        let mut host_list = Vec::with_capacity(hosts);
        let mut counters = std::collections::HashMap::new();
        for i in 0..hosts {
            let (name, role, primary_user) = if i < servers {
                if i == 0 {
                    ("SRV-DC01".to_string(), HostRole::DomainController, None)
                } else {
                    let kind = ["FILE", "SQL", "APP", "WEB", "PRT"][i % 5];
                    (format!("SRV-{kind}{:02}", i), HostRole::Server, None)
                }
            } else {
                let user = (i - servers) % users;
                let dept = user_list[user].department;
                let c = counters.entry(dept).or_insert(0);
                *c += 1;
                (
                    format!("WKS-{dept}-{:03}", *c),
                    HostRole::Workstation,
                    Some(user),
                )
            };
            host_list.push(Host {
                fqdn: format!("{}.corp.example.com", name.to_lowercase()),
                name,
                role,
                primary_user,
                ip: format!("10.10.{}.{}", i / 250, 10 + i % 250),
            });
        }
        Environment {
            domain: "CORP",
            dns_domain: "corp.example.com",
            hosts: host_list,
            users: user_list,
            start,
            days,
        }
    }

    /// Whether day `d` (0-based) is a weekend day.
    pub fn is_weekend(&self, day: u32) -> bool {
        // 1970-01-01 was a Thursday.
        let epoch_day = self.start.unix_seconds().div_euclid(86_400) + i64::from(day);
        matches!((epoch_day + 3).rem_euclid(7), 5 | 6)
    }

    /// Midnight UTC of day `d`.
    pub fn day_start(&self, day: u32) -> Timestamp {
        self.start.add_nanos(i64::from(day) * 86_400_000_000_000)
    }

    /// A time of day (ns since midnight) for human activity: working hours on weekdays, with a
    /// morning and an afternoon peak, little at night.
    pub fn working_time(&self, rng: &mut ChaCha8Rng) -> i64 {
        let hour: f64 = if rng.random_bool(0.92) {
            // Two humps: 9-12 and 13-17.
            if rng.random_bool(0.5) {
                8.5 + rng.random::<f64>() * 3.5
            } else {
                13.0 + rng.random::<f64>() * 4.5
            }
        } else {
            rng.random::<f64>() * 24.0
        };
        (hour * 3_600_000_000_000.0) as i64 + rng.random_range(0..1_000_000_000)
    }

    /// A time of day for machine activity: around the clock, slightly busier by day.
    pub fn machine_time(&self, rng: &mut ChaCha8Rng) -> i64 {
        let hour: f64 = if rng.random_bool(0.3) {
            7.0 + rng.random::<f64>() * 11.0
        } else {
            rng.random::<f64>() * 24.0
        };
        (hour * 3_600_000_000_000.0) as i64 + rng.random_range(0..1_000_000_000)
    }
}
