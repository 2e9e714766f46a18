//! Windows process creations in the shape of Microsoft Sentinel's `SecurityEvent` table
//! (event 4688, as exported by Log Analytics: one JSON object per line).
//!
//! The catalog below is what a Windows fleet runs: service hosts and brokers around the clock,
//! Office, browsers and chat during working hours, updaters and installers with versioned names
//! now and then, admins' tools on servers. Weights give the skewed name frequencies of real
//! endpoints (a few names make most of the volume, a long tail runs once or twice).

use crate::environment::{Environment, Host, HostRole};
use crate::Label;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::io::Write;

/// Who runs a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Actor {
    /// `SYSTEM` (or another service account).
    System,
    /// The host's primary user (servers: an admin).
    User,
    /// An administrator.
    Admin,
}

/// Where a process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Where {
    Everywhere,
    Workstations,
    Servers,
    DomainControllers,
}

struct Proc {
    path: &'static str,
    parent: &'static str,
    commands: &'static [&'static str],
    weight: f64,
    actor: Actor,
    hosts: Where,
}

const SYS32: &str = r"C:\Windows\System32\";

macro_rules! p {
    ($path:expr, $parent:expr, [$($cmd:expr),+ $(,)?], $w:expr, $actor:ident, $where:ident) => {
        Proc { path: $path, parent: $parent, commands: &[$($cmd),+], weight: $w, actor: Actor::$actor, hosts: Where::$where }
    };
}

const SERVICES: &str = r"C:\Windows\System32\services.exe";
const SVCHOST: &str = r"C:\Windows\System32\svchost.exe";
const EXPLORER: &str = r"C:\Windows\explorer.exe";
const CMD: &str = r"C:\Windows\System32\cmd.exe";
const OUTLOOK: &str = r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE";
const USERINIT: &str = r"C:\Windows\System32\userinit.exe";

