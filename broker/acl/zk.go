package acl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Where and how Kafka's ZooKeeper-mode authorizer keeps ACLs: one znode
// per resource pattern holding its entries as JSON, LITERAL patterns under
// /kafka-acl/<ResourceType>/<name> and PREFIXED ones under
// /kafka-acl-extended/prefixed/<ResourceType>/<name>; every change also
// creates a sequential notification node naming the changed pattern, under
// /kafka-acl-changes (text "<TYPE>:<name>") for LITERAL patterns and
// /kafka-acl-extended-changes (JSON) for the others. Brokers watch the
// notification nodes and re-read the patterns they name.
const (
	ZKLiteralPath         = "/kafka-acl"
	ZKExtendedPath        = "/kafka-acl-extended"
	ZKPrefixedPath        = ZKExtendedPath + "/prefixed"
	ZKLiteralChangesPath  = "/kafka-acl-changes"
	ZKExtendedChangesPath = "/kafka-acl-extended-changes"
	// ZKChangePrefix is the name of notification nodes before their
	// ten-digit sequence number.
	ZKChangePrefix = "acl_changes_"
)

// ZKResourceTypes are the resource types that have a node under each ACL
// root.
var ZKResourceTypes = []ResourceType{ResourceTopic, ResourceGroup, ResourceCluster, ResourceTransactionalID, ResourceDelegationToken}

// ZKRoot is the node under which the ACLs of a pattern type live.
func ZKRoot(p PatternType) string {
	if p == PatternPrefixed {
		return ZKPrefixedPath
	}
	return ZKLiteralPath
}

// ZKTypePath is the parent of the resource nodes of one type.
func ZKTypePath(p PatternType, rt ResourceType) string { return ZKRoot(p) + "/" + rt.String() }

// ZKPath is the node holding the entries of r.
func ZKPath(r Resource) string { return ZKTypePath(r.Pattern, r.Type) + "/" + r.Name }

// ZKChangesPath is the notification parent for a pattern type.
func ZKChangesPath(p PatternType) string {
	if p == PatternLiteral {
		return ZKLiteralChangesPath
	}
	return ZKExtendedChangesPath
}

// javaEnumName is a resource type as Java's ResourceType enum names it
// (TOPIC, TRANSACTIONAL_ID), the spelling change notifications use.
func javaEnumName(rt ResourceType) string {
	var b strings.Builder
	for i, c := range rt.String() {
		if i > 0 && c >= 'A' && c <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(c)
	}
	return strings.ToUpper(b.String())
}

// EncodeZKChange is the data of the notification node for a change of r.
func EncodeZKChange(r Resource) []byte {
	if r.Pattern == PatternLiteral {
		return []byte(javaEnumName(r.Type) + ":" + r.Name)
	}
	var buf bytes.Buffer
	buf.WriteString(`{"version":1,"resourceType":`)
	writeJSONString(&buf, javaEnumName(r.Type))
	buf.WriteString(`,"name":`)
	writeJSONString(&buf, r.Name)
	buf.WriteString(`,"patternType":`)
	writeJSONString(&buf, r.Pattern.String())
	buf.WriteByte('}')
	return buf.Bytes()
}

// DecodeZKChange parses a notification node's data; literal says which
// notification parent it came from.
func DecodeZKChange(data []byte, literal bool) (Resource, error) {
	if literal {
		typ, name, ok := strings.Cut(string(data), ":")
		rt, known := ParseResourceType(typ)
		if !ok || !known {
			return Resource{}, fmt.Errorf("ACL change %q: want ResourceType:name", data)
		}
		return Resource{rt, name, PatternLiteral}, nil
	}
	var ev struct {
		Version      int    `json:"version"`
		ResourceType string `json:"resourceType"`
		Name         string `json:"name"`
		PatternType  string `json:"patternType"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return Resource{}, fmt.Errorf("ACL change event: %w", err)
	}
	rt, ok1 := ParseResourceType(ev.ResourceType)
	pt, ok2 := ParsePatternType(ev.PatternType)
	if ev.Version != 1 || !ok1 || !ok2 || (pt != PatternLiteral && pt != PatternPrefixed) {
		return Resource{}, fmt.Errorf("ACL change event %s: unsupported version, resource or pattern type", data)
	}
	return Resource{rt, ev.Name, pt}, nil
}

// EncodeZKEntries is the data of a resource node: Kafka's
// {"version":1,"acls":[{"principal":…,"permissionType":…,"operation":…,"host":…}]}
// with the key order Kafka 3's authorizer writes.
func EncodeZKEntries(es []Entry) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"version":1,"acls":[`)
	for i, e := range es {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"principal":`)
		writeJSONString(&buf, e.Principal)
		buf.WriteString(`,"permissionType":`)
		writeJSONString(&buf, e.Permission.String())
		buf.WriteString(`,"operation":`)
		writeJSONString(&buf, e.Operation.String())
		buf.WriteString(`,"host":`)
		writeJSONString(&buf, e.Host)
		buf.WriteByte('}')
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

// DecodeZKEntries parses a resource node's data (empty data: no entries).
func DecodeZKEntries(data []byte) ([]Entry, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var doc struct {
		Version int `json:"version"`
		ACLs    []struct {
			Principal      string `json:"principal"`
			PermissionType string `json:"permissionType"`
			Operation      string `json:"operation"`
			Host           string `json:"host"`
		} `json:"acls"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("ACL node: %w", err)
	}
	if doc.Version != 1 {
		return nil, fmt.Errorf("ACL node version %d, want 1", doc.Version)
	}
	es := make([]Entry, 0, len(doc.ACLs))
	for _, a := range doc.ACLs {
		op, ok1 := ParseOperation(a.Operation)
		perm, ok2 := ParsePermission(a.PermissionType)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("ACL node: unknown operation %q or permission %q", a.Operation, a.PermissionType)
		}
		es = append(es, Entry{Principal: a.Principal, Host: a.Host, Operation: op, Permission: perm})
	}
	return es, nil
}

// writeJSONString writes s quoted as Jackson does (no HTML escaping).
func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)               //nolint:errcheck // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode's newline
}
