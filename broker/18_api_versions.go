package broker

import "github.com/twmb/franz-go/pkg/kmsg"

// ApiVersions: v0-4
//
// Behavior:
// * Lists every registered API key with its version range (the registry is
//   the single source of truth).
// * The response header is always v0, even for flexible request versions.
// * A version above 4 gets a v0 response with UNSUPPORTED_VERSION and the
//   list, so the client can retry with a version we know (KIP-511).
//
// Version notes:
// * v3: flexible, client software name/version (logged at debug level);
//   in KRaft mode supported features and the finalized ones (metadata.version
//   and the others the metadata log finalized) with their epoch;
//   transaction.version is capped at 1, the level the broker serves.
// * v4: no field changes (Kafka 3.7+ clients send it).

func init() { regKey(18, 0, 4, handleApiVersions) }

func handleApiVersions(b *Broker, r *request) (kmsg.Response, error) {
	req := r.kreq.(*kmsg.ApiVersionsRequest)
	if req.Version >= 3 {
		r.c.log.Debug("client software", "name", req.ClientSoftwareName, "version", req.ClientSoftwareVersion)
	}
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	resp.ApiKeys = supportedAPIs(b.cfg.KRaft())
	if fr, ok := b.cluster.(featureReporter); ok && req.Version >= 3 {
		fr.fillFeatures(resp)
		capTxnVersion(resp)
	}
	return resp, nil
}

// maxTxnVersion is the highest transaction.version the broker serves:
// version 1: clients add partitions with AddPartitionsToTxn; level 2
// (EndTxn v5, produce adding partitions implicitly) is not served.
const maxTxnVersion = 1

// capTxnVersion lowers transaction.version in the answer to what the
// broker serves. A cluster formatted at 4.0-IV2 finalizes level 2 in its
// metadata log; clients seeing it finalized would produce without
// AddPartitionsToTxn, which this broker does not accept, so it reports
// level 1 until it implements level 2.
func capTxnVersion(resp *kmsg.ApiVersionsResponse) {
	for i := range resp.SupportedFeatures {
		if f := &resp.SupportedFeatures[i]; f.Name == "transaction.version" {
			f.MaxVersion = min(f.MaxVersion, maxTxnVersion)
		}
	}
	for i := range resp.FinalizedFeatures {
		if f := &resp.FinalizedFeatures[i]; f.Name == "transaction.version" {
			f.MaxVersionLevel = min(f.MaxVersionLevel, maxTxnVersion)
			f.MinVersionLevel = min(f.MinVersionLevel, f.MaxVersionLevel)
		}
	}
}

// featureReporter is a cluster with feature flags (KRaft mode): ApiVersions
// v3+ lists the supported and finalized features (KIP-584).
type featureReporter interface {
	fillFeatures(resp *kmsg.ApiVersionsResponse)
}

// apiVersionsUnsupported answers a too-new (or undecodable) ApiVersions
// request with a v0 response carrying UNSUPPORTED_VERSION and our ranges.
func apiVersionsUnsupported(r *request) kmsg.Response {
	r.hdr.Version = 0
	r.hdr.Flexible = false
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.ErrorCode = errUnsupportedVersion
	resp.ApiKeys = supportedAPIs(r.c.b.cfg.KRaft())
	return resp
}
