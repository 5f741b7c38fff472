// Package pathcheck is railyard's one validator for paths and tree entry
// names, shared by sparse (entries it reads from a server) and gitops
// (entries it writes and reads): what git's verify_path refuses with
// core.protectNTFS and core.protectHFS on, and what railyard refuses on top.
package pathcheck

import "strings"

// Limits railyard puts on any repository path, in bytes and components.
const (
	MaxPathLen  = 4096 // the longest path, as Linux's PATH_MAX
	MaxNameLen  = 255  // the longest entry name, as most file systems
	MaxDepth    = 64   // the most components in a path
	maxEntryLen = MaxNameLen
)

// EntryProblem returns why a tree entry name is unsafe to write or check
// out, or "" when it is acceptable: empty, "." or "..", containing '/', '\\'
// or NUL, longer than [MaxNameLen], holding control characters or invalid
// UTF-8, or a name git takes for .git on some file system (see [IsDotGit]).
func EntryProblem(name string) string {
	switch {
	case name == "":
		return "empty name"
	case name == "." || name == "..":
		return "reserved name"
	case len(name) > maxEntryLen:
		return "name longer than 255 bytes"
	case strings.ContainsAny(name, "/\\\x00"):
		return "name contains a separator or NUL"
	}
	for _, r := range name {
		if r < ' ' || r == 0x7f || r == '\uFFFD' {
			return "name contains a control character or invalid UTF-8"
		}
	}
	if IsDotGit(name) {
		return "name git takes for .git"
	}
	return ""
}

// PathProblem returns why p is not a clean, relative, slash-separated path
// of acceptable entries, or "" when it is: no empty, "." or ".." component,
// at most [MaxPathLen] bytes and [MaxDepth] components, and every component
// acceptable to [EntryProblem].
func PathProblem(p string) string {
	switch {
	case p == "":
		return "empty"
	case len(p) > MaxPathLen:
		return "longer than 4096 bytes"
	case strings.Count(p, "/") >= MaxDepth:
		return "deeper than 64 components"
	}
	for _, part := range strings.Split(p, "/") {
		switch {
		case part == "":
			return "absolute, or has an empty component"
		case part == "." || part == "..":
			return "has a '.' or '..' component"
		}
		if why := EntryProblem(part); why != "" {
			return why
		}
	}
	return ""
}

// IsDotGit reports whether git takes a path component for .git on some
// file system (git fsck's hasDotgit, verify_dotfile with protectNTFS and
// protectHFS): ".git" or its NTFS short name "git~1", in any case, followed
// only by dots and spaces or by an NTFS stream suffix (":..."), once the
// code points HFS+ ignores are dropped.
func IsDotGit(part string) bool {
	part = strings.Map(func(r rune) rune {
		if hfsIgnorable(r) {
			return -1
		}
		return r
	}, part)
	var rest string
	switch {
	case len(part) >= 4 && strings.EqualFold(part[:4], ".git"):
		rest = part[4:]
	case len(part) >= 5 && strings.EqualFold(part[:5], "git~1"):
		rest = part[5:]
	default:
		return false
	}
	rest = strings.TrimLeft(rest, ". ")
	return rest == "" || rest[0] == ':'
}

// hfsIgnorable reports the code points HFS+ drops when comparing names
// (git's utf8.c is_hfs_dotgit).
func hfsIgnorable(r rune) bool {
	return (r >= 0x200c && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x206a && r <= 0x206f) || r == 0xfeff
}
