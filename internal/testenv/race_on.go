//go:build race

package testenv

// RaceEnabled says the binary runs under the race detector, which makes CPU-bound work (bcrypt,
// TLS, compression) several times slower: long loops shorten themselves with it.
const RaceEnabled = true
