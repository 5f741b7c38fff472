// Package freight discovers promotion candidates ("Freight") by pairing the
// images of a registry with the commits of a watched branch on the exact
// identity git-<full-commit-sha>.
package freight
