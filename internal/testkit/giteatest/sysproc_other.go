//go:build unix && !linux

package giteatest

import "syscall"

// sysProcAttr puts each gitea command in its own process group (Close kills
// the group).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
