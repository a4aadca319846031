package efak

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/osprey-kafka/osprey/config"
)

// newFileHeader starts a configuration file the import creates.
const newFileHeader = `# Osprey configuration, created by "osprey import efak" from Kafka-Eagle's system-config.properties.
# Start the console with: osprey serve --config <this file>. Every key: config/osprey.example.yaml.
# This file can hold passwords (database, SASL): keep it readable by Osprey's user only.
`

// yamlCluster is how an imported cluster is written: only the settings it has, so the file stays short.
type yamlCluster struct {
	Name             string    `yaml:"name"`
	BootstrapServers []string  `yaml:"bootstrapServers,omitempty"`
	ZooKeeper        string    `yaml:"zookeeper,omitempty"`
	SASL             *yamlSASL `yaml:"sasl,omitempty"`
	TLS              *yamlTLS  `yaml:"tls,omitempty"`
	ZooKeeperACL     *yamlACL  `yaml:"zookeeperACL,omitempty"`
}

type yamlSASL struct {
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password,omitempty"`
}

type yamlTLS struct {
	Enabled bool `yaml:"enabled"`
}

type yamlACL struct {
	Enabled  bool   `yaml:"enabled"`
	Scheme   string `yaml:"scheme,omitempty"`
	Username string `yaml:"username,omitempty"`
	Password string `yaml:"password,omitempty"`
}

func toYAMLCluster(c config.Cluster) yamlCluster {
	y := yamlCluster{Name: c.Name, BootstrapServers: c.BootstrapServers, ZooKeeper: c.ZooKeeper}
	if c.SASL.Mechanism != "" {
		y.SASL = &yamlSASL{Mechanism: c.SASL.Mechanism, Username: c.SASL.Username, Password: c.SASL.Password}
	}
	if c.TLS.Enabled {
		y.TLS = &yamlTLS{Enabled: true}
	}
	if c.ZooKeeperACL.Enabled {
		a := c.ZooKeeperACL
		y.ZooKeeperACL = &yamlACL{Enabled: true, Scheme: a.Scheme, Username: a.Username, Password: a.Password}
	}
	return y
}

// Merge writes the result into an Osprey YAML configuration document (empty: a new file) and returns
// the new document. Keys already in the document and comments are kept; clusters are appended to
// clusters, and database, retention.metrics and adminToken are set when the result has them (Translate
// has already left out what the existing configuration sets).
func Merge(doc []byte, r *Result) ([]byte, error) {
	var root yaml.Node
	if len(bytes.TrimSpace(doc)) > 0 {
		if err := yaml.Unmarshal(doc, &root); err != nil {
			return nil, fmt.Errorf("the existing configuration is not valid YAML: %w", err)
		}
	}
	if len(root.Content) == 0 {
		root = yaml.Node{Kind: yaml.DocumentNode, HeadComment: newFileHeader,
			Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the existing configuration is not a mapping of keys")
	}
	if len(r.Clusters) > 0 {
		seq := child(top, "clusters", yaml.SequenceNode)
		for _, c := range r.Clusters {
			var n yaml.Node
			if err := n.Encode(toYAMLCluster(c)); err != nil {
				return nil, fmt.Errorf("encoding cluster %s: %w", c.Name, err)
			}
			seq.Content = append(seq.Content, &n)
		}
	}
	if r.Database != nil {
		db := child(top, "database", yaml.MappingNode)
		setScalar(db, "driver", r.Database.Driver)
		setScalar(db, "dsn", r.Database.DSN)
	}
	if r.RetentionMetrics > 0 {
		setScalar(child(top, "retention", yaml.MappingNode), "metrics", r.RetentionMetrics.String())
	}
	if r.AdminToken != "" {
		setScalar(top, "adminToken", r.AdminToken)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("writing the configuration: %w", err)
	}
	return buf.Bytes(), nil
}

// child returns the value node of key in mapping m, creating it (of the given kind) when absent or null.
func child(m *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				*v = yaml.Node{Kind: kind}
			}
			return v
		}
	}
	v := &yaml.Node{Kind: kind}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
	return v
}

func setScalar(m *yaml.Node, key, value string) {
	v := child(m, key, yaml.ScalarNode)
	*v = yaml.Node{Kind: yaml.ScalarNode, Value: value, Style: yaml.DoubleQuotedStyle}
}
