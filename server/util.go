package server

import "strconv"

// quote bounds a user-supplied name before echoing it in a message.
func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return strconv.Quote(s)
}
