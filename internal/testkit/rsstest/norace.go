//go:build !race

package rsstest

// raceScale multiplies bounds under the race detector (1 without it).
const raceScale = 1
