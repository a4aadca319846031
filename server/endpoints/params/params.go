// Package params holds the URL parameters several areas share, as input structs to embed.
package params

// ClusterPath is the {cluster} path parameter.
type ClusterPath struct {
	Cluster string `path:"cluster" json:"-" description:"Cluster name as configured"`
}

// InternalQuery is ?internal=: whether topic figures include internal topics (false when absent).
type InternalQuery struct {
	Internal bool `query:"internal" json:"-" description:"Include internal topics (__consumer_offsets, __transaction_state) in the topic figures"`
}
