package giteatest

import "syscall"

// sysProcAttr puts each gitea command in its own process group (Close kills
// the group) and kills it when the test process dies without Close (a
// panic, a -timeout), so no server outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
