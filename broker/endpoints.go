package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/osprey-kafka/osprey/broker/kraft/image"
	"github.com/osprey-kafka/osprey/broker/zkdata"
)

// How a broker's advertised listeners travel in each metadata mode: all of
// them are registered (the /brokers/ids znode, the KRaft broker
// registration, UpdateMetadata), and every reader takes the inter-broker
// listener's endpoint as the broker's Host and Port.

var protocolNames = map[int16]string{0: protoPlaintext, 1: protoSSL, 2: protoSASLPlaintext, 3: protoSASLSSL}

// zkEndpoints are the endpoints a broker registers in ZooKeeper.
func zkEndpoints(self BrokerInfo) []zkdata.Endpoint {
	if len(self.Endpoints) == 0 {
		return []zkdata.Endpoint{{Listener: "PLAINTEXT", SecurityProtocol: protoPlaintext, Host: self.Host, Port: self.Port}}
	}
	out := make([]zkdata.Endpoint, len(self.Endpoints))
	for i, e := range self.Endpoints {
		out[i] = zkdata.Endpoint{Listener: e.Listener, SecurityProtocol: protocolNames[e.Protocol], Host: e.Host, Port: e.Port}
	}
	return out
}

// brokerFromZK reads a broker registration, with the endpoint of listener
// (the inter-broker listener) as Host and Port when it has one.
func brokerFromZK(id int32, reg zkdata.BrokerRegistration, listener string) BrokerInfo {
	bi := BrokerInfo{ID: id, Host: reg.Host, Port: reg.Port, Rack: reg.Rack}
	for _, e := range reg.Endpoints {
		bi.Endpoints = append(bi.Endpoints, Endpoint{Listener: e.Listener, Host: e.Host, Port: e.Port, Protocol: protocolIDs[e.SecurityProtocol]})
		if e.Listener == listener {
			bi.Host, bi.Port = e.Host, e.Port
		}
	}
	return bi
}

// interBrokerListenerOf is the inter-broker listener name of b's
// configuration; PLAINTEXT when there is no broker (tests of the cluster
// code alone).
func interBrokerListenerOf(b *Broker) string {
	if b == nil {
		return "PLAINTEXT"
	}
	return b.cfg.interBrokerListener()
}

// updateMetadataEndpoints lists a broker's endpoints for UpdateMetadata.
func updateMetadataEndpoints(bi BrokerInfo) []kmsg.UpdateMetadataRequestLiveBrokerEndpoint {
	eps := bi.Endpoints
	if len(eps) == 0 {
		eps = []Endpoint{{Listener: "PLAINTEXT", Host: bi.Host, Port: bi.Port}}
	}
	out := make([]kmsg.UpdateMetadataRequestLiveBrokerEndpoint, len(eps))
	for i, e := range eps {
		ep := kmsg.NewUpdateMetadataRequestLiveBrokerEndpoint()
		ep.Host, ep.Port, ep.ListenerName, ep.SecurityProtocol = e.Host, e.Port, e.Listener, e.Protocol
		out[i] = ep
	}
	return out
}

// brokerFromUpdateMetadata reads one live broker of an UpdateMetadata
// request, taking listener's endpoint (the inter-broker one) as Host and
// Port; before v3 endpoints carry no listener name and the PLAINTEXT
// protocol's endpoint stands for it.
func brokerFromUpdateMetadata(lb kmsg.UpdateMetadataRequestLiveBroker, version int16, listener string) BrokerInfo {
	bi := BrokerInfo{ID: lb.ID, Host: lb.Host, Port: lb.Port}
	if version < 1 || len(lb.Endpoints) == 0 {
		return bi
	}
	chosen := false
	for _, e := range lb.Endpoints {
		name := e.ListenerName
		if version < 3 {
			name = protocolNames[e.SecurityProtocol]
		}
		bi.Endpoints = append(bi.Endpoints, Endpoint{Listener: name, Host: e.Host, Port: e.Port, Protocol: e.SecurityProtocol})
		if name == listener && !chosen {
			bi.Host, bi.Port, chosen = e.Host, e.Port, true
		}
	}
	if !chosen {
		bi.Host, bi.Port = lb.Endpoints[0].Host, lb.Endpoints[0].Port
	}
	return bi
}

// kraftListeners are the listeners a KRaft broker registers.
func kraftListeners(self BrokerInfo, fallbackName string) []image.Listener {
	if len(self.Endpoints) == 0 {
		return []image.Listener{{Name: fallbackName, Host: self.Host, Port: uint16(self.Port)}}
	}
	out := make([]image.Listener, len(self.Endpoints))
	for i, e := range self.Endpoints {
		out[i] = image.Listener{Name: e.Listener, Host: e.Host, Port: uint16(e.Port), SecurityProtocol: e.Protocol}
	}
	return out
}

// kraftEndpoints are a registered KRaft broker's endpoints.
func kraftEndpoints(ls []image.Listener) []Endpoint {
	out := make([]Endpoint, len(ls))
	for i, l := range ls {
		out[i] = Endpoint{Listener: l.Name, Host: l.Host, Port: int32(l.Port), Protocol: l.SecurityProtocol}
	}
	return out
}
