package acl

import (
	"encoding/json"
	"testing"
)

func TestZKEntriesFormat(t *testing.T) {
	es := []Entry{{"User:alice", "*", OpRead, PermissionAllow}, {"User:bob", "10.0.0.1", OpDescribeConfigs, PermissionDeny}}
	got := string(EncodeZKEntries(es))
	want := `{"version":1,"acls":[{"principal":"User:alice","permissionType":"Allow","operation":"Read","host":"*"},` +
		`{"principal":"User:bob","permissionType":"Deny","operation":"DescribeConfigs","host":"10.0.0.1"}]}`
	if got != want {
		t.Fatalf("encoded\n%s\nwant\n%s", got, want)
	}
	// Field by field, as a reader that does not care about key order sees it.
	var doc struct {
		Version int                 `json:"version"`
		ACLs    []map[string]string `json:"acls"`
	}
	if err := json.Unmarshal([]byte(got), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != 1 || len(doc.ACLs) != 2 || doc.ACLs[1]["principal"] != "User:bob" || doc.ACLs[1]["permissionType"] != "Deny" ||
		doc.ACLs[1]["operation"] != "DescribeConfigs" || doc.ACLs[1]["host"] != "10.0.0.1" || len(doc.ACLs[0]) != 4 {
		t.Fatalf("fields: %+v", doc)
	}
	back, err := DecodeZKEntries([]byte(got))
	if err != nil || len(back) != 2 || back[0] != es[0] || back[1] != es[1] {
		t.Fatalf("decoded %v, %v", back, err)
	}
	// Kafka 3.7+ writes the keys in hash order; readers accept any order.
	other := `{"acls":[{"principal":"User:a","permissionType":"Allow","host":"*","operation":"All"}],"version":1}`
	if back, err := DecodeZKEntries([]byte(other)); err != nil || back[0].Operation != OpAll {
		t.Fatalf("hash-ordered node: %v, %v", back, err)
	}
}

func TestZKPathsAndChanges(t *testing.T) {
	tests := []struct {
		r          Resource
		path, data string
	}{
		{Resource{ResourceTopic, "orders", PatternLiteral}, "/kafka-acl/Topic/orders", "TOPIC:orders"},
		{Resource{ResourceTransactionalID, "tx:1", PatternLiteral}, "/kafka-acl/TransactionalId/tx:1", "TRANSACTIONAL_ID:tx:1"},
		{Resource{ResourceCluster, ClusterName, PatternLiteral}, "/kafka-acl/Cluster/kafka-cluster", "CLUSTER:kafka-cluster"},
		{Resource{ResourceGroup, "app-", PatternPrefixed}, "/kafka-acl-extended/prefixed/Group/app-",
			`{"version":1,"resourceType":"GROUP","name":"app-","patternType":"PREFIXED"}`},
		{Resource{ResourceDelegationToken, "t", PatternPrefixed}, "/kafka-acl-extended/prefixed/DelegationToken/t",
			`{"version":1,"resourceType":"DELEGATION_TOKEN","name":"t","patternType":"PREFIXED"}`},
	}
	for _, tc := range tests {
		if got := ZKPath(tc.r); got != tc.path {
			t.Errorf("ZKPath(%v) = %s, want %s", tc.r, got, tc.path)
		}
		data := EncodeZKChange(tc.r)
		if string(data) != tc.data {
			t.Errorf("change for %v = %s, want %s", tc.r, data, tc.data)
		}
		back, err := DecodeZKChange(data, tc.r.Pattern == PatternLiteral)
		if err != nil || back != tc.r {
			t.Errorf("DecodeZKChange(%s) = %v, %v", data, back, err)
		}
	}
	if r, err := DecodeZKChange([]byte("Topic:old-style"), true); err != nil || r.Type != ResourceTopic {
		t.Fatalf("Kafka 1.x literal change: %v %v", r, err)
	}
	if ZKChangesPath(PatternLiteral) != "/kafka-acl-changes" || ZKChangesPath(PatternPrefixed) != "/kafka-acl-extended-changes" {
		t.Fatal("change paths")
	}
}
