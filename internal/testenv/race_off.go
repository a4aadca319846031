//go:build !race

package testenv

// RaceEnabled says the binary runs under the race detector; see race_on.go.
const RaceEnabled = false
