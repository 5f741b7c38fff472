//go:build !race

package rsstest

// raceFactor scales bounds under the race detector; without it, 1.
const raceFactor = 1
