//go:build race

package rsstest

// raceFactor scales bounds under the race detector, whose shadow memory
// multiplies a program's memory "by 5-10x" (Go's race detector manual):
// the unscaled bound would fail every victim, and a scaled one still
// catches the gigabyte-sized blowups these tests exist for.
const raceFactor = 4
