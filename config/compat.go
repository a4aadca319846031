package config

import "strings"

// checkCompat checks the kafka_exporter and Burrow stand-ins.
func (c *Config) checkCompat(ps *problems) {
	kx := c.Compat.KafkaExporter
	if kx.Enabled {
		if !strings.HasPrefix(kx.Path, "/") || strings.ContainsAny(kx.Path, ":*?#") {
			ps.add("compat.kafkaExporter.path", "%q is not a URL path: use one such as /metrics/kafka-exporter, or /metrics to merge into the console's metrics", kx.Path)
		} else if strings.HasPrefix(kx.Path, "/api/") || strings.HasPrefix(kx.Path, "/v3/") || kx.Path == "/healthz" || kx.Path == "/readyz" {
			ps.add("compat.kafkaExporter.path", "%q is taken by the console's own endpoints: use /metrics/kafka-exporter or /metrics", kx.Path)
		}
		if !validLabelName(kx.ClusterLabel) {
			ps.add("compat.kafkaExporter.clusterLabel", "%q is not a Prometheus label name: use letters, digits and _ (example: cluster)", kx.ClusterLabel)
		}
		if kx.MaxSeries < 1 {
			ps.add("compat.kafkaExporter.maxSeries", "must be at least 1 (default 200000)")
		}
	}
	b := c.Compat.Burrow
	if b.Enabled {
		switch b.Role {
		case "", "viewer", "operator", "admin":
		default:
			ps.add("compat.burrow.role", "%q is not a role: leave it empty (open, like the other reads) or use viewer, operator or admin", b.Role)
		}
		// The alert evaluator keeps 10 samples per partition unless a rule asks for more.
		if b.Intervals < 2 || b.Intervals > 10 {
			ps.add("compat.burrow.intervals", "%d is out of range: use 2 to 10 (default 10, as Burrow's)", b.Intervals)
		}
	}
}

// validLabelName is Prometheus' label name syntax, leaving out the reserved __ prefix.
func validLabelName(s string) bool {
	if s == "" || strings.HasPrefix(s, "__") {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
