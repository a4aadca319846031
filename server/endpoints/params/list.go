package params

import "github.com/osprey-kafka/osprey/server/service"

// Listing is ?search=&sort=&order= with paging, for the lists a page shows as a sortable table.
type Listing struct {
	Search string `query:"search" json:"-" description:"Keep rows whose name contains this (case-insensitive)"`
	// Sort is not an enum: each list has its own columns, and an unknown one is refused by the
	// service with the bad_sort code naming the columns it can sort by.
	Sort  string `query:"sort" json:"-" description:"Column to sort by, a field name of the row (default name)"`
	Order string `query:"order" json:"-" enum:"asc,desc" description:"Sort order (default asc)"`
	Page
}

// Query is the service's list query for these parameters.
func (l Listing) Query() (service.ListQuery, error) {
	limit, offset, err := l.Resolve()
	if err != nil {
		return service.ListQuery{}, err
	}
	return service.ListQuery{Search: l.Search, Sort: l.Sort, Desc: l.Order == "desc", Limit: limit, Offset: offset}, nil
}
