package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osprey-kafka/osprey/broker/kraft/bootstrap"
	"github.com/osprey-kafka/osprey/broker/kraft/metadata"
	"github.com/osprey-kafka/osprey/broker/sasl"
)

// osprey storage format --add-scram, as kafka-storage.sh format --add-scram
// (KIP-900): the users land in bootstrap.checkpoint; a bad argument formats
// nothing and does not repeat the password.
func TestStorageFormatAddScram(t *testing.T) {
	dir := t.TempDir()
	cfg := writeServerProperties(t, dir, `process.roles=broker,controller
node.id=1
controller.listener.names=CONTROLLER
controller.quorum.voters=1@localhost:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
log.dirs=`+filepath.Join(dir, "data")+`
`)
	const id = "T3NwcmV5U2NyYW1UZXN0MQ"
	out, err := run(t, "storage", "format", "-t", id, "-c", cfg, "--add-scram", "SCRAM-SHA-256=[name=admin,password=hunter2-secret,iterations=4096]")
	if err != nil {
		t.Fatalf("format: %v\n%s", err, out)
	}
	md, err := bootstrap.ReadFile(filepath.Join(dir, "data", bootstrap.FileName))
	if err != nil {
		t.Fatal(err)
	}
	u, ok := md.Records[len(md.Records)-1].(*metadata.UserScramCredentialRecord)
	if !ok || u.Name != "admin" || u.Mechanism != 1 || u.Iterations != 4096 {
		t.Fatalf("bootstrap records %+v", md.Records)
	}
	want, _ := sasl.NewCredential(sasl.ScramSHA256, "hunter2-secret", u.Salt, 4096)
	if !bytes.Equal(u.StoredKey, want.StoredKey) {
		t.Fatal("the stored key is not the password's")
	}

	dir2 := t.TempDir()
	cfg2 := writeServerProperties(t, dir2, `process.roles=broker,controller
node.id=1
controller.listener.names=CONTROLLER
controller.quorum.voters=1@localhost:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
log.dirs=`+filepath.Join(dir2, "data")+`
`)
	_, err = run(t, "storage", "format", "-t", id, "-c", cfg2, "-S", "SCRAM-SHA-256=[name=admin,password=hunter2-secret,iterations=100]")
	if err == nil || !strings.Contains(err.Error(), "iterations must be from 4096 to 16384") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("iterations=100: %v", err)
	}
	if _, err := bootstrap.ReadFile(filepath.Join(dir2, "data", bootstrap.FileName)); err == nil {
		t.Fatal("a refused --add-scram still formatted the directory")
	}
}
