// Package grafana holds the Grafana dashboards shipped in deploy/grafana (osprey.json on Osprey's own
// osprey_* metrics, kafka-exporter.json on kafka_exporter's metric names) and the test that checks them
// against Grafana's dashboard JSON schema and parses every PromQL expression. It has no code.
package grafana
