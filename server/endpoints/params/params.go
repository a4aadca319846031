// Package params holds the URL parameters several areas share, as input structs to embed.
package params

import (
	"fmt"

	"github.com/osprey-kafka/osprey/server/api"
)

// ClusterPath is the {cluster} path parameter.
type ClusterPath struct {
	Cluster string `path:"cluster" json:"-" description:"Cluster name as configured"`
}

// InternalQuery is ?internal=: whether topic figures include internal topics (false when absent).
type InternalQuery struct {
	Internal bool `query:"internal" json:"-" description:"Include internal topics (__consumer_offsets, __transaction_state) in the topic figures"`
}

// Page is ?limit=&offset= (or ?page=&pageSize=) for lists served a page at a time; Resolve checks
// the bounds and turns it into a limit and an offset.
type Page struct {
	Limit    *int `query:"limit" json:"-" minimum:"1" maximum:"1000" description:"Items per answer (default 50)"`
	Offset   *int `query:"offset" json:"-" minimum:"0" maximum:"1073741824" description:"Items to skip"`
	Page     *int `query:"page" json:"-" minimum:"1" maximum:"1048576" description:"1-based page number; overrides offset"`
	PageSize *int `query:"pageSize" json:"-" minimum:"1" maximum:"1000" description:"Items per page; overrides limit"`
}

// Resolve gives the limit (default 50) and offset, or a 400 error naming the parameter out of bounds.
func (p Page) Resolve() (limit, offset int, err error) {
	limit = 50
	for _, b := range []struct {
		name     string
		v        *int
		min, max int
		dst      *int
	}{
		{"limit", p.Limit, 1, 1000, &limit},
		{"offset", p.Offset, 0, 1 << 30, &offset},
		{"page", p.Page, 1, 1 << 20, nil},
		{"pageSize", p.PageSize, 1, 1000, nil},
	} {
		if b.v == nil {
			continue
		}
		if *b.v < b.min || *b.v > b.max {
			return 0, 0, api.BadRequest(fmt.Sprintf("%s must be a whole number from %d to %d", b.name, b.min, b.max), "param", b.name)
		}
		if b.dst != nil {
			*b.dst = *b.v
		}
	}
	if p.PageSize != nil {
		limit = *p.PageSize
	}
	if p.Page != nil {
		offset = (*p.Page - 1) * limit
	}
	return limit, offset, nil
}
