//go:build race

package rsstest

// raceScale multiplies bounds under the race detector, whose shadow memory
// roughly triples a Go program's resident set.
const raceScale = 4