/// The catalog. `{..}` placeholders are filled per event (see [`render`]).
const CATALOG: &[Proc] = &[
    // Around the clock, as SYSTEM.
    p!(
        r"C:\Windows\System32\svchost.exe",
        SERVICES,
        [
            r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
            r"C:\Windows\system32\svchost.exe -k LocalServiceNetworkRestricted -p -s lmhosts",
            r"C:\Windows\System32\svchost.exe -k wsappx -p -s ClipSVC",
            r"C:\Windows\system32\svchost.exe -k UnistackSvcGroup -s CDPUserSvc_{hex5}",
            r"C:\Windows\system32\svchost.exe -k netsvcs -p -s BITS",
            r"C:\Windows\System32\svchost.exe -k LocalSystemNetworkRestricted -p -s SysMain",
            r"C:\Windows\system32\svchost.exe -k DcomLaunch -p",
        ],
        120.0,
        System,
        Everywhere
    ),
    p!(
        r"C:\Windows\System32\conhost.exe",
        CMD,
        [r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1"],
        60.0,
        System,
        Everywhere
    ),
    p!(
        r"C:\Windows\System32\backgroundTaskHost.exe",
        SVCHOST,
        [
            r#""C:\Windows\system32\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider"#,
            r#""C:\Windows\system32\backgroundTaskHost.exe" -ServerName:App.AppXmtcan0h2tfbfy7k9kn8hbxb6dmzz1zh0.mca"#
        ],
        35.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\RuntimeBroker.exe",
        SVCHOST,
        [r"C:\Windows\System32\RuntimeBroker.exe -Embedding"],
        30.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\dllhost.exe",
        SVCHOST,
        [r"C:\Windows\system32\DllHost.exe /Processid:{bguid}"],
        28.0,
        User,
        Everywhere
    ),
    p!(
        r"C:\Windows\System32\wbem\WmiPrvSE.exe",
        SVCHOST,
        [
            r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding",
            r"C:\Windows\system32\wbem\wmiprvse.exe -Embedding"
        ],
        25.0,
        System,
        Everywhere
    ),
    p!(
        r"C:\Windows\System32\SearchProtocolHost.exe",
        r"C:\Windows\System32\SearchIndexer.exe",
        [
            r#""C:\Windows\system32\SearchProtocolHost.exe" Global\UsGthrFltPipeMssGthrPipe{n} Global\UsGthrCtrlFltPipeMssGthrPipe{n} 1 -2147483646 "Software\Microsoft\Windows Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" "C:\ProgramData\Microsoft\Search\Data\Temp\usgthrsvc" "DownLevelDaemon""#
        ],
        22.0,
        System,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\SearchFilterHost.exe",
        r"C:\Windows\System32\SearchIndexer.exe",
        [r#""C:\Windows\system32\SearchFilterHost.exe" 0 {n} {n} {n} 8192 {n} "#],
        18.0,
        System,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\taskhostw.exe",
        SVCHOST,
        [
            r"taskhostw.exe {bguid}",
            r"taskhostw.exe SYSTEM",
            r"taskhostw.exe Install $(Arg0)"
        ],
        16.0,
        User,
        Everywhere
    ),
    p!(
        r"C:\Windows\System32\sppsvc.exe",
        SERVICES,
        [r"C:\Windows\system32\sppsvc.exe"],
        6.0,
        System,
        Everywhere
    ),
    p!(
        r"C:\Windows\System32\MoUsoCoreWorker.exe",
        SVCHOST,
        [r"C:\Windows\System32\mousocoreworker.exe -Embedding"],
        5.0,
        System,
        Everywhere
    ),
    p!(
        r"C:\Windows\System32\CompatTelRunner.exe",
        SVCHOST,
        [
            r"C:\Windows\system32\compattelrunner.exe -m:appraiser.dll -f:DoScheduledTelemetryRun",
            r"C:\Windows\system32\compattelrunner.exe -maintenance"
        ],
        3.0,
        System,
        Everywhere
    ),
    p!(
        r"C:\Windows\System32\wermgr.exe",
        SVCHOST,
        [
            r"C:\Windows\system32\wermgr.exe -upload",
            r"C:\Windows\system32\wermgr.exe -outofqueue"
        ],
        2.0,
        System,
        Everywhere
    ),
    p!(
        r"C:\Windows\System32\WerFault.exe",
        SVCHOST,
        [r"C:\Windows\system32\WerFault.exe -u -p {pid} -s {n}"],
        2.0,
        User,
        Everywhere
    ),
    p!(
        r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.23110.3-0\MpCmdRun.exe",
        r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.23110.3-0\MsMpEng.exe",
        [
            r#""C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.23110.3-0\MpCmdRun.exe" SignatureUpdate -ScheduleJob -RestrictPrivileges"#,
            r#""C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.23110.3-0\MpCmdRun.exe" -wdenable"#
        ],
        4.0,
        System,
        Everywhere
    ),
    p!(
        r"C:\Windows\System32\gpupdate.exe",
        SVCHOST,
        [
            r"gpupdate.exe /target:computer",
            r"gpupdate.exe /target:user /force"
        ],
        1.5,
        System,
        Everywhere
    ),
    p!(
        r"C:\Windows\System32\TiWorker.exe",
        SVCHOST,
        [
            r"C:\Windows\winsxs\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.3205_none_7e0f2b2d4e0d05b9\TiWorker.exe -Embedding"
        ],
        1.0,
        System,
        Everywhere
    ),
    p!(
        r"C:\Windows\servicing\TrustedInstaller.exe",
        SERVICES,
        [r"C:\Windows\servicing\TrustedInstaller.exe"],
        1.0,
        System,
        Everywhere
    ),
    p!(
        r"C:\Program Files (x86)\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe",
        SVCHOST,
        [
            r#""C:\Program Files (x86)\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe" /ua /installsource scheduler"#,
            r#""C:\Program Files (x86)\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe" /c"#
        ],
        4.0,
        System,
        Workstations
    ),
    p!(
        r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe",
        SVCHOST,
        [r#""C:\Program Files (x86)\Google\Update\GoogleUpdate.exe" /ua /installsource scheduler"#],
        2.0,
        System,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\sc.exe",
        CMD,
        [r"sc.exe query state= all", r"sc  start wuauserv"],
        0.6,
        System,
        Servers
    ),
    // Logon and shell.
    p!(
        r"C:\Windows\System32\userinit.exe",
        r"C:\Windows\System32\winlogon.exe",
        [r"C:\Windows\system32\userinit.exe"],
        1.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Windows\explorer.exe",
        USERINIT,
        [r"C:\Windows\Explorer.EXE"],
        1.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\sihost.exe",
        SVCHOST,
        [r"sihost.exe"],
        1.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\ctfmon.exe",
        SVCHOST,
        [r#""ctfmon.exe""#],
        1.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\smartscreen.exe",
        SVCHOST,
        [r"C:\Windows\System32\smartscreen.exe -Embedding"],
        3.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Windows\ImmersiveControlPanel\SystemSettings.exe",
        SVCHOST,
        [
            r#""C:\Windows\ImmersiveControlPanel\SystemSettings.exe" -ServerName:microsoft.windows.immersivecontrolpanel"#
        ],
        0.8,
        User,
        Workstations
    ),
    // Working hours: browsers, Office, chat.
    p!(
        r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
        EXPLORER,
        [
            r#""C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --type=renderer --instant-process --lang=en-US --device-scale-factor=1 --num-raster-threads=4 --renderer-client-id={n} --mojo-platform-channel-handle={n} /prefetch:1"#,
            r#""C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none --mojo-platform-channel-handle={n} /prefetch:3"#,
            r#""C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --profile-directory=Default"#,
        ],
        45.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Program Files\Google\Chrome\Application\chrome.exe",
        EXPLORER,
        [
            r#""C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer --display-capture-permissions-policy-allowed --lang=en-US --js-flags=--ms-user-locale= --device-scale-factor=1 --num-raster-threads=4 --renderer-client-id={n} /prefetch:1"#,
            r#""C:\Program Files\Google\Chrome\Application\chrome.exe" --type=gpu-process --gpu-preferences=UAAAAAAAAADgAAAYAAAAAAAAAAAAAAAAAABgAAAAAAA4AAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAEAAAAAAAAAAIAAAAAAAAAAgAAAAAAAAA --mojo-platform-channel-handle={n} /prefetch:2"#,
        ],
        30.0,
        User,
        Workstations
    ),
    p!(
        OUTLOOK,
        EXPLORER,
        [
            r#""C:\Program Files\Microsoft Office\Root\Office16\OUTLOOK.EXE" "#,
            r#""C:\Program Files\Microsoft Office\Root\Office16\OUTLOOK.EXE" /recycle"#
        ],
        4.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
        EXPLORER,
        [
            r#""C:\Program Files\Microsoft Office\Root\Office16\WINWORD.EXE" /n "C:\Users\{user}\Documents\{doc}.docx" /o """#,
            r#""C:\Program Files\Microsoft Office\Root\Office16\WINWORD.EXE" /n "C:\Users\{user}\Downloads\{doc}.docx""#
        ],
        5.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE",
        EXPLORER,
        [
            r#""C:\Program Files\Microsoft Office\Root\Office16\EXCEL.EXE" "C:\Users\{user}\Documents\{doc}.xlsx""#
        ],
        4.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Program Files\Microsoft Office\root\Office16\POWERPNT.EXE",
        EXPLORER,
        [
            r#""C:\Program Files\Microsoft Office\Root\Office16\POWERPNT.EXE" "C:\Users\{user}\Documents\{doc}.pptx""#
        ],
        1.5,
        User,
        Workstations
    ),
    p!(
        r"C:\Users\{user}\AppData\Local\Microsoft\Teams\current\Teams.exe",
        EXPLORER,
        [
            r#""C:\Users\{user}\AppData\Local\Microsoft\Teams\current\Teams.exe" --type=renderer --autoplay-policy=no-user-gesture-required --enable-blink-features=SharedArrayBuffer --renderer-client-id={n} /prefetch:1"#
        ],
        18.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Program Files\Microsoft OneDrive\OneDrive.exe",
        EXPLORER,
        [
            r#""C:\Program Files\Microsoft OneDrive\OneDrive.exe" /background"#,
            r#""C:\Program Files\Microsoft OneDrive\OneDrive.exe" /updateInstalled /background"#
        ],
        3.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\notepad.exe",
        EXPLORER,
        [
            r#""C:\Windows\system32\NOTEPAD.EXE" C:\Users\{user}\Desktop\{doc}.txt"#,
            r"C:\Windows\system32\notepad.exe"
        ],
        2.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\mstsc.exe",
        EXPLORER,
        [r#""C:\Windows\system32\mstsc.exe" /v:srv-app{n2}"#],
        0.8,
        Admin,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\rundll32.exe",
        EXPLORER,
        [
            r"C:\Windows\system32\rundll32.exe shell32.dll,Control_RunDLL",
            r#""C:\Windows\system32\rundll32.exe" C:\Windows\system32\PcaSvc.dll,PcaPatchSdbTask"#,
            r"rundll32.exe C:\Windows\System32\shimgvw.dll,ImageView_Fullscreen C:\Users\{user}\Pictures\{doc}.png"
        ],
        3.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\cmd.exe",
        EXPLORER,
        [
            r#""C:\Windows\system32\cmd.exe" "#,
            r#"C:\Windows\system32\cmd.exe /c ""C:\Program Files\Dell\CommandUpdate\dcu-cli.exe" /scan""#,
            r#"C:\Windows\system32\cmd.exe /d /s /c "git rev-parse --show-toplevel""#
        ],
        5.0,
        User,
        Everywhere
    ),
    p!(
        r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
        SVCHOST,
        [
            r#""C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -ExecutionPolicy Bypass -File "C:\ProgramData\Corp\Scripts\inventory.ps1""#,
            r#"powershell.exe -ExecutionPolicy Restricted -Command Write-Host 'Final result: 1';"#
        ],
        3.0,
        System,
        Everywhere
    ),
    p!(
        r"C:\Users\{user}\AppData\Local\Programs\Microsoft VS Code\Code.exe",
        EXPLORER,
        [
            r#""C:\Users\{user}\AppData\Local\Programs\Microsoft VS Code\Code.exe" --type=renderer --enable-crash-reporter=ab2c14e8-0d1f-4b5a-9c1e-2b3d4f5a6b7c,no_channel --user-data-dir="C:\Users\{user}\AppData\Roaming\Code" /prefetch:1"#
        ],
        3.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Program Files\Git\cmd\git.exe",
        CMD,
        [
            r"git  status --porcelain",
            r"git  fetch --prune origin",
            r"git  log -n 20 --oneline"
        ],
        2.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Program Files\Zoom\bin\Zoom.exe",
        EXPLORER,
        [r#""C:\Program Files\Zoom\bin\Zoom.exe" "--url=zoommtg://zoom.us/join?confno={n}""#],
        1.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe",
        EXPLORER,
        [
            r#""C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe" "C:\Users\{user}\Downloads\{doc}.pdf""#
        ],
        2.0,
        User,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\taskmgr.exe",
        EXPLORER,
        [r#""C:\Windows\system32\taskmgr.exe" /4"#],
        0.4,
        User,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\SnippingTool.exe",
        EXPLORER,
        [r#""C:\Windows\system32\SnippingTool.exe""#],
        0.5,
        User,
        Workstations
    ),
    p!(
        r"C:\Windows\System32\msiexec.exe",
        SERVICES,
        [
            r"C:\Windows\system32\msiexec.exe /V",
            r"C:\Windows\System32\MsiExec.exe -Embedding {hex32} C"
        ],
        1.0,
        System,
        Everywhere
    ),
    // Administrators on servers.
    p!(
        r"C:\Windows\System32\ipconfig.exe",
        CMD,
        [r"ipconfig  /all", r"ipconfig /flushdns"],
        0.6,
        Admin,
        Servers
    ),
    p!(
        r"C:\Windows\System32\PING.EXE",
        CMD,
        [r"ping  srv-file02", r"ping -n 4 10.10.0.{n2}"],
        0.6,
        Admin,
        Servers
    ),
    p!(
        r"C:\Windows\System32\net.exe",
        CMD,
        [
            r"net  use Z: \\srv-file02\share",
            r"net  stop spooler",
            r"net  start spooler"
        ],
        0.5,
        Admin,
        Servers
    ),
    p!(
        r"C:\Windows\System32\net1.exe",
        r"C:\Windows\System32\net.exe",
        [
            r"C:\Windows\system32\net1  stop spooler",
            r"C:\Windows\system32\net1  start spooler"
        ],
        0.3,
        Admin,
        Servers
    ),
    p!(
        r"C:\Windows\System32\tasklist.exe",
        CMD,
        [r"tasklist  /svc"],
        0.3,
        Admin,
        Servers
    ),
    p!(
        r"C:\Windows\System32\dsac.exe",
        EXPLORER,
        [r#""C:\Windows\system32\dsac.exe""#],
        0.3,
        Admin,
        DomainControllers
    ),
    p!(
        r"C:\Windows\System32\repadmin.exe",
        CMD,
        [r"repadmin  /replsummary"],
        0.3,
        Admin,
        DomainControllers
    ),
    p!(
        r"C:\Program Files\Microsoft SQL Server\MSSQL15.MSSQLSERVER\MSSQL\Binn\sqlservr.exe",
        SERVICES,
        [
            r#""C:\Program Files\Microsoft SQL Server\MSSQL15.MSSQLSERVER\MSSQL\Binn\sqlservr.exe" -sMSSQLSERVER"#
        ],
        0.2,
        System,
        Servers
    ),
    p!(
        r"C:\Windows\System32\inetsrv\w3wp.exe",
        SVCHOST,
        [
            r#"c:\windows\system32\inetsrv\w3wp.exe -ap "DefaultAppPool" -v "v4.0" -l "webengine4.dll" -a \\.\pipe\iisipm{guid} -h "C:\inetpub\temp\apppools\DefaultAppPool\DefaultAppPool.config" -w "" -m 0"#
        ],
        1.0,
        System,
        Servers
    ),
];

/// Rare, versioned installers and one-off tools: the natural long tail of names.
const INSTALLERS: &[&str] = &[
    "ChromeSetup.exe",
    "ZoomInstallerFull.exe",
    "npp.8.6.2.Installer.x64.exe",
    "vlc-3.0.20-win64.exe",
    "7z2301-x64.exe",
    "Git-2.43.0-64-bit.exe",
    "python-3.12.1-amd64.exe",
    "Firefox Setup 121.0.exe",
    "AcroRdrDCx642300820470_en_US.exe",
    "SlackSetup.exe",
    "TeamViewer_Setup_x64.exe",
    "WinSCP-6.1.2-Setup.exe",
    "putty-64bit-0.80-installer.exe",
    "VSCodeUserSetup-x64-1.85.1.exe",
    "node-v20.10.0-x64.msi",
    "Docker Desktop Installer.exe",
    "OneDriveSetup.exe",
    "Teams_windows_x64.exe",
    "dotnet-sdk-8.0.100-win-x64.exe",
    "jre-8u391-windows-x64.exe",
    "wireshark-4.2.0-x64.exe",
    "KeePass-2.55-Setup.exe",
    "Postman-win64-Setup.exe",
    "DellCommandUpdateApp_Setup.exe",
    "HPSupportAssistant.exe",
    "LogiOptionsPlus_Installer.exe",
    "GoToMeeting Setup.exe",
    "ReaderUpdate.exe",
    "MicrosoftEdgeSetup.exe",
    "vc_redist.x64.exe",
    "vc_redist.x86.exe",
    "rufus-4.3.exe",
    "Spotify.exe",
    "WhatsAppSetup.exe",
    "DropboxInstaller.exe",
    "audacity-win-3.4.2-64bit.exe",
];

const DOCS: &[&str] = &[
    "Q3 budget",
    "minutes",
    "proposal_v2",
    "contract draft",
    "invoice_4711",
    "roadmap",
    "onboarding",
    "report",
    "travel expenses",
    "sales forecast",
    "notes",
    "policy review",
];

/// Fills the `{key}` placeholders of a path or command line (`{bguid}` is a GUID in braces).
fn render(template: &str, rng: &mut ChaCha8Rng, user: &str) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        match &after[..close] {
            "user" => out.push_str(user),
            "guid" => out.push_str(&guid(rng)),
            "bguid" => out.push_str(&format!("{{{}}}", guid(rng))),
            "hex5" => out.push_str(&format!("{:05x}", rng.random_range(0..0xfffff))),
            "hex32" => out.push_str(&format!("{:032X}", rng.random::<u128>())),
            "n" => out.push_str(&rng.random_range(100..99_999).to_string()),
            "n2" => out.push_str(&rng.random_range(1..40).to_string()),
            "pid" => out.push_str(&rng.random_range(400..30_000).to_string()),
            "doc" => out.push_str(DOCS[rng.random_range(0..DOCS.len())]),
            other => {
                out.push('{');
                out.push_str(other);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// A random GUID in Windows' upper-case form.
pub fn guid(rng: &mut ChaCha8Rng) -> String {
    let v: u128 = rng.random();
    let h = format!("{v:032X}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// One process creation, before rendering to JSON.
#[derive(Clone, Debug)]
pub struct ProcessRecord {
    /// Nanoseconds since the epoch.
    pub time_ns: i64,
    /// Host.
    pub host: usize,
    /// Account name.
    pub user: String,
    /// Account domain.
    pub domain: String,
    /// Full path.
    pub path: String,
    /// Command line.
    pub command_line: String,
    /// Parent full path.
    pub parent: String,
}

impl ProcessRecord {
    /// The `SecurityEvent` row as one JSON line.
    pub fn to_json(&self, env: &Environment, rng: &mut ChaCha8Rng) -> String {
        let host = &env.hosts[self.host];
        let system = self.user == "SYSTEM" || self.user.ends_with('$');
        // Sentinel's TimeGenerated has millisecond precision.
        let time = oddhunt_core::Timestamp::from_unix_nanos(
            self.time_ns - self.time_ns.rem_euclid(1_000_000),
        );
        let row = json!({
            "TimeGenerated": time.to_string(),
            "Type": "SecurityEvent",
            "EventSourceName": "Microsoft-Windows-Security-Auditing",
            "Channel": "Security",
            "EventID": 4688,
            "Activity": "4688 - A new process has been created.",
            "Computer": host.fqdn,
            "Account": format!("{}\\{}", self.domain, self.user),
            "AccountType": if system { "Machine" } else { "User" },
            "SubjectUserName": self.user,
            "SubjectDomainName": self.domain,
            "SubjectUserSid": if system { "S-1-5-18".to_string() } else { format!("S-1-5-21-3623811015-3361044348-30300820-{}", 1100 + self.user.len() * 7) },
            "SubjectLogonId": if system { "0x3e7".to_string() } else { format!("0x{:x}", rng.random_range(0x10000..0xffffff)) },
            "NewProcessId": format!("0x{:x}", rng.random_range(0x100..0x7fff) * 4),
            "NewProcessName": self.path,
            "TokenElevationType": "%%1936",
            "ProcessId": format!("0x{:x}", rng.random_range(0x100..0x7fff) * 4),
            "CommandLine": self.command_line,
            "ParentProcessName": self.parent,
            "MandatoryLabel": if system { "S-1-16-16384" } else { "S-1-16-8192" },
        });
        row.to_string()
    }
}

/// Options for [`generate`].
#[derive(Clone, Debug)]
pub struct ProcessOptions {
    /// Mean process creations per host per weekday.
    pub events_per_host_day: f64,
    /// Inject the Sentinel notebook's masquerade validation set on this day (0-based), if any.
    pub masquerade_day: Option<u32>,
}

impl Default for ProcessOptions {
    fn default() -> Self {
        ProcessOptions {
            events_per_host_day: 150.0,
            masquerade_day: None,
        }
    }
}

fn host_matches(host: &Host, hosts: Where) -> bool {
    match hosts {
        Where::Everywhere => true,
        Where::Workstations => host.role == HostRole::Workstation,
        Where::Servers => host.role != HostRole::Workstation,
        Where::DomainControllers => host.role == HostRole::DomainController,
    }
}

/// Generates the process creations of one day (unsorted).
pub fn day_records(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    day: u32,
    options: &ProcessOptions,
) -> Vec<ProcessRecord> {
    let weekend = env.is_weekend(day);
    let day_start = env.day_start(day).unix_nanos();
    let admins: Vec<usize> = (0..env.users.len())
        .filter(|&u| env.users[u].admin)
        .collect();
    let mut out = Vec::new();
    for (h, host) in env.hosts.iter().enumerate() {
        let candidates: Vec<&Proc> = CATALOG
            .iter()
            .filter(|p| host_matches(host, p.hosts))
            .collect();
        let total_weight: f64 = candidates.iter().map(|p| p.weight).sum();
        let scale = match (host.role, weekend) {
            (HostRole::Workstation, true) => 0.25,
            (HostRole::Workstation, false) => 1.0,
            (_, true) => 0.5,
            (_, false) => 0.7,
        };
        // Poisson-like spread around the mean: a host's day varies by ±30 %.
        let mean = options.events_per_host_day * scale;
        let n = (mean * (0.7 + 0.6 * rng.random::<f64>())).round() as usize;
        for _ in 0..n {
            let mut pick = rng.random::<f64>() * total_weight;
            let mut chosen = candidates[0];
            for p in &candidates {
                if pick < p.weight {
                    chosen = p;
                    break;
                }
                pick -= p.weight;
            }
            let (user, domain, human) = match chosen.actor {
                Actor::System => {
                    if rng.random_bool(0.85) {
                        ("SYSTEM".to_string(), "NT AUTHORITY".to_string(), false)
                    } else {
                        (format!("{}$", host.name), env.domain.to_string(), false)
                    }
                }
                Actor::User => match host.primary_user {
                    Some(u) => (env.users[u].name.clone(), env.domain.to_string(), true),
                    None => {
                        let a = admins
                            .get(rng.random_range(0..admins.len().max(1)))
                            .copied()
                            .unwrap_or(0);
                        (env.users[a].name.clone(), env.domain.to_string(), true)
                    }
                },
                Actor::Admin => {
                    let a = admins
                        .get(rng.random_range(0..admins.len().max(1)))
                        .copied()
                        .unwrap_or(0);
                    (env.users[a].name.clone(), env.domain.to_string(), true)
                }
            };
            let offset = if human {
                env.working_time(rng)
            } else {
                env.machine_time(rng)
            };
            let command = chosen.commands[rng.random_range(0..chosen.commands.len())];
            out.push(ProcessRecord {
                time_ns: day_start + offset,
                host: h,
                path: render(chosen.path, rng, &user),
                command_line: render(command, rng, &user),
                parent: render(chosen.parent, rng, &user),
                user,
                domain,
            });
        }
        // The long tail: now and then a user downloads and runs an installer.
        if host.role == HostRole::Workstation && !weekend && rng.random_bool(0.08) {
            if let Some(u) = host.primary_user {
                let user = env.users[u].name.clone();
                let name = INSTALLERS[rng.random_range(0..INSTALLERS.len())];
                let path = format!(r"C:\Users\{user}\Downloads\{name}");
                out.push(ProcessRecord {
                    time_ns: day_start + env.working_time(rng),
                    host: h,
                    command_line: format!(r#""{path}" "#),
                    path,
                    parent: EXPLORER.to_string(),
                    user,
                    domain: env.domain.to_string(),
                });
            }
        }
    }
    out
}

/// System32 binaries the notebook's validation set imitates (40 names).
pub const MASQUERADE_TARGETS: &[&str] = &[
    "svchost.exe",
    "lsass.exe",
    "services.exe",
    "winlogon.exe",
    "csrss.exe",
    "smss.exe",
    "wininit.exe",
    "explorer.exe",
    "taskhostw.exe",
    "dllhost.exe",
    "conhost.exe",
    "rundll32.exe",
    "regsvr32.exe",
    "cmd.exe",
    "spoolsv.exe",
    "wmiprvse.exe",
    "searchindexer.exe",
    "runtimebroker.exe",
    "sihost.exe",
    "ctfmon.exe",
    "dwm.exe",
    "audiodg.exe",
    "werfault.exe",
    "msiexec.exe",
    "notepad.exe",
    "calc.exe",
    "mmc.exe",
    "taskmgr.exe",
    "regedit.exe",
    "certutil.exe",
    "bitsadmin.exe",
    "schtasks.exe",
    "wscript.exe",
    "cscript.exe",
    "mshta.exe",
    "netsh.exe",
    "whoami.exe",
    "ipconfig.exe",
    "tasklist.exe",
    "sppsvc.exe",
];

/// The notebook's validation set: each target 20 times from System32, plus one copy with one
/// letter changed (never the first or last of the stem) in `C:\Windows\Temp\`, plus
/// `scvhost.exe` and `svch0st.exe`.
pub fn masquerade_injection(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    day: u32,
    labels: &mut Vec<Label>,
) -> Vec<ProcessRecord> {
    let day_start = env.day_start(day).unix_nanos();
    let mut out = Vec::new();
    let mut look_alikes: Vec<String> = Vec::new();
    for target in MASQUERADE_TARGETS {
        for _ in 0..20 {
            let host = rng.random_range(0..env.hosts.len());
            out.push(ProcessRecord {
                time_ns: day_start + env.machine_time(rng),
                host,
                user: "SYSTEM".into(),
                domain: "NT AUTHORITY".into(),
                path: format!("{SYS32}{target}"),
                command_line: format!("{SYS32}{target}"),
                parent: SERVICES.into(),
            });
        }
        let (stem, ext) = target.rsplit_once('.').unwrap_or((target, "exe"));
        let chars: Vec<char> = stem.chars().collect();
        if chars.len() < 3 {
            continue;
        }
        let at = rng.random_range(1..chars.len() - 1);
        let mut changed = chars.clone();
        loop {
            let c = (b'a' + rng.random_range(0..26u8)) as char;
            if c != chars[at] {
                changed[at] = c;
                break;
            }
        }
        look_alikes.push(format!("{}.{ext}", changed.iter().collect::<String>()));
    }
    look_alikes.push("scvhost.exe".into());
    look_alikes.push("svch0st.exe".into());
    for name in look_alikes {
        let host = rng.random_range(0..env.hosts.len());
        let path = format!(r"C:\Windows\Temp\{name}");
        labels.push(Label {
            detector: "masquerade".into(),
            subject: name.to_lowercase(),
            technique: "T1036.005".into(),
            description: format!("look-alike {name} injected on {}", env.hosts[host].name),
        });
        out.push(ProcessRecord {
            time_ns: day_start + env.machine_time(rng),
            host,
            user: "SYSTEM".into(),
            domain: "NT AUTHORITY".into(),
            command_line: path.clone(),
            path,
            parent: CMD.into(),
        });
    }
    out
}

/// Writes `days` days of process creations as `SecurityEvent` JSON lines, in time order, and
/// returns how many were written.
pub fn generate(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    options: &ProcessOptions,
    out: &mut dyn Write,
    labels: &mut Vec<Label>,
) -> std::io::Result<u64> {
    let mut written = 0;
    for day in 0..env.days {
        let mut records = day_records(env, rng, day, options);
        if options.masquerade_day == Some(day) {
            records.extend(masquerade_injection(env, rng, day, labels));
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

    #[test]
    fn renders_placeholders() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let s = render(r"C:\Users\{user}\x {doc}.docx", &mut rng, "bob");
        assert!(s.starts_with(r"C:\Users\bob\x "));
        let g = render(r"DllHost.exe /Processid:{bguid}", &mut rng, "bob");
        assert!(g.starts_with("DllHost.exe /Processid:{"), "{g}");
        assert!(g.ends_with('}'), "{g}");
        assert_eq!(g.len(), "DllHost.exe /Processid:{}".len() + 36, "{g}");
        assert_eq!(render("no placeholders", &mut rng, "x"), "no placeholders");
    }
}
