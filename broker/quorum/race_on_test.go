//go:build race

package quorum

// raceEnabled: the node has no goroutines, so the race detector adds nothing to the simulation
// but time; under it the fixed seeds run shorter schedules.
const raceEnabled = true
