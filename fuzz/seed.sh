#!/usr/bin/env bash
# Builds seed corpora for the fuzz targets from the shared sample data (never committed:
# corpus/ is ignored). Small excerpts keep libFuzzer fast.
set -eu  # no pipefail: `zcat | head` ends zcat early on purpose
cd "$(dirname "$0")"
DATA=../../shared/data
mk() { mkdir -p "corpus/$1"; }
for t in evtx json csv zeek access w3c detect; do mk "$t"; done
cp "$DATA/evtx_parser_samples/new-user-security.evtx" corpus/evtx/
cp "$DATA/evtx_parser_samples/Security_short_selected.evtx" corpus/evtx/
zcat "$DATA/evtx_attack_samples/evtx/UACME_59_Sysmon.evtx.gz" > corpus/evtx/uacme59.evtx
zcat "$DATA/otrf_security_datasets/process_creation.jsonl.gz" | head -3 > corpus/json/otrf.jsonl
zcat "$DATA/cloudtrail_office/otrf_aws_ec2_proxy_s3_exfiltration/"*.gz | head -2 > corpus/json/cloudtrail.jsonl
head -3 "$DATA/zeek_dns/otrf_apt29/day1_NASHUA_dns.log" > corpus/json/zeek.json
cp "$DATA/cloudtrail_office/otrf_goldensaml_adfs_mail_access/OfficeActivityEvents.json" corpus/json/office.json
zcat "$DATA/msticpy_demo_data/demo_exchange_data.csv.gz" | head -60 > corpus/csv/exchange.csv
zcat "$DATA/msticpy_demo_data/processes_on_host.csv.gz" | head -5 > corpus/csv/4688.csv
head -14 "$DATA/zeek_dns/zat/dns.log" > corpus/zeek/dns.log
head -12 "$DATA/zeek_dns/zat/http.log" > corpus/zeek/http.log
head -10 "$DATA/zeek_dns/stratosphere/010-mixed/dns.log.labeled" > corpus/zeek/labeled.log
{ printf '%s\n' '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"'; zcat "$DATA/web_access_logs/elastic_apache_logs/"*.gz | head -5; } > corpus/access/combined
{ printf '%s\n' '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent'; zcat "$DATA/web_access_logs/evtx_attack_samples_webshell/web_attack"*.gz | head -5; } > corpus/access/nginx
zcat "$DATA/web_access_logs/evtx_attack_samples_webshell/Tunna_rdp_tunnel_IIS.log.gz" | head -12 > corpus/w3c/iis.log
cp corpus/json/* corpus/csv/* corpus/zeek/* corpus/w3c/* corpus/detect/
cp corpus/evtx/new-user-security.evtx corpus/detect/
gzip -c corpus/zeek/dns.log > corpus/detect/dns.log.gz
echo "seeded: $(ls corpus/*/* | wc -l) files"
